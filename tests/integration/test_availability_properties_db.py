"""What find_slots offers is exactly what reserve_slot accepts, against the real database.

Hypothesis builds a random instructor (weekly hours, one-off blocks/openings,
buffer, daily limit) and random existing lessons booked by the school (SYSTEM
may book any free time), then checks, for that week:

* no offered slot (plus its buffer) overlaps a live booking in the database;
* offered slots sampled at random can be reserved by a visitor (each in its own
  transaction, rolled back) — and the hold blocks exactly [start, end + buffer);
* times that are not offered (an occupied start, random other times) are
  refused with SlotUnavailable;
* the database never holds two overlapping live bookings.

Hypothesis and function-scoped fixtures don't mix, so the @given function lives
inside the test and each example makes its own instructor in the shared
per-test database.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlmodel import Session

from nexdrive.db import session_scope
from nexdrive.models import AvailabilityOverride, AvailabilityRule, Service
from nexdrive.services.scheduling import booking
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.scheduling.availability import dow
from nexdrive.errors import SlotUnavailable, ValidationFailed
from tests.booking_helpers import CANBERRA, weekday_ahead
from tests.reference import today
from tests.factories import make_instructor, make_service

UTC = timezone.utc
DAYS = 7

EXAMPLES = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _t(minute: int) -> time:
    return time(minute // 60, minute % 60)


rule_st = st.tuples(
    st.integers(0, 6),  # stored day of week, 0 = Sunday
    st.integers(12, 34),  # start, half-hours after midnight (06:00-17:00)
    st.integers(2, 16),  # length in half-hours
)
override_st = st.tuples(
    st.integers(0, DAYS - 1),
    st.sampled_from(["blocked", "available"]),
    st.none() | st.tuples(st.integers(14, 36), st.integers(1, 8)),  # None = the whole day
)
existing_st = st.tuples(
    st.integers(0, DAYS - 1),  # day
    st.integers(6 * 12, 20 * 12),  # start, 5-minute steps after midnight
    st.integers(2, 8),  # length in quarter-hours
    st.booleans(),  # confirm it (else it stays a live hold)
)
calendar_st = st.fixed_dictionaries({
    "buffer": st.integers(0, 45),
    "duration": st.integers(6, 30).map(lambda n: n * 5),
    "max_per_day": st.integers(1, 8),
    "rules": st.lists(rule_st, min_size=1, max_size=8),
    "overrides": st.lists(override_st, max_size=3),
    "existing": st.lists(existing_st, max_size=10),
})


def _instant(day: date, minute: int) -> datetime:
    return datetime.combine(day, _t(minute), tzinfo=CANBERRA).astimezone(UTC)


def _live(s: Session, instructor_id) -> list[tuple[datetime, datetime]]:
    return [tuple(r) for r in s.execute(sa.text(
        "SELECT start_time, blocked_until FROM bookings WHERE instructor_id = :i AND "
        "(status = 'confirmed' OR (status = 'held' AND hold_expires_at > now()))"), {"i": instructor_id})]


def _try_reserve(engine, actor, service_id, instructor_id, start: datetime, *, keep: bool = False):
    """Reserve in a transaction of its own; roll it back unless keep. Returns the hold's (start, blocked_until)."""
    with Session(engine, expire_on_commit=False) as s:
        try:
            held = booking.reserve_slot(s, actor, service_id=service_id, start_time=start, instructor_id=instructor_id)
            span = (held.start_time, held.blocked_until, held.id)
            if keep:
                s.commit()
            return span
        finally:
            if s.in_transaction():
                s.rollback()


def test_offered_slots_are_exactly_the_reservable_ones(engine):
    first = weekday_ahead(0, weeks=2)  # a Monday at least two weeks out: clear of notice, inside the horizon
    days = [first + timedelta(days=i) for i in range(DAYS)]
    last = days[-1]

    @EXAMPLES
    @given(cal=calendar_st, data=st.data())
    def check(cal, data):
        with session_scope(engine) as s:
            instructor = make_instructor(s, buffer_minutes=cal["buffer"])
            instructor.max_lessons_per_day = cal["max_per_day"]
            s.add(instructor)
            for d, start, length in cal["rules"]:
                s.add(AvailabilityRule(instructor_id=instructor.id, day_of_week=d, start_time=_t(start * 30),
                                       end_time=_t(min(start + length, 44) * 30), effective_from=first))
            for i, kind, part in cal["overrides"]:
                s_t = e_t = None
                if part is not None:
                    s_t, e_t = _t(part[0] * 30), _t((part[0] + part[1]) * 30)
                s.add(AvailabilityOverride(instructor_id=instructor.id, date=days[i], override_type=kind,
                                           start_time=s_t, end_time=e_t))
            service = make_service(s, minutes=cal["duration"])
            others = {q: make_service(s, minutes=q * 15) for q in {e[2] for e in cal["existing"]}}
            iid, sid = instructor.id, service.id
        # The school books lessons of other lengths at any free time; overlapping requests are refused.
        for i, minute, quarters, confirm in cal["existing"]:
            try:
                with session_scope(engine) as s:
                    held = booking.reserve_slot(s, SYSTEM, service_id=others[quarters].id,
                                                start_time=_instant(days[i], minute * 5), instructor_id=iid)
                    if confirm:
                        booking.confirm_booking(s, SYSTEM, held.id)
            except SlotUnavailable:
                pass

        with session_scope(engine) as s:
            svc = s.get(Service, sid)
            slots = booking.find_slots(s, service=svc, date_from=first, date_to=last, instructor_id=iid)
            live = _live(s, iid)
            counts = dict(s.execute(sa.text(
                "SELECT scheduled_date, count(*) FROM bookings WHERE instructor_id = :i AND status IN "
                "('held','confirmed') GROUP BY 1"), {"i": iid}).all())
            assert booking.overlapping_pairs(s, iid) == 0
        note(f"{len(live)} live bookings, {len(slots)} slots offered")
        buffer = timedelta(minutes=cal["buffer"])
        duration = timedelta(minutes=cal["duration"])
        offered = {sl.start for sl in slots}
        assert len(offered) == len(slots)
        for sl in slots:
            local = sl.local_start
            assert sl.end - sl.start == duration
            assert first <= local.date() <= last
            assert counts.get(local.date(), 0) < cal["max_per_day"], f"{local}: the day is already full"
            clash = [(a, b) for a, b in live if a < sl.end + buffer and sl.start < b]
            assert not clash, f"{local} overlaps live bookings {clash}"
            assert any(r[0] == dow(local.date()) for r in cal["rules"]) or any(
                o[1] == "available" and days[o[0]] == local.date() for o in cal["overrides"])

        # Offered slots can be taken by a visitor, and the hold blocks exactly [start, end + buffer).
        if slots:
            picks = data.draw(st.lists(st.sampled_from(slots), max_size=4, unique=True), label="reserve")
            for sl in picks:
                start, blocked_until, _ = _try_reserve(engine, VISITOR, sid, iid, sl.start)
                assert (start, blocked_until) == (sl.start, sl.end + buffer)

        # Times not offered are refused: occupied starts, and random other times in the week.
        occupied = [a for a, _ in live if first <= a.astimezone(CANBERRA).date() <= last]
        others_t = data.draw(st.lists(st.tuples(st.integers(0, DAYS - 1), st.integers(5 * 12, 22 * 12)),
                                      max_size=4), label="refuse")
        candidates = occupied[:2] + [_instant(days[i], m * 5) for i, m in others_t]
        for start in candidates:
            if start in offered:
                continue
            with pytest.raises(SlotUnavailable):
                _try_reserve(engine, VISITOR, sid, iid, start)

        # One offered slot taken for real closes it (and whatever its buffer touches) for the next visitor.
        if slots:
            sl = data.draw(st.sampled_from(slots), label="keep")
            _try_reserve(engine, VISITOR, sid, iid, sl.start, keep=True)
            with session_scope(engine) as s:
                after = booking.find_slots(s, service=s.get(Service, sid), date_from=first, date_to=last,
                                           instructor_id=iid)
                assert booking.overlapping_pairs(s, iid) == 0
            assert sl.start not in {a.start for a in after}
            assert {a.start for a in after} <= offered
            with pytest.raises(SlotUnavailable):
                _try_reserve(engine, VISITOR, sid, iid, sl.start)

    check()


def _next_first_sunday(month: int) -> date:
    soon = today() + timedelta(days=3)
    for year in (soon.year, soon.year + 1):
        d = date(year, month, 1)
        d += timedelta(days=(6 - d.weekday()) % 7)
        if d > soon:
            return d
    raise AssertionError("unreachable")


def test_daylight_saving_days_through_the_database(engine):
    """The change days end to end: what find_slots offers at 01:00-04:00 is what a visitor can hold."""
    spring, autumn = _next_first_sunday(10), _next_first_sunday(4)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = 800 WHERE id = 1"))
        instructor = make_instructor(s, buffer_minutes=0)
        s.add(AvailabilityRule(instructor_id=instructor.id, day_of_week=0, start_time=time(1), end_time=time(4),
                               effective_from=today()))
        service = make_service(s, minutes=60)
        iid, sid = instructor.id, service.id
    with session_scope(engine) as s:
        svc = s.get(Service, sid)
        on = {d: booking.find_slots(s, service=svc, date_from=d, date_to=d, instructor_id=iid)
              for d in (spring, autumn)}
    assert [sl.local_start.strftime("%H:%M") for sl in on[spring]] == ["01:00", "01:30", "03:00"]
    assert [sl.local_start.strftime("%H:%M") for sl in on[autumn]] == ["01:00", "01:30", "02:00", "02:30", "03:00"]
    # "02:00" on the autumn day is its first occurrence (+11:00), and the hold lasts 60 real minutes.
    two = booking.local_start(autumn, "02:00")
    assert two.astimezone(CANBERRA).utcoffset() == timedelta(hours=11) and two in {sl.start for sl in on[autumn]}
    start, blocked_until, _ = _try_reserve(engine, VISITOR, sid, iid, two)
    assert blocked_until - start == timedelta(minutes=60)
    # Every offered slot on both days can be held; 02:00 on the spring day does not exist.
    for sl in on[spring] + on[autumn]:
        _try_reserve(engine, VISITOR, sid, iid, sl.start)
    with pytest.raises(ValidationFailed):
        booking.local_start(spring, "02:30")
    # The second 02:00 of the autumn day (+10:00) is not offered, so it is refused.
    second_two = datetime.combine(autumn, time(2), tzinfo=timezone(timedelta(hours=10))).astimezone(UTC)
    with pytest.raises(SlotUnavailable):
        _try_reserve(engine, VISITOR, sid, iid, second_two)
    # A 01:30 lesson held on the spring day blocks until 03:30 (60 real minutes across the jump).
    half_one = booking.local_start(spring, "01:30")
    start, blocked_until, _ = _try_reserve(engine, VISITOR, sid, iid, half_one, keep=True)
    assert blocked_until.astimezone(CANBERRA).strftime("%H:%M") == "03:30"
    with session_scope(engine) as s:
        left = booking.find_slots(s, service=s.get(Service, sid), date_from=spring, date_to=spring, instructor_id=iid)
        scheduled = s.execute(sa.text("SELECT scheduled_date FROM bookings WHERE instructor_id = :i"),
                              {"i": iid}).scalar()
    assert scheduled == spring
    assert [sl.local_start.strftime("%H:%M") for sl in left] == []  # 01:00 would run into it; 03:00 overlaps
