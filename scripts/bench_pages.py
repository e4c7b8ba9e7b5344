#!/usr/bin/env python3
"""Page benchmark: Lighthouse (mobile preset) on the public pages and the learner's home, production server.

    python3 manage.py bench-pages                  # /, /book, /lessons, /hub, /hub/<first>, /student; median of 3
    python3 manage.py bench-pages --runs 1 --pages /,/book
    python3 manage.py bench-pages --serve          # start the app only; print its address and the learner's cookie
    python3 manage.py bench-pages --base http://localhost:3000 --cookie "nxd_session=..."   # a running app

Lighthouse comes from npm, installed into ``tools/lighthouse`` (git-ignored) on first use, and drives
Debian's Chromium (``CHROME_PATH=/usr/bin/chromium``, the flags of DESIGN §6, headless). The app runs as
users get it (``reflex run --env prod --single-port``) on its own embedded PostgreSQL with the reference
and demo data; the learner's home is opened with a session cookie of a learner signed up for the run.
For every page it prints the median (of ``--runs``) performance, accessibility and SEO scores, First
and Largest Contentful Paint, Total Blocking Time, and the JavaScript and CSS bytes transferred, plus
the render-blocking resources Lighthouse names. ``/hub/*`` stands for the Hub's first task page. A
benchmark prints figures; it does not pass or fail.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402

TOOLS = ROOT / "tools" / "lighthouse"
LIGHTHOUSE_VERSION = "12"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PAGES = ["/", "/book", "/lessons", "/hub", "/hub/*", "/student"]
SIGNED_IN = {"/student"}


def lighthouse_cli() -> Path:
    """tools/lighthouse/node_modules/lighthouse/cli/index.js, installed from npm when missing."""
    cli = TOOLS / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        print(f"[bench-pages] npm install lighthouse@{LIGHTHOUSE_VERSION} into {TOOLS.relative_to(ROOT)} ...",
              flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], cwd=TOOLS, check=True)
    return cli


def resolve(path: str) -> str:
    """``/hub/*`` is the Hub's first task page (``/hub/task-1-...``); other paths are themselves."""
    if path == "/hub/*":
        from nexdrive.services.compliance import hub

        return hub.hub_pages()[0].route
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def learner_cookie(url: str) -> str:
    """A learner signed up for this run: the session cookie that opens their home."""
    from nexdrive.services.identity import accounts

    engine = nxdb.make_engine(url)
    try:
        with nxdb.session_scope(engine) as s:
            issued = accounts.sign_up_student(s, email="bench.pages@example.com", password="bench-pages-Pa55word!",
                                              first_name="Bella", last_name="Bench", phone="0412000999")
            return f"nxd_session={issued.token}"
    finally:
        engine.dispose()


class AppServer:
    """The production build on one port (as ``serve`` runs it), logging to a file."""

    def __init__(self, url: str, data_dir: Path, log_path: Path):
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        env = dict(os.environ, DATABASE_URL=url, REFLEX_USE_NPM="1", NEXDRIVE_SCHEDULER="0",
                   PUBLIC_URL=self.base, NEXDRIVE_DATA_DIR=str(data_dir))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
             "--frontend-port", str(self.port), "--backend-port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 1200  # the first production build installs npm packages
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited during start-up; see {log_path}")
            try:
                if httpx.get(self.base + "/ping", timeout=2).status_code == 200 and \
                        httpx.get(self.base + "/", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not answer within 20 minutes; see {log_path}")
            time.sleep(2)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def run_lighthouse(cli: Path, url: str, out: Path, cookie: str | None) -> dict:
    cmd = ["node", str(cli), url, "--output=json", f"--output-path={out}", "--quiet",
           "--only-categories=performance,accessibility,seo", "--form-factor=mobile", "--max-wait-for-load=60000",
           "--chrome-flags=" + " ".join(CHROME_FLAGS)]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(cmd, check=True, env=dict(os.environ, CHROME_PATH=CHROME), stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    audits = report["audits"]
    requests = (audits.get("network-requests", {}).get("details") or {}).get("items", [])
    blocking = (audits.get("render-blocking-resources", {}).get("details") or {}).get("items", [])
    return {
        "score": round((report["categories"]["performance"]["score"] or 0) * 100),
        "a11y": round((report["categories"]["accessibility"]["score"] or 0) * 100),
        "seo": round((report["categories"]["seo"]["score"] or 0) * 100),
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "js": sum(r.get("transferSize", 0) for r in requests if r.get("resourceType") == "Script"),
        "css": sum(r.get("transferSize", 0) for r in requests if r.get("resourceType") == "Stylesheet"),
        "blocking": [(b.get("url", "").split("/")[-1], b.get("wastedMs", 0)) for b in blocking],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", default=",".join(PAGES), help="paths to measure (default: " + ",".join(PAGES) + ")")
    ap.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page; the median is printed")
    ap.add_argument("--base", help="measure an app already running here instead of starting one")
    ap.add_argument("--cookie", help="with --base: the Cookie header for the signed-in pages")
    ap.add_argument("--serve", action="store_true",
                    help="start the database and the production app, print the address and cookie, wait for Ctrl-C")
    args = ap.parse_args()
    if not Path(CHROME).exists():
        sys.exit(f"Chromium not found at {CHROME}: apt-get install -y chromium (or set CHROME_PATH)")
    cli = lighthouse_cli()
    tmp = Path(tempfile.mkdtemp(prefix="nxbp-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata, server = tmp / "data", None
    started = False
    try:
        if args.base:
            base, cookie = args.base.rstrip("/"), args.cookie
        else:
            print("[bench-pages] embedded PostgreSQL with the demo school ...", flush=True)
            url = nxdb.start_embedded_postgres(pgdata, "nexdrive_pages")
            started = True
            engine = nxdb.make_engine(url)
            migrations.upgrade(engine)
            from nexdrive.data import seed

            with nxdb.session_scope(engine) as s:
                seed.load_reference_data(s)
                seed.load_demo_data(s)
            engine.dispose()
            cookie = learner_cookie(url)
            print("[bench-pages] production build and server (the first build takes minutes) ...", flush=True)
            t0 = time.monotonic()
            server = AppServer(url, tmp / "app", tmp / "app-server.log")
            print(f"[bench-pages] serving at {server.base} after {time.monotonic() - t0:.0f} s", flush=True)
            base = server.base
            if args.serve:
                print(f"[bench-pages] --base {base} --cookie '{cookie}'  (Ctrl-C stops)", flush=True)
                try:
                    while server.proc.poll() is None:
                        time.sleep(5)
                except KeyboardInterrupt:
                    pass
                return 0
        pages = [resolve(p) for p in args.pages.split(",")]
        for path in pages:
            httpx.get(base + path, timeout=30)  # warm the page once
        results = {}
        for path in pages:
            runs = []
            for i in range(args.runs):
                signed_in = cookie if path in SIGNED_IN else None
                runs.append(run_lighthouse(cli, base + path, tmp / f"lh-{i}.json", signed_in))
                last = runs[-1]
                print(f"  {path:<10} run {i + 1}: score {last['score']:3d}  FCP {last['fcp'] / 1000:4.1f} s  "
                      f"LCP {last['lcp'] / 1000:4.1f} s  "
                      f"TBT {runs[-1]['tbt']:5.0f} ms", flush=True)
            results[path] = runs
        print(f"\nNexDrive pages, Lighthouse mobile preset, median of {args.runs} ({os.cpu_count()} cores)")
        print(f"  {'page':<34} {'perf':>4} {'a11y':>4} {'SEO':>4} {'FCP':>7} {'LCP':>7} {'TBT':>8} "
              f"{'JS':>10} {'CSS':>9}")
        for path, runs in results.items():
            keys = ("score", "a11y", "seo", "fcp", "lcp", "tbt", "js", "css")
            med = {k: statistics.median(r[k] for r in runs) for k in keys}
            print(f"  {path:<34} {med['score']:4.0f} {med['a11y']:4.0f} {med['seo']:4.0f} "
                  f"{med['fcp'] / 1000:6.1f}s {med['lcp'] / 1000:6.1f}s "
                  f"{med['tbt']:6.0f}ms {med['js'] / 1024:7.0f} KB {med['css'] / 1024:6.0f} KB")
            blocking = runs[-1]["blocking"]
            if blocking:
                print("  " + " " * 34 + " render-blocking: " + ", ".join(f"{u} ({ms:.0f} ms)" for u, ms in blocking))
        return 0
    finally:
        if server is not None:
            server.stop()
        if started:
            nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
