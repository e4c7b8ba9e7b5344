"""Each due job runs once across processes, re-runs double nothing, and the scheduler starts with the app."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs import runner, scheduler
from jobs.runner import JOBS, JobSpec, run_job
from jobs.triggers import DailyAt
from nexdrive.db import session_scope
from nexdrive.models import AuthThrottleEvent, CallLog, WaitlistEntry
from nexdrive.services.core import audit
from nexdrive.services.scheduling import reminders
from nexdrive.services.core.actors import SYSTEM
from nexdrive.settings import PROJECT_ROOT, reset_settings
from tests.booking_helpers import only_instructor, open_instructor
from tests.factories import make_instructor, make_service, make_student
from tests.jobs_helpers import CANBERRA, UTC, lesson, local, make_admin, snapshot

PYTHON = sys.executable

# A child process: import everything, say "ready", wait for the starting gun, then run the
# reminders job for each simulated time in turn (as a scheduler in that process would).
CHILD = r"""
import json, os, sys, time
from datetime import datetime
from pathlib import Path
from jobs.runner import run_job
from nexdrive.db import get_engine
go = Path(sys.argv[1])
nows = [datetime.fromisoformat(x) for x in sys.argv[2:]]
with get_engine().connect():
    pass
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
print(json.dumps({"pid": os.getpid(), "statuses": [run_job("reminders", now=n).status for n in nows]}), flush=True)
"""


def _child_env(db_url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=db_url, NEXDRIVE_SCHEDULER="0", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(PROJECT_ROOT))
    env.pop("NEXDRIVE_EMBEDDED_DB", None)
    return env


def test_two_processes_running_the_job_at_the_same_due_times_send_each_reminder_once(engine, db_url):
    day = datetime(2027, 3, 10).date()
    starts = [local(day, hhmm) for hhmm in ("09:00", "10:30", "12:00", "13:30", "15:00", "16:30")]
    with session_scope(engine) as s:
        instructor = make_instructor(s)
        service = make_service(s, minutes=60)
        student = make_student(s, instructor)
        bookings = [lesson(s, instructor, service, start, student=student).id for start in starts]
    first, last = local(day - timedelta(days=1), "08:45"), local(day, "17:00")
    nows = [first + timedelta(minutes=15 * i) for i in range(int((last - first) / timedelta(minutes=15)) + 1)]

    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [subprocess.Popen([PYTHON, "-c", CHILD, str(go), *[n.isoformat() for n in nows]],
                                  cwd=PROJECT_ROOT, env=_child_env(db_url), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            for p in procs:
                assert p.stdout.readline().strip() == "ready", p.stderr.read()
            go.touch()  # both start together
            outputs = [p.communicate(timeout=300) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]

    # For every due time exactly one process ran the job, the other found it taken.
    for i in range(len(nows)):
        assert sorted(r["statuses"][i] for r in results) == ["ok", "taken"], nows[i]
    with session_scope(engine) as s:
        runs = s.execute(sa.text("SELECT due_at, status, pid FROM job_runs WHERE job_name = 'reminders'")).all()
        keys = s.execute(sa.text("SELECT idempotency_key FROM outbox_messages")).scalars().all()
    assert sorted(r.due_at for r in runs) == nows
    assert {r.status for r in runs} == {"ok"}
    assert {r.pid for r in runs} <= {p.pid for p in procs}
    expected = {reminders.reminder_key(k, b, s) for b, s in zip(bookings, starts) for k in reminders.KINDS}
    assert sorted(keys) == sorted(expected)  # 12 reminders, each exactly once


@pytest.mark.real_timers
def test_two_real_schedulers_fire_together_and_only_one_runs_each_due_job(engine, db_url):
    """Two `manage.py jobs serve` processes (APScheduler, real clock) on one database."""
    procs = [subprocess.Popen([PYTHON, "-m", "nexdrive.cli", "jobs", "serve", "--only", "outbox_dispatch"],
                              cwd=PROJECT_ROOT, env=_child_env(db_url), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True) for _ in range(2)]
    try:
        for p in procs:
            assert "scheduler running" in p.stdout.readline()
        started = datetime.now(UTC)
        deadline = time.monotonic() + 90
        done = []
        while time.monotonic() < deadline and not done:
            time.sleep(1)
            with engine.connect() as conn:
                done = conn.execute(sa.text(
                    "SELECT due_at FROM job_runs WHERE job_name = 'outbox_dispatch' AND due_at > :t "
                    "AND status <> 'running' ORDER BY due_at"), {"t": started + timedelta(seconds=1)}).scalars().all()
        time.sleep(2)  # let the losing process log its "taken" line
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        logs = [p.communicate(timeout=30)[1] for p in procs]
    assert done, logs
    for due in done:
        stamp = re.escape(due.isoformat())
        ran = [bool(re.search(rf"job outbox_dispatch due {stamp}: ok", log)) for log in logs]
        taken = [bool(re.search(rf"job outbox_dispatch due {stamp}: taken by another process", log)) for log in logs]
        assert sorted(ran) == [False, True] and sorted(taken) == [False, True] and ran != taken, (due, logs)
    assert all(p.returncode == 0 for p in procs)  # SIGTERM shuts the scheduler down cleanly


def test_a_claimed_run_is_not_run_again_and_is_recorded(engine):
    now = datetime(2027, 5, 3, 1, 7, 12, tzinfo=UTC)
    first = run_job("release_holds", engine=engine, now=now)
    again = run_job("release_holds", engine=engine, now=now + timedelta(minutes=2))  # same 5-minute slot
    assert (first.status, again.status) == ("ok", "taken")
    assert first.due_at == datetime(2027, 5, 3, 1, 5, tzinfo=UTC)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM job_runs")).one()
    assert (row.job_name, row.due_at, row.status, row.pid, row.result) == (
        "release_holds", first.due_at, "ok", os.getpid(), {"checkouts_expired": 0, "released": 0})
    assert row.finished_at >= row.started_at
    # A run by hand is keyed on the moment it was asked for, so it never steals a scheduled run.
    manual = run_job("release_holds", engine=engine, now=now + timedelta(minutes=2), manual=True)
    assert manual.status == "ok" and manual.due_at == now + timedelta(minutes=2)


@pytest.mark.real_timers
def test_a_failing_job_is_recorded_and_a_busy_one_is_skipped(engine, monkeypatch):
    def boom(_engine, _now):
        raise RuntimeError("the printer is on fire")

    monkeypatch.setitem(JOBS, "boom", JobSpec("boom", boom, "fails", cron={"minute": "*/5"},
                                                 lookback=timedelta(minutes=15), misfire_grace_seconds=1))
    now = datetime(2027, 5, 3, 1, 0, tzinfo=UTC)
    failed = run_job("boom", engine=engine, now=now)
    assert (failed.status, failed.error) == ("failed", "RuntimeError: the printer is on fire")

    # The advisory lock was let go; while another connection holds it, the next run waits (1 s here), then skips.
    with engine.connect() as holder:
        assert holder.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": runner._lock_key("boom")}).scalar()
        skipped = run_job("boom", engine=engine, now=now + timedelta(minutes=5))
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": runner._lock_key("boom")})
        holder.commit()
    assert skipped.status == "skipped"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, error FROM job_runs ORDER BY due_at")).all()
    assert [r.status for r in rows] == ["failed", "skipped"]
    assert rows[0].error == "RuntimeError: the printer is on fire"


@pytest.fixture
def busy_school(engine):
    """Something for every job to do, at the simulated instant T (the next quarter hour)."""
    real = datetime.now(UTC)
    T = real.replace(second=0, microsecond=0) + timedelta(minutes=15 - real.minute % 15)
    with session_scope(engine) as s:
        admin = make_admin(s)
        instructor, service = open_instructor(s, days=(0, 1, 2, 3, 4, 5, 6))
        only_instructor(s, instructor.id)
        student = make_student(s, instructor)
        # A lesson whose day-before reminder is due at T (same Canberra wall time tomorrow).
        wall = T.astimezone(CANBERRA).replace(tzinfo=None) + timedelta(days=1)
        lesson(s, instructor, service, wall.replace(tzinfo=CANBERRA).astimezone(UTC), student=student)
        # A hold that lapsed a minute before T, far enough ahead not to clash.
        lesson(s, instructor, service, T + timedelta(days=5, hours=3), student=student, status="held",
               hold_expires_at=T - timedelta(minutes=1), created_at=T - timedelta(minutes=36))
        s.add(CallLog(caller_phone="+61422222222", caller_name="Alex", caller_reason="wants a lesson",
                      started_at=T - timedelta(hours=3), requires_callback=True))
        s.add(WaitlistEntry(student_id=student.id, service_id=service.id))
        s.add(AuthThrottleEvent(action="magic_link", account="old@example.com", created_at=real - timedelta(days=2)))
        for i in range(3):
            audit.record_event(s, SYSTEM, "TEST_EVENT", details={"i": i})
    with engine.begin() as conn:  # break the audit chain as a superuser would
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("UPDATE audit_log SET details = '{\"i\": 99}' WHERE seq = 2"))
    return T, admin


def test_every_job_is_idempotent_when_re_run(engine, busy_school):
    T, admin = busy_school
    outcomes = {name: run_job(name, engine=engine, now=T) for name in JOBS}
    assert {name: o.status for name, o in outcomes.items()} == {name: "ok" for name in JOBS}, outcomes
    after_first = snapshot(engine)

    # What the first runs did.
    assert outcomes["reminders"].result["day_before"] == 1
    assert outcomes["release_holds"].result == {"checkouts_expired": 0, "released": 1}
    assert outcomes["callback_followup"].result == {"open": 1, "alerts_queued": 2}  # e-mail + in-app
    assert outcomes["waitlist_matcher"].result["offered"] == 1
    assert outcomes["integrity_check"].result["broken"][0]["chain"] == "audit_log"
    assert outcomes["daily_digest"].result["messages_queued"] == 2
    assert outcomes["housekeeping"].result["throttle_events_purged"] == 1
    templates = {r[0].split(":")[0] for r in after_first["outbox"]}
    assert {"booking_reminder_24h", "callback_followup", "waitlist", "daily_digest", "integrity_alert"} <= templates

    # The same due runs again in another process: taken. The bodies run again anyway: nothing new.
    assert {run_job(name, engine=engine, now=T).status for name in JOBS} == {"taken"}
    for spec in JOBS.values():
        spec.body(engine, T)
    assert snapshot(engine) == after_first


def test_the_scheduler_has_the_whole_job_table_in_canberra_time():
    sched = scheduler.build_scheduler()
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == set(JOBS) == {"outbox_dispatch", "release_holds", "reminders", "package_expiry",
                                      "callback_followup", "waitlist_matcher", "daily_digest", "integrity_check",
                                      "housekeeping", "accreditation_warnings"}
    assert all(isinstance(j.trigger, (CronTrigger, DailyAt)) and str(j.trigger.timezone) == "Australia/Sydney"
               for j in jobs.values())

    def fires(name, after, n=3):
        trig, out, prev, t = JOBS[name].trigger(), [], None, after
        for _ in range(n):
            prev = trig.get_next_fire_time(prev, t)
            out.append(prev.astimezone(CANBERRA).strftime("%d %H:%M:%S %Z"))
            t = prev
        return out

    spring, autumn = datetime(2026, 10, 4, 1, 40, tzinfo=CANBERRA), datetime(2027, 4, 4, 1, 40, tzinfo=CANBERRA)
    assert fires("outbox_dispatch", spring) == ["04 01:40:00 AEST", "04 01:40:30 AEST", "04 01:41:00 AEST"]
    # Every 15 real minutes through both changes: 02:00-02:45 skipped in October, run twice in April.
    assert fires("reminders", spring) == ["04 01:45:00 AEST", "04 03:00:00 AEDT", "04 03:15:00 AEDT"]
    assert fires("reminders", autumn, 7) == ["04 01:45:00 AEDT", "04 02:00:00 AEDT", "04 02:15:00 AEDT",
                                             "04 02:30:00 AEDT", "04 02:45:00 AEDT", "04 02:00:00 AEST",
                                             "04 02:15:00 AEST"]
    assert fires("integrity_check", spring) == ["04 03:00:00 AEDT", "05 03:00:00 AEDT", "06 03:00:00 AEDT"]
    assert fires("integrity_check", autumn) == ["04 03:00:00 AEST", "05 03:00:00 AEST", "06 03:00:00 AEST"]
    assert fires("daily_digest", spring) == ["04 06:00:00 AEDT", "05 06:00:00 AEDT", "06 06:00:00 AEDT"]
    assert fires("package_expiry", spring) == ["05 00:05:00 AEDT", "06 00:05:00 AEDT", "07 00:05:00 AEDT"]
    assert fires("package_expiry", datetime(2026, 10, 3, 12, 0, tzinfo=CANBERRA)) == [
        "04 00:05:00 AEST", "05 00:05:00 AEDT", "06 00:05:00 AEDT"]  # CronTrigger would skip the 5th
    assert fires("waitlist_matcher", spring, 2) == ["04 08:30:00 AEDT", "05 08:30:00 AEDT"]
    assert fires("callback_followup", spring, 8) == ["04 08:00:00 AEDT", "04 10:00:00 AEDT", "04 12:00:00 AEDT",
                                                     "04 14:00:00 AEDT", "04 16:00:00 AEDT", "04 18:00:00 AEDT",
                                                     "04 20:00:00 AEDT", "05 08:00:00 AEDT"]
    # A run's identity is its scheduled fire time, the same in every process however late it wakes.
    assert runner.scheduled_due(JOBS["reminders"], datetime(2026, 10, 4, 3, 0, 7, tzinfo=CANBERRA)) == \
        datetime(2026, 10, 3, 16, 0, tzinfo=UTC)
    assert runner.scheduled_due(JOBS["daily_digest"], datetime(2026, 10, 4, 5, 59, tzinfo=CANBERRA)) == \
        datetime(2026, 10, 3, 6, 0, tzinfo=CANBERRA).astimezone(UTC)


def test_a_daily_job_missed_by_a_restart_within_its_grace_time_runs_at_start():
    restart = datetime(2026, 10, 5, 6, 20, tzinfo=CANBERRA)  # 20 minutes after the digest was due
    sched = scheduler.build_scheduler(now=restart)
    sched.start(paused=True)  # works out every job's next run time, runs nothing
    jobs = {job.id: job for job in sched.get_jobs()}
    sched.shutdown()
    assert jobs["daily_digest"].next_run_time == restart  # caught up now (the claim stops a double run)
    # Due 3 hours before the restart: past its grace time, so it waits for its next 03:00 (the scheduler
    # works that out from the real clock here); sub-daily jobs just carry on at their next fire.
    assert jobs["integrity_check"].next_run_time.strftime("%H:%M") == "03:00"
    assert jobs["reminders"].next_run_time.minute % 15 == 0


def _run_in_own_loop(coro):
    """asyncio.run in a fresh thread: the browser tests' Playwright loop may still be running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_the_scheduler_starts_and_stops_with_the_app(engine, monkeypatch):
    import nexdrive.nexdrive as app_module

    assert scheduler.scheduler_lifespan in app_module.app.get_lifespan_tasks()

    async def serve_briefly():
        async with scheduler.scheduler_lifespan():
            sched = scheduler._running
            return sched, sched is not None and sched.running

    monkeypatch.setenv("NEXDRIVE_SCHEDULER", "1")
    reset_settings()
    running, was_running = _run_in_own_loop(serve_briefly())
    assert isinstance(running, BackgroundScheduler) and was_running
    assert not running.running and scheduler._running is None  # shut down with the server

    monkeypatch.setenv("NEXDRIVE_SCHEDULER", "0")  # the browser tests' setting
    reset_settings()
    assert _run_in_own_loop(serve_briefly()) == (None, False)
    reset_settings()


def test_a_job_can_be_run_by_hand_from_the_command_line(engine, db_url):
    def cli(*args):
        done = subprocess.run([PYTHON, "-m", "nexdrive.cli", "jobs", "run", *args], cwd=PROJECT_ROOT,
                              env=_child_env(db_url), capture_output=True, text=True, timeout=120)
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])

    code, out = cli("release_holds", "--now", "2027-05-03T11:07")  # Canberra time when no offset is given
    assert (code, out["status"], out["due_at"], out["result"]) == (0, "ok", "2027-05-03T01:05:00+00:00",
                                                                   {"checkouts_expired": 0, "released": 0})
    assert cli("release_holds", "--now", "2027-05-03T11:09")[1]["status"] == "taken"
    assert cli("release_holds", "--now", "2027-05-03T11:09", "--force")[1]["status"] == "ok"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*), count(*) FILTER (WHERE manual) FROM job_runs")).one() == (2, 1)
