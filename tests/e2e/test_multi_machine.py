"""More than one machine (issue 16 item 9): two app processes on one Redis (Reflex's state) and one PostgreSQL,
a round-robin proxy in front. A signed-in learner reloads and lands on both processes (each names itself in
``X-Served-By``), stays signed in, and books a lesson that is in the database once.

The two processes serve the production build the ``app_server`` fixture made (no second build); the browser
asks for that server's address and the balancer (``tests/e2e/balancer.py``) sends each connection, the
websocket's included, to the next process in turn."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.settings import PROJECT_ROOT
from tests.e2e.balancer import Balancer
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TWILIO_TOKEN, _free_port
from tests.e2e.test_booking_widget import pick_first_time

pytestmark = pytest.mark.e2e
EMAIL = "e2e-two-machines@example.com"
PASSWORD = "two machines one redis"
INSTANCES = ("app-a", "app-b")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs Debian's redis-server (python3 manage.py test installs it)")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 20
    import redis

    client = redis.Redis(port=port)
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    _stop(proc)


@pytest.fixture(scope="module")
def two_machines(app_server, e2e_db_url, redis_url):
    """Two app processes (one worker each) serving app_server's build, sharing Redis and the database."""
    procs, ports, logs = [], [], []
    try:
        for name in INSTANCES:
            port = _free_port()
            env = dict(os.environ)
            env.update(DATABASE_URL=e2e_db_url, REDIS_URL=redis_url, REFLEX_USE_NPM="1", NEXDRIVE_SCHEDULER="0",
                       PUBLIC_URL=app_server, NEXDRIVE_DATA_DIR=str(PROJECT_ROOT / ".data" / "e2e"),
                       TWILIO_AUTH_TOKEN=TWILIO_TOKEN, NEXDRIVE_INSTANCE=name, GRANIAN_WORKERS="1")
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
            log = open(ARTIFACTS / f"{name}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "tests/e2e/serve_built.py", str(port)], cwd=PROJECT_ROOT,
                                          env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            ports.append(port)
        deadline = time.monotonic() + 180
        for name, port, proc in zip(INSTANCES, ports, procs):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n" + (ARTIFACTS / f"{name}.log").read_text()[-4000:])
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/book", timeout=5)
                    if r.status_code == 200:
                        assert r.headers["x-served-by"] == name
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start within 3 minutes")
                time.sleep(1)
        balancer = Balancer(ports).start()
        yield {"balancer": balancer, "ports": ports}
        balancer.stop()
    finally:
        for proc in procs:
            _stop(proc)
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def learner(e2e_db_url):
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            issued = accounts.sign_up_student(s, email=EMAIL, password=PASSWORD, first_name="Tam",
                                              last_name="Twomachines", phone="0412 555 717")
            s.get(User, issued.actor.user_id).password_hash = hash_password(PASSWORD)
            s.execute(sa.text("UPDATE profiles SET address_line1 = '7 Redis Road', suburb = 'Gungahlin' "
                              "WHERE user_id = :u"), {"u": issued.actor.user_id})
            return {"student_id": issued.actor.student_id}
    finally:
        engine.dispose()


def test_a_signed_in_learner_moves_between_two_app_processes_and_books_once(
        app_server, e2e_db_url, two_machines, learner, browser):
    balancer = two_machines["balancer"]
    proxied = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, f"--proxy-server=http://127.0.0.1:{balancer.port}", "--proxy-bypass-list=<-loopback>"])
    try:
        context = proxied.new_context(locale="en-AU", timezone_id="Australia/Sydney")
        page = context.new_page()
        served: list[str] = []
        page.on("response", lambda r: served.append(r.headers.get("x-served-by", "?"))
                if r.request.resource_type == "document" else None)

        page.goto(app_server + "/sign-in?next=/student")
        page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=60_000)
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.locator("#sign-in-submit").click()
        page.wait_for_url(re.compile(r"^https?://[^/]+/student/?$"), timeout=60_000)
        page.locator("#student-name").wait_for(timeout=60_000)
        assert page.locator("#student-name").inner_text() == "Tam"

        for _ in range(4):  # each reload is a new connection: the other process answers, the learner stays in
            page.reload()
            page.locator("#student-name").wait_for(timeout=60_000)
            assert page.locator("#student-name").inner_text() == "Tam"
            assert re.search(r"/student/?$", page.url), page.url
        assert set(INSTANCES) <= set(served), served
        page.screenshot(path=str(ARTIFACTS / "two-machines-1-signed-in.png"), full_page=True)

        page.goto(app_server + "/book")
        page.locator("#service-standard-60").wait_for(timeout=60_000)
        pick_first_time(page)
        # The day's last free time (clear of the other tests' picks); a signed-in learner with a pick-up address
        # skips the details step: straight to the review, the time held.
        page.locator("[id^='time-']").last.click()
        page.locator("#confirm-booking").wait_for(timeout=60_000)
        page.locator("#confirm-booking").click()
        page.wait_for_url(re.compile(r".*/pay/result/?\?checkout=.*"), timeout=60_000)
        page.locator("#booking-status").wait_for(timeout=60_000)
        assert page.locator("#booking-status").inner_text() == "Confirmed"
        page.screenshot(path=str(ARTIFACTS / "two-machines-2-booked.png"), full_page=True)
        assert set(INSTANCES) <= set(served), served
        assert set(balancer.picks) == set(two_machines["ports"])  # both processes took connections
        context.close()
    finally:
        proxied.close()

    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            rows = s.execute(sa.text(
                "SELECT b.status FROM bookings b LEFT JOIN contacts c ON c.id = b.contact_id "
                "WHERE b.student_id = :s OR c.email = :e"), {"s": learner["student_id"], "e": EMAIL}).all()
    finally:
        engine.dispose()
    assert [r.status for r in rows] == ["confirmed"]
