"""The owner's reports in a browser (issue 16 item 7): the owner opens /admin/reports, picks revenue by
payment method for this month, sees the chart and the table, downloads the CSV whose total matches the
page (and the dashboard's revenue figure), and the page has no serious or critical axe violations."""
from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.formats import aud
from nexdrive.models import Payment, User
from nexdrive.services.core import clock
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.services.reporting import kpis
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import check
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "reports add up to the cent"
EMAIL = "e2e-reports-owner@example.com"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            inv = accounts.create_staff_account(s, SYSTEM, email=EMAIL, role="admin", first_name="Rhea",
                                                last_name="Ports")
            user = s.get(User, inv.user_id)
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
            now = clock.now(s)
            s.add(Payment(amount_cents=4321, payment_method="cash", status="completed", completed_at=now,
                          created_at=now, description="E2E reports: cash lesson"))
        yield {"admin": Actor(role="admin", user_id=inv.user_id)}
    finally:
        engine.dispose()


def test_owner_sees_revenue_by_payment_method_and_downloads_the_matching_csv(app_server, e2e_db_url, owner,
                                                                            browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = ctx.new_page()
        sign_in(page, app_server, EMAIL, PASSWORD)
        page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
        page.goto(app_server + "/admin/reports")
        page.locator("#report-result").wait_for(timeout=60_000)  # this month's revenue by month, on load
        page.locator("#period").select_option("month")
        page.locator("#grouping").select_option("method")
        page.locator("#report-run").click()
        page.locator("#report-table th", has_text="Payment method").wait_for(timeout=30_000)
        page.locator("#report-table td", has_text="Cash").first.wait_for(timeout=30_000)
        page.locator("#report-chart .recharts-bar-rectangle").first.wait_for(timeout=30_000)
        net_on_page = page.locator("#report-totals td").nth(4).inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "reports-by-method.png"), full_page=True)

        with page.expect_download(timeout=30_000) as info:
            page.locator("#report-download").click()
        download = info.value
        assert re.fullmatch(r"revenue-by-method-\d{4}-\d{2}-01-to-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
        rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
        assert rows[0][:5] == ["Payment method", "Payments", "Received (AUD)", "Refunded (AUD)", "Net (AUD)"]
        assert rows[-1][0] == "Total" and "Cash" in [r[0] for r in rows[1:-1]]
        net_cents = round(float(rows[-1][4]) * 100)
        assert sum(round(float(r[4]) * 100) for r in rows[1:-1]) == net_cents
        assert aud(net_cents) == net_on_page
        engine = _engine(e2e_db_url)
        try:
            with nxdb.session_scope(engine) as s:
                want = kpis.dashboard(s, owner["admin"])["periods"]["month"]["figures"]["revenue"]["value"]
        finally:
            engine.dispose()
        assert net_cents == want

        with page.expect_download(timeout=30_000) as info:
            page.locator("#report-pdf").click()
        assert open(info.value.path(), "rb").read(4) == b"%PDF"
    finally:
        ctx.close()


def test_reports_page_has_no_serious_accessibility_violations(app_server, owner, phone_page):
    sign_in(phone_page, app_server, EMAIL, PASSWORD)
    phone_page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    phone_page.goto(app_server + "/admin/reports")
    phone_page.locator("#report-result").wait_for(timeout=60_000)
    phone_page.locator("#report-chart .recharts-bar-rectangle, #report-chart svg").first.wait_for(timeout=30_000)
    check(phone_page, "admin-reports")
