"""Stripe webhooks over real HTTP (uvicorn) on the real database, with signed events shaped like Stripe's.

The gateway is the real StripeGateway (stripe-python) talking to a local stub that serves
recorded Stripe responses; signatures are made with Stripe's scheme and verified by Stripe's library.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from nexdrive.adapters import override
from nexdrive.adapters.payments import StripeGateway
from nexdrive.db import session_scope
from nexdrive.services.money import payments
from nexdrive.services.core.actors import VISITOR
from nexdrive.settings import Settings
from tests.api_server import serve_api
from tests.payment_helpers import hold, lapse_hold, make_voucher, rows, scalar, school
from webhooks.stripe.tests.stripe_helpers import API_KEY, WEBHOOK_SECRET, StripeStub, event, sign, signed

WEBHOOK = "/api/v1/payments/webhook"



@pytest.fixture
def stripe_stub():
    with StripeStub() as stub:
        override("payments", StripeGateway(Settings(stripe_secret_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET),
                                           api_base=stub.url))
        yield stub
        override("payments", None)


@pytest.fixture
def api(engine, stripe_stub):
    with serve_api() as base:
        yield base


@pytest.fixture
def sch(engine):
    return school(engine)


def checkout(engine, booking_id, token, **kw) -> payments.CheckoutStart:
    with session_scope(engine) as s:
        return payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token, **kw)


def paid_events(start: payments.CheckoutStart, amount: int) -> tuple[dict, dict, str]:
    """checkout.session.completed and payment_intent.succeeded for this checkout (fresh ids)."""
    pi = f"pi_3Test{uuid.uuid4().hex[:20]}"
    meta = {"payment_id": start.payment_id, "booking_id": start.booking_id}
    completed = event("checkout.session.completed", event_id=f"evt_{uuid.uuid4().hex[:24]}", id=start.checkout_id,
                      payment_intent=pi, amount_total=amount, amount_subtotal=amount,
                      client_reference_id=start.payment_id, metadata=meta)
    succeeded = event("payment_intent.succeeded", event_id=f"evt_{uuid.uuid4().hex[:24]}", id=pi,
                      amount=amount, amount_received=amount, metadata=meta)
    return completed, succeeded, pi


def post(api, ev: dict, **sign_kw) -> httpx.Response:
    body, headers = signed(ev, **sign_kw)
    return httpx.post(api + WEBHOOK, content=body, headers=headers, timeout=30)


def state(engine, booking_id) -> dict:
    with session_scope(engine) as s:
        from sqlalchemy import text
        b = s.execute(text("SELECT status, payment_status, payment_id FROM bookings WHERE id = :b"),
                      {"b": booking_id}).one()
        p = s.execute(text("SELECT status, refund_amount_cents, gateway_payment_id FROM payments WHERE booking_id = :b "
                           "ORDER BY created_at DESC LIMIT 1"), {"b": booking_id}).one()
        return {"booking": b.status, "booking_payment": b.payment_status, "payment": p.status,
                "refunded": p.refund_amount_cents, "pi": p.gateway_payment_id, "payment_id": b.payment_id}


def test_checkout_with_stripe_asks_for_the_right_session(api, engine, sch, stripe_stub):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    assert start.covered_by == "card" and start.redirect_url.startswith("https://checkout.stripe.com/")
    assert not start.test_mode or start.checkout_id.startswith("cs_test_")
    [call] = stripe_stub.calls("/v1/checkout/sessions")
    form = call["form"]
    assert form["line_items[0][price_data][unit_amount]"] == str(sch["price"]) and form["currency"] == "aud"
    assert form["metadata[booking_id]"] == str(booking_id) and form["metadata[payment_id]"] == start.payment_id
    assert call["headers"]["idempotency-key"] == f"checkout:{start.payment_id}"
    assert f"&token={token}" in form["success_url"] and form["cancel_url"].endswith("&cancelled=1")
    # The session closes before the hold lapses, and lives at least Stripe's 30 minutes.
    hold_until = scalar(engine, "SELECT extract(epoch FROM hold_expires_at) FROM bookings WHERE id = :b", b=booking_id)
    expires = int(form["expires_at"])
    assert expires <= hold_until - 3 * 60
    assert expires >= time.time() + 30 * 60
    # Asking again while it is open returns the same checkout, no second session.
    again = checkout(engine, booking_id, token)
    assert again.checkout_id == start.checkout_id and len(stripe_stub.calls("/v1/checkout/sessions")) == 1


def test_the_same_event_five_times_at_once_has_one_effect(api, engine, sch):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, _, pi = paid_events(start, sch["price"])
    body, headers = signed(completed)
    barrier = threading.Barrier(5)

    def send(_):
        barrier.wait()
        return httpx.post(api + WEBHOOK, content=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(send, range(5)))
    assert [r.status_code for r in replies] == [200] * 5, [r.text for r in replies]
    assert sorted(r.json()["result"] for r in replies) == ["duplicate"] * 4 + ["processed"]
    assert state(engine, booking_id) == {"booking": "confirmed", "booking_payment": "paid", "payment": "completed",
                                         "refunded": 0, "pi": pi, "payment_id": uuid.UUID(start.payment_id)}
    assert scalar(engine, "SELECT count(*) FROM webhook_events WHERE event_id = :e AND status = 'processed'",
                  e=completed["id"]) == 1
    assert scalar(engine, "SELECT attempts FROM webhook_events WHERE event_id = :e", e=completed["id"]) == 1
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'payment.completed'") == 1
    messages = rows(engine, "SELECT template, channel FROM outbox_messages WHERE booking_id = :b ORDER BY 1, 2",
                    b=booking_id)
    assert [tuple(m) for m in messages] == [("booking_confirmation", "email"), ("booking_confirmation", "sms"),
                                            ("payment_received", "email")]
    # The confirmation carries the link the customer already has (the success page uses it too).
    body_text = scalar(engine, "SELECT body FROM outbox_messages WHERE template = 'booking_confirmation' "
                               "AND channel = 'email'")
    assert f"token={token}" in body_text
    assert scalar(engine, "SELECT manage_token FROM payments WHERE id = :p", p=start.payment_id) is None


@pytest.mark.parametrize("how", ["old", "wrong_secret", "tampered", "missing", "garbage"])
def test_bad_signatures_are_rejected_and_change_nothing(api, engine, sch, how):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, _, _ = paid_events(start, sch["price"])
    body = json.dumps(completed).encode()
    headers = {"Content-Type": "application/json"}
    if how == "old":
        headers["Stripe-Signature"] = sign(body, timestamp=int(time.time()) - 6 * 60)  # tolerance is 5 minutes
    elif how == "wrong_secret":
        headers["Stripe-Signature"] = sign(body, secret="whsec_someone_else")
    elif how == "tampered":
        headers["Stripe-Signature"] = sign(body)
        body = body.replace(f'"amount_total": {sch["price"]}'.encode(), b'"amount_total": 1')
    elif how == "garbage":
        headers["Stripe-Signature"] = "t=1,v1=00"
    before = rows(engine, "SELECT status, payment_status, updated_at FROM bookings")
    r = httpx.post(api + WEBHOOK, content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert rows(engine, "SELECT status, payment_status, updated_at FROM bookings") == before
    assert scalar(engine, "SELECT status FROM payments WHERE id = :p", p=start.payment_id) == "pending"
    assert scalar(engine, "SELECT count(*) FROM webhook_events") == 0
    assert scalar(engine, "SELECT count(*) FROM outbox_messages WHERE template LIKE 'payment%'") == 0


def test_payment_intent_before_checkout_session_then_a_late_expiry_ends_paid(api, engine, sch):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, succeeded, pi = paid_events(start, sch["price"])
    assert post(api, succeeded).json()["result"] == "processed"
    assert state(engine, booking_id)["payment"] == "completed" and state(engine, booking_id)["booking"] == "confirmed"
    assert post(api, completed).json()["result"] == "processed"  # a different event: looked at, nothing to do
    expired = event("checkout.session.expired", event_id="evt_late_expired_" + uuid.uuid4().hex[:8],
                    id=start.checkout_id, metadata={"payment_id": start.payment_id})
    assert post(api, expired).status_code == 200
    failed = event("payment_intent.payment_failed", event_id="evt_late_failed_" + uuid.uuid4().hex[:8], id=pi,
                   metadata={"payment_id": start.payment_id})
    assert post(api, failed).status_code == 200
    assert state(engine, booking_id) == {"booking": "confirmed", "booking_payment": "paid", "payment": "completed",
                                         "refunded": 0, "pi": pi, "payment_id": uuid.UUID(start.payment_id)}
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'payment.completed'") == 1
    assert scalar(engine, "SELECT count(*) FROM outbox_messages WHERE template IN "
                          "('payment_received','payment_failed')") == 1


def test_a_declined_card_tells_the_customer_and_a_retry_in_the_same_checkout_still_completes(api, engine, sch):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, succeeded, pi = paid_events(start, sch["price"])
    failed = event("payment_intent.payment_failed", event_id="evt_failed_" + uuid.uuid4().hex[:8], id=pi,
                   metadata={"payment_id": start.payment_id})
    assert post(api, failed).json()["result"] == "processed"
    assert state(engine, booking_id)["payment"] == "failed" and state(engine, booking_id)["booking"] == "held"
    sms, email = rows(engine, "SELECT channel, body FROM outbox_messages WHERE template = 'payment_failed' "
                              "ORDER BY channel DESC")
    assert sms.channel == "sms" and sms.body.startswith("NexDrive Academy: your card payment of $85.00")
    assert "didn't go through" in email.body and "Your card was declined." in email.body
    assert f"token={token}" in sms.body  # a link back to try again
    post(api, completed)
    assert state(engine, booking_id)["payment"] == "completed" and state(engine, booking_id)["booking"] == "confirmed"


def test_an_abandoned_checkout_expires_and_gives_the_voucher_back(api, engine, sch):
    with session_scope(engine) as s:
        make_voucher(s, "TENOFF", discount_percent=10, max_uses=5)
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token, voucher_code="tenoff")
    assert start.amount_cents == sch["price"] - sch["price"] // 10 and start.discount_cents == sch["price"] // 10
    assert scalar(engine, "SELECT times_used FROM vouchers WHERE code = 'TENOFF'") == 1
    expired = event("checkout.session.expired", event_id="evt_exp_" + uuid.uuid4().hex[:8], id=start.checkout_id,
                    metadata={"payment_id": start.payment_id})
    assert post(api, expired).json()["result"] == "processed"
    assert scalar(engine, "SELECT status FROM payments WHERE id = :p", p=start.payment_id) == "expired"
    assert scalar(engine, "SELECT times_used FROM vouchers WHERE code = 'TENOFF'") == 0
    assert scalar(engine, "SELECT count(*) FROM voucher_redemptions") == 0


def test_a_payment_for_a_lapsed_hold_re_reserves_the_same_booking(api, engine, sch):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    lapse_hold(engine, booking_id)
    completed, _, pi = paid_events(start, sch["price"])
    assert post(api, completed).status_code == 200
    assert state(engine, booking_id) == {"booking": "confirmed", "booking_payment": "paid", "payment": "completed",
                                         "refunded": 0, "pi": pi, "payment_id": uuid.UUID(start.payment_id)}
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'booking.hold_revived'") == 1


def test_a_payment_for_a_lapsed_hold_whose_time_was_taken_is_refunded_in_full(api, engine, sch, stripe_stub):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    lapse_hold(engine, booking_id)
    other_id, _ = hold(engine, sch, n=7)  # someone else books the same time once the hold has lapsed
    completed, succeeded, pi = paid_events(start, sch["price"])
    assert post(api, completed).status_code == 200
    assert post(api, succeeded).status_code == 200  # the other event of the same payment: no second refund
    st = state(engine, booking_id)
    assert st["booking"] == "expired" and st["payment"] == "refunded" and st["refunded"] == sch["price"]
    [refund_call] = stripe_stub.calls("/v1/refunds")
    assert refund_call["form"] == {**refund_call["form"], "payment_intent": pi, "amount": str(sch["price"])}
    assert refund_call["headers"]["idempotency-key"] == f"lapsed_hold:{start.payment_id}"
    refund = rows(engine, "SELECT kind, amount_cents, status, gateway_refund_id FROM refunds")
    assert [(r.kind, r.amount_cents, r.status) for r in refund] == [("lapsed_hold", sch["price"], "succeeded")]
    assert refund[0].gateway_refund_id.startswith("re_test_")
    notices = rows(engine, "SELECT channel, body FROM outbox_messages WHERE template = 'payment_refunded_lapsed_hold' "
                           "ORDER BY channel")
    assert [n.channel for n in notices] == ["email", "sms"]
    assert all("NexDrive Academy" in n.body and "refunded" in n.body and "$85.00" in n.body for n in notices)
    assert scalar(engine, "SELECT status FROM bookings WHERE id = :b", b=other_id) == "held"  # untouched
    # Stripe then reports the refund on the charge: recognised, not counted twice.
    charge = event("charge.refunded", event_id="evt_ch_" + uuid.uuid4().hex[:8], payment_intent=pi,
                   amount=sch["price"], amount_refunded=sch["price"],
                   refunds={"object": "list", "has_more": False, "total_count": 1, "data": [
                       {"id": refund[0].gateway_refund_id, "object": "refund", "amount": sch["price"],
                        "status": "succeeded", "payment_intent": pi}]})
    assert post(api, charge).status_code == 200
    assert state(engine, booking_id)["refunded"] == sch["price"]
    assert scalar(engine, "SELECT count(*) FROM refunds") == 1


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(api, engine, sch):
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, _, pi = paid_events(start, sch["price"])
    post(api, completed)
    charge = event("charge.refunded", event_id="evt_dash_" + uuid.uuid4().hex[:8], payment_intent=pi,
                   amount=sch["price"], amount_refunded=2000,
                   refunds={"object": "list", "has_more": False, "total_count": 1, "data": [
                       {"id": "re_dashboard_1", "object": "refund", "amount": 2000, "status": "succeeded",
                        "payment_intent": pi}]})
    for _ in range(2):
        assert post(api, charge).status_code == 200
    again = dict(charge, id="evt_dash_again_" + uuid.uuid4().hex[:8])  # a second delivery under a new id
    assert post(api, again).status_code == 200
    st = state(engine, booking_id)
    assert st["payment"] == "partially_refunded" and st["refunded"] == 2000
    assert st["booking_payment"] == "partially_refunded"
    assert [tuple(r) for r in rows(engine, "SELECT kind, amount_cents, gateway_refund_id FROM refunds")] == [
        ("gateway", 2000, "re_dashboard_1")]


def test_events_for_unknown_payments_are_acknowledged_and_ignored(api, engine, sch):
    ev = event("checkout.session.completed", event_id="evt_not_ours", id="cs_test_someone_else",
               metadata={"payment_id": str(uuid.uuid4())}, client_reference_id=None)
    r = post(api, ev)
    assert r.status_code == 200 and r.json()["result"] == "ignored"
    assert scalar(engine, "SELECT status FROM webhook_events WHERE event_id = 'evt_not_ours'") == "ignored"


def test_stale_checkouts_are_expired_at_stripe_before_their_hold_is_released(engine, sch, stripe_stub):
    with session_scope(engine) as s:
        make_voucher(s, "STALE5", voucher_type="fixed_amount", discount_cents=500, max_uses=1)
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token, voucher_code="STALE5")
    with session_scope(engine) as s:
        assert payments.expire_stale_checkouts(s) == 0  # still open, hold far from lapsing
    with session_scope(engine) as s:  # the hold is about to lapse
        from sqlalchemy import text
        s.execute(text("UPDATE bookings SET hold_expires_at = now() + interval '1 minute' WHERE id = :b"),
                  {"b": booking_id})
    with session_scope(engine) as s:
        assert payments.expire_stale_checkouts(s) == 1
    assert stripe_stub.calls(f"/v1/checkout/sessions/{start.checkout_id}/expire")
    assert scalar(engine, "SELECT status FROM payments WHERE id = :p", p=start.payment_id) == "expired"
    assert scalar(engine, "SELECT times_used FROM vouchers WHERE code = 'STALE5'") == 0
    with session_scope(engine) as s:
        assert payments.expire_stale_checkouts(s) == 0


def test_changing_the_voucher_closes_the_open_checkout_and_opens_a_new_one(engine, sch, stripe_stub):
    with session_scope(engine) as s:
        make_voucher(s, "FIVE", voucher_type="fixed_amount", discount_cents=500, max_uses=1)
    booking_id, token = hold(engine, sch)
    first = checkout(engine, booking_id, token)
    second = checkout(engine, booking_id, token, voucher_code="FIVE")
    assert second.checkout_id != first.checkout_id and second.amount_cents == sch["price"] - 500
    assert stripe_stub.calls(f"/v1/checkout/sessions/{first.checkout_id}/expire")
    assert [tuple(r) for r in rows(engine, "SELECT status, amount_cents FROM payments ORDER BY created_at")] == [
        ("expired", sch["price"]), ("pending", sch["price"] - 500)]


def test_cancelling_a_hold_with_an_open_checkout_closes_it_at_stripe(engine, sch, stripe_stub):
    from nexdrive.services.scheduling import booking
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    with session_scope(engine) as s:
        booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    assert stripe_stub.calls(f"/v1/checkout/sessions/{start.checkout_id}/expire")
    assert scalar(engine, "SELECT status FROM payments") == "expired"


def test_a_refund_that_fails_at_stripe_gives_the_amount_back_to_the_totals(api, engine, sch, stripe_stub):
    from tests.payment_helpers import admin
    from webhooks.stripe.tests.stripe_helpers import fixture
    booking_id, token = hold(engine, sch)
    start = checkout(engine, booking_id, token)
    completed, _, pi = paid_events(start, sch["price"])
    post(api, completed)
    with session_scope(engine) as s:
        payments.refund_payment(s, admin(engine), payment_id=uuid.UUID(start.payment_id), amount_cents=3000,
                                reason="Short lesson")
    gateway_refund_id = scalar(engine, "SELECT gateway_refund_id FROM refunds")
    failed = {**fixture("api_refund_create"), "id": gateway_refund_id, "amount": 3000, "status": "failed",
              "failure_reason": "expired_or_canceled_card", "payment_intent": pi}
    ev = {"id": "evt_refund_failed_" + uuid.uuid4().hex[:8], "object": "event", "api_version": "2025-03-31.basil",
          "created": int(time.time()), "data": {"object": failed}, "livemode": False, "pending_webhooks": 1,
          "request": {"id": None, "idempotency_key": None}, "type": "refund.updated"}
    assert post(api, ev).json()["result"] == "processed"
    assert post(api, ev).json()["result"] == "duplicate"
    st = state(engine, booking_id)
    assert st["payment"] == "completed" and st["refunded"] == 0 and st["booking_payment"] == "paid"
    assert scalar(engine, "SELECT status FROM refunds") == "failed"
