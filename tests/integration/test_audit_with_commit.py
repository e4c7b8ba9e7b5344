"""The audit chain's append sent with the COMMIT, in one round trip (issue 17, sixth round).

``audit.append_at_commit`` keeps its records until the commit; on an engine built by ``db.make_engine`` they go to
the server in one psycopg pipeline with the ``COMMIT`` (``db.send_statements_with_commit``), so the chain head the
trigger locks is held only for the server's own work. The round trips are read from libpq's own protocol trace
(every message the client sends, ``F``, and receives, ``B``): one round trip = nothing sent after the first reply.
"""
from __future__ import annotations

import os
import tempfile
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlmodel import Session

from nexdrive import db
from nexdrive.db import session_scope
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.scheduling import booking
from tests.booking_helpers import (at, reserve_and_confirm_concurrently, second_instructor, sole_open_instructor,
                                   weekday_ahead)

COUNT_SQL = "SELECT count(*) FROM audit_log WHERE event_type = :e"
SUBJECT = uuid.UUID("00000000-0000-4000-8000-000000000017")


def traced_commit(session: Session) -> list[tuple[str, str]]:
    """Commit ``session``, tracing its connection's protocol messages: [(F or B, message), ...]."""
    pgconn = session.connection().connection.dbapi_connection.pgconn
    fd, path = tempfile.mkstemp(suffix=".pqtrace")
    try:
        pgconn.trace(fd)
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            session.commit()
        finally:
            pgconn.untrace()
        with open(path) as f:
            lines = f.read().splitlines()
    finally:
        os.close(fd)
        os.unlink(path)
    messages = []
    for line in lines:
        direction, _length, rest = line.split("\t", 2)
        messages.append((direction, rest))
    return messages


def trips(messages: list[tuple[str, str]]) -> list[list[str]]:
    """The messages the client sent, split where it waited for the server's reply: one list per round trip."""
    out: list[list[str]] = []
    waiting = False
    for direction, message in messages:
        if direction == "F":
            if not waiting:
                out.append([])
                waiting = True
            out[-1].append(message)
        else:
            waiting = False
    return out


def round_trips(messages: list[tuple[str, str]]) -> int:
    return len(trips(messages))


def sent(messages, kind: str) -> list[str]:
    return [m for d, m in messages if d == "F" and m.startswith(kind)]


def plain_engine(engine: sa.Engine, **kwargs) -> sa.Engine:
    """An engine not built by ``make_engine`` (as tests and scripts may make)."""
    return sa.create_engine(engine.url, **kwargs)


def backend_pid(session) -> int:
    return session.execute(sa.text("SELECT pg_backend_pid()")).scalar()


def test_the_insert_and_the_commit_go_in_one_round_trip(engine):
    with Session(engine) as s:
        s.execute(sa.text("SELECT 1"))  # the transaction is open (BEGIN sent)
        audit.append_at_commit(s, SYSTEM, "test.with_commit", details={"n": 1})
        audit.append_at_commit(s, SYSTEM, "test.with_commit", details={"n": 2})
        messages = traced_commit(s)
    assert round_trips(messages) == 1, messages
    assert len(sent(messages, "Sync")) == 1
    # One INSERT of both rows, then the COMMIT, in that order, all before the first reply.
    parses = sent(messages, "Parse") + sent(messages, "Query")
    assert len(parses) == 2 and "INSERT INTO audit_log" in parses[0] and '"COMMIT"' in parses[1], parses
    replies = [m for d, m in messages if d == "B"]
    assert 'CommandComplete\t "INSERT 0 2"' in replies and 'CommandComplete\t "COMMIT"' in replies
    assert replies[-1] == "ReadyForQuery\t I"  # idle: committed
    with session_scope(engine) as s:
        assert s.execute(sa.text(COUNT_SQL), {"e": "test.with_commit"}).scalar() == 2
        assert audit.verify_chain(s, "audit_log", "audit_log").ok


def test_a_transaction_with_only_the_append_sends_it_with_the_commit(engine):
    with Session(engine) as s:
        audit.append_at_commit(s, SYSTEM, "test.only", details={})
        messages = traced_commit(s)
    # psycopg syncs the BEGIN it sends first (one round trip before the INSERT, the chain head not yet locked);
    # the INSERT and the COMMIT then go together.
    last = trips(messages)[-1]
    assert any("INSERT INTO audit_log" in m for m in last) and any('"COMMIT"' in m for m in last), messages
    assert not any("INSERT INTO audit_log" in m for trip in trips(messages)[:-1] for m in trip)
    with session_scope(engine) as s:
        assert s.execute(sa.text(COUNT_SQL), {"e": "test.only"}).scalar() == 1


def test_an_engine_not_built_by_make_engine_appends_as_before(engine):
    plain = plain_engine(engine)
    try:
        with Session(plain) as s:
            s.execute(sa.text("SELECT 1"))
            audit.append_at_commit(s, SYSTEM, "test.plain", details={"n": 1})
            messages = traced_commit(s)
        # The INSERT, answered, then the COMMIT: the two round trips this change removes elsewhere.
        assert round_trips(messages) == 2, messages
        with session_scope(plain) as s:
            audit.append_at_commit(s, SYSTEM, "test.plain", details={"n": 2})
        with session_scope(engine) as s:
            assert s.execute(sa.text(COUNT_SQL), {"e": "test.plain"}).scalar() == 2
            assert audit.verify_chain(s, "audit_log", "audit_log").ok
    finally:
        plain.dispose()


def test_a_session_joined_to_an_outer_transaction_appends_in_it(engine):
    # The session's commit does not commit the connection's transaction: the records are written at once.
    with engine.connect() as conn:
        outer = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
            audit.append_at_commit(s, SYSTEM, "test.joined", details={"n": 1})
            s.commit()
        assert conn.execute(sa.text(COUNT_SQL), {"e": "test.joined"}).scalar() == 1
        outer.rollback()
    with engine.connect() as conn:
        outer = conn.begin()
        with Session(bind=conn) as s:
            audit.append_at_commit(s, SYSTEM, "test.joined", details={"n": 2})
            s.commit()
        outer.commit()
    with session_scope(engine) as s:
        assert list(s.execute(sa.text("SELECT (details->>'n')::int FROM audit_log WHERE event_type = 'test.joined'"))
                    .scalars()) == [2]


def test_the_rows_are_the_rows_written_before(engine):
    # Every column append_at_commit fills, through the pipeline and through SQLAlchemy's INSERT (a plain engine).
    actor = Actor(user_id=None, role="system", ip_address="2001:db8::1", user_agent="Mozilla/5.0 (ünïcode)")
    details = {"nested": {"list": [1, 2.5, None, True], "text": "Ngunnawal — “quoted”"}, "empty": {}}
    plain = plain_engine(engine)
    try:
        for eng, kind in ((engine, "test.rows.pipeline"), (plain, "test.rows.plain")):
            with session_scope(eng) as s:
                audit.append_at_commit(s, actor, kind, subject_type="booking", subject_id=SUBJECT,
                                       details=details, severity="warning")
                audit.append_at_commit(s, SYSTEM, kind)
    finally:
        plain.dispose()
    columns = ("event_type", "severity", "actor_id", "actor_role", "subject_type", "subject_id", "details",
               "host(ip_address)", "user_agent", "chain")
    with session_scope(engine) as s:
        rows = {kind: s.execute(sa.text(f"SELECT {', '.join(columns)} FROM audit_log WHERE event_type = :e "
                                        "ORDER BY seq"), {"e": kind}).all()
                for kind in ("test.rows.pipeline", "test.rows.plain")}
        report = audit.verify_chain(s, "audit_log", "audit_log")
    strip = [[tuple(r)[1:] for r in rows[k]] for k in rows]
    assert len(strip[0]) == 2 and strip[0] == strip[1]
    assert rows["test.rows.pipeline"][0].details == details
    assert report.ok, report


def _install_failing_trigger(engine, *, deferred: bool) -> None:
    """audit_log refuses 'test.fail' rows: at the INSERT, or (deferred) at the COMMIT."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.event_type = 'test.fail' THEN RAISE EXCEPTION 'refused by the test'; END IF;
              RETURN NEW;
            END $$"""))
        if deferred:
            conn.execute(sa.text("CREATE CONSTRAINT TRIGGER test_refuse_audit AFTER INSERT ON audit_log "
                                 "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"))
        else:
            conn.execute(sa.text("CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log "
                                 "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"))


@pytest.mark.parametrize("deferred", [False, True], ids=["the INSERT fails", "the COMMIT fails"])
@pytest.mark.parametrize("make", [db.make_engine, sa.create_engine], ids=["with the commit", "plain engine"])
def test_a_failure_at_the_commit_rolls_everything_back_and_the_connection_is_reused(db_url, deferred, make):
    # The same exception either way (psycopg's class for RAISE, wrapped by SQLAlchemy), and the same outcome.
    engine = make(db_url, pool_size=1, max_overflow=0)
    try:
        _install_failing_trigger(engine, deferred=deferred)
        with session_scope(engine) as s:
            pid = backend_pid(s)
        with pytest.raises(sa.exc.ProgrammingError) as raised:
            with session_scope(engine) as s:
                assert backend_pid(s) == pid
                audit.record_event(s, SYSTEM, "test.written_before")  # at once, in the same transaction
                audit.append_at_commit(s, SYSTEM, "test.kept_with_it")
                audit.append_at_commit(s, SYSTEM, "test.fail")
        assert isinstance(raised.value.orig, psycopg.errors.RaiseException)
        assert "refused by the test" in str(raised.value)
        with session_scope(engine) as s:
            assert backend_pid(s) == pid  # the same pooled connection, usable
            conn = s.connection().connection.dbapi_connection
            assert conn.pgconn.pipeline_status == pq.PipelineStatus.OFF
            found = s.execute(sa.text("SELECT event_type FROM audit_log WHERE event_type LIKE 'test.%'")).all()
            assert found == []  # nothing half-written
            audit.append_at_commit(s, SYSTEM, "test.after")
        with session_scope(engine) as s:
            assert backend_pid(s) == pid
            assert s.execute(sa.text(COUNT_SQL), {"e": "test.after"}).scalar() == 1
            assert audit.verify_chain(s, "audit_log", "audit_log").ok
    finally:
        engine.dispose()


@pytest.mark.parametrize("make", [db.make_engine, sa.create_engine], ids=["with the commit", "plain engine"])
def test_a_record_that_cannot_be_sent_fails_the_commit_and_leaves_nothing(db_url, make):
    engine = make(db_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(Exception) as raised:
            with session_scope(engine) as s:
                audit.record_event(s, SYSTEM, "test.written_before")
                audit.append_at_commit(s, SYSTEM, "test.unsendable", details={"not json": object()})
        assert "not JSON serializable" in str(raised.value)
        with session_scope(engine) as s:
            assert s.execute(sa.text("SELECT count(*) FROM audit_log WHERE event_type LIKE 'test.%'")).scalar() == 0
            audit.append_at_commit(s, SYSTEM, "test.after")
        with session_scope(engine) as s:
            assert s.execute(sa.text(COUNT_SQL), {"e": "test.after"}).scalar() == 1
    finally:
        engine.dispose()


def test_a_savepoint_rolled_back_drops_its_rows_and_a_released_one_keeps_them(engine):
    with session_scope(engine) as s:
        audit.append_at_commit(s, SYSTEM, "test.sp", details={"n": 1})
        dropped = s.begin_nested()
        audit.append_at_commit(s, SYSTEM, "test.sp", details={"n": 2})
        dropped.rollback()
        with s.begin_nested():
            audit.append_at_commit(s, SYSTEM, "test.sp", details={"n": 3})
        audit.append_at_commit(s, SYSTEM, "test.sp", details={"n": 4})
        inner = s.begin_nested()
        audit.append_at_commit(s, SYSTEM, "test.sp", details={"n": 5})
        inner.rollback()
    with session_scope(engine) as s:
        assert sorted(s.execute(sa.text("SELECT (details->>'n')::int FROM audit_log WHERE event_type = 'test.sp'"))
                      .scalars()) == [1, 3, 4]


def test_a_statement_during_the_final_flush_sees_the_pending_rows(engine):
    from nexdrive.models import AuditLog
    seen = []
    with Session(engine) as s:
        def after_flush(session, _context):
            seen.append(session.execute(sa.text(COUNT_SQL), {"e": "test.flushed"}).scalar())

        sa.event.listen(s, "after_flush", after_flush)
        audit.append_at_commit(s, SYSTEM, "test.flushed")
        s.add(AuditLog(event_type="test.orm", details={}))  # flushed by the commit, after before_commit
        messages = traced_commit(s)
    assert seen == [1]  # the read in the flush saw the record kept for the commit
    assert sent(messages, "Query")[-1:] == ['Query\t "COMMIT"']  # so the COMMIT had nothing left to carry
    with session_scope(engine) as s:
        assert s.execute(sa.text(COUNT_SQL), {"e": "test.flushed"}).scalar() == 1
        assert s.execute(sa.text(COUNT_SQL), {"e": "test.orm"}).scalar() == 1
        assert audit.verify_chain(s, "audit_log", "audit_log").ok


def test_the_chain_verifies_after_many_concurrent_bookings(engine):
    school = sole_open_instructor(engine)
    second_id = second_instructor(engine, school)
    days = [weekday_ahead(d) for d in (1, 2, 3, 4)]
    starts = [(at(day, f"{h:02d}:00"), iid) for day in days for h in range(8, 17, 2)
              for iid in (school["instructor"], second_id)]
    through_sqlalchemy = []

    def watch(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            through_sqlalchemy.append(statement)

    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        ids = reserve_and_confirm_concurrently(engine, school, starts)
    finally:
        sa.event.remove(engine, "before_cursor_execute", watch)
    assert len(set(ids)) == len(starts) == 40
    assert through_sqlalchemy == []  # every booking's records went with its COMMIT
    with session_scope(engine) as s:
        events = s.execute(sa.text("SELECT event_type, count(*) FROM audit_log WHERE subject_id = ANY(:ids) "
                                   "GROUP BY event_type"), {"ids": ids}).all()
        assert dict(events) == {"booking.reserved": len(starts), "booking.confirmed": len(starts)}
        report = audit.verify_chain(s, "audit_log", "audit_log")
        assert report.ok and report.checked >= 2 * len(starts), report
        seqs = list(s.execute(sa.text("SELECT seq FROM audit_log ORDER BY seq")).scalars())
        assert seqs == list(range(1, len(seqs) + 1))
        assert booking.overlapping_pairs(s, school["instructor"]) == 0
        assert booking.overlapping_pairs(s, second_id) == 0
