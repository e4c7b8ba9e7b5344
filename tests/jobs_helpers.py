"""Shared set-up for the scheduled-job tests: people, lessons at chosen instants, table snapshots."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.models import Booking, Instructor, Service, Student
from tests.factories import make_user

CANBERRA = ZoneInfo("Australia/Sydney")
UTC = timezone.utc
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def local(day: date, hhmm: str) -> datetime:
    """A Canberra wall-clock time as a UTC instant."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=CANBERRA).astimezone(UTC)


def first_sunday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(6 - d.weekday()) % 7)


def make_admin(session: Session, first: str = "Rob"):
    user, profile = make_user(session, "admin", first, "Owner")
    return user


def lesson(session: Session, instructor: Instructor, service: Service, start: datetime, *,
           student: Student | None = None, contact_id=None, status: str = "confirmed",
           created_at: datetime = LONG_AGO, **extra) -> Booking:
    """A booking row at an exact instant (as the booking service would have stored it)."""
    end = start + timedelta(minutes=service.duration_minutes)
    booking = Booking(instructor_id=instructor.id, service_id=service.id, student_id=student.id if student else None,
                      contact_id=contact_id, scheduled_date=start.astimezone(CANBERRA).date(), start_time=start,
                      end_time=end, duration_minutes=service.duration_minutes, buffer_minutes=0, status=status,
                      amount_cents=service.price_cents, created_at=created_at,
                      pickup_address="1 Example St", suburb="Belconnen", **extra)
    session.add(booking)
    session.flush()
    return booking


SNAPSHOT_QUERIES = {
    "outbox": "SELECT idempotency_key, channel, recipient, body FROM outbox_messages ORDER BY 1, 2, 3",
    "notifications": "SELECT recipient_id::text, channel, triggered_by, subject FROM notifications ORDER BY 1, 3",
    "audit": "SELECT count(*) FROM audit_log",
    "bookings": "SELECT id::text, status FROM bookings ORDER BY 1",
    "waitlist": "SELECT id::text, status, offered_start_time FROM waitlist ORDER BY 1",
    "throttle": "SELECT count(*) FROM auth_throttle_events",
}


def snapshot(engine) -> dict:
    """Everything a job could add or change, for comparing a run with its re-run."""
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(sa.text(q)).all()] for name, q in SNAPSHOT_QUERIES.items()}
