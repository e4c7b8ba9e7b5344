"""Less CPU per booking (issue 17, fourth round, continued): the slot rules' inputs in one statement, a refusal's
alternatives without a second calendar read when the day has enough, and the statements each step sends."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import SlotUnavailable
from nexdrive.models import Service
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, sole_open_instructor, statements_of, weekday_ahead

TUESDAY = weekday_ahead(1)


def details(n: int) -> dict:
    return dict(name=f"Cy Cpu{n}", phone=f"04{22340000 + n:08d}", email=f"cpu{n}@example.com",
                pickup_address="1 Cpu St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    return sole_open_instructor(engine)


def _book(engine, school, start, n=0):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=start,
                                instructor_id=school["instructor"], **details(n))
        return r.booking.id, r.manage_token



def _alternatives_now(engine, school, start):
    with session_scope(engine) as s:
        return booking.nearest_alternatives(s, s.get(Service, school["service"]), start,
                                            instructor_id=school["instructor"])


@pytest.mark.parametrize("pinned", [False, True])
def test_a_holiday_in_the_owners_table_is_kept_by_the_one_statement_read(engine, school, pinned):
    with session_scope(engine) as s:
        s.execute(sa.text("INSERT INTO public_holidays (id, date, name, jurisdiction) "
                          "VALUES (gen_random_uuid(), :d, 'School picnic', 'ACT')"), {"d": TUESDAY})
    with clock.pinned(at(TUESDAY - timedelta(days=7), "09:00")) if pinned else nullcontext():
        with pytest.raises(SlotUnavailable):
            _book(engine, school, at(TUESDAY, "09:00"))
        booking_id, _ = _book(engine, school, at(TUESDAY + timedelta(days=1), "09:00"))
    assert booking_id is not None


def test_a_refusal_with_enough_free_times_that_day_offers_the_same_alternatives_in_fewerstatements_of(engine, school):
    nine = at(TUESDAY, "09:00")
    _book(engine, school, nine, 1)
    expected = _alternatives_now(engine, school, nine)
    assert len(expected) == booking.ALTERNATIVES and all(a["date"] == TUESDAY.isoformat() for a in expected)
    refused = []

    def attempt():
        with pytest.raises(SlotUnavailable) as e:
            _book(engine, school, nine, 2)
        refused.append(e.value)

    sent = statements_of(engine, attempt)
    assert refused[0].details["suggested_alternatives"] == expected
    # The lesson type, the instructor and the rules' inputs in one, the day's calendar: no second read, no lock,
    # nothing written.
    assert len(sent) <= 3, sent
    assert not any("reserve_lock" in q or q.lstrip().upper().startswith("INSERT") for q in sent)


def test_a_refusal_on_a_full_day_searches_the_fortnight_as_before(engine, school):
    with session_scope(engine) as s:  # Tuesday: only 09:00-10:00 is worked
        s.execute(sa.text("INSERT INTO availability_overrides (id, instructor_id, date, start_time, end_time, "
                          "override_type, reason) VALUES (gen_random_uuid(), :i, :d, '10:00', '18:00', 'blocked', "
                          "'test'), (gen_random_uuid(), :i, :d, '08:00', '09:00', 'blocked', 'test')"),
                  {"i": school["instructor"], "d": TUESDAY})
    nine = at(TUESDAY, "09:00")
    _book(engine, school, nine, 1)
    expected = _alternatives_now(engine, school, nine)
    assert len(expected) == booking.ALTERNATIVES and all(a["date"] != TUESDAY.isoformat() for a in expected)
    with pytest.raises(SlotUnavailable) as refused:
        _book(engine, school, nine, 2)
    assert refused.value.details["suggested_alternatives"] == expected


def test_statements_per_reserve_and_confirm(engine, school):
    held = []
    sent = statements_of(engine, lambda: held.append(_book(engine, school, at(TUESDAY, "11:00"), 3)))
    # settings + prefetch, the calendar, reserve_lock + the person's locks, the contact (one statement since the
    # sixth round: test_contact_one_statement.py), the booking, the audit record
    assert len(sent) <= 6, sent

    def confirm():
        with session_scope(engine) as s:
            booking.confirm_booking(s, VISITOR, held[0][0], manage_token=held[0][1])

    sent = statements_of(engine, confirm)
    assert len(sent) <= 6, sent
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM notifications WHERE notification_type = 'booking_new' "
                                 "AND related_id = :b"), {"b": held[0][0]}).scalar() >= 1
