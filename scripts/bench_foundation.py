#!/usr/bin/env python3
"""Foundation benchmark: prints how long the quick-start command takes and what the app costs.

    python3 manage.py bench            # cold + warm + start-up + memory
    python3 manage.py bench --no-cold  # skip the fresh-clone run

* cold: a fresh `git clone` of this repo, `python3 manage.py run` until the home
  page answers (creates the venv, installs packages — from pip's local cache if
  it has them —, npm packages, builds the frontend, starts and migrates an
  embedded PostgreSQL, loads reference + demo data).
* warm: the same command run again in that clone (nothing to install).
* start-up: `reflex run --env prod` alone, database already prepared, until / answers.
* memory: resident memory (RSS) of the whole running app process tree, idle and
  after 200 requests.
A benchmark prints figures; it does not pass or fail.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except Exception:
            pass
        time.sleep(0.25)
    raise TimeoutError(url)


def tree_rss_mb(pid: int) -> float:
    """Sum VmRSS over pid and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    total_kb, stack = 0, [pid]
    while stack:
        cur = stack.pop()
        stack.extend(children.get(cur, []))
        try:
            for line in Path(f"/proc/{cur}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def timed_run(workdir: Path, port: int, log: Path, timeout: float = 1800) -> tuple[float, subprocess.Popen]:
    env = dict(os.environ, PORT=str(port))
    env.pop("DATABASE_URL", None)
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "run"], cwd=workdir, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return wait_for(f"http://localhost:{port}/", proc, timeout), proc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-clone run")
    args = ap.parse_args()
    results: list[tuple[str, str]] = []
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)

    workdir = ROOT
    tmp = None
    if not args.no_cold:
        tmp = Path(tempfile.mkdtemp(prefix="nxbench-", dir="/tmp"))
        os.chmod(tmp, 0o755)
        subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp / "app")], check=True)
        workdir = tmp / "app"
        port = free_port()
        secs, proc = timed_run(workdir, port, out_dir / "cold.log")
        results.append(("first command, fresh clone (cold)", f"{secs:.1f} s"))
        stop(proc)

    port = free_port()
    secs, proc = timed_run(workdir, port, out_dir / "warm.log")
    results.append(("first command, second run (warm)", f"{secs:.1f} s"))
    base = f"http://localhost:{port}"
    time.sleep(3)
    pid_file = workdir / ".data" / "pg" / "postmaster.pid"
    pg_pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    results.append(("memory, idle: app processes (RSS)", f"{tree_rss_mb(proc.pid):.0f} MB"))
    if pg_pid:
        results.append(
            (
                "memory, idle: embedded PostgreSQL (RSS, shared pages counted per process)",
                f"{tree_rss_mb(pg_pid):.0f} MB",
            )
        )
    for _ in range(200):
        urllib.request.urlopen(base + "/api/v1/health", timeout=5).read()
    results.append(("memory after 200 health requests: app processes", f"{tree_rss_mb(proc.pid):.0f} MB"))
    stop(proc)

    # App start-up alone: database prepared, frontend built; just the server.
    from_db = subprocess.run([str(workdir / ".venv/bin/python"), "-c",
                              "from nexdrive.cli import prepare; print(prepare(False))"],
                             cwd=workdir, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    env = dict(os.environ, DATABASE_URL=from_db, NEXDRIVE_EMBEDDED_DB="1", REFLEX_USE_NPM="1",
               PATH=f"{workdir / '.venv/bin'}{os.pathsep}{os.environ['PATH']}")
    with open(out_dir / "startup.log", "wb") as out:
        proc = subprocess.Popen([str(workdir / ".venv/bin/python"), "-m", "reflex", "run", "--env", "prod",
                                 "--single-port", "--frontend-port", str(port), "--backend-port", str(port)],
                                cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    secs = wait_for(f"http://localhost:{port}/", proc, 900)
    results.append(("app start-up (reflex prod server, database ready)", f"{secs:.1f} s"))
    results.append(("memory of the app server alone (RSS, excl. PostgreSQL)", f"{tree_rss_mb(proc.pid):.0f} MB"))
    stop(proc)
    subprocess.run([str(workdir / ".venv/bin/python"), "-c",
                    "from nexdrive.db import stop_embedded_postgres; from nexdrive.settings import get_settings;"
                    "stop_embedded_postgres(get_settings().data_dir / 'pg')"], cwd=workdir, check=False)

    width = max(len(k) for k, _ in results)
    print("\nNexDrive foundation benchmark (2 cores, this machine)")
    for k, v in results:
        print(f"  {k:<{width}}  {v}")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
