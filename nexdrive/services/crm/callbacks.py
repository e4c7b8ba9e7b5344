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
