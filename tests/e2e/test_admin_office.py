"""The owner's office in a browser: the dashboard's figures and the list behind one; searching learners
and opening one; creating a contact and converting it to a learner; a contractor instructor kept out."""
from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import Profile, Student, User
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.services.reporting import kpis
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "e2e-office-admin@example.com"
CONTRACTOR_EMAIL = "e2e-office-contractor@example.com"
LEARNER_EMAIL = "olive.office@example.com"
NEW_CONTACT_EMAIL = "quinn.prospect@example.com"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"office-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def office(e2e_db_url):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            ids = {}
            for email, role, first in ((ADMIN_EMAIL, "admin", "Orla"), (CONTRACTOR_EMAIL, "instructor", "Con")):
                staff = {"adi_number": "ADI-E2E-9", "adi_expiry": date(2030, 1, 1)} if role == "instructor" else {}
                inv = accounts.create_staff_account(s, SYSTEM, email=email, role=role, first_name=first,
                                                    last_name="Office", **staff)
                user = s.get(User, inv.user_id)
                user.password_hash = hash_password(PASSWORD)
                s.add(user)
                ids[role] = inv.user_id
            admin = Actor(role="admin", user_id=ids["admin"])
            invited = accounts.invite_student(s, admin, email=LEARNER_EMAIL, first_name="Olive", last_name="Office",
                                              phone="0412 777 321")
            ids["olive"] = invited.student_id
        return {"ids": ids, "admin": admin}
    finally:
        engine.dispose()


def _figure(e2e_db_url, admin, key, period):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            return kpis.dashboard(s, admin)["periods"][period]["figures"][key]
    finally:
        engine.dispose()


def test_the_owner_sees_the_figures_and_follows_one_to_its_list(app_server, e2e_db_url, office, phone_page):
    page = phone_page
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    cell = page.locator("#fig-lessons-month")
    cell.wait_for(timeout=30_000)
    want = _figure(e2e_db_url, office["admin"], "lessons", "month")
    assert cell.inner_text().strip() == want["display"]
    revenue = _figure(e2e_db_url, office["admin"], "revenue", "month")
    assert page.locator("#fig-revenue-month").inner_text().strip() == revenue["display"]
    page.locator("#trend-revenue-chart").wait_for(timeout=10_000)
    _shot(page, "1-dashboard-phone")
    cell.click()
    page.wait_for_url(re.compile(r"/admin/figures\?figure=lessons&period=month"), timeout=30_000)
    page.locator("#figure-count").wait_for(timeout=30_000)
    assert page.locator("#figure-count").inner_text().strip() == str(want["value"])
    assert page.locator("#figure-table .figure-row").count() == min(want["value"], 200)
    _shot(page, "2-figure-list")


def test_the_owner_searches_learners_and_opens_one(app_server, office, page):
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.locator("#admin-students-link").click()
    page.wait_for_url(re.compile(r"/admin/students/?$"), timeout=30_000)
    page.locator("#learner-total").wait_for(timeout=30_000)
    page.locator("#q").fill("0412 777 321")
    page.locator("#learner-search").click()
    page.locator("#learner-total").filter(has_text=re.compile(r"^1$")).wait_for(timeout=30_000)
    _shot(page, "3-learner-search")
    page.locator(".learner-link").filter(has_text="Olive Office").click()
    page.wait_for_url(re.compile(r"/admin/students/view\?id="), timeout=30_000)
    page.locator("#learner-name").filter(has_text="Olive Office").wait_for(timeout=30_000)
    assert page.locator("#learner-competent").inner_text().strip() == "0"
    _shot(page, "4-learner")


def test_the_owner_creates_a_contact_and_converts_it(app_server, e2e_db_url, office, page):
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.goto(app_server + "/admin/contacts")
    page.locator("#contact-total").wait_for(timeout=30_000)
    page.locator("#new-contact").click()
    form = page.locator("#new-contact-form")
    form.wait_for(timeout=10_000)
    form.get_by_label("First name").fill("Quinn")
    form.get_by_label("Last name").fill("Prospect")
    form.get_by_label("Phone").fill("12345")
    form.get_by_label("Email").fill(NEW_CONTACT_EMAIL)
    page.locator("#new-contact-form-submit").click()
    page.locator("#phone-error").filter(has_text="Australian").wait_for(timeout=30_000)  # inline error
    form.get_by_label("Phone").fill("0412 606 707")
    page.locator("#new-contact-form-submit").click()
    page.wait_for_url(re.compile(r"/admin/contacts/view\?id="), timeout=30_000)
    page.locator("#contact-name").filter(has_text="Quinn Prospect").wait_for(timeout=30_000)
    _shot(page, "5-contact")
    page.locator("#convert-submit").click()
    page.locator("#contact-notice").filter(has_text="Enrolled").wait_for(timeout=30_000)
    page.locator("#contact-learner-link").wait_for(timeout=30_000)
    _shot(page, "6-converted")
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            student = s.execute(sa.select(Student).join(Profile, Profile.id == Student.profile_id)
                                .where(Profile.email == NEW_CONTACT_EMAIL)).scalar_one()
            invites = s.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE template = 'student_invite' "
                                        "AND recipient = :e"), {"e": NEW_CONTACT_EMAIL}).scalar_one()
            stage = s.execute(sa.text("SELECT lifecycle_stage FROM contacts WHERE email = :e"),
                              {"e": NEW_CONTACT_EMAIL}).scalar_one()
        assert isinstance(student.id, uuid.UUID) and invites == 1 and stage == "enrolled"
    finally:
        engine.dispose()


def test_a_contractor_instructor_cannot_reach_the_admin_pages(app_server, office, page):
    sign_in(page, app_server, CONTRACTOR_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"/instructor/?$"), timeout=30_000)
    for path in ("/admin", "/admin/students", "/admin/contacts", "/admin/figures?figure=revenue&period=month"):
        page.goto(app_server + path)
        page.wait_for_url(lambda url: "/admin" not in url, timeout=30_000)
        page.get_by_role("heading", level=1).first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        assert page.locator("#admin-figures, #learner-table, #contact-table, #figure-table").count() == 0
