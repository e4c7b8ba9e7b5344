"""The owner's instructors, prices and reports in a browser (issue 16): the owner onboards a contractor
instructor, who sets a password from the invitation in the offline mailbox, signs in and sets their hours;
a visitor books that instructor in the widget; the owner changes a price and the lessons page and the
widget show it at once; a revenue CSV whose total matches the dashboard's figure."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import Service, User
from nexdrive.services.core import clock
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.services.reporting import kpis
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "e2e-c20-owner@example.com"
NEW_INSTRUCTOR = "e2e-c20-jo.lee@example.com"
NEW_PASSWORD = "jo teaches hill starts"
SLUG = "e2e-c20-price"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"c20-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            inv = accounts.create_staff_account(s, SYSTEM, email=ADMIN_EMAIL, role="admin", first_name="Olga",
                                                last_name="Owner")
            user = s.get(User, inv.user_id)
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
            s.add(Service(name="E2E price lesson", slug=SLUG, duration_minutes=60, price_cents=9000,
                          category="lesson", sort_order=999))
        yield {"admin": Actor(role="admin", user_id=inv.user_id)}
        with nxdb.session_scope(engine) as s:  # leave the shared demo data as it was for the other files
            s.execute(sa.text("UPDATE services SET is_active = false WHERE slug = :s"), {"s": SLUG})
            s.execute(sa.text("UPDATE instructors SET status = 'inactive' WHERE user_id = "
                              "(SELECT id FROM users WHERE email = :e)"), {"e": NEW_INSTRUCTOR})
    finally:
        engine.dispose()


def _sql(url, query, **params):
    engine = _engine(url)
    try:
        with nxdb.session_scope(engine) as s:
            return s.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def test_onboard_an_instructor_who_sets_hours_and_is_booked(app_server, e2e_db_url, owner, browser):
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        admin = desk.new_page()
        sign_in(admin, app_server, ADMIN_EMAIL, PASSWORD)
        admin.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
        admin.goto(app_server + "/admin/instructors")
        admin.locator("#instructor-table").wait_for(timeout=30_000)
        admin.locator("#instructor-new").click()
        form = admin.locator("#onboard-form")
        form.wait_for(timeout=15_000)
        expiry = (clock.today() + timedelta(days=400)).isoformat()
        for key, value in (("first_name", "Jo"), ("last_name", "Lee"), ("email", NEW_INSTRUCTOR),
                           ("phone", "0412 345 600"), ("adi_number", "ADI 4567"), ("adi_expiry", expiry),
                           ("accreditation_number", "ACT-2468"), ("accreditation_expiry", "2020-01-01"),
                           ("vehicle_rego", "YJO12"), ("vehicle_make", "Toyota"), ("vehicle_model", "Corolla"),
                           ("vehicle_year", "2024")):
            form.locator(f"#{key}").fill(value)
        admin.locator("#instructor-onboard").click()  # a lapsed accreditation is refused next to the field
        err = admin.locator("#accreditation_expiry-error")
        err.wait_for(state="visible", timeout=30_000)
        assert "passed" in err.inner_text()
        assert _sql(e2e_db_url, "SELECT count(*) FROM users WHERE email = :e", e=NEW_INSTRUCTOR)[0][0] == 0
        form.locator("#accreditation_expiry").fill(expiry)
        _shot(admin, "1-onboard")
        admin.locator("#instructor-onboard").click()
        admin.wait_for_url(re.compile(r".*/admin/instructors/view\?id=.*"), timeout=30_000)
        admin.locator("#instructor-name").filter(has_text="Jo Lee").wait_for(timeout=30_000)
        assert "ACT-2468" in admin.locator("#instructor-accreditation").inner_text()

        # The invitation, read in the offline mailbox
        admin.goto(app_server + "/admin/mailbox")
        mail = admin.locator(".mb-message", has_text=NEW_INSTRUCTOR).first
        mail.wait_for(timeout=30_000)
        mail.get_by_role("link").click()
        link = admin.locator("#mb-body a.mb-link").first
        link.wait_for(timeout=30_000)
        href = link.get_attribute("href")
        assert "/reset-password?token=" in href

        # The instructor sets a password, lands on their dashboard and sets their hours (phone)
        jo = phone.new_page()
        jo.goto(href)
        jo.locator("#rp-password").fill(NEW_PASSWORD)
        jo.locator("#rp-confirm").fill(NEW_PASSWORD)
        jo.locator("#reset-submit").click()
        jo.wait_for_url(re.compile(re.escape(app_server + "/instructor") + r"/?$"), timeout=30_000)
        jo.locator("#availability-link").click()
        jo.wait_for_url(re.compile(r".*/instructor/availability/?$"), timeout=30_000)
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"):
            jo.get_by_role("button", name=f"Add hours on {day}").click()
        jo.locator("#save-hours").click()
        jo.locator("#hours-message").filter(has_text="Saved").wait_for(timeout=30_000)
        _shot(jo, "2-hours")
        jo_id = _sql(e2e_db_url, "SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e",
                     e=NEW_INSTRUCTOR)[0][0]

        # A visitor chooses Jo in the widget and books
        visitor = phone.new_page()
        visitor.goto(app_server + "/book")
        visitor.locator("#service-standard-60").wait_for(timeout=60_000)
        visitor.locator("#service-standard-60").click()
        choice = visitor.locator("#instructor-choice")
        choice.wait_for(timeout=30_000)
        choice.select_option(str(jo_id))
        visitor.locator("[id^='day-']").first.wait_for(timeout=30_000)
        visitor.wait_for_timeout(500)
        for chip in visitor.locator("[id^='day-']").all():
            count = re.search(r"(\d+) free", chip.inner_text())
            if count and int(count.group(1)) >= 2:
                chip.click()
                break
        visitor.locator("[id^='time-']").first.click()
        visitor.locator("#bk-name").wait_for(timeout=30_000)
        for key, value in (("#bk-name", "Val Visitor"), ("#bk-phone", "0412 555 927"),
                           ("#bk-email", "val.visitor.c20@example.com"), ("#bk-pickup", "3 Test Street"),
                           ("#bk-suburb", "Belconnen")):
            visitor.locator(key).fill(value)
        visitor.locator("#details-continue").click()
        visitor.locator("#confirm-booking").wait_for(timeout=30_000)
        assert "Jo L" in visitor.locator("main").inner_text()
        visitor.locator("#confirm-booking").click()
        visitor.wait_for_url(re.compile(r".*/pay/result/?\?checkout=.*"), timeout=30_000)
        visitor.locator("#booking-status").wait_for(timeout=30_000)
        rows = _sql(e2e_db_url, "SELECT b.instructor_id, b.status FROM bookings b "
                                "JOIN contacts c ON c.id = b.contact_id WHERE c.email = 'val.visitor.c20@example.com'")
        assert [(r[0], r[1]) for r in rows] == [(jo_id, "confirmed")]
        _shot(visitor, "3-booked")
    finally:
        desk.close()
        phone.close()


def test_a_new_price_shows_at_once_and_the_revenue_csv_matches(app_server, e2e_db_url, owner, page):
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.goto(app_server + "/admin/services")
    page.locator(f"#edit-{SLUG}").click()
    price = page.locator("#service-form #price")
    price.wait_for(timeout=30_000)
    price.fill("abc")
    page.locator("#service-save").click()
    page.locator("#price-error").wait_for(state="visible", timeout=30_000)
    price.fill("97.50")
    page.locator("#service-save").click()
    page.locator("#services-notice").filter(has_text="$97.50").wait_for(timeout=30_000)
    assert _sql(e2e_db_url, "SELECT price_cents FROM services WHERE slug = :s", s=SLUG)[0][0] == 9750

    page.goto(app_server + "/lessons")
    card = page.locator(f".service-card[data-slug='{SLUG}']")
    card.wait_for(timeout=30_000)
    assert "$97.50" in card.inner_text()
    page.goto(app_server + "/book")
    widget_card = page.locator(f"#service-{SLUG}")
    widget_card.wait_for(timeout=60_000)
    assert "$97.50" in widget_card.inner_text()

    page.goto(app_server + "/admin/reports")
    # The page paints before it hydrates: wait for its first report (on load, the buttons disabled meanwhile)
    # so the tap is not made on a button about to be disabled.
    page.locator("#report-result #report-table").wait_for(timeout=30_000)
    page.locator("#report-download:not([disabled])").wait_for(timeout=30_000)
    page.locator("#period").select_option("month")
    with page.expect_download(timeout=30_000) as info:
        page.locator("#report-download").click()
    text = open(info.value.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][4] == "Net (AUD)" and rows[-1][0] == "Total"  # revenue by month (the default grouping)
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            want = kpis.dashboard(s, owner["admin"])["periods"]["month"]["figures"]["revenue"]["value"]
    finally:
        engine.dispose()
    assert round(float(rows[-1][4]) * 100) == want
    page.locator("#report-summary").wait_for(timeout=30_000)
    _shot(page, "4-report")
