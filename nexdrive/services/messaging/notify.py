"""Queueing messages in the transactional outbox (docs/decisions/0005-outbox-and-offline-adapters.md).

A message is written in the same transaction as the change that causes it, so
a rolled-back booking sends nothing and a committed one is never forgotten. The
dispatcher (``services/dispatch.py``) sends the rows. Wording is factual and always
names the sender (docs/decisions/0009-messages-and-consent.md).
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from nexdrive.db import row_values
from nexdrive.models import Booking, BusinessSettings, OutboxMessage
from nexdrive.formats import format_au_phone
from nexdrive.services.messaging.message_templates import (
    LINK_REMOVED,
    NOTIFICATION_TYPES,
    SENDER,
    TEMPLATES,
    has_secret_link,
    redact_secret_links,
    render,
)
from nexdrive.settings import get_settings

__all__ = ["LINK_REMOVED", "NOTIFICATION_TYPES", "SENDER", "booking_message", "business_facts", "has_secret_link",
           "public_url", "queue", "queue_keyed", "queue_message", "redact_secret_links", "render_message"]


def public_url(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def business_facts(session: Session) -> dict:
    """Who the message is from, as the owner set it in the business settings: name and phone."""
    row = session.get(BusinessSettings, 1)
    if row is None:
        return {"business_name": SENDER, "business_phone": ""}
    return {"business_name": row.business_name or SENDER, "business_phone": format_au_phone(row.phone or "")}


def queue(session: Session, *, channel: str, recipient: str, body: str, template: str,
          subject: str | None = None, user_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
          booking_id: uuid.UUID | None = None, related_type: str | None = None, related_id: uuid.UUID | None = None,
          idempotency_key: str | None = None, template_data: dict | None = None, is_marketing: bool = False,
          send_after: datetime | None = None) -> OutboxMessage:
    """Write one message to the outbox in the caller's transaction.

    With an ``idempotency_key`` a repeat returns the message already queued
    (nothing is queued twice). ``is_marketing`` messages are only sent while a
    consent is live (``services/preferences.py``) and carry an opt-out.
    ``send_after`` holds the message back until then.
    """
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body, template=template,
                            user_id=user_id, contact_id=contact_id, booking_id=booking_id,
                            related_type=related_type, related_id=related_id, idempotency_key=idempotency_key,
                            template_data=template_data or {}, is_marketing=is_marketing)
    if send_after is not None:
        message.next_attempt_at = send_after
    if not idempotency_key:
        session.add(message)
        session.flush()
        return message
    # Insert first (the usual case: a new key), look the key up only when the unique key refuses it: a repeat,
    # or a concurrent twin that won the key (ON CONFLICT waits for its transaction). Either way theirs is
    # returned. ON CONFLICT DO NOTHING rather than a savepoint: one round trip instead of three.
    if session.new or session.dirty:
        session.flush()  # rows the message may refer to (its booking, its contact) go first
    table = OutboxMessage.__table__
    values = {c.name: getattr(message, c.key) for c in table.columns if getattr(message, c.key, None) is not None}
    inserted = session.execute(pg_insert(table).values(**values)
                               .on_conflict_do_nothing(index_elements=["idempotency_key"])
                               .returning(table.c.id)).scalar()
    if inserted is None:
        existing = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)).first()
        if existing is None:
            raise IntegrityError("outbox_messages", {"idempotency_key": idempotency_key},
                                 Exception("the idempotency key was refused but no message holds it"))
        return existing
    make_transient_to_detached(message)  # the row as written: tracked from here on, not inserted again
    session.add(message)
    return message


def queue_keyed(session: Session, messages: list[dict]) -> int:
    """Several messages, each with its own ``idempotency_key``, in **one** INSERT ... ON CONFLICT DO NOTHING
    (the same rows and the same repeat rule as ``queue``: a key already queued keeps its first message).
    ``messages`` are ``queue``'s keyword arguments. The rows are not attached to the session (nothing reads them
    back in the transaction); returns how many were new."""
    if not messages:
        return 0
    table = OutboxMessage.__table__
    rows = []
    for m in messages:
        if not m.get("idempotency_key"):
            raise ValueError("queue_keyed needs an idempotency_key on every message")
        values = {k: v for k, v in m.items() if k != "send_after"}
        if m.get("send_after") is not None:
            values["next_attempt_at"] = m["send_after"]
        rows.append(row_values(OutboxMessage, values))  # the row OutboxMessage(**values) would be, unbuilt
    names = {name for row in rows for name in row}
    rows = [{name: row.get(name) for name in names} for row in rows]  # one shape (an SMS has no subject)
    if session.new or session.dirty:
        session.flush()  # rows the messages refer to (their booking, their contact) go first
    # executemany with RETURNING: SQLAlchemy sends the rows as one INSERT (insertmanyvalues), compiled once
    return len(session.execute(pg_insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
                               .returning(table.c.id), rows).all())


def _safe_data(data: dict) -> dict:
    """What may be stored beside the message: plain values, never a secret link (those live only in the body)."""
    out = {}
    for key, value in (data or {}).items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, (str, int, float, bool)) or value is None:
            if not (isinstance(value, str) and has_secret_link(value)):
                out[key] = value
    return out


def render_message(session: Session, kind: str, data: dict):
    """Template ``kind`` (message_templates) filled with ``data`` and the sender from the business settings."""
    return render(kind, {**business_facts(session), **data})


def queue_message(session: Session, kind: str, *, to: dict, data: dict,
                  idempotency_key: str | dict[str, str] | None = None,
                  channels: tuple[str, ...] | None = None, booking_id: uuid.UUID | None = None,
                  related_type: str | None = None, related_id: uuid.UUID | None = None,
                  is_marketing: bool = False, send_after: datetime | None = None,
                  template_data: dict | None = None) -> list[OutboxMessage]:
    """Render message ``kind`` (message_templates) and queue it on each channel the template uses.

    ``to``: {"user_id", "contact_id", "phone" (E.164), "email", "first_name"}; a channel without an address
    (in-app: the user id) is skipped. ``idempotency_key`` identifies the event: a string gets each channel's
    name appended, a dict gives each channel's key. Preferences and marketing consent are applied when the
    dispatcher sends (so a change made meanwhile counts). ``template_data`` is what is stored beside the
    message (default: the plain values of ``data``, never a secret link).
    """
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValueError(f"unknown notification type {kind!r}")
    data = {"first_name": to.get("first_name"), **business_facts(session), **data}
    texts = render(kind, data)
    stored = _safe_data(data) if template_data is None else template_data
    common = dict(template=kind, user_id=to.get("user_id"), contact_id=to.get("contact_id"), booking_id=booking_id,
                  related_type=related_type, related_id=related_id, template_data=stored,
                  is_marketing=is_marketing, send_after=send_after)

    def key(channel: str) -> str | None:
        if isinstance(idempotency_key, dict):
            return idempotency_key.get(channel)
        return f"{idempotency_key}:{channel}" if idempotency_key else None

    queued = []
    for channel in template.channels:
        if channels is not None and channel not in channels:
            continue
        if channel == "sms" and to.get("phone") and texts.sms:
            queued.append(queue(session, channel="sms", recipient=to["phone"], body=texts.sms,
                                idempotency_key=key("sms"), **common))
        elif channel == "email" and to.get("email") and texts.text:
            queued.append(queue(session, channel="email", recipient=to["email"], subject=texts.subject,
                                body=texts.text, idempotency_key=key("email"), **common))
        elif channel == "in_app" and to.get("user_id") and (texts.in_app or texts.text):
            queued.append(queue(session, channel="in_app", recipient=str(to["user_id"]),
                                subject=texts.in_app_subject or texts.subject, body=texts.in_app or texts.text,
                                idempotency_key=key("in_app"), **common))
    return queued


def _texts(kind: str, s: dict, extra: dict, business: dict | None = None) -> tuple[str, str, str]:
    """(sms, email subject, email body) for one booking event."""
    texts = render(kind, {**(business or {}), **s, "book_url": public_url("/book"), **extra})
    return texts.sms, texts.subject, texts.text


def booking_message(session: Session, kind: str, *, booking: Booking, summary: dict, recipient: dict, **extra) -> None:
    """SMS and email about one booking event to the learner (or the contact who booked)."""
    if kind not in ("booking_confirmation", "booking_rescheduled", "booking_cancelled"):
        raise ValueError(f"unknown booking message {kind!r}")
    sms, subject, body = _texts(kind, summary, extra, business_facts(session))
    version = f"{booking.reschedule_count}:{booking.status}"
    common = dict(template=kind, booking_id=booking.id, user_id=recipient.get("user_id"),
                  contact_id=booking.contact_id, related_type="booking", related_id=booking.id,
                  template_data={"booking_id": str(booking.id), "reference": summary["reference"]})
    messages = []
    if recipient.get("phone"):
        messages.append(dict(channel="sms", recipient=recipient["phone"], body=sms,
                             idempotency_key=f"{kind}:sms:{booking.id}:{version}", **common))
    if recipient.get("email"):
        messages.append(dict(channel="email", recipient=recipient["email"], subject=subject, body=body,
                             idempotency_key=f"{kind}:email:{booking.id}:{version}", **common))
    queue_keyed(session, messages)  # one round trip for both
