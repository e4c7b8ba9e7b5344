"""The APScheduler scheduler that runs the job table (jobs/runner.py) in an app process.

Started with the app: nexdrive/nexdrive.py registers :func:`scheduler_lifespan`
as a Reflex lifespan task, which starts a BackgroundScheduler when
``NEXDRIVE_SCHEDULER`` is on (the default; the browser tests turn it off) and
shuts it down with the server. Every app process runs one; the database claim
in jobs/runner.py makes each due run happen in exactly one of them. The same
job table can also run on its own: ``python3 manage.py jobs serve``.

Triggers are cron triggers in Canberra time (Australia/Sydney), aligned to
the clock so all processes fire together; missed fires are coalesced into one
and a job never overlaps itself within a process (max_instances=1).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from jobs.runner import JOBS, run_job, scheduled_due
from nexdrive.formats import BUSINESS_TZ
from nexdrive.settings import get_settings

log = logging.getLogger("nexdrive.jobs")

_lock = threading.Lock()
_running: BaseScheduler | None = None


def run_scheduled(name: str) -> None:
    """What APScheduler calls: one due run of ``name`` (never raises; failures are recorded)."""
    try:
        run_job(name)
    except Exception:  # e.g. the database is down: log it, the next fire tries again
        log.exception("job %s could not be run", name)


def build_scheduler(*, blocking: bool = False, only: list[str] | None = None,
                    now: datetime | None = None) -> BaseScheduler:
    """A scheduler with the whole job table (or the ``only`` jobs), not started.

    A daily job whose fire time passed less than its grace time ago (the app was
    restarting at 06:00) is run at start; if another process already ran it,
    the claim says so and nothing happens.
    """
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=BUSINESS_TZ,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    for spec in JOBS.values():
        if only and spec.name not in only:
            continue
        catch_up = {}
        if spec.daily_at and now - scheduled_due(spec, now) <= timedelta(seconds=spec.misfire_grace_seconds):
            catch_up["next_run_time"] = now.astimezone(BUSINESS_TZ)
        scheduler.add_job(run_scheduled, trigger=spec.trigger(), args=[spec.name], id=spec.name,
                          name=spec.description, misfire_grace_time=spec.misfire_grace_seconds,
                          replace_existing=True, **catch_up)
    return scheduler


def start_scheduler() -> BaseScheduler:
    """Start this process's background scheduler (once)."""
    global _running
    with _lock:
        if _running is None:
            _running = build_scheduler()
            _running.start()
            message = f"NexDrive Academy: scheduler started ({', '.join(JOBS)}), Canberra time"
            log.warning(message)
            print(message, flush=True)
        return _running


def stop_scheduler(wait: bool = True) -> None:
    """Stop it, letting running jobs finish (their transactions commit or roll back whole)."""
    global _running
    with _lock:
        scheduler, _running = _running, None
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=wait)
        log.warning("scheduler stopped")


@contextlib.asynccontextmanager
async def scheduler_lifespan():
    """Reflex lifespan task: the scheduler runs while the server does."""
    if not get_settings().run_scheduler:
        print("NexDrive Academy: scheduler not started (NEXDRIVE_SCHEDULER=0)", flush=True)
        yield
        return
    start_scheduler()
    try:
        yield
    finally:
        await asyncio.to_thread(stop_scheduler)
