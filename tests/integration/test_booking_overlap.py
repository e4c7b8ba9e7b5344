"""The database makes double booking impossible (docs/decisions/0001-no-double-booking.md)."""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from nexdrive.db import session_scope
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.scheduling.booking import confirm_booking, overlapping_pairs, reserve_slot
from nexdrive.errors import HoldExpired, SlotUnavailable
from tests.factories import make_instructor, make_service
from tests.reference import reference_week

CANBERRA = ZoneInfo("Australia/Sydney")
# 9:00 in Canberra on a Tuesday a few weeks ahead (always in the future, whenever the suite runs).
_day = reference_week() + timedelta(days=1)
NINE_AM = datetime.combine(_day, time(9, 0), tzinfo=CANBERRA).astimezone(timezone.utc)


@pytest.fixture
def setup(engine):
    with session_scope(engine) as s:
        instructor = make_instructor(s, buffer_minutes=15)
        service = make_service(s, minutes=60)
        return instructor.id, service.id


def _reserve(engine, instructor_id, service_id, start):
    with session_scope(engine) as s:
        # The school's own booking path: any free time (these tests are about the database's refusal).
        return reserve_slot(s, SYSTEM, instructor_id=instructor_id, service_id=service_id, start_time=start).id


def test_200_concurrent_overlapping_reservations_leave_exactly_one(engine, setup):
    instructor_id, service_id = setup
    rng = random.Random(7)
    # Every start lies within 59 minutes of 9:00, so each pair of 60-minute lessons overlaps.
    starts = [NINE_AM + timedelta(minutes=rng.randint(0, 59)) for _ in range(200)]
    barrier = threading.Barrier(25)

    def attempt(start):
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        try:
            return _reserve(engine, instructor_id, service_id, start)
        except SlotUnavailable:
            return None

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(attempt, starts))

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    with session_scope(engine) as s:
        live = s.execute(sa.text("SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')")).scalar()
        assert live == 1
        assert s.execute(sa.text("SELECT count(*) FROM bookings")).scalar() == 1  # losers left nothing behind
        assert overlapping_pairs(s, instructor_id) == 0


def test_the_buffer_after_a_lesson_counts(engine, setup):
    instructor_id, service_id = setup
    _reserve(engine, instructor_id, service_id, NINE_AM)  # 9:00-10:00, blocked until 10:15
    with pytest.raises(SlotUnavailable):
        _reserve(engine, instructor_id, service_id, NINE_AM + timedelta(minutes=60))
    with pytest.raises(SlotUnavailable):
        _reserve(engine, instructor_id, service_id, NINE_AM + timedelta(minutes=74))
    # A lesson ending at 8:45 is blocked until 9:00: it just fits before.
    _reserve(engine, instructor_id, service_id, NINE_AM - timedelta(minutes=75))
    _reserve(engine, instructor_id, service_id, NINE_AM + timedelta(minutes=75))
    with session_scope(engine) as s:
        assert overlapping_pairs(s, instructor_id) == 0


def test_cancelled_bookings_and_expired_holds_do_not_block(engine, setup):
    instructor_id, service_id = setup
    first = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET status='cancelled' WHERE id=:i"), {"i": first})
    second = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id=:i"),
                  {"i": second})
    third = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        statuses = dict(s.execute(sa.text("SELECT id, status FROM bookings")).all())
    assert statuses == {first: "cancelled", second: "expired", third: "held"}


def test_other_instructors_are_independent(engine, setup):
    instructor_id, service_id = setup
    with session_scope(engine) as s:
        other = make_instructor(s).id
    _reserve(engine, instructor_id, service_id, NINE_AM)
    _reserve(engine, other, service_id, NINE_AM)


def test_the_database_itself_refuses_an_overlap_written_around_the_service(engine, setup):
    instructor_id, service_id = setup
    _reserve(engine, instructor_id, service_id, NINE_AM)
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        with session_scope(engine) as s:
            s.execute(sa.text(
                "INSERT INTO bookings (instructor_id, service_id, scheduled_date, start_time, end_time, "
                "duration_minutes, buffer_minutes, blocked_until, status) VALUES "
                "(:i, :s, :d, :st, :et, 30, 0, :et, 'confirmed')"),
                {"i": instructor_id, "s": service_id, "d": _day, "st": NINE_AM + timedelta(minutes=30),
                 "et": NINE_AM + timedelta(minutes=60)})


def test_blocked_until_is_computed_by_the_database(engine, setup):
    instructor_id, service_id = setup
    booking_id = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        # A caller that lies about blocked_until is corrected by the trigger.
        s.execute(sa.text("UPDATE bookings SET blocked_until = end_time WHERE id=:i"), {"i": booking_id})
        row = s.execute(sa.text("SELECT end_time, blocked_until FROM bookings WHERE id=:i"), {"i": booking_id}).one()
    assert row.blocked_until - row.end_time == timedelta(minutes=15)


def test_confirm_is_a_compare_and_swap_and_replays_change_nothing(engine, setup):
    instructor_id, service_id = setup
    booking_id = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        assert confirm_booking(s, SYSTEM, booking_id).status == "confirmed"
    with session_scope(engine) as s:
        before = s.execute(sa.text("SELECT updated_at FROM bookings WHERE id=:i"), {"i": booking_id}).scalar()
        assert confirm_booking(s, SYSTEM, booking_id).status == "confirmed"
    with session_scope(engine) as s:
        after = s.execute(sa.text("SELECT updated_at FROM bookings WHERE id=:i"), {"i": booking_id}).scalar()
    assert before == after


def test_a_lapsed_hold_cannot_be_confirmed(engine, setup):
    instructor_id, service_id = setup
    booking_id = _reserve(engine, instructor_id, service_id, NINE_AM)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id=:i"),
                  {"i": booking_id})
    with pytest.raises(HoldExpired):
        with session_scope(engine) as s:
            confirm_booking(s, SYSTEM, booking_id)
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT status FROM bookings WHERE id=:i"), {"i": booking_id}).scalar() == "held"
