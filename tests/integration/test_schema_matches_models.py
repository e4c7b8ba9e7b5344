"""The Alembic migrations build exactly the schema the SQLModel tables describe.

Self-contained: starts its own embedded PostgreSQL (pgserver) in a temporary
directory, creates a fresh database, and runs the migrations through
``alembic.command`` with ``config.attributes["connection"]``.

Alembic's compare_metadata covers tables, columns, types, nullability, indexes,
unique constraints and foreign keys. It does not look at CHECK constraints,
foreign-key ON DELETE rules, partial-index predicates, generated/identity
columns or triggers, so those are checked separately below.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import nexdrive.models
from nexdrive.db import start_embedded_postgres, stop_embedded_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SPEC_TABLES = {
    "profiles", "instructors", "students", "parents", "parent_student_links",
    "contacts", "services", "availability_rules", "availability_overrides",
    "bookings", "lessons", "lesson_bridge_forms", "competency_tasks",
    "student_competencies", "signatures", "audit_log", "payments", "packages",
    "student_packages", "vouchers", "conversations", "messages", "call_logs",
    "private_notes", "self_assessments", "notifications", "rag_documents",
    "rag_chunks", "waitlist",
}
OUR_TABLES = {
    "auth_throttle_events",
    "users", "auth_sessions", "magic_links", "parent_invitations", "webhook_events",
    "outbox_messages", "notification_preferences", "marketing_consents", "invoices",
    "invoice_counters", "voucher_redemptions", "refunds", "business_settings", "chain_heads",
    "public_holidays", "offline_deliveries", "job_runs", "rate_limit_counters",
    "supervised_drives",
    "certificates",
    "lesson_counters", "lesson_disputes", "final_drive_notices",
    "instructor_services",
    "calendar_versions",
    "calendar_day_versions",
    "faq_entries", "testimonials", "blog_posts",
}


@pytest.fixture(scope="module")
def pg_url():
    # A short path: the server's unix socket lives in the data dir (108-byte limit).
    root = Path(tempfile.mkdtemp(prefix="nxschema-", dir="/tmp"))
    os.chmod(root, 0o777)
    pgdata = root / "data"
    url = start_embedded_postgres(pgdata, f"schema_{uuid.uuid4().hex[:12]}")
    yield url
    stop_embedded_postgres(pgdata)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def connection(pg_url):
    engine = sa.create_engine(
        pg_url, poolclass=sa.pool.NullPool, connect_args={"options": "-c timezone=UTC"}
    )
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _alembic_config(conn: sa.Connection) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["connection"] = conn
    cfg.attributes["skip_logging_config"] = True
    return cfg


def _diff(conn: sa.Connection) -> list:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(ctx, SQLModel.metadata)


def _public_tables(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def _assert_details_match(conn: sa.Connection) -> None:
    """What compare_metadata doesn't check."""
    insp = sa.inspect(conn)
    problems: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        name = table.name

        model_checks = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        db_checks = {c["name"] for c in insp.get_check_constraints(name)}
        if model_checks != db_checks:
            problems.append(f"{name}: CHECK {sorted(model_checks ^ db_checks)}")

        model_fks = {
            fk.name: (fk.ondelete or "NO ACTION").upper()
            for fk in table.foreign_key_constraints
        }
        db_fks = {
            fk["name"]: (fk["options"].get("ondelete") or "NO ACTION").upper()
            for fk in insp.get_foreign_keys(name)
        }
        if model_fks != db_fks:
            problems.append(f"{name}: FK ondelete {model_fks} != {db_fks}")

        db_indexes = {ix["name"]: ix for ix in insp.get_indexes(name)}
        for ix in table.indexes:
            db_ix = db_indexes.get(ix.name)
            if db_ix is None:
                continue  # compare_metadata reports it
            pg = ix.dialect_options["postgresql"]
            model_partial = pg.get("where") is not None
            db_partial = bool(db_ix.get("dialect_options", {}).get("postgresql_where"))
            if model_partial != db_partial:
                problems.append(f"{name}.{ix.name}: partial {model_partial} != {db_partial}")
            using = (pg.get("using") or "btree").lower()
            db_using = db_ix.get("dialect_options", {}).get("postgresql_using", "btree")
            if using != db_using:
                problems.append(f"{name}.{ix.name}: using {using} != {db_using}")

        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        for col in table.columns:
            if (col.computed is not None) != ("computed" in db_cols[col.name]):
                problems.append(f"{name}.{col.name}: generated column mismatch")
            if (col.identity is not None) != ("identity" in db_cols[col.name]):
                problems.append(f"{name}.{col.name}: identity mismatch")

    triggers = {
        row.table
        for row in conn.execute(
            sa.text(
                "SELECT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname = 'trg_' || c.relname || '_updated_at'"
            )
        )
    }
    expected = {t.name for t in SQLModel.metadata.sorted_tables if "updated_at" in t.c}
    if triggers != expected:
        problems.append(f"updated_at triggers: {sorted(triggers ^ expected)}")
    assert not problems, "\n".join(problems)


def test_every_table_is_modelled():
    assert set(SQLModel.metadata.tables) == SPEC_TABLES | OUR_TABLES
    assert nexdrive.models.UPDATED_AT_TABLES  # the package exports its table lists


def test_migrations_match_models_and_round_trip(connection):
    cfg = _alembic_config(connection)

    command.upgrade(cfg, "head")
    assert _diff(connection) == []
    assert _public_tables(connection) == SPEC_TABLES | OUR_TABLES
    _assert_details_match(connection)

    command.downgrade(cfg, "base")
    assert _public_tables(connection) == set()
    leftover = connection.execute(
        sa.text("SELECT proname FROM pg_proc WHERE proname = 'set_updated_at'")
    ).all()
    assert leftover == []

    command.upgrade(cfg, "head")
    assert _diff(connection) == []
    _assert_details_match(connection)


def test_updated_at_trigger_and_defaults(connection):
    """Server defaults work without the ORM, and updated_at moves on UPDATE."""
    cfg = _alembic_config(connection)
    command.upgrade(cfg, "head")
    with connection.begin_nested() if connection.in_transaction() else connection.begin() as tx:
        user_id = connection.execute(
            sa.text(
                "INSERT INTO users (email, role) VALUES ('Trigger@Example.com', 'student') "
                "RETURNING id"
            )
        ).scalar_one()
        before = connection.execute(
            sa.text("SELECT updated_at FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
        connection.execute(
            sa.text(
                "UPDATE users SET updated_at = '2000-01-01T00:00:00Z', status = 'suspended' "
                "WHERE id = :id"
            ),
            {"id": user_id},
        )
        after = connection.execute(
            sa.text("SELECT updated_at FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
        assert after >= before and after.year > 2000
        with pytest.raises(sa.exc.IntegrityError):
            with connection.begin_nested():
                connection.execute(
                    sa.text("INSERT INTO users (email, role) VALUES ('trigger@example.COM', 'parent')")
                )
        tx.rollback()
