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


def now(session=None) -> datetime:
    """The current instant (UTC, aware). With a session: the transaction's own time."""
    if _pinned is not None:
        return _pinned
    if session is not None:
        return session.execute(sa.text("SELECT now()")).scalar_one()
    return datetime.now(UTC)


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
