"""Instructors for the office (C20): onboarding a contractor (invitation, accreditation, vehicle, lesson types,
weekly hours), the list with each one's month, editing, deactivating (lessons listed, never cancelled), the
accreditation warnings (60/30/7 days, each once) and the banner; lesson types limit what the booking engine
offers. Only the administrator reaches these use cases; a refused or bad request changes nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, ServiceError, ValidationFailed
from nexdrive.models import AuditLog, Booking, Instructor, InstructorService, MagicLink, OutboxMessage, Payment, User
from nexdrive.services.admin import instructors
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.identity import accounts
from nexdrive.services.scheduling import booking, catalogue
from tests.factories import make_instructor, make_service, make_student, make_user
from tests.jobs_helpers import lesson

NOW = datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc)  # Wed 18 Nov 2026, 12:00 in Canberra
TODAY = date(2026, 11, 18)
WEEKDAYS = [(d, "08:00", "16:00") for d in range(1, 6)]


@pytest.fixture
def office(engine):
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin", "Rob", "Owner")
        ian = make_instructor(s)
        lesson_60, review = make_service(s), make_service(s, minutes=90, price_cents=12000)
        ava = make_student(s, ian)
        done = lesson(s, ian, lesson_60, NOW - timedelta(days=3), student=ava, status="completed")
        lesson(s, ian, lesson_60, NOW + timedelta(days=3), student=ava, status="confirmed")
        s.add(Payment(student_id=ava.id, booking_id=done.id, amount_cents=8500, payment_method="card",
                      status="completed", completed_at=NOW - timedelta(days=4), description="Lesson"))
        s.add(Payment(student_id=ava.id, amount_cents=40000, payment_method="card", status="completed",
                      completed_at=NOW - timedelta(days=5), description="Package"))
        return {"admin": Actor(role="admin", user_id=admin_user.id),
                "ian": Actor(role="instructor", user_id=ian.user_id, instructor_id=ian.id),
                "learner": Actor(role="student", user_id=ava.user_id, student_id=ava.id),
                "ids": {"ian": ian.id, "ava": ava.id, "lesson": lesson_60.id, "review": review.id}}


def _onboard(engine, actor, **over):
    args = dict(email="jo@example.com", first_name="Jo", last_name="Lee", phone="0412 345 678",
                adi_number="ADI 4567", adi_expiry="2028-06-30", accreditation_number="ACT-9876",
                accreditation_expiry="2027-03-31", vehicle_rego="YAB12C", vehicle_make="Toyota",
                vehicle_model="Corolla", vehicle_year="2024", transmission="both", service_ids=[], hours=WEEKDAYS)
    args.update(over)
    with clock.pinned(NOW), session_scope(engine) as s:
        return instructors.onboard_instructor(s, actor, **args)


def _counts(engine) -> dict:
    with session_scope(engine) as s:
        return {t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (
            "users", "instructors", "instructor_services", "availability_rules", "outbox_messages", "audit_log",
            "magic_links")}


def test_onboarding_invites_the_instructor_and_records_everything(engine, office):
    made = _onboard(engine, office["admin"], service_ids=[str(office["ids"]["lesson"])])
    with session_scope(engine) as s:
        ins = s.get(Instructor, made["id"])
        assert (ins.status, ins.accreditation_number, ins.accreditation_expiry) == ("active", "ACT-9876",
                                                                                    date(2027, 3, 31))
        assert (ins.vehicle_rego, ins.vehicle_make, ins.vehicle_year, ins.transmission) == ("YAB12C", "Toyota",
                                                                                            2024, "both")
        assert s.exec(select(InstructorService.service_id).where(
            InstructorService.instructor_id == ins.id)).all() == [office["ids"]["lesson"]]
        user = s.get(User, ins.user_id)
        assert user.role == "instructor" and user.password_hash is None
        invite = s.exec(select(OutboxMessage).where(OutboxMessage.template == "staff_invite")).one()
        assert invite.recipient == "jo@example.com" and "/reset-password?token=" in invite.body
        assert s.exec(select(MagicLink).where(MagicLink.user_id == user.id, MagicLink.purpose == "invite")).one()
        events = [e.event_type for e in s.exec(select(AuditLog).order_by(AuditLog.seq)).all()]
        assert "INSTRUCTOR_ONBOARDED" in events and "ACCOUNT_CREATED" in events
    with clock.pinned(NOW), session_scope(engine) as s:
        rec = instructors.instructor_record(s, office["admin"], made["id"])
        assert [h["day_of_week"] for h in rec["hours"]] == [1, 2, 3, 4, 5]
        assert {x["id"] for x in rec["services"] if x["offered"]} == {str(office["ids"]["lesson"])}
        assert not rec["all_services"]


def test_the_invited_instructor_sets_a_password_and_signs_in_as_themselves(engine, office):
    expiry = (clock.today() + timedelta(days=365)).isoformat()  # the link's life is real time: no pinned clock
    with session_scope(engine) as s:
        made = instructors.onboard_instructor(
            s, office["admin"], email="kim@example.com", first_name="Kim", last_name="Park", adi_number="ADI 777",
            adi_expiry=expiry, accreditation_number="ACT-777", accreditation_expiry=expiry)
    with session_scope(engine) as s:
        issued = accounts.reset_password(s, made["invite_token"], "kim teaches reversing")
        assert issued.actor.role == "instructor" and str(issued.actor.instructor_id) == made["id"]


@pytest.mark.parametrize("over, field", [
    ({"accreditation_expiry": "2026-11-01"}, "accreditation_expiry"),  # already lapsed
    ({"accreditation_expiry": "31/03/2027"}, "accreditation_expiry"),
    ({"accreditation_number": ""}, "accreditation_number"),
    ({"adi_number": "x"}, "adi_number"),
    ({"transmission": "tiptronic"}, "transmission"),
    ({"vehicle_year": "1901"}, "vehicle_year"),
    ({"service_ids": ["00000000-0000-0000-0000-000000000000"]}, "service_ids"),
    ({"hours": [(1, "16:00", "08:00")]}, None),
    ({"first_name": ""}, "first_name"),
])
def test_bad_onboarding_input_is_refused_and_changes_nothing(engine, office, over, field):
    before = _counts(engine)
    with pytest.raises(ValidationFailed) as err:
        _onboard(engine, office["admin"], **over)
    if field:
        assert err.value.details.get("field") == field
    assert _counts(engine) == before


def test_an_email_already_in_use_is_refused(engine, office):
    _onboard(engine, office["admin"])
    before = _counts(engine)
    with pytest.raises(accounts.EmailTaken):
        _onboard(engine, office["admin"], accreditation_number="ACT-1111")
    with pytest.raises(ServiceError):
        _onboard(engine, office["admin"], email="not-an-email")
    assert _counts(engine) == before


def test_list_shows_each_instructors_month(engine, office):
    made = _onboard(engine, office["admin"])
    with clock.pinned(NOW), session_scope(engine) as s:
        found = instructors.list_instructors(s, office["admin"])
    rows = {r["id"]: r for r in found["items"]}
    ian = rows[str(office["ids"]["ian"])]
    assert found["month"] == "2026-11"
    assert (ian["lessons"], ian["learners"], ian["revenue_cents"], ian["revenue"]) == (2, 1, 8500, "$85.00")
    assert ian["booked_minutes"] == 120
    jo = rows[made["id"]]
    assert (jo["lessons"], jo["learners"], jo["revenue_cents"]) == (0, 0, 0)
    # Jo works Mon-Fri 8-4 from today (Wed 18th): 9 working days left in November, 8 h each
    assert jo["offered_minutes"] == 9 * 8 * 60 and jo["utilisation"] == "0%"
    assert found["unassigned_revenue_cents"] == 40000  # the package: not one instructor's lesson
    with clock.pinned(NOW), session_scope(engine) as s:
        october = instructors.list_instructors(s, office["admin"], month="2026-10")
        assert {r["lessons"] for r in october["items"]} == {0}
        with pytest.raises(ValidationFailed):
            instructors.list_instructors(s, office["admin"], month="November")


def test_edit_changes_details_and_lesson_types_audited(engine, office):
    made = _onboard(engine, office["admin"])
    with clock.pinned(NOW), session_scope(engine) as s:
        out = instructors.update_instructor(s, office["admin"], made["id"], changes={
            "accreditation_expiry": "2029-03-31", "vehicle_model": "Yaris"},
            service_ids=[str(office["ids"]["review"])])
        assert out["changed"] == ["accreditation_expiry", "service_ids", "vehicle_model"]
        ev = s.exec(select(AuditLog).where(AuditLog.event_type == "INSTRUCTOR_UPDATED")).one()
        assert ev.details["before"]["accreditation_expiry"] == "2027-03-31"
        assert ev.details["after"]["vehicle_model"] == "Yaris"
    # a lapsed accreditation does not block other edits (it is only checked when it changes)
    with clock.pinned(NOW + timedelta(days=1200)), session_scope(engine) as s:
        out = instructors.update_instructor(s, office["admin"], made["id"], changes={
            "accreditation_expiry": "2029-03-31", "vehicle_make": "Mazda"})
        assert out["changed"] == ["vehicle_make"]
    before = _counts(engine)
    with clock.pinned(NOW), session_scope(engine) as s, pytest.raises(ValidationFailed):
        instructors.update_instructor(s, office["admin"], made["id"], changes={"accreditation_expiry": "2020-01-01"})
    with clock.pinned(NOW), session_scope(engine) as s, pytest.raises(ValidationFailed):
        instructors.update_instructor(s, office["admin"], made["id"], changes={"is_owner": True})
    assert _counts(engine) == before


def test_lesson_types_limit_what_the_engine_offers(engine, office):
    made = _onboard(engine, office["admin"], service_ids=[str(office["ids"]["review"])])
    day = date(2026, 11, 24)  # a Tuesday
    with clock.pinned(NOW), session_scope(engine) as s:
        svc = s.get(booking.Service, office["ids"]["lesson"])
        review = s.get(booking.Service, office["ids"]["review"])
        lesson_slots = booking.find_slots(s, service=svc, date_from=day, date_to=day)
        review_slots = booking.find_slots(s, service=review, date_from=day, date_to=day)
        assert made["id"] not in {str(x.instructor_id) for x in lesson_slots}
        assert made["id"] in {str(x.instructor_id) for x in review_slots}
        start = next(x.start for x in review_slots if str(x.instructor_id) == made["id"])
        with pytest.raises(ValidationFailed) as err:
            booking.book_lesson(s, VISITOR, service_id=svc.id, start_time=start, instructor_id=made["id"],
                                name="Kim Park", phone="0412 000 111", email="kim@example.com",
                                pickup_address="1 Test St", suburb="Belconnen")
        assert err.value.details["field"] == "instructor_id"
        chosen = catalogue.bookable_instructors(s)
        assert made["id"] in [c["id"] for c in chosen]  # has hours, accreditation current
        assert str(office["ids"]["ian"]) not in [c["id"] for c in chosen]  # no weekly hours yet


def test_deactivating_lists_future_lessons_and_cancels_nothing(engine, office):
    with clock.pinned(NOW), session_scope(engine) as s:
        out = instructors.deactivate_instructor(s, office["admin"], office["ids"]["ian"], reason="Moved to Sydney")
    assert out["status"] == "inactive" and len(out["future_bookings"]) == 1
    with session_scope(engine) as s:
        assert {b.status for b in s.exec(select(Booking)).all()} == {"completed", "confirmed"}
        ins = s.get(Instructor, office["ids"]["ian"])
        assert s.get(User, ins.user_id).status == "suspended"
        assert s.exec(select(AuditLog).where(AuditLog.event_type == "INSTRUCTOR_DEACTIVATED")).one()
    with clock.pinned(NOW), session_scope(engine) as s:
        with pytest.raises(InvalidState):
            instructors.deactivate_instructor(s, office["admin"], office["ids"]["ian"])
    with clock.pinned(NOW), session_scope(engine) as s:
        instructors.reactivate_instructor(s, office["admin"], office["ids"]["ian"])
        ins = s.get(Instructor, office["ids"]["ian"])
        assert ins.status == "active" and s.get(User, ins.user_id).status == "active"


@pytest.mark.parametrize("days_left, threshold", [(61, None), (60, 60), (45, 60), (30, 30), (8, 30), (7, 7),
                                                  (0, 7), (-1, None)])
def test_warning_threshold(days_left, threshold):
    assert instructors.warning_threshold(days_left) == threshold


def test_accreditation_warnings_go_out_once_per_threshold(engine, office):
    with session_scope(engine) as s:
        s.execute(sa.update(Instructor).where(Instructor.id == office["ids"]["ian"])
                  .values(accreditation_expiry=TODAY + timedelta(days=60)))

    def run(day_offset: int) -> dict:
        at = NOW + timedelta(days=day_offset)
        with session_scope(engine) as s:
            return instructors.send_accreditation_warnings(s, at)

    def warnings() -> list[str]:
        with session_scope(engine) as s:
            return sorted(m.idempotency_key for m in s.exec(select(OutboxMessage).where(
                OutboxMessage.template == "accreditation_expiring")).all())

    assert run(-1) == {"warned": 0, "already_warned": 0}  # 61 days out: nothing yet
    assert run(0)["warned"] == 1
    assert run(0) == {"warned": 0, "already_warned": 1}  # the same day again: nothing twice
    assert run(1)["warned"] == 0  # still the 60-day warning
    assert run(30)["warned"] == 1 and run(31)["warned"] == 0
    assert run(53)["warned"] == 1  # 7 days left
    assert run(61)["warned"] == 0  # lapsed: no warning (the banner says so)
    keys = warnings()
    assert len(keys) == 6  # 3 thresholds x (email + in-app) to the instructor
    assert {k.split(":")[3] for k in keys} == {"60", "30", "7"}
    with session_scope(engine) as s:
        admin_copies = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "accreditation_expiring_admin")).all()
        assert admin_copies and "expires on" in admin_copies[0].body
        email = s.exec(select(OutboxMessage).where(OutboxMessage.template == "accreditation_expiring",
                                                   OutboxMessage.channel == "email")).first()
        assert "ACT-12345" in email.body and "NexDrive Academy" in email.body
    # renewed: a new expiry is warned about afresh when its time comes
    with session_scope(engine) as s:
        s.execute(sa.update(Instructor).where(Instructor.id == office["ids"]["ian"])
                  .values(accreditation_expiry=TODAY + timedelta(days=400)))
    assert run(340)["warned"] == 1


def test_banner_on_the_instructors_own_dashboard(engine, office):
    with session_scope(engine) as s:
        s.execute(sa.update(Instructor).where(Instructor.id == office["ids"]["ian"])
                  .values(accreditation_expiry=TODAY + timedelta(days=20)))
    with clock.pinned(NOW), session_scope(engine) as s:
        banner = instructors.accreditation_banner(s, office["ian"])
        assert banner["tone"] == "amber" and "20 days" in banner["text"]
        assert instructors.accreditation_banner(s, office["admin"]) is None
    with clock.pinned(NOW + timedelta(days=21)), session_scope(engine) as s:
        assert instructors.accreditation_banner(s, office["ian"])["tone"] == "red"
    with clock.pinned(NOW - timedelta(days=60)), session_scope(engine) as s:
        assert instructors.accreditation_banner(s, office["ian"]) is None


@pytest.mark.parametrize("who", ["ian", "learner", "visitor"])
def test_only_the_administrator_reaches_the_instructor_use_cases(engine, office, who):
    actor = VISITOR if who == "visitor" else office[who]
    expected = AuthRequired if who == "visitor" else Forbidden
    before = _counts(engine)
    ian = office["ids"]["ian"]
    calls = [
        lambda s: instructors.list_instructors(s, actor),
        lambda s: instructors.instructor_record(s, actor, ian),
        lambda s: instructors.onboard_instructor(s, actor, email="x@example.com", first_name="X", last_name="Y",
                                                 adi_number="ADI 1", adi_expiry="2028-01-01",
                                                 accreditation_number="ACT-1", accreditation_expiry="2028-01-01"),
        lambda s: instructors.update_instructor(s, actor, ian, changes={"vehicle_model": "Yaris"}),
        lambda s: instructors.set_instructor_hours(s, actor, ian, WEEKDAYS),
        lambda s: instructors.deactivate_instructor(s, actor, ian),
        lambda s: instructors.reactivate_instructor(s, actor, ian),
    ]
    for call in calls:
        with clock.pinned(NOW), session_scope(engine) as s, pytest.raises(expected):
            call(s)
    assert _counts(engine) == before
