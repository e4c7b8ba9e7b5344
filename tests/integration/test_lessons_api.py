"""/api/v1 lessons and competencies (architecture §4.2.4, §4.2.5): the envelope, the rules, OpenAPI."""
from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import Instructor, Student, User
from nexdrive.services.core import clock
from nexdrive.services.identity import accounts
from tests.api_server import serve_api
from tests.compliance_helpers import make_school, monday, pinned_now, png

TABLES = ("lessons", "lesson_counters", "signatures", "student_competencies", "lesson_disputes")


@pytest.fixture
def api(engine):
    with clock.pinned(pinned_now()):
        with serve_api() as base:
            yield base


@pytest.fixture
def world(engine):
    with session_scope(engine) as s:
        school = make_school(s)
        ins_user = s.get(Instructor, school.instructor_id).user_id
        stu_user = s.get(Student, school.student_id).user_id
    return school, bearer(engine, ins_user), bearer(engine, stu_user)


def bearer(engine, user_id) -> dict:
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, user_id), None, None)
    return {"Authorization": f"Bearer {issued.token}"}


def counts(engine) -> dict:
    with session_scope(engine) as s:
        return {t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def envelope(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def body(school, start, **kw):
    return {"student_id": str(school.student_id), "start_time": start.isoformat(),
            "end_time": (start + timedelta(hours=1)).isoformat(), "location_suburb": "Kambah", **kw}


def test_record_sign_read_and_verify_through_the_api(api, engine, world):
    school, ins, stu = world
    cid = str(uuid.uuid4())
    r = httpx.post(f"{api}/api/v1/lessons", json=body(school, monday(), competencies_taught=[1, 2], client_id=cid),
                   headers=ins)
    assert r.status_code == 201, r.text
    lesson = r.json()["data"]
    assert lesson["lesson_number"] == 1 and lesson["status"] == "draft"
    again = httpx.post(f"{api}/api/v1/lessons", json=body(school, monday(), competencies_taught=[1, 2],
                                                           client_id=cid), headers=ins)
    assert again.status_code == 200 and again.json()["data"]["id"] == lesson["id"]
    r = httpx.patch(f"{api}/api/v1/lessons/{lesson['id']}", json={"comments": "Calm and careful."}, headers=ins)
    assert r.status_code == 200 and r.json()["data"]["comments"] == "Calm and careful."
    r = httpx.post(f"{api}/api/v1/lessons/{lesson['id']}/sign", json={"signature_image": png()}, headers=ins)
    assert r.json()["data"]["lesson_status"] == "pending_student_signature", r.text
    r = httpx.post(f"{api}/api/v1/lessons/{lesson['id']}/sign",
                   json={"signature_image": "data:image/png;base64," + png(seed=5),
                         "device_time": pinned_now().isoformat(), "gps_latitude": -35.28, "gps_longitude": 149.13},
                   headers=stu)
    assert r.json()["data"]["lesson_status"] == "completed", r.text
    sig_id = r.json()["data"]["signature_id"]
    image = httpx.get(f"{api}/api/v1/signatures/{sig_id}/image", headers=stu)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    r = httpx.get(f"{api}/api/v1/lessons/{lesson['id']}/verify", headers=ins)
    assert r.json()["data"]["ok"] is True, r.text
    r = httpx.get(f"{api}/api/v1/students/{school.student_id}/competencies", headers=stu)
    rows = {c["task_number"]: c for c in r.json()["data"]["competencies"]}
    assert rows[1]["status"] == "taught" and rows[1]["can_assess"] is True
    assert rows[3]["can_assess"] is False and rows[3]["blocked_by"][0]["rule"] == "NOT_TAUGHT_YET"
    assert r.json()["data"]["summary"]["total"] == 23
    r = httpx.get(f"{api}/api/v1/students/{school.student_id}/certificate-eligibility", headers=ins)
    data = r.json()["data"]
    assert data["eligible"] is False and data["missing_tasks"][:2] == [1, 2] and data["missing_reviews"] == [101, 102]
    r = httpx.get(f"{api}/api/v1/students/{school.student_id}/lesson-history", headers=stu)
    assert [x["lesson_number"] for x in r.json()["data"]["lessons"]] == [1]
    r = httpx.get(f"{api}/api/v1/competency-tasks", headers=stu)
    assert len(r.json()["data"]["tasks"]) == 25


def test_refusals_come_in_the_envelope_and_change_nothing(api, engine, world):
    school, ins, stu = world
    before = counts(engine)
    cases = [
        (body(school, monday(), competencies_taught=[1], competencies_assessed=[1]), 422, "COMPETENCY_LOCKED"),
        (body(school, monday(), competencies_assessed=[4]), 422, "COMPETENCY_LOCKED"),
        (body(school, monday(), competencies_taught=[77]), 422, "VALIDATION_ERROR"),
        (body(school, monday(), odo_start=500, odo_end=400), 422, "VALIDATION_ERROR"),
        (body(school, pinned_now() + timedelta(days=1)), 422, "VALIDATION_ERROR"),
        (body(school, monday(), comments="z" * 4001), 422, "VALIDATION_ERROR"),
        (body(school, monday(), surprise="field"), 422, "VALIDATION_ERROR"),
    ]
    for payload, status, code in cases:
        err = envelope(httpx.post(f"{api}/api/v1/lessons", json=payload, headers=ins), status, code)
        if code == "COMPETENCY_LOCKED":
            assert err["details"]["tasks"] and err["details"]["blocked_by"], err
    envelope(httpx.post(f"{api}/api/v1/lessons", json=body(school, monday()), headers=stu), 403, "FORBIDDEN")
    envelope(httpx.post(f"{api}/api/v1/lessons", json=body(school, monday())), 401, "AUTH_REQUIRED")
    assert counts(engine) == before
    lesson = httpx.post(f"{api}/api/v1/lessons", json=body(school, monday(), competencies_taught=[1]),
                        headers=ins).json()["data"]
    before = counts(engine)
    for image in (png(blank=True), "aGVsbG8gd29ybGQ=", png(blank=True, transparent=True)):
        envelope(httpx.post(f"{api}/api/v1/lessons/{lesson['id']}/sign", json={"signature_image": image},
                            headers=ins), 422, "VALIDATION_ERROR")
    envelope(httpx.post(f"{api}/api/v1/lessons/{lesson['id']}/sign", json={"signature_image": png()},
                        headers=stu), 409, "INVALID_STATE")  # the instructor signs first
    assert counts(engine) == before


def test_openapi_lists_the_lesson_and_competency_routes(api):
    spec = httpx.get(f"{api}/api/v1/openapi.json").json()
    for path in ("/api/v1/lessons", "/api/v1/lessons/{lesson_id}", "/api/v1/lessons/{lesson_id}/sign",
                 "/api/v1/lessons/{lesson_id}/correction", "/api/v1/lessons/{lesson_id}/dispute",
                 "/api/v1/competency-tasks", "/api/v1/students/{student_id}/competencies",
                 "/api/v1/students/{student_id}/certificate-eligibility"):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/v1/lessons"]["post"]
    assert "422" in post["responses"] and "ErrorEnvelope" in str(post["responses"]["422"])
