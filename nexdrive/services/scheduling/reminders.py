"""Lesson reminders by SMS: the day before, and two hours before (spec: booking_reminder_24h / _2h).

When they go out (docs/decisions/0008-time-and-money-formats.md, Canberra time):

* the "24 hour" reminder is sent at the lesson's own wall-clock time on the
  previous Canberra day: a 9:00 am lesson is reminded at 9:00 am the day before,
  also across a daylight-saving change (then that is 23 or 25 real hours
  earlier). People expect "same time yesterday", not "9:00 or 10:00 depending
  on the clocks";
* the 2-hour reminder is sent exactly 2 real hours before the lesson starts.

The job runs every 15 minutes and sends each reminder at the first run at or
after its due moment (never early). A run that was missed is caught up
later, as long as the reminder is still useful: the day-before reminder until
the 2-hour one is due, the 2-hour one until the lesson starts. A lesson booked
after a reminder's due moment gets no such reminder (its confirmation has just
gone out).

Each reminder is queued once: the outbox idempotency key
``booking_reminder_24h:sms:<booking id>:<start, UTC ISO>`` is unique, so a
re-run sends nothing twice, and a lesson moved to a new time is reminded of
the new time. Messages are factual, name the sender, and invite "Reply Y to
confirm" (handled by the inbound SMS webhook).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from nexdrive.models import Booking
from nexdrive.services.scheduling import booking as booking_service
from nexdrive.services.messaging import notify
from nexdrive.formats import BUSINESS_TZ, au_date, au_time

UTC = timezone.utc
DAY_BEFORE = "booking_reminder_24h"
TWO_HOURS = "booking_reminder_2h"
KINDS = (DAY_BEFORE, TWO_HOURS)
# The day-before reminder is at most 25 real hours ahead (the April change); look a little further.
LOOKAHEAD = timedelta(hours=26)


def day_before_due(start: datetime) -> datetime:
    """The same Canberra wall-clock time on the previous day, as a UTC instant.

    A wall time that does not exist that day (02:00-03:00 on the first Sunday of
    October) resolves with the offset before the change, i.e. an hour later on
    the clock; an ambiguous one (the repeated April hour) takes its first occurrence.
    """
    local = start.astimezone(BUSINESS_TZ)
    wall = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=BUSINESS_TZ, fold=0)
    return wall.astimezone(UTC)


def due_at(kind: str, start: datetime) -> datetime:
    if kind == DAY_BEFORE:
        return day_before_due(start)
    if kind == TWO_HOURS:
        return start.astimezone(UTC) - timedelta(hours=2)
    raise ValueError(f"unknown reminder {kind!r}")


def is_due(kind: str, start: datetime, booked_at: datetime, now: datetime) -> bool:
    """Whether a run at ``now`` should send this reminder (ignoring whether it was already sent)."""
    due = due_at(kind, start)
    if booked_at >= due or now < due or now >= start:
        return False
    if kind == DAY_BEFORE:
        return now < due_at(TWO_HOURS, start)  # after that, the 2-hour reminder says it all
    return True


def reminder_key(kind: str, booking_id: uuid.UUID, start: datetime) -> str:
    return f"{kind}:sms:{booking_id}:{start.astimezone(UTC).isoformat()}"


def _sms_disabled(session: Session, user_id: uuid.UUID | None, kind: str) -> bool:
    if user_id is None:
        return False
    return bool(session.execute(sa.text(
        "SELECT 1 FROM notification_preferences WHERE user_id = :u AND notification_type = :t "
        "AND channel = 'sms' AND NOT enabled"), {"u": user_id, "t": kind}).first())


@dataclass(frozen=True)
class QueuedReminder:
    kind: str
    booking_id: uuid.UUID
    start: datetime
    key: str


def send_due_reminders(session: Session, now: datetime | None = None) -> int:
    """Queue every reminder that is due at ``now`` and not yet queued; returns how many were queued."""
    return len(queue_due_reminders(session, now))


def queue_due_reminders(session: Session, now: datetime | None = None) -> list[QueuedReminder]:
    """send_due_reminders, telling which reminders were queued."""
    now = (now or session.execute(sa.text("SELECT now()")).scalar_one()).astimezone(UTC)
    bookings = session.exec(
        select(Booking).where(Booking.status == "confirmed", Booking.start_time > now,
                              Booking.start_time <= now + LOOKAHEAD).order_by(Booking.start_time)
    ).all()
    queued: list[QueuedReminder] = []
    for b in bookings:
        for kind in KINDS:
            if not is_due(kind, b.start_time, b.created_at, now):
                continue
            key = reminder_key(kind, b.id, b.start_time)
            if session.execute(sa.text("SELECT 1 FROM outbox_messages WHERE idempotency_key = :k"),
                               {"k": key}).first():
                continue
            who = booking_service.booking_recipient(session, b)
            if not who.get("phone") or _sms_disabled(session, who.get("user_id"), kind):
                continue
            summary = booking_service.booking_summary(session, b)
            try:
                with session.begin_nested():  # a concurrent run queued it first: fine, skip
                    notify.queue_message(
                        session,
                        kind,
                        to={"phone": who["phone"], "user_id": who.get("user_id"), "contact_id": b.contact_id},
                        data={**summary, "date": au_date(b.start_time), "time": au_time(b.start_time)},
                        idempotency_key={"sms": key},
                        booking_id=b.id,
                        related_type="booking",
                        related_id=b.id,
                        template_data={
                            "booking_id": str(b.id),
                            "reference": summary["reference"],
                            "start_at": summary["start_at"],
                            "due_at": due_at(kind, b.start_time).isoformat(),
                            "queued_for": now.isoformat(),
                        },
                    )
            except IntegrityError:
                continue
            queued.append(QueuedReminder(kind, b.id, b.start_time, key))
    return queued
