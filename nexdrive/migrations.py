"""Run the Alembic migrations from code (launcher, tests, benchmarks)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from nexdrive.settings import PROJECT_ROOT


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
