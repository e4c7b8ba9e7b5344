"""What a newcomer meets first, in the browser on a phone (390x844), production build with the
demo school: one-click demo sign-in per role, the offline mailbox carrying a sign-in link the
learner follows, and setting a first password on /account.

The demo buttons' absence without demo data (or in production) is tested at the page-state level
and against the endpoint in tests/integration/test_demo_sign_in.py: a second production server
built without demo data would double this file's run time on the 2-core machine.
"""
from __future__ import annotations

import re

import pytest

from nexdrive.services.identity.accounts import DEMO_SIGN_IN_ACCOUNTS
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

HOMES = {
    "admin": ("/admin", "Admin dashboard"),
    "instructor": ("/instructor", "Today"),
    "student": ("/student", "Your learner dashboard"),
    "parent": ("/parent", "Parent and supervisor area"),
}
LINK_ONLY_LEARNER = "priya.sharma@demo.nexdrive.invalid"  # a demo learner without a password or a demo button


def _phone(browser):
    return browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                               viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)


def open_sign_in(page, base: str) -> None:
    page.goto(base + "/sign-in")
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)


def demo_sign_in(page, base: str, role: str) -> None:
    open_sign_in(page, base)
    page.locator(f"#demo-{role}").click()
    path, heading = HOMES[role]
    page.wait_for_url(re.compile(re.escape(base + path) + r"/?$"), timeout=30_000)
    page.get_by_role("heading", level=1, name=heading).wait_for(timeout=30_000)


def test_the_sign_in_page_offers_the_demo_on_a_phone(app_server, phone_page):
    open_sign_in(phone_page, app_server)
    panel = phone_page.locator("#demo-sign-in")
    panel.wait_for(timeout=30_000)
    labels = [b.inner_text().strip() for b in panel.get_by_role("button").all()]
    assert labels == ["Explore the demo as the owner", "Explore the demo as the instructor",
                      "Explore the demo as a learner", "Explore the demo as a parent"]
    assert phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    ARTIFACTS.mkdir(exist_ok=True)
    phone_page.screenshot(path=str(ARTIFACTS / "sign-in-demo-phone.png"), full_page=True)


@pytest.mark.parametrize("role", ["admin", "instructor", "student", "parent"])
def test_each_demo_role_signs_in_with_one_click_and_lands_on_its_area(app_server, phone_page, role):
    demo_sign_in(phone_page, app_server, role)
    phone_page.get_by_text(re.compile(r"^(Welcome back|Hello|G'day|Signed in as)")).first.wait_for(timeout=30_000)
    # a real server-side session in the HttpOnly cookie: /api/v1/me answers as that demo account
    me = phone_page.evaluate("fetch('/api/v1/me', {credentials: 'same-origin'}).then(r => r.json())")
    assert me["data"]["user"]["email"] == DEMO_SIGN_IN_ACCOUNTS[role]
    assert "nxd_session" not in phone_page.evaluate("document.cookie")


def test_a_magic_link_is_read_in_the_mailbox_and_signs_the_learner_in(app_server, browser):
    learner_ctx, admin_ctx = _phone(browser), _phone(browser)
    try:
        learner = learner_ctx.new_page()
        open_sign_in(learner, app_server)
        learner.get_by_label("Email address").fill(LINK_ONLY_LEARNER)
        learner.locator("#magic-link-button").click()
        learner.locator("#sign-in-info").wait_for(timeout=30_000)

        admin = admin_ctx.new_page()
        demo_sign_in(admin, app_server, "admin")
        admin.goto(app_server + "/admin/mailbox")
        mail = admin.locator(".mb-message", has_text=LINK_ONLY_LEARNER).filter(
            has_text="Your NexDrive Academy sign-in link").first
        mail.wait_for(timeout=30_000)
        assert admin.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        admin.screenshot(path=str(ARTIFACTS / "mailbox-phone.png"), full_page=True)
        mail.get_by_role("link").click()
        body = admin.locator("#mb-body")
        body.wait_for(timeout=30_000)
        assert admin.locator("#mb-open-subject").inner_text() == "Your NexDrive Academy sign-in link"
        link = body.locator("a.mb-link")
        href = link.get_attribute("href")
        assert re.fullmatch(re.escape(app_server) + r"/sign-in/link\?token=[A-Za-z0-9_-]{43}", href), href
        assert link.inner_text() == href
        admin.screenshot(path=str(ARTIFACTS / "mailbox-message-phone.png"), full_page=True)

        learner.goto(href)
        learner.locator("#magic-link-sign-in").click()
        learner.wait_for_url(re.compile(re.escape(app_server) + r"/student/?$"), timeout=30_000)
        me = learner.evaluate("fetch('/api/v1/me', {credentials: 'same-origin'}).then(r => r.json())")
        assert me["data"]["user"]["email"] == LINK_ONLY_LEARNER
    finally:
        learner_ctx.close()
        admin_ctx.close()


def test_the_mailbox_is_for_the_admin_only(app_server, phone_page):
    demo_sign_in(phone_page, app_server, "instructor")
    phone_page.goto(app_server + "/admin/mailbox")
    phone_page.wait_for_url(re.compile(r"/instructor/?\?denied=admin$"), timeout=30_000)
    assert phone_page.locator("#mb-list").count() == 0


def test_a_link_only_account_sets_a_first_password_on_account(app_server, phone_page):
    demo_sign_in(phone_page, app_server, "parent")
    phone_page.goto(app_server + "/account")
    form = phone_page.locator("#password")
    form.get_by_role("heading", name="Set a password").wait_for(timeout=30_000)
    assert phone_page.locator("#acc-current-password").count() == 0
    phone_page.locator("#acc-new-password").fill("bottlebrush dawn chorus")
    phone_page.locator("#change-password").click()
    form.get_by_text("Your password is set").wait_for(timeout=30_000)
    # from now on changing it needs the current one
    form.get_by_role("heading", name="Change your password").wait_for(timeout=30_000)
    phone_page.locator("#acc-current-password").wait_for(timeout=30_000)
    phone_page.screenshot(path=str(ARTIFACTS / "account-password-set-phone.png"), full_page=True)
    # and the demo parent now signs in with email and password too
    phone_page.context.clear_cookies()
    open_sign_in(phone_page, app_server)
    phone_page.get_by_label("Email address").fill(DEMO_SIGN_IN_ACCOUNTS["parent"])
    phone_page.get_by_label("Password", exact=True).fill("bottlebrush dawn chorus")
    phone_page.locator("#sign-in-submit").click()
    phone_page.wait_for_url(re.compile(re.escape(app_server) + r"/parent/?$"), timeout=30_000)
