"""A texter the school doesn't know books by SMS, giving their details by text (signed Twilio webhooks): the
hold is the widget's kind of booking row with those details, the number becomes a lead, and another number
can't see or cancel it."""
from __future__ import annotations

import sqlalchemy as sa

from webhooks.twilio.tests.test_sms_assistant import recorded, replies, school, text  # noqa: F401
from webhooks.twilio.tests.test_twilio_webhooks import INBOUND, signed_post, twilio  # noqa: F401

VISITOR = "+61412000333"
OTHER = "+61412000444"


def test_a_visitor_books_by_sms_giving_details_by_text(twilio, engine, school):  # noqa: F811
    signed_post(twilio, INBOUND, recorded("inbound_sms_spots.json", From=VISITOR, MessageSid="SMvisitor0001"))
    assert "Reply 1, 2 or 3" in replies(engine)[-1]
    text(twilio, "1", phone=VISITOR)
    assert "name, email and pick-up suburb" in replies(engine)[-1]
    text(twilio, "Jo Smith jo.smith@example.com 12 Example Street, Belconnen", phone=VISITOR)
    assert "held for you" in replies(engine)[-1]
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, booked_via, student_id, booker_name, booker_email, booker_phone, "
                                   "pickup_address, suburb, contact_id FROM bookings")).one()
        lead = conn.execute(sa.text("SELECT count(*) FROM contacts WHERE phone = :p"), {"p": VISITOR}).scalar()
    assert (row.status, row.booked_via, row.student_id) == ("held", "sms", None)
    assert (row.booker_name, row.booker_email, row.booker_phone) == ("Jo Smith", "jo.smith@example.com", VISITOR)
    assert row.suburb == "Belconnen" and "12 Example Street" in row.pickup_address
    assert row.contact_id is not None and lead == 1
    # Someone else texting can't see or cancel it; nothing of Jo's reaches them.
    text(twilio, "when is my next lesson", phone=OTHER)
    text(twilio, "CANCEL 1", phone=OTHER)
    text(twilio, "yes", phone=OTHER)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM bookings")).scalar() == "held"
        bodies = " ".join(conn.execute(sa.text("SELECT body FROM outbox_messages WHERE recipient = :p"),
                                       {"p": OTHER}).scalars())
    assert "Jo" not in bodies and "Example Street" not in bodies and "Belconnen" not in bodies


def test_details_without_an_email_are_asked_for_again_and_nothing_is_held(twilio, engine, school):  # noqa: F811
    signed_post(twilio, INBOUND, recorded("inbound_sms_spots.json", From=VISITOR, MessageSid="SMvisitor0002"))
    text(twilio, "2", phone=VISITOR)
    text(twilio, "Jo Smith, 12 Example Street Belconnen", phone=VISITOR)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM bookings")).scalar() == 0
