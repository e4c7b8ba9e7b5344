"""The SMS assistant through Twilio's signed inbound webhook (recorded payloads in webhooks/twilio/fixtures):
answers with live prices, books "any spots Saturday morning?" → 3 times → "2" → held → YES, keeps state between
texts, and never lets one number see or cancel another's lesson."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.ai import knowledge
from nexdrive.services.core.actors import SYSTEM
from tests.booking_helpers import only_instructor, open_instructor
from tests.factories import make_student, make_user
from webhooks.twilio.tests.test_twilio_webhooks import INBOUND, signed_post, snapshot, twilio  # noqa: F401

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LEARNER = "+61412000111"  # the recorded payloads' sender


def recorded(name: str, **changes) -> dict:
    return {**json.loads((FIXTURES / name).read_text()), **changes}


def text(client, body: str, phone: str = LEARNER):
    return signed_post(client, INBOUND, recorded("inbound_sms_question.json", Body=body, From=phone,
                                                 MessageSid="SM" + uuid.uuid4().hex))


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
        return {"service": service.id, "student": student.id, "price": service.price_cents}


def replies(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT body FROM outbox_messages WHERE template = 'assistant_reply' "
                                         "ORDER BY created_at")).scalars())


def test_a_recorded_price_question_is_answered_once_from_the_services_table(twilio, engine, school):  # noqa: F811
    payload = recorded("inbound_sms_question.json")
    assert signed_post(twilio, INBOUND, payload).status_code == 200
    assert signed_post(twilio, INBOUND, payload).status_code == 200  # Twilio's retry: nothing twice
    [reply] = replies(engine)
    assert reply.startswith("NexDrive Academy: ") and f"${school['price'] / 100:.2f}" in reply


def test_booking_by_sms_offers_three_times_holds_one_and_confirms(twilio, engine, school):  # noqa: F811
    assert signed_post(twilio, INBOUND, recorded("inbound_sms_spots.json")).status_code == 200
    offer = replies(engine)[-1]
    assert "Reply 1, 2 or 3" in offer and "1)" in offer
    choice = "2" if "2)" in offer else "1"
    text(twilio, choice)
    assert "held for you" in replies(engine)[-1]
    text(twilio, "YES")  # answers the assistant's question, not the attendance keyword
    assert "is confirmed" in replies(engine)[-1]
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, booked_via, student_id FROM bookings")).one()
        confirmations = conn.execute(sa.text("SELECT count(*) FROM outbox_messages "
                                             "WHERE template = 'booking_confirmation'")).scalar()
    assert (row.status, row.booked_via, row.student_id) == ("confirmed", "sms", school["student"])
    assert confirmations >= 1


def test_another_number_cannot_see_or_cancel_the_lesson(twilio, engine, school):  # noqa: F811
    signed_post(twilio, INBOUND, recorded("inbound_sms_spots.json"))
    text(twilio, "1")
    text(twilio, "yes")
    stranger = "+61412000999"
    text(twilio, "please cancel my lesson", phone=stranger)
    assert "couldn't find" in replies(engine)[-1]
    text(twilio, "CANCEL 1", phone=stranger)
    text(twilio, "yes", phone=stranger)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM bookings")).scalar() == "confirmed"
        bodies = " ".join(conn.execute(sa.text("SELECT body FROM outbox_messages WHERE recipient = :p"),
                                       {"p": stranger}).scalars())
    assert "3 Learner Way" not in bodies and "Sam" not in bodies


def test_a_forged_text_changes_nothing(twilio, engine, school):  # noqa: F811
    before = snapshot(engine)
    forged = signed_post(twilio, INBOUND, recorded("inbound_sms_spots.json"), tamper={"Body": "cancel my lesson"})
    assert forged.status_code == 403 and snapshot(engine) == before


def test_stop_and_help_still_work_as_keywords(twilio, engine, school):  # noqa: F811
    text(twilio, "HELP")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE template = 'sms_reply'")).scalar() == 1
    assert replies(engine) == []
