"""Tidying the database on a schedule: lapsed booking holds, old throttle rows, old job records.

Holds are also released lazily when an instructor's calendar is next changed
(services/booking.py); the job makes lapsed holds show as expired everywhere
within minutes, e.g. in the admin's lists.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.identity import accounts
from nexdrive.services.core import ratelimit
from nexdrive.services.core import clock

JOB_RUNS_KEPT = timedelta(days=30)


def _now(session: Session, now: datetime | None) -> datetime:
    return now or clock.now(session)


def release_lapsed_holds(session: Session, now: datetime | None = None) -> int:
    """Mark every hold whose time ran out as expired (they no longer block the slot). Returns how many."""
    result = session.execute(
        sa.text("UPDATE bookings SET status = 'expired' WHERE status = 'held' AND hold_expires_at <= :now"),
        {"now": _now(session, now)},
    )
    return result.rowcount or 0


def purge_job_runs(session: Session, now: datetime | None = None, kept: timedelta = JOB_RUNS_KEPT) -> int:
    """Forget finished job records older than ``kept`` (the 30-second dispatcher writes thousands a day)."""
    result = session.execute(sa.text("DELETE FROM job_runs WHERE started_at < :cut AND status <> 'running'"),
                             {"cut": _now(session, now) - kept})
    return result.rowcount or 0


def nightly_tidy(session: Session, now: datetime | None = None) -> dict:
    """The nightly housekeeping: sign-in throttle rows past every window, and old job records."""
    return {"throttle_events_purged": accounts.purge_throttle_events(session),
            "rate_limit_counters_purged": ratelimit.purge_expired(session),
            "job_runs_purged": purge_job_runs(session, now)}
