"""The one clock services read, so tests and jobs can pin the time.

Services that need "now" inside a transaction use ``now(session)``: the database's
transaction time unless a clock is pinned (tests, `jobs run --now`). Nothing else in
the services calls ``datetime.now()`` or ``date.today()``.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa

BUSINESS_TZ = ZoneInfo("Australia/Sydney")

_pinned: datetime | None = None
_MEMO = "nexdrive.clock.now"  # session.info: (the transaction, its now())


def now(session=None) -> datetime:
    """The current instant (UTC, aware). With a session: the transaction's own time."""
    if _pinned is not None:
        return _pinned
    if session is not None:
        return database_now(session)
    return datetime.now(UTC)


def database_now(session) -> datetime:
    """PostgreSQL's ``now()``: the transaction's start, whatever the pinned clock says (what the database
    itself writes in defaults). Asked once per transaction, not once per call."""
    get_transaction = getattr(session, "get_transaction", None)
    memo = session.info.get(_MEMO) if get_transaction else None
    if memo is not None and memo[0] is get_transaction():
        return memo[1]
    value = session.execute(sa.text("SELECT now()")).scalar_one()
    if get_transaction and get_transaction() is not None:  # (the query may have begun the transaction)
        session.info[_MEMO] = (get_transaction(), value)
    return value


def remember_database_now(session, value: datetime) -> None:
    """PostgreSQL's ``now()`` read by another statement of this transaction (it is the same all transaction
    long): ``database_now`` then asks no more."""
    get_transaction = getattr(session, "get_transaction", None)
    if get_transaction and get_transaction() is not None:
        session.info[_MEMO] = (get_transaction(), value)


def is_pinned() -> bool:
    """True while a test or a job has pinned the clock (then ``now`` asks no database)."""
    return _pinned is not None


def today(session=None) -> date:
    """Today's date in Canberra."""
    return now(session).astimezone(BUSINESS_TZ).date()


@contextmanager
def pinned(at: datetime) -> Iterator[datetime]:
    """Pin the clock to ``at`` (aware) for the block."""
    global _pinned
    if at.tzinfo is None:
        raise ValueError("pin the clock to an aware datetime")
    before, _pinned = _pinned, at.astimezone(UTC)
    try:
        yield _pinned
    finally:
        _pinned = before
