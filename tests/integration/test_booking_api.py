"""The public booking API over real HTTP (uvicorn) on the real database: envelopes, races, replays."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.identity import accounts
from tests.api_server import serve_api
from tests.booking_helpers import only_instructor, open_instructor, weekday_ahead

TUESDAY = weekday_ahead(1)
PASSWORD = "kangaroo paddock sunrise"



@pytest.fixture
def api(engine):
    """The FastAPI app served by uvicorn in a thread, so requests really run concurrently."""
    with serve_api() as base:
        yield base


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        return {"instructor": str(instructor.id), "service": str(service.id), "slug": service.slug}


def reserve_body(school, start="10:00", n=0, **extra):
    return {"service_id": school["service"], "date": TUESDAY.isoformat(), "start_time": start,
            "contact": {"name": f"Visitor {n}", "phone": f"04{n:08d}", "email": f"v{n}@example.com"},
            "pickup_address": "1 Test St", "suburb": "Belconnen", **extra}


def envelope(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def count(engine, where="true"):
    with session_scope(engine) as s:
        return s.execute(sa.text(f"SELECT count(*) FROM bookings WHERE {where}")).scalar()


def test_services_and_availability_are_public(api, school):
    services = httpx.get(api + "/api/v1/booking/services").json()["data"]["services"]
    assert any(s["id"] == school["service"] and s["price_cents"] == 8500 and s["price"] == "$85.00" for s in services)
    r = httpx.get(api + "/api/v1/booking/availability", params={
        "service_id": school["slug"], "date_from": TUESDAY.isoformat(), "date_to": TUESDAY.isoformat()})
    day = r.json()["slots"][0]
    assert day["date"] == TUESDAY.isoformat()
    assert day["times"][0] == {**day["times"][0], "start": "08:00", "end": "09:00", "available": True}
    envelope(httpx.get(api + "/api/v1/booking/availability", params={
        "service_id": school["slug"], "date_from": TUESDAY.isoformat(), "date_to": "2020-01-01"}),
        422, "VALIDATION_ERROR")
    envelope(httpx.get(api + "/api/v1/booking/availability", params={"service_id": "no-such-lesson"}),
             404, "NOT_FOUND")


def test_availability_is_sent_once_and_gzipped(api, school):
    """Issue 17: each day and time once (no second copy of the list), compressed for clients that accept it."""
    params = {"service_id": school["slug"], "date_from": TUESDAY.isoformat(),
              "date_to": (TUESDAY + timedelta(days=13)).isoformat()}
    r = httpx.get(api + "/api/v1/booking/availability", params=params, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    body = r.json()
    assert r.num_bytes_downloaded < len(r.content) / 4
    assert "slots" not in body["data"] and body["data"]["service_id"] == school["service"]
    time_ = body["slots"][0]["times"][0]
    assert set(time_) == {"start", "end", "start_at", "label", "available", "instructor_ids"}
    assert body["slots"][0]["label"] and time_["label"] == "8:00 am"
    plain = httpx.get(api + "/api/v1/booking/availability", params=params, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == body


def test_reserve_confirm_and_a_replayed_confirm_changes_nothing(api, engine, school):
    r = httpx.post(api + "/api/v1/booking/reserve", json=reserve_body(school))
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["booking_summary"]["when"].endswith("10:00 am – 11:00 am") and data["expires_at"].endswith("Z")
    body = {"reservation_id": data["reservation_id"], "manage_token": data["manage_token"]}
    first = httpx.post(api + "/api/v1/booking/confirm", json=body)
    assert first.status_code == 200 and first.json()["data"]["booking"]["status"] == "confirmed"
    with session_scope(engine) as s:
        before = s.execute(sa.text("SELECT updated_at, (SELECT count(*) FROM outbox_messages) AS n, "
                                   "(SELECT count(*) FROM audit_log) AS a FROM bookings")).one()
    replies = [httpx.post(api + "/api/v1/booking/confirm", json=body) for _ in range(3)]
    assert all(r.status_code == 200 and r.json()["data"]["booking"]["status"] == "confirmed" for r in replies)
    with session_scope(engine) as s:
        after = s.execute(sa.text("SELECT updated_at, (SELECT count(*) FROM outbox_messages) AS n, "
                                  "(SELECT count(*) FROM audit_log) AS a FROM bookings")).one()
    assert before == after
    # The visitor manages it with the token: detail, calendar file.
    headers = {"X-Manage-Token": data["manage_token"]}
    detail = httpx.get(api + f"/api/v1/bookings/{data['reservation_id']}", headers=headers)
    assert detail.json()["data"]["status"] == "confirmed"
    ics = httpx.get(api + f"/api/v1/bookings/{data['reservation_id']}/calendar.ics", headers=headers)
    assert ics.headers["content-type"].startswith("text/calendar") and "BEGIN:VEVENT" in ics.text
    envelope(httpx.get(api + f"/api/v1/bookings/{data['reservation_id']}"), 401, "AUTH_REQUIRED")
    envelope(httpx.get(api + f"/api/v1/bookings/{data['reservation_id']}", headers={"X-Manage-Token": "nope"}),
             404, "NOT_FOUND")


def test_many_simultaneous_reserves_for_the_same_slot_one_wins(api, engine, school):
    barrier = threading.Barrier(20)

    def attempt(n):
        barrier.wait(timeout=10)
        return httpx.post(api + "/api/v1/booking/reserve", json=reserve_body(school, "10:00", n), timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 19, codes
    for r in results:
        if r.status_code == 409:
            error = envelope(r, 409, "BOOKING_CONFLICT")
            alternatives = error["details"]["suggested_alternatives"]
            assert len(alternatives) == 3 and all(a["start"] != "10:00" for a in alternatives)
    assert count(engine) == 1
    with session_scope(engine) as s:  # the losers' contact rows were rolled back with their requests
        assert s.execute(sa.text("SELECT count(*) FROM contacts")).scalar() == 1


def test_simultaneous_reserves_for_overlapping_slots_one_wins(api, engine, school):
    starts = ["09:30", "10:00", "10:30", "11:00"] * 4  # each pair overlaps once the 60 min + 15 min buffer counts
    barrier = threading.Barrier(len(starts))

    def attempt(args):
        n, start = args
        barrier.wait(timeout=10)
        return httpx.post(api + "/api/v1/booking/reserve", json=reserve_body(school, start, n), timeout=60)

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        results = list(pool.map(attempt, enumerate(starts)))
    winners = [r for r in results if r.status_code == 201]
    # 09:30 and 11:00 could both win (they are 15 minutes apart after the buffer); anything else overlaps.
    assert 1 <= len(winners) <= 2
    for r in results:
        if r.status_code != 201:
            envelope(r, 409, "BOOKING_CONFLICT")
    with session_scope(engine) as s:
        pairs = s.execute(sa.text("""SELECT count(*) FROM bookings a JOIN bookings b ON a.id < b.id
            WHERE tstzrange(a.start_time, a.blocked_until) && tstzrange(b.start_time, b.blocked_until)""")).scalar()
    assert pairs == 0


def test_bad_requests_get_the_envelope_and_change_nothing(api, engine, school):
    envelope(httpx.post(api + "/api/v1/booking/reserve", json={**reserve_body(school), "surprise": 1}),
             422, "VALIDATION_ERROR")
    bad_phone = reserve_body(school)
    bad_phone["contact"]["phone"] = "123"
    error = envelope(httpx.post(api + "/api/v1/booking/reserve", json=bad_phone), 422, "VALIDATION_ERROR")
    assert error["details"]["field"] == "phone"
    envelope(httpx.post(api + "/api/v1/booking/reserve", json=reserve_body(school, "25:00")), 422, "VALIDATION_ERROR")
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = 7"))
    envelope(httpx.post(api + "/api/v1/booking/reserve", json=reserve_body(school)), 422, "BOOKING_TOO_FAR")
    assert count(engine) == 0


def test_a_signed_in_student_lists_reschedules_and_cancels(api, engine, school):
    with session_scope(engine) as s:
        issued = accounts.sign_up_student(s, email="lee@example.com", password=PASSWORD, first_name="Lee",
                                          last_name="Learner", phone="0412 000 111",
                                          instructor_id=uuid.UUID(school["instructor"]))
    auth = {"Authorization": f"Bearer {issued.token}"}
    body = reserve_body(school, "09:00")
    body.pop("contact")
    r = httpx.post(api + "/api/v1/booking/reserve", json=body, headers=auth)
    assert r.status_code == 201, r.text
    booking_id = r.json()["data"]["reservation_id"]
    assert httpx.post(api + "/api/v1/booking/confirm", json={"reservation_id": booking_id},
                      headers=auth).status_code == 200
    mine = httpx.get(api + "/api/v1/bookings", headers=auth).json()
    assert [b["id"] for b in mine["data"]] == [booking_id] and mine["meta"]["has_more"] is False
    moved = httpx.patch(api + f"/api/v1/bookings/{booking_id}", json={"date": TUESDAY.isoformat(),
                                                                     "start_time": "13:00"}, headers=auth)
    assert moved.status_code == 200 and moved.json()["data"]["booking"]["start"] == "13:00"
    cancelled = httpx.post(api + f"/api/v1/bookings/{booking_id}/cancel", json={"reason": "Exams"}, headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["data"]["cancellation_fee"]["amount"] == 0
    # A student cannot record a no-show or waive a fee.
    envelope(httpx.post(api + f"/api/v1/bookings/{booking_id}/no-show", headers=auth), 403, "FORBIDDEN")
