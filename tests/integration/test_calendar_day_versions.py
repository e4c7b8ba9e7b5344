"""A booking makes only the kept copies of the days it touches out of date (migration 0026).

The per-process copy of an instructor's calendar window (``availability._CalendarCache``) is checked against the
instructor's rules' version and the set of their day versions in the window (a day either side included). These
tests count the calendar reads (the statement that reads rules, overrides and bookings) to show which copies are
read again, and check what is offered, so a copy kept too long would fail as surely as one never kept.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.scheduling import availability, booking
from tests.booking_helpers import CALENDAR_READ, at, sole_open_instructor, statements_sent, weekday_ahead

TUESDAY = weekday_ahead(1)
WEDNESDAY = TUESDAY + timedelta(days=1)
THURSDAY = TUESDAY + timedelta(days=2)
MONDAY = TUESDAY - timedelta(days=1)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    availability.clear_caches()
    return sole_open_instructor(engine)


@pytest.fixture
def calendar_reads(engine):
    """Every calendar statement (rules, overrides, bookings of a window) sent during the test."""
    with statements_sent(engine, CALENDAR_READ) as reads:
        yield reads


def _offered(engine, school, day) -> set[str]:
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=day, date_to=day)
    return {t["start"] for d in view["slots"] for t in d["times"]}


def _reads_for(engine, school, day, calendar_reads) -> tuple[int, set[str]]:
    before = len(calendar_reads)
    offered = _offered(engine, school, day)
    return len(calendar_reads) - before, offered


def _day_versions(engine, instructor_id) -> dict:
    with session_scope(engine) as s:
        return dict(s.execute(sa.text("SELECT day, version FROM calendar_day_versions WHERE instructor_id = :i"),
                              {"i": instructor_id}).all())


def _book(engine, school, day, hhmm):
    with session_scope(engine) as s:
        return booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(day, hhmm), **DETAILS)


def test_a_booking_on_another_day_leaves_the_copy_current(engine, school, calendar_reads):
    for day in (TUESDAY, THURSDAY):
        _offered(engine, school, day)  # warm both copies
    assert _reads_for(engine, school, THURSDAY, calendar_reads)[0] == 0  # warm: no read
    _book(engine, school, TUESDAY, "10:00")
    reads, offered = _reads_for(engine, school, THURSDAY, calendar_reads)
    assert reads == 0 and "10:00" in offered  # Thursday's copy was not touched by Tuesday's booking
    reads, offered = _reads_for(engine, school, TUESDAY, calendar_reads)
    assert reads == 1 and "10:00" not in offered  # Tuesday's was, and the taken time is gone at once


def test_a_booking_the_day_before_the_window_makes_it_read_again(engine, school, calendar_reads):
    """The calendar of a window is read with a day either side (a buffer may cross midnight): so are its days."""
    _offered(engine, school, TUESDAY)
    _book(engine, school, MONDAY, "17:00")
    assert _reads_for(engine, school, TUESDAY, calendar_reads)[0] == 1
    _book(engine, school, WEDNESDAY, "09:00")
    assert _reads_for(engine, school, TUESDAY, calendar_reads)[0] == 1
    assert _reads_for(engine, school, TUESDAY, calendar_reads)[0] == 0


def test_the_days_a_booking_touches_get_new_versions_and_confirming_a_live_hold_does_not(engine, school):
    r = _book(engine, school, TUESDAY, "11:00")
    versions = _day_versions(engine, school["instructor"])
    assert set(versions) == {TUESDAY}
    with session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
    assert _day_versions(engine, school["instructor"]) == versions  # the same time stays blocked
    with session_scope(engine) as s:
        booking.cancel_booking(s, SYSTEM, r.booking.id, reason="test")
    after = _day_versions(engine, school["instructor"])
    assert set(after) == {TUESDAY} and after[TUESDAY] != versions[TUESDAY]


def test_a_lesson_moved_to_another_day_changes_both_days(engine, school, calendar_reads):
    r = _book(engine, school, TUESDAY, "12:00")
    with session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
    for day in (TUESDAY, THURSDAY, WEDNESDAY + timedelta(days=7)):
        _offered(engine, school, day)
    before = _day_versions(engine, school["instructor"])
    with session_scope(engine) as s:
        booking.reschedule_booking(s, SYSTEM, r.booking.id, at(THURSDAY, "12:00"))
    after = _day_versions(engine, school["instructor"])
    assert after[TUESDAY] != before[TUESDAY] and THURSDAY in after
    assert _reads_for(engine, school, WEDNESDAY + timedelta(days=7), calendar_reads)[0] == 0
    reads, offered = _reads_for(engine, school, TUESDAY, calendar_reads)
    assert reads == 1 and "12:00" in offered
    reads, offered = _reads_for(engine, school, THURSDAY, calendar_reads)
    assert reads == 1 and "12:00" not in offered


def test_a_booking_crossing_midnight_touches_both_days(engine, school):
    """Written in SQL (as staff tools or a restore would): every Canberra day from its start to its
    blocked_until gets a new version, and its scheduled_date too."""
    with session_scope(engine) as s:
        s.execute(sa.text(
            "INSERT INTO bookings (instructor_id, service_id, scheduled_date, start_time, end_time, duration_minutes, "
            "buffer_minutes, status, amount_cents, booked_via, payment_status) VALUES (:i, :s, :d, :a, :b, 90, 15, "
            "'confirmed', 8500, 'phone', 'unpaid')"),
            {"i": school["instructor"], "s": school["service"], "d": TUESDAY, "a": at(TUESDAY, "23:00"),
             "b": at(WEDNESDAY, "00:30")})
    assert set(_day_versions(engine, school["instructor"])) == {TUESDAY, WEDNESDAY}


def test_a_rolled_back_booking_leaves_the_copy_usable_and_nothing_behind(engine, school, calendar_reads):
    _offered(engine, school, THURSDAY)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(THURSDAY, "13:00"), **DETAILS)
        raise RuntimeError("roll back")
    assert _day_versions(engine, school["instructor"]) == {}
    reads, offered = _reads_for(engine, school, THURSDAY, calendar_reads)
    assert reads == 0 and "13:00" in offered
