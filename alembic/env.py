"""Alembic environment for NexDrive Academy (plain alembic, not ``reflex db``).

Where the database comes from, in order:

1. ``config.attributes["connection"]``: an open SQLAlchemy Connection (tests);
2. ``sqlalchemy.url`` in alembic.ini / ``-x``-less ``config.set_main_option``;
3. :func:`nexdrive.db.database_url` — ``DATABASE_URL``, or the embedded
   PostgreSQL started in the data directory when it is unset.
"""
from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import nexdrive.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config

# Logging from alembic.ini only for the command line: programmatic callers
# (the launcher, tests) pass a connection and keep their own logging setup.
if (
    config.config_file_name is not None
    and "connection" not in config.attributes
    and not config.attributes.get("skip_logging_config")
):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Hook for autogenerate/compare. Nothing is skipped by default."""
    return True


def _configure_kwargs() -> dict:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "include_object": include_object,
    }


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        from nexdrive.db import normalise_url

        return normalise_url(url)
    from nexdrive.db import database_url

    return database_url()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_kwargs(),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with_connection(connection: sa.Connection) -> None:
    context.configure(connection=connection, **_configure_kwargs())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with_connection(connection)
        return
    engine = sa.create_engine(
        _url(),
        poolclass=sa.pool.NullPool,
        connect_args={"options": "-c timezone=UTC"},
    )
    try:
        with engine.connect() as conn:
            _run_with_connection(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
