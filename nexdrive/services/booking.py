"""Reserving and confirming lesson times.

The database makes overlaps impossible (exclusion constraint, migration 0002);
this module takes the per-instructor advisory lock first so concurrent
reservations queue instead of deadlocking, releases lapsed holds, and turns the
constraint's refusal into a clear SlotUnavailable. Every channel (widget, REST
API, SMS, voice) books through these functions.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from nexdrive.models import Booking, Instructor, Service
from nexdrive.services import access
from nexdrive.services.actors import Actor
from nexdrive.services.errors import Forbidden, HoldExpired, NotFound, SlotUnavailable, ValidationFailed

BUSINESS_TZ = ZoneInfo("Australia/Sydney")
DEFAULT_HOLD_MINUTES = 35  # outlives a 30-minute Stripe Checkout session (DESIGN.md §3.1)


def _business_setting(session: Session, column: str, default):
    value = session.execute(sa.text(f"SELECT {column} FROM business_settings WHERE id = 1")).scalar()
    return default if value is None else value


def _may_reserve(session: Session, actor: Actor, instructor_id: uuid.UUID, student_id: uuid.UUID | None) -> bool:
    if actor.role in ("admin", "system"):
        return True
    if actor.role == "visitor":
        return student_id is None  # visitors book as a contact, never in a student's name
    if actor.role == "instructor":
        return actor.instructor_id == instructor_id
    if student_id is None:
        return actor.role == "student"
    return access.may_book_for_student(session, actor, student_id)  # students: own; parents: can_book_lessons


def release_lapsed_holds(session: Session, instructor_id: uuid.UUID) -> int:
    """Mark this instructor's expired holds so they stop blocking time."""
    result = session.execute(
        sa.text("UPDATE bookings SET status = 'expired' WHERE instructor_id = :i AND status = 'held' "
                "AND hold_expires_at <= now()"),
        {"i": instructor_id},
    )
    return result.rowcount or 0


def reserve_slot(
    session: Session,
    actor: Actor,
    *,
    instructor_id: uuid.UUID,
    service_id: uuid.UUID,
    start_time: datetime,
    contact_id: uuid.UUID | None = None,
    student_id: uuid.UUID | None = None,
    booked_via: str = "website",
    hold_minutes: int | None = None,
    pickup_address: str | None = None,
    suburb: str | None = None,
) -> Booking:
    """Hold a lesson time for a short while; raises SlotUnavailable if it is taken."""
    if start_time.tzinfo is None:
        raise ValidationFailed("start_time must carry a time zone", field="start_time")
    if not _may_reserve(session, actor, instructor_id, student_id):
        raise Forbidden("You cannot book for this instructor or student.")
    instructor = session.get(Instructor, instructor_id)
    service = session.get(Service, service_id)
    if instructor is None:
        raise NotFound("No such instructor.")
    if service is None or not getattr(service, "is_active", True):
        raise NotFound("No such lesson type.")

    buffer_minutes = getattr(service, "buffer_minutes", None)
    if buffer_minutes is None:
        buffer_minutes = instructor.default_buffer_minutes
    hold_minutes = hold_minutes or _business_setting(session, "hold_minutes", DEFAULT_HOLD_MINUTES)
    start = start_time.astimezone(BUSINESS_TZ)
    end = start + timedelta(minutes=service.duration_minutes)

    # Serialise reservations per instructor: the constraint alone deadlocks under load.
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": instructor.lock_key})
    release_lapsed_holds(session, instructor_id)
    now = session.execute(sa.text("SELECT now()")).scalar_one()
    booking = Booking(
        instructor_id=instructor_id,
        service_id=service_id,
        student_id=student_id,
        contact_id=contact_id,
        scheduled_date=start.date(),
        start_time=start,
        end_time=end,
        duration_minutes=service.duration_minutes,
        buffer_minutes=buffer_minutes,
        blocked_until=end + timedelta(minutes=buffer_minutes),
        status="held",
        hold_expires_at=now + timedelta(minutes=hold_minutes),
        amount_cents=service.price_cents,
        booked_via=booked_via,
        booked_by=actor.user_id,
        pickup_address=pickup_address,
        suburb=suburb,
    )
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise SlotUnavailable("That time has just been taken.", start_time=start.isoformat()) from None
        raise
    return booking


def confirm_booking(session: Session, actor: Actor, booking_id: uuid.UUID) -> Booking:
    """Turn a live hold into a booking. Replaying a confirmation changes nothing."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("No such booking.")
    if actor.role == "instructor" and actor.instructor_id != booking.instructor_id:
        raise Forbidden("This booking is not yours.")
    if actor.role == "student" and booking.student_id not in (None, actor.student_id):
        raise Forbidden("This booking is not yours.")
    if actor.role == "parent":
        raise Forbidden("This booking is not yours.")
    # Compare-and-swap: only an unexpired hold becomes confirmed.
    confirmed = session.execute(
        sa.text("UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL "
                "WHERE id = :id AND status = 'held' AND hold_expires_at > now() RETURNING id"),
        {"id": booking_id},
    ).scalar()
    session.refresh(booking)
    if confirmed is None and booking.status != "confirmed":
        raise HoldExpired("The hold on this time has lapsed; please choose a time again.")
    return booking


def overlapping_pairs(session: Session, instructor_id: uuid.UUID) -> int:
    """How many pairs of live bookings of this instructor overlap (should always be 0)."""
    return session.execute(
        sa.text("""SELECT count(*) FROM bookings a JOIN bookings b
                   ON a.instructor_id = b.instructor_id AND a.id < b.id
                   WHERE a.instructor_id = :i
                     AND a.status IN ('held','confirmed') AND b.status IN ('held','confirmed')
                     AND tstzrange(a.start_time, a.blocked_until) && tstzrange(b.start_time, b.blocked_until)"""),
        {"i": instructor_id},
    ).scalar_one()
