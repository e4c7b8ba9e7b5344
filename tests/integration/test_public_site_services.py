"""Service functions behind the public website, on a real PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import BusinessSettings, Contact, Instructor, OutboxMessage
from nexdrive.services.scheduling import catalogue
from nexdrive.data import seed
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.crm.contacts import Utm, record_enquiry
from nexdrive.errors import ValidationFailed
from tests.factories import make_instructor


def _set(engine, **values):
    with session_scope(engine) as s:
        row = s.get(BusinessSettings, 1)
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)


# ------------------------------------------------------------------ booking_policy


def test_booking_policy_reads_the_configured_notice_and_fee(engine):
    _set(engine, cancellation_notice_hours=48, late_cancellation_fee_cents=4250, gst_registered=True)
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["notice_hours"] == 48
    assert policy["notice"] == "48 hours"
    assert policy["late_fee_cents"] == 4250
    assert policy["late_fee"] == "$42.50"
    assert policy["has_late_fee"] is True
    assert "48 hours before it starts" in policy["cancellation"]
    assert "less than 48 hours' notice" in policy["late_cancellation"]
    assert "$42.50" in policy["late_cancellation"]
    assert "include GST" in policy["gst_note"]


def test_booking_policy_without_a_fee_and_not_gst_registered(engine):
    # 24 hours' notice, no fee (the owner turned it off), not registered for GST.
    _set(engine, late_cancellation_fee_cents=0)
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["notice_hours"] == 24
    assert policy["has_late_fee"] is False
    assert policy["late_fee"] == "$0.00"
    assert "don't charge a fee" in policy["late_cancellation"]
    assert "no GST is added" in policy["gst_note"]
    assert policy["business_name"] == "NexDrive Academy"


def test_booking_policy_one_hour_and_no_notice(engine):
    _set(engine, cancellation_notice_hours=1, late_cancellation_fee_cents=1000)
    with session_scope(engine) as s:
        assert "less than 1 hour's notice" in catalogue.booking_policy(s)["late_cancellation"]
    _set(engine, cancellation_notice_hours=0)
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["late_cancellation"] == ""
    assert "any time before it starts" in policy["cancellation"]


def test_booking_policy_falls_back_when_the_settings_row_is_missing(engine):
    with session_scope(engine) as s:
        s.execute(sa.text("DELETE FROM business_settings"))
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
    assert policy["notice_hours"] == 24 and policy["late_fee_cents"] == 0


# ------------------------------------------------------------------ services and the instructor


def test_list_services_gives_the_seeded_prices_in_order(engine):
    with session_scope(engine) as s:
        services = catalogue.list_services(s)
    by_slug = {x["slug"]: x for x in services}
    assert by_slug["standard-60"]["price"] == "$105.00"
    assert by_slug["review-1"]["category_label"] == "CBT&A reviews and final drive"
    assert by_slug["review-1"]["eligibility_note"]
    assert [x["slug"] for x in services][:3] == ["standard-60", "extended-90", "double-120"]


def test_owner_instructor_is_none_without_an_owner(engine):
    with session_scope(engine) as s:
        make_instructor(s)  # not the owner
    with session_scope(engine) as s:
        assert catalogue.owner_instructor(s) is None


def test_owner_instructor_from_the_demo_school(engine):
    with session_scope(engine) as s:
        seed.load_demo_data(s)
    with session_scope(engine) as s:
        owner = catalogue.owner_instructor(s)
        number = s.exec(select(Instructor.accreditation_number).where(Instructor.is_owner.is_(True))).first()
    assert owner["first_name"] == "Rob"
    assert owner["vehicle"] == "2022 Toyota Corolla Hybrid"
    assert owner["transmission"] == "automatic"
    assert "Belconnen" in owner["territory"]
    assert owner["bio"]
    assert number not in str(owner)  # no accreditation or licence numbers on the website


# ------------------------------------------------------------------ the enquiry form


def test_enquiry_creates_a_lead_and_an_email_to_the_school(engine):
    with session_scope(engine) as s:
        contact = record_enquiry(s, VISITOR, name="Priya Sharma", phone="0412 345 678", email="Priya@Example.com",
                                 message="Do you pick up from Gungahlin?",
                                 utm=Utm.clean("google", "cpc", "spring"))
        contact_id = contact.id
    with session_scope(engine) as s:
        contact = s.get(Contact, contact_id)
        assert contact.phone == "+61412345678"
        assert contact.email == "priya@example.com"
        assert (contact.first_name, contact.last_name) == ("Priya", "Sharma")
        assert contact.source == "website" and contact.lifecycle_stage == "lead"
        assert (contact.utm_source, contact.utm_medium, contact.utm_campaign) == ("google", "cpc", "spring")
        assert contact.total_interactions == 1
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.contact_id == contact_id)).all()
    assert len(mail) == 1
    assert mail[0].channel == "email" and mail[0].template == "enquiry_received"
    assert mail[0].recipient == "lessons@nexdriveacademy.com.au"
    assert "Gungahlin" in mail[0].body and "0412 345 678" in mail[0].body


def test_the_same_mobile_twice_is_one_contact_with_two_interactions(engine):
    for message in ("First question", "Second question"):
        with session_scope(engine) as s:
            record_enquiry(s, VISITOR, name="Tom Nguyen", phone="+61 412 000 111", email=None, message=message,
                           utm=Utm.clean())
    with session_scope(engine) as s:
        contacts = s.exec(select(Contact).where(Contact.phone == "+61412000111")).all()
        assert len(contacts) == 1
        assert contacts[0].total_interactions == 2
        assert s.exec(select(sa.func.count()).select_from(OutboxMessage)
                      .where(OutboxMessage.contact_id == contacts[0].id)).one() == 2


@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(name="", phone="0412345678", email=None, message="Hi"), "name"),
    (dict(name="Al", phone="12345", email=None, message="Hi"), "phone"),  # a landline is fine now: not a number
    (dict(name="Al", phone="", email="not-an-email", message="Hi"), "email"),
    (dict(name="Al", phone="0412345678", email=None, message="   "), "message"),
    (dict(name="Al", phone="", email="", message="Hi"), "phone"),
])
def test_enquiry_validation_names_the_field(engine, kwargs, field):
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed) as exc:
            record_enquiry(s, VISITOR, **kwargs)
    assert exc.value.details["field"] == field
    with session_scope(engine) as s:
        assert s.exec(select(sa.func.count()).select_from(Contact)).one() == 0
