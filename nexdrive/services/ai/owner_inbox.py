"""The owner's inbox (issue 15, item 7): every conversation with the public, the call log and the callback queue.

* :func:`list_conversations` — web chat, SMS and voice threads, the handoff queue (``handoff_requested``) first,
  then the most recent;
* :func:`get_conversation` — one thread, oldest message first, and how the person can be reached;
* :func:`reply` — the owner answers by SMS or email: the words go through the outbox (``owner_reply`` template,
  in the same transaction), are kept in the thread as a ``staff`` message, and the handoff is answered;
* :func:`close_conversation` — done with a thread;
* :func:`list_calls` — the call log with transcripts and summaries; :func:`callback_queue` and
  ``crm.callbacks.complete_callback`` ("called back" closes a callback).

Administrators only (``core.access.require_read_conversations``).
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import NotFound, ValidationFailed
from nexdrive.formats import au_when, format_au_phone
from nexdrive.models import Conversation, Message
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.crm import callbacks
from nexdrive.services.messaging import notify

CHANNEL_LABELS = {"web_chat": "Web chat", "sms": "SMS", "voice": "Phone"}
STATUS_LABELS = {"handoff_requested": "Needs a reply", "active": "Open", "closed": "Closed"}
FROM_LABELS = {"user": "Them", "ai": "Assistant", "system": "System", "staff": "You"}
MAX_REPLY = 1000
MAX_SMS_REPLY = 600
PAGE = 50
MAX_MESSAGES = 200
REPLY_CHANNELS = ("sms", "email")


def _id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("That conversation is not in the inbox.") from None


_WHO = """
    COALESCE(NULLIF(TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''),
             NULLIF(TRIM(COALESCE(ct.first_name, '') || ' ' || COALESCE(ct.last_name, '')), '')) AS name,
    COALESCE(p.phone, ct.phone, CASE WHEN c.channel = 'sms' THEN c.channel_identifier END,
             (SELECT cl.caller_phone FROM call_logs cl WHERE cl.conversation_id = c.id AND cl.caller_phone <> 'unknown'
              ORDER BY cl.started_at LIMIT 1)) AS phone,
    COALESCE(u.email, p.email, ct.email) AS email, COALESCE(p.first_name, ct.first_name) AS first_name"""
_FROM = """
    FROM conversations c
    LEFT JOIN users u ON u.id = c.user_id LEFT JOIN profiles p ON p.user_id = c.user_id
    LEFT JOIN contacts ct ON ct.id = c.contact_id"""


def _person(r) -> str:
    return r.name or (format_au_phone(r.phone) if r.phone else "") or "Web visitor"


def list_conversations(session: Session, actor: Actor, *, channel: str = "", include_closed: bool = False,
                       limit: int = PAGE, offset: int = 0) -> dict:
    """{"items", "total", "waiting"}: threads with the handoff queue first, then the latest activity first."""
    access.require_read_conversations(actor)
    limit, offset = max(1, min(int(limit), 200)), max(0, int(offset))
    where = ["true"]
    params: dict = {"limit": limit, "offset": offset}
    if channel in CHANNEL_LABELS:
        where.append("c.channel = :channel")
        params["channel"] = channel
    if not include_closed:
        where.append("c.status <> 'closed'")
    cond = " AND ".join(where)
    rows = session.execute(sa.text(f"""
        SELECT c.id, c.channel, c.status, c.handoff_reason, c.last_message_at, c.message_count, {_WHO},
               (SELECT m.content FROM messages m WHERE m.conversation_id = c.id ORDER BY m.created_at DESC, m.id
                LIMIT 1) AS last_text
        {_FROM} WHERE {cond}
        ORDER BY (c.status = 'handoff_requested') DESC, c.last_message_at DESC, c.id
        LIMIT :limit OFFSET :offset"""), params).all()
    total = session.execute(sa.text(f"SELECT count(*) FROM conversations c WHERE {cond}"), params).scalar_one()
    waiting = session.execute(sa.text("SELECT count(*) FROM conversations WHERE status = 'handoff_requested'")
                              ).scalar_one()
    items = [{"id": str(r.id), "channel": r.channel, "channel_label": CHANNEL_LABELS.get(r.channel, r.channel),
              "status": r.status, "status_label": STATUS_LABELS.get(r.status, r.status),
              "waiting": r.status == "handoff_requested", "who": _person(r),
              "reason": r.handoff_reason or "", "when": au_when(r.last_message_at),
              "messages": int(r.message_count or 0), "preview": (r.last_text or "")[:140]} for r in rows]
    return {"items": items, "total": int(total), "waiting": int(waiting)}


def get_conversation(session: Session, actor: Actor, conversation_id) -> dict:
    """One thread: who, how to reach them (SMS / email), and its messages oldest first."""
    access.require_read_conversations(actor)
    cid = _id(conversation_id)
    r = session.execute(sa.text(f"""
        SELECT c.id, c.channel, c.status, c.handoff_reason, c.started_at, c.last_message_at, {_WHO}
        {_FROM} WHERE c.id = :c"""), {"c": cid}).first()
    if r is None:
        raise NotFound("That conversation is not in the inbox.")
    rows = session.execute(sa.text("""
        SELECT * FROM (SELECT direction, sender_type, content, intent_detected, rag_sources, created_at, id
                       FROM messages WHERE conversation_id = :c ORDER BY created_at DESC, id DESC LIMIT :n) AS latest
        ORDER BY created_at, id"""), {"c": cid, "n": MAX_MESSAGES}).all()
    messages = [{"from": m.sender_type, "from_label": FROM_LABELS.get(m.sender_type, m.sender_type),
                 "inbound": m.direction == "inbound", "text": m.content, "when": au_when(m.created_at),
                 "intent": m.intent_detected or "",
                 "sources": ", ".join(s.get("title", "") for s in (m.rag_sources or []) if isinstance(s, dict))}
                for m in rows]
    calls = [c for c in list_calls(session, actor, conversation_id=cid)]
    return {"id": str(r.id), "channel": r.channel, "channel_label": CHANNEL_LABELS.get(r.channel, r.channel),
            "status": r.status, "status_label": STATUS_LABELS.get(r.status, r.status),
            "waiting": r.status == "handoff_requested", "who": _person(r), "reason": r.handoff_reason or "",
            "started": au_when(r.started_at), "phone": r.phone or "", "first_name": r.first_name or "",
            "phone_display": format_au_phone(r.phone) if r.phone else "", "email": r.email or "",
            "messages": messages, "calls": calls}


def reply(session: Session, actor: Actor, conversation_id, *, text: str, channel: str) -> dict:
    """The owner answers this thread by SMS or email (through the outbox). Returns the queued message."""
    access.require_read_conversations(actor)
    words = "\n".join(line.rstrip() for line in (text or "").replace("\x00", "").strip().splitlines())
    if channel not in REPLY_CHANNELS:
        raise ValidationFailed("Choose SMS or email.", field="channel")
    if not words:
        raise ValidationFailed("Write a reply first.", field="text")
    limit = MAX_SMS_REPLY if channel == "sms" else MAX_REPLY
    if len(words) > limit:
        raise ValidationFailed(f"Keep the reply under {limit} characters.", field="text")
    conv = session.get(Conversation, _id(conversation_id), with_for_update=True)
    if conv is None:
        raise NotFound("That conversation is not in the inbox.")
    who = get_conversation(session, actor, conv.id)
    address = who["phone"] if channel == "sms" else who["email"]
    if not address:
        raise ValidationFailed("There is no mobile number for this person." if channel == "sms" else
                               "There is no email address for this person.", field="channel")
    last = session.execute(sa.text(
        "SELECT content FROM messages WHERE conversation_id = :c AND sender_type = 'staff' AND created_at > "
        "now() - interval '2 minutes' ORDER BY created_at DESC LIMIT 1"), {"c": conv.id}).scalar()
    if last == words:
        raise ValidationFailed("That reply was just sent.", field="text")  # a double click sends once
    n = (conv.message_count or 0) + 1
    [queued] = notify.queue_message(
        session, "owner_reply", to={"phone": address if channel == "sms" else None,
                                    "email": address if channel == "email" else None,
                                    "user_id": conv.user_id, "contact_id": conv.contact_id,
                                    "first_name": who["first_name"] or None},
        data={"reply": words}, channels=(channel,), idempotency_key=f"owner_reply:{conv.id}:{n}",
        related_type="conversation", related_id=conv.id, template_data={"conversation_id": str(conv.id)})
    session.add(Message(conversation_id=conv.id, direction="outbound", sender_type="staff", content=words[:1600],
                        intent_detected="reply"))
    conv.message_count = n
    conv.last_message_at = clock.now(session)
    if conv.status == "handoff_requested":
        conv.status = "active"  # answered: out of the handoff queue (the assistant answers the next message)
    session.add(conv)
    session.flush()
    shown = format_au_phone(address) if channel == "sms" else address
    return {"outbox_id": str(queued.id), "channel": channel, "to": address, "to_display": shown}


def close_conversation(session: Session, actor: Actor, conversation_id) -> None:
    access.require_read_conversations(actor)
    conv = session.get(Conversation, _id(conversation_id), with_for_update=True)
    if conv is None:
        raise NotFound("That conversation is not in the inbox.")
    conv.status = "closed"
    conv.assistant_state = {}
    session.add(conv)
    session.flush()


def _call(r) -> dict:
    duration = int(r.duration_seconds or 0)
    return {"id": str(r.id), "who": r.caller_name or (format_au_phone(r.caller_phone) if r.caller_phone else
                                                      "Unknown caller"),
            "phone": r.caller_phone or "", "when": au_when(r.started_at),
            "duration": f"{duration // 60} min {duration % 60:02d} s" if duration else "",
            "outcome": r.outcome or "", "resolution": (r.resolution or "").replace("_", " "),
            "reason": r.caller_reason or "", "summary": r.summary or "", "transcript": r.transcript or "",
            "is_call": bool(r.external_call_id), "callback": bool(r.requires_callback),
            "called_back": r.callback_completed_at is not None,
            "conversation_id": str(r.conversation_id) if r.conversation_id else ""}


_CALLS = """SELECT id, caller_name, caller_phone, started_at, duration_seconds, outcome, resolution, caller_reason,
                   summary, transcript, external_call_id, requires_callback, callback_completed_at, conversation_id
            FROM call_logs"""


def list_calls(session: Session, actor: Actor, *, conversation_id: uuid.UUID | None = None,
               limit: int = PAGE) -> list[dict]:
    """The call log (calls answered by the voice agent, and callback requests), latest first."""
    access.require_read_conversations(actor)
    where, params = "true", {"n": max(1, min(int(limit), 200))}
    if conversation_id is not None:
        where, params["c"] = "conversation_id = :c", conversation_id
    rows = session.execute(sa.text(f"{_CALLS} WHERE {where} ORDER BY started_at DESC, id LIMIT :n"), params).all()
    return [_call(r) for r in rows]


def callback_queue(session: Session, actor: Actor) -> list[dict]:
    """People waiting for a call back, the longest waiting first."""
    access.require_read_conversations(actor)
    rows = session.execute(sa.text(f"{_CALLS} WHERE requires_callback AND callback_completed_at IS NULL "
                                   "ORDER BY started_at, id LIMIT 200")).all()
    return [_call(r) for r in rows]


def mark_called_back(session: Session, actor: Actor, call_id) -> bool:
    """"Called back": the callback leaves the queue (``crm.callbacks.complete_callback``)."""
    return callbacks.complete_callback(session, actor, call_id)
