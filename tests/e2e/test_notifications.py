"""Notifications in Chromium against the production build.

A visitor books through /book and the administrator finds that booking's confirmation SMS and
email in /admin/outbox (offline adapters: stored, not sent), filtered by recipient, with the full
body in the detail; a signed-in learner sees the bell's unread count, reads the list, marks
notices read and the count drops, on a desktop and on a phone (no sideways scrolling).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.identity import accounts
from nexdrive.services.messaging import inbox
from nexdrive.data import seed
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in
from tests.e2e.test_booking_widget import _book_for_student, fill_details, open_widget, pick_first_time

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
VISITOR_EMAIL = "olly.outbox@example.com"
VISITOR_MOBILE = "0412 555 707"
STUDENT_EMAIL = "e2e-inbox-student@example.com"
PHONE_STUDENT_EMAIL = "e2e-inbox-phone@example.com"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


def _sql(url, query, **params):
    engine = _engine(url)
    try:
        with nxdb.session_scope(engine) as s:
            return s.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    """The demo owner (an administrator) with a known password."""
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            user = s.execute(sa.select(User).where(User.email == seed.DEMO_OWNER_EMAIL)).scalar_one()
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
        return seed.DEMO_OWNER_EMAIL
    finally:
        engine.dispose()


def _learner_with_notices(e2e_db_url, email: str, phone: str, start: datetime) -> dict:
    """A signed-up learner with two unread notices: a lesson the school booked for them, and a plain one."""
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            issued = accounts.sign_up_student(s, email=email, password=PASSWORD, first_name="Nina",
                                              last_name="Notice", phone=phone)
            s.get(User, issued.actor.user_id).password_hash = hash_password(PASSWORD)
            actor = issued.actor
    finally:
        engine.dispose()
    booking_id = _book_for_student(e2e_db_url, actor.student_id, start)  # posts "Lesson booked" in-app
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            inbox.post_notification(s, user_id=actor.user_id, notification_type="school_news",
                                    subject="Office closed on Monday",
                                    body="NexDrive Academy's office is closed on Monday; lessons go ahead as booked.",
                                    dedupe_key=f"e2e:{uuid.uuid4()}")
    finally:
        engine.dispose()
    return {"booking_id": booking_id, "user_id": actor.user_id}


def _shows_messages(page, n: int) -> None:
    """Wait for the filtered list (the earlier, longer list is replaced when the filter answers)."""
    page.wait_for_function(f"document.querySelectorAll('.ob-message').length === {n}", timeout=30_000)


def _bell(page, unread: str):
    label = "Notifications, none unread" if unread == "0" else f"Notifications, {unread} unread"
    bell = page.locator(f"#notification-bell[aria-label='{label}']")
    bell.wait_for(timeout=30_000)
    return bell


def test_the_admin_finds_a_visitors_booking_messages_in_the_outbox(app_server, e2e_db_url, owner, page):
    # A visitor books through the widget.
    open_widget(page, app_server)
    pick_first_time(page)
    page.locator("[id^='day-']:not([disabled])").nth(2).click()
    page.locator("[id^='time-']").first.click()
    fill_details(page, "Olly Outbox", VISITOR_MOBILE, VISITOR_EMAIL, suburb="Gungahlin")
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").click()
    page.locator("#booking-status").wait_for(timeout=30_000)
    assert page.locator("#notification-bell").count() == 0  # a visitor has no inbox
    queued = _sql(e2e_db_url, "SELECT channel, recipient, status FROM outbox_messages "
                              "WHERE template = 'booking_confirmation' AND recipient IN ('+61412555707', :e) "
                              "ORDER BY channel", e=VISITOR_EMAIL)
    assert [tuple(r[:2]) for r in queued] == [("email", VISITOR_EMAIL), ("sms", "+61412555707")]
    page.context.clear_cookies()

    # The owner signs in: the bell tells them about the new online booking; the dashboard links to the outbox.
    sign_in(page, app_server, owner, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    bell = page.locator("#notification-bell")
    bell.wait_for(timeout=30_000)
    assert re.fullmatch(r"Notifications, \d+ unread", bell.get_attribute("aria-label"))
    page.locator("#admin-outbox-link").click()
    page.wait_for_url(re.compile(r".*/admin/outbox/?$"), timeout=30_000)
    page.locator("#outbox-counts").wait_for(timeout=30_000)
    assert "Offline mode: messages are stored here, not sent" in page.locator("#offline-mode").inner_text()
    assert [page.locator(f"#count-{s}").inner_text().split()[-1] for s in ("pending", "sent", "failed")] == [
        "Pending", "Sent", "Failed"]

    # Filter by the visitor's email, then by their mobile typed the Australian way.
    page.locator("#ob-search").fill(VISITOR_EMAIL)
    page.locator("#ob-apply").click()
    # Everything sent to that address: the confirmation, and the receipt when the visitor paid online.
    to_email = _sql(e2e_db_url, "SELECT template FROM outbox_messages WHERE recipient = :e ORDER BY template",
                    e=VISITOR_EMAIL)
    assert "booking_confirmation" in [r[0] for r in to_email]
    _shows_messages(page, len(to_email))
    email_card = page.locator(".ob-message[data-channel='email'][data-template='booking_confirmation']")
    email_card.wait_for(timeout=30_000)
    assert VISITOR_EMAIL in email_card.locator(".ob-recipient").inner_text()
    assert email_card.locator(".ob-status").inner_text() in ("Pending", "Sending", "Sent")
    page.screenshot(path=str(ARTIFACTS / "outbox-1-filtered-email.png"), full_page=True)
    page.locator("#ob-search").fill(VISITOR_MOBILE)
    page.locator("#ob-apply").click()
    page.locator(".ob-message[data-channel='email']").first.wait_for(state="detached", timeout=30_000)
    _shows_messages(page, 1)
    sms_card = page.locator(".ob-message[data-channel='sms'][data-template='booking_confirmation']")
    sms_card.wait_for(timeout=30_000)
    assert "0412 555 707" in sms_card.locator(".ob-recipient").inner_text()

    # The detail shows the whole message as the learner would receive it.
    sms_card.locator(".ob-view").click()
    body = page.locator("#ob-detail-body")
    body.wait_for(timeout=30_000)
    text = body.inner_text()
    reference = _sql(e2e_db_url, "SELECT template_data->>'reference' FROM outbox_messages "
                                 "WHERE recipient = '+61412555707' AND template = 'booking_confirmation'")[0][0]
    assert text.startswith("NexDrive Academy: your") and reference in text and "/booking/manage?token=" in text
    assert "+61412555707" in page.locator("#ob-detail").inner_text()
    page.screenshot(path=str(ARTIFACTS / "outbox-2-detail.png"), full_page=False)
    page.keyboard.press("Escape")
    body.wait_for(state="hidden", timeout=15_000)


def test_the_admin_retries_a_failed_message(app_server, e2e_db_url, owner, phone_page):
    page = phone_page
    failed_id = _sql(e2e_db_url, """UPDATE outbox_messages SET status = 'failed', attempts = 5,
                                           last_error = 'Twilio 30003: unreachable handset'
                                    WHERE id = (SELECT id FROM outbox_messages WHERE channel = 'sms'
                                                ORDER BY created_at LIMIT 1) RETURNING id""")[0][0]
    sign_in(page, app_server, owner, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.goto(app_server + "/admin/outbox?status=failed")
    card = page.locator(f".ob-message[data-id='{failed_id}']")
    card.wait_for(timeout=30_000)
    assert "unreachable handset" in card.inner_text()
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "outbox-3-phone-failed.png"), full_page=True)
    card.locator(".ob-retry").click()
    page.locator("#outbox-notice").wait_for(timeout=30_000)
    assert "queued again" in page.locator("#outbox-notice").inner_text()
    assert _sql(e2e_db_url, "SELECT status, attempts FROM outbox_messages WHERE id = :i", i=failed_id) == [
        ("pending", 0)]
    assert _sql(e2e_db_url, "SELECT count(*) FROM audit_log WHERE event_type = 'outbox.retried' "
                            "AND subject_id = :i", i=failed_id)[0][0] == 1


def test_a_student_reads_notifications_from_the_bell(app_server, e2e_db_url, page):
    start = (datetime.now(timezone.utc) + timedelta(days=11)).replace(hour=0, minute=0, second=0, microsecond=0)
    learner = _learner_with_notices(e2e_db_url, STUDENT_EMAIL, "0412 555 808", start)
    sign_in(page, app_server, STUDENT_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/student/?$"), timeout=30_000)
    bell = _bell(page, "2")
    assert page.locator("#bell-count").inner_text() == "2"
    bell.click()
    rows = page.locator("#bell-list .notice-row")
    rows.first.wait_for(timeout=30_000)
    assert rows.count() == 2 and page.locator("#bell-list .notice-row[data-read='false']").count() == 2
    assert "Office closed on Monday" in rows.first.inner_text()  # newest first
    lesson = page.locator("#bell-list .notice-row", has_text="Lesson booked")
    assert lesson.locator(".notice-link").get_attribute("href") == f"/booking/manage?id={learner['booking_id']}"
    page.screenshot(path=str(ARTIFACTS / "bell-1-open.png"), full_page=False)
    rows.first.locator(".mark-read").click()
    _bell(page, "1")
    assert page.locator("#bell-list .notice-row[data-read='false']").count() == 1
    assert page.locator("#bell-count").inner_text() == "1"

    # The full list: unread highlighted, "Mark all as read", the bell follows.
    page.locator("#bell-see-all").click()
    page.wait_for_url(re.compile(r".*/notifications/?$"), timeout=30_000)
    page.locator("#notifications-list").wait_for(timeout=30_000)
    assert page.locator("#notifications-list .notice-row[data-read='false']").count() == 1
    assert page.locator("#unread-summary").inner_text() == "1 unread notification."
    page.screenshot(path=str(ARTIFACTS / "notifications-1-page.png"), full_page=True)
    page.locator("#mark-all-read").click()
    page.locator("#notifications-notice").wait_for(timeout=30_000)
    assert page.locator("#notifications-list .notice-row[data-read='false']").count() == 0
    _bell(page, "0")
    assert page.locator("#bell-count").count() == 0
    assert _sql(e2e_db_url, "SELECT count(*) FROM notifications WHERE recipient_id = :u AND read_at IS NULL",
                u=learner["user_id"])[0][0] == 0
    # The lesson link opens the booking.
    # A tablet-width header still fits with the bell beside the navigation.
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.locator("#notification-bell").is_visible() and _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "notifications-3-tablet.png"), full_page=False)
    page.locator("#notifications-list .notice-link").first.click()
    page.wait_for_url(re.compile(r".*/booking/manage/?\?id=.*"), timeout=30_000)
    page.locator("#booking-ref").wait_for(timeout=30_000)


def test_the_bell_and_the_list_fit_a_phone(app_server, e2e_db_url, phone_page):
    page = phone_page
    start = (datetime.now(timezone.utc) + timedelta(days=12)).replace(hour=1, minute=0, second=0, microsecond=0)
    _learner_with_notices(e2e_db_url, PHONE_STUDENT_EMAIL, "0412 555 909", start)
    sign_in(page, app_server, PHONE_STUDENT_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/student/?$"), timeout=30_000)
    bell = _bell(page, "2")
    assert bell.is_visible() and _no_sideways_scroll(page)
    bell.click()
    page.locator("#bell-list .notice-row").first.wait_for(timeout=30_000)
    box = page.locator("#bell-popover").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1  # the list stays on screen
    page.screenshot(path=str(ARTIFACTS / "bell-2-phone-open.png"), full_page=False)
    page.locator("#bell-mark-all").click()
    _bell(page, "0")
    page.keyboard.press("Escape")
    page.goto(app_server + "/notifications")
    page.locator("#notifications-list").wait_for(timeout=30_000)
    assert page.locator("#unread-summary").inner_text() == "Nothing unread."
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "notifications-2-phone.png"), full_page=True)
