"""The payments port: Stripe Checkout in production, a local test-mode gateway offline
(docs/decisions/0005-outbox-and-offline-adapters.md).

The service layer (``nexdrive.services.money.payments``) only talks to this Protocol.
Both implementations report what happened as *gateway events* shaped like
Stripe's (``checkout.session.completed`` ...): Stripe sends them to the webhook,
the local gateway hands them back at once from ``immediate_events`` — and either
way they go through the same ``payments.handle_gateway_event``.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import stripe

from nexdrive.errors import PaymentGatewayError, WebhookRejected
from nexdrive.settings import Settings

UTC = timezone.utc
# Stripe refuses a Checkout Session that lives less than 30 minutes (or more than 24 hours).
MIN_CHECKOUT_SECONDS = 30 * 60
WEBHOOK_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE  # 300 s, Stripe's own default
CHECKOUT_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"  # Stripe fills it into success/cancel URLs


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime
    test_mode: bool
    payment_ref: str | None = None  # e.g. the PaymentIntent id, when the gateway knows it already


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # 'succeeded' | 'pending' | 'failed'
    amount_cents: int


class PaymentGateway(Protocol):
    name: str  # stored in payments.gateway
    test_mode: bool

    def create_checkout(self, *, amount_cents: int, description: str, success_url: str, cancel_url: str,
                        expires_at: datetime, metadata: dict[str, str], idempotency_key: str,
                        customer_email: str | None = None, currency: str = "aud") -> CheckoutSession: ...

    def expire_checkout(self, checkout_id: str) -> bool: ...

    def refund(self, payment_ref: str, amount_cents: int, idempotency_key: str, *,
               reason: str | None = None) -> RefundResult: ...

    def parse_webhook(self, raw_body: bytes, signature_header: str | None) -> dict: ...

    def immediate_events(self, checkout: CheckoutSession) -> list[dict]: ...


def verify_stripe_signature(raw_body: bytes, signature_header: str | None, secret: str | None,
                            tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> dict:
    """Check Stripe's ``t=...,v1=HMAC`` header on the raw body with Stripe's library, then parse it."""
    if not secret:
        raise WebhookRejected("Payment webhooks are not configured on this server.")
    try:
        stripe.WebhookSignature.verify_header(raw_body, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError:
        raise WebhookRejected("The webhook signature is not valid.") from None
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("The webhook body is not JSON.") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookRejected("The webhook body is not an event.")
    return event


def _fill(url: str, checkout_id: str) -> str:
    return url.replace(CHECKOUT_ID_PLACEHOLDER, checkout_id)


class StripeGateway:
    """Stripe Checkout (AUD, card) through stripe-python's ``StripeClient``.

    ``http_client`` / ``api_base`` let tests serve recorded Stripe responses.
    """

    name = "stripe"

    def __init__(self, settings: Settings, *, http_client: Any = None, api_base: str | None = None):
        self.settings = settings
        self.test_mode = settings.stripe_secret_key.startswith(("sk_test_", "rk_test_"))
        kwargs: dict[str, Any] = {"max_network_retries": 2}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if api_base:
            kwargs["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(settings.stripe_secret_key, **kwargs)

    def create_checkout(self, *, amount_cents: int, description: str, success_url: str, cancel_url: str,
                        expires_at: datetime, metadata: dict[str, str], idempotency_key: str,
                        customer_email: str | None = None, currency: str = "aud") -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "payment",
            "payment_method_types": ["card"],
            "currency": currency,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency, "unit_amount": int(amount_cents), "product_data": {"name": description}}}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "client_reference_id": metadata.get("payment_id"),
            "metadata": metadata,
            # The PaymentIntent carries the same ids, so payment_intent.* events find the payment
            # even when they arrive before checkout.session.completed.
            "payment_intent_data": {"metadata": metadata, "description": description},
        }
        if customer_email:
            params["customer_email"] = customer_email
        try:
            cs = self.client.v1.checkout.sessions.create(params=params,
                                                         options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise PaymentGatewayError("We couldn't start the card payment. Please try again in a minute.",
                                      provider_code=getattr(exc, "code", None)) from None
        return CheckoutSession(id=cs.id, url=cs.url, expires_at=datetime.fromtimestamp(cs.expires_at, UTC),
                               test_mode=not cs.livemode, payment_ref=getattr(cs, "payment_intent", None))

    def expire_checkout(self, checkout_id: str) -> bool:
        """Close an open session; False when it had already completed or expired."""
        try:
            self.client.v1.checkout.sessions.expire(checkout_id)
        except stripe.InvalidRequestError:
            return False  # not open any more (completed or expired): nothing to close
        except stripe.StripeError as exc:
            raise PaymentGatewayError("The payment provider could not be reached.",
                                      provider_code=getattr(exc, "code", None)) from None
        return True

    def refund(self, payment_ref: str, amount_cents: int, idempotency_key: str, *,
               reason: str | None = None) -> RefundResult:
        # ``refund_key`` lets a webhook that arrives before the answer find our pending refund.
        params: dict[str, Any] = {"payment_intent": payment_ref, "amount": int(amount_cents),
                                  "metadata": {"reason": (reason or "")[:450], "refund_key": idempotency_key}}
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            # A card or request error is Stripe's definite "no"; anything else may be retried with the same key.
            raise PaymentGatewayError("The refund could not be sent to the payment provider. Nothing was "
                                      "refunded; please try again.", provider_code=getattr(exc, "code", None),
                                      declined=isinstance(exc, (stripe.CardError, stripe.InvalidRequestError))
                                      ) from None
        status = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending"}.get(
            refund.status, "failed")
        return RefundResult(id=refund.id, status=status, amount_cents=int(refund.amount))

    def parse_webhook(self, raw_body: bytes, signature_header: str | None) -> dict:
        return verify_stripe_signature(raw_body, signature_header, self.settings.stripe_webhook_secret)

    def immediate_events(self, checkout: CheckoutSession) -> list[dict]:
        return []  # Stripe tells us through the webhook


class LocalGateway:
    """Offline test mode: "pay now" completes at once, clearly labelled as a test payment.

    It produces the same ``checkout.session.completed`` event Stripe would send, so the
    payment is recorded by exactly the code that handles real webhooks.
    """

    name = "local"
    test_mode = True

    def __init__(self, settings: Settings):
        self.settings = settings
        self._sessions: dict[str, dict] = {}

    def create_checkout(self, *, amount_cents: int, description: str, success_url: str, cancel_url: str,
                        expires_at: datetime, metadata: dict[str, str], idempotency_key: str,
                        customer_email: str | None = None, currency: str = "aud") -> CheckoutSession:
        # The same idempotency key gives the same session (as Stripe's does).
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        checkout_id, intent_id = f"cs_local_{digest[:24]}", f"pi_local_{digest[24:48]}"
        self._sessions[checkout_id] = {"amount": int(amount_cents), "currency": currency, "metadata": metadata,
                                       "payment_intent": intent_id, "customer_email": customer_email}
        return CheckoutSession(id=checkout_id, url=_fill(success_url, checkout_id), expires_at=expires_at,
                               test_mode=True, payment_ref=intent_id)

    def expire_checkout(self, checkout_id: str) -> bool:
        return self._sessions.pop(checkout_id, None) is not None

    def refund(self, payment_ref: str, amount_cents: int, idempotency_key: str, *,
               reason: str | None = None) -> RefundResult:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return RefundResult(id=f"re_local_{digest}", status="succeeded", amount_cents=int(amount_cents))

    def parse_webhook(self, raw_body: bytes, signature_header: str | None) -> dict:
        # Offline there is no provider calling in; a configured secret still lets Stripe's CLI replay events.
        return verify_stripe_signature(raw_body, signature_header, self.settings.stripe_webhook_secret)

    def immediate_events(self, checkout: CheckoutSession) -> list[dict]:
        info = self._sessions.pop(checkout.id, None)
        if info is None:
            return []
        return [{
            "id": f"evt_local_{uuid.uuid4().hex[:24]}", "object": "event", "type": "checkout.session.completed",
            "api_version": "2025-03-31.basil", "created": int(time.time()), "livemode": False,
            "data": {"object": {
                "id": checkout.id, "object": "checkout.session", "mode": "payment", "status": "complete",
                "payment_status": "paid", "amount_total": info["amount"], "currency": info["currency"],
                "payment_intent": info["payment_intent"], "metadata": info["metadata"],
                "client_reference_id": info["metadata"].get("payment_id"),
                "customer_details": {"email": info["customer_email"]}, "livemode": False,
            }},
        }]
