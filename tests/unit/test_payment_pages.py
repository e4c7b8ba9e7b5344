"""The small pure helpers behind the payment pages: dollars typed by the owner, package savings,
and how a payment result is shown."""
from __future__ import annotations

import uuid

from nexdrive.pages.admin.payments import dollars_to_cents
from nexdrive.pages.booking.pay_result import result_view, screen_for
from nexdrive.pages.student.payments import offer_rows, package_rows


def test_dollars_typed_by_the_owner_become_cents():
    assert dollars_to_cents("20") == 2000
    assert dollars_to_cents("20.5") == 2050
    assert dollars_to_cents(" $1,234.56 ") == 123456
    assert dollars_to_cents("0.01") == 1


def test_what_is_not_dollars_and_cents_is_refused():
    for text in ("", "abc", "12.345", "1e3x", "$"):
        assert dollars_to_cents(text) is None, text
    assert dollars_to_cents("-5") == -500  # a number, refused by the caller as not more than $0.00


def test_a_package_shows_its_price_per_lesson_and_the_saving_against_single_lessons():
    lesson, review = str(uuid.uuid4()), str(uuid.uuid4())
    services = [{"id": lesson, "name": "Standard lesson", "price_cents": 8500},
                {"id": review, "name": "Review 1", "price_cents": 12000}]
    offers = [{"id": uuid.uuid4(), "name": "Five", "total_credits": 5, "price_cents": 40000, "valid_for_days": 180,
               "service_ids": [lesson], "service_names": ["Standard lesson"]},
              {"id": uuid.uuid4(), "name": "Any", "total_credits": 2, "price_cents": 17000, "valid_for_days": None,
               "service_ids": [], "service_names": ["Any lesson"]}]
    five, any_ = offer_rows(offers, services)
    assert (five.per_lesson, five.saving, five.validity, five.covers) == ("$80.00", "$25.00", "Use within 180 days",
                                                                          "Standard lesson")
    # Covering every lesson: compared with the cheapest, and no saving claimed when there is none.
    assert (any_.per_lesson, any_.saving, any_.validity, any_.covers) == ("$85.00", "", "No expiry", "Any lesson")


def test_my_packages_show_credits_left_as_a_share():
    rows = package_rows([{"name": "Five", "credits_total": 5, "credits_used": 1, "credits_left": 4,
                          "status": "active", "expires_at": None}])
    assert (rows[0].credits_left, rows[0].credits_total, rows[0].percent_left, rows[0].expires) == (4, 5, 80, "")


def test_a_cancelled_checkout_is_shown_as_cancelled_unless_the_money_arrived():
    base = {"payment_id": "p1", "amount_cents": 8500, "booking": {"id": "b1", "status": "held"}}
    cancelled = result_view({**base, "status": "pending"}, token="t", cancelled=True)
    assert (cancelled["status"], cancelled["screen"]) == ("cancelled", "failed")
    done = result_view({**base, "status": "completed", "invoice_id": "i1",
                        "booking": {"id": "b1", "status": "confirmed"}}, token="t", cancelled=True)
    assert (done["status"], done["screen"]) == ("completed", "success")
    assert done["invoice_url"] == "/api/v1/payments/p1/invoice?token=t"
    assert done["manage_url"] == "/booking/manage?token=t"


def test_a_payment_refunded_because_the_time_was_gone_is_not_shown_as_a_booking():
    assert screen_for("refunded", "booking", "expired") == "refunded"
    assert screen_for("refunded", "booking", "confirmed") == "success"
    assert screen_for("processing", "booking", "held") == "waiting"
    assert screen_for("expired", "package", "") == "failed"
