"""In-venv commands behind manage.py: prepare the database, serve the app, run scheduled jobs,
create the owner's account on a fresh install."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time

from nexdrive import db, migrations
from nexdrive.settings import PROJECT_ROOT, get_settings


def prepare(demo: bool) -> str:
    """Start the database if embedded, migrate it, load reference (and demo) data. Idempotent."""
    from nexdrive.data import seed

    settings = get_settings()
    started = time.monotonic()
    url = db.database_url()
    where = f"embedded PostgreSQL in {settings.data_dir / 'pg'}" if settings.embedded_database else "DATABASE_URL"
    print(f"[nexdrive] database: {where}", flush=True)
    engine = db.make_engine(url, pool_size=2, max_overflow=0)
    migrations.upgrade(engine)
    with db.session_scope(engine) as session:
        ref = seed.load_reference_data(session)
    print(f"[nexdrive] reference data: {ref}", flush=True)
    if demo:
        with db.session_scope(engine) as session:
            result = seed.load_demo_data(session)
        print(f"[nexdrive] demo data: {result}", flush=True)
    print(f"[nexdrive] assistant knowledge: {index_knowledge(engine)}", flush=True)
    engine.dispose()
    print(f"[nexdrive] database ready in {time.monotonic() - started:.1f}s", flush=True)
    return url


def faq_entries(session) -> list[dict]:
    """The FAQ's published questions and answers (``faq_entries``) as plain data for the assistant."""
    from nexdrive.services.content import faq

    return faq.knowledge_entries(session)


def index_knowledge(engine) -> dict:
    """(Re-)index the assistant's documents: the FAQ page, lesson types, policies, ACT facts, Hub pages. Idempotent."""
    from nexdrive.services.ai import knowledge
    from nexdrive.services.core.actors import SYSTEM

    with db.session_scope(engine) as session:
        return knowledge.index_documents(session, SYSTEM, knowledge.faq_documents(faq_entries(session)))


def app_env(url: str, demo: bool) -> dict[str, str]:
    """The app server's environment: the prepared database, and whether the demo school is in it
    (``--no-demo`` must reach the app too, or the sign-in page would offer demo accounts that aren't there)."""
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    if get_settings().embedded_database:
        env["NEXDRIVE_EMBEDDED_DB"] = "1"
    if not demo:
        env["NEXDRIVE_DEMO_DATA"] = "0"
    env["GRANIAN_WORKERS"] = str(app_workers(env))
    return env


def app_workers(env: dict[str, str]) -> int:
    """How many app worker processes production runs: one without Redis (Reflex keeps each page's state in
    the process's memory, so a second worker would not know the first one's users); with ``REDIS_URL`` two,
    one per core of the machine this is sized for (Reflex keeps the state in Redis, any worker serves any
    user). ``GRANIAN_WORKERS`` set by the operator wins."""
    if env.get("GRANIAN_WORKERS", "").strip().isdigit():
        return max(1, int(env["GRANIAN_WORKERS"]))
    return 2 if env.get("REDIS_URL", "").strip() else 1


def serve(demo: bool, port: int) -> int:
    settings = get_settings()
    url = prepare(demo)
    env = app_env(url, demo)
    cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
           "--frontend-port", str(port), "--backend-port", str(port)]
    workers = env["GRANIAN_WORKERS"]
    print(f"[nexdrive] starting the app on http://localhost:{port} (production build, {workers} app worker"
          f"{'s' if workers != '1' else ''}{', state in Redis' if env.get('REDIS_URL') else ''})", flush=True)
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    def forward(signum, _frame):
        # Stop the whole server tree (reflex and its workers), then fall through to stop the database.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        try:
            return proc.wait()
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if settings.embedded_database:
            db.stop_embedded_postgres(settings.data_dir / "pg")
            print("[nexdrive] embedded PostgreSQL stopped", flush=True)


def jobs_command(args: argparse.Namespace) -> int:
    """List the scheduled jobs, run one by hand, or run the scheduler in the foreground."""
    import json
    import logging
    from datetime import datetime, timezone

    from jobs.runner import JOBS, run_job
    from nexdrive.formats import BUSINESS_TZ

    logging.basicConfig(level=logging.INFO, format="[nexdrive] %(name)s %(levelname)s %(message)s")
    if args.jobs_command == "list":
        now = datetime.now(timezone.utc)
        for spec in JOBS.values():
            nxt = spec.trigger().get_next_fire_time(None, now.astimezone(BUSINESS_TZ))
            print(f"{spec.name:18} next {nxt:%a %d %b %H:%M:%S} (Canberra)  {spec.description}")
        return 0
    if args.jobs_command == "run":
        if args.job not in JOBS:
            print(f"unknown job {args.job!r}; one of: {', '.join(JOBS)}")
            return 2
        now = datetime.fromisoformat(args.now) if args.now else None
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=BUSINESS_TZ)  # a bare time is Canberra time
        outcome = run_job(args.job, now=now, manual=args.force)
        print(json.dumps({"job": outcome.job, "due_at": outcome.due_at.isoformat(), "status": outcome.status,
                          "result": outcome.result, "error": outcome.error}, default=str), flush=True)
        return 0 if outcome.status in ("ok", "taken") else 1
    from jobs.scheduler import build_scheduler

    only = [j for j in (args.only or "").split(",") if j] or None
    scheduler = build_scheduler(blocking=True, only=only)
    print(f"[nexdrive] scheduler running in the foreground: {', '.join(only or JOBS)} (Ctrl-C stops it)",
          flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: scheduler.shutdown(wait=False))
    scheduler.start()
    return 0


def create_owner_command(args: argparse.Namespace) -> int:
    """Create the first administrator and print their one-time set-your-password link."""
    from nexdrive.services.identity import accounts
    from nexdrive.errors import ServiceError

    url = prepare(demo=False)  # a fresh install may not be migrated yet; idempotent
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        with db.session_scope(engine) as session:
            owner = accounts.create_owner(session, email=args.email, name=args.name, force=args.force)
    except ServiceError as exc:
        print(f"[nexdrive] create-owner refused: {exc.message}", flush=True)
        return 1
    finally:
        engine.dispose()
    hours = int(accounts.STAFF_INVITE_TTL.total_seconds() // 3600)
    print(f"[nexdrive] created the administrator account {args.email.strip().lower()}.\n"
          f"Open this link to choose the password (it works once, within {hours} hours):\n\n"
          f"    {owner.link}\n", flush=True)
    return 0


def backup_command(args: argparse.Namespace) -> int:
    """Dump the database and copy the stored files into a new folder under ``--to``."""
    from nexdrive import backup

    try:
        folder = backup.backup(args.to)
    except backup.BackupError as exc:
        print(f"[nexdrive] backup failed: {exc}", flush=True)
        return 1
    print(f"[nexdrive] backup written to {folder}", flush=True)
    return 0


def restore_command(args: argparse.Namespace) -> int:
    """Replace the database and the stored files with a backup's, then verify every chain and file."""
    from nexdrive import backup

    if not args.yes:
        print("[nexdrive] restore replaces the whole database and every stored file. "
              "Stop the app, then run again with --yes.", flush=True)
        return 2
    try:
        report = backup.restore(args.folder)
    except backup.BackupError as exc:
        print(f"[nexdrive] restore refused: {exc}", flush=True)
        return 1
    print(f"[nexdrive] restored: {report.chains} chains ({report.records} records), {report.files} files", flush=True)
    for problem in report.problems:
        print(f"[nexdrive] PROBLEM: {problem}", flush=True)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nexdrive")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("setup", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--no-demo", action="store_true", help="leave the demo school out")
        if name == "serve":
            p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="the job table and next run times")
    run = jobs_sub.add_parser("run", help="run a job's due run now (skipped if another process has it)")
    run.add_argument("job")
    run.add_argument("--now", help="pretend it is this time (ISO 8601; without an offset, Canberra time)")
    run.add_argument("--force", action="store_true", help="run it now whatever the schedule (a manual run)")
    serve_jobs = jobs_sub.add_parser("serve", help="run the scheduler in the foreground (a separate worker)")
    serve_jobs.add_argument("--only", help="comma-separated job names")
    owner = sub.add_parser("create-owner", help="create the first administrator; prints a set-password link")
    owner.add_argument("--email", required=True)
    owner.add_argument("--name", required=True, help='first and last name, e.g. "Jordan Ellis"')
    owner.add_argument("--force", action="store_true", help="add another administrator even though one exists")
    bk = sub.add_parser("backup", help="dump the database and copy the stored files (a new folder)")
    bk.add_argument("--to", default=str(PROJECT_ROOT / "backups"), help="where to put the backup folder")
    rs = sub.add_parser("restore", help="replace the database and files with a backup's, then verify them")
    rs.add_argument("folder", help="a folder written by backup")
    rs.add_argument("--yes", action="store_true", help="yes, replace everything")
    args = parser.parse_args(argv)
    if args.command == "backup":
        return backup_command(args)
    if args.command == "restore":
        return restore_command(args)
    if args.command == "jobs":
        return jobs_command(args)
    if args.command == "create-owner":
        return create_owner_command(args)
    demo = get_settings().load_demo_data and not args.no_demo
    if args.command == "setup":
        prepare(demo)
        return 0
    return serve(demo, args.port)


if __name__ == "__main__":
    sys.exit(main())
