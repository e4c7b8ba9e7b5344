"""The lean write path (issue 17, fourth round): the check before the lock, ``reserve_lock`` (migration 0024),
refusals without the lock, and audit records appended at the commit."""
from __future__ import annotations


import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import SlotUnavailable
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.scheduling import availability, booking
from tests.booking_helpers import (at, reserve_and_confirm_concurrently, second_instructor, sole_open_instructor,
                                   weekday_ahead)

TUESDAY = weekday_ahead(1)
WEDNESDAY = weekday_ahead(2)


def details(n: int) -> dict:
    return dict(name=f"Lee Lean{n}", phone=f"04{12340000 + n:08d}", email=f"lean{n}@example.com",
                pickup_address="1 Lean St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    return sole_open_instructor(engine)


def _book(engine, school, start, n=0, instructor=None):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=start,
                                instructor_id=instructor or school["instructor"], **details(n))
        return r.booking.id, r.manage_token


def _count(engine, sql, **params):
    with session_scope(engine) as s:
        return s.execute(sa.text(sql), params).scalar()


def _commit_between_check_and_lock(monkeypatch, engine, action):
    """Run ``action`` (in its own, committed transaction) right after a reservation's check before the lock."""
    original = availability.calendar_for_check
    done = []

    def check_then_change(session, instructor_id, day):
        checked = original(session, instructor_id, day)
        if not done:
            done.append(True)
            action()
        return checked

    monkeypatch.setattr(availability, "calendar_for_check", check_then_change)


def test_a_booking_committed_between_the_check_and_the_lock_is_caught(engine, school, monkeypatch):
    nine = at(TUESDAY, "09:00")

    def staff_takes_it():
        with session_scope(engine) as s:
            booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=nine,
                                 instructor_id=school["instructor"])

    _commit_between_check_and_lock(monkeypatch, engine, staff_takes_it)
    with pytest.raises(SlotUnavailable) as refused:
        _book(engine, school, nine)
    # The locked re-check refused it (with alternatives), not the exclusion constraint (which offers none).
    assert refused.value.details["suggested_alternatives"]
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')") == 1
    assert _count(engine, "SELECT count(*) FROM contacts WHERE email = 'lean0@example.com'") == 0


def test_the_daily_limit_holds_when_another_lesson_that_day_commits_between_the_check_and_the_lock(
        engine, school, monkeypatch):
    # The exclusion constraint can't see a daily limit: only the re-check can. Another time the same day
    # committed after the check must make this reservation re-read the calendar under the lock.
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET max_lessons_per_day = 1 WHERE id = :i"), {"i": school["instructor"]})

    def another_lesson_that_day():
        with session_scope(engine) as s:
            booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=at(TUESDAY, "14:00"),
                                 instructor_id=school["instructor"])

    _commit_between_check_and_lock(monkeypatch, engine, another_lesson_that_day)
    with pytest.raises(SlotUnavailable):
        _book(engine, school, at(TUESDAY, "09:00"))
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed') "
                          "AND scheduled_date = :d", d=TUESDAY) == 1


def test_an_unchanged_calendar_is_not_read_again_under_the_lock(engine, school):
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        sent.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        _book(engine, school, at(TUESDAY, "10:00"))
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    locked = next(i for i, q in enumerate(sent) if "reserve_lock" in q)
    calendar_reads = [i for i, q in enumerate(sent) if q.startswith("WITH inst AS MATERIALIZED")]
    assert calendar_reads and all(i < locked for i in calendar_reads)  # read once, before the lock
    assert not any(q.startswith("UPDATE bookings SET status = 'expired'") for q in sent)  # reserve_lock did it


def test_reserve_lock_reads_after_the_lock_and_releases_lapsed_holds(engine, school):
    day_bounds = dict(lo=at(TUESDAY, "00:00"), hi=at(TUESDAY, "23:59"), lo_start=at(TUESDAY, "00:00").replace(
        year=TUESDAY.year - 1))
    lapsed, _ = _book(engine, school, at(TUESDAY, "08:00"), n=1)
    live, _ = _book(engine, school, at(TUESDAY, "11:00"), n=2)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = :b"),
                  {"b": lapsed})
        key = s.execute(sa.text("SELECT lock_key FROM instructors WHERE id = :i"), {"i": school["instructor"]}).scalar()
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT * FROM reserve_lock(:k, :i, :lo, :hi, :lo_start)"),
                        {"k": key, "i": school["instructor"], **day_bounds}).one()
        assert row.live == 1  # the live hold; the lapsed one no longer counts
        assert row.version > 0  # the bookings above changed the calendar
        # The lock is this transaction's now: another transaction can't take it.
        other = s.get_bind().connect()
        try:
            assert other.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar() is False
        finally:
            other.rollback()
            other.close()
    assert _count(engine, "SELECT status FROM bookings WHERE id = :b", b=lapsed) == "expired"
    assert _count(engine, "SELECT status FROM bookings WHERE id = :b", b=live) == "held"


def test_a_time_refused_before_the_lock_writes_nothing_and_takes_no_lock(engine, school):
    _book(engine, school, at(TUESDAY, "09:00"), n=1)
    before = {t: _count(engine, f"SELECT count(*) FROM {t}") for t in ("contacts", "bookings", "audit_log")}
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        with pytest.raises(SlotUnavailable) as refused:
            _book(engine, school, at(TUESDAY, "09:30"), n=2)  # overlaps the 9:00 lesson
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    assert "just been taken" in refused.value.message and refused.value.details["suggested_alternatives"]
    assert not any("advisory" in q or "reserve_lock" in q for q in sent)
    assert {t: _count(engine, f"SELECT count(*) FROM {t}") for t in before} == before


def test_a_retry_by_the_same_caller_still_gets_its_hold_back(engine, school):
    # The time looks taken before the lock: by this caller's own hold. The idempotency key sends it the locked
    # way, where the retry is recognised.
    nine = at(TUESDAY, "09:00")
    with session_scope(engine) as s:
        first = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=nine,
                                    idempotency_key="lean-retry-key-0001", **details(3))
    with session_scope(engine) as s:
        again = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=nine,
                                    idempotency_key="lean-retry-key-0001", **details(3))
    assert again.booking.id == first.booking.id and again.manage_token == first.manage_token


def test_audit_records_appended_at_the_commit_are_seen_in_the_transaction_and_dropped_on_rollback(engine):
    with session_scope(engine) as s:
        audit.append_at_commit(s, SYSTEM, "test.late", details={"n": 1})
        # A read in the same transaction sees it (it is written before the session's next statement).
        assert s.execute(sa.text("SELECT count(*) FROM audit_log WHERE event_type = 'test.late'")).scalar() == 1
        audit.append_at_commit(s, SYSTEM, "test.late", details={"n": 2})
        audit.append_at_commit(s, SYSTEM, "test.late", details={"n": 3})
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            audit.append_at_commit(s, SYSTEM, "test.late", details={"n": 4})
            raise RuntimeError("rolled back")
    with session_scope(engine) as s:
        assert sorted(s.execute(sa.text("SELECT (details->>'n')::int FROM audit_log WHERE event_type = 'test.late'"))
                      .scalars()) == [1, 2, 3]
        report = audit.verify_chain(s, "audit_log", "audit_log")
        assert report.ok, report


def test_audit_records_kept_in_a_rolled_back_savepoint_or_an_ended_transaction_are_dropped(engine):
    from sqlmodel import Session
    with session_scope(engine) as s:
        audit.append_at_commit(s, SYSTEM, "test.kept", details={"n": 1})
        savepoint = s.begin_nested()
        audit.append_at_commit(s, SYSTEM, "test.kept", details={"n": 2})
        savepoint.rollback()
    with Session(engine) as s:  # one session, two transactions: the first rolled back without a statement after
        s.connection()
        audit.append_at_commit(s, SYSTEM, "test.kept", details={"n": 3})
        s.rollback()
        s.execute(sa.text("SELECT 1"))
        s.commit()
    with session_scope(engine) as s:
        assert list(s.execute(sa.text("SELECT (details->>'n')::int FROM audit_log WHERE event_type = 'test.kept'"))
                    .scalars()) == [1]


def test_the_audit_chain_verifies_after_concurrent_bookings_on_two_instructors(engine, school):
    second_id = second_instructor(engine, school)
    starts = [(at(day, f"{h:02d}:00"), iid) for day in (TUESDAY, WEDNESDAY) for h in range(8, 17, 2)
              for iid in (school["instructor"], second_id)]
    ids = reserve_and_confirm_concurrently(engine, school, starts)
    assert len(set(ids)) == len(starts)
    with session_scope(engine) as s:
        events = s.execute(sa.text("SELECT event_type, count(*) FROM audit_log WHERE subject_id = ANY(:ids) "
                                   "GROUP BY event_type"), {"ids": ids}).all()
        assert dict(events) == {"booking.reserved": len(starts), "booking.confirmed": len(starts)}
        report = audit.verify_chain(s, "audit_log", "audit_log")
        assert report.ok and report.checked >= 2 * len(starts), report
        assert booking.overlapping_pairs(s, school["instructor"]) == 0
        assert booking.overlapping_pairs(s, second_id) == 0
        # Every confirmation's messages (an SMS and an email, one INSERT) are there, once.
        assert s.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE booking_id = ANY(:ids)"),
                         {"ids": ids}).scalar() == 2 * len(starts)


# ── Sixth round: the bookings as they stand come back with the lock (reserve_lock_fresh, migration 0025) ──

def _statements_after_the_lock(engine, school, start, n=0):
    """Book and return (outcome, the statements sent from the lock on)."""
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        sent.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        try:
            outcome = _book(engine, school, start, n=n)
        except SlotUnavailable as refused:
            outcome = refused
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    locked = next(i for i, q in enumerate(sent) if "reserve_lock" in q)
    return outcome, sent[locked:]


def _calendar_reads(statements):
    return [q for q in statements if q.startswith("WITH inst AS MATERIALIZED")]


def test_bookings_changed_while_waiting_for_the_lock_are_not_read_again(engine, school, monkeypatch):
    def someone_books_the_afternoon():
        with session_scope(engine) as s:
            booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=at(TUESDAY, "15:00"),
                                 instructor_id=school["instructor"])

    _commit_between_check_and_lock(monkeypatch, engine, someone_books_the_afternoon)
    outcome, after_lock = _statements_after_the_lock(engine, school, at(TUESDAY, "09:00"))
    assert not isinstance(outcome, SlotUnavailable)
    assert _calendar_reads(after_lock) == []  # the lock's own statement brought the bookings back
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')") == 2


def test_a_time_taken_while_waiting_is_refused_from_the_bookings_the_lock_brought(engine, school, monkeypatch):
    nine = at(TUESDAY, "09:00")

    def someone_takes_nine():
        with session_scope(engine) as s:
            booking.reserve_slot(s, SYSTEM, service_id=school["service"], start_time=nine,
                                 instructor_id=school["instructor"])

    _commit_between_check_and_lock(monkeypatch, engine, someone_takes_nine)
    outcome, after_lock = _statements_after_the_lock(engine, school, nine)
    assert isinstance(outcome, SlotUnavailable)
    assert "just been taken" in str(outcome)
    assert outcome.details["suggested_alternatives"]  # the day's other times, from the same calendar
    assert _calendar_reads(after_lock) == []
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')") == 1


def test_rules_changed_while_waiting_for_the_lock_are_read_again(engine, school, monkeypatch):
    nine = at(TUESDAY, "09:00")

    def the_morning_is_blocked():
        with session_scope(engine) as s:
            s.execute(sa.text("INSERT INTO availability_overrides (id, instructor_id, date, start_time, end_time, "
                              "override_type, reason) VALUES (gen_random_uuid(), :i, :d, '08:00', '12:00', "
                              "'blocked', 'dentist')"), {"i": school["instructor"], "d": TUESDAY})

    _commit_between_check_and_lock(monkeypatch, engine, the_morning_is_blocked)
    outcome, after_lock = _statements_after_the_lock(engine, school, nine)
    assert isinstance(outcome, SlotUnavailable)
    assert _calendar_reads(after_lock)  # the rules' version moved: the whole calendar is read again
    assert _count(engine, "SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')") == 0


def test_the_rules_version_moves_with_rules_overrides_and_limits_not_with_bookings(engine, school):
    def versions():
        with session_scope(engine) as s:
            return tuple(s.execute(sa.text("SELECT version, rules_version FROM calendar_versions "
                                           "WHERE instructor_id = :i"), {"i": school["instructor"]}).one())

    before = versions()
    _book(engine, school, at(TUESDAY, "09:00"))
    after_booking = versions()
    assert after_booking[0] != before[0] and after_booking[1] == before[1]
    with session_scope(engine) as s:
        s.execute(sa.text("INSERT INTO availability_overrides (id, instructor_id, date, override_type, reason) "
                          "VALUES (gen_random_uuid(), :i, :d, 'blocked', 'leave')"),
                  {"i": school["instructor"], "d": WEDNESDAY})
    after_override = versions()
    assert after_override[1] != after_booking[1]
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE availability_rules SET end_time = '17:00' WHERE instructor_id = :i"),
                  {"i": school["instructor"]})
    after_rules = versions()
    assert after_rules[1] != after_override[1]
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET max_lessons_per_day = 3 WHERE id = :i"), {"i": school["instructor"]})
    assert versions()[1] != after_rules[1]
