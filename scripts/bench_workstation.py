#!/usr/bin/env python3
"""Workstation benchmark: a typical lesson recorded on a phone, scripted with Playwright; prints the taps
and the seconds it took (goal: at most 12 taps and 30 s; the spec allows 90 s).

    python3 manage.py bench-workstation                       # starts the app (production build) itself
    python3 manage.py bench-workstation --base http://localhost:3000   # an app already running on the
                                                                       # database in DATABASE_URL

The lesson: from Today, "Start lesson" on a lesson that has just ended, 3 tasks taught, 2 assessed and 1
achieved (the learner with the most tasks ready to assess), a quick-phrase comment, the bridge form as
prefilled, the instructor's and the learner's signatures drawn with touch, "Sign and finish". The clock
starts at the tap on "Start lesson" and stops when the server has stored the lesson. Drawing a signature is
not a tap. A benchmark prints figures; it does not pass or fail.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench lessons in Canberra"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def touch_draw(page, pad: str, seed: int = 0) -> None:
    """A signature drawn with touch events (Chrome DevTools Protocol): the pad sees pointerType 'touch'."""
    canvas = page.locator(f"[data-pad='{pad}'] canvas")
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + 20, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for i in range(1, 25):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + i * 11, "y": y0 + ((i + seed) % 5 - 2) * 14}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def prepare(engine) -> dict:
    """The demo instructor's password, the learner with the most tasks ready to assess, and a booking of
    theirs today that has just ended (status in progress)."""
    import sqlalchemy as sa

    from nexdrive import db as nxdb
    from nexdrive.data import seed
    from nexdrive.formats import BUSINESS_TZ
    from nexdrive.models import Booking, User
    from nexdrive.services.identity.accounts import actor_for_user
    from nexdrive.services.identity.passwords import hash_password
    from nexdrive.services.scheduling import workstation

    with nxdb.session_scope(engine) as s:
        user = s.execute(sa.select(User).where(User.email == seed.DEMO_INSTRUCTOR_EMAIL)).scalar_one()
        user.password_hash = hash_password(PASSWORD)
        s.add(user)
        s.flush()
        snap = workstation.snapshot(s, actor_for_user(s, user.id))

        def ready(sid: str) -> int:
            return sum(1 for t in snap["snapshots"][sid]["tasks"] if t["can_assess"] and t["status"] != "competent")

        def teachable(sid: str) -> int:
            return sum(1 for t in snap["snapshots"][sid]["tasks"]
                       if t["status"] == "not_started" and not t["can_assess"])

        def competent(sid: str) -> int:
            return sum(1 for t in snap["snapshots"][sid]["tasks"] if t["status"] == "competent")

        # The typical lesson teaches three new tasks and assesses what is ready: a learner who has both, early
        # in the log book (a learner at a review's door has tasks "ready" that the review itself is waiting on).
        sid = max(snap["snapshots"], key=lambda x: (min(teachable(x), 3), min(ready(x), 2), -competent(x)))
        now = s.execute(sa.text("SELECT now()")).scalar_one().astimezone(BUSINESS_TZ)
        start, end = now - timedelta(minutes=64), now - timedelta(minutes=4)  # may start yesterday: "To record"
        instructor_id = s.execute(sa.text("SELECT id FROM instructors WHERE user_id = :u"), {"u": user.id}).scalar()
        service_id = s.execute(sa.text("SELECT id FROM services WHERE is_active ORDER BY created_at LIMIT 1")).scalar()
        booking = Booking(instructor_id=instructor_id, student_id=sid, service_id=service_id,
                          scheduled_date=start.date(), start_time=start, end_time=end,
                          duration_minutes=int((end - start).total_seconds() // 60), status="in_progress",
                          pickup_address="1 Bench St", suburb="Braddon", amount_cents=0)
        s.add(booking)
        s.flush()
        return {"booking_id": str(booking.id), "student_id": sid, "ready": ready(sid)}


def record_typical_lesson(page, base: str, booking_id: str, *, sign_in: bool = True, shots: str | None = None) -> dict:
    """Record the typical lesson on ``page`` (a phone context with touch); returns taps and seconds."""
    taps = 0

    def tap(locator) -> None:
        nonlocal taps
        locator.tap()
        taps += 1

    if sign_in:
        from nexdrive.data import seed

        page.goto(base + "/sign-in")
        page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=60_000)
        page.get_by_label("Email address").fill(seed.DEMO_INSTRUCTOR_EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.locator("#sign-in-submit").click()
        page.wait_for_url(re.compile(re.escape(base + "/instructor") + r"/?$"), timeout=60_000)
    page.locator(f"#ws-today-list article[data-booking='{booking_id}'] .ws-start").wait_for(timeout=60_000)
    started = time.monotonic()
    tap(page.locator(f"#ws-today-list article[data-booking='{booking_id}'] .ws-start"))
    page.locator("#ws-learner").wait_for(timeout=30_000)
    # the page hydrates after the script drew the form (and the script draws it again): count the tasks after
    page.wait_for_load_state("networkidle")
    page.locator(".ws-task").first.wait_for(timeout=30_000)
    chosen: set[str] = set()

    def mark(kind: str, count: int, *, assessable: bool) -> int:
        done = 0
        rows = page.locator(".ws-task")
        for i in range(rows.count()):
            if done == count:
                break
            row = rows.nth(i)
            n = row.get_attribute("data-task")
            button = row.locator(f".ws-mark[data-mark='{kind}']")
            if n in chosen or button.is_disabled():
                continue
            if assessable is False and not row.locator(".ws-mark[data-mark='assessed']").is_disabled():
                continue  # teach tasks that are not yet ready to assess
            tap(button)
            chosen.add(n)
            done += 1
        return done

    marked = {"assessed": mark("assessed", 2, assessable=True), "achieved": mark("achieved", 1, assessable=True)}
    marked["taught"] = mark("taught", 3, assessable=False)
    tap(page.locator(".ws-phrase").first)
    if shots:
        page.screenshot(path=f"{shots}-details.png", full_page=True)
    tap(page.locator("#ws-to-bridge"))
    tap(page.locator("#ws-to-sign-i"))
    touch_draw(page, "sig-instructor")
    tap(page.locator("#ws-to-sign-l"))
    touch_draw(page, "sig-learner", 2)
    tap(page.locator("#ws-finish"))
    page.locator("#ws-done-state[data-state='sent']").wait_for(timeout=60_000)
    seconds = time.monotonic() - started
    return {"taps": taps, "seconds": round(seconds, 1), "marked": marked}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running app (its database in DATABASE_URL)")
    args = parser.parse_args()
    import httpx
    from playwright.sync_api import sync_playwright

    from nexdrive import db as nxdb

    proc = None
    base = args.base
    if not base:
        port = _free_port()
        base = f"http://localhost:{port}"
        env = dict(os.environ, REFLEX_USE_NPM="1", NEXDRIVE_SCHEDULER="0", PUBLIC_URL=base)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        print(f"starting the app (production build) on {base} ...", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
                                 "--frontend-port", str(port), "--backend-port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 900
        while True:
            try:
                if httpx.get(base + "/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                print("the app did not start")
                return 1
            time.sleep(1)
    try:
        engine = nxdb.make_engine()
        data = prepare(engine)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                         args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney", is_mobile=True,
                                          has_touch=True, viewport={"width": 390, "height": 844})
            result = record_typical_lesson(context.new_page(), base, data["booking_id"])
            browser.close()
        m = result["marked"]
        print(f"typical lesson: {m['taught']} taught, {m['assessed']} assessed, {m['achieved']} achieved, a comment, "
              f"both signatures")
        print(f"taps: {result['taps']} (goal <= 12)")
        print(f"seconds: {result['seconds']} (goal <= 30; the spec allows 90)")
        return 0
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
