"""The hot queries use their indexes on a big table, in custom and in generic (prepared) plans (issue 17).

One database per module: 50 instructors with 100,000 bookings (ten years of past lessons, the next
eight weeks booked, a few holds) and 100,000 outbox messages, bulk-inserted with generate_series
and ANALYZEd. Each test runs a real use case with the SQL it sends recorded, then for every
statement on a big table runs ``EXPLAIN (ANALYZE, BUFFERS)`` twice inside a transaction that is
rolled back: as sent (a custom plan for these values) and as a prepared statement under
``plan_cache_mode = force_generic_plan`` (the plan a driver's prepared statement gets after five
executions). A plan fails the test if it reads a big table with a sequential scan, or if it reads
more than a few hundred buffers (the instructor's whole history, or the whole outbox).
"""
from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from psycopg import sql as psql

from nexdrive import db as nxdb
from nexdrive.formats import BUSINESS_TZ
from nexdrive.services.core.actors import Actor, SYSTEM
from nexdrive.services.messaging import dispatch
from nexdrive.services.scheduling import availability, booking, schedule
from tests.factories import make_instructor, make_service
from tests.reference import reference_week

UTC = timezone.utc
BIG_TABLES = {"bookings", "outbox_messages", "calendar_day_versions"}  # the last: filled by the bookings' triggers
ROWS = 100_000
INSTRUCTORS = 50
MAX_BUFFERS = 400  # a 100k-row bookings table is ~2,500 pages; an instructor's history alone is hundreds


@pytest.fixture(scope="module")
def big(pg_server, template_db):
    name = pg_server.create_database(template_db)
    engine = nxdb.make_engine(pg_server.url(name), pool_size=2, max_overflow=2)
    nxdb.set_engine(engine)
    first = reference_week()
    with nxdb.session_scope(engine) as s:
        instructors = [make_instructor(s).id for _ in range(INSTRUCTORS)]
        service = make_service(s, minutes=60).id
        start = datetime.combine(first, time(9), tzinfo=BUSINESS_TZ).astimezone(UTC)
        # Ten years of past lessons, spread over the instructors, every 9 hours per instructor.
        s.execute(sa.text("""
            INSERT INTO bookings (id, instructor_id, service_id, scheduled_date, start_time, end_time,
                                  duration_minutes, buffer_minutes, status, amount_cents, booked_via, payment_status)
            SELECT gen_random_uuid(), (:ids)[1 + g % :n], :svc, (t AT TIME ZONE 'Australia/Sydney')::date,
                   t, t + interval '60 minutes', 60, 15, 'completed', 8500, 'phone', 'paid'
            FROM generate_series(0, :rows - 1) AS g,
                 LATERAL (SELECT CAST(:t0 AS timestamptz) - interval '3 days'
                                 - make_interval(hours => 9 * (g / :n)) AS t) AS x"""),
                  {"ids": instructors, "n": INSTRUCTORS, "svc": service, "rows": ROWS - 3000, "t0": start})
        # The next eight weeks: three lessons a day each (confirmed), and some holds (live and lapsed).
        s.execute(sa.text("""
            INSERT INTO bookings (id, instructor_id, service_id, scheduled_date, start_time, end_time,
                                  duration_minutes, buffer_minutes, status, hold_expires_at, amount_cents,
                                  booked_via, payment_status)
            SELECT gen_random_uuid(), (:ids)[1 + g % :n], :svc, (t AT TIME ZONE 'Australia/Sydney')::date,
                   t, t + interval '60 minutes', 60, 15,
                   CASE WHEN g % 20 = 0 THEN 'held' ELSE 'confirmed' END,
                   CASE WHEN g % 40 = 0 THEN now() - interval '1 minute'
                        WHEN g % 20 = 0 THEN now() + interval '30 minutes' END,
                   8500, 'website', 'unpaid'
            FROM generate_series(0, 2999) AS g,
                 LATERAL (SELECT CAST(:t0 AS timestamptz) + make_interval(days => (g / :n) / 3,
                                                                        hours => 2 * ((g / :n) % 3)) AS t) AS x"""),
                  {"ids": instructors, "n": INSTRUCTORS, "svc": service, "t0": start})
        s.execute(sa.text("""
            INSERT INTO outbox_messages (channel, recipient, body, status, next_attempt_at, created_at, sent_at)
            SELECT 'sms', '+6140000' || lpad((g % 10000)::text, 4, '0'), 'Your lesson is booked.',
                   CASE WHEN g % 1000 = 0 THEN 'pending' ELSE 'sent' END,
                   now() - make_interval(mins => g), now() - make_interval(mins => g),
                   CASE WHEN g % 1000 = 0 THEN NULL ELSE now() - make_interval(mins => g) END
            FROM generate_series(1, :rows) AS g"""), {"rows": ROWS})
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    yield {"engine": engine, "instructors": instructors, "service": service, "first": first}
    nxdb.set_engine(None)
    engine.dispose()
    pg_server.drop_database(name)


@contextlib.contextmanager
def recorded(engine):
    """Every statement (and its parameters) the block sends."""
    sent: list[tuple[str, dict]] = []

    def listen(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, dict(parameters or {})))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _prepared(statement: str) -> tuple[str, list[str]]:
    """The statement with $1..$n for its named parameters (psycopg's %(name)s), and their order."""
    order: list[str] = []

    def number(m: re.Match) -> str:
        if m[1] not in order:
            order.append(m[1])
        return f"${order.index(m[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%"), order


def plans(engine, statement: str, params: dict) -> dict[str, dict]:
    """The custom and the generic plan of one statement, executed (EXPLAIN ANALYZE) and rolled back."""
    out = {}
    with engine.connect() as conn:
        with conn.begin() as tx:
            out["custom"] = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement,
                                                 params).scalar()[0]["Plan"]
            tx.rollback()
        with conn.begin() as tx:
            text, order = _prepared(statement)
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql(f"PREPARE hot AS {text}")
            raw = conn.connection.driver_connection  # EXECUTE takes no bind parameters: quote the values
            args = ", ".join(psql.Literal(params[name]).as_string(raw) for name in order)
            out["generic"] = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE hot({args})" if order else
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE hot").scalar()[0]["Plan"]
            tx.rollback()
        # The rollback after a PREPARE is psycopg's own (db.keep_prepared_statements_on_rollback), which sends
        # DEALLOCATE ALL when the connection had statements of its own prepared.
        if conn.exec_driver_sql("SELECT 1 FROM pg_prepared_statements WHERE name = 'hot'").scalar():
            conn.exec_driver_sql("DEALLOCATE hot")
        conn.rollback()
    return out


def check(engine, sent: list[tuple[str, dict]], *, must_touch: set[str]) -> list[str]:
    """Explain every recorded statement on a big table; return the problems found (empty = good)."""
    problems, touched = [], set()
    for statement, params in sent:
        tables = {t for t in BIG_TABLES if re.search(rf"\b{t}\b", statement)}
        if not tables or not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH", "DELETE")):
            continue
        touched |= tables
        for kind, plan in plans(engine, statement, params).items():
            for node in _nodes(plan):
                if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                    problems.append(f"{kind} plan scans {node['Relation Name']} sequentially:\n{statement}\n"
                                    + json.dumps(plan, indent=1)[:3000])
            # Buffers read by the scans of big tables (an UPDATE's own index maintenance is not reading).
            used = sum(n.get("Shared Hit Blocks", 0) + n.get("Shared Read Blocks", 0) for n in _nodes(plan)
                       if n.get("Relation Name") in BIG_TABLES and "Scan" in n.get("Node Type", ""))
            if used > MAX_BUFFERS:
                problems.append(f"{kind} plan reads {used} buffers:\n{statement}\n" + json.dumps(plan, indent=1)[:3000])
    assert must_touch <= touched, f"the use case sent no statement on {must_touch - touched}"
    return problems


def test_availability_reads_only_the_range(big):
    engine, first = big["engine"], big["first"]
    with recorded(engine) as sent, nxdb.session_scope(engine) as s:
        availability.load_calendars(s, [big["instructors"][0]], first, first + timedelta(days=55))
        availability.load_calendars(s, None, first, first + timedelta(days=55))
        # The per-process copy: the versions query, then the calendars of the instructors not yet copied.
        availability.load_calendars(s, None, first + timedelta(days=1), first + timedelta(days=55), cached=True)
        booking.availability_by_day(s, service_ref=big["service"], date_from=first,
                                    date_to=first + timedelta(days=13), instructor_id=big["instructors"][1])
    assert check(engine, sent, must_touch={"bookings"}) == []


def test_reserve_path_reads_only_the_day(big):
    """The statements of a reservation (lapsed holds, the re-check, the retry lookup) stay on indexes."""
    engine, first = big["engine"], big["first"]
    start = datetime.combine(first + timedelta(days=1), time(15), tzinfo=BUSINESS_TZ).astimezone(UTC)
    with recorded(engine) as sent, nxdb.session_scope(engine) as s:
        booking.release_lapsed_holds(s, big["instructors"][2])
        with contextlib.suppress(Exception):  # the statements are what matter here, not the outcome
            booking.book_lesson(s, SYSTEM, service_id=big["service"], start_time=start,
                                instructor_id=big["instructors"][2], name="Plan Test", phone="0412345678",
                                email="plan@example.com", pickup_address="1 Plan St", suburb="Bruce",
                                booked_via="phone")
        s.rollback()
    assert check(engine, sent, must_touch={"bookings"}) == []


def test_instructor_calendar_and_lists(big):
    engine, first = big["engine"], big["first"]
    with recorded(engine) as sent, nxdb.session_scope(engine) as s:
        schedule.calendar_preview(s, SYSTEM, big["instructors"][3], first, days=28)
        user_id = s.execute(sa.text("SELECT user_id FROM instructors WHERE id = :i"),
                            {"i": big["instructors"][3]}).scalar()
        booking.list_my_bookings(s, Actor(role="instructor", user_id=user_id, instructor_id=big["instructors"][3]),
                                 limit=20)
    assert check(engine, sent, must_touch={"bookings"}) == []


def test_outbox_claim(big):
    engine = big["engine"]
    with recorded(engine) as sent:
        dispatch._claim(engine, now=None, limit=50, claim="plan-test", ids=None)
    assert check(engine, sent, must_touch={"outbox_messages"}) == []


def test_the_checker_catches_a_history_scan(big):
    """The test is honest: a calendar query without the lower bound on start_time reads the history."""
    engine = big["engine"]
    lo = datetime.combine(big["first"], time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    sent = [("SELECT id FROM bookings WHERE instructor_id = %(i)s AND start_time < %(hi)s AND blocked_until > %(lo)s",
             {"i": big["instructors"][4], "lo": lo, "hi": lo + timedelta(days=56)})]
    assert check(engine, sent, must_touch={"bookings"}) != []
    sent = [("SELECT id FROM outbox_messages WHERE body = %(b)s", {"b": uuid.uuid4().hex})]
    assert any("sequentially" in p for p in check(engine, sent, must_touch={"outbox_messages"}))
