"""Shared set-up for booking tests: an instructor with weekly hours, and dates always in the future."""
from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.models import AvailabilityRule
from tests.factories import make_instructor, make_service
from tests.reference import reference_week, today

CANBERRA = ZoneInfo("Australia/Sydney")


def weekday_ahead(weekday: int, *, weeks: int = 3) -> date:
    """The given weekday (Monday=0) of the reference week `weeks` weeks ahead (see tests/reference.py)."""
    return reference_week(weeks=weeks) + timedelta(days=weekday)


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=CANBERRA).astimezone(timezone.utc)


def open_instructor(session: Session, *, days=(1, 2, 3, 4, 5, 6), start="08:00", end="18:00", buffer_minutes=15,
                    max_per_day=8):
    """An instructor working the given stored days (0=Sunday) from start to end, and a 60-minute lesson."""
    instructor = make_instructor(session, buffer_minutes=buffer_minutes)
    instructor.max_lessons_per_day = max_per_day
    session.add(instructor)
    for d in days:
        session.add(AvailabilityRule(instructor_id=instructor.id, day_of_week=d, start_time=time.fromisoformat(start),
                                     end_time=time.fromisoformat(end), effective_from=today() - timedelta(days=1)))
    service = make_service(session, minutes=60)
    session.flush()
    return instructor, service


def only_instructor(session: Session, instructor_id) -> None:
    """Make this the only active instructor (the template database has none, the demo has one)."""
    session.execute(sa.text("UPDATE instructors SET status = 'inactive' WHERE id <> :i"), {"i": instructor_id})


def sole_open_instructor(engine) -> dict:
    """An open instructor as the school's only bookable one, committed: ``{"instructor": id, "service": id}``."""
    from nexdrive.db import session_scope

    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        return {"instructor": instructor.id, "service": service.id}


# The statement that reads calendars (rules, overrides and bookings of a window): availability._CALENDARS_SQL.
CALENDAR_READ = "WITH inst AS MATERIALIZED"


@contextlib.contextmanager
def statements_sent(engine, containing: str | None = None):
    """The statements the engine sends inside the block (only those containing ``containing``, if given)."""
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        if containing is None or containing in statement:
            sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def statements_of(engine, fn) -> list[str]:
    """The statements ``fn()`` sends."""
    with statements_sent(engine) as sent:
        fn()
    return sent
