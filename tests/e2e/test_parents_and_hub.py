"""The parents' centre and the Competency Hub in the browser (production build).

A parent linked to two learners switches between them, confirms a drive they supervised, and loses the
lesson comments as soon as the learner turns "Lesson notes" off; a parent with "Book lessons" books a
lesson for the learner on /book; a Hub page renders with its own title and structured data and every
Hub page is in the sitemap. axe-core (serious/critical) and 44x44 px tap targets on a phone.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import Parent, ParentStudentLink
from nexdrive.services.compliance import hub, lessons, logbook
from nexdrive.services.compliance.logbook import DriveInput
from nexdrive.services.core.access import PARENT_PERMISSIONS
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.data import seed
from tests.compliance_helpers import png
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import check
from tests.e2e.test_auth_flows import sign_in
from tests.e2e.test_booking_widget import pick_first_time
from tests.factories import make_user

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
PARENT_EMAIL = "e2e-parent-centre@example.com"
COMMENT = "Lovely smooth moving off today; keep practising the head check."

SMALL_TARGETS_JS = """scope => [...document.querySelectorAll(scope)]
  .filter(e => e.offsetParent !== null && !e.closest('p'))
  .map(e => { const r = e.getBoundingClientRect(); return {t: (e.innerText || e.id || '').slice(0, 40),
              w: Math.round(r.width), h: Math.round(r.height)}; })
  .filter(r => r.w > 0 && (r.w < 44 || r.h < 44))"""


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def family(e2e_db_url):
    """Two new learners of the demo instructor (Alex with a signed, commented lesson and a drive Morgan
    supervised; Bailey), both linking Morgan with every switch on."""
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            ids, actors = {}, {}
            for first in ("Alex", "Bailey"):
                issued = accounts.sign_up_student(s, email=f"e2e-{first.lower()}-centre@example.com",
                                                  password=PASSWORD, first_name=first, last_name="Learner",
                                                  phone="0412 555 6" + ("01" if first == "Alex" else "02"))
                ids[first], actors[first] = issued.actor.student_id, issued.actor
            s.execute(sa.text("UPDATE profiles SET address_line1 = '7 Family St', suburb = 'Kambah' WHERE id IN "
                              "(SELECT profile_id FROM students WHERE id IN (:a, :b))"),
                      {"a": ids["Alex"], "b": ids["Bailey"]})
            instructor_user = s.execute(sa.text("SELECT id FROM users WHERE lower(email) = :e"),
                                        {"e": seed.DEMO_INSTRUCTOR_EMAIL}).scalar_one()
            instructor = actor_for_user(s, instructor_user)
            s.execute(sa.text("UPDATE students SET instructor_id = :i WHERE id IN (:a, :b)"),
                      {"i": instructor.instructor_id, "a": ids["Alex"], "b": ids["Bailey"]})
            user, profile = make_user(s, "parent", "Morgan", "Parent")
            user.email, profile.email, user.password_hash = PARENT_EMAIL, PARENT_EMAIL, hash_password(PASSWORD)
            profile_id = profile.id
            parent = Parent(user_id=user.id, profile_id=profile_id)
            s.add(parent)
            s.flush()
            links = {}
            for first, sid in ids.items():
                link = ParentStudentLink(parent_id=parent.id, student_id=sid, status="active",
                                         accepted_at=datetime.now(timezone.utc),
                                         **{p: True for p in PARENT_PERMISSIONS})
                s.add(link)
                s.flush()
                links[first] = link.id
        with nxdb.session_scope(engine) as s:
            alex = actor_for_user(s, actors["Alex"].user_id)
            instructor = actor_for_user(s, instructor_user)
            start = (datetime.now(timezone.utc) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
            draft = lessons.record_lesson(s, instructor, student_id=ids["Alex"], start_time=start,
                                          end_time=start + timedelta(minutes=60), competencies_taught=[1, 2],
                                          competencies_assessed=[], transmission="auto", comments=COMMENT)
            lessons.sign_lesson(s, instructor, draft["id"], signature_image=png(seed=1))
            lessons.sign_lesson(s, alex, draft["id"], signature_image=png(seed=2))
            drive_start = start + timedelta(days=1)
            logbook.add_drive(s, alex, ids["Alex"], DriveInput(
                start_time=drive_start, end_time=drive_start + timedelta(minutes=45), supervisor_parent_id=parent.id,
                supervisor_licence_number="ACT7788"))
        return {"ids": ids, "links": links, "alex_user": actors["Alex"].user_id}
    finally:
        engine.dispose()


def _switch(e2e_db_url, family, flag: str, value: bool) -> None:
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            alex = actor_for_user(s, family["alex_user"])
            accounts.set_parent_permissions(s, alex, family["links"]["Alex"], {flag: value})
    finally:
        engine.dispose()


def _open_centre(page, base):
    page.goto(base + "/parent")
    page.locator("#selected-learner").wait_for(timeout=30_000)


def test_a_parent_switches_learners_confirms_a_drive_and_loses_the_comments(app_server, e2e_db_url, family,
                                                                           phone_page):
    page = phone_page
    sign_in(page, app_server, PARENT_EMAIL)
    page.wait_for_url(re.compile(r".*/parent/?$"), timeout=30_000)
    _open_centre(page, app_server)
    assert page.locator("#selected-learner").inner_text() == "Alex Learner"
    assert page.locator(".lesson-comments").first.inner_text() == COMMENT
    assert "0 of 23 tasks competent" in page.locator("#progress-summary").inner_text()
    assert page.locator(".guide-item").count() >= 1  # how to supervise, from the Hub
    check(page, "parent-centre")
    assert page.evaluate(SMALL_TARGETS_JS, ", ".join(f"{c} a, {c} button" for c in (
        ".parent-section", "nav[aria-label='Your learners']"))) == []
    # switch to Bailey and back
    page.get_by_role("button", name="Bailey Learner").click()
    page.wait_for_function("document.querySelector('#selected-learner').innerText === 'Bailey Learner'",
                           timeout=30_000)
    assert page.locator(".lesson-comments").count() == 0 and page.locator(".drive-row").count() == 0
    page.get_by_role("button", name="Alex Learner").click()
    page.wait_for_function("document.querySelector('#selected-learner').innerText === 'Alex Learner'",
                           timeout=30_000)
    # confirm the drive Morgan supervised
    page.locator(".confirm-drive").first.click()
    page.locator("#parent-notice").wait_for(timeout=30_000)
    assert page.locator(".drive-row").first.get_by_text("Confirmed").is_visible()
    page.screenshot(path=str(ARTIFACTS / "parent-centre-phone.png"), full_page=True)
    # the learner turns lesson notes off: on the next load the comments are gone, the dates stay
    _switch(e2e_db_url, family, "can_view_lesson_notes", False)
    try:
        _open_centre(page, app_server)
        page.locator(".notes-hidden").wait_for(timeout=30_000)
        assert page.locator(".lesson-comments").count() == 0
        assert page.locator(".lesson-row").count() == 1
        assert COMMENT not in page.content()
    finally:
        _switch(e2e_db_url, family, "can_view_lesson_notes", True)


def test_a_parent_with_book_lessons_books_for_the_learner(app_server, e2e_db_url, family, page):
    sign_in(page, app_server, PARENT_EMAIL)
    page.wait_for_url(re.compile(r".*/parent/?$"), timeout=30_000)
    _open_centre(page, app_server)
    page.locator("#parent-book").click()
    page.wait_for_url(re.compile(r".*/book\?learner=.*"), timeout=30_000)
    page.locator("#booking-for").wait_for(timeout=60_000)
    assert page.locator("#booking-for").input_value() == str(family["ids"]["Alex"])
    page.locator("#booking-for").select_option(str(family["ids"]["Bailey"]))
    pick_first_time(page)
    page.locator("[id^='time-']").nth(1).click()  # the learner's address is on file: straight to confirm
    page.locator("#confirm-booking").wait_for(timeout=30_000)
    page.locator("#confirm-booking").click()
    page.locator("#booking-status").wait_for(timeout=30_000)
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            rows = s.execute(sa.text(
                "SELECT b.status, u.email FROM bookings b JOIN users u ON u.id = b.booked_by "
                "WHERE b.student_id = :s"), {"s": family["ids"]["Bailey"]}).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("confirmed", PARENT_EMAIL)]


def test_a_hub_page_renders_with_its_title_and_the_sitemap_lists_all_25(app_server, phone_page):
    page = phone_page
    target = hub.hub_page(hub.hub_slug(15))
    page.goto(app_server + target.route)
    page.get_by_role("heading", level=1, name="Task 15: Reverse parallel parking").wait_for(timeout=30_000)
    assert page.title() == f"{target.title} | NexDrive Academy"
    assert page.locator("meta[name='description']").get_attribute("content") == target.description
    data = json.loads(page.locator("#hub-structured-data").text_content())
    assert data["@graph"][0]["headline"] == "Task 15: Reverse parallel parking"
    assert page.get_by_role("heading", level=2, name="How a supervising driver can help").is_visible()
    check(page, "hub-task-15")
    assert page.evaluate(SMALL_TARGETS_JS, "main a, main button") == []
    page.goto(app_server + "/hub")
    page.locator(".hub-index-link").first.wait_for(timeout=30_000)
    assert page.locator(".hub-index-link").count() == 25
    check(page, "hub-index")
    sitemap = httpx.get(app_server + "/sitemap.xml").text
    locs = {re.sub(r"^https?://[^/]+", "", loc) for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap)}
    assert {p.route for p in hub.hub_pages()} | {"/hub"} <= locs


# Every visible control under the selector with its size, those under 44x44 px kept. Fixed-position controls
# (the chat button) count too, so no offsetParent filter here.
SHELL_TAPS_JS = """selector => [...document.querySelectorAll(selector)]
  .filter(e => { const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
                 return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; })
  .map(e => { const r = e.getBoundingClientRect();
              return {t: (e.getAttribute('aria-label') || e.innerText || e.id || e.tagName).slice(0, 40),
                      w: Math.round(r.width * 10) / 10, h: Math.round(r.height * 10) / 10}; })
  .filter(r => r.w < 44 || r.h < 44)"""
UTILITY_BAR_JS = "() => Math.round(document.querySelector('header > div').getBoundingClientRect().height)"


def test_the_shared_header_footer_menu_and_chat_are_44px_tap_targets_on_a_phone(app_server, phone_page, browser):
    """The shell every page shares (nexdrive/components), on a public Hub page at 390 px: header, footer,
    the menu drawer and the chat panel; at desktop width the header keeps its slim utility bar."""
    page = phone_page
    page.goto(app_server + hub.hub_path(15))
    page.get_by_role("heading", level=1).wait_for(timeout=30_000)
    page.locator("#footer-phone").wait_for()
    assert page.locator("header a, header button, footer a").count() >= 10
    assert page.evaluate(SHELL_TAPS_JS, "header a, header button, footer a, footer button, #chat-button") == []
    assert page.evaluate(UTILITY_BAR_JS) == 44

    page.locator("#mobile-menu-button").click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_role("link", name="Lessons & pricing").wait_for(timeout=10_000)
    assert drawer.locator("a").count() >= 8
    assert page.evaluate(SHELL_TAPS_JS, "[role=dialog] a, [role=dialog] button") == []
    drawer.get_by_role("button", name="Close menu").click()
    drawer.wait_for(state="hidden", timeout=10_000)

    page.locator("#chat-button").click()
    page.locator("#chat-input").wait_for(timeout=10_000)
    assert page.evaluate(SHELL_TAPS_JS, "#chat-panel a, #chat-panel button, #chat-panel input") == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "shell-phone-chat.png"))
    page.locator("#chat-close").click()

    desktop = browser.new_context(locale="en-AU", viewport={"width": 1280, "height": 800}).new_page()
    try:
        desktop.goto(app_server + hub.hub_path(15))
        desktop.get_by_role("heading", level=1).wait_for(timeout=30_000)
        desktop.locator("#footer-phone").wait_for()
        assert desktop.evaluate(UTILITY_BAR_JS) == 36  # the desktop look is unchanged
        desktop.screenshot(path=str(ARTIFACTS / "shell-desktop.png"))
    finally:
        desktop.context.close()
