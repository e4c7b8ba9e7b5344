"""Engine and sessions, and the embedded PostgreSQL used when no DATABASE_URL is set.

The embedded server (pgserver: PostgreSQL 16 + pgvector) lives in the data dir
and is shared by every process of the app through pgserver's handle file.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from nexdrive.settings import get_settings
from pydantic_core import PydanticUndefined

EMBEDDED_DB_NAME = "nexdrive"

_lock = threading.Lock()
_engine: Engine | None = None
_embedded_servers: dict[str, object] = {}


def start_embedded_postgres(pgdata: Path, dbname: str = EMBEDDED_DB_NAME) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``pgdata``; return a SQLAlchemy URL."""
    import pgserver  # imported lazily: production uses an external server

    pgdata = Path(pgdata).resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    key = str(pgdata)
    srv = _embedded_servers.get(key)
    if srv is None:
        srv = pgserver.get_server(pgdata, cleanup_mode=None)
        _embedded_servers[key] = srv
    exists = srv.psql(f"SELECT 1 FROM pg_database WHERE datname = '{dbname}';")
    if "1 row" not in exists:
        srv.psql(f'CREATE DATABASE "{dbname}";')
    return f"postgresql+psycopg://postgres@/{dbname}?host={quote(str(pgdata))}"


def stop_embedded_postgres(pgdata: Path) -> None:
    """Stop an embedded server (tests and benchmarks clean up after themselves)."""
    import subprocess

    import pgserver

    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    pgdata = Path(pgdata).resolve()
    _embedded_servers.pop(str(pgdata), None)
    if (pgdata / "postmaster.pid").exists():
        cmd = [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
        if os.geteuid() == 0:
            cmd = ["su", "-s", "/bin/sh", "pgserver", "-c", " ".join(cmd)]
        subprocess.run(cmd, check=False, capture_output=True)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs; always drive them with psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return normalise_url(settings.database_url)
    return start_embedded_postgres(settings.data_dir / "pg")


def make_engine(url: str, **kwargs) -> Engine:
    # No pre-ping: it costs a round trip on every session_scope. A connection the server dropped fails
    # that one request, and SQLAlchemy then discards the whole pool (a disconnect invalidates it), so
    # the next request reconnects; pool_recycle retires connections before idle timeouts elsewhere bite.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    if kwargs.get("poolclass") is None:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    # Store UTC; every connection talks UTC so nothing depends on the server's zone.
    kwargs.setdefault("connect_args", {"options": "-c timezone=UTC"})
    engine = sa.create_engine(url, **kwargs)
    keep_prepared_statements_on_rollback(engine)
    send_statements_with_commit(engine)
    describe_results_once(engine)
    return engine


class _DescribedOnceCursor(psycopg.Cursor):
    """A cursor whose ``description`` is built once per result shape (column names, types and modifiers).

    SQLAlchemy reads ``cursor.description`` for every statement that returns rows, and psycopg builds a new
    ``Column`` per column each time (its name decoded, its type looked up): ~30 per reservation statement,
    ~8% of a reservation's CPU. The columns of one shape are the same values every time, so they are kept."""

    _SHAPES: dict[tuple, list] = {}
    _MAX_SHAPES = 2048

    @property
    def description(self):
        res = self.pgresult
        n = res.nfields if res is not None else 0
        if not n:
            return super().description
        key = (res.status, tuple((res.fname(i), res.ftype(i), res.fmod(i)) for i in range(n)))
        described = self._SHAPES.get(key)
        if described is None:
            described = super().description
            if len(self._SHAPES) >= self._MAX_SHAPES:
                self._SHAPES.clear()
            self._SHAPES[key] = described
        return list(described)  # a caller's own list, as psycopg returns


def describe_results_once(engine: Engine) -> None:
    """Every connection of this engine makes ``_DescribedOnceCursor`` cursors (client-side ones: the only kind the
    app uses)."""
    if engine.dialect.driver != "psycopg":
        return

    @sa.event.listens_for(engine, "connect")
    def _lean_cursors(dbapi_connection, _record) -> None:
        dbapi_connection.cursor_factory = _DescribedOnceCursor


# Statements after which psycopg's own conservative rollback (forget every prepared statement) is kept:
# anything that may change or drop what a prepared statement refers to, or the session's prepared statements.
_SCHEMA_CHANGE = re.compile(
    r"\s*(?:CREATE|ALTER|DROP|TRUNCATE|COMMENT|GRANT|REVOKE|REINDEX|CLUSTER|VACUUM|DO|DISCARD|DEALLOCATE|PREPARE"
    r"|SECURITY|IMPORT|REFRESH|LOCK|SET\s+ROLE|SET\s+SESSION|RESET)\b", re.IGNORECASE)
_SCHEMA_CHANGED = "nexdrive_schema_changed"


def keep_prepared_statements_on_rollback(engine: Engine) -> None:
    """Roll back without psycopg forgetting the connection's prepared statements (issue 17, throughput).

    psycopg 3 prepares a statement on a connection after its 5th execution there, and on **every** rollback
    it forgets all of them and sends ``DEALLOCATE ALL`` (a conservative rule of its own: a rolled-back
    transaction might have changed the schema a statement was prepared against). A refused booking ends in a
    rollback, so under concurrency (0.8 refusals per booking) no pooled connection kept its statements: every
    statement was parsed and planned again (``PARSE`` in the server log for ~every statement; PostgreSQL's CPU per
    booking 4.8 → 14 ms, docs/performance.md "Fifth round, continued").

    Server-side prepared statements are not transactional (a rollback keeps them), and PostgreSQL's plan cache
    re-plans them itself after any schema change that commits. So a transaction that ran no statement that could
    change the schema or the session's statements (``_SCHEMA_CHANGE``: the app's request transactions never do)
    is rolled back here on the libpq connection directly; psycopg's ``rollback()`` then finds the connection idle
    and keeps its cache. A transaction that ran one of those is rolled back by psycopg as before."""
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note_schema_change(conn, _cursor, statement, _params, _context, _many) -> None:
        if _SCHEMA_CHANGE.match(statement):
            conn.info[_SCHEMA_CHANGED] = True

    @sa.event.listens_for(engine, "commit")
    def _committed(conn) -> None:
        conn.info.pop(_SCHEMA_CHANGED, None)

    @sa.event.listens_for(engine, "rollback")
    def _rollback(conn) -> None:
        if conn.invalidated or conn.closed or conn.info.pop(_SCHEMA_CHANGED, False):
            return  # SQLAlchemy's handling of a lost connection, or psycopg's rollback (forgets the statements)
        try:
            pgconn = getattr(conn.connection.dbapi_connection, "pgconn", None)
            if pgconn is None:
                return
            from psycopg import pq
            if pgconn.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
                pgconn.exec_(b"ROLLBACK")
        except Exception:  # noqa: BLE001 - a broken connection: psycopg's rollback fails and SQLAlchemy handles it
            return


_WITH_COMMIT = "nexdrive_with_commit"  # in the pooled connection's info: statements to send with the COMMIT
_SENDS_WITH_COMMIT = "_nexdrive_sends_with_commit"  # set on the dialect of an engine that does

# A callable made when the statements are handed over and called at the COMMIT: it returns what is still to be
# sent then (``(query, params)`` pairs in psycopg's own terms), an empty list when nothing is left.
WithCommit = Callable[[], "list[tuple[Any, Any]]"]


def send_statements_with_commit(engine: Engine) -> None:
    """Let a transaction's last statements go to the server **with its COMMIT, in one round trip** (issue 17).

    ``with_commit(connection, statements)`` hands them over; this engine's dialect ``do_commit`` then sends them
    and ``COMMIT`` in one psycopg pipeline (one Sync, one flush, one wait for the results), instead of each
    statement and the COMMIT waiting on the server in turn. The audit chain uses it (``audit.append_at_commit``):
    its trigger locks the chain head from the INSERT to the COMMIT, for every booking in the school, so the head is
    now locked only for the server's own work, not across a round trip and the worker's wait for the GIL.

    Failure: if a statement fails, the server skips the rest of the pipeline (the COMMIT included) and the
    transaction is left failed; if the COMMIT fails (a deferred constraint), the server has rolled back. Either
    way the error is raised from ``do_commit``, so SQLAlchemy wraps it as for any commit (``sa.exc.IntegrityError``
    and so on, or a disconnect invalidating the connection) and the session rolls back; the pipeline has been
    exited by then, so the pooled connection is an ordinary one again (``keep_prepared_statements_on_rollback``
    then rolls the failed transaction back on it). Nothing is half-written: the statements and the COMMIT are in
    one transaction, and the server runs the COMMIT only if every statement before it succeeded.

    Handed-over statements not sent (the transaction rolled back, the connection went back to the pool) are
    dropped with it. An engine not built by ``make_engine`` has no such ``do_commit``: ``with_commit`` returns
    False there and the caller sends its statements itself, as before."""
    dialect = engine.dialect
    if getattr(dialect, _SENDS_WITH_COMMIT, False):
        return
    plain_commit = dialect.do_commit

    def do_commit(dbapi_connection) -> None:
        info = getattr(dbapi_connection, "info", None)  # the pool's proxy: its record's info
        pending = info.pop(_WITH_COMMIT, None) if info is not None else None
        statements = pending() if pending is not None else None
        if not statements:
            return plain_commit(dbapi_connection)
        conn = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        cursor = conn.cursor()
        try:
            with conn.pipeline():
                for query, params in statements:
                    cursor.execute(query, params)
                if not conn.autocommit:
                    # Queued, not conn.commit(): that would Sync and wait at once, and leaving the pipeline
                    # would Sync and wait again. Leaving it sends everything with a single Sync.
                    cursor.execute(b"COMMIT")
        finally:
            cursor.close()

    dialect.do_commit = do_commit
    setattr(dialect, _SENDS_WITH_COMMIT, True)

    def _drop(conn) -> None:
        if not (conn.invalidated or conn.closed):  # an invalidated record's info is cleared when it reconnects
            conn.info.pop(_WITH_COMMIT, None)

    sa.event.listen(engine, "rollback", _drop)

    def _checked_in(_dbapi_connection, record) -> None:
        if record is not None:
            record.info.pop(_WITH_COMMIT, None)

    sa.event.listen(engine, "checkin", _checked_in)


def with_commit(connection: sa.Connection, statements: WithCommit) -> bool:
    """Send ``statements()`` with this connection's next COMMIT, in one round trip (``send_statements_with_commit``).

    Returns False (and keeps nothing) where that cannot be done: an engine not built by ``make_engine``, a
    driver without pipeline mode, or a connection inside a savepoint. ``statements`` is called at the COMMIT, so it
    returns whatever is still to be sent then. Only hand over statements when this connection's COMMIT is the
    transaction's own (a session bound to an engine committing its root transaction), else they would be lost."""
    if not getattr(connection.engine.dialect, _SENDS_WITH_COMMIT, False) or connection.in_nested_transaction():
        return False
    dbapi_connection = getattr(connection.connection, "dbapi_connection", None)
    if not hasattr(dbapi_connection, "pipeline"):
        return False
    import psycopg
    if not psycopg.Pipeline.is_supported():  # libpq < 14
        return False
    connection.info[_WITH_COMMIT] = statements
    return True


def get_engine() -> Engine:
    global _engine
    with _lock:
        if _engine is None:
            _engine = make_engine(database_url())
        return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the app at another engine (tests)."""
    global _engine
    with _lock:
        _engine = engine


@contextlib.contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction per use case: commit on success, roll back on any error."""
    with AppSession(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def database_status(engine: Engine | None = None) -> dict:
    """Used by the health endpoint: can we reach the database, and at which migration?"""
    try:
        with (engine or get_engine()).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            try:
                rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:
                rev = None
        return {"status": "ok", "migration": rev}
    except Exception as exc:  # the health endpoint reports, it doesn't raise
        return {"status": "error", "error": exc.__class__.__name__}


@functools.cache
def _column_defaults(model: type) -> tuple[tuple[str, str, object, object], ...]:
    """(attribute, column name, default, default factory) for each column of a SQLModel table model."""
    fields = model.model_fields
    out = []
    for column in model.__table__.columns:
        field = fields.get(column.key)
        default = None if field is None or field.default is PydanticUndefined else field.default
        factory = field.default_factory if field is not None else None
        out.append((column.key, column.name, default, factory))
    return tuple(out)


def row_values(model: type, values: dict) -> dict:
    """The row a new ``model(**values)`` would be inserted as (its non-NULL columns, by column name, the model's
    defaults filled in), without building the object: SQLModel's constructor costs ~0.4 ms a row (pydantic
    defaults and SQLAlchemy's instrumented attributes), which rows inserted by Core and never read back need not
    pay. Keys must be the model's column attributes."""
    columns = _column_defaults(model)
    unknown = values.keys() - {key for key, *_ in columns}
    if unknown:
        raise TypeError(f"{model.__name__} has no column {sorted(unknown)[0]!r}")
    row = {}
    for key, name, default, factory in columns:
        if key in values:
            value = values[key]
        elif factory is not None:
            value = factory()
        else:
            value = default
        if value is not None:
            row[name] = value
    return row


@functools.lru_cache(maxsize=512)
def cached_text(sql: str) -> sa.TextClause:
    """``sa.text(sql)``, built once per distinct statement: building one parses its bind parameters with a regular
    expression on every call (~0.13 ms for the calendar read), on the booking path several times per request. A
    ``TextClause`` is not changed by executing it, so one object can serve every session and thread.

    It is a ``DriverText``: a session from ``session_scope`` sends it on the driver's cursor (``AppSession``)."""
    return DriverText(sql)


# ─────────────────────────────────────────────────────────────────────────────
# The hot statements on the driver's cursor (issue 17, eighth round)
# ─────────────────────────────────────────────────────────────────────────────

class DriverText(sa.TextClause):
    """A plain SQL statement (untyped ``:name`` parameters and result columns) that ``AppSession.execute`` sends on
    the driver's cursor in the session's transaction, without SQLAlchemy's per-statement machinery (compiling its
    cache key, the execution context, the ORM's execute events, the cursor result's metadata): ~80 µs of CPU per
    statement (a reservation and its confirmation: ~0.45 ms less, in-process). Anywhere else (a plain
    ``Session``, a connection) it is an ordinary ``TextClause``, executed as before, with the same SQL and the
    same values either way."""

    inherit_cache = True


# Called before a DriverText statement is sent by an AppSession: what the ORM's ``do_orm_execute`` hooks do for a
# session's other statements (audit.py writes its pending records, so that the statement sees them).
_BEFORE_DRIVER_STATEMENT: list[Callable[[Session], None]] = []


def before_driver_statements(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Register ``hook(session)`` to run before each statement an ``AppSession`` sends on the driver's cursor."""
    _BEFORE_DRIVER_STATEMENT.append(hook)
    return hook


_DRIVER_SQL = "_nexdrive_driver_sql"


def _driver_sql(clause: DriverText, dialect) -> str | None:
    """The statement as SQLAlchemy itself would send it (psycopg's ``%(name)s`` placeholders, ``%`` escaped); None
    when it needs SQLAlchemy (a bound parameter with a type or expanding, or a dialect other than psycopg).

    Kept on the clause itself, with its id: a copy SQLAlchemy makes of it (``.bindparams(...)`` copies its
    ``__dict__``) has another id, so it is looked at afresh, and nothing outlives the clause it was made for."""
    memo = clause.__dict__.get(_DRIVER_SQL)
    if memo is not None and memo[0] == id(clause) and memo[1] == dialect.name:
        return memo[2]
    sql = None
    if dialect.driver == "psycopg" and all(
            b.type._isnull and not b.expanding and not b.literal_execute for b in clause._bindparams.values()):
        sql = str(clause.compile(dialect=dialect))
    clause.__dict__[_DRIVER_SQL] = (id(clause), dialect.name, sql)
    return sql


class DriverResult:
    """The rows of a statement sent on the driver's cursor, as SQLAlchemy ``Row`` objects, with the part of the
    ``Result`` API the app uses on them (``one``, ``first``, ``all``, ``scalar``, ``scalars``, ``mappings``,
    iteration, ``rowcount``)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list, rowcount: int):
        self._rows, self.rowcount = rows, rowcount

    def __iter__(self):
        rows, self._rows = self._rows, []
        return iter(rows)

    def all(self) -> list:
        rows, self._rows = self._rows, []
        return rows

    fetchall = all

    def first(self):
        rows, self._rows = self._rows, []
        return rows[0] if rows else None

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def one(self):
        rows, self._rows = self._rows, []
        if len(rows) != 1:
            raise (sa.exc.NoResultFound("No row was found when one was required") if not rows
                   else sa.exc.MultipleResultsFound("Multiple rows were found when exactly one was required"))
        return rows[0]

    def one_or_none(self):
        rows, self._rows = self._rows, []
        if len(rows) > 1:
            raise sa.exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return rows[0] if rows else None

    def scalar(self):
        row = self.first()
        return row[0] if row is not None else None

    def scalar_one(self):
        return self.one()[0]

    def scalar_one_or_none(self):
        row = self.one_or_none()
        return row[0] if row is not None else None

    def scalars(self) -> "DriverResult":
        rows, self._rows = self._rows, []
        return DriverResult([row[0] for row in rows], self.rowcount)

    def mappings(self) -> "DriverResult":
        rows, self._rows = self._rows, []
        return DriverResult([row._mapping for row in rows], self.rowcount)


_METADATA: dict[tuple[str, ...], Any] = {}


def _rows_of(cursor) -> list:
    description = cursor.description
    if description is None:
        return []
    keys = tuple(column.name for column in description)
    metadata = _METADATA.get(keys)
    if metadata is None:
        from sqlalchemy.engine.result import SimpleResultMetaData
        if len(_METADATA) > 2048:
            _METADATA.clear()
        metadata = _METADATA[keys] = SimpleResultMetaData(keys)
    index = metadata._key_to_index
    return [_Row(metadata, None, index, values) for values in cursor.fetchall()]


from sqlalchemy.engine.row import Row as _Row  # noqa: E402  (after the module's own names; used per row)


def unattached(model: type, row) -> Any:
    """A ``model`` instance holding ``row`` (a row read by a ``DriverText`` statement, its columns named as the
    model's attributes), built without the model's constructor or the ORM's load: ~0.3 ms less than
    ``session.get``. It is in no session, so it is for reading only (a change to it is never written)."""
    obj = sa.orm.instrumentation.manager_of_class(model).new_instance()
    obj.__dict__.update(row._mapping)
    return obj


class AppSession(Session):
    """The session ``session_scope`` opens: a ``DriverText`` statement (``cached_text``) goes out on the driver's
    cursor in this session's transaction; every other statement goes through SQLAlchemy as before.

    The same as SQLAlchemy's path in every way the app can see: the same transaction (begun as
    ``session.connection()`` begins it), the same SQL string (so psycopg's prepared statements are shared), the
    same values (a ``TextClause``'s untyped parameters and columns are passed through unconverted), the engine's
    ``before_cursor_execute`` listeners called with it (the statement recorders in the tests, the schema-change
    note of ``keep_prepared_statements_on_rollback``), the ``before_driver_statements`` hooks for the ORM's
    ``do_orm_execute`` ones, and a driver error raised as SQLAlchemy raises it (``sa.exc.IntegrityError`` with
    the driver's error as ``orig``; a lost connection invalidated). No autoflush is skipped: SQLAlchemy does not
    autoflush before a ``TextClause`` either. Where an engine has ``after_cursor_execute`` listeners (tracing
    such as Sentry's, which need SQLAlchemy's execution context), every statement takes SQLAlchemy's path."""

    def execute(self, statement, params=None, *args, **kwargs):
        if type(statement) is DriverText and not args and not kwargs:
            result = self._execute_on_driver(statement, params)
            if result is not None:
                return result
        return super().execute(statement, params, *args, **kwargs)

    def _execute_on_driver(self, clause: DriverText, params) -> DriverResult | None:
        for hook in _BEFORE_DRIVER_STATEMENT:
            hook(self)
        conn = self.connection()
        if conn.dispatch.after_cursor_execute:
            return None
        sql = _driver_sql(clause, conn.dialect)
        if sql is None:
            return None
        params = params or {}
        dbapi_connection = conn.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        try:
            for listener in conn.dispatch.before_cursor_execute:
                listener(conn, cursor, sql, params, None, False)
            cursor.execute(sql, params)
            rows = _rows_of(cursor)
            return DriverResult(rows, cursor.rowcount)
        except Exception as exc:
            conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # raises SQLAlchemy's wrapped error
            raise
        finally:
            cursor.close()
