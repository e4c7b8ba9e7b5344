"""The instructor's workstation on a phone (390x844, touch) against the production build.

* Today shows every lesson with its learner's name and the next one on top (as the service orders them).
* A lesson is recorded from today's schedule and signed by both, the signatures drawn with pointer moves;
  the database has the signed lesson, its competency rows, both signatures and the bridge form.
* Offline: see tests/e2e/test_workstation_record.py (the connection cut by a real TCP proxy between the
  browser and the app, not Playwright's set_offline).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.data import seed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.models import Booking, User
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.services.identity.passwords import hash_password
from nexdrive.services.scheduling import workstation
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "demo lessons in Canberra"


@pytest.fixture(scope="module")
def ws_data(e2e_db_url):
    """The demo instructor's password; two of their learners; a lesson that has just ended (started 65 minutes
    ago, ended 5 minutes ago, whatever the hour: just after midnight it started yesterday and is under "To
    record")."""
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            user = s.execute(sa.select(User).where(User.email == seed.DEMO_INSTRUCTOR_EMAIL)).scalar_one()
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
            instructor_id = s.execute(sa.text("SELECT id FROM instructors WHERE user_id = :u"),
                                      {"u": user.id}).scalar_one()
            # learners with tasks still to teach (the demo's Grace has achieved them all: nothing to mark taught)
            learners = s.execute(sa.text(
                "SELECT s.id, p.first_name || ' ' || p.last_name AS name FROM students s "
                "JOIN profiles p ON p.id = s.profile_id WHERE s.instructor_id = :i AND (SELECT count(DISTINCT "
                "sc.task_id) FROM student_competencies sc WHERE sc.student_id = s.id AND sc.status = 'competent') "
                "< 18 ORDER BY p.first_name LIMIT 2"),
                {"i": instructor_id}).all()
            now = s.execute(sa.text("SELECT now()")).scalar_one().astimezone(BUSINESS_TZ)
            start, end = now - timedelta(minutes=65), now - timedelta(minutes=5)
            service_id = s.execute(sa.text("SELECT id FROM services WHERE is_active ORDER BY created_at LIMIT 1")
                                   ).scalar_one()
            # in_progress: under way, so it doesn't compete with confirmed lessons for the instructor's time
            booking = Booking(instructor_id=instructor_id, student_id=learners[0].id, service_id=service_id,
                              scheduled_date=start.date(), start_time=start, end_time=end,
                              duration_minutes=int((end - start).total_seconds() // 60), status="in_progress",
                              pickup_address="1 Test Pl", suburb="Dickson", amount_cents=0)
            s.add(booking)
            s.flush()
        yield {"engine": engine, "user_id": user.id, "booking_id": str(booking.id),
               "learner": learners[0].name, "other": learners[1]}
    finally:
        engine.dispose()


def _open_today(pg, base: str) -> None:
    sign_in(pg, base, seed.DEMO_INSTRUCTOR_EMAIL, PASSWORD)
    pg.wait_for_url(re.compile(re.escape(base + "/instructor") + r"/?$"), timeout=30_000)
    pg.locator("#ws-today-list").wait_for(timeout=30_000)


def _draw(pg, pad: str, seed_: int = 0) -> None:
    canvas = pg.locator(f"[data-pad='{pad}'] canvas")
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    x0, y0 = box["x"] + 20, box["y"] + box["height"] / 2
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    for i in range(1, 25):
        pg.mouse.move(x0 + i * 11, y0 + ((i + seed_) % 5 - 2) * 14, steps=2)
    pg.mouse.up()


def _mark_first_allowed(pg, mark: str, count: int) -> list[str]:
    buttons = pg.locator(f".ws-task .ws-mark[data-mark='{mark}']:not([disabled])")
    chosen = []
    for i in range(count):
        b = buttons.nth(i)
        chosen.append(b.locator("xpath=ancestor::div[@data-task]").get_attribute("data-task"))
        b.click()
    return chosen


def _outbox(pg) -> list[dict]:
    return pg.evaluate("""() => new Promise((ok) => { const r = indexedDB.open('nxd-workstation', 1);
        r.onsuccess = () => { const q = r.result.transaction('outbox').objectStore('outbox').getAll();
        q.onsuccess = () => ok(q.result.map((x) => ({client_id: x.client_id, state: x.state,
                                                     error: x.error}))); }; })""")


def test_today_then_a_lesson_recorded_and_signed_by_both(app_server, ws_data, phone_page):
    pg = phone_page
    _open_today(pg, app_server)
    engine = ws_data["engine"]
    with nxdb.session_scope(engine) as s:
        expected = [r["booking_id"] for r in workstation.today_sheet(s, actor_for_user(s, ws_data["user_id"]))]
    cards = pg.locator("#ws-today-list article")
    # the sheet is drawn from the phone's copy first, then from the fresh snapshot: wait for this lesson's card
    pg.locator(f"#ws-today-list article[data-booking='{ws_data['booking_id']}']").wait_for(timeout=30_000)
    assert [cards.nth(i).get_attribute("data-booking") for i in range(cards.count())] == expected
    names = [n.strip() for n in pg.locator("#ws-today-list .ws-name").all_inner_texts()]
    assert ws_data["learner"] in names and all(names)
    if cards.count() and "next" in (cards.first.get_attribute("class") or ""):
        assert cards.first.locator("text=Next lesson").count() == 1
    pg.screenshot(path="/tmp/ws-today.png", full_page=True)
    pg.locator("#ws-tab-week").click()
    assert pg.locator("#ws-week").is_visible() and not pg.locator("#ws-today").is_visible()
    pg.locator("#ws-tab-today").click()

    card = pg.locator(f"#ws-today article[data-booking='{ws_data['booking_id']}']")  # under "To record" or today
    card.locator(".ws-start").click()
    pg.wait_for_url(re.compile(r"/instructor/lesson/new/?\?booking="), timeout=30_000)
    pg.locator("#ws-learner").wait_for(timeout=30_000)
    assert pg.locator("#ws-learner").inner_text().strip() == ws_data["learner"]
    assert pg.locator("#ws-suburb").input_value() == "Dickson"
    assert pg.locator("#ws-odo-start").get_attribute("inputmode") == "numeric"
    pg.locator("#ws-odo-start").fill("20100")
    pg.locator("#ws-odo-end").fill("20131")
    taught = _mark_first_allowed(pg, "taught", 2)
    pg.locator(".ws-phrase").first.click()
    assert pg.locator("#ws-comments").input_value()
    pg.locator("#ws-to-bridge").click()
    assert "Practise" in pg.locator("#ws-practise").input_value()
    pg.locator("#ws-to-sign-i").click()
    _draw(pg, "sig-instructor")
    pg.screenshot(path="/tmp/ws-sign.png", full_page=True)
    pg.locator("#ws-to-sign-l").click()
    assert pg.locator("#ws-signer-l").inner_text().strip() == ws_data["learner"]
    pg.locator("#ws-finish").click()  # blank pad: refused in the browser
    assert "blank" in pg.locator("#sig-learner-error").inner_text()
    _draw(pg, "sig-learner", 2)
    pg.locator("#ws-finish").click()
    pg.locator("#ws-done-state[data-state='sent']").wait_for(timeout=30_000)
    pg.screenshot(path="/tmp/ws-done.png", full_page=True)

    with nxdb.session_scope(engine) as s:
        lesson = s.execute(sa.text("SELECT * FROM lessons WHERE booking_id = :b"),
                           {"b": ws_data["booking_id"]}).one()
        assert lesson.status == "completed" and (lesson.odo_start, lesson.odo_end) == (20100, 20131)
        assert sorted(lesson.competencies_taught) == sorted(int(t) for t in taught)
        sigs = s.execute(sa.text("SELECT signer_role, signature_url, signature_image_sha256 FROM signatures "
                                 "WHERE document_id = :l ORDER BY seq"), {"l": lesson.id}).all()
        assert [r.signer_role for r in sigs] == ["instructor", "student"]
        assert all(r.signature_image_sha256 and r.signature_url for r in sigs)
        assert s.execute(sa.text("SELECT count(*) FROM student_competencies WHERE lesson_id = :l"),
                         {"l": lesson.id}).scalar_one() == 2
        assert s.execute(sa.text("SELECT count(*) FROM lesson_bridge_forms WHERE lesson_id = :l"),
                         {"l": lesson.id}).scalar_one() == 1
