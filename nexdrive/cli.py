"""In-venv commands behind manage.py: prepare the database and serve the app."""
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
    from nexdrive.services import seed

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
    engine.dispose()
    print(f"[nexdrive] database ready in {time.monotonic() - started:.1f}s", flush=True)
    return url


def serve(demo: bool, port: int) -> int:
    settings = get_settings()
    url = prepare(demo)
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    if settings.embedded_database:
        env["NEXDRIVE_EMBEDDED_DB"] = "1"
    cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
           "--frontend-port", str(port), "--backend-port", str(port)]
    print(f"[nexdrive] starting the app on http://localhost:{port} (production build)", flush=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nexdrive")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("setup", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--no-demo", action="store_true", help="leave the demo school out")
        if name == "serve":
            p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args(argv)
    demo = get_settings().load_demo_data and not args.no_demo
    if args.command == "setup":
        prepare(demo)
        return 0
    return serve(demo, args.port)


if __name__ == "__main__":
    sys.exit(main())
