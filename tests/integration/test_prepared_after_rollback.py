"""A rollback keeps the connection's prepared statements (issue 17, fifth round, continued: PostgreSQL under
concurrency). psycopg 3 forgets them on every rollback; a refused booking rolls back, so under concurrency every
statement was parsed and planned again. ``db.keep_prepared_statements_on_rollback`` rolls back on the libpq
connection instead, unless the transaction ran a statement that could change the schema."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from psycopg import pq

from nexdrive.db import session_scope
from nexdrive.errors import SlotUnavailable
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, open_instructor, weekday_ahead

QUERY = "SELECT count(*) FROM services WHERE price_cents > :p"


def prepared(conn: sa.Connection) -> dict:
    return dict(conn.connection.dbapi_connection._prepared._names)


def run_until_prepared(conn: sa.Connection) -> None:
    for _ in range(6):  # psycopg prepares a statement at its 6th execution on a connection (threshold 5)
        conn.execute(sa.text(QUERY), {"p": 0})
    assert prepared(conn), "psycopg prepared nothing"


def server_prepared(conn: sa.Connection) -> int:
    return conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql")).scalar()


def test_a_rollback_keeps_the_prepared_statements(engine):
    with engine.connect() as conn:
        run_until_prepared(conn)
        before = prepared(conn)
        conn.rollback()
        assert conn.connection.dbapi_connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert prepared(conn) == before
        n = server_prepared(conn)
        assert n >= 1  # and the server still has them: prepared statements are not transactional
        assert conn.execute(sa.text(QUERY), {"p": 0}).scalar() >= 1  # the prepared statement still runs
        conn.rollback()


def test_a_rollback_after_an_error_keeps_them_and_the_connection_works(engine):
    with engine.connect() as conn:
        run_until_prepared(conn)
        before = prepared(conn)
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text("SELECT 1 / 0"))
        conn.rollback()  # the transaction was in error
        assert prepared(conn) == before
        assert conn.execute(sa.text(QUERY), {"p": 0}).scalar() >= 1
        conn.rollback()


def test_a_rollback_of_a_schema_change_forgets_them_as_psycopg_does(engine):
    with engine.connect() as conn:
        run_until_prepared(conn)
        conn.execute(sa.text("CREATE TEMPORARY TABLE scratch (x int)"))
        conn.rollback()
        assert prepared(conn) == {}
        assert server_prepared(conn) == 0  # DEALLOCATE ALL, as before
        conn.execute(sa.text("SELECT 1"))  # a statement after a rollback of a statement after a schema change
        conn.rollback()
        run_until_prepared(conn)
        conn.execute(sa.text("ALTER TABLE services ALTER COLUMN name SET DEFAULT 'x'"))
        conn.commit()  # a committed schema change: the flag goes with the transaction
        run_until_prepared(conn)
        conn.rollback()
        assert prepared(conn)


def test_refused_bookings_keep_the_prepared_statements(engine):
    """The case that mattered: a refusal (SlotUnavailable) rolls its transaction back; the pooled connection
    keeps its statements prepared, and the next booking on it still works and is still checked."""
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
    details = dict(name="Pat Prep", phone="0422999000", email="prep@example.com", pickup_address="1 Prep St",
                   suburb="Belconnen")
    engine.dispose()  # one connection for the whole test: the pool hands the same one back
    conn_names = []
    days = [weekday_ahead(d, weeks=w) for w in (3, 4) for d in (1, 2, 3)]
    for day, hhmm in ((d, t) for d in days for t in ["09:00", "09:00"]):
        try:
            with session_scope(engine) as s:
                res = booking.book_lesson(s, VISITOR, service_id=service.id, start_time=at(day, hhmm),
                                          instructor_id=instructor.id, **details)
                booking.confirm_booking(s, VISITOR, res.booking.id, manage_token=res.manage_token)
                conn_names.append(("booked", len(s.connection().connection.dbapi_connection._prepared._names)))
        except SlotUnavailable:
            with engine.connect() as c:
                conn_names.append(("refused", len(prepared(c))))
    assert [k for k, _ in conn_names] == ["booked", "refused"] * 6
    counts = [c for _, c in conn_names]
    assert counts == sorted(counts) and counts[-1] > 0, counts  # never forgotten after a refusal
    with session_scope(engine) as s:
        assert booking.overlapping_pairs(s, instructor.id) == 0
        assert s.execute(sa.text("SELECT count(*) FROM bookings WHERE instructor_id = :i AND status = 'confirmed'"),
                         {"i": instructor.id}).scalar() == 6


def test_a_rollback_on_a_dropped_connection_is_handled_as_before(engine):
    """The server ends the connection mid-transaction: the rollback does not raise from the event, SQLAlchemy
    discards the connection, and the pool's next connection works."""
    with engine.connect() as conn:
        run_until_prepared(conn)
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            other.commit()
        with pytest.raises(sa.exc.OperationalError):
            conn.execute(sa.text(QUERY), {"p": 0})
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(sa.text(QUERY), {"p": 0}).scalar() >= 1
