"""Accessibility of the pages a newcomer meets, on a phone (390x844), production build with the demo school.

Each page is opened as the role that uses it (demo sign-in), axe-core (vendored in
tests/e2e/vendor, no network) runs with the WCAG 2.0/2.1/2.2 A and AA rules, and no violation
of impact "serious" or "critical" may remain. A full-page phone screenshot of each is saved to
test-artifacts/axe-<name>-phone.png to be looked at.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.errors import SlotUnavailable
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.identity.accounts import DEMO_SIGN_IN_ACCOUNTS
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, weekday_ahead
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_newcomer import demo_sign_in, open_sign_in

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


def check(page, name: str) -> None:
    """Screenshot the page, run axe on it and fail on any serious or critical violation (listed)."""
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the full-page shot
    page.screenshot(path=str(ARTIFACTS / f"axe-{name}-phone.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS
    )
    found = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")[:300]} for n in v["nodes"][:8]]}
        for v in result["violations"]
    ]
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(found, indent=2))
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"{name}: serious/critical axe violations:\n" + json.dumps(blocking, indent=2)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, f"{name} scrolls sideways"


def _h1(page, name=None):
    heading = page.get_by_role("heading", level=1) if name is None else page.get_by_role("heading", level=1, name=name)
    heading.first.wait_for(timeout=30_000)


# (name, path, demo role or None, something on the page that shows it has loaded its data)
PAGES = [
    ("sign-in", "/sign-in", None, "#demo-sign-in"),
    ("sign-up", "/sign-up", None, "#su-email"),
    ("contact", "/contact", None, "#contact-form"),
    ("terms", "/terms", None, "#terms-cancellation"),
    ("testimonials", "/testimonials", None, "#testimonials-cta-title"),
    ("not-found", "/no-such-page-here", None, "#not-found-title"),
    ("student", "/student", "student", "#upcoming-list"),
    ("parent", "/parent", "parent", "h2"),
    ("instructor", "/instructor", "instructor", "#ws-today [data-ws]"),
    ("admin", "/admin", "admin", "#admin-figures"),
    ("account", "/account", "parent", "#acc-new-password"),
    ("mailbox", "/admin/mailbox", "admin", "#mb-list"),
    ("outbox", "/admin/outbox", "admin", "#ob-search"),
]


@pytest.mark.parametrize("name,path,role,ready", PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations_on_a_phone(app_server, phone_page, name, path, role, ready):
    page = phone_page
    if role:
        demo_sign_in(page, app_server, role)
    if name == "sign-in":
        open_sign_in(page, app_server)
    else:
        page.goto(app_server + path)
    page.locator(ready).first.wait_for(timeout=30_000)
    _h1(page)
    check(page, name)
    if name == "mailbox":  # and one message opened, its links to follow
        page.locator(".mb-message a").first.click()
        page.locator("#mb-body").wait_for(timeout=30_000)
        check(page, "mailbox-message")


@pytest.mark.parametrize("role", ["admin", "instructor", "student", "parent"])
def test_the_phone_menu_of_each_role_is_accessible(app_server, phone_page, role):
    page = phone_page
    demo_sign_in(page, app_server, role)
    page.locator("#mobile-menu-button").click()
    menu = page.get_by_role("dialog", name="Menu")
    menu.wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the drawer's slide-in animation
    check(page, f"menu-{role}")


def test_the_booking_widget_is_accessible_on_a_phone(app_server, phone_page):
    page = phone_page
    page.goto(app_server + "/book")
    page.locator("#service-standard-60").wait_for(timeout=60_000)
    check(page, "book-services")
    page.locator("#service-standard-60").click()
    page.locator("[id^='time-']").first.wait_for(timeout=30_000)
    page.locator("[id^='day-']:not([disabled])").nth(8).click()  # a day the booking-widget tests leave alone
    page.locator("[id^='time-']").last.click()
    page.locator("#bk-name").wait_for(timeout=30_000)
    check(page, "book-details")
    page.locator("#bk-name").fill("Alex Access")
    page.locator("#bk-phone").fill("0412 555 909")
    page.locator("#bk-email").fill("alex.access@example.com")
    page.locator("#bk-pickup").fill("9 Test Street")
    page.locator("#bk-suburb").fill("Gungahlin")
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").wait_for(timeout=30_000)  # the pay button, with the date in dd/mm/yyyy
    check(page, "book-review")


@pytest.fixture(scope="module")
def demo_learner_booking(e2e_db_url) -> str:
    """A confirmed lesson for the demo learner a week or more ahead: free to reschedule online."""
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            student_id = s.execute(sa.text(
                "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE lower(u.email) = :e"),
                {"e": DEMO_SIGN_IN_ACCOUNTS["student"]}).scalar_one()
            service_id = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar_one()
        day = weekday_ahead(2, weeks=1)
        for hhmm in ("09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"):
            try:
                with nxdb.session_scope(engine) as s:
                    b = booking.reserve_slot(s, SYSTEM, service_id=service_id, start_time=at(day, hhmm),
                                             student_id=student_id, pickup_address="Home", suburb="Kambah")
                    booking.confirm_booking(s, SYSTEM, b.id)
                    return str(b.id)
            except SlotUnavailable:
                continue
        raise AssertionError("no free hour for the demo learner's test booking")
    finally:
        engine.dispose()


def test_the_manage_booking_page_is_accessible_on_a_phone(app_server, phone_page, demo_learner_booking):
    page = phone_page
    demo_sign_in(page, app_server, "student")
    page.goto(app_server + f"/booking/manage?id={demo_learner_booking}")
    page.locator("#start-reschedule").wait_for(timeout=30_000)
    check(page, "manage")
    page.locator("#start-reschedule").click()
    page.locator("[id^='mtime-']").first.wait_for(timeout=30_000)  # the reschedule chips
    check(page, "manage-reschedule")
    # The day chips are short ("Wed 16 Dec", the full date in their title) so several fit a row on a phone.
    chips = page.locator("[id^='mday-']")
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}", chips.first.inner_text().strip())
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]+ \d{4}", chips.first.get_attribute("title"))
    rows = page.evaluate("[...new Set([...document.querySelectorAll(\"[id^='mday-']\")].map(e => e.offsetTop))].length")
    assert rows <= -(-chips.count() // 3), f"{chips.count()} day chips take {rows} rows"
    assert page.locator("[id^='mday-'][aria-pressed='true']").count() == 1
