"""Business facts come from one place, the ``business_settings`` row: change a setting and every
place that states it (website policy, booking summary, messages, email footer, receipts) follows."""
from __future__ import annotations

from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import BusinessSettings, OutboxMessage
from nexdrive.services.scheduling import booking
from nexdrive.services.scheduling import catalogue
from nexdrive.services.messaging import dispatch
from nexdrive.services.messaging import notify
from nexdrive.services.money import payments
from nexdrive.services.core.actors import SYSTEM
from tests.booking_helpers import at, open_instructor, weekday_ahead


def _set(engine, **values):
    with session_scope(engine) as s:
        row = s.get(BusinessSettings, 1)
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)


def test_website_contact_details_follow_the_settings(engine):
    _set(engine, phone="02 6200 1234", email="office@school.example")
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["phone_display"] == "(02) 6200 1234"
    assert policy["phone_href"] == "tel:+61262001234"
    assert policy["phone_international"] == "+61 2 6200 1234"
    assert policy["email"] == "office@school.example"
    _set(engine, phone="0412 555 000", email="owner@school.example")
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert (policy["phone_display"], policy["phone_href"]) == ("0412 555 000", "tel:+61412555000")
    assert policy["phone_international"] == ""  # a mobile reads the same from abroad
    assert policy["email"] == "owner@school.example"


def test_terms_follow_the_pay_later_setting(engine):
    _set(engine, allow_pay_later=False)
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["allow_pay_later"] is False
    assert "You pay by card when you book" in policy["payment_terms"]
    assert "pay at" not in policy["payment_terms"] + policy["confirmation_terms"]
    assert "once it is paid for" in policy["confirmation_terms"]
    _set(engine, allow_pay_later=True)
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["allow_pay_later"] is True
    assert "pay at or before your lesson" in policy["payment_terms"]
    assert "pay at the lesson" in policy["confirmation_terms"]


def test_gst_wording_follows_registration(engine):
    _set(engine, gst_registered=False)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        held = booking.reserve_slot(s, SYSTEM, service_id=service.id, instructor_id=instructor.id,
                                    start_time=at(weekday_ahead(1), "10:00"), pickup_address="1 Test St",
                                    suburb="Belconnen")
        summary = booking.booking_summary(s, held)
        assert summary["price_label"] == summary["price_display"]
        assert "GST" not in summary["price_label"]
        assert catalogue.booking_policy(s)["price_suffix"] == ""
        assert payments._amount_words(s) == "AUD, no GST"
        booking_id = held.id
    _set(engine, gst_registered=True)
    with session_scope(engine) as s:
        summary = booking.booking_summary(s, s.get(type(held), booking_id))
        assert summary["price_label"] == summary["price_display"] + " (GST incl.)"
        assert payments._amount_words(s) == "AUD, GST included"


def test_messages_are_signed_with_the_business_name_and_phone(engine):
    _set(engine, business_name="Harrison Driving", phone="+61 2 6200 1234")
    with session_scope(engine) as s:
        notify.queue_message(s, "callback_scheduled", to={"phone": "+61412555001"},
                             data={"when": "tomorrow at 10 am"}, idempotency_key="facts-callback")
        notify.queue_message(s, "payment_failed", to={"email": "mia@example.com", "first_name": "Mia"},
                             data={"amount_display": "$105.00"}, idempotency_key="facts-failed")
    with session_scope(engine) as s:
        rows = {m.channel + ":" + m.template: m for m in s.exec(select(OutboxMessage))}
    assert rows["sms:callback_scheduled"].body.startswith("Harrison Driving: ")
    email = rows["email:payment_failed"].body
    assert "NexDrive Academy" not in email
    assert email.rstrip().endswith("Harrison Driving\n(02) 6200 1234")


def test_email_footer_and_header_name_the_business_from_the_settings(engine):
    _set(engine, business_name="Harrison Driving", phone="02 6200 1234", email="office@school.example")
    with session_scope(engine) as s:
        msg = notify.queue(s, channel="email", recipient="mia@example.com", subject=None, template="note",
                           body="Hello.")
    built = dispatch.build_email(engine, {"id": msg.id, "recipient": msg.recipient, "subject": None,
                                          "body": msg.body, "template": msg.template, "template_data": {},
                                          "is_marketing": False})
    assert built.subject == "A message from Harrison Driving"
    assert "Harrison Driving, Canberra" in built.html
    assert "(02) 6200 1234" in built.html and "office@school.example" in built.html
    assert "NexDrive Academy" not in built.html


# ------------------------------------------------------------------ phone numbers (contact form vs SMS)

def test_the_contact_form_accepts_a_landline_but_sms_paths_still_need_a_mobile(engine):
    import pytest

    from nexdrive.models import Contact
    from nexdrive.services.core.actors import VISITOR
    from nexdrive.services.crm.contacts import normalise_au_mobile, record_enquiry
    from nexdrive.errors import ValidationFailed

    with session_scope(engine) as s:
        one = record_enquiry(s, VISITOR, name="Helen Park", phone="02 6123 4567", email=None,
                             message="Do you teach in Weston Creek?")
        two = record_enquiry(s, VISITOR, name="Raj Iyer", phone="+61 2 6200 9999", email="raj@example.com",
                             message="Evening lessons?")
        ids = (one.id, two.id)
    with session_scope(engine) as s:
        assert [s.get(Contact, i).phone for i in ids] == ["+61261234567", "+61262009999"]
        with pytest.raises(ValidationFailed):
            record_enquiry(s, VISITOR, name="Bad Number", phone="12345", email=None, message="Hi")
    with pytest.raises(ValidationFailed):
        normalise_au_mobile("02 6123 4567")  # SMS reminders need a mobile
