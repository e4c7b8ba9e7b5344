"""Taking money: checkout for lessons and packages, gateway events, refunds, and the payment records.

How a lesson is paid
    ``start_booking_checkout`` is called on a live hold (or a confirmed lesson that is
    still unpaid). Nothing left to pay (a package credit, a 100% voucher, "pay later")
    confirms the booking at once. Otherwise a ``payments`` row (pending) is written and
    a Checkout session opened through the payments adapter. The hold is stretched to at
    least ``hold_minutes`` (35) from now and the session is told to expire 4 minutes
    before the hold lapses (Stripe's minimum is 30 minutes): the session always closes
    first, so an unpaid hold is never released while its checkout can still be paid
    (docs/decisions/0001-no-double-booking.md). ``expire_stale_checkouts`` also closes sessions explicitly.

One path for every payment
    Whatever happens at the gateway comes back as an event shaped like Stripe's and goes
    through ``handle_gateway_event``: a verified Stripe webhook, or the local test-mode
    gateway's immediate ``checkout.session.completed``. It is idempotent on the event id
    (``webhook_events``), and every state change is guarded by row locks and the
    payment's own status, so duplicates, concurrent deliveries and any arrival order end
    in the same state (``payment_intent.succeeded`` may complete the payment before
    ``checkout.session.completed``; ``checkout.session.expired`` never undoes a payment).

A payment for a hold that lapsed
    The same booking is held again if its time is still free (``booking.revive_lapsed_hold``,
    the SYSTEM actor's rules); if someone else booked it meanwhile (or the lesson was
    cancelled), the payment is refunded in full through the gateway and the customer is told.

Refunds
    Admin refunds (full or partial), and automatic ones: a paid lesson cancelled in time is
    refunded in full; a late cancellation keeps ``bookings.cancellation_fee_cents`` and
    refunds the rest; a fee waived later refunds the fee. Each refund is a ``refunds`` row
    with an idempotency key that is also sent to the gateway. The use case records it as
    ``pending`` under the payment's row lock and reserves its amount in
    ``payments.refund_amount_cents``, so a retry never doubles and the total can never pass the
    amount paid (also a CHECK). The gateway is called only after that transaction commits, with
    no transaction open (``_send_refund``), and the answer recorded in a new short one; a
    declined refund gives its amount back and alerts the administrator. A crash in between
    leaves the pending row for ``send_pending_refunds`` (the ``release_holds`` job) to send
    again under the same key.

Lock order (avoids deadlocks with booking and cancelling), the same everywhere: the instructor's
advisory lock -> booking row -> payment row -> package / voucher rows (the audit chain head last).
A path that locks a booking row takes the instructor lock first (``booking.booking_for``,
``_lock_for_payment``), so nothing holds a row or the audit head while waiting for it.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters import get_adapter
from nexdrive.adapters.payments import CHECKOUT_ID_PLACEHOLDER, MIN_CHECKOUT_SECONDS, CheckoutSession
from nexdrive.models import Booking, Invoice, Package, Payment, Refund, Service, StudentPackage
from nexdrive.services.core import clock
from nexdrive.services.core import access
from nexdrive.services.core import audit
from nexdrive.services.core import events, inbound
from nexdrive.services.money import invoices
from nexdrive.services.messaging import admin_alerts, notify
from nexdrive.services.money import packages
from nexdrive.services.money import vouchers
from nexdrive.services.scheduling import booking as booking_svc
from nexdrive.services.identity.accounts import hash_token, new_token
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.errors import (
    Forbidden,
    HoldExpired,
    InvalidState,
    NotFound,
    PaymentGatewayError,
    ValidationFailed,
)
from nexdrive.formats import BUSINESS_TZ, au_date, au_when, aud

log = logging.getLogger(__name__)
UTC = timezone.utc
CHECKOUT_MARGIN = timedelta(minutes=4)  # the checkout closes this long before the hold lapses
MIN_CHECKOUT = timedelta(seconds=MIN_CHECKOUT_SECONDS) + timedelta(minutes=1)  # Stripe's 30 min + clock slack
REVIVED_HOLD = timedelta(minutes=10)
PAID_STATUSES = ("completed", "partially_refunded", "refunded")
OPEN_STATUSES = ("pending", "processing", "failed")  # a checkout that may still be paid
MAX_REASON = 300
STATUS_LABELS = {
    "pending": "Waiting for payment", "processing": "Processing", "completed": "Paid",
    "failed": "Payment failed", "expired": "Checkout expired", "refunded": "Refunded",
    "partially_refunded": "Partly refunded", "disputed": "Disputed",
}


@dataclass
class CheckoutStart:
    """What the page does next: go to ``redirect_url`` (the gateway, or straight to the result)."""
    payment_id: str | None
    redirect_url: str
    test_mode: bool
    amount_cents: int
    discount_cents: int
    covered_by: str  # 'card' | 'package' | 'voucher' | 'pay_later'
    checkout_id: str | None = None
    booking_id: str | None = None
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


# ─────────────────────────────────────────────────────────────────────────────
# Small helpers
# ─────────────────────────────────────────────────────────────────────────────

def _now(session: Session) -> datetime:
    return clock.now(session)


def gateway():
    return get_adapter("payments")


def result_path(checkout_id: str, *, token: str | None = None, cancelled: bool = False) -> str:
    """The page the customer comes back to: ``/pay/result?checkout=<id>[&token=..][&cancelled=1]``."""
    path = f"/pay/result?checkout={checkout_id}"
    if token:
        path += f"&token={token}"
    if cancelled:
        path += "&cancelled=1"
    return path


def _confirmed_path(token: str | None) -> str:
    return f"/book/confirmed?token={token}" if token else "/student"


def _clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed("Please give a reason for the refund.", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"The reason is too long ({MAX_REASON} characters at most).", field="reason")
    return reason


def _lock_booking(session: Session, booking_id: uuid.UUID) -> Booking | None:
    return session.exec(select(Booking).where(Booking.id == booking_id).with_for_update()).first()


def _lock_payment(session: Session, payment_id: uuid.UUID) -> Payment | None:
    payment = session.exec(select(Payment).where(Payment.id == payment_id).with_for_update()).first()
    if payment is not None:
        session.refresh(payment)
    return payment


def _lock_for_payment(session: Session, payment_id: uuid.UUID, *, revive: bool = False
                      ) -> tuple[Payment | None, Booking | None]:
    """Lock (booking, payment) in the house order: the instructor first, then the booking, then the payment.

    ``revive`` is kept for callers that may hold a lapsed booking again; every path takes the
    instructor lock first so no transaction waits for it while holding a booking or payment row.
    """
    peek = session.execute(sa.text("SELECT booking_id FROM payments WHERE id = :p"), {"p": payment_id}).first()
    if peek is None:
        return None, None
    booking = None
    if peek.booking_id is not None:
        instructor_id = session.execute(sa.text("SELECT instructor_id FROM bookings WHERE id = :b"),
                                        {"b": peek.booking_id}).scalar()
        booking_svc.lock_instructor_id(session, instructor_id)
        booking = _lock_booking(session, peek.booking_id)
        session.refresh(booking)
    return _lock_payment(session, payment_id), booking


def _who(session: Session, payment: Payment) -> dict:
    booking = session.get(Booking, payment.booking_id) if payment.booking_id else None
    if booking is not None and payment.student_id is None:
        return booking_svc.booking_recipient(session, booking)  # the details typed in the booking
    return booking_svc.recipient_for(session, payment.student_id, payment.contact_id)


def _message(session: Session, payment: Payment, template: str, data: dict, key: str | None = None) -> None:
    """SMS and/or email about a payment to the person who paid (message_templates ``template``), once per key."""
    who = _who(session, payment)
    key = key or str(payment.id)
    notify.queue_message(
        session, template, to={**who, "contact_id": payment.contact_id},
        data={"amount_display": aud(payment.amount_cents), "description": payment.description,
              "test_mode": payment.gateway == "local", **data},
        idempotency_key={c: f"{template}:{c}:{key}" for c in ("sms", "email")}, booking_id=payment.booking_id,
        related_type="payment", related_id=payment.id,
        template_data={"payment_id": str(payment.id), "amount_cents": payment.amount_cents})


# ─────────────────────────────────────────────────────────────────────────────
# Starting a payment
# ─────────────────────────────────────────────────────────────────────────────

def _manage_token_for(session: Session, booking: Booking, manage_token: str | None) -> str | None:
    """The customer's booking link: theirs if they sent it, else a fresh one while the booking is only held.

    A confirmed booking keeps its link (the customer was sent it), so None is returned instead.
    """
    if manage_token and booking.manage_token_hash == hash_token(manage_token):
        return manage_token
    if booking.status != "held":
        return None
    token = new_token()
    booking.manage_token_hash = hash_token(token)
    session.add(booking)
    session.flush()
    return token


def _open_payment(session: Session, booking_id: uuid.UUID) -> Payment | None:
    return session.exec(select(Payment).where(Payment.booking_id == booking_id, Payment.status.in_(OPEN_STATUSES),
                                              Payment.gateway_checkout_id.is_not(None))
                        .order_by(Payment.created_at.desc()).with_for_update()).first()


def _close_checkout(session: Session, payment: Payment, *, release_voucher: bool = True) -> None:
    """Expire an open checkout at the gateway and here, and give back its voucher use."""
    if payment.status not in OPEN_STATUSES:
        return
    if payment.gateway_checkout_id and payment.gateway == gateway().name:
        _expire_at_gateway_after_commit(session, payment.id, payment.gateway_checkout_id)
    payment.status = "expired"
    payment.manage_token = None
    session.add(payment)
    session.flush()
    if release_voucher and payment.booking_id:
        vouchers.release_redemption(session, payment.booking_id)
    audit.record_event(session, SYSTEM, "payment.checkout_expired", subject_type="payment", subject_id=payment.id)


def _expire_at_gateway_after_commit(session: Session, payment_id: uuid.UUID, checkout_id: str) -> None:
    """Close the checkout at the gateway once this transaction (which records it as expired) has
    committed: the gateway is never called while its rows are locked, and a rolled-back change
    closes nothing. A failure is recorded in its own short transaction; if the checkout is paid
    after all, the completion finds no open payment for a live booking and refunds it."""
    from sqlalchemy import event

    if not session.info.get("gateway_expiry_hooks"):
        event.listen(session, "after_commit", _run_gateway_expiries)
        event.listen(session, "after_rollback",
                     lambda s: None if s.in_nested_transaction() else s.info.pop("gateway_expiries", None))
        session.info["gateway_expiry_hooks"] = True
    session.info.setdefault("gateway_expiries", []).append((payment_id, checkout_id, gateway()))


def _run_gateway_expiries(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction (and its locks) is still open
    for payment_id, checkout_id, gw in session.info.pop("gateway_expiries", None) or []:
        try:
            gw.expire_checkout(checkout_id)
        except PaymentGatewayError as exc:
            with Session(session.get_bind()) as side, side.begin():
                audit.record_event(side, SYSTEM, "payment.expire_failed", subject_type="payment",
                                   subject_id=payment_id, severity="warning", details={"error": exc.message})


def _extend_hold(session: Session, booking: Booking) -> datetime:
    """Stretch a live hold so the checkout (>= 30 min) closes before it lapses; HoldExpired if it already has."""
    minutes = max(booking_svc.business_settings(session).hold_minutes or booking_svc.DEFAULT_HOLD_MINUTES,
                  int((MIN_CHECKOUT + CHECKOUT_MARGIN).total_seconds() // 60) + 1)
    until = session.execute(sa.text(
        "UPDATE bookings SET hold_expires_at = greatest(hold_expires_at, now() + make_interval(mins => :m)) "
        "WHERE id = :id AND status = 'held' AND hold_expires_at > now() RETURNING hold_expires_at"),
        {"id": booking.id, "m": minutes}).scalar()
    session.refresh(booking)
    if until is None:
        raise HoldExpired("The hold on this time has lapsed; please choose a time again.",
                          suggested_alternatives=booking_svc.nearest_alternatives(
                              session, session.get(Service, booking.service_id), booking.start_time))
    return until


def start_booking_checkout(session: Session, actor: Actor, *, booking_id: uuid.UUID, manage_token: str | None = None,
                           voucher_code: str | None = None, use_package: bool = False,
                           pay_later: bool = False) -> CheckoutStart:
    """Pay for a held (or confirmed but unpaid) lesson: by card, with a package credit, a voucher, or later.

    Confirms the booking when nothing is left to pay. With the local gateway the card payment
    completes at once (same event path as Stripe's webhook) and the redirect is the result page.
    """
    voucher_code = vouchers.normalise_code(voucher_code) or None
    if sum(bool(x) for x in (voucher_code, use_package, pay_later)) > 1:
        if use_package and pay_later:
            raise ValidationFailed("Choose either your package or pay later.", field="use_package")
        if voucher_code and use_package:
            raise ValidationFailed("A voucher can't be combined with a package lesson.", field="voucher_code")
        raise ValidationFailed("Vouchers are taken off when you pay online. Choose 'Pay now' to use one.",
                               field="voucher_code")
    booking = booking_svc.booking_for(session, actor, booking_id, manage_token, lock=True)
    session.refresh(booking)
    settings = booking_svc.business_settings(session)

    if booking.status == "confirmed" and booking.payment_status != "unpaid":
        # A retried request after success: report what already happened.
        token = _manage_token_for(session, booking, manage_token)
        covered = {"package_credit": "package"}.get(booking.payment_status, "card")
        paid = session.get(Payment, booking.payment_id) if booking.payment_id else None
        if paid is not None and paid.payment_method == "voucher":
            covered = "voucher"
        redirect = (result_path(paid.gateway_checkout_id, token=token) if paid and paid.gateway_checkout_id
                    else _confirmed_path(token))
        return CheckoutStart(str(paid.id) if paid else None, redirect,
                             bool(paid and paid.gateway == "local"), paid.amount_cents if paid else 0,
                             paid.discount_cents if paid else 0, covered, paid.gateway_checkout_id if paid else None,
                             str(booking.id), "This lesson is already paid for.")
    if booking.status not in ("held", "confirmed"):
        if booking.status == "expired":
            raise HoldExpired("The hold on this time has lapsed; please choose a time again.",
                              suggested_alternatives=booking_svc.nearest_alternatives(
                                  session, session.get(Service, booking.service_id), booking.start_time))
        raise InvalidState("This lesson can't be paid for any more.")
    now = _now(session)
    if booking.status == "held" and booking.hold_expires_at <= now:
        _extend_hold(session, booking)  # raises HoldExpired

    open_payment = _open_payment(session, booking.id)
    if open_payment is not None:
        same = (not use_package and not pay_later and open_payment.checkout_expires_at
                and open_payment.checkout_expires_at > now + timedelta(minutes=1)
                and _redeemed_code(session, booking.id) == voucher_code
                and open_payment.gateway == gateway().name)
        if same and (open_payment.gateway_response or {}).get("checkout_url"):
            url = open_payment.gateway_response["checkout_url"]
            return CheckoutStart(str(open_payment.id), url, open_payment.gateway == "local",
                                 open_payment.amount_cents, open_payment.discount_cents, "card",
                                 open_payment.gateway_checkout_id, str(booking.id), "Your checkout is still open.")
        _close_checkout(session, open_payment)
    elif _redeemed_code(session, booking.id) is not None:
        vouchers.release_redemption(session, booking.id)  # a voucher from an earlier attempt

    token = _manage_token_for(session, booking, manage_token)

    if pay_later:
        if not settings.allow_pay_later:
            raise ValidationFailed("Please pay when booking: the school takes payment at the time of booking.",
                                   field="pay_later")
        if booking.status == "held":
            booking_svc.confirm_booking(session, actor, booking.id, manage_token=token, payment_status="unpaid")
        audit.record_event(session, actor, "payment.pay_later", subject_type="booking", subject_id=booking.id)
        return CheckoutStart(None, _confirmed_path(token), gateway().test_mode, booking.amount_cents, 0,
                             "pay_later", None, str(booking.id), "Booked. Pay at or before your lesson.")

    if use_package:
        packages.use_credit(session, actor, booking=booking)
        if booking.status == "held":
            booking_svc.confirm_booking(session, actor, booking.id, manage_token=token,
                                        payment_status="package_credit")
        else:
            booking.payment_status = "package_credit"
            session.add(booking)
            session.flush()
        return CheckoutStart(None, _confirmed_path(token), False, 0, 0, "package", None,
                             str(booking.id), "Booked with a lesson from your package.")

    service = session.get(Service, booking.service_id)
    discount = 0
    if voucher_code:
        redemption = vouchers.redeem_voucher(session, voucher_code, booking_id=booking.id, service_id=service.id,
                                             amount_cents=booking.amount_cents, student_id=booking.student_id,
                                             contact_id=booking.contact_id)
        discount = min(redemption.discount_cents, booking.amount_cents)
        audit.record_event(session, actor, "voucher.redeemed", subject_type="booking", subject_id=booking.id,
                           details={"code": voucher_code, "discount_cents": discount})
    due = booking.amount_cents - discount
    description = f"{service.name}, {au_when(booking.start_time, booking.end_time)}"

    if due == 0:
        # Paid in full by the voucher: a zero payment records it (and gets its invoice).
        payment = Payment(student_id=booking.student_id, contact_id=booking.contact_id, booking_id=booking.id,
                          amount_cents=0, discount_cents=discount, payment_method="voucher", status="pending",
                          description=description)
        session.add(payment)
        session.flush()
        _link_redemption(session, booking.id, payment.id)
        payment.status, payment.completed_at = "completed", now
        session.add(payment)
        session.flush()
        if booking.status == "held":
            booking_svc.confirm_booking(session, actor, booking.id, manage_token=token, payment_status="paid")
        _mark_booking_paid(session, booking, payment)
        _after_completed(session, payment)
        return CheckoutStart(str(payment.id), _confirmed_path(token), False, 0, discount, "voucher", None,
                             str(booking.id), "Booked. Your voucher covers this lesson.")

    if booking.status == "held":
        hold_until = _extend_hold(session, booking)
        expires_at = hold_until - CHECKOUT_MARGIN
    else:
        expires_at = now + MIN_CHECKOUT
    payment = Payment(student_id=booking.student_id, contact_id=booking.contact_id, booking_id=booking.id,
                      amount_cents=due, discount_cents=discount, payment_method="card", gateway=gateway().name,
                      status="pending", description=description, checkout_expires_at=expires_at,
                      manage_token=token)
    session.add(payment)
    session.flush()
    _link_redemption(session, booking.id, payment.id)
    who = booking_svc.booking_recipient(session, booking)
    return _open_checkout(session, actor, payment, description=description, token=token,
                          metadata={"payment_id": str(payment.id), "booking_id": str(booking.id),
                                    "reference": booking_svc.booking_reference(booking)},
                          email=who.get("email"), booking_id=str(booking.id))


def _redeemed_code(session: Session, booking_id: uuid.UUID) -> str | None:
    found = vouchers.redemption_for_booking(session, booking_id)
    return found[1].code if found else None


def _link_redemption(session: Session, booking_id: uuid.UUID, payment_id: uuid.UUID) -> None:
    session.execute(sa.text("UPDATE voucher_redemptions SET payment_id = :p WHERE booking_id = :b"),
                    {"p": payment_id, "b": booking_id})


def _open_checkout(session: Session, actor: Actor, payment: Payment, *, description: str, token: str | None,
                   metadata: dict[str, str], email: str | None, booking_id: str | None) -> CheckoutStart:
    """Intent, commit, gateway call, result: no row (or the audit head) is locked while the gateway is called.

    The pending payment (and the stretched hold, the voucher use) is committed first; the gateway is
    called with no transaction open, under the payment's idempotency key; the checkout is recorded
    in a new short transaction (instructor, booking, payment locked in the house order).
    """
    gw = gateway()
    payment_id, amount, expires_at = payment.id, payment.amount_cents, payment.checkout_expires_at
    session.commit()
    try:
        checkout: CheckoutSession = gw.create_checkout(
            amount_cents=amount, description=description,
            success_url=notify.public_url(result_path(CHECKOUT_ID_PLACEHOLDER, token=token)),
            cancel_url=notify.public_url(result_path(CHECKOUT_ID_PLACEHOLDER, token=token, cancelled=True)),
            expires_at=expires_at, metadata=metadata, idempotency_key=f"checkout:{payment_id}",
            customer_email=email)
    except Exception:
        session.rollback()
        payment, _booking = _lock_for_payment(session, payment_id)  # nothing was opened: close the intent
        if payment is not None and payment.status == "pending" and payment.gateway_checkout_id is None:
            payment.status, payment.manage_token = "expired", None
            session.add(payment)
            session.flush()
            if payment.booking_id:
                vouchers.release_redemption(session, payment.booking_id)
        session.commit()
        raise
    payment, _booking = _lock_for_payment(session, payment_id)
    payment.gateway_checkout_id = checkout.id
    payment.checkout_expires_at = checkout.expires_at
    payment.gateway_response = {"checkout_url": checkout.url, "test_mode": checkout.test_mode}
    session.add(payment)
    session.flush()
    audit.record_event(session, actor, "payment.checkout_started", subject_type="payment", subject_id=payment.id,
                       details={"amount_cents": payment.amount_cents, "gateway": gw.name, "checkout_id": checkout.id})
    redirect, message = checkout.url, "Taking you to the secure payment page."
    for event in gw.immediate_events(checkout):  # the local gateway: paid at once, through the webhook path
        handle_gateway_event(session, event, provider=gw.name)
        redirect = result_path(checkout.id, token=token)
        message = "Test payment recorded (offline test mode: no money was taken)."
    return CheckoutStart(str(payment.id), redirect, checkout.test_mode, payment.amount_cents, payment.discount_cents,
                         "card", checkout.id, booking_id, message)


def start_package_checkout(session: Session, actor: Actor, *, package_id: uuid.UUID) -> CheckoutStart:
    """A learner buys a package by card; the package is theirs when the payment completes."""
    access.require_signed_in(actor)
    if not actor.is_student or actor.student_id is None:
        raise Forbidden("Packages are bought from the learner's own account.")
    package = session.get(Package, package_id)
    if package is None or not package.is_active:
        raise NotFound("That package is not on sale.")
    now = _now(session)
    # One open purchase per learner and package: a retried click returns the same checkout.
    session.execute(sa.text("SELECT id FROM students WHERE id = :s FOR UPDATE"), {"s": actor.student_id})
    open_payment = session.exec(select(Payment).where(
        Payment.student_id == actor.student_id, Payment.package_id == package.id, Payment.booking_id.is_(None),
        Payment.status.in_(OPEN_STATUSES), Payment.checkout_expires_at > now + timedelta(minutes=1),
        Payment.gateway == gateway().name).with_for_update()).first()
    if open_payment is not None and (open_payment.gateway_response or {}).get("checkout_url"):
        return CheckoutStart(str(open_payment.id), open_payment.gateway_response["checkout_url"],
                             open_payment.gateway == "local", open_payment.amount_cents, 0, "card",
                             open_payment.gateway_checkout_id, None, "Your checkout is still open.")
    payment = Payment(student_id=actor.student_id, package_id=package.id, amount_cents=package.price_cents,
                      payment_method="card", gateway=gateway().name, status="pending",
                      description=f"Lesson package: {package.name}", checkout_expires_at=now + MIN_CHECKOUT)
    session.add(payment)
    session.flush()
    who = booking_svc.recipient_for(session, actor.student_id, None)
    return _open_checkout(session, actor, payment, description=payment.description, token=None,
                          metadata={"payment_id": str(payment.id), "package_id": str(package.id),
                                    "student_id": str(actor.student_id)},
                          email=who.get("email"), booking_id=None)


# ─────────────────────────────────────────────────────────────────────────────
# Gateway events (Stripe webhooks and the local gateway)
# ─────────────────────────────────────────────────────────────────────────────

def record_event_failure(session: Session, provider: str, event: dict, error: str) -> None:
    """Note a failed delivery (in its own transaction) so the retry is visible; the gateway will resend."""
    inbound.record_failure(session, provider, event.get("id"), event.get("type"), event, error)


def _find_payment_id(session: Session, obj: dict, *, by: str) -> uuid.UUID | None:
    meta = obj.get("metadata") or {}
    candidates: list[tuple[str, Any]] = []
    if by == "checkout":
        candidates.append(("gateway_checkout_id", obj.get("id")))
    elif by == "intent":
        candidates.append(("gateway_payment_id", obj.get("id")))
    elif by == "charge":
        candidates.append(("gateway_payment_id", obj.get("payment_intent")))
    for column, value in candidates:
        if value:
            found = session.execute(sa.text(f"SELECT id FROM payments WHERE {column} = :v"), {"v": value}).scalar()
            if found:
                return found
    ref = meta.get("payment_id") or obj.get("client_reference_id")
    try:
        ref = uuid.UUID(str(ref)) if ref else None
    except ValueError:
        return None
    if ref and session.execute(sa.text("SELECT 1 FROM payments WHERE id = :p"), {"p": ref}).first():
        return ref
    return None


def handle_gateway_event(session: Session, event: dict, *, provider: str = "stripe") -> str:
    """Apply one gateway event (idempotent). Returns what happened: 'processed', 'duplicate' or 'ignored'."""
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise ValidationFailed("Not a payment event.")
    if not inbound.claim(session, provider, event["id"], event.get("type"), event):
        return "duplicate"
    kind = event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    outcome = "ignored"
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        payment_id = _find_payment_id(session, obj, by="checkout")
        if payment_id:
            if obj.get("payment_status") in ("paid", "no_payment_required"):
                _complete(session, payment_id, payment_ref=obj.get("payment_intent"),
                          amount_cents=obj.get("amount_total"), event_id=event["id"])
            else:
                _mark(session, payment_id, "processing", from_statuses=("pending", "failed"))
            outcome = "processed"
    elif kind == "payment_intent.succeeded":
        payment_id = _find_payment_id(session, obj, by="intent")
        if payment_id:
            _complete(session, payment_id, payment_ref=obj.get("id"),
                      amount_cents=obj.get("amount_received") or obj.get("amount"), event_id=event["id"])
            outcome = "processed"
    elif kind in ("checkout.session.expired",):
        payment_id = _find_payment_id(session, obj, by="checkout")
        if payment_id:
            _expired(session, payment_id)
            outcome = "processed"
    elif kind in ("payment_intent.payment_failed", "checkout.session.async_payment_failed"):
        payment_id = _find_payment_id(session, obj, by="intent" if kind.startswith("payment_intent") else "checkout")
        if payment_id:
            error = (obj.get("last_payment_error") or {}).get("message")
            _failed(session, payment_id, payment_ref=obj.get("id") if kind.startswith("payment_intent") else None,
                    error=error, event_id=event["id"])
            outcome = "processed"
    elif kind == "charge.refunded":
        payment_id = _find_payment_id(session, obj, by="charge")
        if payment_id:
            _sync_gateway_refunds(session, payment_id, obj)
            outcome = "processed"
    elif kind in ("charge.refund.updated", "refund.updated", "refund.failed"):
        outcome = "processed" if _refund_updated(session, obj) else "ignored"
    inbound.finish(session, provider, event["id"], outcome)
    return outcome


def _mark(session: Session, payment_id: uuid.UUID, status: str, *, from_statuses: tuple[str, ...]) -> None:
    session.execute(sa.text("UPDATE payments SET status = :s WHERE id = :p AND status = ANY(:f)"),
                    {"s": status, "p": payment_id, "f": list(from_statuses)})


def _expired(session: Session, payment_id: uuid.UUID) -> None:
    """The checkout closed unpaid. Never undoes a completed payment."""
    payment, booking = _lock_for_payment(session, payment_id)
    if payment is None or payment.status not in OPEN_STATUSES:
        return
    payment.status, payment.manage_token = "expired", None
    session.add(payment)
    session.flush()
    if booking is not None and booking.payment_status != "paid":
        vouchers.release_redemption(session, booking.id)
    audit.record_event(session, SYSTEM, "payment.checkout_expired", subject_type="payment", subject_id=payment.id)


def _failed(session: Session, payment_id: uuid.UUID, *, payment_ref: str | None, error: str | None,
            event_id: str) -> None:
    """A card was declined. The checkout stays open (the customer can try another card) until it expires."""
    payment, booking = _lock_for_payment(session, payment_id)
    if payment is None or payment.status not in ("pending", "processing", "failed"):
        return  # completed (a later attempt succeeded), expired or refunded: nothing to say
    payment.status = "failed"
    if payment_ref and not payment.gateway_payment_id:
        payment.gateway_payment_id = payment_ref
    payment.gateway_response = {**(payment.gateway_response or {}), "last_error": (error or "")[:300]}
    session.add(payment)
    session.flush()
    audit.record_event(session, SYSTEM, "payment.failed", subject_type="payment", subject_id=payment.id,
                       details={"error": (error or "")[:300], "event": event_id})
    retry = (booking_svc.manage_url(payment.manage_token) if payment.manage_token
             else notify.public_url("/packages" if payment.package_id else "/student"))
    held = None
    if booking is not None and booking.status == "held" and booking.hold_expires_at:
        held = au_when(booking.hold_expires_at)
    _message(session, payment, "payment_failed", {"retry_url": retry, "held_until": held, "error": error or None},
             key=str(payment.id))


def _complete(session: Session, payment_id: uuid.UUID, *, payment_ref: str | None, amount_cents: int | None,
              event_id: str) -> None:
    """Money arrived: record it once, then deliver what was paid for (or refund when we can't)."""
    payment, booking = _lock_for_payment(session, payment_id, revive=True)
    if payment is None:
        return
    if payment.status in PAID_STATUSES:
        if payment_ref and not payment.gateway_payment_id:
            payment.gateway_payment_id = payment_ref
            session.add(payment)
            session.flush()
        return  # already recorded (the other of checkout.session.completed / payment_intent.succeeded)
    now = _now(session)
    if amount_cents is not None and int(amount_cents) != payment.amount_cents:
        audit.record_event(session, SYSTEM, "payment.amount_mismatch", subject_type="payment", subject_id=payment.id,
                           severity="warning", details={"expected": payment.amount_cents, "paid": int(amount_cents)})
        payment.amount_cents = int(amount_cents)
    payment.status, payment.completed_at = "completed", now
    if payment_ref and not payment.gateway_payment_id:
        payment.gateway_payment_id = payment_ref
    token, payment.manage_token = payment.manage_token, None
    session.add(payment)
    session.flush()
    audit.record_event(session, SYSTEM, "payment.completed", subject_type="payment", subject_id=payment.id,
                       details={"amount_cents": payment.amount_cents, "gateway": payment.gateway, "event": event_id})
    if booking is not None:
        _deliver_booking(session, payment, booking, token)
    elif payment.package_id is not None:
        _deliver_package(session, payment, now)


def _deliver_booking(session: Session, payment: Payment, booking: Booking, token: str | None) -> None:
    now = _now(session)
    live_hold = booking.status == "held" and booking.hold_expires_at is not None and booking.hold_expires_at > now
    if booking.status == "confirmed":
        if booking.payment_status == "unpaid" or booking.payment_id == payment.id:
            _mark_booking_paid(session, booking, payment)
            _after_completed(session, payment)
        else:
            _refund_undeliverable(session, payment, booking, kind="duplicate",
                                  reason="This lesson had already been paid for.")
        return
    if not live_hold and booking.status in ("held", "expired"):
        live_hold = booking_svc.revive_lapsed_hold(session, booking)
        if live_hold:
            audit.record_event(session, SYSTEM, "booking.hold_revived", subject_type="booking", subject_id=booking.id,
                               details={"payment_id": str(payment.id)})
    if not live_hold:
        _refund_undeliverable(session, payment, booking, kind="lapsed_hold",
                              reason="The hold had lapsed and the time was no longer free when the payment arrived.")
        return
    booking_svc.confirm_booking(session, SYSTEM, booking.id, manage_token=token, payment_status="paid")
    session.refresh(booking)
    _mark_booking_paid(session, booking, payment)
    _after_completed(session, payment)


def _mark_booking_paid(session: Session, booking: Booking, payment: Payment) -> None:
    booking.payment_status, booking.payment_id = "paid", payment.id
    session.add(booking)
    session.flush()


def _amount_words(session: Session) -> str:
    """How a receipt qualifies an amount: GST is only mentioned by a GST-registered business."""
    return "AUD, GST included" if booking_svc.business_settings(session).gst_registered else "AUD, no GST"


def _after_completed(session: Session, payment: Payment) -> None:
    """The receipt message and the invoice, in the same transaction as the completion."""
    invoices.issue_invoice(session, payment.id)
    _message(session, payment, "payment_received", {
        "amount_words": _amount_words(session),
        "discount_display": aud(payment.discount_cents) if payment.discount_cents else None,
        "paid_on": au_when(payment.completed_at or _now(session)), "reference": payment.id.hex[:8].upper()})


def _deliver_package(session: Session, payment: Payment, now: datetime) -> None:
    package = session.get(Package, payment.package_id)
    sp = packages.create_student_package(session, package=package, student_id=payment.student_id,
                                         payment_id=payment.id, now=now)
    audit.record_event(session, SYSTEM, "package.purchased", subject_type="student_package", subject_id=sp.id,
                       details={"package": package.name, "payment_id": str(payment.id)})
    invoices.issue_invoice(session, payment.id)
    _message(session, payment, "package_purchased", {
        "package_name": package.name, "credits": sp.credits_total, "amount_words": _amount_words(session),
        "expires_on": au_date(sp.expires_at) if sp.expires_at else None, "book_url": notify.public_url("/book")})


def _refund_undeliverable(session: Session, payment: Payment, booking: Booking, *, kind: str, reason: str) -> None:
    """We took money for a lesson we can't give: refund it all and say so."""
    vouchers.release_redemption(session, booking.id)
    refundable = payment.amount_cents - payment.refund_amount_cents
    if refundable > 0:
        _refund_locked(session, SYSTEM, payment, booking, refundable, reason, kind=kind,
                       key=f"{kind}:{payment.id}", booking_status=False)
    _message(session, payment, "payment_refunded_lapsed_hold",
             {"when": au_when(booking.start_time), "book_url": notify.public_url("/book")})


# ─────────────────────────────────────────────────────────────────────────────
# Refunds
# ─────────────────────────────────────────────────────────────────────────────

def _gateway_for(payment: Payment):
    """The gateway that took this payment (a test-mode payment is refunded in test mode after going live)."""
    current = gateway()
    if payment.gateway in (None, current.name):
        return current
    if payment.gateway == "local":
        from nexdrive.adapters.payments import LocalGateway
        from nexdrive.settings import get_settings
        return LocalGateway(get_settings())
    raise InvalidState(f"This payment was taken through {payment.gateway}, which is not set up on this server.")


def _refund_locked(session: Session, actor: Actor, payment: Payment, booking: Booking | None, amount: int,
                   reason: str, *, kind: str, key: str, booking_status: bool = True) -> Refund:
    """Record a refund of ``amount`` of a locked payment; the gateway is asked after commit. Same key -> same refund.

    The refund is written ``pending`` and its amount reserved in the payment's totals in the
    caller's transaction; ``_send_refund_after_commit`` sends it once that transaction commits.
    A payment taken without a gateway has nothing to send: its refund is complete at once.
    """
    existing = session.exec(select(Refund).where(Refund.idempotency_key == key)).first()
    if existing is not None:
        return existing
    if payment.status not in PAID_STATUSES:
        raise InvalidState("Only a completed payment can be refunded.")
    refundable = payment.amount_cents - payment.refund_amount_cents
    if amount <= 0:
        raise ValidationFailed("Enter an amount above $0.00.", field="amount_cents")
    if amount > refundable:
        raise ValidationFailed(f"At most {aud(refundable)} of this payment can still be refunded.",
                               field="amount_cents", refundable_cents=refundable)
    status = "succeeded"
    if payment.gateway:
        if not payment.gateway_payment_id:
            raise InvalidState("This payment has no gateway reference to refund against.")
        _gateway_for(payment)  # refuses a gateway this server can't reach, before anything is written
        status = "pending"
    refund = Refund(payment_id=payment.id, amount_cents=amount, reason=reason, kind=kind,
                    idempotency_key=key, status=status, created_by=actor.user_id)
    session.add(refund)
    _apply_refund_totals(session, payment, booking, amount, reason, booking_status=booking_status)
    audit.record_event(session, actor, "payment.refunded", subject_type="payment", subject_id=payment.id,
                       details={"amount_cents": amount, "kind": kind, "reason": reason, "status": status})
    if status == "pending":
        _send_refund_after_commit(session, refund.id)
    return refund


# Sending refunds: never inside a use case's transaction.
RESEND_AFTER = timedelta(minutes=5)  # a pending refund untouched this long is sent again by the job
RESEND_WINDOW = timedelta(hours=23)  # Stripe remembers an idempotency key for 24 hours


def _send_refund_after_commit(session: Session, refund_id: uuid.UUID) -> None:
    """Send the refund once the caller's transaction commits (SQLAlchemy ``after_commit``).

    Works for every caller (the admin's refund, a cancellation or fee waiver through the
    ``booking.*`` events, a gateway event for a lapsed hold) without them knowing: the refund
    row is committed with their change, then sent with no transaction open. A rollback sends
    nothing (the row is gone with it); a crash before the hook runs leaves the row ``pending``
    for ``send_pending_refunds``.
    """
    from sqlalchemy import event

    if not session.info.get("refund_send_hooks"):
        event.listen(session, "after_commit", _run_refund_sends)
        event.listen(session, "after_rollback",
                     lambda s: None if s.in_nested_transaction() else s.info.pop("refund_sends", None))
        session.info["refund_send_hooks"] = True
    session.info.setdefault("refund_sends", []).append(refund_id)


def _run_refund_sends(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction (and its locks) is still open
    bind = session.get_bind()
    for refund_id in session.info.pop("refund_sends", None) or []:
        try:
            _send_refund(bind, refund_id)
        except Exception:  # never fail the caller's committed change; the job sends it again
            log.exception("refund %s: sending failed; the release_holds job will retry", refund_id)


def _send_refund(bind, refund_id: uuid.UUID, *, untouched_since: datetime | None = None) -> str:
    """Claim, call, record: three steps, none holding a lock while the gateway is called.

    The claim (a short transaction) touches the pending row, so the retry job leaves it alone
    for ``RESEND_AFTER``; the gateway is called under the refund's own idempotency key, so a
    second send is the same refund there. Returns 'sent', 'declined', 'error' or 'skipped'.
    """
    with Session(bind) as s, s.begin():
        claim = s.execute(sa.text(
            "UPDATE refunds SET updated_at = now() WHERE id = :r AND status = 'pending' "
            "AND gateway_refund_id IS NULL AND kind <> 'gateway' "
            "AND (CAST(:before AS timestamptz) IS NULL OR updated_at <= CAST(:before AS timestamptz)) "
            "RETURNING payment_id, amount_cents, idempotency_key, reason"),
            {"r": refund_id, "before": untouched_since}).first()
        if claim is None:
            return "skipped"  # already answered, or another sender has it
        payment = s.get(Payment, claim.payment_id)
        payment_ref = payment.gateway_payment_id
        try:
            gw, error = _gateway_for(payment), None
        except InvalidState as exc:
            gw, error = None, exc.message
    result, declined = None, None
    if gw is not None:
        try:
            result = gw.refund(payment_ref, claim.amount_cents, claim.idempotency_key, reason=claim.reason)
        except PaymentGatewayError as exc:
            if exc.details.get("declined"):
                declined = exc.message
            else:
                error = exc.message
        except Exception as exc:  # unknown: the refund may or may not exist at the gateway; resend the same key
            error = f"{exc.__class__.__name__}: {exc}"[:300]
    if result is not None and result.status == "failed":
        result, declined = None, "The payment provider declined the refund."
    with Session(bind) as s, s.begin():
        if result is None and declined is None:
            audit.record_event(s, SYSTEM, "payment.refund_send_failed", subject_type="payment",
                               subject_id=claim.payment_id, severity="warning",
                               details={"refund_id": str(refund_id), "error": error})
            return "error"
        _record_refund_result(s, refund_id, result=result, declined=declined)
    return "sent" if result is not None else "declined"


def _record_refund_result(session: Session, refund_id: uuid.UUID, *, result: Any = None,
                          declined: str | None = None) -> None:
    """The gateway's answer, in its own transaction (house lock order, then the refund row)."""
    payment_id = session.execute(sa.text("SELECT payment_id FROM refunds WHERE id = :r"), {"r": refund_id}).scalar()
    payment, booking = _lock_for_payment(session, payment_id)
    refund = session.exec(select(Refund).where(Refund.id == refund_id).with_for_update()).one()
    session.refresh(refund)
    if result is not None:
        twin = session.exec(select(Refund).where(Refund.gateway_refund_id == result.id, Refund.id != refund.id)).first()
        if twin is not None:  # a webhook recorded this very refund first: it is already counted there
            if refund.status == "pending":
                _release_refund(session, payment, booking, refund, "cancelled")
            return
        if refund.gateway_refund_id is None:
            refund.gateway_refund_id = result.id
        if refund.status == "pending":
            refund.status = result.status  # 'succeeded', or 'pending' until the gateway's refund.updated
        session.add(refund)
        session.flush()
        audit.record_event(session, SYSTEM, "payment.refund_sent", subject_type="payment", subject_id=payment.id,
                           details={"refund_id": str(refund.id), "gateway_refund_id": result.id,
                                    "status": refund.status})
        return
    if refund.status != "pending":
        return  # already settled (e.g. a refund.updated webhook got here first)
    _release_refund(session, payment, booking, refund, "failed")
    admin_alerts.alert_admins(
        session, key=f"refund_declined:{refund.id}", notification_type="refund_declined",
        data={"amount": aud(refund.amount_cents), "description": payment.description or "a payment",
              "reference": payment.id.hex[:8].upper(), "reason": refund.reason, "declined": declined},
        related_id=payment.id, template_data={"payment_id": str(payment.id), "refund_id": str(refund.id)})


def _release_refund(session: Session, payment: Payment, booking: Booking | None, refund: Refund,
                    status: str) -> None:
    """A refund that didn't happen: give its amount back to the payment's totals."""
    payment.refund_amount_cents = max(0, payment.refund_amount_cents - refund.amount_cents)
    payment.status = ("completed" if payment.refund_amount_cents == 0 else "partially_refunded")
    session.add(payment)
    if booking is not None and booking.payment_id == payment.id:
        booking.payment_status = "paid" if payment.refund_amount_cents == 0 else "partially_refunded"
        session.add(booking)
    refund.status = status
    session.add(refund)
    session.flush()
    audit.record_event(session, SYSTEM, "payment.refund_failed", subject_type="payment", subject_id=payment.id,
                       severity="warning", details={"refund_id": str(refund.id), "amount_cents": refund.amount_cents,
                                                   "status": status})


def send_pending_refunds(engine, now: datetime | None = None) -> int:
    """The retry half of sending refunds (run by the ``release_holds`` job): send again every
    ``pending`` refund the gateway never answered (a crash or an error after its commit), with the
    same idempotency key, so it is refunded exactly once. One older than ``RESEND_WINDOW`` is not
    sent blind (the gateway may have forgotten the key): the administrator is asked to check it.
    Returns how many the gateway answered.
    """
    with Session(engine) as s, s.begin():
        now = now or _now(s)
        base = ("FROM refunds WHERE status = 'pending' AND gateway_refund_id IS NULL AND kind <> 'gateway' "
                "AND updated_at <= :cutoff")
        params = {"cutoff": now - RESEND_AFTER, "oldest": now - RESEND_WINDOW}
        due = list(s.execute(sa.text(f"SELECT id {base} AND created_at > :oldest ORDER BY created_at LIMIT 100"),
                             params).scalars())
        for stuck in s.execute(sa.text(f"SELECT id, payment_id, amount_cents {base} AND created_at <= :oldest "
                                       "ORDER BY created_at LIMIT 20"), params).all():
            admin_alerts.alert_admins(
                s, key=f"refund_unsent:{stuck.id}", notification_type="refund_unsent",
                data={"amount": aud(stuck.amount_cents), "reference": stuck.payment_id.hex[:8].upper()},
                related_id=stuck.payment_id)
    answered = 0
    for refund_id in due:
        answered += _send_refund(engine, refund_id, untouched_since=now - RESEND_AFTER) in ("sent", "declined")
    return answered


def _apply_refund_totals(session: Session, payment: Payment, booking: Booking | None, amount: int, reason: str,
                         *, booking_status: bool = True) -> None:
    payment.refund_amount_cents += amount
    payment.refunded_at, payment.refund_reason = _now(session), reason
    payment.status = "refunded" if payment.refund_amount_cents >= payment.amount_cents else "partially_refunded"
    session.add(payment)
    session.flush()
    if booking_status and booking is not None and booking.payment_id == payment.id:
        booking.payment_status = "refunded" if payment.status == "refunded" else "partially_refunded"
        session.add(booking)
        session.flush()


def refund_payment(session: Session, actor: Actor, *, payment_id: uuid.UUID, amount_cents: int | None = None,
                   reason: str, idempotency_key: str | None = None) -> dict:
    """Admin refund, full (no amount) or partial. Never more than what is left; a retry doesn't double.

    Without an ``idempotency_key`` the refund is keyed on the payment's refunded total before it,
    so the same request retried (e.g. after a lost response) finds the refund it already made.
    """
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can refund payments.")
    reason = _clean_reason(reason)
    if amount_cents is not None and (not isinstance(amount_cents, int) or isinstance(amount_cents, bool)):
        raise ValidationFailed("Enter the amount in cents.", field="amount_cents")
    if idempotency_key is not None and not 8 <= len(idempotency_key) <= 100:
        raise ValidationFailed("The idempotency key must be 8 to 100 characters.", field="idempotency_key")
    payment, booking = _lock_for_payment(session, payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    if idempotency_key:
        key = f"admin:{payment.id}:{idempotency_key}"
    else:
        key = f"admin:{payment.id}:{payment.refund_amount_cents}:{amount_cents if amount_cents is not None else 'all'}"
    already = session.exec(select(Refund).where(Refund.idempotency_key == key)).first()
    if already is None:
        if payment.status == "refunded":
            raise InvalidState("This payment has already been refunded in full.")
        amount = amount_cents if amount_cents is not None else payment.amount_cents - payment.refund_amount_cents
        _refund_locked(session, actor, payment, booking, amount, reason, kind="admin", key=key)
        _refund_message(session, payment, amount, reason, key)
    return get_payment(session, actor, payment.id)


def _refund_message(session: Session, payment: Payment, amount: int, reason: str, key: str) -> None:
    _message(session, payment, "payment_refunded", {"refund_display": aud(amount), "reason": reason}, key=key)


def _sync_gateway_refunds(session: Session, payment_id: uuid.UUID, charge: dict) -> None:
    """``charge.refunded``: record refunds made in the gateway's own dashboard (ours are already here)."""
    payment, booking = _lock_for_payment(session, payment_id)
    if payment is None or payment.status not in PAID_STATUSES:
        return
    listed = ((charge.get("refunds") or {}).get("data")) or []
    for item in listed:
        if not item.get("id") or item.get("status") in ("failed", "canceled"):
            continue
        if session.exec(select(Refund).where(Refund.gateway_refund_id == item["id"])).first() is not None:
            continue
        ours = _our_refund(session, item)
        if ours is not None and ours.payment_id == payment.id and ours.status == "pending":
            ours.gateway_refund_id = item["id"]  # ours, reported before we recorded the gateway's answer
            ours.status = "succeeded" if item.get("status") == "succeeded" else ours.status
            session.add(ours)
            session.flush()
            continue
        amount = min(int(item.get("amount") or 0), payment.amount_cents - payment.refund_amount_cents)
        if amount > 0:
            _record_gateway_refund(session, payment, booking, amount, item["id"], item.get("status"))
    total = charge.get("amount_refunded")
    if total is not None and int(total) > payment.refund_amount_cents:
        amount = min(int(total), payment.amount_cents) - payment.refund_amount_cents
        if amount > 0:
            _record_gateway_refund(session, payment, booking, amount, None, "succeeded",
                                   key=f"gateway:{charge.get('id')}:{int(total)}")


def _our_refund(session: Session, obj: dict) -> Refund | None:
    """The refunds row a gateway refund object is about: by its id, else by the key we sent in its metadata."""
    if obj.get("id"):
        found = session.exec(select(Refund).where(Refund.gateway_refund_id == obj["id"])).first()
        if found is not None:
            return found
    key = (obj.get("metadata") or {}).get("refund_key")
    return session.exec(select(Refund).where(Refund.idempotency_key == key)).first() if key else None


def _record_gateway_refund(session: Session, payment: Payment, booking: Booking | None, amount: int,
                           gateway_refund_id: str | None, status: str | None, key: str | None = None) -> None:
    reason = "Refunded in the payment provider's dashboard"
    session.add(Refund(payment_id=payment.id, amount_cents=amount, reason=reason, kind="gateway",
                       gateway_refund_id=gateway_refund_id, idempotency_key=key or f"gateway:{gateway_refund_id}",
                       status="pending" if status == "pending" else "succeeded"))
    _apply_refund_totals(session, payment, booking, amount, reason)
    audit.record_event(session, SYSTEM, "payment.refunded", subject_type="payment", subject_id=payment.id,
                       details={"amount_cents": amount, "kind": "gateway", "gateway_refund_id": gateway_refund_id})


def _refund_updated(session: Session, obj: dict) -> bool:
    """A refund's status changed at the gateway; a failed one gives the amount back to the totals."""
    refund = _our_refund(session, obj)
    if refund is None:
        return False
    payment, booking = _lock_for_payment(session, refund.payment_id)
    session.refresh(refund)
    status = {"succeeded": "succeeded", "pending": "pending", "failed": "failed", "canceled": "cancelled"}.get(
        obj.get("status"), refund.status)
    if refund.gateway_refund_id is None and obj.get("id"):
        refund.gateway_refund_id = obj["id"]  # the webhook came before our own record of the answer
    if status in ("failed", "cancelled") and refund.status in ("pending", "succeeded"):
        _release_refund(session, payment, booking, refund, status)
        return True
    refund.status = status
    session.add(refund)
    session.flush()
    return True


# ─────────────────────────────────────────────────────────────────────────────
# Hooks from booking: cancellation, fee waived, unpaid holds
# ─────────────────────────────────────────────────────────────────────────────

@events.subscribe("booking.cancelled")
def settle_cancellation(session: Session, actor: Actor, booking: Booking) -> dict:
    """After ``booking.cancel_booking``: close an open checkout, then refund / return what the policy says.

    In time (no fee): full refund, package credit and voucher use given back. Late: the fee
    (``bookings.cancellation_fee_cents``) is kept from the payment (the rest refunded) and a
    package credit stays used. Called in the cancellation's transaction (booking row locked).
    """
    outcome = {"refunded_cents": 0, "credit_returned": False, "voucher_released": False}
    open_payment = _open_payment(session, booking.id)
    if open_payment is not None:
        _close_checkout(session, open_payment)
    free = booking.cancellation_fee_cents == 0
    if free:
        outcome["credit_returned"] = packages.return_credit(session, actor, booking=booking, reason="cancelled in time")
    outcome["refunded_cents"] = _refund_to_policy(session, actor, booking, kind="cancellation",
                                                  key=f"cancellation:{booking.id}")
    if free:
        outcome["voucher_released"] = bool(vouchers.release_redemption(session, booking.id))
    return outcome


@events.subscribe("booking.fee_waived")
def settle_fee_waiver(session: Session, actor: Actor, booking: Booking) -> dict:
    """After a late fee is waived: refund the fee that was kept, or give the package credit back."""
    credit = packages.return_credit(session, actor, booking=booking, reason="late fee waived")
    refunded = _refund_to_policy(session, actor, booking, kind="fee_waived", key=f"fee_waived:{booking.id}")
    return {"refunded_cents": refunded, "credit_returned": credit}


def _refund_to_policy(session: Session, actor: Actor, booking: Booking, *, kind: str, key: str) -> int:
    if booking.payment_id is None:
        return 0
    payment = _lock_payment(session, booking.payment_id)
    if payment is None or payment.status not in PAID_STATUSES:
        return 0
    keep = min(booking.cancellation_fee_cents, payment.amount_cents)
    amount = (payment.amount_cents - keep) - payment.refund_amount_cents
    if amount <= 0:
        return 0
    fee_note = f" ({aud(keep)} late-cancellation fee kept)" if keep else ""
    reason = ("Lesson cancelled" + fee_note) if kind == "cancellation" else "Late-cancellation fee waived"
    _refund_locked(session, actor, payment, booking, amount, reason, kind=kind, key=key)
    _refund_message(session, payment, amount, reason, key)
    return amount


def expire_stale_checkouts(session: Session, now: datetime | None = None) -> int:
    """Close checkouts whose time is up (or whose hold is about to lapse) at the gateway and here.

    Run every few minutes by the scheduler, before holds are released: a session that is
    still open when its hold lapses could otherwise be paid for a slot someone else takes.
    """
    now = now or _now(session)
    ids = list(session.execute(sa.text("""
        SELECT p.id FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id
        WHERE p.status IN ('pending','processing','failed') AND p.gateway_checkout_id IS NOT NULL
          AND (p.checkout_expires_at <= :now
               OR (b.status = 'held' AND b.hold_expires_at <= CAST(:now AS timestamptz) + interval '2 minutes'))
        ORDER BY p.created_at LIMIT 200"""), {"now": now}).scalars())
    closed = 0
    for payment_id in ids:
        payment, _booking = _lock_for_payment(session, payment_id)
        if payment is not None and payment.status in OPEN_STATUSES:
            _close_checkout(session, payment)
            closed += 1
    return closed


# ─────────────────────────────────────────────────────────────────────────────
# Reading payments
# ─────────────────────────────────────────────────────────────────────────────

def _may_see(session: Session, actor: Actor, payment: Payment) -> bool:
    return access.may_see(session, actor, student_id=payment.student_id, resource="payments")


def _student_name(session: Session, student_id: uuid.UUID | None, contact_id: uuid.UUID | None) -> str:
    if student_id:
        name = session.execute(sa.text(
            "SELECT p.first_name || ' ' || p.last_name FROM students s JOIN profiles p ON p.id = s.profile_id "
            "WHERE s.id = :s"), {"s": student_id}).scalar()
        if name:
            return name
    if contact_id:
        return session.execute(sa.text(
            "SELECT trim(coalesce(first_name,'') || ' ' || coalesce(last_name,'')) FROM contacts WHERE id = :c"),
            {"c": contact_id}).scalar() or ""
    return ""


def payment_view(session: Session, actor: Actor, payment: Payment) -> dict:
    """Plain data for pages and the API; gateway internals for the admin only."""
    invoice = session.exec(select(Invoice.id, Invoice.invoice_number).where(Invoice.payment_id == payment.id)).first()
    refunds = session.exec(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)).all()
    view = {
        "id": str(payment.id), "reference": payment.id.hex[:8].upper(), "status": payment.status,
        "status_label": STATUS_LABELS.get(payment.status, payment.status.title()),
        "amount_cents": payment.amount_cents, "amount_display": aud(payment.amount_cents),
        "discount_cents": payment.discount_cents,
        "discount_display": aud(payment.discount_cents) if payment.discount_cents else "",
        "refunded_cents": payment.refund_amount_cents,
        "refunded_display": aud(payment.refund_amount_cents) if payment.refund_amount_cents else "",
        "refundable_cents": (payment.amount_cents - payment.refund_amount_cents
                             if payment.status in PAID_STATUSES else 0),
        "net_cents": (payment.amount_cents - payment.refund_amount_cents) if payment.status in PAID_STATUSES else 0,
        "currency": payment.currency, "method": payment.payment_method, "description": payment.description or "",
        "test_mode": payment.gateway == "local",
        "created_at": payment.created_at, "created_display": au_when(payment.created_at),
        "completed_at": payment.completed_at,
        "completed_display": au_when(payment.completed_at) if payment.completed_at else "",
        "refunded_at": payment.refunded_at, "refund_reason": payment.refund_reason or "",
        "booking_id": str(payment.booking_id) if payment.booking_id else None,
        "package_id": str(payment.package_id) if payment.package_id else None,
        "student_id": str(payment.student_id) if payment.student_id else None,
        "payer_name": _student_name(session, payment.student_id, payment.contact_id),
        "invoice_id": str(invoice[0]) if invoice else None, "invoice_number": invoice[1] if invoice else None,
        "refunds": [{"id": str(r.id), "amount_cents": r.amount_cents, "amount_display": aud(r.amount_cents),
                     "reason": r.reason, "kind": r.kind, "status": r.status, "created_at": r.created_at,
                     "created_display": au_when(r.created_at)} for r in refunds],
    }
    if actor.sees_everything:
        view.update({"gateway": payment.gateway, "gateway_payment_id": payment.gateway_payment_id,
                     "gateway_checkout_id": payment.gateway_checkout_id, "contact_id":
                     str(payment.contact_id) if payment.contact_id else None})
        for r, src in zip(view["refunds"], refunds):
            r["gateway_refund_id"] = src.gateway_refund_id
    return view


def get_payment(session: Session, actor: Actor, payment_id: uuid.UUID) -> dict:
    access.require_signed_in(actor)
    payment = session.get(Payment, payment_id)
    access.require_visible(actor, payment, payment is not None and _may_see(session, actor, payment), "payment")
    return payment_view(session, actor, payment)


def list_payments(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None, status: str | None = None,
                  limit: int = 50, cursor: str | None = None) -> dict:
    """Newest first. Admin: all; student: own; parent: learners who let them see payments; cursor paging."""
    access.require_signed_in(actor)
    if actor.is_instructor:
        raise Forbidden("Payments are visible to the administrator and the student only.")
    limit = max(1, min(int(limit or 50), 200))
    query = select(Payment).where(Payment.status != "expired") if status is None else select(Payment)
    if status is not None:
        if status not in STATUS_LABELS:
            raise ValidationFailed("Unknown payment status.", field="status")
        query = query.where(Payment.status == status)
    if student_id is not None:
        access.require_student(session, actor, student_id, "payments")
        query = query.where(Payment.student_id == student_id)
    query = access.scope(session, actor, query, student_col=Payment.student_id, resource="payments", what="payments")
    if cursor:
        try:
            at, _, pid = cursor.partition("|")
            at_dt, pid_uuid = datetime.fromisoformat(at), uuid.UUID(pid)
        except ValueError:
            raise ValidationFailed("That page link is not valid.", field="cursor") from None
        query = query.where(sa.tuple_(Payment.created_at, Payment.id) < sa.tuple_(sa.literal(at_dt),
                                                                                 sa.literal(pid_uuid)))
    rows = session.exec(query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [payment_view(session, actor, p) for p in rows],
            "next_cursor": f"{rows[-1].created_at.isoformat()}|{rows[-1].id}" if more else None}


def payment_result(session: Session, actor: Actor, *, checkout_id: str, manage_token: str | None = None) -> dict:
    """What the result page shows after the gateway sends the customer back."""
    checkout_id = (checkout_id or "").strip()
    payment = session.exec(select(Payment).where(Payment.gateway_checkout_id == checkout_id)).first() \
        if checkout_id and len(checkout_id) <= 200 else None
    booking = session.get(Booking, payment.booking_id) if payment and payment.booking_id else None
    allowed = payment is not None and (
        (booking is not None and manage_token and booking.manage_token_hash == hash_token(manage_token))
        or (not actor.is_visitor and actor.user_id is not None and _may_see(session, actor, payment))
        or (booking is not None and not actor.is_visitor and booking_svc.may_view(session, actor, booking, None)))
    if not allowed:
        raise NotFound("We couldn't find that payment. If you were charged, your receipt is on its way by email.")
    status = payment.status
    messages = {
        "completed": "Payment received. Thank you!",
        "pending": "We're waiting for the payment provider to confirm your payment. This page updates shortly.",
        "processing": "Your payment is being processed. We'll email you when it's confirmed.",
        "failed": "Your card payment didn't go through. You can try again.",
        "expired": "This checkout has closed without a payment. No money was taken.",
        "refunded": "This payment has been refunded.",
        "partially_refunded": "Part of this payment has been refunded.",
    }
    if booking is not None and status == "refunded" and booking.status != "confirmed":
        messages["refunded"] = ("Your payment arrived after the time was taken, so we have refunded it in full. "
                                "Please choose another time.")
    package_info = None
    if payment.package_id:
        package = session.get(Package, payment.package_id)
        sp = session.exec(select(StudentPackage).where(StudentPackage.payment_id == payment.id)).first()
        package_info = {"id": str(package.id), "name": package.name, "credits_total": package.total_credits,
                        "student_package_id": str(sp.id) if sp else None,
                        "credits_left": (sp.credits_total - sp.credits_used) if sp else None,
                        "expires_display": (au_date(sp.expires_at) if sp and sp.expires_at else
                                            ("No expiry" if sp else ""))}
    invoice = session.exec(select(Invoice.id).where(Invoice.payment_id == payment.id)).first()
    return {
        "checkout_id": checkout_id, "payment_id": str(payment.id), "status": status,
        "status_label": STATUS_LABELS.get(status, status.title()), "message": messages.get(status, ""),
        "paid": status in PAID_STATUSES, "final": status not in ("pending", "processing"),
        "amount_cents": payment.amount_cents, "amount_display": aud(payment.amount_cents),
        "discount_display": aud(payment.discount_cents) if payment.discount_cents else "",
        "refunded_display": aud(payment.refund_amount_cents) if payment.refund_amount_cents else "",
        "description": payment.description or "", "test_mode": payment.gateway == "local",
        "booking": booking_svc.booking_summary(session, booking) if booking is not None else None,
        "invoice_id": str(invoice) if invoice else None, "package": package_info,
        "retry_url": (notify.public_url(f"/booking/manage?token={manage_token}") if manage_token
                      else None) if status in ("failed", "expired") else None,
    }


def revenue_summary(session: Session, actor: Actor, *, days: int = 30) -> dict:
    """Admin: money in, money back, net, per Canberra day (for a chart) and per method, over the last ``days``."""
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can see revenue.")
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationFailed("Choose between 1 and 366 days.", field="days")
    today = _now(session).astimezone(BUSINESS_TZ).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=BUSINESS_TZ).astimezone(UTC)
    paid = session.execute(sa.text("""
        SELECT (completed_at AT TIME ZONE 'Australia/Sydney')::date AS day, payment_method AS method,
               gateway = 'local' AS test, count(*) AS n, sum(amount_cents) AS gross
        FROM payments WHERE completed_at >= :since AND status IN ('completed','partially_refunded','refunded')
        GROUP BY 1, 2, 3"""), {"since": since}).all()
    back = session.execute(sa.text("""
        SELECT (r.created_at AT TIME ZONE 'Australia/Sydney')::date AS day, sum(r.amount_cents) AS refunded
        FROM refunds r WHERE r.created_at >= :since AND r.status IN ('succeeded','pending') GROUP BY 1"""),
        {"since": since}).all()
    by_day = {first + timedelta(days=i): {"gross_cents": 0, "refunded_cents": 0, "count": 0} for i in range(days)}
    by_method: dict[str, dict] = {}
    test_cents = 0
    for row in paid:
        day = by_day.setdefault(row.day, {"gross_cents": 0, "refunded_cents": 0, "count": 0})
        day["gross_cents"] += int(row.gross or 0)
        day["count"] += int(row.n)
        m = by_method.setdefault(row.method, {"method": row.method, "count": 0, "gross_cents": 0})
        m["count"] += int(row.n)
        m["gross_cents"] += int(row.gross or 0)
        if row.test:
            test_cents += int(row.gross or 0)
    for row in back:
        by_day.setdefault(row.day, {"gross_cents": 0, "refunded_cents": 0, "count": 0})["refunded_cents"] += \
            int(row.refunded or 0)
    gross = sum(d["gross_cents"] for d in by_day.values())
    refunded = sum(d["refunded_cents"] for d in by_day.values())
    days_list = [{"date": d.isoformat(), "label": au_date(d, weekday=False, year=False), **v,
                  "net_cents": v["gross_cents"] - v["refunded_cents"]} for d, v in sorted(by_day.items())]
    methods = sorted(by_method.values(), key=lambda m: -m["gross_cents"])
    for m in methods:
        m["gross_display"] = aud(m["gross_cents"])
    return {
        "days": days, "from": first.isoformat(), "to": today.isoformat(),
        "gross_cents": gross, "refunded_cents": refunded, "net_cents": gross - refunded,
        "gross_display": aud(gross), "refunded_display": aud(refunded), "net_display": aud(gross - refunded),
        "count": sum(d["count"] for d in by_day.values()), "test_mode_cents": test_cents,
        "by_day": days_list, "by_method": methods,
    }


def payment_options(session: Session, actor: Actor, *, booking_id: uuid.UUID, manage_token: str | None = None) -> dict:
    """What the pay step can offer for this booking: card, package (with credits left), pay later."""
    booking = booking_svc.booking_for(session, actor, booking_id, manage_token, manage=True)
    settings = booking_svc.business_settings(session)
    package = packages.usable_package_for(session, booking.student_id, booking.service_id)
    return {"amount_cents": booking.amount_cents, "amount_display": aud(booking.amount_cents),
            "allow_pay_later": settings.allow_pay_later, "package": package,
            "test_mode": gateway().test_mode, "gateway": gateway().name,
            "payment_status": booking.payment_status, "status": booking.status}


__all__ = [
    "CheckoutStart", "expire_stale_checkouts", "get_payment", "handle_gateway_event", "list_payments",
    "payment_options", "payment_result", "refund_payment", "revenue_summary", "send_pending_refunds",
    "settle_cancellation", "settle_fee_waiver", "start_booking_checkout", "start_package_checkout",
]
