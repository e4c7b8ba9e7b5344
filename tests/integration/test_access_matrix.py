"""The access matrix (architecture §3.4), walked in full: every actor x every
resource/action. Allowed calls succeed; the rest are refused — 401-style
AuthRequired for the signed-out visitor, Forbidden for everyone else —
including reading another student's records by id. Real PostgreSQL; one
database for the module (the reads change nothing).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive import db as nxdb
from nexdrive.models import (
    Booking,
    CompetencyTask,
    Lesson,
    LessonBridgeForm,
    Parent,
    ParentStudentLink,
    Payment,
    PrivateNote,
    Student,
    StudentCompetency,
)
from nexdrive.services.admin import contacts as admin_contacts
from nexdrive.services.admin import instructors as admin_instructors
from nexdrive.services.admin import learners as admin_learners
from nexdrive.services.core import access
from nexdrive.services.identity.accounts import PARENT_PERMISSIONS, AuthRequired, actor_for_user
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.core.audit import record_event
from nexdrive.errors import Forbidden, NotFound
from tests.factories import make_instructor, make_service, make_student, make_user

START = datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)


def _records(s: Session, w: World, key: str, student: Student, instructor_id: uuid.UUID, service_id, n: int):
    start = START + timedelta(days=n)
    booking = Booking(instructor_id=instructor_id, student_id=student.id, service_id=service_id,
                      scheduled_date=date(2026, 12, 1 + n), start_time=start, end_time=start + timedelta(hours=1),
                      duration_minutes=60, status="confirmed", amount_cents=8500,
                      admin_notes=f"internal note {key}", booking_notes="bring your licence")
    s.add(booking)
    s.flush()
    lesson = Lesson(booking_id=booking.id, instructor_id=instructor_id, student_id=student.id, lesson_number=1,
                    lesson_date=date(2026, 12, 1 + n), start_time=start, end_time=start + timedelta(hours=1),
                    total_minutes=60, comments=f"Good mirror checks ({key}).", status="draft")
    s.add(lesson)
    s.flush()
    task = s.exec(select(CompetencyTask).order_by(CompetencyTask.task_number)).first()
    s.add(StudentCompetency(student_id=student.id, task_id=task.id, instructor_id=instructor_id, status="taught",
                            transmission="auto", lesson_id=lesson.id))
    form = LessonBridgeForm(lesson_id=lesson.id, student_id=student.id, instructor_id=instructor_id,
                            positives="Smooth braking")
    payment = Payment(student_id=student.id, booking_id=booking.id, amount_cents=8500, payment_method="card",
                      gateway="local", status="completed", gateway_response={"secret": "gateway internals"})
    note = PrivateNote(instructor_id=instructor_id, student_id=student.id, note=f"Nervous at roundabouts ({key}).")
    s.add_all([form, payment, note])
    s.flush()
    w.ids.update({f"{key}_booking": booking.id, f"{key}_lesson": lesson.id, f"{key}_payment": payment.id,
                  f"{key}_note": note.id})


def _parent(s: Session, student: Student, **flags) -> Actor:
    user, profile = make_user(s, "parent", "Pat")
    parent = Parent(user_id=user.id, profile_id=profile.id)
    s.add(parent)
    s.flush()
    s.add(ParentStudentLink(parent_id=parent.id, student_id=student.id, status="active",
                            accepted_at=datetime.now(timezone.utc),
                            **{p: flags.get(p, True) for p in PARENT_PERMISSIONS}))
    s.flush()
    return actor_for_user(s, user.id)


def build_world(s: Session) -> World:
    w = World()
    service = make_service(s)
    ins_a, ins_b = make_instructor(s), make_instructor(s)
    student, other = make_student(s, ins_a), make_student(s, ins_b)
    admin_user, _ = make_user(s, "admin")
    w.actors["admin"] = actor_for_user(s, admin_user.id)
    w.actors["instructor_a"] = actor_for_user(s, ins_a.user_id)
    w.actors["instructor_b"] = actor_for_user(s, ins_b.user_id)
    w.actors["student"] = actor_for_user(s, student.user_id)
    w.actors["other_student"] = actor_for_user(s, other.user_id)
    w.actors["parent_full"] = _parent(s, student)
    for perm in PARENT_PERMISSIONS:
        w.actors["parent_no_" + perm.removeprefix("can_view_").removeprefix("can_")] = _parent(
            s, student, **{perm: False}
        )
    w.actors["visitor"] = VISITOR
    w.ids.update(student=student.id, other=other.id, instructor_a=ins_a.id, instructor_b=ins_b.id)
    _records(s, w, "s", student, ins_a.id, service.id, 0)
    _records(s, w, "t", other, ins_b.id, service.id, 1)
    record_event(s, w.actors["student"], "TEST_EVENT")
    return w


@pytest.fixture(scope="module")
def world(pg_server, template_db):
    name = pg_server.create_database(template_db)
    engine = nxdb.make_engine(pg_server.url(name), pool_size=2, max_overflow=2)
    with nxdb.session_scope(engine) as s:
        w = build_world(s)
    yield engine, w
    engine.dispose()
    pg_server.drop_database(name)


ACTORS = ["admin", "instructor_a", "instructor_b", "student", "other_student", "parent_full",
          "parent_no_progress", "parent_no_bookings", "parent_no_payments", "parent_no_lesson_notes",
          "parent_no_bridge_forms", "parent_no_book_lessons", "visitor"]
PARENTS = {a for a in ACTORS if a.startswith("parent_")}


def parents_except(*missing: str) -> set[str]:
    return PARENTS - {f"parent_no_{m}" for m in missing}


S_STAFF = {"admin", "instructor_a", "student"}  # who sees student S (of instructor A) as staff/self
T_SIDE = {"admin", "instructor_b", "other_student"}  # student T belongs to instructor B

# action -> (call, the actors allowed). Everyone else is refused.
MATRIX: dict[str, tuple] = {
    # the student's record
    "student.read": (
        lambda s, a, i: access.get_student_record(s, a, i["student"]),
        S_STAFF | parents_except("progress"),
    ),
    "other_student.read": (lambda s, a, i: access.get_student_record(s, a, i["other"]), T_SIDE),
    # bookings
    "student.bookings": (
        lambda s, a, i: access.list_bookings(s, a, student_id=i["student"]),
        S_STAFF | parents_except("bookings"),
    ),
    "booking.read": (lambda s, a, i: access.get_booking(s, a, i["s_booking"]), S_STAFF | parents_except("bookings")),
    "other_booking.read": (lambda s, a, i: access.get_booking(s, a, i["t_booking"]), T_SIDE),
    "other_student.bookings": (lambda s, a, i: access.list_bookings(s, a, student_id=i["other"]), T_SIDE),
    # lessons (parents: progress or lesson notes; comments only with lesson notes — see below)
    "student.lessons": (lambda s, a, i: access.list_lessons(s, a, student_id=i["student"]), S_STAFF | PARENTS),
    "lesson.read": (lambda s, a, i: access.get_lesson(s, a, i["s_lesson"]), S_STAFF | PARENTS),
    "other_lesson.read": (lambda s, a, i: access.get_lesson(s, a, i["t_lesson"]), T_SIDE),
    "other_student.lessons": (lambda s, a, i: access.list_lessons(s, a, student_id=i["other"]), T_SIDE),
    # competencies
    "student.competencies": (
        lambda s, a, i: access.list_competencies(s, a, i["student"]),
        S_STAFF | parents_except("progress"),
    ),
    "other_student.competencies": (lambda s, a, i: access.list_competencies(s, a, i["other"]), T_SIDE),
    # bridge forms
    "student.bridge_forms": (
        lambda s, a, i: access.list_bridge_forms(s, a, i["student"]),
        S_STAFF | parents_except("bridge_forms"),
    ),
    "other_student.bridge_forms": (lambda s, a, i: access.list_bridge_forms(s, a, i["other"]), T_SIDE),
    # payments: never instructors
    "student.payments": (
        lambda s, a, i: access.list_payments(s, a, student_id=i["student"]),
        {"admin", "student"} | parents_except("payments"),
    ),
    "payment.read": (
        lambda s, a, i: access.get_payment(s, a, i["s_payment"]),
        {"admin", "student"} | parents_except("payments"),
    ),
    "other_payment.read": (lambda s, a, i: access.get_payment(s, a, i["t_payment"]), {"admin", "other_student"}),
    "payments.list": (lambda s, a, i: access.list_payments(s, a), {"admin", "student", "other_student"} | PARENTS),
    # booking on the student's behalf
    "student.book": (
        lambda s, a, i: access.require_may_book(s, a, i["student"]),
        S_STAFF | parents_except("book_lessons"),
    ),
    "other_student.book": (lambda s, a, i: access.require_may_book(s, a, i["other"]), T_SIDE),
    # private notes: the author instructor and the admin, by no path else
    "note_by_a.read": (lambda s, a, i: access.get_private_note(s, a, i["s_note"]), {"admin", "instructor_a"}),
    "note_by_b.read": (lambda s, a, i: access.get_private_note(s, a, i["t_note"]), {"admin", "instructor_b"}),
    "private_notes.list": (
        lambda s, a, i: access.list_private_notes(s, a, student_id=i["student"]),
        {"admin", "instructor_a", "instructor_b"},
    ),
    # the audit log: admin, read only
    "audit_log.read": (lambda s, a, i: access.read_audit_log(s, a), {"admin"}),
    # instructors: own; students read their assigned instructor
    "instructor_a.read": (lambda s, a, i: access.get_instructor_record(s, a, i["instructor_a"]), S_STAFF),
    "instructor_b.read": (lambda s, a, i: access.get_instructor_record(s, a, i["instructor_b"]), T_SIDE),
    # the owner's office (issue 16): a contractor instructor reaches none of it
    "instructors.list": (lambda s, a, i: admin_instructors.list_instructors(s, a), {"admin"}),
    "instructor_b.admin_record": (lambda s, a, i: admin_instructors.instructor_record(s, a, i["instructor_b"]),
                                  {"admin"}),
    "instructor_b.edit": (lambda s, a, i: admin_instructors.update_instructor(
        s, a, i["instructor_b"], changes={"vehicle_model": "Yaris"}), {"admin"}),
    "instructor_b.deactivate": (lambda s, a, i: admin_instructors.deactivate_instructor(s, a, i["instructor_b"]),
                                {"admin"}),
    "contacts.list": (lambda s, a, i: admin_contacts.list_contacts(s, a), {"admin"}),
    "contacts.pipeline": (lambda s, a, i: admin_contacts.pipeline(s, a), {"admin"}),
    "other_student.admin_record": (lambda s, a, i: admin_learners.learner_record(s, a, i["other"]), {"admin"}),
    "learners.search": (lambda s, a, i: admin_learners.search_learners(s, a), {"admin", "instructor_a",
                                                                              "instructor_b"}),
    # lists any signed-in actor may call (their scope is checked below)
    "students.list": (lambda s, a, i: access.list_students(s, a), set(ACTORS) - {"visitor"}),
    "bookings.list": (lambda s, a, i: access.list_bookings(s, a), set(ACTORS) - {"visitor"}),
    "lessons.list": (lambda s, a, i: access.list_lessons(s, a), set(ACTORS) - {"visitor"}),
}


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("actor_key", ACTORS)
def test_access_matrix(world, actor_key, action):
    engine, w = world
    call, allowed = MATRIX[action]
    actor = w.actors[actor_key]
    with Session(engine) as s:
        if actor_key in allowed:
            call(s, actor, w.ids)  # succeeds
        elif actor_key == "visitor":
            with pytest.raises(AuthRequired):
                call(s, actor, w.ids)
        else:
            with pytest.raises(Forbidden):
                call(s, actor, w.ids)
        s.rollback()


# What each actor's unfiltered lists contain: (students, bookings-of, lessons-of, payments-of)
SCOPES = {
    "admin": ({"student", "other"},) * 4,
    "instructor_a": ({"student"}, {"student"}, {"student"}, None),
    "instructor_b": ({"other"}, {"other"}, {"other"}, None),
    "student": ({"student"},) * 4,
    "other_student": ({"other"},) * 4,
    "parent_full": ({"student"},) * 4,
    "parent_no_progress": (set(), {"student"}, {"student"}, {"student"}),
    "parent_no_bookings": ({"student"}, set(), {"student"}, {"student"}),
    "parent_no_payments": ({"student"}, {"student"}, {"student"}, set()),
    "parent_no_lesson_notes": ({"student"},) * 4,
    "parent_no_bridge_forms": ({"student"},) * 4,
    "parent_no_book_lessons": ({"student"},) * 4,
}


@pytest.mark.parametrize("actor_key", list(SCOPES))
def test_lists_are_scoped_to_what_the_actor_may_see(world, actor_key):
    engine, w = world
    actor = w.actors[actor_key]
    names = {w.ids["student"]: "student", w.ids["other"]: "other"}
    students, bookings, lessons, payments = SCOPES[actor_key]
    with Session(engine) as s:
        assert {names[r["id"]] for r in access.list_students(s, actor)} == students
        assert {names[r["student_id"]] for r in access.list_bookings(s, actor)} == bookings
        assert {names[r["student_id"]] for r in access.list_lessons(s, actor)} == lessons
        if payments is None:
            with pytest.raises(Forbidden):
                access.list_payments(s, actor)
        else:
            assert {names[r["student_id"]] for r in access.list_payments(s, actor)} == payments


@pytest.mark.parametrize("actor_key, sees", [("admin", {"student", "other"}), ("instructor_a", {"student"}),
                                              ("instructor_b", {"other"})])
def test_an_instructor_never_sees_another_instructors_learners_bookings_notes_or_lessons(world, actor_key, sees):
    """Every list an instructor can reach (the office's learner search included) holds their own only."""
    engine, w = world
    actor = w.actors[actor_key]
    names = {w.ids["student"]: "student", w.ids["other"]: "other"}
    with Session(engine) as s:
        found = admin_learners.search_learners(s, actor)["items"]
        assert {names[uuid.UUID(r["id"])] for r in found} == sees
        assert {names[r["student_id"]] for r in access.list_bookings(s, actor)} == sees
        assert {names[r["student_id"]] for r in access.list_lessons(s, actor)} == sees
        assert {names[n["student_id"]] for n in access.list_private_notes(s, actor)} == sees
        # asking for the other instructor's learner by name is scoped too
        other = "other" if actor_key == "instructor_a" else "student"
        if actor_key != "admin":
            filtered = admin_learners.search_learners(s, actor, instructor_id=w.ids[
                "instructor_b" if actor_key == "instructor_a" else "instructor_a"])["items"]
            assert filtered == [] and other not in sees


def test_parent_without_lesson_notes_gets_lessons_without_comments(world):
    engine, w = world
    with Session(engine) as s:
        [full] = access.list_lessons(s, w.actors["parent_full"], student_id=w.ids["student"])
        [bare] = access.list_lessons(s, w.actors["parent_no_lesson_notes"], student_id=w.ids["student"])
        single = access.get_lesson(s, w.actors["parent_no_lesson_notes"], w.ids["s_lesson"])
    assert full["comments"] == "Good mirror checks (s)."
    assert "comments" not in bare and "comments" not in single
    assert bare["id"] == full["id"] == w.ids["s_lesson"]


def test_private_notes_reach_only_their_author_and_the_admin(world):
    engine, w = world
    with Session(engine) as s:
        assert [n["id"] for n in access.list_private_notes(s, w.actors["instructor_a"])] == [w.ids["s_note"]]
        assert [n["id"] for n in access.list_private_notes(s, w.actors["instructor_b"])] == [w.ids["t_note"]]
        assert access.list_private_notes(s, w.actors["instructor_b"], student_id=w.ids["student"]) == []
        assert {n["id"] for n in access.list_private_notes(s, w.actors["admin"])} == {w.ids["s_note"], w.ids["t_note"]}
        # no shape a student or parent can get carries the note text
        for key in ("student", "parent_full"):
            actor = w.actors[key]
            shapes = [access.get_student_record(s, actor, w.ids["student"]),
                      *access.list_lessons(s, actor, student_id=w.ids["student"]),
                      *access.list_bookings(s, actor, student_id=w.ids["student"]),
                      *access.list_bridge_forms(s, actor, w.ids["student"])]
            assert "Nervous at roundabouts" not in repr(shapes)


def test_internal_fields_are_not_in_student_or_parent_shapes(world):
    engine, w = world
    with Session(engine) as s:
        for key in ("student", "parent_full"):
            booking = access.get_booking(s, w.actors[key], w.ids["s_booking"])
            payment = access.get_payment(s, w.actors[key], w.ids["s_payment"])
            assert "admin_notes" not in booking and booking["booking_notes"] == "bring your licence"
            assert "gateway_response" not in payment
        assert access.get_booking(s, w.actors["instructor_a"], w.ids["s_booking"])["admin_notes"]
        assert access.get_payment(s, w.actors["admin"], w.ids["s_payment"])["gateway_response"]


def test_unknown_ids_reveal_nothing_to_non_admins(world):
    engine, w = world
    missing = uuid.uuid4()
    with Session(engine) as s:
        with pytest.raises(NotFound):
            access.get_student_record(s, w.actors["admin"], missing)
        for key in ("instructor_a", "student", "parent_full"):
            for call in (access.get_student_record, access.get_booking, access.get_lesson, access.get_payment):
                with pytest.raises(Forbidden):
                    call(s, w.actors[key], missing)


def test_student_can_hide_everything_from_parents_and_revoked_links_grant_nothing(engine):
    with nxdb.session_scope(engine) as s:
        w = build_world(s)
    parent = w.actors["parent_full"]
    with nxdb.session_scope(engine) as s:
        s.execute(sa.update(Student).where(Student.id == w.ids["student"]).values(parent_visibility=False))
    with Session(engine) as s:
        for resource in access.RESOURCES:
            assert not access.can_access_student(s, parent, w.ids["student"], resource)
        with pytest.raises(Forbidden):
            access.list_lessons(s, parent, student_id=w.ids["student"])
        assert access.list_lessons(s, parent) == []
    with nxdb.session_scope(engine) as s:
        s.execute(sa.update(Student).where(Student.id == w.ids["student"]).values(parent_visibility=True))
        s.execute(sa.update(ParentStudentLink).where(ParentStudentLink.parent_id == parent.parent_id)
                  .values(status="revoked"))
    with Session(engine) as s:
        with pytest.raises(Forbidden):
            access.get_student_record(s, parent, w.ids["student"])
        assert access.list_students(s, parent) == []


def test_matrix_covers_every_actor_and_resource():
    assert set(ACTORS) == set(SCOPES) | {"visitor"}
    assert len([a for a in ACTORS if a.startswith("parent_no_")]) == len(PARENT_PERMISSIONS)
    assert all(allowed <= set(ACTORS) for _, allowed in MATRIX.values())
    assert {r for r in access.RESOURCES} <= {"student", "bookings", "lessons", "lesson_notes", "competencies",
                                             "bridge_forms", "payments", "book", "logbook", "certificate"}
