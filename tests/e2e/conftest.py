"""Browser tests: Debian's Chromium driven by Playwright against the production build.

The app is started once per session exactly as users get it
(`reflex run --env prod --single-port`), on its own port and its own fresh
database holding the reference and demo data.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Twilio's inbound webhook is signed with this token (only the token: the SMS port stays offline).
TWILIO_TOKEN = "e2e-twilio-auth-token"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def pytest_collection_modifyitems(items):
    """All browser tests share one worker (one production build, one app server) under pytest-xdist."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_db_url(pg_server, template_db) -> str:
    from nexdrive.data import seed

    name = pg_server.create_database(template_db)
    url = pg_server.url(name)
    engine = nxdb.make_engine(url, poolclass=sa.pool.NullPool)
    with nxdb.session_scope(engine) as session:
        seed.load_demo_data(session)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app_server(e2e_db_url: str):
    port = _free_port()
    env = dict(os.environ)
    env.update(DATABASE_URL=e2e_db_url, REFLEX_USE_NPM="1", NEXDRIVE_SCHEDULER="0",
               PUBLIC_URL=f"http://localhost:{port}", NEXDRIVE_DATA_DIR=str(PROJECT_ROOT / ".data" / "e2e"),
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "app-server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 900  # the first production build installs npm packages
    try:
        while True:
            if proc.poll() is not None:
                log.flush()
                raise RuntimeError("app exited during start-up:\n" + (ARTIFACTS / "app-server.log").read_text()[-4000:])
            try:
                if (
                    httpx.get(base + "/ping", timeout=2).status_code == 200
                    and httpx.get(base + "/", timeout=5).status_code == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("app did not start within 15 minutes")
            time.sleep(1)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                                  viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    yield pg
    context.close()
