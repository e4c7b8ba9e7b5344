"""Callback follow-up: remind the administrators of callers still waiting for a call back.

A call needs a callback while ``call_logs.requires_callback`` is set and no
``callback_completed_at`` is recorded. Every run (every 2 hours in business
hours) looks at the open callbacks; the administrators hear about a given set
of open callbacks at most once a Canberra day, and again as soon as a new
caller joins it. So a re-run adds nothing, and nobody is nagged every 2 hours.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

import uuid

from nexdrive.errors import NotFound
from nexdrive.services.core import access
from nexdrive.services.core.actors import Actor
from nexdrive.services.messaging import admin_alerts
from nexdrive.formats import BUSINESS_TZ, au_when


def open_callbacks(session: Session) -> list[dict]:
    rows = session.execute(sa.text("""
        SELECT id, caller_phone, caller_name, caller_reason, summary, started_at, callback_scheduled_at
        FROM call_logs WHERE requires_callback AND callback_completed_at IS NULL
        ORDER BY started_at, id""")).all()
    return [{"call_id": str(r.id), "caller": r.caller_name or "Unknown caller", "phone": r.caller_phone,
             "called": au_when(r.started_at), "reason": r.caller_reason or r.summary or "",
             "call_back_at": au_when(r.callback_scheduled_at) if r.callback_scheduled_at else ""} for r in rows]


def follow_up_callbacks(session: Session, now: datetime | None = None) -> dict:
    """Alert the administrators about open callbacks (once per day per set of callers)."""
    now = now or session.execute(sa.text("SELECT now()")).scalar_one()
    calls = open_callbacks(session)
    if not calls:
        return {"open": 0, "alerts_queued": 0}
    day = now.astimezone(BUSINESS_TZ).date().isoformat()
    digest = hashlib.sha256(",".join(c["call_id"] for c in calls).encode()).hexdigest()[:16]
    queued = admin_alerts.alert_admins(session, key=f"callback_followup:{day}:{digest}",
                                       notification_type="callback_followup", data={"calls": calls},
                                       template_data={"call_ids": [c["call_id"] for c in calls]})
    return {"open": len(calls), "alerts_queued": queued}


def request_callback(session: Session, *, phone: str, reason: str, name: str | None = None,
                     conversation_id=None, contact_id=None, channel: str = "sms") -> str:
    """Put a caller in the callback queue (``call_logs.requires_callback``); one open request per conversation.

    Used by the assistant when it can't answer or the person asks to be called. Returns the call log id."""
    if conversation_id is not None:
        open_id = session.execute(sa.text(
            "SELECT id FROM call_logs WHERE conversation_id = :c AND requires_callback "
            "AND callback_completed_at IS NULL"), {"c": conversation_id}).scalar()
        if open_id is not None:
            return str(open_id)
    return str(session.execute(sa.text("""
        INSERT INTO call_logs (contact_id, conversation_id, caller_phone, call_direction, started_at, outcome,
                               resolution, caller_name, caller_reason, voice_provider, requires_callback)
        VALUES (:contact, :conv, :phone, 'inbound', now(), 'answered', 'callback_scheduled', :name, :reason,
                :provider, true)
        RETURNING id"""), {"contact": contact_id, "conv": conversation_id, "phone": phone, "name": name,
                            "reason": (reason or "")[:500], "provider": None if channel != "voice" else "vapi"}
    ).scalar_one())


def complete_callback(session: Session, actor: Actor, call_id: uuid.UUID | str) -> bool:
    """The owner called this person back: the callback leaves the queue. True if it was open (a repeat: False)."""
    access.require_read_conversations(actor)
    try:
        call_id = uuid.UUID(str(call_id))
    except ValueError:
        raise NotFound("That call is not in the log.") from None
    row = session.execute(sa.text("SELECT requires_callback, callback_completed_at FROM call_logs WHERE id = :i "
                                  "FOR UPDATE"), {"i": call_id}).first()
    if row is None:
        raise NotFound("That call is not in the log.")
    if not row.requires_callback or row.callback_completed_at is not None:
        return False
    session.execute(sa.text("UPDATE call_logs SET callback_completed_at = now() "
                            "WHERE id = :i"), {"i": call_id})
    return True
