"""A refused reservation's alternatives computed after its transaction (issue 17, seventh round).

A refusal decided under the instructor's lock carries the refused day's other times from the calendar it holds;
when that day has fewer than ``ALTERNATIVES`` of them, the fortnight around it is read by
``booking.complete_alternatives`` in a transaction of its own, after the refused one ended and released the lock
(``refusals_with_alternatives`` around the caller's transaction; the widget and the manage page run it as their
other work). The result is ``nearest_alternatives`` as it stands after the refusal, on every channel.
"""
from __future__ import annotations

import asyncio
from contextlib import nullcontext

import httpx
import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import SlotUnavailable
from nexdrive.models import Service
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.scheduling import availability, booking
from tests.api_server import serve_api
from tests.booking_helpers import at, sole_open_instructor, weekday_ahead

TUESDAY = weekday_ahead(1)
WEDNESDAY = weekday_ahead(2)
CALENDAR_READS = ("WITH inst AS MATERIALIZED", "LEFT JOIN calendar_versions")  # the calendar; its versions


def details(n: int) -> dict:
    return dict(name=f"Al Later{n}", phone=f"04{32340000 + n:08d}", email=f"later{n}@example.com",
                pickup_address="1 Later St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    return sole_open_instructor(engine)


@pytest.fixture
def short_tuesday(engine, school):
    """Tuesday worked 09:00-11:30 only: 09:00, 09:30, 10:00, 10:30; with 09:00 taken, only 10:30 is left."""
    with session_scope(engine) as s:
        s.execute(sa.text("INSERT INTO availability_overrides (id, instructor_id, date, start_time, end_time, "
                          "override_type, reason) VALUES (gen_random_uuid(), :i, :d, '08:00', '09:00', 'blocked', "
                          "'test'), (gen_random_uuid(), :i, :d, '11:30', '18:00', 'blocked', 'test')"),
                  {"i": school["instructor"], "d": TUESDAY})
    return school


def _staff_books(engine, school, start):
    with session_scope(engine) as s:
        return booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=start,
                                    instructor_id=school["instructor"]).id


def _taken_between_check_and_lock(monkeypatch, engine, school, start):
    """The time goes to someone else (committed) right after the reservation's check before the lock, so the
    reservation is refused under the lock (``reserve_lock_fresh`` brings the new booking back)."""
    original = availability.checked_calendar  # the check's calendar, read for it or the chooser's current copy
    done = []

    def check_then_taken(cal, day):
        checked = original(cal, day)
        if not done:
            done.append(_staff_books(engine, school, start))
        return checked

    monkeypatch.setattr(availability, "checked_calendar", check_then_taken)
    return done


def _alternatives_now(engine, school, start, ignore_booking_id=None):
    with session_scope(engine) as s:
        return booking.nearest_alternatives(s, s.get(Service, school["service"]), start,
                                            instructor_id=school["instructor"], ignore_booking_id=ignore_booking_id)


def _count(engine, sql, **params):
    with session_scope(engine) as s:
        return s.execute(sa.text(sql), params).scalar()


def _refused(engine, school, start, n=1, *, completed=True, instructor_id="named") -> SlotUnavailable:
    chosen = school["instructor"] if instructor_id == "named" else instructor_id
    with pytest.raises(SlotUnavailable) as refused:
        with (booking.refusals_with_alternatives() if completed else nullcontext()), session_scope(engine) as s:
            booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=start, instructor_id=chosen,
                                **details(n))
    return refused.value


def _events(engine, fn):
    """Every statement, BEGIN, COMMIT and ROLLBACK sent through ``engine`` while ``fn`` runs, with the pooled
    connection it went on: ``[(connection, kind, statement)]``."""
    seen: list[tuple[int, str, str]] = []

    def tag(conn):
        return id(conn.connection.dbapi_connection)

    def statement(conn, _cursor, sql, *_):
        seen.append((tag(conn), "statement", sql))

    listeners = [("before_cursor_execute", statement),
                 ("begin", lambda conn: seen.append((tag(conn), "begin", ""))),
                 ("commit", lambda conn: seen.append((tag(conn), "commit", ""))),
                 ("rollback", lambda conn: seen.append((tag(conn), "rollback", "")))]
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        fn()
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)
    return seen


def _reads_calendar(sql: str) -> bool:
    return any(marker in sql for marker in CALENDAR_READS)


# ── (1) the same alternatives as nearest_alternatives computed fresh after the refusal ───────────────────────


def test_a_refusal_under_the_lock_on_a_short_day_gets_the_fortnights_alternatives_after_it(
        engine, short_tuesday, monkeypatch):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    taken = _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    refusal = _refused(engine, school, nine)
    assert taken and "just been taken" in refusal.message
    expected = _alternatives_now(engine, school, nine)
    assert len(expected) == booking.ALTERNATIVES
    assert expected[0]["date"] == TUESDAY.isoformat() and expected[0]["start"] == "10:30"  # the day's one left
    assert any(a["date"] != TUESDAY.isoformat() for a in expected)  # the rest from the fortnight
    assert refusal.details["suggested_alternatives"] == expected
    assert refusal.alternatives_wanted is None  # completed
    # Nothing of the refused reservation was written.
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')") == 1
    assert _count(engine, "SELECT count(*) FROM contacts WHERE email = 'later1@example.com'") == 0


def test_without_completing_a_refusal_carries_the_days_alternatives_and_what_completes_them(
        engine, short_tuesday, monkeypatch):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    refusal = _refused(engine, school, nine, completed=False)
    wanted = refusal.alternatives_wanted
    assert wanted == booking.AlternativesWanted(school["service"], nine, school["instructor"], None, teaches=True)
    expected = _alternatives_now(engine, school, nine)
    assert refusal.details["suggested_alternatives"] == expected[:1]  # Tuesday 10:30: the head of the list
    with session_scope(engine) as s:  # the service function, in a transaction of the caller's
        assert booking.complete_alternatives(s, refusal) is refusal
    assert refusal.details["suggested_alternatives"] == expected and refusal.alternatives_wanted is None
    with session_scope(engine) as s:  # completed once: nothing more to do
        before = list(refusal.details["suggested_alternatives"])
        booking.complete_alternatives(s, refusal)
        assert refusal.details["suggested_alternatives"] == before


def test_the_rest_api_reserve_answers_with_the_completed_alternatives(engine, short_tuesday, monkeypatch):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    body = {"service_id": str(school["service"]), "instructor_id": str(school["instructor"]),
            "date": TUESDAY.isoformat(), "start_time": "09:00",
            "contact": {"name": "Api Later", "phone": "0412000999", "email": "api.later@example.com"},
            "pickup_address": "1 Later St", "suburb": "Belconnen"}
    with serve_api() as api:
        r = httpx.post(api + "/api/v1/booking/reserve", json=body)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "BOOKING_CONFLICT" and "just been taken" in error["message"]
    expected = _alternatives_now(engine, school, nine)
    assert error["details"]["suggested_alternatives"] == expected
    assert set(error["details"]) == {"start_time", "suggested_alternatives"}  # the same shape as before
    assert _count(engine, "SELECT count(*) FROM contacts WHERE email = 'api.later@example.com'") == 0


def _confirmed_visitor_booking(engine, school, start, n=7):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=start,
                                instructor_id=school["instructor"], **details(n))
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
        return r.booking.id, r.manage_token


def test_the_rest_api_reschedule_answers_with_the_completed_alternatives(engine, short_tuesday):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    booking_id, token = _confirmed_visitor_booking(engine, school, at(WEDNESDAY, "09:00"))
    _staff_books(engine, school, nine)
    with serve_api() as api:
        r = httpx.patch(api + f"/api/v1/bookings/{booking_id}", headers={"X-Manage-Token": token},
                        json={"date": TUESDAY.isoformat(), "start_time": "09:00"})
    assert r.status_code == 409, r.text
    expected = _alternatives_now(engine, school, nine, ignore_booking_id=booking_id)
    assert len(expected) == booking.ALTERNATIVES and expected[0]["start"] == "10:30"
    assert r.json()["error"]["details"]["suggested_alternatives"] == expected
    with session_scope(engine) as s:  # not moved
        assert s.execute(sa.text("SELECT start_time, reschedule_count FROM bookings WHERE id = :i"),
                         {"i": booking_id}).one() == (at(WEDNESDAY, "09:00"), 0)


# ── (2) the fortnight is read after the lock was released ─────────────────────────────────────────────────────


def test_no_calendar_read_under_the_lock_and_the_fortnight_read_in_a_later_transaction(
        engine, short_tuesday, monkeypatch):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    advisory_locks_seen = []
    original = booking.nearest_alternatives

    def nearest_alternatives(session, *args, **kwargs):
        # Every advisory lock held in this database when the fortnight is read (the instructor's, the person's).
        advisory_locks_seen.append(session.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).scalar())
        return original(session, *args, **kwargs)

    monkeypatch.setattr(booking, "nearest_alternatives", nearest_alternatives)
    refused = []
    seen = _events(engine, lambda: refused.append(_refused(engine, school, nine)))
    assert len(refused[0].details["suggested_alternatives"]) == booking.ALTERNATIVES
    assert advisory_locks_seen == [0]  # read once, with no lock held by anyone

    locked_at = next(i for i, (_, kind, sql) in enumerate(seen) if kind == "statement" and "reserve_lock" in sql)
    connection = seen[locked_at][0]
    ended_at = next(i for i in range(locked_at + 1, len(seen))
                    if seen[i][0] == connection and seen[i][1] in ("commit", "rollback"))
    assert seen[ended_at][1] == "rollback"  # the refused transaction: nothing kept
    under_lock = [sql for conn, kind, sql in seen[locked_at + 1:ended_at] if conn == connection and kind == "statement"]
    assert not any(_reads_calendar(sql) for sql in under_lock), under_lock
    # After it: a transaction of its own begins, reads the fortnight, ends.
    after = seen[ended_at + 1:]
    began = next(i for i, (_, kind, _) in enumerate(after) if kind == "begin")
    read = next(i for i, (_, kind, sql) in enumerate(after) if kind == "statement" and _reads_calendar(sql))
    assert began < read
    ended = next(i for i in range(read + 1, len(after)) if after[i][1] in ("commit", "rollback")
                 and after[i][0] == after[read][0])
    # The lesson type, the calendar read directly (the refused transaction knew the instructor teaches it, so no
    # versions statement first) and the slot rules' inputs.
    completing = [sql for _, kind, sql in after[began:ended] if kind == "statement" and "pg_locks" not in sql]
    assert len(completing) <= 3 and not any("LEFT JOIN calendar_versions" in sql for sql in completing), completing


# ── (3) enough times that day: nothing more to read ───────────────────────────────────────────────────────────


def test_a_refusal_under_the_lock_with_enough_times_that_day_reads_nothing_more(engine, school, monkeypatch):
    nine = at(TUESDAY, "09:00")  # Tuesday worked 08:00-18:00: plenty of other times
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    refused = []
    seen = _events(engine, lambda: refused.append(_refused(engine, school, nine)))
    refusal = refused[0]
    assert refusal.alternatives_wanted is None
    expected = _alternatives_now(engine, school, nine)
    assert all(a["date"] == TUESDAY.isoformat() for a in expected)
    assert refusal.details["suggested_alternatives"] == expected
    ended_at = max(i for i, (_, kind, _) in enumerate(seen) if kind == "rollback")
    assert not any(kind in ("begin", "statement") for _, kind, _ in seen[ended_at + 1:])  # no transaction after it


def test_a_refusal_before_the_lock_still_reads_the_fortnight_in_its_own_transaction(engine, short_tuesday):
    # Refused by the check before the lock (no lock held): the alternatives are read there, as before.
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _staff_books(engine, school, nine)
    refusal = _refused(engine, school, nine, completed=False)
    assert refusal.alternatives_wanted is None
    assert refusal.details["suggested_alternatives"] == _alternatives_now(engine, school, nine)


def test_first_available_refused_under_the_lock_completes_the_first_instructors_alternatives(
        engine, short_tuesday, monkeypatch):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    refusal = _refused(engine, school, nine, instructor_id=None)
    assert refusal.details["suggested_alternatives"] == _alternatives_now(engine, school, nine)


def test_a_staff_booking_refused_by_the_constraint_gets_its_alternatives_after_the_transaction(engine, short_tuesday):
    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _staff_books(engine, school, nine)
    with pytest.raises(SlotUnavailable) as refused:
        with booking.refusals_with_alternatives(), session_scope(engine) as s:
            booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=at(TUESDAY, "09:30"),
                                 instructor_id=school["instructor"])
    assert refused.value.alternatives_wanted is None
    assert refused.value.details["suggested_alternatives"] == _alternatives_now(engine, school, at(TUESDAY, "09:30"))


# ── (4) the widget's and the manage page's states still show the alternatives ────────────────────────────────


def test_the_widget_state_shows_the_completed_alternatives(engine, short_tuesday, monkeypatch):
    from nexdrive.pages.booking.book_state import BookingWidgetState

    school, nine = short_tuesday, at(TUESDAY, "09:00")
    _taken_between_check_and_lock(monkeypatch, engine, school, nine)
    state = BookingWidgetState(_reflex_internal_init=True)
    state.service_id = str(school["service"])
    state.instructor_id = ""  # first available (the sole instructor)
    state.selected_start_at = nine.isoformat().replace("+00:00", "Z")
    state.details = {**{k: "" for k in state.details}, "name": "Wid Get", "phone": "0412000888",
                     "email": "widget.later@example.com", "pickup_address": "1 Later St", "suburb": "Belconnen"}
    asyncio.run(state._reserve())
    expected = _alternatives_now(engine, school, nine)
    assert state.step == 1 and "someone has just booked that time" in state.conflict
    assert state.alternatives == [{k: str(v) for k, v in a.items()} for a in expected]
    assert len(state.alternatives) == booking.ALTERNATIVES and not state.reservation_id


def test_the_manage_page_state_shows_the_completed_alternatives_of_a_refused_move(engine, short_tuesday):
    from nexdrive.pages.booking.manage import ManageBookingState

    school, nine = short_tuesday, at(TUESDAY, "09:00")
    booking_id, token = _confirmed_visitor_booking(engine, school, at(WEDNESDAY, "09:00"))
    _staff_books(engine, school, nine)
    state = ManageBookingState(_reflex_internal_init=True)
    state._token = token
    state.booking = {"id": str(booking_id), "service_id": str(school["service"])}

    async def move():
        return [event async for event in ManageBookingState.move_to.fn(state, nine.isoformat())]

    asyncio.run(move())
    expected = _alternatives_now(engine, school, nine, ignore_booking_id=booking_id)
    assert state.error and not state.busy
    assert state.alternatives == [{k: str(v) for k, v in a.items()} for a in expected]
    assert len(state.alternatives) == booking.ALTERNATIVES
    assert _count(engine, "SELECT reschedule_count FROM bookings WHERE id = :i", i=booking_id) == 0
