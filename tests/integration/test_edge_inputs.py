"""The HTTP edge never answers 500 with a plain-text body: hostile inputs the security probe found
(NUL bytes, integers beyond bigint, dates in year 1 or 9999, 50,000-level nested JSON) are refused
with the JSON envelope (4xx), and anything unexpected still comes back as the envelope. Real PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.services.identity import accounts
from nexdrive.services.scheduling import booking
from nexdrive.services.core.actors import Actor
from nexdrive.services.identity.passwords import hash_password
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_user
from nexdrive.http_app import build_api

PASSWORD = "kangaroo paddock sunrise"
TUESDAY = weekday_ahead(1)
NUL = "a\x00b"
HUGE = str(2**80)
DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJ = b'{"token":' + b"[" * 50_000 + b"]" * 50_000 + b"}"


@pytest.fixture
def edge(engine):
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        admin, _ = make_user(s, "admin")
        admin.password_hash = hash_password(PASSWORD)
        s.add(admin)
        admin_email = admin.email
        student = accounts.sign_up_student(s, email="learner@example.com", password=PASSWORD, first_name="Lee",
                                           last_name="Learner")
        held = booking.book_lesson(s, Actor(role="visitor"), service_id=str(service.id),
                                   start_time=at(TUESDAY, "09:00"), name="Val Visitor", phone="0412345678",
                                   email="val@example.com", pickup_address="1 Test St", suburb="Belconnen")
        booking_id, manage = str(held.booking.id), held.manage_token
        booking.confirm_booking(s, Actor(role="visitor"), held.booking.id, manage_token=manage)
    with session_scope(engine) as s:
        admin_token = accounts.sign_in(s, email=admin_email, password=PASSWORD).token
    with TestClient(build_api(), raise_server_exceptions=False) as client:
        yield {"client": client, "service": str(service.id), "instructor": str(instructor.id),
               "student_id": str(student.actor.student_id), "student_token": student.token,
               "admin": {"Authorization": f"Bearer {admin_token}"},
               "student": {"Authorization": f"Bearer {student.token}"},
               "booking": booking_id, "manage": manage}


def reserve_body(e, **extra):
    return {"service_id": e["service"], "date": TUESDAY.isoformat(), "start_time": "14:00",
            "contact": {"name": "Vi Visitor", "phone": "0412000111", "email": "vi@example.com"},
            "pickup_address": "1 Test St", "suburb": "Belconnen", **extra}


def sign_up_body(**extra):
    return {"email": "new@example.com", "password": PASSWORD, "first_name": "New", "last_name": "Learner", **extra}


# (name, method, path, kwargs-builder): every request must come back 4xx with the envelope.
CASES = [
    # NUL bytes in a text field or a query parameter
    ("sign-up NUL", "POST", "/api/v1/auth/sign-up", lambda e: {"json": sign_up_body(first_name=NUL)}),
    ("sign-up NUL email", "POST", "/api/v1/auth/sign-up", lambda e: {"json": sign_up_body(email="n\x00@example.com")}),
    (
        "sign-in NUL",
        "POST",
        "/api/v1/auth/sign-in",
        lambda e: {"json": {"email": "a\x00@example.com", "password": PASSWORD}},
    ),
    ("magic link NUL", "POST", "/api/v1/auth/magic-link", lambda e: {"json": {"email": "a\x00@example.com"}}),
    ("forgot NUL", "POST", "/api/v1/auth/password/forgot", lambda e: {"json": {"email": "a\x00@example.com"}}),
    ("reserve NUL", "POST", "/api/v1/booking/reserve", lambda e: {"json": reserve_body(e, suburb=NUL)}),
    (
        "reserve NUL contact",
        "POST",
        "/api/v1/booking/reserve",
        lambda e: {"json": reserve_body(e, contact={"name": NUL, "phone": "0412000111"})},
    ),
    ("reserve NUL service", "POST", "/api/v1/booking/reserve", lambda e: {"json": reserve_body(e, service_id=NUL)}),
    (
        "waitlist NUL",
        "POST",
        "/api/v1/booking/waitlist",
        lambda e: {"json": {"service_id": e["service"], "contact": {"name": NUL, "email": "w@example.com"}}},
    ),
    ("voucher NUL", "POST", "/api/v1/vouchers/validate", lambda e: {"json": {"code": NUL, "service_id": e["service"]}}),
    ("PATCH /me NUL", "PATCH", "/api/v1/me", lambda e: {"json": {"bio": NUL}, "headers": e["student"]}),
    ("payments/result NUL", "GET", "/api/v1/payments/result", lambda e: {"params": {"checkout": NUL}}),
    ("availability NUL", "GET", "/api/v1/booking/availability", lambda e: {"params": {"service_id": NUL}}),
    ("unsubscribe NUL", "POST", "/api/v1/marketing/unsubscribe", lambda e: {"params": {"token": NUL}}),
    (
        "audit log NUL",
        "GET",
        "/api/v1/admin/audit-log",
        lambda e: {"params": {"event_type": NUL}, "headers": e["admin"]},
    ),
    # integers beyond bigint
    ("invoices offset", "GET", "/api/v1/invoices", lambda e: {"params": {"offset": HUGE}, "headers": e["admin"]}),
    (
        "lessons offset",
        "GET",
        "/api/v1/students/{student}/lessons",
        lambda e: {"params": {"offset": HUGE}, "headers": e["admin"]},
    ),
    (
        "lessons limit",
        "GET",
        "/api/v1/students/{student}/lessons",
        lambda e: {"params": {"limit": HUGE}, "headers": e["admin"]},
    ),
    (
        "bookings offset",
        "GET",
        "/api/v1/students/{student}/bookings",
        lambda e: {"params": {"offset": HUGE}, "headers": e["admin"]},
    ),
    (
        "payments offset",
        "GET",
        "/api/v1/students/{student}/payments",
        lambda e: {"params": {"offset": HUGE}, "headers": e["admin"]},
    ),
    (
        "audit log before_seq",
        "GET",
        "/api/v1/admin/audit-log",
        lambda e: {"params": {"before_seq": HUGE}, "headers": e["admin"]},
    ),
    ("audit log limit", "GET", "/api/v1/admin/audit-log", lambda e: {"params": {"limit": HUGE}, "headers": e["admin"]}),
    (
        "refund amount",
        "POST",
        "/api/v1/payments/{uuid}/refund",
        lambda e: {"json": {"amount_cents": 2**80, "reason": "x"}, "headers": e["admin"]},
    ),
    # dates in year 1 or 9999
    ("reserve year 1", "POST", "/api/v1/booking/reserve", lambda e: {"json": reserve_body(e, date="0001-01-01")}),
    ("reserve year 9999", "POST", "/api/v1/booking/reserve", lambda e: {"json": reserve_body(e, date="9999-12-31")}),
    (
        "reschedule year 1",
        "PATCH",
        "/api/v1/bookings/{booking}",
        lambda e: {"json": {"date": "0001-01-01", "start_time": "10:00"}, "headers": {"X-Manage-Token": e["manage"]}},
    ),
    (
        "reschedule year 9999",
        "PATCH",
        "/api/v1/bookings/{booking}",
        lambda e: {"json": {"date": "9999-12-31", "start_time": "10:00"}, "headers": {"X-Manage-Token": e["manage"]}},
    ),
    (
        "availability year 1",
        "GET",
        "/api/v1/booking/availability",
        lambda e: {"params": {"service_id": e["service"], "date_from": "0001-01-01"}},
    ),
    (
        "availability year 9999",
        "GET",
        "/api/v1/booking/availability",
        lambda e: {"params": {"service_id": e["service"], "date_from": "9999-12-31"}},
    ),
    (
        "sign-up born year 1",
        "POST",
        "/api/v1/auth/sign-up",
        lambda e: {"json": sign_up_body(date_of_birth="0001-01-01")},
    ),
    # 50,000-level nested JSON
    (
        "consume deep JSON",
        "POST",
        "/api/v1/auth/magic-link/consume",
        lambda e: {"content": DEEP_OBJ, "headers": {"Content-Type": "application/json"}},
    ),
    (
        "reset deep JSON",
        "POST",
        "/api/v1/auth/password/reset",
        lambda e: {"content": DEEP_OBJ, "headers": {"Content-Type": "application/json"}},
    ),
    (
        "consume deep array",
        "POST",
        "/api/v1/auth/magic-link/consume",
        lambda e: {"content": DEEP, "headers": {"Content-Type": "application/json"}},
    ),
    (
        "reserve deep JSON",
        "POST",
        "/api/v1/booking/reserve",
        lambda e: {"content": DEEP, "headers": {"Content-Type": "application/json"}},
    ),
    # a control character in a path parameter
    ("magic link path NUL", "GET", "/api/v1/auth/magic-link/a%00b", lambda e: {}),
]


def _count(engine, table):
    with session_scope(engine) as s:
        return s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("name,method,path,build", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_a_4xx_envelope_and_changes_nothing(edge, engine, name, method, path, build):
    before = {t: _count(engine, t) for t in ("users", "bookings", "waitlist")}
    url = path.format(student=edge["student_id"], booking=edge["booking"], uuid=uuid.uuid4())
    r = edge["client"].request(method, url, **build(edge))
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    assert {t: _count(engine, t) for t in before} == before


def test_control_characters_are_refused_with_422_validation_error(edge):
    r = edge["client"].post("/api/v1/auth/sign-up", json=sign_up_body(last_name="Le\x07arner"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert any(d["field"].endswith("last_name") for d in r.json()["error"]["details"])
    # ordinary text (accents, apostrophes, emoji) still goes through
    ok = edge["client"].post("/api/v1/auth/sign-up", json=sign_up_body(first_name="Zoë", last_name="O'Brien"))
    assert ok.status_code == 202, ok.text


def test_an_oversized_body_is_refused_before_parsing(edge):
    r = edge["client"].post("/api/v1/auth/sign-in", content=b'{"email": "' + b"a" * 2_000_000 + b'"}',
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_an_unexpected_error_is_a_json_500_envelope_and_is_logged(engine, caplog):
    api = build_api()
    boom = APIRouter()

    @boom.get("/api/v1/boom")
    def _boom():
        raise RuntimeError("kaboom secret detail")

    api.include_router(boom)
    with TestClient(api, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "kaboom" not in r.text  # no internals leak to the caller
    assert any("kaboom" in (rec.exc_text or "") or "kaboom" in rec.getMessage() for rec in caplog.records)
