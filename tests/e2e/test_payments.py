"""Payments in Chromium against the production build, with the offline (test-mode) gateway.

A visitor books and pays with a voucher and gets the confirmation, the test-mode banner
and a real PDF invoice; the admin refunds part of that payment; the admin defines a
package; a learner buys a package on a phone and books a lesson with one of its credits.
"""
from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.identity import accounts
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in
from tests.e2e.test_booking_widget import fill_details, open_widget, pick_first_time

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "e2e-pay-admin@example.com"
STUDENT_EMAIL = "e2e-pay-student@example.com"
PARENT_EMAIL = "e2e-pay-parent@example.com"
VISITOR_EMAIL = "penny.payer@example.com"
VOUCHER = "E2EPAY10"  # our own code, not the demo data's WELCOME10
PACKAGE_NAME = "Five-lesson pack"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


def _sql(url, query, **params):
    engine = _engine(url)
    try:
        with nxdb.session_scope(engine) as s:
            return s.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"pay-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def people(e2e_db_url):
    """An admin and a learner (with a pick-up address, so the widget skips the details step), a 10% voucher
    and a five-lesson package for the 60-minute lesson."""
    from nexdrive.services.money import packages

    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            inv = accounts.create_staff_account(s, SYSTEM, email=ADMIN_EMAIL, role="admin", first_name="Alex",
                                                last_name="Owner")
            admin = s.get(User, inv.user_id)
            admin.password_hash = hash_password(PASSWORD)
            s.add(admin)
            issued = accounts.sign_up_student(s, email=STUDENT_EMAIL, password=PASSWORD, first_name="Lee",
                                              last_name="Learner", phone="0412 555 707")
            invite = accounts.invite_parent(s, issued.actor, email=PARENT_EMAIL, relationship="parent",
                                            permissions={"can_view_payments": True})
            accounts.accept_parent_invitation(s, VISITOR, invite.token, password=PASSWORD, first_name="Pat",
                                              last_name="Learner")
            s.execute(sa.text("UPDATE profiles SET address_line1 = '7 Credit Close', suburb = 'Gungahlin' "
                              "WHERE user_id = :u"), {"u": issued.actor.user_id})
            s.execute(sa.text("INSERT INTO vouchers (code, voucher_type, discount_percent, max_uses_per_student) "
                              "VALUES (:c, 'percentage', 10, 1)"), {"c": VOUCHER})
            standard = s.execute(sa.text("SELECT id, price_cents FROM services WHERE slug = 'standard-60'")).one()
            admin_actor = Actor(role="admin", user_id=admin.id)
            packages.save_package(s, admin_actor, name=PACKAGE_NAME, description="Five 60-minute lessons.",
                                  total_credits=5, price_cents=5 * standard.price_cents - 2500, valid_for_days=180,
                                  service_ids=[standard.id], is_active=True)
            return {"student_id": issued.actor.student_id, "price_cents": standard.price_cents}
    finally:
        engine.dispose()


def _cents(text: str) -> int:
    dollars, cents = text.replace("$", "").replace(",", "").replace(" AUD", "").strip().split(".")
    return int(dollars) * 100 + int(cents)


def test_a_visitor_pays_by_card_in_test_mode_and_downloads_the_invoice(app_server, e2e_db_url, people, page):
    open_widget(page, app_server)
    pick_first_time(page)
    page.locator("[id^='day-']:not([disabled])").nth(1).click()
    page.locator("[id^='time-']").nth(1).click()
    fill_details(page, "Penny Payer", "0412 555 808", VISITOR_EMAIL, suburb="Weston")
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").wait_for(timeout=30_000)
    # Pay now by card is the default; the amount has no discount yet.
    assert page.locator("#pay-card").get_attribute("data-state") == "checked"
    price = people["price_cents"]
    assert _cents(page.locator("#amount-due").inner_text()) == price
    # A refused voucher says why; an accepted one comes off the amount shown.
    page.locator("#bk-voucher").fill("NOSUCHCODE")
    page.locator("#voucher-apply").click()
    page.get_by_text("That voucher code is not valid.").wait_for(timeout=15_000)
    page.locator("#bk-voucher").fill(VOUCHER.lower())
    page.locator("#voucher-apply").click()
    page.locator("#amount-discount").wait_for(timeout=15_000)
    due = price - price // 10
    assert _cents(page.locator("#amount-due").inner_text()) == due
    assert "Test mode" in page.locator("#pay-option-card").inner_text()
    _shot(page, "1-review")
    page.locator("#confirm-booking").click()
    page.wait_for_url(re.compile(r".*/pay/result/?\?checkout=.*"), timeout=30_000)
    page.locator("#pay-success").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "You're booked"
    assert "no real money was taken" in page.locator("#test-mode-banner").inner_text()
    assert page.locator("#booking-status").inner_text() == "Confirmed"
    assert _cents(page.locator("#paid-amount").inner_text()) == due
    _shot(page, "2-result")
    # The invoice behind the link is a PDF.
    href = page.locator("#download-invoice").get_attribute("href")
    pdf = httpx.get(app_server + href, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")
    rows = _sql(e2e_db_url, """SELECT p.status, p.amount_cents, p.discount_cents, b.status AS booking_status,
                                      b.payment_status, i.invoice_number
                               FROM payments p JOIN bookings b ON b.id = p.booking_id
                               JOIN contacts c ON c.id = b.contact_id
                               LEFT JOIN invoices i ON i.payment_id = p.id
                               WHERE c.email = :e""", e=VISITOR_EMAIL)
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.amount_cents, row.discount_cents) == ("completed", due, price - due)
    assert (row.booking_status, row.payment_status) == ("confirmed", "paid")
    assert re.fullmatch(r"NXD-\d{4}-\d{4}", row.invoice_number)
    assert _sql(e2e_db_url, "SELECT times_used FROM vouchers WHERE code = :c", c=VOUCHER)[0][0] == 1


def test_the_admin_refunds_part_of_the_payment(app_server, e2e_db_url, people, page):
    payment_id, amount = _sql(e2e_db_url, """SELECT p.id, p.amount_cents FROM payments p
                                             JOIN bookings b ON b.id = p.booking_id
                                             JOIN contacts c ON c.id = b.contact_id WHERE c.email = :e""",
                              e=VISITOR_EMAIL)[0]
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.locator("#admin-payments-link").click()
    page.locator("#revenue-gross").wait_for(timeout=30_000)
    row = page.locator(f"li[data-payment='{payment_id}']")
    row.wait_for(timeout=30_000)
    assert row.locator(".payment-status").inner_text() == "Paid"
    _shot(page, "3-admin-list")
    row.locator(".refund-button").click()
    page.locator("#refund-dialog").wait_for(timeout=15_000)
    page.locator("#refund-part").click()
    # More than was paid: refused next to the field, nothing sent.
    page.locator("#refund-amount").fill(f"{amount / 100 + 1:.2f}")
    page.locator("#confirm-refund").click()
    error = page.locator("#refund-amount-error")
    error.wait_for(timeout=15_000)
    assert "At most" in error.inner_text()
    assert page.locator("#refund-reason-error").inner_text().startswith("Please give a reason")
    _shot(page, "4-refund-errors")
    page.locator("#refund-amount").fill("20.00")
    page.locator("#refund-reason").fill("Lesson cut short by a storm")
    page.locator("#confirm-refund").click()
    page.locator("#refund-notice").wait_for(timeout=30_000)
    assert row.locator(".payment-status").inner_text() == "Partly refunded"
    assert "$20.00 refunded" in row.inner_text()
    _shot(page, "5-refunded")
    db = _sql(e2e_db_url, "SELECT status, refund_amount_cents, refund_reason FROM payments WHERE id = :i",
              i=payment_id)[0]
    assert tuple(db) == ("partially_refunded", 2000, "Lesson cut short by a storm")
    # The revenue summary counts the refund; the chart shows the day's net.
    assert _cents(page.locator("#revenue-refunds").inner_text()) >= 2000
    page.locator("#revenue-chart .recharts-bar-rectangle").first.wait_for(timeout=15_000)
    page.evaluate("document.getElementById('revenue-chart').scrollIntoView({block: 'center'})")
    page.screenshot(path=str(ARTIFACTS / "pay-5b-revenue-chart.png"))


def test_the_admin_defines_a_package(app_server, e2e_db_url, people, page):
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.goto(app_server + "/admin/packages")
    page.locator("#new-package").wait_for(timeout=30_000)
    page.locator(".package-def").first.wait_for(timeout=30_000)
    page.locator("#new-package").click()
    page.locator("#package-dialog").wait_for(timeout=15_000)
    page.locator("#pkg-name").fill("Ten-lesson pack")
    page.locator("#pkg-price").fill("eight hundred")
    page.locator("#save-package").click()
    page.locator("#pkg-price-error").wait_for(state="visible", timeout=15_000)
    assert "dollars" in page.locator("#pkg-price-error").inner_text()
    page.locator("#pkg-price").fill("800.00")
    page.locator("#pkg-valid_for_days").fill("365")
    page.locator("[id^='pkg-svc-']").first.click()
    _shot(page, "6-package-form")
    page.locator("#save-package").click()
    page.locator("#package-notice").wait_for(timeout=30_000)
    page.get_by_text("Ten-lesson pack").first.wait_for(timeout=15_000)
    rows = _sql(e2e_db_url, "SELECT total_credits, price_cents, valid_for_days, cardinality(applicable_services), "
                            "is_active FROM packages WHERE name = 'Ten-lesson pack'")
    assert [tuple(r) for r in rows] == [(10, 80000, 365, 1, True)]


def test_the_admin_money_pages_fit_a_phone(app_server, e2e_db_url, people, phone_page):
    page = phone_page
    sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    for path, ready, name in (("/admin/payments", "#admin-payment-list", "15-phone-admin-payments"),
                              ("/admin/packages", ".package-def", "16-phone-admin-packages")):
        page.goto(app_server + path)
        page.locator(ready).first.wait_for(timeout=30_000)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
        _shot(page, name)
    page.locator(".edit-package").first.click()
    page.locator("#package-dialog").wait_for(timeout=15_000)
    assert page.locator("#pkg-name").input_value() != ""  # the form opens with the package's values
    page.screenshot(path=str(ARTIFACTS / "pay-17-phone-package-dialog.png"))


def test_a_learner_buys_a_package_and_books_with_a_credit_on_a_phone(app_server, e2e_db_url, people, phone_page):
    page = phone_page
    sign_in(page, app_server, STUDENT_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/student/?$"), timeout=30_000)
    page.locator("#payments-link").click()
    page.locator(".package-offer").first.wait_for(timeout=30_000)
    offer = page.locator(".package-offer", has_text=PACKAGE_NAME)
    assert "Save $25.00" in offer.inner_text()
    _shot(page, "7-phone-packages")
    offer.locator(".buy-package").click()
    page.wait_for_url(re.compile(r".*/pay/result/?\?checkout=.*"), timeout=30_000)
    page.locator("#pay-success").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Package bought"
    assert page.locator("#package-credits").inner_text() == "5"
    page.locator("#test-mode-banner").wait_for()
    _shot(page, "8-phone-package-bought")
    page.goto(app_server + "/student/payments")
    page.locator(".my-package", has_text=PACKAGE_NAME).filter(has_text="5 of 5 lessons left").wait_for(timeout=30_000)
    # The purchase is in the history, paid, with its invoice.
    bought = page.locator(".payment-row", has_text=f"Lesson package: {PACKAGE_NAME}")
    assert "Paid" in bought.locator(".payment-status").inner_text()
    assert bought.locator(".invoice-link").get_attribute("href").startswith("/api/v1/invoices/")
    # Book a lesson with a credit.
    page.goto(app_server + "/book")
    page.locator("#service-standard-60").wait_for(timeout=60_000)
    pick_first_time(page)
    page.locator("[id^='day-']:not([disabled])").nth(2).click()
    page.locator("[id^='time-']").last.click()
    page.locator("#confirm-booking").wait_for(timeout=30_000)
    option = page.locator("#pay-option-package")
    assert "5 credits left" in option.inner_text()
    option.click()
    page.locator("#pay-package[data-state='checked']").wait_for(timeout=15_000)
    expect(page.locator("#amount-due")).to_have_text("$0.00 AUD")
    expect(page.locator("#confirm-booking")).to_have_text("Confirm and use 1 credit")
    _shot(page, "9-phone-use-credit")
    page.locator("#confirm-booking").click()  # nothing to pay: straight to the confirmation
    page.wait_for_url(re.compile(r".*/book/confirmed/?\?token=.*"), timeout=30_000)
    page.locator("#booking-payment").wait_for(timeout=30_000)
    assert page.locator("#booking-payment").inner_text() == "Paid with a package credit"
    assert page.locator("#booking-status").inner_text() == "Confirmed"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    _shot(page, "10-phone-credit-result")
    page.goto(app_server + "/student/payments")
    page.locator(".my-package", has_text=PACKAGE_NAME).filter(has_text="4 of 5 lessons left").wait_for(timeout=30_000)
    _shot(page, "11-phone-payments")
    rows = _sql(e2e_db_url, """SELECT sp.credits_used, b.payment_status, b.status FROM student_packages sp
                               JOIN bookings b ON b.student_package_id = sp.id WHERE sp.student_id = :s""",
                s=people["student_id"])
    assert [tuple(r) for r in rows] == [(1, "package_credit", "confirmed")]


def test_a_parent_sees_the_learners_payments_but_buys_nothing(app_server, e2e_db_url, people, page):
    """Runs after the learner bought a package and used a credit (the tests above, in file order)."""
    sign_in(page, app_server, PARENT_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/parent/?$"), timeout=30_000)
    page.locator(".child-payments").first.click()
    page.locator("#learner-select").wait_for(timeout=30_000)
    page.locator(".payment-row", has_text=f"Lesson package: {PACKAGE_NAME}").wait_for(timeout=30_000)
    page.locator(".my-package", has_text="4 of 5 lessons left").wait_for(timeout=30_000)
    assert page.locator(".buy-package").count() == 0
    _shot(page, "14-parent")


def test_a_visitor_who_leaves_the_card_page_keeps_the_hold_and_pays_on_the_second_try(app_server, e2e_db_url,
                                                                                       people, page):
    """An open checkout with a voucher (as Stripe leaves it while the card page is open): the result page
    waits for it; back from the card page's cancel link, the hold is kept and "Try again" pays, voucher kept."""
    from datetime import datetime, timedelta

    from nexdrive.services.scheduling import booking
    from nexdrive.services.core.actors import VISITOR
    from tests.reference import reference_week

    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            first = reference_week(weeks=2)
            days = booking.availability_by_day(s, service_ref="standard-60", date_from=first,
                                               date_to=first + timedelta(days=8))["slots"]
            start = next(d["times"][-1]["start_at"] for d in days if d["times"])
            held = booking.book_lesson(s, VISITOR, service_id="standard-60",
                                       start_time=datetime.fromisoformat(start.replace("Z", "+00:00")),
                                       name="Carl Cancel", phone="0412 555 909", email="carl.cancel@example.com",
                                       pickup_address="9 Retry Road", suburb="Bruce")
            token, booking_id = held.manage_token, held.booking.id
            discount = held.booking.amount_cents // 10
            payment_id = s.execute(sa.text(
                """INSERT INTO payments (booking_id, contact_id, amount_cents, discount_cents, payment_method, gateway,
                                         gateway_checkout_id, status, description, checkout_expires_at)
                   SELECT id, contact_id, amount_cents - :d, :d, 'card', 'local', 'cs_local_abandoned_e2e',
                          'pending', 'Standard lesson (60 min)', now() + interval '20 seconds'
                   FROM bookings WHERE id = :b RETURNING id"""), {"b": booking_id, "d": discount}).scalar()
            s.execute(sa.text("""INSERT INTO voucher_redemptions (voucher_id, contact_id, booking_id, payment_id,
                                                                  discount_cents)
                                 SELECT v.id, b.contact_id, b.id, :p, :d FROM vouchers v, bookings b
                                 WHERE v.code = :c AND b.id = :b"""),
                      {"p": payment_id, "d": discount, "c": VOUCHER, "b": booking_id})
            s.execute(sa.text("UPDATE vouchers SET times_used = times_used + 1 WHERE code = :c"), {"c": VOUCHER})
            price = held.booking.amount_cents
    finally:
        engine.dispose()
    page.goto(app_server + f"/pay/result?checkout=cs_local_abandoned_e2e&token={token}")
    page.locator("#pay-pending").wait_for(timeout=30_000)  # waiting for the provider, with a spinner
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Checking your payment…"
    _shot(page, "12-pending")
    page.goto(app_server + f"/pay/result?checkout=cs_local_abandoned_e2e&token={token}&cancelled=1")
    page.locator("#pay-failed").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Payment cancelled"
    assert "still holding your lesson until" in page.locator("#hold-kept").inner_text()
    assert page.locator("#pay-later").is_visible()  # the school allows paying later
    _shot(page, "13-cancelled")
    page.locator("#try-again").click()
    page.locator("#pay-success").wait_for(timeout=30_000)
    assert page.locator("#booking-status").inner_text() == "Confirmed"
    rows = _sql(e2e_db_url, "SELECT status, amount_cents, discount_cents FROM payments WHERE booking_id = :b "
                            "ORDER BY created_at", b=booking_id)
    assert [tuple(r) for r in rows] == [("expired", price - discount, discount),
                                        ("completed", price - discount, discount)]
    assert _cents(page.locator("#paid-amount").inner_text()) == price - discount
    assert _sql(e2e_db_url, "SELECT status, payment_status FROM bookings WHERE id = :b",
                b=booking_id) == [("confirmed", "paid")]
