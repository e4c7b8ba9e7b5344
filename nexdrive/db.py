"""Engine and sessions, and the embedded PostgreSQL used when no DATABASE_URL is set.

The embedded server (pgserver: PostgreSQL 16 + pgvector) lives in the data dir
and is shared by every process of the app through pgserver's handle file.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from nexdrive.settings import get_settings

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
    return sa.create_engine(url, **kwargs)


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
    with Session(engine or get_engine(), expire_on_commit=False) as session:
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
