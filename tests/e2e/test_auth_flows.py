"""Accounts in the browser (production build): each role signs in and lands on its
home, route guards send visitors to sign-in, and a learner's "lesson notes" switch
takes effect on the parent's view at once."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import Lesson, Student, User
from nexdrive.services.identity import accounts
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
LESSON_COMMENT = "Great mirror checks today; practise reverse parallel parking near Dickson shops."
EMAILS = {
    "admin": "e2e-auth-admin@example.com",
    "instructor": "e2e-auth-instructor@example.com",
    "student": "e2e-auth-student@example.com",
    "parent": "e2e-auth-parent@example.com",
}
HOMES = {
    "admin": ("/admin", "Admin dashboard"),
    "instructor": ("/instructor", "Today"),
    "student": ("/student", "Your learner dashboard"),
    "parent": ("/parent", "Parent and supervisor area"),
}


@pytest.fixture(scope="module")
def accounts_data(e2e_db_url):
    """One user per role with a password, a parent linked to the student with every
    permission on, and a lesson with instructor comments for that student."""
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as session:
            for role in ("admin", "instructor"):
                inv = accounts.create_staff_account(
                    session, SYSTEM, email=EMAILS[role], role=role, first_name="Sam",
                    last_name=role.title(),
                    **({"adi_number": "ADI-E2E-1", "adi_expiry": datetime(2030, 1, 1).date()}
                       if role == "instructor" else {}))
                user = session.get(User, inv.user_id)
                user.password_hash = hash_password(PASSWORD)
                session.add(user)
            issued = accounts.sign_up_student(session, email=EMAILS["student"], password=PASSWORD,
                                              first_name="Ava", last_name="Nguyen")
            student_actor = issued.actor
            invite = accounts.invite_parent(session, student_actor, email=EMAILS["parent"], relationship="parent")
            link, _ = accounts.accept_parent_invitation(session, VISITOR, invite.token, password=PASSWORD,
                                                        first_name="Hoa", last_name="Nguyen")
            student = session.get(Student, student_actor.student_id)
            start = datetime.now(ZoneInfo("Australia/Sydney")).replace(hour=9, minute=0, second=0,
                                                                      microsecond=0) - timedelta(days=3)
            session.add(Lesson(instructor_id=student.instructor_id, student_id=student.id, lesson_number=1,
                               lesson_date=start.date(), start_time=start.astimezone(timezone.utc),
                               end_time=(start + timedelta(minutes=60)).astimezone(timezone.utc),
                               total_minutes=60, rounded_minutes=60, competencies_taught=[1, 2],
                               competencies_assessed=[], competencies_achieved_manual=[],
                               competencies_achieved_auto=[], comments=LESSON_COMMENT, status="completed"))
            link_id = str(link.id)
        return {"link_id": link_id}
    finally:
        engine.dispose()


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/sign-in")
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.locator("#sign-in-submit").click()


@pytest.mark.parametrize("role", ["admin", "instructor", "student", "parent"])
def test_each_role_signs_in_and_lands_on_its_home(app_server, accounts_data, page, role):
    sign_in(page, app_server, EMAILS[role])
    path, heading = HOMES[role]
    page.wait_for_url(re.compile(re.escape(app_server + path) + r"/?$"), timeout=30_000)
    h1 = page.get_by_role("heading", level=1).first
    h1.wait_for(timeout=30_000)
    assert h1.inner_text().strip() == heading
    # the home's data loaded through the access layer (not the signed-out state)
    page.get_by_text(re.compile(r"^(Welcome back|Hello|G'day|Signed in as)")).first.wait_for(timeout=30_000)
    # the session cookie is HttpOnly: page scripts can't read it
    assert "nxd_session" not in page.evaluate("document.cookie")


def test_wrong_password_shows_an_error_and_stays_on_sign_in(app_server, accounts_data, page):
    sign_in(page, app_server, EMAILS["student"], "not the password")
    error = page.locator("#sign-in-error")
    error.wait_for(timeout=30_000)
    assert "don't match our records" in error.inner_text()
    assert page.get_by_label("Password", exact=True).get_attribute("aria-invalid") == "true"
    assert "/sign-in" in page.url


def test_signed_out_visitor_is_sent_to_sign_in(app_server, page):
    page.goto(app_server + "/student")
    page.wait_for_url(re.compile(r"/sign-in\?next=%2Fstudent$"), timeout=30_000)
    page.get_by_role("heading", level=1, name="Sign in", exact=True).wait_for(timeout=30_000)
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    assert page.get_by_text("Welcome back").count() == 0  # no student data was shown


def test_wrong_role_is_sent_to_its_own_home(app_server, accounts_data, page):
    sign_in(page, app_server, EMAILS["parent"])
    page.wait_for_url(re.compile(r"/parent/?$"), timeout=30_000)
    page.goto(app_server + "/admin")
    page.wait_for_url(re.compile(r"/parent/?\?denied=admin$"), timeout=30_000)
    notice = page.locator("#area-notice")
    notice.wait_for(timeout=30_000)  # says why they are here
    assert ("That page is for the school's administrator; you're signed in as a parent or supervisor"
            in notice.inner_text())
    page.goto(app_server + "/lessons")  # the notice stays with the page it was given for
    page.locator(".service-card").first.wait_for(timeout=30_000)
    assert page.locator("#area-notice").count() == 0


def test_a_learner_sent_from_the_instructor_area_is_told_why(app_server, accounts_data, page):
    sign_in(page, app_server, EMAILS["student"])
    page.wait_for_url(re.compile(r"/student/?$"), timeout=30_000)
    page.goto(app_server + "/instructor")
    page.wait_for_url(re.compile(r"/student/?\?denied=instructor$"), timeout=30_000)
    page.locator("#area-notice").wait_for(timeout=30_000)
    assert "That page is for instructors; you're signed in as a learner" in page.locator("#area-notice").inner_text()


def _area_links(page) -> list[str]:
    nav = page.get_by_role("navigation", name="Account areas")
    return [t.strip() for t in nav.get_by_role("link").all_inner_texts()]


def test_the_header_offers_only_the_signed_in_persons_own_area(app_server, accounts_data, page):
    page.goto(app_server + "/")
    page.get_by_role("navigation", name="Account areas").get_by_role("link", name="Sign in").wait_for(
        timeout=30_000)
    assert not {"Student", "Parent", "Instructor", "Admin"} & set(_area_links(page))  # a visitor: no areas
    sign_in(page, app_server, EMAILS["student"])
    page.wait_for_url(re.compile(r"/student/?$"), timeout=30_000)
    page.get_by_role("navigation", name="Account areas").get_by_role("link", name="Student").wait_for(
        timeout=30_000)
    links = _area_links(page)
    assert "Student" in links and not {"Parent", "Instructor", "Admin"} & set(links)
    # A public page, loaded afresh, knows who is signed in: "My account" and "Sign out", not "Sign in".
    page.goto(app_server + "/faq")
    nav = page.get_by_role("navigation", name="Account areas")
    nav.get_by_role("link", name="My account").wait_for(timeout=30_000)
    assert nav.get_by_role("link", name="Sign out").is_visible()
    assert nav.get_by_role("link", name="Sign in").count() == 0


def test_an_unknown_address_shows_the_not_found_page_in_the_site_layout(app_server, page):
    response = page.goto(app_server + "/no-such-page")
    page.get_by_role("heading", level=1, name="We couldn't find that page").wait_for(timeout=30_000)
    assert page.locator("#site-footer").is_visible() and page.locator("#site-logo").is_visible()
    page.locator("#not-found-home").click()
    page.wait_for_url(re.compile(re.escape(app_server) + r"/?$"), timeout=30_000)
    assert response is not None


def test_next_parameter_returns_after_sign_in(app_server, accounts_data, page):
    page.goto(app_server + "/account")
    page.wait_for_url(re.compile(r"/sign-in\?next=%2Faccount$"), timeout=30_000)
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    page.get_by_label("Email address").fill(EMAILS["student"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("#sign-in-submit").click()
    page.wait_for_url(re.compile(r"/account/?$"), timeout=30_000)
    page.locator("#profile").wait_for(timeout=30_000)


def test_sign_in_page_on_a_phone(app_server, phone_page):
    phone_page.goto(app_server + "/sign-in")
    phone_page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    phone_page.screenshot(path=str(ARTIFACTS / "sign-in-phone.png"), full_page=True)


def test_switching_off_lesson_notes_hides_comments_from_the_parent(app_server, accounts_data, browser):
    parent_ctx = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney")
    student_ctx = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney")
    try:
        parent = parent_ctx.new_page()
        sign_in(parent, app_server, EMAILS["parent"])
        parent.wait_for_url(re.compile(r"/parent/?$"), timeout=30_000)
        card = parent.locator(".linked-student").filter(has_text="Ava Nguyen")
        card.wait_for(timeout=30_000)
        comments = card.locator(".lesson-comments")
        comments.first.wait_for(timeout=30_000)
        assert LESSON_COMMENT in comments.first.inner_text()  # shared: the parent sees the comments

        student = student_ctx.new_page()
        sign_in(student, app_server, EMAILS["student"])
        student.wait_for_url(re.compile(r"/student/?$"), timeout=30_000)
        student.goto(app_server + "/student/family")
        link_card = student.locator(f".parent-link[data-email='{EMAILS['parent']}']")
        link_card.wait_for(timeout=30_000)
        notes_switch = link_card.locator("[data-permission='can_view_lesson_notes']")
        assert notes_switch.get_attribute("aria-checked") == "true"
        assert student.get_by_role("switch", name="Lesson notes").first.is_visible()  # labelled
        student.screenshot(path=str(ARTIFACTS / "family-access.png"), full_page=True)
        notes_switch.click()
        student.locator("#family-message").filter(has_text="Lesson notes").wait_for(timeout=30_000)
        assert notes_switch.get_attribute("aria-checked") == "false"

        parent.reload()
        card = parent.locator(".linked-student").filter(has_text="Ava Nguyen")
        card.wait_for(timeout=30_000)
        card.locator(".lesson-row").first.wait_for(timeout=30_000)  # the lesson is still listed...
        card.locator(".notes-hidden").wait_for(timeout=30_000)  # after reload the old view shows until on_load ends
        assert card.locator(".lesson-comments").count() == 0  # ...without its comments
        assert LESSON_COMMENT not in parent.content()
    finally:
        student_ctx.close()
        parent_ctx.close()


def test_magic_link_page_signs_in_only_on_the_button_and_only_once(app_server, e2e_db_url, accounts_data, browser):
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as session:
            token = accounts.request_magic_link(session, email=EMAILS["student"])
    finally:
        engine.dispose()
    link = f"{app_server}/sign-in/link?token={token}"
    context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney")
    try:
        scanner = context.new_page()
        scanner.goto(link)  # a mail scanner's GET, twice: it must not use the link up
        scanner.locator("#magic-link-sign-in").wait_for(timeout=30_000)
        scanner.reload()
        scanner.locator("#magic-link-sign-in").wait_for(timeout=30_000)
        scanner.get_by_role("button", name="Sign me in").click()
        scanner.wait_for_url(re.compile(re.escape(app_server + "/student") + r"/?$"), timeout=30_000)
        again = context.new_page()
        again.goto(link)
        again.get_by_role("alert").wait_for(timeout=30_000)
        assert again.locator("#magic-link-sign-in").count() == 0
    finally:
        context.close()


def test_header_offers_sign_out_and_signing_out_ends_the_session(app_server, accounts_data, page):
    sign_in(page, app_server, EMAILS["student"])
    page.wait_for_url(re.compile(re.escape(app_server + "/student") + r"/?$"), timeout=30_000)
    header_sign_out = page.get_by_role("navigation", name="Account areas").get_by_role("link", name="Sign out")
    header_sign_out.wait_for(timeout=30_000)
    header_sign_out.click()
    page.wait_for_url(re.compile(r"/sign-out/?$"), timeout=30_000)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in/?\?signed_out=1$"), timeout=30_000)
    page.goto(app_server + "/student")  # the old cookie no longer opens the student area
    page.wait_for_url(re.compile(r"/sign-in/?\?next=%2Fstudent$"), timeout=30_000)
