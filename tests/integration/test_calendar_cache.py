"""The per-process copy of instructors' calendars (migration 0022) is never out of date.

``find_slots`` / ``availability_by_day`` read calendars through ``load_calendars(..., cached=True)``: a copy is
used only while the instructor's ``calendar_versions`` row still holds the version read with it, no live hold
in it has lapsed, and it is younger than a minute. Each test warms the copy first, then changes the calendar
the way the app (or anything else writing SQL) does, and checks the very next request sees the change.
"""
from __future__ import annotations

import time as wall_clock
from datetime import time

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import AvailabilityOverride, Service
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.scheduling import availability, booking
from tests.booking_helpers import at, sole_open_instructor, weekday_ahead

TUESDAY = weekday_ahead(1)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    return sole_open_instructor(engine)


def _offered(engine, school) -> set[str]:
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref=school["service"], date_from=TUESDAY, date_to=TUESDAY)
    return {t["start"] for d in view["slots"] for t in d["times"]}


def _version(engine, instructor_id) -> int:
    with session_scope(engine) as s:
        return s.execute(sa.text("SELECT version FROM calendar_versions WHERE instructor_id = :i"),
                         {"i": instructor_id}).scalar() or 0


def test_a_booking_taken_is_never_offered_again(engine, school):
    assert "10:00" in _offered(engine, school)  # the copy is warm
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "10:00"), **DETAILS)
    offered = _offered(engine, school)
    assert "10:00" not in offered and "09:00" not in offered  # 09:00-10:00 + 15 min buffer runs into it
    with session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
    assert "10:00" not in _offered(engine, school)
    with session_scope(engine) as s:
        booking.cancel_booking(s, SYSTEM, r.booking.id, reason="test")
    assert "10:00" in _offered(engine, school)


def test_a_live_hold_confirmed_keeps_the_version_and_stays_blocked(engine, school):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "11:00"), **DETAILS)
    assert "11:00" not in _offered(engine, school)
    before = _version(engine, school["instructor"])
    with session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
    assert _version(engine, school["instructor"]) == before  # the same time stays blocked: no change to show
    assert "11:00" not in _offered(engine, school)


def test_a_rolled_back_change_leaves_no_version_behind(engine, school):
    assert "13:00" in _offered(engine, school)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "13:00"), **DETAILS)
        # This transaction's own request sees its hold (and may keep a copy of that calendar) ...
        taken = {sl.start for sl in booking.find_slots(s, service=s.get(Service, school["service"]),
                                                       date_from=TUESDAY, date_to=TUESDAY)}
        assert at(TUESDAY, "13:00") not in taken
        raise RuntimeError("roll back")
    assert "13:00" in _offered(engine, school)  # ... which is never used once it rolled back
    # A later, different change gets a new version: the rolled-back one is never reused.
    with session_scope(engine) as s:
        booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "15:00"), **DETAILS)
    offered = _offered(engine, school)
    assert "15:00" not in offered and "13:00" in offered


def test_rules_overrides_and_limits_written_in_sql_are_seen(engine, school):
    assert "08:00" in _offered(engine, school)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE availability_rules SET start_time = '09:00' WHERE instructor_id = :i"),
                  {"i": school["instructor"]})
    offered = _offered(engine, school)
    assert "08:00" not in offered and "09:00" in offered
    with session_scope(engine) as s:
        s.add(AvailabilityOverride(instructor_id=school["instructor"], date=TUESDAY, override_type="blocked",
                                   start_time=time(12), end_time=time(14), reason="dentist"))
    offered = _offered(engine, school)
    assert "12:00" not in offered and "13:00" not in offered and "14:00" in offered
    with session_scope(engine) as s:  # a lesson already booked that day, then a limit of one a day
        s.execute(sa.text(
            "INSERT INTO bookings (instructor_id, service_id, scheduled_date, start_time, end_time, duration_minutes, "
            "buffer_minutes, status, amount_cents, booked_via, payment_status) VALUES (:i, :s, :d, :a, :b, 60, 15, "
            "'confirmed', 8500, 'phone', 'unpaid')"),
            {"i": school["instructor"], "s": school["service"], "d": TUESDAY, "a": at(TUESDAY, "16:00"),
             "b": at(TUESDAY, "17:00")})
    offered = _offered(engine, school)
    assert offered and "16:00" not in offered
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET max_lessons_per_day = 1 WHERE id = :i"), {"i": school["instructor"]})
    assert _offered(engine, school) == set()
    with session_scope(engine) as s:
        s.execute(sa.text("DELETE FROM bookings WHERE instructor_id = :i"), {"i": school["instructor"]})
    assert "16:00" in _offered(engine, school)


def test_a_hold_that_lapses_frees_its_time_without_any_write(engine, school):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "14:00"), **DETAILS)
        s.flush()
        s.execute(sa.text("UPDATE bookings SET hold_expires_at = now() + interval '1 second' WHERE id = :b"),
                  {"b": r.booking.id})
    assert "14:00" not in _offered(engine, school)
    wall_clock.sleep(1.5)
    assert "14:00" in _offered(engine, school)


def test_an_instructor_made_inactive_is_not_offered_from_the_copy(engine, school):
    assert _offered(engine, school)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET status = 'inactive' WHERE id = :i"), {"i": school["instructor"]})
    assert _offered(engine, school) == set()


def test_copies_are_shallow_so_a_caller_cannot_change_the_kept_calendar(engine, school):
    with session_scope(engine) as s:
        first = availability.load_calendars(s, None, TUESDAY, TUESDAY, cached=True)[school["instructor"]]
        first.busy, first.rules = [], []
        again = availability.load_calendars(s, None, TUESDAY, TUESDAY, cached=True)[school["instructor"]]
    assert again.rules and again.load_key == first.load_key  # the kept copy, untouched


def test_lesson_types_chosen_for_the_instructor_apply_at_once(engine, school):
    assert _offered(engine, school)
    with session_scope(engine) as s:  # the instructor now teaches only another lesson type
        other = s.execute(sa.text("SELECT id FROM services WHERE id <> :s AND is_active LIMIT 1"),
                          {"s": school["service"]}).scalar()
        s.execute(sa.text("INSERT INTO instructor_services (instructor_id, service_id) VALUES (:i, :s)"),
                  {"i": school["instructor"], "s": other})
    assert _offered(engine, school) == set()
    with session_scope(engine) as s:
        s.execute(sa.text("INSERT INTO instructor_services (instructor_id, service_id) VALUES (:i, :s)"),
                  {"i": school["instructor"], "s": school["service"]})
    assert "10:00" in _offered(engine, school)
