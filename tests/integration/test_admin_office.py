"""The office: learners (search, filters, the admin's record, archive, transfer) and the CRM (contacts,
pipeline, interactions, create/edit with validation, convert a prospect, merge on purpose), and the
access matrix for them: an instructor or a learner never reaches these use cases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.models import (
    AuditLog,
    Booking,
    CompetencyTask,
    Contact,
    MagicLink,
    OutboxMessage,
    Parent,
    ParentStudentLink,
    Payment,
    Profile,
    Service,
    Student,
    StudentCompetency,
)
from nexdrive.services.admin import contacts as crm
from nexdrive.services.admin import learners
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.identity import accounts
from tests.factories import make_instructor, make_service, make_student, make_user
from tests.jobs_helpers import lesson

NOW = datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc)  # Wed 18 Nov 2026, 12:00 in Canberra


@pytest.fixture
def office(engine):
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin", "Rob", "Owner")
        ian, jo = make_instructor(s), make_instructor(s)
        service = make_service(s)
        ava = make_student(s, ian)
        ben = make_student(s, ian)
        cal = make_student(s, jo)
        for st, (first, last, phone) in zip((ava, ben, cal), (("Ava", "Nguyen", "+61412345678"),
                                                             ("Ben", "Smith", "+61487654321"),
                                                             ("Cal", "Jones", "+61400111222"))):
            p = s.get(Profile, st.profile_id)
            p.first_name, p.last_name, p.phone = first, last, phone
            s.add(p)
        lesson(s, ian, service, NOW - timedelta(days=3), student=ava, status="completed")
        lesson(s, ian, service, NOW + timedelta(days=3), student=ava, status="confirmed")
        lesson(s, jo, service, NOW - timedelta(days=200), student=cal, status="completed")
        s.add(Payment(student_id=ava.id, amount_cents=8500, payment_method="card", status="completed",
                      completed_at=NOW - timedelta(days=4), description="Lesson"))
        pu, pp = make_user(s, "parent", "Pat", "Nguyen")
        parent = Parent(user_id=pu.id, profile_id=pp.id)
        s.add(parent)
        s.flush()
        s.add(ParentStudentLink(parent_id=parent.id, student_id=ava.id, relationship="parent",
                                can_view_payments=False))
        tasks = s.exec(select(CompetencyTask).order_by(CompetencyTask.task_number)).all()[:3]
        for task, status in zip(tasks, ("competent", "competent", "taught")):
            s.add(StudentCompetency(student_id=ava.id, task_id=task.id, instructor_id=ian.id, status=status,
                                    transmission="auto"))
        s.flush()
        s.add(StudentCompetency(student_id=ava.id, task_id=tasks[0].id, instructor_id=ian.id, status="competent",
                                transmission="auto"))  # the same task twice: counted once
        return {
            "admin": Actor(role="admin", user_id=admin_user.id),
            "ian": Actor(role="instructor", user_id=ian.user_id, instructor_id=ian.id),
            "learner": Actor(role="student", user_id=ava.user_id, student_id=ava.id),
            "parent": Actor(role="parent", user_id=pu.id, parent_id=parent.id),
            "ids": {"ian": ian.id, "jo": jo.id, "ava": ava.id, "ben": ben.id, "cal": cal.id, "service": service.id},
        }


def test_search_and_filters(engine, office):
    admin = office["admin"]
    with clock.pinned(NOW), session_scope(engine) as s:
        every = learners.search_learners(s, admin)
        assert every["total"] == 3
        names = lambda r: sorted(i["name"] for i in r["items"])  # noqa: E731
        assert names(learners.search_learners(s, admin, q="ava")) == ["Ava Nguyen"]
        assert names(learners.search_learners(s, admin, q="0412 345 678")) == ["Ava Nguyen"]
        assert names(learners.search_learners(s, admin, q="+61487654321")) == ["Ben Smith"]
        assert names(learners.search_learners(s, admin, q="student-")) == names(every)  # email
        assert names(learners.search_learners(s, admin, instructor_id=office["ids"]["jo"])) == ["Cal Jones"]
        assert names(learners.search_learners(s, admin, last_lesson="7")) == ["Ava Nguyen"]
        assert names(learners.search_learners(s, admin, last_lesson="older")) == ["Cal Jones"]
        assert names(learners.search_learners(s, admin, last_lesson="none")) == ["Ben Smith"]
        page = learners.search_learners(s, admin, limit=2, offset=2)
        assert len(page["items"]) == 1 and page["total"] == 3
        ava = next(i for i in every["items"] if i["name"] == "Ava Nguyen")
        assert ava["competent"] == 2 and ava["phone"] == "0412 345 678"
        with pytest.raises(ValidationFailed):
            learners.search_learners(s, admin, status="sleeping")
        # an instructor's list is their own learners, whatever filter they send
        mine = learners.search_learners(s, office["ian"], instructor_id=office["ids"]["jo"])
        assert mine["total"] == 0
        assert names(learners.search_learners(s, office["ian"])) == ["Ava Nguyen", "Ben Smith"]


def test_the_learners_admin_record(engine, office):
    with clock.pinned(NOW), session_scope(engine) as s:
        rec = learners.learner_record(s, office["admin"], office["ids"]["ava"])
    assert rec["name"] == "Ava Nguyen" and rec["instructor"].startswith("Ian")
    assert len(rec["bookings"]) == 2 and len(rec["payments"]) == 1 and rec["payments"][0]["amount"] == "$85.00"
    assert rec["family"][0]["name"] == "Pat Nguyen" and "payments" not in rec["family"][0]["permissions"]
    assert rec["progress"]["competent"] == 2 and rec["progress"]["started"] == 3
    assert rec["progress"]["tasks"] >= 23


def test_archive_and_transfer_are_audited(engine, office):
    ids, admin = office["ids"], office["admin"]
    with clock.pinned(NOW), session_scope(engine) as s:
        out = learners.transfer_learner(s, admin, ids["ava"], instructor_id=ids["jo"], reason="moved to Tuggeranong")
        assert out["upcoming_with_previous"] == 1
    with session_scope(engine) as s:
        assert s.get(Student, ids["ava"]).instructor_id == ids["jo"]
        ev = s.exec(select(AuditLog).where(AuditLog.event_type == "STUDENT_TRANSFERRED")).one()
        assert ev.details["to_instructor_id"] == str(ids["jo"]) and ev.subject_id == ids["ava"]
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            learners.transfer_learner(s, admin, ids["ava"], instructor_id=ids["jo"])
    with session_scope(engine) as s:
        learners.archive_learner(s, admin, ids["ben"], reason="stopped lessons")
    with session_scope(engine) as s:
        assert s.get(Student, ids["ben"]).status == "archived"
        with pytest.raises(InvalidState):
            learners.archive_learner(s, admin, ids["ben"])
    with session_scope(engine) as s:
        learners.restore_learner(s, admin, ids["ben"])
        events = [e.event_type for e in s.exec(select(AuditLog)).all()]
        assert {"STUDENT_ARCHIVED", "STUDENT_RESTORED"} <= set(events)


def test_create_edit_validate_and_the_pipeline(engine, office):
    admin = office["admin"]
    with session_scope(engine) as s:
        c = crm.create_contact(s, admin, {"first_name": "Dee", "last_name": "Lee", "phone": "0412 000 111",
                                          "email": "Dee@Example.com", "utm_source": "google", "utm_campaign": "spring"})
        assert c["phone"] == "0412 000 111" and c["email"] == "dee@example.com" and c["stage"] == "lead"
        cid = c["id"]
    for bad, field in (({"first_name": "X", "phone": "12345"}, "phone"),
                       ({"first_name": "X", "email": "not-an-email"}, "email"),
                       ({"first_name": "X"}, "phone"),
                       ({"first_name": "", "phone": "0412 000 999"}, "first_name"),
                       ({"first_name": "Y", "phone": "+61412000111"}, "phone")):  # already Dee's
        with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            crm.create_contact(s, admin, bad)
        assert err.value.details.get("field") == field, bad
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM contacts")).scalar_one() == 1  # refusals wrote nothing
        crm.update_contact(s, admin, cid, {"lifecycle_stage": "qualified", "phone": "02 6100 0000"})
    with session_scope(engine) as s:
        rec = crm.contact_record(s, admin, cid)
        assert rec["stage"] == "qualified" and rec["phone"] == "(02) 6100 0000" and rec["utm_campaign"] == "spring"
        columns = {col["stage"]: col for col in crm.pipeline(s, admin)}
        assert columns["qualified"]["count"] == 1 and columns["qualified"]["contacts"][0]["name"] == "Dee Lee"
        assert [c["name"] for c in crm.list_contacts(s, admin, q="6100")["items"]] == ["Dee Lee"]
        assert crm.list_contacts(s, admin, stage="lead")["total"] == 0


def test_possible_duplicate_then_merge_on_purpose(engine, office):
    admin, ids = office["admin"], office["ids"]
    with session_scope(engine) as s:
        keep = Contact(first_name="Eve", last_name="Park", phone="+61411222333", source="phone")
        other = Contact(first_name="Eve", last_name="Park", email="eve@example.com", source="website",
                        lifecycle_stage="qualified", utm_source="facebook")
        s.add_all([keep, other])
        s.flush()
        b = lesson(s, make_instructor(s), s.get(Service, ids["service"]), NOW + timedelta(days=9),
                   contact_id=other.id, booker_phone="+61411222333")
        keep_id, other_id, booking_id = keep.id, other.id, b.id
    with session_scope(engine) as s:
        rec = crm.contact_record(s, admin, keep_id)
        assert [c["id"] for c in rec["candidates"]] == [str(other_id)]
        assert "Eve Park" in rec["possibly_same"]
        # nothing was merged by looking
        assert s.get(Booking, booking_id).contact_id == other_id
    with session_scope(engine) as s:
        out = crm.merge_contacts(s, admin, keep_id=keep_id, merge_id=other_id)
        assert out["moved"]["bookings"] == 1 and out["email"] == "eve@example.com" and out["stage"] == "qualified"
    with session_scope(engine) as s:
        assert s.get(Booking, booking_id).contact_id == keep_id
        assert s.get(Contact, other_id).deleted_at is not None
        assert s.exec(select(AuditLog).where(AuditLog.event_type == "CONTACTS_MERGED")).one().subject_id == keep_id
        with pytest.raises(NotFound):
            crm.contact_record(s, admin, other_id)
        rec = crm.contact_record(s, admin, keep_id)
        assert any(i["kind"] == "booking" for i in rec["interactions"])


def test_convert_a_prospect_into_a_learner_with_an_invitation(engine, office):
    admin, ids = office["admin"], office["ids"]
    with session_scope(engine) as s:
        c = Contact(first_name="Fin", last_name="Ray", email="fin@example.com", phone="+61499888777",
                    lifecycle_stage="prospect")
        s.add(c)
        s.flush()
        b = lesson(s, make_instructor(s), s.get(Service, ids["service"]), NOW + timedelta(days=5), contact_id=c.id)
        cid, bid = c.id, b.id
    with session_scope(engine) as s:
        out = crm.convert_to_learner(s, admin, cid, instructor_id=ids["jo"])
    with session_scope(engine) as s:
        student = s.get(Student, out["student_id"])
        assert student.instructor_id == ids["jo"] and s.get(Booking, bid).student_id == student.id
        contact = s.get(Contact, cid)
        assert contact.user_id == student.user_id and contact.lifecycle_stage == "enrolled"
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.template == "student_invite")).one()
        assert mail.recipient == "fin@example.com" and "/reset-password?token=" in mail.body
        assert s.exec(select(MagicLink).where(MagicLink.user_id == student.user_id)).one().purpose == "invite"
    # the invited learner sets a password with the emailed link and is signed in as a student
    with session_scope(engine) as s:
        issued = accounts.reset_password(s, out["invite_token"], "a long new passphrase 42")
        assert issued.actor.is_student and issued.actor.student_id == student.id
    with session_scope(engine) as s, pytest.raises(InvalidState):
        crm.convert_to_learner(s, admin, cid)
    with session_scope(engine) as s:
        no_email = Contact(first_name="Gus", phone="+61499000111")
        s.add(no_email)
        s.flush()
        with pytest.raises(ValidationFailed) as err:
            crm.convert_to_learner(s, admin, no_email.id)
        assert err.value.details["field"] == "email"


OFFICE_CALLS = {
    "search_learners": lambda s, a, ids: learners.search_learners(s, a),
    "learner_record": lambda s, a, ids: learners.learner_record(s, a, ids["cal"]),
    "archive_learner": lambda s, a, ids: learners.archive_learner(s, a, ids["cal"]),
    "transfer_learner": lambda s, a, ids: learners.transfer_learner(s, a, ids["cal"], instructor_id=ids["ian"]),
    "instructor_choices": lambda s, a, ids: learners.instructor_choices(s, a),
    "list_contacts": lambda s, a, ids: crm.list_contacts(s, a),
    "pipeline": lambda s, a, ids: crm.pipeline(s, a),
    "create_contact": lambda s, a, ids: crm.create_contact(s, a, {"first_name": "Z", "phone": "0412 999 000"}),
}


@pytest.mark.parametrize("call", sorted(OFFICE_CALLS))
@pytest.mark.parametrize("who", ["ian", "learner", "parent", "visitor"])
def test_only_the_office_reaches_these_use_cases(engine, office, call, who):
    actor = VISITOR if who == "visitor" else office[who]
    with session_scope(engine) as s:
        before = s.execute(sa.text("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM audit_log)")).one()
        if call == "search_learners" and who == "ian":
            found = OFFICE_CALLS[call](s, actor, office["ids"])  # their own learners only
            assert {i["instructor_id"] for i in found["items"]} == {str(office["ids"]["ian"])}
            return
        with pytest.raises(AuthRequired if who == "visitor" else Forbidden):
            OFFICE_CALLS[call](s, actor, office["ids"])
        after = s.execute(sa.text("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM audit_log)")).one()
        assert before == after
