"""Queueing messages in the transactional outbox (docs/decisions/0005-outbox-and-offline-adapters.md).

A message is written in the same transaction as the change that causes it, so
a rolled-back booking sends nothing and a committed one is never forgotten. The
dispatcher (``services/dispatch.py``) sends the rows. Wording is factual and always
names the sender (docs/decisions/0009-messages-and-consent.md).
"""
from __future__ import annotations

import functools
import json
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from nexdrive.db import DriverText, row_values
from nexdrive.models import Booking, BusinessSettings, Contact, OutboxMessage
from nexdrive.formats import format_au_phone
from nexdrive.services.messaging import inbox
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
           "public_url", "queue", "queue_message", "redact_secret_links", "render_message"]


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


_BOOKING_KINDS = ("booking_confirmation", "booking_rescheduled", "booking_cancelled")


def booking_message(session: Session, kind: str, *, booking: Booking, summary: dict, recipient: dict, **extra) -> None:
    """Everything one booking event writes, in the caller's transaction: the SMS and the email to the learner (or
    the contact who booked) in the outbox; the learner's in-app notice when they have an account; for a new online
    booking, a notice to the instructor and to each active administrator. A retry writes nothing twice: the outbox
    rows by their idempotency keys (``queue``'s rule), the notices by their dedupe keys under
    ``inbox.post_notification``'s advisory locks (the same keys, the same rows as ``post_notification`` and the
    staff post wrote one by one).

    At most **two statements**: the outbox rows with the notices' locks, then the notices none of their recipients
    has yet (a statement of its own, so that its snapshot is taken after the locks: a notice committed by whoever
    held one is seen)."""
    if kind not in _BOOKING_KINDS:
        raise ValueError(f"unknown booking message {kind!r}")
    # One rendering for every channel: the in-app texts of these three templates use only the booking's fields.
    texts = render(kind, {**business_facts(session), **summary, "book_url": public_url("/book"), **extra})
    version = f"{booking.reschedule_count}:{booking.status}"
    common = dict(template=kind, booking_id=booking.id, user_id=recipient.get("user_id"),
                  contact_id=booking.contact_id, related_type="booking", related_id=booking.id,
                  template_data={"booking_id": str(booking.id), "reference": summary["reference"]})
    rows = []
    if recipient.get("phone"):
        rows.append(row_values(OutboxMessage, dict(channel="sms", recipient=recipient["phone"], body=texts.sms,
                                                   idempotency_key=f"{kind}:sms:{booking.id}:{version}", **common)))
    if recipient.get("email"):
        rows.append(row_values(OutboxMessage, dict(
            channel="email", recipient=recipient["email"], subject=texts.subject, body=texts.text,
            idempotency_key=f"{kind}:email:{booking.id}:{version}", **common)))
    learner = None
    if recipient.get("user_id"):
        learner = inbox.notice_row(user_id=recipient["user_id"], notification_type=kind,
                                   subject=texts.in_app_subject, body=texts.in_app, related_id=booking.id,
                                   dedupe_key=f"{kind}:{booking.id}:{version}")
    staff = None
    if kind == "booking_confirmation" and booking.booked_via in inbox.ONLINE_CHANNELS:
        if booking.student_id is None and booking.booker_name:
            who = booking.booker_name  # the name typed in this booking, whoever shares its phone or email
        else:
            contact = session.get(Contact, booking.contact_id) if booking.contact_id else None
            who = " ".join(p for p in ((contact.first_name, contact.last_name) if contact else ()) if p)
        who = who or recipient.get("first_name") or "A learner"
        notice = render("booking_new", {**summary, "booker": who})
        staff = inbox.staff_notice(booking.instructor_id, notification_type="booking_new", subject=notice.subject,
                                   body=notice.in_app, related_id=booking.id, dedupe_key=f"booking_new:{booking.id}")
    if not (rows or learner or staff):
        return
    if session.new or session.dirty:
        session.flush()  # rows the messages refer to (their booking, their contact) go first
    shape, params = _outbox_params(rows)
    if learner is not None:
        params["lk"] = learner["lock_key"]
    if staff is not None:
        params.update(si=staff["instructor_id"], sk=staff["dedupe_key"])
    locked = session.execute(_rows_and_locks_statement(shape, learner is not None, staff is not None), params).all()
    staff_ids = list(dict.fromkeys(r[0] for r in locked if r[0] is not None)) if staff is not None else []
    if learner is None and not staff_ids:
        return
    params = {}
    if learner is not None:
        params.update(learner["values"])
    if staff_ids:
        params.update(ids=staff_ids, **staff["values"])
    session.execute(_notices_statement(learner is not None, bool(staff_ids)), params)


_OUTBOX_COLUMNS = tuple(c.name for c in OutboxMessage.__table__.columns)


def _outbox_params(rows: list[dict]) -> tuple[tuple, dict]:
    """The outbox rows as one shape (the union of their columns: an SMS has no subject) and their parameters."""
    names = {name for row in rows for name in row}
    shape = tuple(name for name in _OUTBOX_COLUMNS if name in names), len(rows)
    params = {}
    for i, row in enumerate(rows):
        for name in shape[0]:
            value = row.get(name)
            if isinstance(value, dict):
                value = json.dumps(value)  # a JSONB column, cast in the statement
            params[f"o{i}_{name}"] = value
    return shape, params


@functools.lru_cache(maxsize=64)
def _rows_and_locks_statement(shape: tuple, learner: bool, staff: bool) -> sa.TextClause:
    """The outbox rows (INSERT … ON CONFLICT (idempotency_key) DO NOTHING: a key already queued keeps its first
    message, as ``queue``) and the notices' advisory locks (the learner's, then the staff's: the instructor, then
    the administrators by age), in one statement; built once per shape. Returns one row per lock taken (the staff's
    user ids; NULL for the learner's)."""
    names, n = shape
    ctes, selects = [], []
    if n:
        types = {c.name: c.type.compile(dialect=postgresql.dialect()) for c in OutboxMessage.__table__.columns}
        values = ", ".join("(" + ", ".join(f"CAST(:o{i}_{name} AS {types[name]})" for name in names) + ")"
                           for i in range(n))
        ctes.append(f"ob AS (INSERT INTO outbox_messages ({', '.join(names)}) VALUES {values} "
                    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1)")
    if learner:
        selects.append("SELECT NULL::uuid AS id, pg_advisory_xact_lock(hashtextextended(:lk, 0)) AS locked")
    if staff:
        ctes.append(f"staff AS ({inbox.STAFF_SQL})")
        selects.append("(SELECT id, pg_advisory_xact_lock(hashtextextended('inbox:' || id::text || ':' || :sk, 0)) "
                       "FROM staff ORDER BY k, created_at)")
    if not selects:
        selects.append("SELECT NULL::uuid AS id, NULL AS locked FROM ob")
    return DriverText(("WITH " + ", ".join(ctes) + " " if ctes else "") + " UNION ALL ".join(selects))


@functools.lru_cache(maxsize=8)
def _notices_statement(learner: bool, staff: bool) -> sa.TextClause:
    """The learner's notice and the staff's, each only where its recipient has none with its dedupe key yet."""
    parts = []
    if learner:
        parts.append(inbox.NOTICE_SQL)
    if staff:
        parts.append(inbox.STAFF_NOTICES_SQL)
    if len(parts) == 2:
        return DriverText(f"WITH l AS ({parts[0]}) {parts[1]}")
    return DriverText(parts[0])
