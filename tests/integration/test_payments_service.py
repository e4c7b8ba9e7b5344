"""Payments, packages, vouchers and refunds through the services, on the real database, offline gateway.

The offline (local, test-mode) gateway completes a card payment at once by handing back the
same ``checkout.session.completed`` event Stripe would send; it goes through the same
``handle_gateway_event`` as the webhook.
"""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.adapters import override
from nexdrive.adapters.payments import LocalGateway
from nexdrive.db import session_scope
from nexdrive.models import Instructor, Parent, ParentStudentLink
from nexdrive.services.scheduling import booking
from nexdrive.services.money import packages
from nexdrive.services.money import payments
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.errors import (
    Forbidden,
    InvalidState,
    NoCreditsLeft,
    NotFound,
    ServiceError,
    ValidationFailed,
    VoucherRefused,
)
from nexdrive.settings import Settings
from tests.booking_helpers import weekday_ahead
from tests.factories import make_user
from tests.payment_helpers import (
    TIMES,
    admin,
    give_package,
    hold,
    make_voucher,
    rows,
    scalar,
    school,
    student,
)

WEDNESDAY = weekday_ahead(2)


@pytest.fixture(autouse=True)
def local_gateway():
    override("payments", LocalGateway(Settings(stripe_secret_key="")))
    yield
    override("payments", None)


@pytest.fixture
def sch(engine):
    return school(engine)


def pay(engine, booking_id, token=None, actor=VISITOR, **kw) -> payments.CheckoutStart:
    with session_scope(engine) as s:
        return payments.start_booking_checkout(s, actor, booking_id=booking_id, manage_token=token, **kw)


def paid_booking(engine, sch, start="10:30", n=0, **kw):
    booking_id, token = hold(engine, sch, start, n=n)
    return booking_id, token, pay(engine, booking_id, token, **kw)


def snapshot(engine) -> dict:
    """Every table a payment can touch, to show a refused request changed nothing."""
    with session_scope(engine) as s:
        out = {}
        for table in ("bookings", "payments", "refunds", "vouchers", "voucher_redemptions", "student_packages",
                      "outbox_messages", "webhook_events"):
            out[table] = s.execute(sa.text(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                           f"FROM {table} t")).scalar()
        return out


def late_policy(engine, hours: int = 24 * 60) -> None:
    """Make every test lesson (weeks ahead) a late cancellation: the fee is $42.50 (reference data)."""
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET cancellation_notice_hours = :h"), {"h": hours})


# ─────────────────────────────────────────────────────────────────────────────
# Paying for a lesson
# ─────────────────────────────────────────────────────────────────────────────

def test_pay_now_offline_completes_through_the_gateway_event_path(engine, sch):
    booking_id, token, start = paid_booking(engine, sch)
    assert start.covered_by == "card" and start.test_mode and start.amount_cents == sch["price"]
    assert start.redirect_url == f"/pay/result?checkout={start.checkout_id}&token={token}"
    assert "no money was taken" in start.message
    assert [tuple(r) for r in rows(engine, "SELECT status, payment_status FROM bookings")] == [("confirmed", "paid")]
    assert [tuple(r) for r in rows(engine, "SELECT provider, event_type, status FROM webhook_events")] == [
        ("local", "checkout.session.completed", "processed")]
    with session_scope(engine) as s:
        result = payments.payment_result(s, VISITOR, checkout_id=start.checkout_id, manage_token=token)
        assert result["status"] == "completed" and result["paid"] and result["test_mode"]
        assert result["amount_display"] == "$85.00" and result["booking"]["status"] == "confirmed"
        with pytest.raises(NotFound):  # the checkout id alone doesn't show a stranger the booking
            payments.payment_result(s, VISITOR, checkout_id=start.checkout_id)
    email = scalar(engine, "SELECT body FROM outbox_messages WHERE template = 'payment_received'")
    assert "NexDrive Academy has received your payment" in email and "Test mode" in email
    # Asking to pay again changes nothing.
    again = pay(engine, booking_id, token)
    assert again.payment_id == start.payment_id and scalar(engine, "SELECT count(*) FROM payments") == 1


def test_pay_later_where_the_school_allows_it(engine, sch):
    booking_id, token = hold(engine, sch)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET allow_pay_later = false"))
    before = snapshot(engine)
    with pytest.raises(ValidationFailed) as err:
        pay(engine, booking_id, token, pay_later=True)
    assert err.value.details["field"] == "pay_later" and snapshot(engine) == before
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET allow_pay_later = true"))
    start = pay(engine, booking_id, token, pay_later=True)
    assert start.covered_by == "pay_later" and start.payment_id is None
    assert start.redirect_url == f"/book/confirmed?token={token}"
    assert [tuple(r) for r in rows(engine, "SELECT status, payment_status FROM bookings")] == [("confirmed", "unpaid")]
    # Paying online later still works for the confirmed lesson.
    paid = pay(engine, booking_id, token)
    assert paid.covered_by == "card"
    assert scalar(engine, "SELECT payment_status FROM bookings") == "paid"


def test_bad_requests_are_refused_clearly_and_change_nothing(engine, sch):
    booking_id, token = hold(engine, sch)
    with session_scope(engine) as s:
        make_voucher(s, "SPRING20", discount_percent=20, max_uses=10)
    before = snapshot(engine)
    cases = [
        (dict(voucher_code="SPRING20", use_package=True), ValidationFailed, "can't be combined"),
        (dict(voucher_code="SPRING20", pay_later=True), ValidationFailed, "Pay now"),
        (dict(use_package=True, pay_later=True), ValidationFailed, "either"),
        (dict(voucher_code="NOPE"), VoucherRefused, "not valid"),
        (dict(use_package=True), NoCreditsLeft, "sign in"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error) as err:
            pay(engine, booking_id, token, **kwargs)
        assert words in err.value.message, err.value.message
        assert snapshot(engine) == before
    with pytest.raises(NotFound):
        pay(engine, booking_id, "wrong-token")
    with pytest.raises(NotFound):
        pay(engine, uuid.uuid4(), token)
    assert snapshot(engine) == before


# ─────────────────────────────────────────────────────────────────────────────
# Vouchers
# ─────────────────────────────────────────────────────────────────────────────

def test_voucher_limit_holds_under_ten_concurrent_redemptions(engine, sch):
    with session_scope(engine) as s:
        make_voucher(s, "THREEONLY", voucher_type="fixed_amount", discount_cents=1500, max_uses=3,
                     max_uses_per_student=None)
    holds = [hold(engine, sch, t, n=i) for i, t in enumerate(TIMES)]
    holds += [hold(engine, sch, t, n=10 + i, day=WEDNESDAY) for i, t in enumerate(TIMES[:3])]
    barrier = threading.Barrier(len(holds))

    def attempt(item):
        booking_id, token = item
        barrier.wait()
        try:
            return pay(engine, booking_id, token, voucher_code="threeonly")
        except ServiceError as exc:
            return exc

    with ThreadPoolExecutor(len(holds)) as pool:
        results = list(pool.map(attempt, holds))
    ok = [r for r in results if isinstance(r, payments.CheckoutStart)]
    refused = [r for r in results if not isinstance(r, payments.CheckoutStart)]
    assert len(ok) == 3 and all(r.amount_cents == sch["price"] - 1500 and r.discount_cents == 1500 for r in ok)
    assert len(refused) == 7 and all(isinstance(r, VoucherRefused) and r.message == "That voucher has been fully used."
                                     for r in refused)
    assert scalar(engine, "SELECT times_used FROM vouchers WHERE code = 'THREEONLY'") == 3
    assert scalar(engine, "SELECT count(*) FROM voucher_redemptions") == 3
    assert scalar(engine, "SELECT count(*) FROM payments WHERE status = 'completed'") == 3
    assert scalar(engine, "SELECT count(*) FROM bookings WHERE status = 'held'") == 7  # the others keep their hold


def test_a_voucher_per_student_limit_and_a_free_lesson_voucher(engine, sch):
    with session_scope(engine) as s:
        make_voucher(s, "FREELESSON", voucher_type="free_lesson", max_uses=None, max_uses_per_student=1)
    learner = student(engine, sch)
    first, t1 = hold(engine, sch, "08:00", actor=learner)
    second, t2 = hold(engine, sch, "13:00", actor=learner)
    start = pay(engine, first, t1, actor=learner, voucher_code="FREELESSON")
    assert start.covered_by == "voucher" and start.amount_cents == 0 and start.discount_cents == sch["price"]
    assert scalar(engine, "SELECT status || '/' || payment_status FROM bookings WHERE id = :b", b=first) == \
        "confirmed/paid"
    assert [tuple(r) for r in rows(engine, "SELECT payment_method, amount_cents, discount_cents, status "
                                           "FROM payments")] == [("voucher", 0, sch["price"], "completed")]
    with pytest.raises(VoucherRefused) as err:
        pay(engine, second, t2, actor=learner, voucher_code="FREELESSON")
    assert err.value.message == "You have already used this voucher."
    with session_scope(engine) as s:  # cancelled in time: the voucher can be used again
        booking.cancel_booking(s, learner, first)
    assert pay(engine, second, t2, actor=learner, voucher_code="FREELESSON").covered_by == "voucher"
    assert scalar(engine, "SELECT times_used FROM vouchers") == 1


def test_cancelling_in_time_gives_the_voucher_use_back_and_refunds_what_was_paid(engine, sch):
    with session_scope(engine) as s:
        make_voucher(s, "WELCOME10", discount_percent=10, max_uses=100)
    booking_id, token, start = paid_booking(engine, sch, voucher_code="WELCOME10")
    assert start.amount_cents == 7650
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    assert "$76.50 is being refunded" in outcome.message
    assert scalar(engine, "SELECT times_used FROM vouchers") == 0
    assert [tuple(r) for r in rows(engine, "SELECT kind, amount_cents FROM refunds")] == [("cancellation", 7650)]
    assert scalar(engine, "SELECT payment_status FROM bookings") == "refunded"


# ─────────────────────────────────────────────────────────────────────────────
# Packages
# ─────────────────────────────────────────────────────────────────────────────

def test_a_two_credit_package_pays_for_exactly_two_of_six_concurrent_bookings(engine, sch):
    learner = student(engine, sch)
    sp_id = give_package(engine, learner.student_id, credits=2)
    holds = [hold(engine, sch, t, actor=learner) for t in TIMES[:6]]
    barrier = threading.Barrier(len(holds))

    def attempt(item):
        barrier.wait()
        try:
            return pay(engine, item[0], item[1], actor=learner, use_package=True)
        except ServiceError as exc:
            return exc

    with ThreadPoolExecutor(len(holds)) as pool:
        results = list(pool.map(attempt, holds))
    ok = [r for r in results if isinstance(r, payments.CheckoutStart)]
    refused = [r for r in results if not isinstance(r, payments.CheckoutStart)]
    assert len(ok) == 2 and all(r.covered_by == "package" and r.amount_cents == 0 for r in ok)
    assert len(refused) == 4 and all(isinstance(r, NoCreditsLeft) and "no package lessons left" in r.message
                                     for r in refused)
    used = rows(engine, "SELECT credits_used, credits_total, credits_remaining, status FROM student_packages")
    assert [tuple(r) for r in used] == [(2, 2, 0, "exhausted")]
    assert scalar(engine, "SELECT count(*) FROM bookings WHERE payment_status = 'package_credit' "
                          "AND status = 'confirmed' AND student_package_id = :p", p=sp_id) == 2
    low = rows(engine, "SELECT channel, body FROM outbox_messages WHERE template = 'package_low_credits'")
    assert {r.channel for r in low} == {"sms", "email"} and any("no lessons left" in r.body for r in low)
    with session_scope(engine) as s:
        [mine] = packages.my_packages(s, learner)
    assert mine["credits_left"] == 0 and mine["status"] == "exhausted" and not mine["usable"]


def test_package_credit_comes_back_on_a_timely_cancel_stays_on_a_late_one_and_returns_when_waived(engine, sch):
    learner = student(engine, sch)
    give_package(engine, learner.student_id, credits=5)
    early, t1 = hold(engine, sch, "08:00", actor=learner)
    late, t2 = hold(engine, sch, "13:00", actor=learner)
    pay(engine, early, t1, actor=learner, use_package=True)
    pay(engine, late, t2, actor=learner, use_package=True)
    assert scalar(engine, "SELECT credits_used FROM student_packages") == 2
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, learner, early)
    assert "credit is back" in outcome.message
    assert scalar(engine, "SELECT credits_used FROM student_packages") == 1
    late_policy(engine)
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, learner, late)
    assert outcome.fee_cents == 4250 and "credit" not in outcome.message
    assert scalar(engine, "SELECT credits_used FROM student_packages") == 1
    with session_scope(engine) as s:
        booking.cancel_booking(s, learner, late)  # a retried cancel gives nothing back
        booking.waive_cancellation_fee(s, admin(engine), late)
    assert scalar(engine, "SELECT credits_used FROM student_packages") == 0
    with session_scope(engine) as s:
        booking.waive_cancellation_fee(s, SYSTEM, late)  # waiving again changes nothing
    assert scalar(engine, "SELECT credits_used FROM student_packages") == 0


def test_buying_a_package_through_the_same_checkout(engine, sch):
    learner = student(engine, sch)
    boss = admin(engine)
    with session_scope(engine) as s:
        pkg = packages.save_package(s, boss, name="5 × 60-minute lessons", description="Save $25",
                                    total_credits=5, price_cents=40000, valid_for_days=180,
                                    service_ids=[sch["service"]], is_active=True)
    with session_scope(engine) as s:
        start = payments.start_package_checkout(s, learner, package_id=uuid.UUID(pkg["id"]))
    assert start.covered_by == "card" and start.amount_cents == 40000 and start.redirect_url.startswith("/pay/result")
    with session_scope(engine) as s:
        [mine] = packages.my_packages(s, learner)
        result = payments.payment_result(s, learner, checkout_id=start.checkout_id)
    assert mine["credits_left"] == 5 and mine["name"] == "5 × 60-minute lessons" and mine["usable"]
    assert mine["expires_display"] != "No expiry"
    assert result["package"]["credits_left"] == 5 and result["status"] == "completed"
    assert scalar(engine, "SELECT count(*) FROM outbox_messages WHERE template = 'package_purchased'") == 1
    # The same completion event delivered again creates nothing more.
    event = scalar(engine, "SELECT payload FROM webhook_events")
    with session_scope(engine) as s:
        assert payments.handle_gateway_event(s, event, provider="local") == "duplicate"
        assert payments.handle_gateway_event(s, {**event, "id": "evt_other_delivery"}, provider="local") == "processed"
    assert scalar(engine, "SELECT count(*) FROM student_packages") == 1
    # The package pays for a lesson of its type.
    booking_id, token = hold(engine, sch, actor=learner)
    assert pay(engine, booking_id, token, actor=learner, use_package=True).covered_by == "package"
    # Visitors and parents don't buy packages; unknown packages aren't for sale.
    with session_scope(engine) as s:
        with pytest.raises(AuthRequired):
            payments.start_package_checkout(s, VISITOR, package_id=uuid.UUID(pkg["id"]))
        with pytest.raises(NotFound):
            payments.start_package_checkout(s, learner, package_id=uuid.uuid4())


def test_package_rules_for_the_admin(engine, sch):
    boss = admin(engine)
    learner = student(engine, sch)
    good = dict(name="10 lessons", description=None, total_credits=10, price_cents=78000, valid_for_days=365,
                service_ids=[], is_active=True)
    before = snapshot(engine)
    for field, bad in (("name", " "), ("total_credits", 0), ("price_cents", 50), ("valid_for_days", 0),
                       ("service_ids", ["not-a-uuid"]), ("service_ids", [str(uuid.uuid4())])):
        with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            packages.save_package(s, boss, **{**good, field: bad})
        assert err.value.details["field"] == field
    with session_scope(engine) as s, pytest.raises(Forbidden):
        packages.save_package(s, learner, **good)
    assert snapshot(engine) == before
    with session_scope(engine) as s:
        saved = packages.save_package(s, boss, **good)
        packages.save_package(s, boss, package_id=uuid.UUID(saved["id"]), **{**good, "is_active": False})
    with session_scope(engine) as s:
        assert packages.list_packages(s, VISITOR) == []
        [retired] = packages.list_packages(s, boss, include_inactive=True)
        assert retired["per_lesson_display"] == "$78.00" and retired["service_names"] == ["Any lesson"]
        with pytest.raises(Forbidden):
            packages.list_packages(s, learner, include_inactive=True)


def test_packages_expire_and_an_expired_package_is_not_used(engine, sch):
    learner = student(engine, sch)
    sp_id = give_package(engine, learner.student_id, credits=5, expires_in_days=30)
    with session_scope(engine) as s:
        now = s.execute(sa.text("SELECT now()")).scalar_one()
        assert packages.expire_due_packages(s, now) == 0
        assert packages.expire_due_packages(s, now + timedelta(days=31)) == 1
        assert packages.expire_due_packages(s, now + timedelta(days=31)) == 0
    assert scalar(engine, "SELECT status FROM student_packages WHERE id = :i", i=sp_id) == "expired"
    booking_id, token = hold(engine, sch, actor=learner)
    with pytest.raises(NoCreditsLeft):
        pay(engine, booking_id, token, actor=learner, use_package=True)


# ─────────────────────────────────────────────────────────────────────────────
# Refunds
# ─────────────────────────────────────────────────────────────────────────────

def test_admin_refunds_partial_then_the_rest_never_more_and_a_retry_does_not_double(engine, sch):
    _, _, start = paid_booking(engine, sch)
    boss = admin(engine)
    payment_id = uuid.UUID(start.payment_id)
    with session_scope(engine) as s:
        view = payments.refund_payment(s, boss, payment_id=payment_id, amount_cents=3000, reason="Short lesson")
    assert (
        view["status"] == "partially_refunded" and view["refunded_cents"] == 3000 and view["refundable_cents"] == 5500
    )
    before = snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        payments.refund_payment(s, boss, payment_id=payment_id, amount_cents=5501, reason="Too much")
    assert "At most $55.00" in err.value.message and snapshot(engine) == before
    for bad in (
        dict(amount_cents=0, reason="x"),
        dict(amount_cents=-5, reason="x"),
        dict(amount_cents=100, reason=" "),
    ):
        with session_scope(engine) as s, pytest.raises(ValidationFailed):
            payments.refund_payment(s, boss, payment_id=payment_id, **bad)
    with session_scope(engine) as s, pytest.raises(Forbidden):
        payments.refund_payment(s, Actor(role="instructor", user_id=uuid.uuid4()), payment_id=payment_id,
                                amount_cents=100, reason="x")
    assert snapshot(engine) == before
    for _ in range(3):  # the same keyed request three times: one refund
        with session_scope(engine) as s:
            view = payments.refund_payment(s, boss, payment_id=payment_id, reason="Rest", idempotency_key="req-000001")
    assert view["status"] == "refunded" and view["refunded_cents"] == 8500 and len(view["refunds"]) == 2
    with session_scope(engine) as s, pytest.raises(InvalidState):
        payments.refund_payment(s, boss, payment_id=payment_id, reason="Again")
    assert scalar(engine, "SELECT payment_status FROM bookings") == "refunded"
    assert scalar(engine, "SELECT count(*) FROM outbox_messages WHERE template = 'payment_refunded'") == 2


def test_concurrent_refunds_can_never_exceed_the_payment(engine, sch):
    _, _, start = paid_booking(engine, sch)
    boss = admin(engine)
    barrier = threading.Barrier(6)

    def attempt(i):
        barrier.wait()
        try:
            with session_scope(engine) as s:
                payments.refund_payment(s, boss, payment_id=uuid.UUID(start.payment_id), amount_cents=3000,
                                        reason=f"Refund {i}", idempotency_key=f"parallel-{i:04d}")
            return "ok"
        except ValidationFailed:
            return "refused"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert sorted(results) == ["ok"] * 2 + ["refused"] * 4
    assert scalar(engine, "SELECT refund_amount_cents FROM payments") == 6000
    assert scalar(engine, "SELECT sum(amount_cents) FROM refunds") == 6000


def test_cancelling_a_paid_lesson_late_keeps_the_fee_and_waiving_it_refunds_the_fee(engine, sch):
    booking_id, token, start = paid_booking(engine, sch)
    late_policy(engine)
    with session_scope(engine) as s:
        outcome = booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    assert outcome.fee_cents == 4250 and "$42.50 is being refunded" in outcome.message
    assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
        ("partially_refunded", 4250)]
    assert scalar(engine, "SELECT payment_status FROM bookings") == "partially_refunded"
    with session_scope(engine) as s:  # retried cancel: nothing more
        booking.cancel_booking(s, VISITOR, booking_id, manage_token=token)
    assert scalar(engine, "SELECT count(*) FROM refunds") == 1
    with session_scope(engine) as s:
        booking.waive_cancellation_fee(s, admin(engine), booking_id)
    assert [tuple(r) for r in rows(engine, "SELECT kind, amount_cents FROM refunds ORDER BY created_at")] == [
        ("cancellation", 4250), ("fee_waived", 4250)]
    assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [("refunded", 8500)]


# ─────────────────────────────────────────────────────────────────────────────
# Reading payments
# ─────────────────────────────────────────────────────────────────────────────

def test_who_sees_which_payments(engine, sch):
    learner = student(engine, sch)
    other = student(engine, sch)
    for actor, time_ in ((learner, "08:00"), (learner, "09:30"), (other, "11:00")):
        booking_id, token = hold(engine, sch, time_, actor=actor)
        pay(engine, booking_id, token, actor=actor)
    _, _, visitor_payment = paid_booking(engine, sch, "14:00", n=5)
    boss = admin(engine)
    with session_scope(engine) as s:
        user, profile = make_user(s, "parent", "Pat")
        parent = Parent(user_id=user.id, profile_id=profile.id)
        s.add(parent)
        s.flush()
        s.add(ParentStudentLink(parent_id=parent.id, student_id=learner.student_id, status="active",
                                can_view_payments=True))
        parent_actor = Actor(role="parent", user_id=user.id, parent_id=parent.id)
        instructor = s.get(Instructor, sch["instructor"])
        instructor_actor = Actor(role="instructor", user_id=instructor.user_id, instructor_id=instructor.id)
    with session_scope(engine) as s:
        mine = payments.list_payments(s, learner)["items"]
        assert len(mine) == 2 and all(p["student_id"] == str(learner.student_id) for p in mine)
        assert "gateway_payment_id" not in mine[0]  # gateway internals are for the admin
        assert len(payments.list_payments(s, parent_actor)["items"]) == 2
        page1 = payments.list_payments(s, boss, limit=3)
        page2 = payments.list_payments(s, boss, limit=3, cursor=page1["next_cursor"])
        ids = [p["id"] for p in page1["items"] + page2["items"]]
        assert len(ids) == 4 == len(set(ids)) and page2["next_cursor"] is None
        assert "gateway_payment_id" in page1["items"][0]
        with pytest.raises(Forbidden):
            payments.list_payments(s, instructor_actor)
        with pytest.raises(Forbidden):
            payments.list_payments(s, parent_actor, student_id=other.student_id)
        with pytest.raises(Forbidden):
            payments.get_payment(s, learner, uuid.UUID(visitor_payment.payment_id))
        with pytest.raises(AuthRequired):
            payments.list_payments(s, VISITOR)
        with pytest.raises(ValidationFailed):
            payments.list_payments(s, boss, cursor="garbage")
        assert payments.get_payment(s, boss, uuid.UUID(visitor_payment.payment_id))["payer_name"] == "Visitor 5"
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE parent_student_links SET can_view_payments = false"))
    with session_scope(engine) as s:
        assert payments.list_payments(s, parent_actor)["items"] == []


def test_revenue_summary_for_the_admin(engine, sch):
    _, _, first = paid_booking(engine, sch, "08:00", n=1)
    paid_booking(engine, sch, "13:00", n=2)
    boss = admin(engine)
    with session_scope(engine) as s:
        payments.refund_payment(s, boss, payment_id=uuid.UUID(first.payment_id), amount_cents=1000, reason="Late")
    with session_scope(engine) as s:
        summary = payments.revenue_summary(s, boss, days=7)
        with pytest.raises(Forbidden):
            payments.revenue_summary(s, VISITOR)
        with pytest.raises(ValidationFailed):
            payments.revenue_summary(s, boss, days=0)
    assert (summary["gross_cents"], summary["refunded_cents"], summary["net_cents"]) == (17000, 1000, 16000)
    assert summary["count"] == 2 and summary["net_display"] == "$160.00" and summary["test_mode_cents"] == 17000
    assert len(summary["by_day"]) == 7 and summary["by_day"][-1]["gross_cents"] == 17000
    assert summary["by_method"] == [{"method": "card", "count": 2, "gross_cents": 17000, "gross_display": "$170.00"}]


def test_the_database_refuses_a_refund_total_above_the_payment(engine, sch):
    """The backstop under the service: even a direct UPDATE can't refund more than was paid."""
    paid_booking(engine, sch)
    with session_scope(engine) as s, pytest.raises(sa.exc.IntegrityError):
        s.execute(sa.text("UPDATE payments SET refund_amount_cents = amount_cents + 1"))
    assert scalar(engine, "SELECT refund_amount_cents FROM payments") == 0
