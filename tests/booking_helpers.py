"""Shared set-up for booking tests: an instructor with weekly hours, and dates always in the future."""
from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
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


def second_instructor(engine, school: dict):
    """Another open instructor teaching the school's lesson type, committed: their id."""
    from nexdrive.db import session_scope

    with session_scope(engine) as s:
        second, _ = open_instructor(s)
        s.execute(sa.text("INSERT INTO instructor_services (instructor_id, service_id) VALUES (:i, :s)"),
                  {"i": second.id, "s": school["service"]})
        return second.id


def reserve_and_confirm_concurrently(engine, school: dict, starts: list, *, threads: int = 8) -> list:
    """Each (start, instructor id) reserved then confirmed by a visitor, ``threads`` at a time released together:
    the booking ids, in the order of ``starts``."""
    from nexdrive.db import session_scope
    from nexdrive.services.core.actors import VISITOR
    from nexdrive.services.scheduling import booking

    barrier = threading.Barrier(threads)

    def reserve_and_confirm(k):
        start, iid = starts[k]
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        with session_scope(engine) as s:
            r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=start, instructor_id=iid,
                                    name=f"Many Bookings{k}", phone=f"04{22340000 + k:08d}",
                                    email=f"many{k}@example.com", pickup_address="1 Many St", suburb="Belconnen")
            booking_id, token = r.booking.id, r.manage_token
        with session_scope(engine) as s:
            booking.confirm_booking(s, VISITOR, booking_id, manage_token=token)
        return booking_id

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(reserve_and_confirm, range(len(starts))))
