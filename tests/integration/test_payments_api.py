"""The payments REST API over real HTTP (uvicorn), offline gateway: envelopes, access, replays."""
from __future__ import annotations

import uuid

import httpx
import pytest

from nexdrive.adapters import override
from nexdrive.adapters.payments import LocalGateway
from nexdrive.db import session_scope
from nexdrive.models import User
from nexdrive.services.identity import accounts
from nexdrive.settings import Settings
from tests.api_server import serve_api
from tests.payment_helpers import TUESDAY, give_package, make_voucher, rows, scalar, school, student
from tests.factories import make_user



@pytest.fixture
def api(engine):
    override("payments", LocalGateway(Settings(stripe_secret_key="")))
    with serve_api() as base:
        yield base
    override("payments", None)


@pytest.fixture
def sch(engine):
    return school(engine)


def bearer(engine, user_id) -> dict:
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, user_id), None, None)
    return {"Authorization": f"Bearer {issued.token}"}


def envelope(r, status, code):
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    return r.json()["error"]


def reserve(api, sch, start="11:00", n=0, headers=None):
    body = {"service_id": str(sch["service"]), "date": TUESDAY.isoformat(), "start_time": start,
            "pickup_address": "1 Test St", "suburb": "Belconnen"}
    if headers is None:
        body["contact"] = {"name": f"Visitor {n}", "phone": f"04{n:08d}", "email": f"v{n}@example.com"}
    r = httpx.post(api + "/api/v1/booking/reserve", json=body, headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_a_visitor_pays_through_the_api_and_sees_the_result(api, engine, sch):
    with session_scope(engine) as s:
        make_voucher(s, "WELCOME10", discount_percent=10)
    check = httpx.post(api + "/api/v1/vouchers/validate", json={"code": "welcome10", "service_id": str(sch["service"])})
    assert check.status_code == 200 and check.json()["data"] == {
        "valid": True, "code": "WELCOME10", "discount_cents": 850,
        "message": "Voucher WELCOME10 applies: $8.50 off. It is taken off when you pay."}
    bad = httpx.post(api + "/api/v1/vouchers/validate", json={"code": "NOPE", "service_id": str(sch["service"])})
    assert bad.json()["data"]["valid"] is False and bad.json()["data"]["message"] == "That voucher code is not valid."
    envelope(httpx.post(api + "/api/v1/vouchers/validate", json={"code": " ", "service_id": "x"}), 422,
             "VALIDATION_ERROR")
    held = reserve(api, sch)
    body = {"booking_id": held["reservation_id"], "manage_token": held["manage_token"], "voucher_code": "WELCOME10"}
    r = httpx.post(api + "/api/v1/payments/checkout", json=body)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["covered_by"] == "card" and data["amount_cents"] == 7650 and data["test_mode"] is True
    assert data["redirect_url"] == f"/pay/result?checkout={data['checkout_id']}&token={held['manage_token']}"
    again = httpx.post(api + "/api/v1/payments/checkout", json=body)  # a replay: the same payment, nothing new
    assert again.json()["data"]["payment_id"] == data["payment_id"]
    assert scalar(engine, "SELECT count(*) FROM payments") == 1
    assert scalar(engine, "SELECT times_used FROM vouchers") == 1
    result = httpx.get(api + "/api/v1/payments/result", params={"checkout": data["checkout_id"]},
                       headers={"X-Manage-Token": held["manage_token"]})
    assert result.status_code == 200 and result.json()["data"]["status"] == "completed"
    assert result.json()["data"]["booking"]["payment_status"] == "paid"
    envelope(httpx.get(api + "/api/v1/payments/result", params={"checkout": data["checkout_id"]}), 404, "NOT_FOUND")
    # Anyone else: no payment history without signing in.
    envelope(httpx.get(api + "/api/v1/payments"), 401, "AUTH_REQUIRED")
    envelope(httpx.get(api + f"/api/v1/payments/{data['payment_id']}"), 401, "AUTH_REQUIRED")


def test_checkout_bad_input_gets_the_envelope_and_changes_nothing(api, engine, sch):
    held = reserve(api, sch)
    base = {"booking_id": held["reservation_id"], "manage_token": held["manage_token"]}
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={**base, "surprise": 1}), 422, "VALIDATION_ERROR")
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={**base, "voucher_code": "X", "pay_later": True}),
             422, "VALIDATION_ERROR")
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={**base, "voucher_code": "NOPE"}), 422,
             "VOUCHER_INVALID")
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={**base, "use_package": True}), 409, "NO_CREDITS")
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={**base, "manage_token": "wrong"}), 404, "NOT_FOUND")
    envelope(httpx.post(api + "/api/v1/payments/checkout", json={"booking_id": "not-a-uuid"}), 422,
             "VALIDATION_ERROR")
    assert scalar(engine, "SELECT count(*) FROM payments") == 0
    assert scalar(engine, "SELECT status FROM bookings") == "held"


def test_a_student_buys_a_package_books_with_it_and_sees_their_payments(api, engine, sch):
    learner = student(engine, sch)
    auth = bearer(engine, learner.user_id)
    give_package(engine, learner.student_id, credits=3)  # one they already had
    with session_scope(engine) as s:
        from nexdrive.models import Package
        pkg = Package(name="5 × 60-minute lessons", total_credits=5, price_cents=40000, valid_for_days=180)
        s.add(pkg)
        s.flush()
        package_id = pkg.id
    listed = httpx.get(api + "/api/v1/packages").json()["data"]
    assert any(p["id"] == str(package_id) and p["price_display"] == "$400.00" for p in listed)
    envelope(httpx.post(api + f"/api/v1/packages/{package_id}/purchase"), 401, "AUTH_REQUIRED")
    bought = httpx.post(api + f"/api/v1/packages/{package_id}/purchase", headers=auth)
    assert bought.status_code == 200 and bought.json()["data"]["covered_by"] == "card"
    mine = httpx.get(api + "/api/v1/me/packages", headers=auth).json()["data"]
    assert sorted(p["credits_left"] for p in mine) == [3, 5]
    held = reserve(api, sch, headers=auth)
    r = httpx.post(api + "/api/v1/payments/checkout", headers=auth,
                   json={"booking_id": held["reservation_id"], "use_package": True})
    assert r.status_code == 200 and r.json()["data"]["covered_by"] == "package"
    assert r.json()["data"]["redirect_url"].startswith("/book/confirmed?token=")
    mine = httpx.get(api + "/api/v1/me/packages", headers=auth).json()["data"]
    assert sorted(p["credits_left"] for p in mine) == [2, 5]  # the one expiring first was used
    history = httpx.get(api + "/api/v1/payments", headers=auth).json()
    assert [p["description"] for p in history["data"]] == ["Lesson package: 5 × 60-minute lessons"]
    assert history["meta"] == {"cursor": None, "has_more": False}
    one = httpx.get(api + f"/api/v1/payments/{history['data'][0]['id']}", headers=auth).json()["data"]
    assert one["amount_display"] == "$400.00" and "gateway_payment_id" not in one
    envelope(httpx.post(api + f"/api/v1/payments/{one['id']}/refund", headers=auth, json={"reason": "please"}),
             403, "FORBIDDEN")
    envelope(httpx.get(api + "/api/v1/payments/summary", headers=auth), 403, "FORBIDDEN")


def test_the_admin_refunds_over_the_api_and_a_replayed_request_does_not_double(api, engine, sch):
    with session_scope(engine) as s:
        user, _ = make_user(s, "admin", "Ada")
        admin_id = user.id
    auth = bearer(engine, admin_id)
    held = reserve(api, sch)
    paid = httpx.post(api + "/api/v1/payments/checkout", json={"booking_id": held["reservation_id"],
                                                                "manage_token": held["manage_token"]}).json()["data"]
    url = api + f"/api/v1/payments/{paid['payment_id']}/refund"
    headers = {**auth, "Idempotency-Key": f"refund-{uuid.uuid4().hex}"}
    replies = [httpx.post(url, headers=headers, json={"amount_cents": 2000, "reason": "Lesson ended early"})
               for _ in range(3)]
    assert all(r.status_code == 200 for r in replies), replies[0].text
    assert replies[-1].json()["data"]["refunded_cents"] == 2000 and len(replies[-1].json()["data"]["refunds"]) == 1
    envelope(httpx.post(url, headers=auth, json={"amount_cents": 7000, "reason": "Too much"}), 422,
             "VALIDATION_ERROR")
    envelope(httpx.post(url, headers=auth, json={"amount_cents": 0, "reason": "Zero"}), 422, "VALIDATION_ERROR")
    envelope(httpx.post(url, headers=auth, json={"amount_cents": 100}), 422, "VALIDATION_ERROR")
    envelope(httpx.post(api + f"/api/v1/payments/{uuid.uuid4()}/refund", headers=auth, json={"reason": "x"}),
             404, "NOT_FOUND")
    assert [tuple(r) for r in rows(engine, "SELECT status, refund_amount_cents FROM payments")] == [
        ("partially_refunded", 2000)]
    full = httpx.post(url, headers=auth, json={"reason": "Instructor unwell"})
    assert full.json()["data"]["status"] == "refunded" and full.json()["data"]["refunded_cents"] == 8500
    summary = httpx.get(api + "/api/v1/payments/summary", headers=auth, params={"days": 7}).json()["data"]
    assert summary["gross_cents"] == 8500 and summary["refunded_cents"] == 8500 and summary["net_cents"] == 0
    listed = httpx.get(api + "/api/v1/payments", headers=auth, params={"status": "refunded"}).json()["data"]
    assert [p["id"] for p in listed] == [paid["payment_id"]]
    envelope(httpx.get(api + "/api/v1/payments", headers=auth, params={"status": "nonsense"}), 422,
             "VALIDATION_ERROR")
