"""Refunds call the gateway only after the refund is committed, with no row lock held.

Every refund (admin, cancellation, late fee waived, a payment for a lapsed hold) is first recorded
as a ``pending`` refunds row that reserves its amount in ``payments.refund_amount_cents``; the
gateway is called after the commit, under the refund's idempotency key, and the result recorded
in a new short transaction. A crash in between leaves the pending row, which the
``release_holds`` job sends again with the same key; a declined refund gives the amount back.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jobs import tasks
from nexdrive.adapters import override
from nexdrive.adapters.payments import LocalGateway, RefundResult, StripeGateway
from nexdrive.db import session_scope
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.money import payments
from nexdrive.services.scheduling import booking
from nexdrive.settings import Settings
from tests.payment_helpers import admin, hold, lapse_hold, rows, scalar, school
from webhooks.stripe.tests.stripe_helpers import API_KEY, WEBHOOK_SECRET, StripeStub


class FakeGateway(LocalGateway):
    """The local test-mode gateway with a refund that behaves like Stripe's (the same key is the
    same refund) and, when called, checks from a separate connection that nothing is locked."""

    def __init__(self, engine, *, crash: str | None = None, decline: bool = False, pay_at_once: bool = True):
        super().__init__(Settings(stripe_secret_key=""))
        self.engine = engine
        self.crash = crash  # None | "before" (nothing reached the gateway) | "after" (the answer was lost)
        self.decline = decline
        self.pay_at_once = pay_at_once
        self.calls: list[dict] = []
        self.made: dict[str, RefundResult] = {}  # the refunds that exist at the gateway, by idempotency key

    def _free(self, payment_ref: str) -> dict[str, bool]:
        checks = {
            "payment": "SELECT id FROM payments WHERE gateway_payment_id = :ref FOR UPDATE NOWAIT",
            "booking": "SELECT b.id FROM bookings b JOIN payments p ON p.booking_id = b.id "
                       "WHERE p.gateway_payment_id = :ref FOR UPDATE OF b NOWAIT",
            "audit head": "SELECT chain FROM chain_heads FOR UPDATE NOWAIT",
        }
        free = {}
        with self.engine.connect() as conn:
            for name, sql in checks.items():
                try:
                    with conn.begin():
                        conn.execute(sa.text(sql), {"ref": payment_ref}).all()
                    free[name] = True
                except sa.exc.OperationalError:
                    free[name] = False
        return free

    def refund(self, payment_ref, amount_cents, idempotency_key, *, reason=None):
        self.calls.append({"key": idempotency_key, "amount": amount_cents, "free": self._free(payment_ref)})
        if self.crash == "before":
            self.crash = None
            raise ConnectionError("connection reset before the request was sent")
        if self.decline:
            return RefundResult(id=f"re_declined_{len(self.calls)}", status="failed", amount_cents=amount_cents)
        result = self.made.setdefault(idempotency_key, RefundResult(
            id=f"re_fake_{len(self.made) + 1}", status="succeeded", amount_cents=amount_cents))
        if self.crash == "after":
            self.crash = None
            raise ConnectionError("the refund was made but the answer was lost")
        return result

    def immediate_events(self, checkout):
        return super().immediate_events(checkout) if self.pay_at_once else []


@pytest.fixture
def sch(engine):
    return school(engine)


@pytest.fixture
def fake(engine):
    gw = FakeGateway(engine)
    override("payments", gw)
    yield gw
    override("payments", None)


def paid(engine, sch, start="10:30", n=0):
    booking_id, token = hold(engine, sch, start, n=n)
    with session_scope(engine) as s:
        started = payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token)
    return booking_id, token, uuid.UUID(started.payment_id)


def late_policy(engine):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET cancellation_notice_hours = 1440"))


def refund_state(engine) -> list[tuple]:
    return [tuple(r) for r in rows(engine, "SELECT kind, amount_cents, status, gateway_refund_id FROM refunds "
                                           "ORDER BY created_at")]


def _admin_refund(engine, sch, fake):
    _, _, payment_id = paid(engine, sch)
    with session_scope(engine) as s:
        payments.refund_payment(s, admin(engine), payment_id=payment_id, amount_cents=3000, reason="Short lesson")
    return [("admin", 3000)]


def _cancellation(engine, sch, fake):
    booking_id, token, _ = paid(engine, sch)
    with session_scope(engine) as s:
        booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    return [("cancellation", sch["price"])]


def _fee_waived(engine, sch, fake):
    booking_id, token, _ = paid(engine, sch)
    late_policy(engine)
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    with session_scope(engine) as s:
        booking.waive_cancellation_fee(s, admin(engine), booking_id)
    keep = outcome.fee_cents
    return [("cancellation", sch["price"] - keep), ("fee_waived", keep)]


def _lapsed_hold(engine, sch, fake):
    fake.pay_at_once = False  # paid later, like Stripe's webhook
    booking_id, token, payment_id = paid(engine, sch)
    checkout_id = scalar(engine, "SELECT gateway_checkout_id FROM payments WHERE id = :p", p=payment_id)
    lapse_hold(engine, booking_id)
    hold(engine, sch, n=7)  # someone else takes the time
    ev = {"id": f"evt_{uuid.uuid4().hex[:20]}", "type": "checkout.session.completed",
          "data": {"object": {"id": checkout_id, "object": "checkout.session", "payment_status": "paid",
                              "payment_intent": f"pi_late_{uuid.uuid4().hex[:12]}", "amount_total": sch["price"],
                              "metadata": {"payment_id": str(payment_id), "booking_id": str(booking_id)}}}}
    with session_scope(engine) as s:
        assert payments.handle_gateway_event(s, ev, provider="local") == "processed"
    return [("lapsed_hold", sch["price"])]


@pytest.mark.parametrize("path", [_admin_refund, _cancellation, _fee_waived, _lapsed_hold],
                         ids=["admin", "cancellation", "fee_waived", "lapsed_hold"])
def test_the_gateway_is_called_after_commit_with_no_row_locked(engine, sch, fake, path):
    expected = path(engine, sch, fake)
    assert [(c["amount"]) for c in fake.calls] == [amount for _, amount in expected]
    for call in fake.calls:
        assert call["free"] == {"payment": True, "booking": True, "audit head": True}, call
    state = refund_state(engine)
    assert [(k, a, st) for k, a, st, _ in state] == [(k, a, "succeeded") for k, a in expected]
    assert [g for *_, g in state] == [fake.made[c["key"]].id for c in fake.calls]


def test_a_cancellation_that_rolls_back_sends_no_refund(engine, sch, fake):
    booking_id, token, _ = paid(engine, sch)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
        raise RuntimeError("something later in the same use case failed")
    assert fake.calls == [] and refund_state(engine) == []
    assert scalar(engine, "SELECT status FROM bookings WHERE id = :b", b=booking_id) == "confirmed"
    assert scalar(engine, "SELECT refund_amount_cents FROM payments") == 0


@pytest.mark.parametrize("crash", ["before", "after"])
def test_a_crash_between_commit_and_gateway_is_sent_again_by_the_job_and_refunded_once(engine, sch, crash):
    gw = FakeGateway(engine, crash=crash)
    override("payments", gw)
    try:
        _, _, payment_id = paid(engine, sch)
        with session_scope(engine) as s:
            payments.refund_payment(s, admin(engine), payment_id=payment_id, amount_cents=3000, reason="Short")
        # The refund is committed as pending, its amount reserved: nobody can refund past it meanwhile.
        [(kind, amount, status, gateway_id)] = refund_state(engine)
        assert (kind, amount, status, gateway_id) == ("admin", 3000, "pending", None)
        assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
            ("partially_refunded", 3000)]
        key = scalar(engine, "SELECT idempotency_key FROM refunds")
        touched = scalar(engine, "SELECT updated_at FROM refunds")
        # A job run right away leaves it alone (the first sender may still be waiting for the gateway).
        tasks.release_holds(engine, touched + timedelta(minutes=1))
        assert len(gw.calls) == 1
        result = tasks.release_holds(engine, touched + timedelta(minutes=10))
        assert result["refunds_sent"] == 1
        tasks.release_holds(engine, touched + timedelta(minutes=20))  # and again: nothing more
        assert [c["key"] for c in gw.calls] == [key, key]
        assert all(all(c["free"].values()) for c in gw.calls)
        assert len(gw.made) == 1  # one refund at the gateway
        assert refund_state(engine) == [("admin", 3000, "succeeded", gw.made[key].id)]
        assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
            ("partially_refunded", 3000)]
        assert scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'payment.refund_send_failed'") == 1
    finally:
        override("payments", None)


def test_a_declined_refund_releases_the_reservation_and_alerts_the_admin(engine, sch, fake):
    booking_id, _, payment_id = paid(engine, sch)
    boss = admin(engine)
    fake.decline = True
    with session_scope(engine) as s:
        payments.refund_payment(s, boss, payment_id=payment_id, amount_cents=3000, reason="Short lesson")
    assert [(k, a, st) for k, a, st, _ in refund_state(engine)] == [("admin", 3000, "failed")]
    assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [("completed", 0)]
    assert scalar(engine, "SELECT payment_status FROM bookings WHERE id = :b", b=booking_id) == "paid"
    alert = rows(engine, "SELECT recipient, subject, body FROM outbox_messages WHERE template = 'refund_declined'")
    assert len(alert) == 1 and "$30.00" in alert[0].subject and "declined" in alert[0].body
    assert scalar(engine, "SELECT count(*) FROM notifications WHERE notification_type = 'refund_declined' "
                          "AND recipient_id = :u", u=boss.user_id) == 1
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'payment.refund_failed'") == 1
    # The whole amount can be refunded again: the reservation is gone.
    fake.decline = False
    with session_scope(engine) as s:
        view = payments.refund_payment(s, boss, payment_id=payment_id, reason="Refund in full")
    assert view["refunded_cents"] == sch["price"]
    assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
        ("refunded", sch["price"])]


def test_stripe_refusing_a_refund_releases_the_reservation(engine, sch):
    with StripeStub() as stub:
        local = FakeGateway(engine, pay_at_once=True)
        override("payments", local)  # paid through the local gateway, refunded through Stripe below
        try:
            _, _, payment_id = paid(engine, sch)
            with session_scope(engine) as s:
                s.execute(sa.text("UPDATE payments SET gateway = 'stripe'"))
            override("payments", StripeGateway(Settings(stripe_secret_key=API_KEY,
                                                        stripe_webhook_secret=WEBHOOK_SECRET), api_base=stub.url))
            stub.fail_refunds = True  # 402 card_error: a definite refusal
            with session_scope(engine) as s:
                payments.refund_payment(s, admin(engine), payment_id=payment_id, amount_cents=2000, reason="Late")
            assert len(stub.calls("/v1/refunds")) == 1
            assert [(k, a, st) for k, a, st, _ in refund_state(engine)] == [("admin", 2000, "failed")]
            assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
                ("completed", 0)]
            assert stub.calls("/v1/refunds")[0]["form"]["metadata[refund_key]"] == scalar(
                engine, "SELECT idempotency_key FROM refunds")
        finally:
            override("payments", None)


class ExpiryWatch(FakeGateway):
    def __init__(self, engine):
        super().__init__(engine, pay_at_once=False)
        self.expired: list[tuple[str, dict]] = []

    def expire_checkout(self, checkout_id):
        ref = checkout_id  # the checkout's payment has no intent yet: check by checkout id
        free = {}
        with self.engine.connect() as conn:
            try:
                with conn.begin():
                    conn.execute(sa.text("SELECT id FROM payments WHERE gateway_checkout_id = :c FOR UPDATE NOWAIT"),
                                 {"c": ref}).all()
                free["payment"] = True
            except sa.exc.OperationalError:
                free["payment"] = False
        self.expired.append((checkout_id, free))
        return super().expire_checkout(checkout_id)


def test_a_savepoint_released_mid_transaction_does_not_close_the_checkout_early(engine, sch):
    """The after-commit hooks ignore a savepoint being released (queuing a message uses one):
    switching an open card checkout to "pay later" closes the checkout at the gateway only after
    that change commits, never while its rows are locked, and not at all if it rolls back."""
    gw = ExpiryWatch(engine)
    override("payments", gw)
    try:
        with session_scope(engine) as s:
            s.execute(sa.text("UPDATE business_settings SET allow_pay_later = true"))
        booking_id, token = hold(engine, sch)
        with session_scope(engine) as s:
            payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token)
        with pytest.raises(RuntimeError), session_scope(engine) as s:
            payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token, pay_later=True)
            raise RuntimeError("something later in the same use case failed")
        assert gw.expired == []
        assert scalar(engine, "SELECT status FROM payments") == "pending"
        with session_scope(engine) as s:
            payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token, pay_later=True)
        [(checkout_id, free)] = gw.expired
        assert free == {"payment": True} and scalar(engine, "SELECT status FROM payments") == "expired"
        assert scalar(engine, "SELECT status FROM bookings WHERE id = :b", b=booking_id) == "confirmed"
    finally:
        override("payments", None)
