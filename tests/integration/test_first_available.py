""""First available" (no instructor asked for) falls through to the next instructor free at that time
instead of refusing when the first one is taken while the reservation waits (issue 17)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.db import session_scope
from nexdrive.errors import SlotUnavailable
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.scheduling import booking
from tests.booking_helpers import CALENDAR_READ, at, open_instructor, statements_sent, weekday_ahead

TUESDAY = weekday_ahead(1)
TEN = at(TUESDAY, "10:00")


def details(n: int) -> dict:
    return dict(name=f"Fay Free{n}", phone=f"04{22330000 + n:08d}", email=f"free{n}@example.com",
                pickup_address="2 Any St", suburb="Belconnen")


@pytest.fixture
def three(engine):
    """Three open instructors teaching the same lesson, the school's only active ones, in the chooser's order."""
    with session_scope(engine) as s:
        first, service = open_instructor(s)
        others = [open_instructor(s)[0] for _ in range(2)]
        ids = [first.id] + [o.id for o in others]
        s.execute(sa.text("UPDATE instructors SET status = 'inactive' WHERE NOT (id = ANY(:ids))"), {"ids": ids})
        ordered = sorted(ids, key=lambda i: i.int)  # "first available" takes the free instructors in this order
        keys = {i: s.execute(sa.text("SELECT lock_key FROM instructors WHERE id = :i"), {"i": i}).scalar()
                for i in ids}
    return {"service": service.id, "order": ordered, "keys": keys}


def _book_any(engine, three, n):
    with session_scope(engine) as s:
        return booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=TEN, **details(n)
                                   ).booking.instructor_id


def _waiting_for_a_lock(engine, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as c:
        while time.monotonic() < deadline:
            if c.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                         ).scalar():
                return
            c.rollback()
            time.sleep(0.02)
    raise AssertionError("the reservation never waited for the instructor's lock")


def test_the_time_taken_while_waiting_goes_to_the_next_free_instructor(engine, three):
    first, second, _ = three["order"]
    with Session(engine) as holder:  # someone books the first instructor at ten and has not committed yet
        taken = booking.book_lesson(holder, VISITOR, service_id=three["service"], start_time=TEN,
                                    instructor_id=first, **details(1))
        assert taken.booking.instructor_id == first
        with ThreadPoolExecutor(1) as pool:
            later = pool.submit(_book_any, engine, three, 2)  # sees the first free (uncommitted), waits for its lock
            _waiting_for_a_lock(engine)
            holder.commit()
            assert later.result(timeout=30) == second  # not refused: the next instructor free at ten


def test_a_busy_next_instructor_is_passed_over_not_waited_for(engine, three):
    first, second, third = three["order"]
    with Session(engine) as holder, engine.connect() as busy:
        booking.book_lesson(holder, VISITOR, service_id=three["service"], start_time=TEN, instructor_id=first,
                            **details(1))
        busy.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": three["keys"][second]})  # held, not released
        with ThreadPoolExecutor(1) as pool:
            later = pool.submit(_book_any, engine, three, 2)
            _waiting_for_a_lock(engine)
            holder.commit()
            assert later.result(timeout=30) == third  # the second's lock was busy: tried, not waited for
        busy.rollback()


def test_concurrent_first_available_bookings_fill_every_instructor_then_refuse(engine, three):
    barrier = threading.Barrier(3)

    def client(n):
        barrier.wait(timeout=10)
        return _book_any(engine, three, n)

    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(client, range(3)))
    assert sorted(got, key=lambda i: i.int) == three["order"]  # one each, nobody refused
    with pytest.raises(SlotUnavailable) as refused:
        _book_any(engine, three, 9)
    assert refused.value.details["suggested_alternatives"]  # the nearest other times, as before
    with session_scope(engine) as s:
        assert all(booking.overlapping_pairs(s, i) == 0 for i in three["order"])
        assert s.execute(sa.text("SELECT count(*) FROM bookings WHERE status = 'held'")).scalar() == 3


def test_a_named_instructor_is_never_swapped_for_another(engine, three):
    first = three["order"][0]
    _book_any(engine, three, 1)  # the first instructor, at ten
    with pytest.raises(SlotUnavailable), session_scope(engine) as s:
        booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=TEN, instructor_id=first,
                            **details(2))


def test_the_chooser_s_current_copy_is_the_check_before_the_lock(engine, three):
    """With the instructors' kept copies current, "first available" reads no calendar of its own: the chooser's
    copy of the day is the check before the lock (what was read with it is compared after the lock)."""
    eleven = at(TUESDAY, "11:00")
    with session_scope(engine) as s:  # warm the copies of that day
        booking.find_slots(s, service=booking._service(s, three["service"]), date_from=TUESDAY, date_to=TUESDAY)
    with statements_sent(engine, CALENDAR_READ) as reads:
        with session_scope(engine) as s:
            first = booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=eleven, **details(40))
        assert reads == [] and first.booking.instructor_id == three["order"][0]
        # The copy is older than this booking now (the same day): read again, and the time goes to the next one.
        with session_scope(engine) as s:
            second = booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=eleven, **details(41))
        assert len(reads) == 1 and second.booking.instructor_id == three["order"][1]



def test_a_time_no_one_is_free_at_is_refused_from_the_copies(engine, three):
    """Every instructor booked at a time: "first available" refuses it, with the nearest free times, from the
    instructors' current copies (no calendar read of its own) and writes nothing."""
    two = at(TUESDAY, "14:00")
    for n in range(3):
        with session_scope(engine) as s:
            booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=two, **details(60 + n))
    with session_scope(engine) as s:  # warm the copies of that day and the fortnight around it
        service = booking._service(s, three["service"])
        booking.find_slots(s, service=service, date_from=TUESDAY, date_to=TUESDAY)
        booking.nearest_alternatives(s, service, two, instructor_id=three["order"][0])
    with statements_sent(engine, CALENDAR_READ) as reads:
        with pytest.raises(SlotUnavailable) as refused, session_scope(engine) as s:
            booking.book_lesson(s, VISITOR, service_id=three["service"], start_time=two, **details(70))
    assert reads == []
    near = refused.value.details["suggested_alternatives"]
    assert near and all(a["start_at"] != two.isoformat().replace("+00:00", "Z") for a in near)
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM bookings WHERE start_time = :t"), {"t": two}).scalar() == 3
