"""A caller the school doesn't know books by voice with the details spoken (Vapi's tool-call shapes, recorded in
webhooks/vapi/fixtures): the hold is the widget's kind of booking row; replayed tool calls (a hold, a cancel)
change nothing; another caller can neither find, cancel nor move that lesson."""
from __future__ import annotations

import copy
import uuid

import sqlalchemy as sa

from webhooks.vapi.tests.test_vapi_webhook import client, post, recorded, result, school, snapshot  # noqa: F401

VISITOR = "+61412000333"
OTHER = "+61412000444"
DETAILS = {"name": "Jo Smith", "email": "jo.smith@example.com", "pickup_address": "12 Example Street",
           "suburb": "Belconnen"}


def tool(name: str, args: dict, *, number: str, call_id: str, tool_id: str | None = None) -> dict:
    """A recorded tool-calls message with this function, arguments, caller and call id."""
    doc = copy.deepcopy(recorded("tool_calls_book_time.json", number=number, call_id=call_id))
    call = {"id": tool_id or "call_" + uuid.uuid4().hex[:12], "type": "function",
            "function": {"name": name, "arguments": args}}
    doc["message"]["toolCallList"] = [call]
    doc["message"]["toolWithToolCallList"] = [{"type": "function", "function": {"name": name}, "toolCall": call}]
    return doc


def book_as_visitor(client, call_id: str) -> dict:  # noqa: F811
    offer = result(post(client, tool("check_availability", {"when": "next week"}, number=VISITOR, call_id=call_id)))
    assert "1)" in offer
    message = tool("book_time", {"option": 1, **DETAILS}, number=VISITOR, call_id=call_id)
    held = result(post(client, message))
    assert "held for you" in held, held
    return message


def test_a_visitor_books_by_voice_with_spoken_details_and_a_replayed_hold_changes_nothing(client, engine,  # noqa: F811
                                                                                           school):  # noqa: F811
    message = book_as_visitor(client, str(uuid.uuid4()))
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, booked_via, student_id, booker_name, booker_email, booker_phone, "
                                   "pickup_address, suburb, contact_id FROM bookings")).one()
    assert (row.status, row.booked_via, row.student_id) == ("held", "voice_agent", None)
    assert (row.booker_name, row.booker_email, row.booker_phone) == ("Jo Smith", DETAILS["email"], VISITOR)
    assert (row.pickup_address, row.suburb) == ("12 Example Street", "Belconnen") and row.contact_id is not None
    before = snapshot(engine)
    again = post(client, message)  # Vapi retries the same tool call
    assert "held for you" in result(again) and snapshot(engine) == before


def test_another_caller_cannot_find_cancel_or_move_a_visitors_lesson(client, engine, school):  # noqa: F811
    call = str(uuid.uuid4())
    book_as_visitor(client, call)
    assert "Booked" in result(post(client, tool("confirm_booking", {}, number=VISITOR, call_id=call)))
    other = str(uuid.uuid4())
    found = result(post(client, tool("find_my_booking", {}, number=OTHER, call_id=other)))
    assert "couldn't find" in found and "Jo" not in found and "Belconnen" not in found
    for name, args in (("cancel_booking", {"option": 1, "confirmed": True}),
                       ("move_booking", {"option": 1, "new_time_option": 1})):
        said = result(post(client, tool(name, args, number=OTHER, call_id=other)))
        assert "cancelled" not in said and "moved" not in said
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, start_time FROM bookings")).one()
    assert row.status == "confirmed"
    # The visitor themself, calling again from the same number, finds it.
    mine = result(post(client, tool("find_my_booking", {}, number=VISITOR, call_id=str(uuid.uuid4()))))
    assert "Your upcoming lessons" in mine


def test_a_replayed_cancel_cancels_once_and_queues_one_message(client, engine, school):  # noqa: F811
    call = str(uuid.uuid4())
    book_as_visitor(client, call)
    result(post(client, tool("confirm_booking", {}, number=VISITOR, call_id=call)))
    cancel = tool("cancel_booking", {"option": 1, "confirmed": True}, number=VISITOR, call_id=str(uuid.uuid4()))
    first = result(post(client, cancel))
    assert "is cancelled" in first
    with engine.connect() as conn:
        outbox = conn.execute(sa.text("SELECT count(*) FROM outbox_messages")).scalar()
    before = snapshot(engine)
    assert result(post(client, cancel)) == first
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM outbox_messages")).scalar() == outbox
        assert conn.execute(sa.text("SELECT status FROM bookings")).scalar() == "cancelled"
    assert snapshot(engine) == before
