"""The hot statements on the driver's cursor (``db.DriverText`` in an ``AppSession``, issue 17, eighth round): the
same transaction, SQL, values, errors and listeners as SQLAlchemy's own path, which a plain ``Session`` still
takes. Each test runs the statement both ways where it can and compares."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from nexdrive import db
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM

VALUES_SQL = ("SELECT CAST(:u AS uuid) AS id, CAST(:t AS timestamptz) AS at, ARRAY[1, 2, 3] AS nums, "
              "CAST('{\"a\": [1, null]}' AS jsonb) AS doc, NULL::text AS nothing, 12.50::numeric AS price, "
              "'50%' AS pct, 1 AS n, 2 AS n, :ids AS ids")


def _both(engine, sql: str, params: dict | None = None, fetch=lambda r: r.all()):
    """(rows on the driver's cursor, rows through SQLAlchemy) for the same statement and parameters."""
    with db.session_scope(engine) as s:
        result = s.execute(db.cached_text(sql), params)
        assert isinstance(result, db.DriverResult)  # the driver's path was taken
        driver = fetch(result)
    with Session(engine) as s:
        result = s.execute(sa.text(sql), params)
        assert isinstance(result, sa.CursorResult)
        plain = fetch(result)
    return driver, plain


def test_the_same_values_as_sqlalchemy_gives(engine):
    params = {"u": uuid.UUID(int=7), "t": datetime(2026, 4, 5, 15, 30, tzinfo=timezone.utc),
              "ids": [uuid.UUID(int=1), uuid.UUID(int=2)]}
    driver, plain = _both(engine, VALUES_SQL, params)
    assert driver == plain and len(driver) == 1
    row = driver[0]
    assert row.id == uuid.UUID(int=7) and row.at == params["t"] and row.nums == [1, 2, 3]
    assert row.doc == {"a": [1, None]} and row.nothing is None and str(row.price) == "12.50" and row.pct == "50%"
    assert tuple(row[-3:-1]) == (1, 2) and row.ids == params["ids"]  # duplicate names kept by position
    assert row._mapping["id"] == uuid.UUID(int=7)


@pytest.mark.parametrize("how", ["one", "first", "scalar", "scalar_one", "scalar_one_or_none", "one_or_none",
                                 "scalars", "mappings", "iterate"])
def test_the_result_methods_answer_as_sqlalchemy_s(engine, how):
    fetch = {"scalars": lambda r: r.scalars().all(), "mappings": lambda r: [dict(m) for m in r.mappings().all()],
             "iterate": lambda r: [tuple(row) for row in r]}.get(how, lambda r: getattr(r, how)())
    sql = "SELECT n, n * 2 AS twice FROM generate_series(1, :k) AS n"
    for k in (1, 2, 0) if how not in ("one", "scalar_one") else (1,):
        if how in ("one_or_none", "scalar_one_or_none") and k == 2:
            continue
        driver, plain = _both(engine, sql, {"k": k}, fetch)
        assert driver == plain, (how, k)


@pytest.mark.parametrize("k, error", [(0, sa.exc.NoResultFound), (2, sa.exc.MultipleResultsFound)])
def test_one_refuses_as_sqlalchemy_does(engine, k, error):
    for session, clause in ((db.session_scope(engine), db.cached_text), (Session(engine), sa.text)):
        with session as s, pytest.raises(error):
            s.execute(clause("SELECT n FROM generate_series(1, :k) AS n"), {"k": k}).one()


def test_rowcount_of_an_update(engine):
    def count(result):
        return result.rowcount
    with db.session_scope(engine) as s:
        s.execute(sa.text("CREATE TEMP TABLE probe AS SELECT generate_series(1, 5) AS n"))
        result = s.execute(db.cached_text("UPDATE probe SET n = n + 10 WHERE n > :m"), {"m": 2})
        assert isinstance(result, db.DriverResult) and count(result) == 3
        assert s.execute(db.cached_text("SELECT sum(n) FROM probe")).scalar() == 1 + 2 + 13 + 14 + 15


def test_in_the_session_s_transaction(engine):
    """A row written on the driver's cursor is seen by the ORM's statements and goes with the rollback."""
    key = f"driver:{uuid.uuid4()}"
    with pytest.raises(RuntimeError), db.session_scope(engine) as s:
        s.execute(db.cached_text("INSERT INTO webhook_events (provider, event_id, event_type) "
                                 "VALUES ('test', :k, 'probe')"), {"k": key})
        seen = s.execute(sa.text("SELECT count(*) FROM webhook_events WHERE event_id = :k"), {"k": key}).scalar()
        assert seen == 1
        raise RuntimeError("the use case fails after the write")
    with db.session_scope(engine) as s:
        assert s.execute(db.cached_text("SELECT count(*) FROM webhook_events WHERE event_id = :k"),
                         {"k": key}).scalar() == 0


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(engine):
    key = f"driver:{uuid.uuid4()}"
    insert = "INSERT INTO webhook_events (provider, event_id, event_type) VALUES ('test', :k, 'probe')"
    with db.session_scope(engine) as s:
        s.execute(db.cached_text(insert), {"k": key})
    for session, clause in ((db.session_scope(engine), db.cached_text), (Session(engine), sa.text)):
        with pytest.raises(sa.exc.IntegrityError) as refused, session as s:
            s.execute(clause(insert), {"k": key})
        assert isinstance(refused.value.orig, psycopg.errors.UniqueViolation)
        assert refused.value.statement.startswith("INSERT INTO webhook_events")
    with db.session_scope(engine) as s:  # the pooled connection is an ordinary one again
        assert s.execute(db.cached_text("SELECT count(*) FROM webhook_events WHERE event_id = :k"),
                         {"k": key}).scalar() == 1


def test_the_engine_s_statement_listeners_see_it(engine):
    sql = "SELECT :a AS a"
    seen: list[str] = []

    def listen(_conn, _cursor, statement, params, *_):
        seen.append((statement, dict(params)))
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        driver, plain = _both(engine, sql, {"a": 5})
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    assert driver == plain
    assert seen[0] == seen[1] == ("SELECT %(a)s AS a", {"a": 5})  # the same SQL string both ways


def test_a_tracing_listener_after_statements_takes_sqlalchemy_s_path(engine):
    """Tracing such as Sentry's needs SQLAlchemy's execution context: with it, no statement goes on the driver's
    cursor."""
    contexts = []

    def after(_conn, _cursor, _statement, _params, context, _many):
        contexts.append(context)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        with db.session_scope(engine) as s:
            result = s.execute(db.cached_text("SELECT 1"))
            assert isinstance(result, sa.CursorResult) and result.scalar() == 1
    finally:
        sa.event.remove(engine, "after_cursor_execute", after)
    assert contexts and contexts[0] is not None


def test_pending_audit_records_are_written_before_it(engine):
    """As for the session's other statements (audit's do_orm_execute hook): a statement after an append sees it."""
    kind = f"driver.probe.{uuid.uuid4().hex[:8]}"
    with db.session_scope(engine) as s:
        audit.append_at_commit(s, SYSTEM, kind, details={"n": 1})
        assert s.execute(db.cached_text("SELECT count(*) FROM audit_log WHERE event_type = :e"),
                         {"e": kind}).scalar() == 1
    with db.session_scope(engine) as s:
        assert s.execute(db.cached_text("SELECT count(*) FROM audit_log WHERE event_type = :e"),
                         {"e": kind}).scalar() == 1  # written once, not again at the COMMIT
        assert audit.verify_chain(s, "audit_log", "audit_log").ok


def test_a_typed_parameter_takes_sqlalchemy_s_path(engine):
    clause = db.DriverText("SELECT :d AS d").bindparams(sa.bindparam("d", type_=sa.Date))
    with db.session_scope(engine) as s:
        result = s.execute(clause, {"d": datetime(2026, 1, 2).date()})
        assert isinstance(result, sa.CursorResult) and str(result.scalar()) == "2026-01-02"


def test_the_settings_copy_is_the_row_as_the_orm_reads_it(engine):
    """``booking.business_settings``: a read-only copy built from a driver statement, column for column the row
    ``session.get`` loads, read once per transaction, and a change committed since is seen by the next one."""
    from nexdrive.models import BusinessSettings
    from nexdrive.services.scheduling import booking

    with db.session_scope(engine) as s:
        s.execute(sa.text("INSERT INTO business_settings (id, business_name) VALUES (1, 'Probe Driving') "
                          "ON CONFLICT (id) DO NOTHING"))
    with db.session_scope(engine) as s:
        copy = booking.business_settings(s)
        assert booking.business_settings(s) is copy
        orm = s.get(BusinessSettings, 1)
        assert copy is not orm and sa.inspect(copy).transient
        for column in BusinessSettings.__table__.columns:
            assert getattr(copy, column.key) == getattr(orm, column.key), column.key
        hold = copy.hold_minutes
    with db.session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET hold_minutes = :m WHERE id = 1"), {"m": (hold or 35) + 5})
    with db.session_scope(engine) as s:
        assert booking.business_settings(s).hold_minutes == (hold or 35) + 5


def test_a_typed_copy_of_a_statement_already_sent_takes_sqlalchemy_s_path(engine):
    """A copy SQLAlchemy makes of a statement (``bindparams`` copies its attributes) is looked at afresh."""
    clause = db.DriverText("SELECT :d AS d")
    with db.session_scope(engine) as s:
        assert isinstance(s.execute(clause, {"d": "2026-01-02"}), db.DriverResult)
        typed = clause.bindparams(sa.bindparam("d", type_=sa.Date))
        result = s.execute(typed, {"d": datetime(2026, 1, 2).date()})
        assert isinstance(result, sa.CursorResult) and str(result.scalar()) == "2026-01-02"


def test_each_statement_is_sent_as_its_own_sql_when_an_earlier_one_s_memory_is_reused(engine):
    """Statements made and dropped one after another (CPython often gives the next one the same address, so the
    same ``id``): each is still sent as its own SQL."""
    import gc

    seen_ids = set()
    with db.session_scope(engine) as s:
        for n in range(200):
            clause = db.DriverText(f"SELECT {n} AS n")
            seen_ids.add(id(clause))
            assert s.execute(clause).scalar() == n
            del clause
            gc.collect(0)
    assert len(seen_ids) < 200  # addresses were reused: the case this test is about did happen
