"""Test fixtures: a real embedded PostgreSQL (never SQLite, never mocks).

One server per test session; the schema is migrated once into a template
database, and each test that needs a database gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE), so tests can commit, run concurrently and
never see each other's rows.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

# Files the tests write (invoice PDFs, offline stores) go to a scratch folder, never the app's own .data.
if "NEXDRIVE_DATA_DIR" not in os.environ:
    _scratch = tempfile.mkdtemp(prefix="nexdrive-test-data-")
    os.environ["NEXDRIVE_DATA_DIR"] = _scratch
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)

from nexdrive import db as nxdb
from nexdrive import migrations

TEMPLATE_DB = "nexdrive_template"


class PgServer:
    def __init__(self, pgdata: Path):
        self.pgdata = pgdata

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.pgdata}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(host=str(self.pgdata), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server():
    # Short path: the server's unix socket lives in the data dir (108-byte limit).
    pgdata = Path(tempfile.mkdtemp(prefix="nxpg-", dir="/tmp"))
    os.chmod(pgdata, 0o777)
    pgdata = pgdata / "data"
    nxdb.start_embedded_postgres(pgdata, "postgres")
    server = PgServer(pgdata)
    yield server
    nxdb.stop_embedded_postgres(pgdata)
    shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: PgServer) -> str:
    """Migrated schema plus reference data; each test copies it."""
    from nexdrive.data import seed

    pg_server.admin(f'CREATE DATABASE "{TEMPLATE_DB}"')
    engine = nxdb.make_engine(pg_server.url(TEMPLATE_DB), poolclass=sa.pool.NullPool)
    migrations.upgrade(engine)
    with nxdb.session_scope(engine) as session:
        seed.load_reference_data(session)
    engine.dispose()
    return TEMPLATE_DB


@pytest.fixture
def db_url(pg_server: PgServer, template_db: str):
    name = pg_server.create_database(template_db)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def engine(db_url: str):
    eng = nxdb.make_engine(db_url, pool_size=5, max_overflow=40)
    nxdb.set_engine(eng)
    yield eng
    nxdb.set_engine(None)
    eng.dispose()


@pytest.fixture
def empty_db_url(pg_server: PgServer):
    """A database with nothing in it, for migration tests."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)
