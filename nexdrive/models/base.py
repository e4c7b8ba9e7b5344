"""Shared column helpers for the SQLModel tables.

Conventions (docs/decisions/0000-stack.md-§3):

* UUID primary keys: ``gen_random_uuid()`` in the database *and* ``uuid4`` in
  Python, so an object has its id before it is flushed.
* Every timestamp is ``TIMESTAMP WITH TIME ZONE`` and holds UTC.
* Money is integer cents (``*_cents``), never float/numeric.
* Enumerations are TEXT + a named CHECK constraint (:func:`check_in`), never
  PostgreSQL enums.
* Every constraint and index has a deterministic name: explicit names for the
  spec's indexes, and the naming convention below for the rest. The
  convention is installed on ``SQLModel.metadata`` when this module is
  imported, i.e. before any table is declared.
* ``updated_at`` is maintained by the ``set_updated_at()`` trigger created in
  migration 0001 (the ORM also bumps it, so a session sees a fresh value).
* Columns filled by database triggers (hash chains, ``bookings.instructor_key``)
  are marked with :class:`sqlalchemy.FetchedValue` so the ORM leaves them out of
  the INSERT and reads them back with ``RETURNING``.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Python-side type of a TIMESTAMPTZ column: SQLAlchemy's DateTime(timezone=True).
TZ = sa.DateTime(timezone=True)


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(timezone.utc)


def _field(column: sa.Column, default: Any = None) -> Any:
    """A SQLModel Field over ``column``: required when NOT NULL without any default."""
    if default is None and not column.nullable and column.server_default is None:
        return Field(sa_column=column)
    return Field(default=default, sa_column=column)


# ─────────────────────────────────────────────────────────────────────────────
# Field factories. Each call builds a new Column (a Column belongs to one table).
# ─────────────────────────────────────────────────────────────────────────────

def uuid_pk() -> Any:
    """``id UUID PRIMARY KEY DEFAULT gen_random_uuid()`` (+ ``uuid4`` in Python)."""
    return Field(
        default_factory=uuid.uuid4,
        sa_column=sa.Column(
            "id",
            sa.Uuid,
            primary_key=True,
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
    )


def created_at_field() -> Any:
    """``created_at TIMESTAMPTZ NOT NULL DEFAULT now()``."""
    return Field(
        default_factory=utcnow,
        sa_column=sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )


def updated_at_field() -> Any:
    """``updated_at TIMESTAMPTZ NOT NULL DEFAULT now()``, bumped by trigger and ORM."""
    return Field(
        default_factory=utcnow,
        sa_column=sa.Column(
            "updated_at", TZ, nullable=False, server_default=sa.func.now(), onupdate=utcnow
        ),
    )


def ts_field(*, nullable: bool = True, server_now: bool = False, index: bool = False) -> Any:
    """A TIMESTAMPTZ column. ``server_now`` adds ``DEFAULT now()`` (and a Python default)."""
    column = sa.Column(
        TZ,
        nullable=nullable,
        server_default=sa.func.now() if server_now else None,
        index=index,
    )
    if server_now:
        return Field(default_factory=utcnow, sa_column=column)
    return _field(column)


def fk_field(
    target: str,
    *,
    nullable: bool = True,
    ondelete: str | None = None,
    index: bool = True,
    unique: bool = False,
    use_alter: bool = False,
) -> Any:
    """A UUID foreign-key column (indexed by default).

    ``use_alter`` marks the edges of reference cycles (bookings <-> lessons,
    bookings <-> payments); migration 0001 adds those constraints after the
    tables exist.
    """
    column = sa.Column(
        sa.Uuid,
        sa.ForeignKey(target, ondelete=ondelete, use_alter=use_alter),
        nullable=nullable,
        index=index and not unique,
        unique=unique,
    )
    return _field(column)


def uuid_field(*, nullable: bool = True, index: bool = False) -> Any:
    """A plain UUID column (no foreign key), e.g. a polymorphic document id."""
    return _field(sa.Column(sa.Uuid, nullable=nullable, index=index))


def text_field(
    *,
    nullable: bool = True,
    default: str | None = None,
    index: bool = False,
    unique: bool = False,
) -> Any:
    """A TEXT column; ``default`` is applied both in Python and as a server default."""
    column = sa.Column(
        sa.Text,
        nullable=nullable,
        server_default=sa.text(_sql_literal(default)) if default is not None else None,
        index=index,
        unique=unique,
    )
    return _field(column, default)


def int_field(
    *,
    nullable: bool = True,
    default: int | None = None,
    big: bool = False,
    index: bool = False,
) -> Any:
    """An INTEGER (or BIGINT) column; ``default`` is applied in Python and in the database."""
    column = sa.Column(
        sa.BigInteger if big else sa.Integer,
        nullable=nullable,
        server_default=sa.text(str(int(default))) if default is not None else None,
        index=index,
    )
    return _field(column, default)


def bool_field(*, default: bool | None = None, nullable: bool = False) -> Any:
    """A BOOLEAN column (NOT NULL by default)."""
    column = sa.Column(
        sa.Boolean,
        nullable=nullable,
        server_default=(sa.true() if default else sa.false()) if default is not None else None,
    )
    return _field(column, default)


def date_field(*, nullable: bool = True, server_today: bool = False, index: bool = False) -> Any:
    """A DATE column; ``server_today`` adds ``DEFAULT CURRENT_DATE``."""
    column = sa.Column(
        sa.Date,
        nullable=nullable,
        server_default=sa.text("CURRENT_DATE") if server_today else None,
        index=index,
    )
    return _field(column)


def time_field(*, nullable: bool = True) -> Any:
    """A wall-clock TIME (without time zone) column, e.g. availability 08:00-17:00."""
    return _field(sa.Column(sa.Time(timezone=False), nullable=nullable))


def numeric_field(precision: int, scale: int, *, nullable: bool = True, default: str | None = None) -> Any:
    """A NUMERIC(p, s) column, for rates, hours and coordinates (never money)."""
    column = sa.Column(
        sa.Numeric(precision, scale),
        nullable=nullable,
        server_default=sa.text(default) if default is not None else None,
    )
    return _field(column)


def jsonb_field(*, nullable: bool = True, default: str | None = None) -> Any:
    """A JSONB column. ``default`` is ``"{}"`` or ``"[]"`` (server and Python side)."""
    column = sa.Column(
        JSONB,
        nullable=nullable,
        server_default=sa.text(f"'{default}'::jsonb") if default is not None else None,
    )
    if default == "{}":
        return Field(default_factory=dict, sa_column=column)
    if default == "[]":
        return Field(default_factory=list, sa_column=column)
    return _field(column)


def int_array_field(*, nullable: bool = False) -> Any:
    """``INTEGER[] NOT NULL DEFAULT '{}'``."""
    column = sa.Column(
        sa.ARRAY(sa.Integer), nullable=nullable, server_default=sa.text("'{}'::integer[]")
    )
    return Field(default_factory=list, sa_column=column)


def uuid_array_field(*, nullable: bool = False) -> Any:
    """``UUID[] NOT NULL DEFAULT '{}'``."""
    column = sa.Column(sa.ARRAY(sa.Uuid), nullable=nullable, server_default=sa.text("'{}'::uuid[]"))
    return Field(default_factory=list, sa_column=column)


class InetStr(sa.types.TypeDecorator):
    """PostgreSQL INET, read back as ``str`` (psycopg would return ``ipaddress`` objects)."""

    impl = INET
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value)


def inet_field() -> Any:
    """A nullable INET column holding an IP address as a string."""
    return Field(default=None, sa_column=sa.Column(InetStr(), nullable=True))


def trigger_filled_field(type_: sa.types.TypeEngine | type, *, on_update: bool = False) -> Any:
    """A NOT NULL column that a BEFORE INSERT (``on_update``: and UPDATE) trigger fills.

    Optional in Python; the ORM omits it from INSERT when unset and reads the
    trigger's value back with RETURNING.
    """
    return Field(
        default=None,
        sa_column=sa.Column(
            type_,
            nullable=False,
            server_default=sa.FetchedValue(),
            server_onupdate=sa.FetchedValue() if on_update else None,
        ),
    )


# ─────────────────────────────────────────────────────────────────────────────
# Constraint helpers
# ─────────────────────────────────────────────────────────────────────────────

def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_in(column: str, values: Iterable[str], *, name: str | None = None) -> sa.CheckConstraint:
    """``CHECK (column IN (...))`` named ``ck_<table>_<name or column>`` (NULL passes)."""
    items = ", ".join(_sql_literal(v) for v in values)
    return sa.CheckConstraint(f"{column} IN ({items})", name=name or column)


def check(expr: str, name: str) -> sa.CheckConstraint:
    """A named CHECK constraint (``ck_<table>_<name>``)."""
    return sa.CheckConstraint(expr, name=name)


__all__ = [
    "InetStr",
    "NAMING_CONVENTION",
    "TZ",
    "bool_field",
    "check",
    "check_in",
    "created_at_field",
    "date_field",
    "fk_field",
    "inet_field",
    "int_array_field",
    "int_field",
    "jsonb_field",
    "numeric_field",
    "text_field",
    "time_field",
    "trigger_filled_field",
    "ts_field",
    "updated_at_field",
    "utcnow",
    "uuid_array_field",
    "uuid_field",
    "uuid_pk",
]
