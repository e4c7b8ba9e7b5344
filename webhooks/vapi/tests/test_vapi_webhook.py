"""Vapi's server URL with recorded messages (webhooks/vapi/fixtures): the assistant's configuration, tool calls
that book through the booking engine, call logs; forged, unauthenticated and replayed requests change nothing;
a caller cannot see or cancel another person's lesson."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from nexdrive import adapters
from nexdrive.db import session_scope
from nexdrive.services.ai import knowledge
from nexdrive.services.core.actors import SYSTEM
from nexdrive.settings import reset_settings
from nexdrive.http_app import build_api
from tests.booking_helpers import only_instructor, open_instructor
from tests.factories import make_student, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
URL = "/api/v1/voice/vapi"
SECRET = "vapi-test-secret-0123456789"
LEARNER = "+61412000111"  # the recorded calls' customer number


def recorded(name: str, *, number: str | None = None, call_id: str | None = None) -> dict:
    doc = json.loads((FIXTURES / name).read_text())
    msg = doc["message"]
    if number:
        msg["call"]["customer"]["number"] = msg["customer"]["number"] = number
    if call_id:
        msg["call"]["id"] = call_id
    return doc


@pytest.fixture
def client(engine, monkeypatch):
    monkeypatch.setenv("VAPI_SECRET", SECRET)
    reset_settings()
    adapters.reset_adapters()
    yield TestClient(build_api())
    monkeypatch.undo()
    reset_settings()
    adapters.reset_adapters()


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        s.execute(sa.text("UPDATE services SET is_active = false WHERE id <> :i"), {"i": service.id})
        student = make_student(s, instructor)
        s.execute(sa.text("UPDATE profiles SET phone = :p, address_line1 = '3 Learner Way', suburb = 'Woden' "
                          "WHERE id = (SELECT profile_id FROM students WHERE id = :s)"),
                  {"p": LEARNER, "s": student.id})
        make_user(s, "admin", "Olive")
        knowledge.index_documents(s, SYSTEM)
        return {"student": student.id}


def post(client, body: dict, secret: str | None = SECRET):
    headers = {"x-vapi-secret": secret} if secret else {}
    return client.post(URL, content=json.dumps(body), headers={**headers, "content-type": "application/json"})


def result(response) -> str:
    assert response.status_code == 200, response.text
    [item] = response.json()["results"]
    return item["result"]


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("webhook_events", "conversations", "messages", "bookings", "call_logs")}


def test_assistant_request_returns_the_schools_assistant_with_its_tools(client, engine, school):
    response = post(client, recorded("assistant_request.json"))
    assert response.status_code == 200
    assistant = response.json()["assistant"]
    names = {t["function"]["name"] for t in assistant["model"]["tools"]}
    assert {"check_availability", "book_time", "cancel_booking", "answer_question", "take_message"} <= names
    assert "NexDrive Academy" in assistant["model"]["messages"][0]["content"]


def test_a_caller_books_by_voice_and_the_call_is_logged(client, engine, school):
    offer = result(post(client, recorded("tool_calls_check_availability.json")))
    assert "Reply 1, 2 or 3" in offer or "1)" in offer
    held = result(post(client, recorded("tool_calls_book_time.json")))
    assert "held for you" in held
    done = result(post(client, recorded("tool_calls_confirm_booking.json")))
    assert "confirmed" in done
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, booked_via, student_id FROM bookings")).one()
    assert (row.status, row.booked_via, row.student_id) == ("confirmed", "voice_agent", school["student"])
    assert post(client, recorded("status_update_in_progress.json")).status_code == 200
    report = recorded("end_of_call_report.json")
    assert post(client, report).status_code == 200
    assert post(client, report).status_code == 200  # a replayed report updates the same row
    with engine.connect() as conn:
        [log] = conn.execute(sa.text("SELECT caller_phone, resolution, transcript, summary, duration_seconds, "
                                     "requires_callback FROM call_logs")).all()
    assert log.caller_phone == LEARNER and log.resolution == "booking_made" and log.duration_seconds == 196
    assert "booked" in log.summary and log.transcript.startswith("AI:") and not log.requires_callback


def test_a_replayed_tool_call_gets_the_first_answer_and_changes_nothing(client, engine, school):
    result(post(client, recorded("tool_calls_check_availability.json")))
    first = result(post(client, recorded("tool_calls_book_time.json")))
    before = snapshot(engine)
    again = result(post(client, recorded("tool_calls_book_time.json")))
    assert again == first and snapshot(engine) == before


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_forged_and_unauthenticated_requests_change_nothing(client, engine, school, secret):
    before = snapshot(engine)
    for name in ("tool_calls_check_availability.json", "tool_calls_cancel_booking.json", "end_of_call_report.json"):
        assert post(client, recorded(name), secret=secret).status_code == 403
    assert snapshot(engine) == before


def test_without_a_configured_secret_everything_is_refused(engine, school, monkeypatch):
    monkeypatch.delenv("VAPI_SECRET", raising=False)
    reset_settings()
    client = TestClient(build_api())
    assert post(client, recorded("assistant_request.json")).status_code == 403


def test_a_caller_cannot_see_or_cancel_another_persons_lesson(client, engine, school):
    result(post(client, recorded("tool_calls_check_availability.json")))
    result(post(client, recorded("tool_calls_book_time.json")))
    result(post(client, recorded("tool_calls_confirm_booking.json")))
    stranger = dict(number="+61412000999", call_id="9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b")
    found = result(post(client, recorded("tool_calls_find_my_booking.json", **stranger)))
    assert "couldn't find" in found and "Woden" not in found
    cancel = result(post(client, recorded("tool_calls_cancel_booking.json", **stranger)))
    assert "cancelled" not in cancel
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM bookings")).scalar() == "confirmed"


def test_the_caller_cancels_their_own_lesson(client, engine, school):
    result(post(client, recorded("tool_calls_check_availability.json")))
    result(post(client, recorded("tool_calls_book_time.json")))
    result(post(client, recorded("tool_calls_confirm_booking.json")))
    later = recorded("tool_calls_cancel_booking.json", call_id="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    assert "is cancelled" in result(post(client, later))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM bookings")).scalar() == "cancelled"


def test_questions_and_messages_by_voice(client, engine, school):
    answer = result(post(client, recorded("tool_calls_answer_question.json")))
    assert "100 hours" in answer
    taken = result(post(client, recorded("tool_calls_take_message.json", number="+61412000777")))
    assert "passed this on" in taken
    report = copy.deepcopy(recorded("end_of_call_report.json", number="+61412000777"))
    post(client, report)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT requires_callback, resolution, external_call_id FROM call_logs "
                                    "WHERE caller_phone = '+61412000777'")).all()
    assert len(rows) == 1 and rows[0].requires_callback and rows[0].resolution == "callback_scheduled"
