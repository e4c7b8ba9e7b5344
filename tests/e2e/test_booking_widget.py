"""The booking widget and booking management in Chromium against the production build.

A visitor books end to end (desktop and phone) and the booking is in the database with a
contact; a second visitor racing for the same time is told plainly and offered alternatives;
a student reschedules and cancels inside and outside the free-cancellation window.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
STUDENT_EMAIL = "e2e-booking-student@example.com"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


def _sql(url, query, **params):
    engine = _engine(url)
    try:
        with nxdb.session_scope(engine) as s:
            return s.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def open_widget(page, base):
    page.goto(base + "/book")
    page.locator("#service-standard-60").wait_for(timeout=60_000)


def pick_first_time(page) -> str:
    """Choose the 60-minute lesson and the first free time on the first day with at least three free times
    (the first day may have only one or two left, depending on the time of day the suite runs); returns
    its HHMM."""
    page.locator("#service-standard-60").click()
    page.locator("[id^='day-']").first.wait_for(timeout=30_000)
    for chip in page.locator("[id^='day-']").all():
        count = re.search(r"(\d+) free", chip.inner_text())
        if count and int(count.group(1)) >= 3:
            chip.click()
            break
    first_time = page.locator("[id^='time-']").first
    first_time.wait_for(timeout=30_000)
    hhmm = first_time.get_attribute("id").removeprefix("time-")
    return hhmm


def fill_details(page, name, phone, email, pickup="10 Test Street", suburb="Belconnen"):
    page.locator("#bk-name").wait_for(timeout=30_000)
    page.locator("#bk-name").fill(name)
    page.locator("#bk-phone").fill(phone)
    page.locator("#bk-email").fill(email)
    page.locator("#bk-pickup").fill(pickup)
    page.locator("#bk-suburb").fill(suburb)


def test_a_visitor_books_a_lesson_end_to_end(app_server, e2e_db_url, page):
    # Issue 17: the page is served at its own address (no redirect to a trailing slash) and the build's
    # hashed assets are cached for a year; the public pages and every sitemap entry answer without a redirect.
    responses = []
    page.on("response", lambda r: responses.append(r))
    open_widget(page, app_server + "")
    document = next(r for r in responses if r.request.resource_type == "document")
    assert document.status == 200 and document.request.redirected_from is None and document.url.endswith("/book")
    assets = [r for r in responses if "/assets/" in r.url and r.url.endswith((".js", ".css"))]
    assert assets and all(r.headers.get("cache-control") == "public, max-age=31536000, immutable" for r in assets)
    sitemap = httpx.get(app_server + "/sitemap.xml")
    paths = {"/", "/lessons", "/about", "/book"} | {
        re.sub(r"^https?://[^/]+", "", loc) or "/" for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap.text)}
    for path in sorted(paths):
        r = httpx.get(app_server + path, follow_redirects=False)
        assert r.status_code == 200, (path, r.status_code, r.headers.get("location"))
    page.screenshot(path=str(ARTIFACTS / "book-1-services.png"), full_page=True)
    pick_first_time(page)
    page.screenshot(path=str(ARTIFACTS / "book-2-times.png"), full_page=True)
    page.locator("[id^='time-']").nth(2).click()
    # Bad mobile: an inline error next to the field, nothing reserved.
    fill_details(page, "Ava Visitor", "12345", "ava.visitor@example.com")
    page.locator("#details-continue").click()
    error = page.locator("#bk-phone-error")
    error.wait_for(state="visible", timeout=15_000)
    assert "mobile" in error.inner_text().lower()
    assert page.locator("#bk-phone").get_attribute("aria-invalid") == "true"
    assert _sql(e2e_db_url, "SELECT count(*) FROM contacts WHERE email = 'ava.visitor@example.com'")[0][0] == 0
    page.locator("#bk-phone").fill("0412 555 101")
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").wait_for(timeout=30_000)
    assert "holding this time" in page.locator("#hold-note").inner_text()
    page.locator("#bk-voucher").fill("NOSUCHCODE")
    page.locator("#voucher-apply").click()
    page.get_by_text("That voucher code is not valid.").wait_for(timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "book-3-review.png"), full_page=True)
    page.locator("#confirm-booking").click()  # pay now by card: the offline gateway confirms at once
    page.wait_for_url(re.compile(r".*/pay/result/?\?checkout=.*token=.*"), timeout=30_000)
    page.locator("#booking-status").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "You're booked"
    assert page.locator("#booking-status").inner_text() == "Confirmed"
    when = page.locator("#booking-when").inner_text()
    assert re.search(r"\d{1,2}:\d{2} (am|pm) – \d{1,2}:\d{2} (am|pm)$", when)
    page.screenshot(path=str(ARTIFACTS / "book-4-confirmed.png"), full_page=True)
    rows = _sql(e2e_db_url, """SELECT b.status, b.booked_via, c.phone, c.lifecycle_stage, b.pickup_address
                               FROM bookings b JOIN contacts c ON c.id = b.contact_id
                               WHERE c.email = 'ava.visitor@example.com'""")
    assert rows == [("confirmed", "website", "+61412555101", "enrolled", "10 Test Street")]
    # Add to calendar: the .ics behind the link.
    href = page.locator("#add-to-calendar").get_attribute("href")
    ics = httpx.get(app_server + href)
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text and "NexDrive Academy" in ics.text
    # The manage link opens the same booking.
    page.locator("#manage-link").click()
    page.wait_for_url(re.compile(r".*/booking/manage/?\?token=.*"), timeout=30_000)
    page.locator("#booking-ref").wait_for(timeout=30_000)


def test_a_visitor_books_on_a_phone(app_server, e2e_db_url, phone_page):
    page = phone_page
    open_widget(page, app_server)
    pick_first_time(page)
    page.locator("[id^='day-']:not([disabled])").nth(3).click()  # another day than the desktop test
    page.locator("[id^='time-']").first.click()
    fill_details(page, "Pat Phone", "0412555202", "pat.phone@example.com", suburb="Tuggeranong")
    page.screenshot(path=str(ARTIFACTS / "book-phone-details.png"), full_page=True)
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").click()
    page.locator("#booking-status").wait_for(timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    page.screenshot(path=str(ARTIFACTS / "book-phone-confirmed.png"), full_page=True)
    assert _sql(e2e_db_url, "SELECT b.status FROM bookings b JOIN contacts c ON c.id = b.contact_id "
                            "WHERE c.email = 'pat.phone@example.com'") == [("confirmed",)]


def test_a_second_visitor_racing_for_the_same_time_gets_alternatives(app_server, e2e_db_url, browser):
    first = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney").new_page()
    second = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                                 viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    for p in (first, second):
        open_widget(p, app_server)
        pick_first_time(p)
    day = second.locator("[id^='day-']:not([disabled])").nth(5).get_attribute("id")
    for p in (first, second):
        p.locator("#" + day).click()
        p.locator(f"#{day}[aria-pressed='true']").wait_for(timeout=15_000)
    slot = second.locator("[id^='time-']").nth(1).get_attribute("id")
    for p in (first, second):
        p.locator("#" + slot).click()
    fill_details(first, "Fast Finger", "0412555303", "fast@example.com")
    fill_details(second, "Slow Poke", "0412555404", "slow@example.com")
    first.locator("#details-continue").click()
    first.locator("#confirm-booking").wait_for(timeout=30_000)
    second.locator("#details-continue").click()
    conflict = second.locator("#slot-conflict")
    conflict.wait_for(timeout=30_000)
    assert "someone has just booked that time" in conflict.inner_text()
    assert second.locator("[id^='alt-']").count() >= 1
    second.screenshot(path=str(ARTIFACTS / "book-race-conflict.png"), full_page=True)
    second.locator("#alt-0").click()  # take the nearest alternative: the details are kept
    second.locator("#confirm-booking").wait_for(timeout=30_000)
    second.locator("#confirm-booking").click()
    second.locator("#booking-status").wait_for(timeout=30_000)
    first.locator("#confirm-booking").click()
    first.locator("#booking-status").wait_for(timeout=30_000)
    rows = _sql(e2e_db_url, "SELECT c.email, b.start_time FROM bookings b JOIN contacts c ON c.id = b.contact_id "
                            "WHERE c.email IN ('fast@example.com','slow@example.com') AND b.status = 'confirmed'")
    assert len(rows) == 2 and rows[0].start_time != rows[1].start_time
    first.context.close()
    second.context.close()


@pytest.fixture(scope="module")
def student(e2e_db_url):
    """A signed-up learner with two confirmed lessons: one days away, one inside the 24-hour window."""
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            issued = accounts.sign_up_student(s, email=STUDENT_EMAIL, password=PASSWORD, first_name="Sam",
                                              last_name="Student", phone="0412 555 505")
            user = s.get(User, issued.actor.user_id)
            user.password_hash = hash_password(PASSWORD)
            s.execute(sa.text("UPDATE profiles SET address_line1 = '5 Learner Lane', suburb = 'Kambah' "
                              "WHERE user_id = :u"), {"u": user.id})
            return {"student_id": issued.actor.student_id}
    finally:
        engine.dispose()


def _book_for_student(e2e_db_url, student_id, start: datetime) -> str:
    """Staff-booked lesson for the student at the first free hour from `start` (the school books any free time)."""
    from nexdrive.services.scheduling import booking
    from nexdrive.services.core.actors import SYSTEM
    from nexdrive.errors import SlotUnavailable

    engine = _engine(e2e_db_url)
    try:
        for hour in range(12):
            try:
                with nxdb.session_scope(engine) as s:
                    service = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
                    b = booking.reserve_slot(s, SYSTEM, service_id=service, start_time=start + timedelta(hours=hour),
                                             student_id=student_id, pickup_address="5 Learner Lane", suburb="Kambah")
                    booking.confirm_booking(s, SYSTEM, b.id)
                    return str(b.id)
            except SlotUnavailable:
                continue
        raise AssertionError("no free hour for the test booking")
    finally:
        engine.dispose()


def _sign_in(page, base):
    page.goto(base + "/sign-in?next=/student")
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    page.get_by_label("Email address").fill(STUDENT_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("#sign-in-submit").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/student/?$"), timeout=30_000)


def test_a_student_reschedules_and_cancels_outside_the_window_for_free(app_server, e2e_db_url, student, page):
    start = (datetime.now(timezone.utc) + timedelta(days=9)).replace(hour=23, minute=0, second=0, microsecond=0)
    booking_id = _book_for_student(e2e_db_url, student["student_id"], start)
    _sign_in(page, app_server)
    page.locator(".manage-booking").first.wait_for(timeout=30_000)
    page.locator(f"a[href='/booking/manage?id={booking_id}']").click()
    page.locator("#free-until").wait_for(timeout=30_000)
    page.locator("#start-reschedule").click()
    page.locator("[id^='mtime-']").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "manage-reschedule.png"), full_page=True)
    page.locator("[id^='mtime-']").nth(1).click()
    notice = page.locator("#manage-notice")
    notice.wait_for(timeout=30_000)
    assert "now on" in notice.inner_text()
    moved = _sql(e2e_db_url, "SELECT start_time, reschedule_count, status FROM bookings WHERE id = :i", i=booking_id)[0]
    assert moved.start_time != start and moved.reschedule_count == 1 and moved.status == "confirmed"
    page.locator("#start-cancel").click()
    assert "no charge" in page.locator("#cancel-terms").inner_text()
    page.locator("#cancel-reason").fill("School camp")
    page.locator("#confirm-cancel").click()
    page.get_by_text("Cancelled. There is no charge.").wait_for(timeout=30_000)
    assert page.locator("#booking-status").inner_text() == "Cancelled"
    row = _sql(e2e_db_url, "SELECT status, cancellation_fee_cents, cancellation_reason FROM bookings WHERE id = :i",
               i=booking_id)[0]
    assert tuple(row) == ("cancelled", 0, "School camp")


def test_a_student_cancelling_inside_the_window_pays_the_late_fee(app_server, e2e_db_url, student, phone_page):
    page = phone_page
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    booking_id = _book_for_student(e2e_db_url, student["student_id"], start)
    _sign_in(page, app_server)
    page.goto(app_server + f"/booking/manage?id={booking_id}")
    page.locator("#late-note").wait_for(timeout=30_000)
    assert page.locator("#start-reschedule").count() == 0  # can't be moved online this late
    page.locator("#start-cancel").click()
    terms = page.locator("#cancel-terms").inner_text()
    assert "Late cancellation" in terms and "$42.50" in terms
    page.screenshot(path=str(ARTIFACTS / "manage-late-cancel-phone.png"), full_page=True)
    page.locator("#confirm-cancel").click()
    page.get_by_text("Cancelled. A late-cancellation fee of $42.50 applies.").wait_for(timeout=30_000)
    assert page.locator("#booking-fee").inner_text() == "$42.50"
    assert _sql(e2e_db_url, "SELECT status, cancellation_fee_cents FROM bookings WHERE id = :i",
                i=booking_id) == [("cancelled", 4250)]


def test_a_visitor_joins_the_waitlist(app_server, e2e_db_url, phone_page):
    page = phone_page
    open_widget(page, app_server)
    pick_first_time(page)
    page.locator("#waitlist-toggle").click()
    page.locator("#wl-day").select_option("2")  # Tuesday
    page.locator("#wl-from").select_option("16:00")
    page.locator("#wl-to").select_option("19:00")
    page.locator("#wl-name").fill("Wendy Waitlist")
    page.locator("#wl-phone").fill("0412 555 606")
    page.locator("#waitlist-submit").click()
    page.locator("#waitlist-done").wait_for(timeout=30_000)
    rows = _sql(
        e2e_db_url,
        """SELECT w.preferred_day, w.preferred_time_start::text, w.preferred_time_end::text, w.status
                               FROM waitlist w JOIN contacts c ON c.id = w.contact_id WHERE c.phone = '+61412555606'""",
    )
    assert [tuple(r) for r in rows] == [(2, "16:00:00", "19:00:00", "waiting")]


def test_the_instructor_cancels_late_for_a_learner_and_waives_the_fee(app_server, e2e_db_url, student, page):
    from nexdrive.data import seed
    from tests.e2e.test_auth_flows import sign_in

    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            user = s.execute(sa.select(User).where(User.email == seed.DEMO_INSTRUCTOR_EMAIL)).scalar_one()
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
    finally:
        engine.dispose()
    start = (datetime.now(timezone.utc) + timedelta(hours=4)).replace(minute=30, second=0, microsecond=0)
    booking_id = _book_for_student(e2e_db_url, student["student_id"], start)
    sign_in(page, app_server, seed.DEMO_INSTRUCTOR_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/instructor/?$"), timeout=30_000)
    page.locator("#bookings-link").click()  # the day sheet links to every booking
    page.wait_for_url(re.compile(r"/instructor/bookings/?$"), timeout=30_000)
    page.locator(f"a[href='/booking/manage?id={booking_id}']").first.click()
    page.locator("#mark-no-show").wait_for(timeout=30_000)
    page.locator("#mark-no-show").click()  # not yet: the lesson hasn't started
    page.get_by_text("once its start time has passed").wait_for(timeout=30_000)
    page.locator("#start-cancel").click()
    page.locator("#waive-fee").click()
    page.locator("#confirm-cancel").click()
    page.get_by_text("Cancelled. There is no charge.").wait_for(timeout=30_000)
    row = _sql(e2e_db_url, "SELECT status, cancellation_fee_cents, fee_waived_at IS NOT NULL FROM bookings "
                           "WHERE id = :i", i=booking_id)[0]
    assert tuple(row) == ("cancelled", 0, True)


def test_a_visitor_signs_in_from_the_widget_and_comes_back_to_book(app_server, phone_page):
    """A learner with an account signs in from /book and is brought back to /book, booking in their own name."""
    page = phone_page
    page.goto(app_server + "/book")
    link = page.locator("#booking-sign-in").get_by_role("link", name="Sign in")
    link.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "book-visitor-phone.png"))
    link.click()
    page.wait_for_url(re.compile(r"/sign-in/?\?next=/book$"), timeout=30_000)
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    page.locator("#demo-student").click()
    page.wait_for_url(re.compile(re.escape(app_server) + r"/book/?$"), timeout=30_000)
    page.locator("#booking-as").wait_for(timeout=30_000)
    assert page.locator("#booking-as").inner_text().startswith("Booking as ")
    assert page.locator("#booking-sign-in").count() == 0
    page.screenshot(path=str(ARTIFACTS / "book-learner-phone.png"))
