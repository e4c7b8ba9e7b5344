"""A lesson's status on its booking (architecture §4.2.2 ``/bookings/:id/start`` and ``/complete``).

* ``start_lesson``: the instructor (or the office) marks a confirmed booking under way (``in_progress``),
  from an hour before its start until it ends; twice is once.
* ``complete_lesson``: the booking is marked ``completed`` and linked to its lesson record when one exists
  (the workstation records and signs the lesson; ``submit_lesson`` completes the booking itself). With no
  lesson yet the result says where to record it. Twice is once.

Only the booking's own instructor or the office; a learner or parent is refused.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from nexdrive.errors import InvalidState
from nexdrive.models import Booking, Lesson
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor

__all__ = ["EARLY_START", "complete_lesson", "start_lesson", "status_view"]

EARLY_START = timedelta(hours=1)


def _booking(session: Session, actor: Actor, booking_id: uuid.UUID) -> Booking:
    access.require_signed_in(actor)
    booking = session.exec(select(Booking).where(Booking.id == booking_id).with_for_update()).first()
    mine = booking is not None and (actor.sees_everything or (
        actor.is_instructor and actor.instructor_id is not None and booking.instructor_id == actor.instructor_id))
    return access.require_visible(actor, booking, mine, "booking")


def _lesson_for(session: Session, booking: Booking) -> Lesson | None:
    if booking.lesson_id:
        return session.get(Lesson, booking.lesson_id)
    return session.exec(select(Lesson).where(Lesson.booking_id == booking.id, Lesson.correction_of.is_(None))
                        .order_by(Lesson.created_at)).first()


def status_view(session: Session, booking: Booking) -> dict[str, Any]:
    lesson = _lesson_for(session, booking)
    return {"booking_id": str(booking.id), "status": booking.status,
            "lesson_id": str(lesson.id) if lesson else "", "lesson_status": lesson.status if lesson else "",
            "record_url": "" if lesson else f"/instructor/lesson/new?booking={booking.id}"}


def start_lesson(session: Session, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    booking = _booking(session, actor, booking_id)
    if booking.status == "in_progress":
        return status_view(session, booking)
    if booking.status != "confirmed":
        raise InvalidState("Only a confirmed booking can be started.", status=booking.status)
    now = clock.now(session)
    if now < booking.start_time - EARLY_START:
        raise InvalidState("A lesson can be started from an hour before its start time.")
    if now > booking.end_time + timedelta(hours=12):
        raise InvalidState("This lesson's time has long passed: record it instead.")
    booking.status = "in_progress"
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "booking.started", subject_type="booking", subject_id=booking.id)
    return status_view(session, booking)


def complete_lesson(session: Session, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    booking = _booking(session, actor, booking_id)
    lesson = _lesson_for(session, booking)
    if booking.status == "completed":
        if lesson is not None and booking.lesson_id is None:
            booking.lesson_id = lesson.id
            session.add(booking)
            session.flush()
        return status_view(session, booking)
    if booking.status not in ("confirmed", "in_progress"):
        raise InvalidState("Only a confirmed or started lesson can be completed.", status=booking.status)
    if clock.now(session) < booking.start_time:
        raise InvalidState("A lesson can be completed once it has started.")
    booking.status = "completed"
    if lesson is not None:
        booking.lesson_id = lesson.id
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "booking.completed", subject_type="booking", subject_id=booking.id,
                       details={"lesson_id": str(lesson.id) if lesson else None})
    return status_view(session, booking)
