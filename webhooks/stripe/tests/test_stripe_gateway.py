"""StripeGateway with the real stripe-python client against recorded Stripe responses (a local stub).

Checks the requests it sends (amount in cents, AUD, card, expiry, metadata, idempotency key)
and how it reads the answers; and the webhook signature check with Stripe's own library.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from nexdrive.adapters.payments import LocalGateway, StripeGateway
from nexdrive.errors import PaymentGatewayError, WebhookRejected
from nexdrive.settings import Settings
from webhooks.stripe.tests.stripe_helpers import API_KEY, WEBHOOK_SECRET, StripeStub, event, sign

SETTINGS = Settings(stripe_secret_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET)


@pytest.fixture
def stub():
    with StripeStub() as s:
        yield s


@pytest.fixture
def gateway(stub):
    return StripeGateway(SETTINGS, api_base=stub.url)


def _checkout(gateway, expires_at, key="checkout:pay-1"):
    return gateway.create_checkout(
        amount_cents=7650, description="Standard lesson (60 min), Tue 3 March 2026, 9:30 am",
        success_url="https://nexdrive.example/pay/result?checkout={CHECKOUT_SESSION_ID}&token=tok",
        cancel_url="https://nexdrive.example/pay/result?checkout={CHECKOUT_SESSION_ID}&token=tok&cancelled=1",
        expires_at=expires_at, metadata={"payment_id": "pay-1", "booking_id": "book-1"},
        idempotency_key=key, customer_email="sam@example.com")


def test_create_checkout_sends_amount_currency_expiry_metadata_and_idempotency_key(gateway, stub):
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=31)
    cs = _checkout(gateway, expires)
    [call] = stub.calls("/v1/checkout/sessions")
    form, headers = call["form"], call["headers"]
    assert headers["idempotency-key"] == "checkout:pay-1"
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert form["mode"] == "payment" and form["currency"] == "aud"
    assert form["payment_method_types[0]"] == "card"
    assert form["line_items[0][price_data][unit_amount]"] == "7650"
    assert form["line_items[0][price_data][currency]"] == "aud"
    assert form["line_items[0][quantity]"] == "1"
    assert form["expires_at"] == str(int(expires.timestamp()))
    assert form["metadata[booking_id]"] == "book-1" and form["metadata[payment_id]"] == "pay-1"
    assert form["payment_intent_data[metadata][payment_id]"] == "pay-1"  # payment_intent.* events find it too
    assert form["client_reference_id"] == "pay-1" and form["customer_email"] == "sam@example.com"
    assert form["success_url"].endswith("checkout={CHECKOUT_SESSION_ID}&token=tok")  # Stripe fills the id in
    # The answer is read back from Stripe's response.
    assert cs.id.startswith("cs_test_") and cs.url.startswith("https://checkout.stripe.com/c/pay/")
    assert cs.expires_at == expires and cs.test_mode is True


def test_a_retried_checkout_is_the_same_session(gateway, stub):
    expires = datetime.now(timezone.utc) + timedelta(minutes=31)
    assert _checkout(gateway, expires).id == _checkout(gateway, expires).id
    assert _checkout(gateway, expires, key="checkout:pay-2").id != _checkout(gateway, expires).id


def test_refund_sends_the_amount_the_payment_intent_and_the_idempotency_key(gateway, stub):
    result = gateway.refund("pi_3SWxYzAbCdEfGhIj0aBcDeFg", 4250, "cancellation:book-1", reason="Lesson cancelled")
    [call] = stub.calls("/v1/refunds")
    assert call["headers"]["idempotency-key"] == "cancellation:book-1"
    assert call["form"]["payment_intent"] == "pi_3SWxYzAbCdEfGhIj0aBcDeFg" and call["form"]["amount"] == "4250"
    assert result.status == "succeeded" and result.amount_cents == 4250 and result.id.startswith("re_")
    again = gateway.refund("pi_3SWxYzAbCdEfGhIj0aBcDeFg", 4250, "cancellation:book-1", reason="Lesson cancelled")
    assert again.id == result.id  # Stripe's idempotency: the same refund, not a second one


def test_a_refund_the_provider_refuses_is_a_clear_error(gateway, stub):
    stub.fail_refunds = True
    with pytest.raises(PaymentGatewayError) as err:
        gateway.refund("pi_x", 100, "k-1")
    assert "Nothing was refunded" in err.value.message


def test_expire_an_open_session_and_one_that_already_completed(gateway, stub):
    cs = _checkout(gateway, datetime.now(timezone.utc) + timedelta(minutes=31))
    assert gateway.expire_checkout(cs.id) is True
    assert stub.calls(f"/v1/checkout/sessions/{cs.id}/expire")
    assert gateway.expire_checkout(cs.id) is False  # no longer open: Stripe says 400, nothing to do


def test_webhook_signature_checked_with_stripes_library_and_tolerance(gateway):
    body = json.dumps(event("checkout.session.completed")).encode()
    assert gateway.parse_webhook(body, sign(body))["type"] == "checkout.session.completed"
    for header in (sign(body, timestamp=int(time.time()) - 301),  # older than Stripe's 300 s tolerance
                   sign(body, secret="whsec_wrong"),
                   sign(body + b" "),  # signed a different body
                   "", None, "t=abc,v1=zzz"):
        with pytest.raises(WebhookRejected):
            gateway.parse_webhook(body, header)
    tampered = body.replace(b'"amount_total": 8500', b'"amount_total": 1')
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(tampered, sign(body))


def test_without_a_webhook_secret_every_webhook_is_refused():
    local = LocalGateway(Settings(stripe_secret_key="", stripe_webhook_secret=""))
    body = b'{"id": "evt_1", "type": "checkout.session.completed"}'
    with pytest.raises(WebhookRejected):
        local.parse_webhook(body, sign(body))


def test_local_gateway_completes_at_once_with_a_stripe_shaped_event():
    local = LocalGateway(Settings(stripe_secret_key=""))
    expires = datetime.now(timezone.utc) + timedelta(minutes=31)
    cs = local.create_checkout(amount_cents=8500, description="Lesson", success_url="/pay/result?checkout="
                               "{CHECKOUT_SESSION_ID}", cancel_url="/x", expires_at=expires,
                               metadata={"payment_id": "p1"}, idempotency_key="checkout:p1")
    assert cs.test_mode and cs.url == f"/pay/result?checkout={cs.id}"
    [ev] = local.immediate_events(cs)
    assert ev["type"] == "checkout.session.completed" and ev["livemode"] is False
    assert ev["data"]["object"]["id"] == cs.id and ev["data"]["object"]["payment_status"] == "paid"
    assert ev["data"]["object"]["amount_total"] == 8500 and ev["data"]["object"]["metadata"] == {"payment_id": "p1"}
    assert local.immediate_events(cs) == []  # handed out once
    r1, r2 = local.refund("pi_local_x", 100, "k"), local.refund("pi_local_x", 100, "k")
    assert r1.id == r2.id and r1.status == "succeeded"
