"""Whose booking is it: a booking belongs to the person who made it, never to whoever shares a detail."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexdrive.adapters import override
from nexdrive.adapters.payments import LocalGateway
from nexdrive.db import session_scope
from nexdrive.models import Instructor
from nexdrive.services import access, booking, contacts, payments
from nexdrive.services.actors import SYSTEM, VISITOR, Actor
from nexdrive.settings import Settings
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_student, make_user

TUESDAY = weekday_ahead(1)
VISITOR_DETAILS = dict(name="Vera Visitor", phone="0400 000 000", email="vera@example.com",
                       pickup_address="5 Other St", suburb="Kambah")


@pytest.fixture(autouse=True)
def local_gateway():
    override("payments", LocalGateway(Settings(stripe_secret_key="")))
    yield
    override("payments", None)


@pytest.fixture
def school(engine):
    """A learner with an account (mobile +61400000000) and their CRM contact linked to it."""
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        learner = make_student(s, s.get(Instructor, instructor.id))
        profile = s.execute(sa.text("SELECT first_name, last_name, email, phone FROM profiles p JOIN students st "
                                    "ON st.profile_id = p.id WHERE st.id = :s"), {"s": learner.id}).one()
        contact = contacts.record_contact(s, SYSTEM, name=f"{profile.first_name} {profile.last_name}",
                                          phone=profile.phone, email=profile.email, user_id=learner.user_id,
                                          stage="active")
        admin_user, _ = make_user(s, "admin", "Ada")
        return {"instructor": instructor.id, "service": service.id, "student": learner.id,
                "student_user": learner.user_id, "learner_email": profile.email, "learner_phone": profile.phone,
                "learner_name": f"{profile.first_name} {profile.last_name}", "contact": contact.id,
                "admin": Actor(role="admin", user_id=admin_user.id)}


def _snapshot(s, school):
    contact = s.execute(sa.text("SELECT first_name, last_name, phone, email, user_id, source_detail "
                                "FROM contacts WHERE id = :c"), {"c": school["contact"]}).one()
    account = s.execute(sa.text("SELECT u.email, u.updated_at, p.first_name, p.last_name, p.phone, p.email, "
                                "p.updated_at FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = :u"),
                        {"u": school["student_user"]}).one()
    return tuple(contact), tuple(account)


def test_a_visitor_typing_a_learners_mobile_books_for_themselves(engine, school):
    with session_scope(engine) as s:
        before = _snapshot(s, school)
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "10:00"),
                                **VISITOR_DETAILS)
        booking_id, token = r.booking.id, r.manage_token
        assert r.summary["learner_first_name"] == "Vera"
    with session_scope(engine) as s:  # pays by card (local gateway): confirmation, manage link and receipt
        payments.start_booking_checkout(s, VISITOR, booking_id=booking_id, manage_token=token)

    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT student_id, contact_id, status, payment_status, booked_by FROM bookings "
                                "WHERE id = :b"), {"b": booking_id}).one()
        assert row.student_id is None and row.booked_by is None
        assert row.status == "confirmed" and row.payment_status == "paid"
        assert row.contact_id != school["contact"]
        assert _snapshot(s, school) == before  # the learner's account, email and contact row untouched
        contact_user = s.execute(sa.text("SELECT user_id FROM contacts WHERE id = :c"), {"c": row.contact_id}).scalar()
        assert contact_user is None
        mail = s.execute(sa.text("SELECT template, recipient, body FROM outbox_messages WHERE channel = 'email'"
                                 )).all()
        to_visitor = {m.template for m in mail if m.recipient == "vera@example.com"}
        assert {"booking_confirmation", "payment_received"} <= to_visitor
        confirmation = next(m for m in mail if m.template == "booking_confirmation")
        assert confirmation.recipient == "vera@example.com" and "/booking/manage?token=" in confirmation.body
        assert not [m for m in mail if m.recipient == school["learner_email"]]
        everything = s.execute(sa.text("SELECT recipient FROM outbox_messages")).scalars().all()
        assert school["learner_email"] not in everything
        assert not s.execute(sa.text("SELECT count(*) FROM notifications WHERE recipient_id = :u"),
                             {"u": school["student_user"]}).scalar()
        staff_notice = s.execute(sa.text("SELECT body FROM notifications WHERE recipient_id = :u AND "
                                         "notification_type = 'booking_new'"),
                                 {"u": school["admin"].user_id}).scalar()
        assert staff_notice.startswith("Vera Visitor booked") and "Sam" not in staff_notice
        buyer = s.execute(sa.text("SELECT i.buyer_snapshot FROM invoices i JOIN payments p ON p.id = i.payment_id "
                                  "WHERE p.booking_id = :b"), {"b": booking_id}).scalar()
        assert (buyer["name"], buyer["email"]) == ("Vera Visitor", "vera@example.com")
        # The learner's own views don't show it; staff see the likely match, nothing merged.
        learner = Actor(role="student", user_id=school["student_user"], student_id=school["student"])
        assert booking.list_my_bookings(s, learner)["bookings"] == []
        listed = {b["id"]: b for b in access.list_bookings(s, school["admin"])}
        assert listed[booking_id]["possible_match"] == f"possibly the same person as {school['learner_name']}"


def test_an_unauthenticated_booking_never_fills_or_changes_an_existing_contact(engine, school):
    """A prospect contact with only an email: a visitor typing that email plus a mobile gets their own contact."""
    with session_scope(engine) as s:
        prospect = contacts.record_contact(s, SYSTEM, name="Pat Prospect", phone=None, email="pat@example.com")
        prospect_id = prospect.id
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, "12:00"),
                                name="Someone Else", phone="0411 111 111", email="pat@example.com",
                                pickup_address="1 A St", suburb="Kambah")
        booking_id = r.booking.id
    with session_scope(engine) as s:
        pat = s.execute(sa.text("SELECT first_name, phone, email, total_interactions FROM contacts WHERE id = :c"),
                        {"c": prospect_id}).one()
        assert tuple(pat) == ("Pat", None, "pat@example.com", 1)
        row = s.execute(sa.text("SELECT b.contact_id, c.first_name, c.phone, c.email FROM bookings b "
                                "JOIN contacts c ON c.id = b.contact_id WHERE b.id = :b"), {"b": booking_id}).one()
        assert row.contact_id != prospect_id
        assert (row.first_name, row.phone, row.email) == ("Someone", "+61411111111", None)


def test_an_enquiry_with_a_learners_email_is_not_filed_under_the_learner(engine, school):
    with session_scope(engine) as s:
        before = _snapshot(s, school)
        contact = contacts.record_enquiry(s, VISITOR, name="Ella Enquirer", phone="0422 222 222",
                                          email=school["learner_email"], message="Do you teach manual?")
        contact_id = contact.id
    with session_scope(engine) as s:
        assert _snapshot(s, school) == before
        assert contact_id != school["contact"]
        assert s.execute(sa.text("SELECT user_id FROM contacts WHERE id = :c"), {"c": contact_id}).scalar() is None
        body = s.execute(sa.text("SELECT body FROM outbox_messages WHERE template = 'enquiry_received'")).scalar()
        assert "0422 222 222" in body and school["learner_email"] in body
        assert f"Possibly the same person as {school['learner_name']}" in body


def test_a_new_number_texting_in_does_not_take_over_a_contact(engine, school):
    from nexdrive.services import sms_replies
    with session_scope(engine) as s:
        before = _snapshot(s, school)
        sms_replies.handle_inbound_sms(s, from_number="+61433333333", body="Hi, do you have Saturday lessons?",
                                       message_sid="SM-trust-1")
    with session_scope(engine) as s:
        assert _snapshot(s, school) == before
        new = s.execute(sa.text("SELECT user_id, phone FROM contacts WHERE phone = '+61433333333'")).one()
        assert new.user_id is None
