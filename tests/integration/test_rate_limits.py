"""Rate limits on public mutations: per IP and per contact, counted in PostgreSQL (shared by every worker),
429 RATE_LIMITED with Retry-After and a clear message; the request refused changes nothing. Real PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.services.identity import accounts
from nexdrive.services.core import ratelimit
from nexdrive.settings import reset_settings
from tests.booking_helpers import only_instructor, open_instructor, weekday_ahead
from nexdrive.http_app import build_api

TUESDAY = weekday_ahead(1)
PASSWORD = "kangaroo paddock sunrise"


@pytest.fixture
def limits(monkeypatch):
    def set_limits(spec: str):
        monkeypatch.setenv("NEXDRIVE_RATE_LIMITS", spec)
        reset_settings()
    yield set_limits
    monkeypatch.delenv("NEXDRIVE_RATE_LIMITS", raising=False)
    reset_settings()


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        return {"service": str(service.id)}


def client_from(ip: str) -> TestClient:
    return TestClient(build_api(), client=(ip, 50000), raise_server_exceptions=False)


def reserve(client, school, start, email="vi@example.com", phone="0412000111"):
    return client.post("/api/v1/booking/reserve", json={
        "service_id": school["service"], "date": TUESDAY.isoformat(), "start_time": start,
        "contact": {"name": "Vi Visitor", "phone": phone, "email": email},
        "pickup_address": "1 Test St", "suburb": "Belconnen"})


def count(engine, table):
    with session_scope(engine) as s:
        return s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def assert_429(r):
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) >= 1
    error = r.json()["error"]
    assert error["code"] == "RATE_LIMITED" and "Too many" in error["message"] and "wait" in error["message"]
    return error


def test_reserve_is_limited_per_ip(engine, school, limits):
    limits("reserve=2/50/3600")
    c = client_from("203.0.113.7")
    assert reserve(c, school, "09:00", email="a@example.com", phone="0412000001").status_code == 201
    assert reserve(c, school, "11:00", email="b@example.com", phone="0412000002").status_code == 201
    before = count(engine, "bookings")
    error = assert_429(reserve(c, school, "13:00", email="c@example.com", phone="0412000003"))
    assert error["details"]["scope"] == "ip"
    assert count(engine, "bookings") == before
    # another address is not affected
    assert reserve(client_from("203.0.113.8"), school, "15:00", email="d@example.com",
                   phone="0412000004").status_code == 201


def test_reserve_is_limited_per_contact_across_ips_and_phone_formats(engine, school, limits):
    limits("reserve=50/1/3600")
    assert reserve(client_from("203.0.113.7"), school, "09:00", phone="0412 000 111").status_code == 201
    error = assert_429(reserve(client_from("198.51.100.1"), school, "11:00", email="other@example.com",
                               phone="+61412000111"))
    assert error["details"]["scope"] == "contact"


def test_counters_are_shared_by_every_worker(engine, school, limits):
    """Two separately built apps (two processes' worth of state) share one count in the database."""
    limits("reserve=1/50/3600")
    assert reserve(client_from("203.0.113.7"), school, "09:00").status_code == 201
    assert_429(reserve(client_from("203.0.113.7"), school, "11:00", email="x@example.com", phone="0499000000"))


def test_sign_up_is_limited_and_the_refused_one_creates_nothing(engine, school, limits):
    limits("sign_up=2/50/3600")
    c = client_from("203.0.113.7")
    for n in range(2):
        r = c.post("/api/v1/auth/sign-up", json={"email": f"l{n}@example.com", "password": PASSWORD,
                                                 "first_name": "Lee", "last_name": "Learner"})
        assert r.status_code == 202, r.text
    users = count(engine, "users")
    assert_429(c.post("/api/v1/auth/sign-up", json={"email": "l9@example.com", "password": PASSWORD,
                                                    "first_name": "Lee", "last_name": "Learner"}))
    assert count(engine, "users") == users


def test_sign_in_is_limited_per_account(engine, school, limits):
    limits("sign_in=50/2/900")
    with session_scope(engine) as s:
        accounts.sign_up_student(s, email="lee@example.com", password=PASSWORD, first_name="Lee", last_name="L")
    for ip in ("203.0.113.1", "203.0.113.2"):
        assert client_from(ip).post("/api/v1/auth/sign-in", json={"email": "lee@example.com",
                                                                   "password": PASSWORD}).status_code == 200
    assert_429(client_from("203.0.113.3").post("/api/v1/auth/sign-in", json={"email": "LEE@example.com",
                                                                               "password": PASSWORD}))


def test_voucher_checks_are_limited_even_when_they_fail(engine, school, limits):
    limits("voucher=3/0/900")
    c = client_from("203.0.113.7")
    for n in range(3):
        r = c.post("/api/v1/vouchers/validate", json={"code": f"GUESS{n}", "service_id": school["service"]})
        assert r.status_code in (200, 422), r.text
    assert_429(c.post("/api/v1/vouchers/validate", json={"code": "GUESS9", "service_id": school["service"]}))


def test_waitlist_and_confirm_are_limited(engine, school, limits):
    limits("waitlist=1/50/3600,confirm=1/0/3600")
    c = client_from("203.0.113.7")
    body = {"service_id": school["service"], "preferred_day": 2, "contact": {"name": "W", "phone": "0412555001"}}
    assert c.post("/api/v1/booking/waitlist", json=body).status_code == 201
    entries = count(engine, "waitlist")
    assert_429(c.post("/api/v1/booking/waitlist", json={**body, "contact": {"name": "W", "phone": "0412555002"}}))
    assert count(engine, "waitlist") == entries
    held = reserve(c, school, "09:00").json()["data"]
    body = {"reservation_id": held["reservation_id"], "manage_token": held["manage_token"]}
    assert c.post("/api/v1/booking/confirm", json=body).status_code == 200
    assert_429(c.post("/api/v1/booking/confirm", json=body))


def test_the_service_counts_in_its_own_transaction_and_pages_get_the_same_error(engine, limits):
    """The Reflex handlers call ratelimit.enforce inside their use case: a rolled-back attempt still counts."""
    limits("enquiry=2/10/3600")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            with session_scope(engine) as s:
                ratelimit.enforce(s, "enquiry", ip="203.0.113.7", contact="a@example.com")
                raise RuntimeError("the use case failed after counting")
    with pytest.raises(accounts.RateLimited) as refused:
        with session_scope(engine) as s:
            ratelimit.enforce(s, "enquiry", ip="203.0.113.7", contact="b@example.com")
    assert refused.value.retry_after >= 1 and "Too many messages" in refused.value.message
    with session_scope(engine) as s:  # a different IP and contact is fine
        ratelimit.enforce(s, "enquiry", ip="203.0.113.8", contact="c@example.com")


def test_limits_are_configurable_and_can_be_switched_off(engine, limits):
    limits("reserve=off,voucher=5/0/60")
    rules = ratelimit.rules()
    assert "reserve" not in rules and rules["voucher"] == ratelimit.Rule(5, 0, 60)
    assert rules["sign_up"] == ratelimit.DEFAULT_RULES["sign_up"]
    limits("voucher=lots")
    with pytest.raises(ValueError):
        ratelimit.rules()


def test_default_limits_are_generous_for_a_real_visitor(engine, school, limits):
    limits("")
    c = client_from("203.0.113.7")
    for n, start in enumerate(("09:00", "11:00", "13:00", "15:00")):
        assert reserve(c, school, start, email=f"p{n}@example.com", phone=f"04120000{n:02d}").status_code == 201


def test_old_counters_are_purged(engine, limits):
    limits("")
    with session_scope(engine) as s:
        ratelimit.enforce(s, "reserve", ip="203.0.113.7")
        s.execute(sa.text("UPDATE rate_limit_counters SET expires_at = now() - interval '1 minute'"))
    with session_scope(engine) as s:
        assert ratelimit.purge_expired(s) == 1
