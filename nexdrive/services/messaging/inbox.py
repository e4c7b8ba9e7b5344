"""The in-app inbox: notifications a signed-in person sees under the bell and on /notifications.

An in-app notification is a ``notifications`` row with channel ``in_app`` and
status ``delivered`` (there is nothing to send), written in the caller's
transaction so a rolled-back change leaves no notice behind. ``read_at`` marks
it read. Everyone reads and marks only their own; someone else's id answers
NotFound, exactly like an id that does not exist, so probing ids reveals nothing.

Idempotency: a caller that may run twice (a retried request, a replayed
webhook, a job) passes a ``dedupe_key``; it is kept in ``triggered_by`` and a
second post with the same key for the same person returns the first row. The
table has no unique index on it, so the check runs under a transaction-scoped
advisory lock on (person, key).

Links: the table has no link or related-type column, so the link is derived
when reading: a notification whose ``related_id`` is a booking links to
``/booking/manage?id=...`` (the booking page checks access itself).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from sqlalchemy.dialects import postgresql

from nexdrive.db import row_values
from nexdrive.models import Booking, Notification
from nexdrive.services.core import clock, paging
from nexdrive.services.core.access import require_signed_in
from nexdrive.services.core.actors import Actor
from nexdrive.errors import NotFound
from nexdrive.formats import au_when

IN_APP = "in_app"
MAX_SUBJECT = 200
MAX_BODY = 2000
ONLINE_CHANNELS = ("website", "sms", "voice_agent")  # booked by the learner themselves, not by the school

RELATED_LINKS = {"booking": "/booking/manage?id={id}"}


# ─────────────────────────────────────────────────────────────────────────────
# Writing
# ─────────────────────────────────────────────────────────────────────────────

def post_notification(session: Session, *, user_id: uuid.UUID, notification_type: str, subject: str, body: str,
                      related_type: str | None = None, related_id: uuid.UUID | None = None,
                      link: str | None = None, dedupe_key: str | None = None) -> Notification:
    """Put a notice in one person's inbox, in the caller's transaction; a repeated dedupe_key returns the first.

    ``related_type``/``link`` describe what the notice is about; only booking links are shown for now
    (derived from ``related_id``: the table has no column for either).
    """
    notification_type, subject, body = _checked(notification_type, subject, body)
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("link must be a path on this site")
    if dedupe_key:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": f"inbox:{user_id}:{dedupe_key}"})
        existing = session.exec(select(Notification).where(
            Notification.recipient_id == user_id, Notification.channel == IN_APP,
            Notification.triggered_by == dedupe_key)).first()
        if existing is not None:
            return existing
    now = clock.database_now(session)
    row = Notification(recipient_id=user_id, channel=IN_APP, notification_type=notification_type,
                       subject=subject, body=body,
                       status="delivered", sent_at=now, delivered_at=now, triggered_by=dedupe_key,
                       related_id=related_id)
    session.add(row)
    session.flush()
    return row


# ─────────────────────────────────────────────────────────────────────────────
# Reading and marking (the actor's own only)
# ─────────────────────────────────────────────────────────────────────────────

def _own(actor: Actor):
    require_signed_in(actor)
    if actor.user_id is None:  # the system has no inbox
        raise NotFound("No such notification.")
    return sa.and_(Notification.recipient_id == actor.user_id, Notification.channel == IN_APP)


def _parse_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise NotFound("No such notification.") from None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _items(session: Session, rows: list[Notification]) -> list[dict[str, Any]]:
    related = [r.related_id for r in rows if r.related_id]
    bookings = set(session.exec(select(Booking.id).where(Booking.id.in_(related))).all()) if related else set()
    return [{
        "id": str(r.id),
        "type": r.notification_type,
        "subject": r.subject or "",
        "body": r.body,
        "created_at": _iso(r.created_at),
        "when": au_when(r.created_at),
        "read": r.read_at is not None,
        "read_at": _iso(r.read_at),
        "related_id": str(r.related_id) if r.related_id else None,
        "link": RELATED_LINKS["booking"].format(id=r.related_id) if r.related_id in bookings else None,
    } for r in rows]


def list_notifications(session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 20,
                       cursor: str | None = None) -> dict[str, Any]:
    """The actor's notifications, newest first; ``next_cursor`` fetches the next page."""
    own = _own(actor)
    limit = paging.page_size(limit, 20)
    query = select(Notification).where(own)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paging.newest_first(session, query, Notification, cursor=cursor, limit=limit,
                               to_item=lambda rows: _items(session, rows))


def unread_count(session: Session, actor: Actor) -> int:
    own = _own(actor)
    return session.execute(select(sa.func.count()).select_from(Notification)
                           .where(own, Notification.read_at.is_(None))).scalar_one()


def mark_read(session: Session, actor: Actor, notification_id: uuid.UUID | str) -> dict[str, Any]:
    """Mark one of the actor's notifications read; marking it again changes nothing."""
    own = _own(actor)
    row = session.exec(select(Notification).where(own, Notification.id == _parse_id(notification_id))
                       .with_for_update()).first()
    if row is None:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = session.execute(sa.text("SELECT now()")).scalar_one()
        session.add(row)
        session.flush()
    return _items(session, [row])[0]


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    own = _own(actor)
    result = session.execute(sa.update(Notification).where(own, Notification.read_at.is_(None))
                             .values(read_at=sa.func.now()))
    return result.rowcount or 0


# ─────────────────────────────────────────────────────────────────────────────
# Booking events: the notices ``notify.booking_message`` writes with the outbox messages
# ─────────────────────────────────────────────────────────────────────────────

def notice_row(*, user_id: uuid.UUID, notification_type: str, subject: str | None, body: str,
               related_id: uuid.UUID | None, dedupe_key: str) -> dict:
    """``post_notification``'s notice for one person, not written: ``{"lock_key", "values"}``, the values as the
    parameters of ``NOTICE_SQL`` (the row ``Notification(...)`` would be; ``notify.booking_message`` writes it)."""
    notification_type, subject, body = _checked(notification_type, subject, body)
    row = row_values(Notification, dict(recipient_id=user_id, channel=IN_APP, notification_type=notification_type,
                                        subject=subject, body=body, status="delivered", triggered_by=dedupe_key,
                                        related_id=related_id))
    return {"lock_key": f"inbox:{user_id}:{dedupe_key}",
            "values": {f"l_{name}": row.get(name) for name in _NOTICE_COLUMNS if name not in _AT_NOW}}


def staff_notice(instructor_id: uuid.UUID | None, *, notification_type: str, subject: str | None, body: str,
                 related_id: uuid.UUID, dedupe_key: str) -> dict:
    """A notice to the instructor (``instructor_id``) and every active administrator, each once, with one dedupe
    key, not written: the parameters of ``STAFF_SQL``'s locks and of ``STAFF_NOTICES_SQL`` (``ids``: the staff)."""
    notification_type, subject, body = _checked(notification_type, subject, body)
    return {"instructor_id": instructor_id, "dedupe_key": dedupe_key,
            "values": {"ch": IN_APP, "t": notification_type, "s": subject, "b": body, "k": dedupe_key,
                       "r": related_id}}


def _checked(notification_type: str, subject: str | None, body: str) -> tuple[str, str | None, str]:
    """A notice's type, subject and body as ``post_notification`` stores them."""
    if not notification_type or not notification_type.strip():
        raise ValueError("notification_type is required")
    body = (body or "").strip()
    if not body:
        raise ValueError("a notification needs a body")
    return notification_type.strip(), (subject or "").strip()[:MAX_SUBJECT] or None, body[:MAX_BODY]


# The columns of a notice ``post_notification`` writes (the model's defaults included: id, created_at, updated_at);
# sent_at and delivered_at are the transaction's now() (``clock.database_now``).
_AT_NOW = ("sent_at", "delivered_at")


def _sql_type(column: str) -> str:
    return Notification.__table__.c[column].type.compile(dialect=postgresql.dialect())


_NOTICE_COLUMNS = tuple(dict.fromkeys((*row_values(Notification, dict(
    recipient_id=uuid.UUID(int=0), channel=IN_APP, notification_type="t", subject="s", body="b", status="delivered",
    triggered_by="k", related_id=uuid.UUID(int=0))), *_AT_NOW)))

NOTICE_SQL = (  # the learner's notice, unless they have one with this dedupe key (to run after its lock)
    f"INSERT INTO notifications ({', '.join(_NOTICE_COLUMNS)}) SELECT "
    + ", ".join("now()" if c in _AT_NOW else f"CAST(:l_{c} AS {_sql_type(c)})" for c in _NOTICE_COLUMNS)
    + " WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.recipient_id = CAST(:l_recipient_id AS uuid) "
    "AND n.channel = :l_channel AND n.triggered_by = :l_triggered_by)")

STAFF_SQL = (  # the booking's instructor (k = 0) and every active administrator (k = 1), as ids of users
    "SELECT u.id, 0 AS k, u.created_at FROM instructors i JOIN users u ON u.id = i.user_id "
    "WHERE i.id = :si AND u.status = 'active' "
    "UNION ALL SELECT u.id, 1, u.created_at FROM users u WHERE u.role = 'admin' AND u.status = 'active'")

STAFF_NOTICES_SQL = (  # the staff's notices (``ids``), each unless they have one with this key (after the locks)
    "INSERT INTO notifications (recipient_id, channel, notification_type, subject, body, status, sent_at, "
    "delivered_at, triggered_by, related_id) "
    "SELECT u, :ch, :t, :s, :b, 'delivered', now(), now(), :k, :r FROM unnest(CAST(:ids AS uuid[])) AS u "
    "WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.recipient_id = u AND n.channel = :ch "
    "AND n.triggered_by = :k)")
