"""The job table, and running one due run of a job exactly once across every app process.

How "once" is guaranteed (docs/decisions/0000-stack.md). Every app process (each Reflex
worker, or a separate ``manage.py jobs serve``) runs the same APScheduler job
table with aligned cron triggers, so all of them fire at the same moments.
When a job fires, the process:

1. works out the run's due time: the trigger's latest scheduled fire time at
   or before now (UTC), the same value in every process whatever its lag;
2. claims the run: ``INSERT INTO job_runs (job_name, due_at, ...) ON CONFLICT
   (job_name, due_at) DO NOTHING RETURNING id`` in its own committed
   transaction. The unique key lets exactly one insert land; a process whose
   insert finds the row skips the run;
3. takes a session-level advisory lock on the job name for the duration of
   the work, so runs of one job never overlap (a slow run and the next one, or
   a run started by hand): the next run waits for the earlier one to end, up
   to the job's grace time, and is recorded as skipped if it is still going;
4. does the work in its own transaction(s) and records ok/failed with the
   result or error.

The jobs are idempotent besides (outbox idempotency keys, status changes that
only apply once, alert keys), so a run started by hand on top of a scheduled
one, or a repeated run, doubles nothing.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from psycopg import errors as pg_errors
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import Engine

from jobs import tasks
from jobs.triggers import DailyAt
from nexdrive.formats import BUSINESS_TZ

UTC = timezone.utc
log = logging.getLogger("nexdrive.jobs")


@dataclass(frozen=True)
class JobSpec:
    name: str
    body: Callable[[Engine, datetime | None], Any]
    description: str
    cron: dict[str, str | int] | None = None  # CronTrigger fields (sub-daily jobs), Canberra time
    daily_at: str | None = None  # "HH:MM" Canberra time (daily jobs: see jobs/triggers.py)
    lookback: timedelta = timedelta(hours=26)  # longer than the longest gap between two fires
    misfire_grace_seconds: int = 3600  # also how long a run waits for an earlier one to end

    def trigger(self) -> BaseTrigger:
        if self.daily_at:
            hour, minute = (int(x) for x in self.daily_at.split(":"))
            return DailyAt(hour, minute, BUSINESS_TZ)
        return CronTrigger(timezone=BUSINESS_TZ, **(self.cron or {}))


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("outbox_dispatch", tasks.dispatch_outbox, "send queued SMS and e-mail (every 30 seconds)",
            cron={"second": "*/30"}, lookback=timedelta(minutes=2), misfire_grace_seconds=20),
    JobSpec("release_holds", tasks.release_holds,
            "close lapsed checkouts, release lapsed booking holds, resend unanswered refunds (every 5 minutes)",
            cron={"minute": "*/5"}, lookback=timedelta(minutes=15), misfire_grace_seconds=240),
    JobSpec("reminders", tasks.reminders, "lesson reminders: the day before and 2 hours before (every 15 minutes)",
            cron={"minute": "*/15"}, lookback=timedelta(minutes=45), misfire_grace_seconds=600),
    JobSpec("package_expiry", tasks.package_expiry, "mark expired lesson packages (daily 00:05)",
            daily_at="00:05"),
    JobSpec("callback_followup", tasks.callback_followup,
            "remind the office of callers waiting for a call back (every 2 hours, 8 am - 8 pm)",
            cron={"hour": "8-20/2", "minute": 0}),
    JobSpec("waitlist_matcher", tasks.waitlist_matcher,
            "offer open times to the waitlist (daily 08:30; cancellations offer at once)", daily_at="08:30"),
    JobSpec("daily_digest", tasks.daily_digest, "the owner's daily summary (daily 06:00)", daily_at="06:00"),
    JobSpec("integrity_check", tasks.integrity_check, "verify every hash chain, alert on a break (daily 03:00)",
            daily_at="03:00"),
    JobSpec("accreditation_warnings", tasks.accreditation_warnings,
            "warn instructors 60, 30 and 7 days before their ACT accreditation lapses (daily 07:00)",
            daily_at="07:00"),
    JobSpec("housekeeping", tasks.housekeeping, "purge old throttle rows and job records (daily 03:30)",
            daily_at="03:30"),
)}


def scheduled_due(spec: JobSpec, now: datetime) -> datetime:
    """The latest fire time of the job's trigger at or before ``now`` (UTC): the run's identity."""
    trigger = spec.trigger()
    now = now.astimezone(UTC)  # Python adds timedeltas to aware datetimes on the wall clock: stay in UTC
    fire = trigger.get_next_fire_time(None, (now - spec.lookback).astimezone(BUSINESS_TZ))
    last = None
    while fire is not None and fire <= now:
        last = fire
        after = (fire.astimezone(UTC) + timedelta(microseconds=1)).astimezone(BUSINESS_TZ)
        fire = trigger.get_next_fire_time(fire, after)
    if last is None:
        raise RuntimeError(f"job {spec.name} has no fire time within {spec.lookback} before {now}")
    return last.astimezone(UTC)


@dataclass
class RunOutcome:
    job: str
    due_at: datetime
    status: str  # ok | failed | skipped (busy) | taken (claimed by another process)
    result: Any = None
    error: str | None = None
    run_id: uuid.UUID | None = None


def _who() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def claim(engine: Engine, job_name: str, due_at: datetime, *, manual: bool = False) -> uuid.UUID | None:
    """Insert the run's row in its own transaction; None when another process already has it."""
    host, pid = _who()
    with engine.begin() as conn:
        return conn.execute(sa.text(
            "INSERT INTO job_runs (job_name, due_at, manual, host, pid) VALUES (:j, :d, :m, :h, :p) "
            "ON CONFLICT (job_name, due_at) DO NOTHING RETURNING id"),
            {"j": job_name, "d": due_at, "m": manual, "h": host, "p": pid}).scalar()


def _finish(engine: Engine, run_id: uuid.UUID, status: str, result: Any = None, error: str | None = None) -> None:
    payload = json.dumps(result if isinstance(result, dict) else {"result": result}, default=str)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE job_runs SET status = :s, finished_at = greatest(clock_timestamp(), started_at), "
            "result = CAST(:r AS jsonb), error = :e WHERE id = :id"),
            {"s": status, "r": payload, "e": error, "id": run_id})


def _lock_key(job_name: str) -> int:
    return zlib.crc32(f"nexdrive.job:{job_name}".encode())  # stable across processes (unlike hash())


def _wait_for_lock(conn: sa.Connection, name: str, seconds: int) -> bool:
    """Take the job's session-level advisory lock, waiting up to ``seconds`` for an earlier run to end."""
    try:
        conn.execute(sa.text("SELECT set_config('lock_timeout', :t, false)"), {"t": f"{max(1, seconds)}s"})
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(name)})
        return True
    except OperationalError as exc:
        if not isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise
        conn.rollback()
        return False
    finally:
        conn.execute(sa.text("RESET lock_timeout"))
        conn.commit()


def run_job(name: str, *, engine: Engine | None = None, now: datetime | None = None,
            manual: bool = False) -> RunOutcome:
    """Run the due run of job ``name`` unless another process has claimed it.

    ``now`` simulates the clock (tests, catching up by hand); the job body gets it
    too. ``manual`` runs the job now whatever the schedule: it is keyed on the
    moment it was asked for, so it never steals a scheduled run.
    """
    from nexdrive.db import get_engine

    spec = JOBS[name]
    engine = engine or get_engine()
    at = (now or datetime.now(UTC)).astimezone(UTC)
    due = at if manual else scheduled_due(spec, at)
    run_id = claim(engine, name, due, manual=manual)
    if run_id is None:
        log.info("job %s due %s: taken by another process", name, due.isoformat())
        return RunOutcome(name, due, "taken")
    with engine.connect() as lock_conn:
        if not _wait_for_lock(lock_conn, name, spec.misfire_grace_seconds):
            _finish(engine, run_id, "skipped", error="an earlier run of this job is still going")
            log.warning("job %s due %s: skipped, an earlier run is still going", name, due.isoformat())
            return RunOutcome(name, due, "skipped", run_id=run_id)
        try:
            result = spec.body(engine, now)
        except Exception as exc:  # recorded and logged; the scheduler carries on with the next run
            log.exception("job %s due %s failed", name, due.isoformat())
            error = f"{exc.__class__.__name__}: {exc}"
            _finish(engine, run_id, "failed", error=error)
            return RunOutcome(name, due, "failed", error=error, run_id=run_id)
        finally:
            lock_conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(name)})
            lock_conn.commit()
    _finish(engine, run_id, "ok", result)
    log.info("job %s due %s: ok %s", name, due.isoformat(), result)
    return RunOutcome(name, due, "ok", result=result, run_id=run_id)
