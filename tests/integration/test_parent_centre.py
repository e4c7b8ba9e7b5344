"""The parents' centre against the real database: a parent linked to two learners sees each one's views
per that learner's switches; every switch turned off is refused by the service on the next read; the
supervisor confirms a drive; a parent with "Book lessons" books for the learner; the Hub's supervision
guide follows the engine's next tasks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import Forbidden
from nexdrive.models import LessonBridgeForm, Parent, ParentStudentLink, Student
from nexdrive.services.compliance import hub, logbook, parent_centre
from nexdrive.services.compliance.logbook import DriveInput
from nexdrive.services.core import access, clock
from nexdrive.services.core.access import PARENT_PERMISSIONS
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.compliance_helpers import make_school, monday, pinned_now, signed
from tests.factories import make_student, make_user

COMMENT = "Smooth moving off; keep practising the head check."


@pytest.fixture
def world(engine):
    with clock.pinned(pinned_now()):
        with session_scope(engine) as s:
            school = make_school(s)
            user, profile = make_user(s, "parent", "Morgan")
            parent = Parent(user_id=user.id, profile_id=profile.id)
            s.add(parent)
            s.flush()
            for sid in (school.student_id, school.other_student_id):
                s.add(ParentStudentLink(parent_id=parent.id, student_id=sid, status="active",
                                        accepted_at=datetime.now(timezone.utc),
                                        **{p: True for p in PARENT_PERMISSIONS}))
            s.flush()
            parent_actor = actor_for_user(s, user.id)
            lesson = signed(s, school, monday(), taught=[1, 2], comments=COMMENT)
            s.add(LessonBridgeForm(lesson_id=lesson["id"], student_id=school.student_id,
                                   instructor_id=school.instructor_id,
                                   skills_covered=[{"task_number": 1, "task_name": "Controls", "status": "Taught"}],
                                   positives="Calm and careful.",
                                   practice_instructions="Ten minutes of controls drill.",
                                   focus_areas="Indicators", next_lesson_recommendation="Assess task 1"))
            start = monday() + timedelta(days=3, hours=8)
            drive = logbook.add_drive(s, school.student, school.student_id, DriveInput(
                start_time=start, end_time=start + timedelta(minutes=50), supervisor_parent_id=parent.id,
                supervisor_licence_number="ACT1234"))
            links = {sid: s.exec(sa.select(ParentStudentLink.id).where(
                ParentStudentLink.parent_id == parent.id, ParentStudentLink.student_id == sid)).scalar_one()
                for sid in (school.student_id, school.other_student_id)}
        yield {"school": school, "parent": parent_actor, "drive": drive["id"], "links": links}


def test_a_parent_sees_both_learners_and_every_view_the_switches_allow(engine, world):
    school, parent = world["school"], world["parent"]
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        learners = parent_centre.linked_learners(s, parent)
        assert {x["student_id"] for x in learners} == {school.student_id, school.other_student_id}
        assert all(all(x["permissions"].values()) for x in learners)
        c = parent_centre.learner_centre(s, parent, school.student_id)
        assert len(c["progress"]["rows"]) == 25 and c["progress"]["total"] == 23
        assert c["progress"]["competent"] == 0
        taught = {r["task_number"]: r["status"] for r in c["progress"]["rows"]}
        assert taught[1] == taught[2] == "taught"
        # how to supervise: the engine's next tasks, each with its Hub page's tips
        assert [g["task_number"] for g in c["guide"]] == c["progress"]["next_tasks"]
        assert c["guide"][0]["path"] == hub.hub_path(c["guide"][0]["task_number"]) and c["guide"][0]["tips"]
        assert c["lessons"][0]["comments"] == COMMENT and c["lesson_notes"] is True
        assert c["bridge_forms"][0]["practice_instructions"] == "Ten minutes of controls drill."
        assert c["bridge_forms"][0]["skills"] == ["Task 1: Controls"]
        assert c["bridge_forms"][0]["tasks"][0]["path"] == "/hub/task-1-controls"  # one slug function
        assert c["bookings"] == [] and c["payments"] == [] and c["can_book"] is True
        drive = next(d for d in c["drives"] if d["id"] == world["drive"])
        assert drive["can_confirm"] and not drive["confirmed"]
        assert c["hours"]["target_total_hours"] in (50, 100)
        other = parent_centre.learner_centre(s, parent, school.other_student_id)
        assert other["lessons"] == [] and other["drives"] == []


def test_the_supervisor_confirms_a_drive_and_it_is_then_fixed(engine, world):
    school, parent = world["school"], world["parent"]
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        done = logbook.confirm_drive(s, parent, world["drive"])
        assert done["confirmed"] and done["confirmed_by_user_id"] == parent.user_id
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        c = parent_centre.learner_centre(s, parent, school.student_id)
        drive = next(d for d in c["drives"] if d["id"] == world["drive"])
        assert drive["confirmed"] and not drive["can_confirm"]
        # another linked parent (not the supervisor) may not confirm
        with pytest.raises(Forbidden):
            logbook.confirm_drive(s, school.parents["parent_full"], world["drive"])


def _switch_off(engine, world, flag: str) -> None:
    school = world["school"]
    with session_scope(engine) as s:
        accounts.set_parent_permissions(s, school.student, world["links"][school.student_id], {flag: False})


REFUSALS = {
    "can_view_progress": [
        lambda s, p, sid: parent_centre.progress_map(s, p, sid),
        lambda s, p, sid: hub.supervision_guide(s, p, sid),
        lambda s, p, sid: logbook.list_drives(s, p, sid),
    ],
    "can_view_bookings": [lambda s, p, sid: access.list_bookings(s, p, student_id=sid)],
    "can_view_payments": [lambda s, p, sid: access.list_payments(s, p, student_id=sid)],
    "can_view_bridge_forms": [lambda s, p, sid: parent_centre.bridge_forms(s, p, sid)],
    "can_book_lessons": [lambda s, p, sid: access.require_may_book(s, p, sid)],
}
CENTRE_KEY = {"can_view_progress": "progress", "can_view_bookings": "bookings", "can_view_payments": "payments",
              "can_view_bridge_forms": "bridge_forms"}


@pytest.mark.parametrize("flag", sorted(REFUSALS))
def test_each_switch_turned_off_is_refused_at_once(engine, world, flag):
    school, parent = world["school"], world["parent"]
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        for read in REFUSALS[flag]:
            read(s, parent, school.student_id)  # allowed while the switch is on
    _switch_off(engine, world, flag)
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        for read in REFUSALS[flag]:
            with pytest.raises(Forbidden):
                read(s, parent, school.student_id)
        c = parent_centre.learner_centre(s, parent, school.student_id)
        if flag in CENTRE_KEY:
            assert c[CENTRE_KEY[flag]] is None
        if flag == "can_view_progress":
            assert c["guide"] is None and c["drives"] is None
            assert c["lessons"] is not None  # lessons stay visible through the lesson-notes switch
        if flag == "can_book_lessons":
            assert c["can_book"] is False
            assert parent_centre.bookable_learners(s, parent)[0]["student_id"] == school.other_student_id
        # the other learner's views are untouched
        other = parent_centre.learner_centre(s, parent, school.other_student_id)
        assert other["progress"] is not None and other["bookings"] is not None and other["can_book"]


def test_lesson_notes_off_hides_the_comments_but_not_the_dates(engine, world):
    school, parent = world["school"], world["parent"]
    _switch_off(engine, world, "can_view_lesson_notes")
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        c = parent_centre.learner_centre(s, parent, school.student_id)
        assert c["lesson_notes"] is False
        assert len(c["lessons"]) == 1 and "comments" not in c["lessons"][0]
        assert "comments" not in access.list_lessons(s, parent, student_id=school.student_id)[0]


def test_notes_and_progress_both_off_refuses_lessons(engine, world):
    school, parent = world["school"], world["parent"]
    _switch_off(engine, world, "can_view_lesson_notes")
    _switch_off(engine, world, "can_view_progress")
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        with pytest.raises(Forbidden):
            access.list_lessons(s, parent, student_id=school.student_id)
        assert parent_centre.learner_centre(s, parent, school.student_id)["lessons"] is None


def test_hiding_everything_or_revoking_refuses_the_whole_learner(engine, world):
    school, parent = world["school"], world["parent"]
    with session_scope(engine) as s:
        s.get(Student, school.student_id).parent_visibility = False
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        with pytest.raises(Forbidden):
            parent_centre.learner_centre(s, parent, school.student_id)
        hidden = next(x for x in parent_centre.linked_learners(s, parent) if x["student_id"] == school.student_id)
        assert not any(hidden["permissions"].values())
    with session_scope(engine) as s:
        accounts.revoke_parent_link(s, school.other_student, world["links"][school.other_student_id])
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        with pytest.raises(Forbidden):
            parent_centre.learner_centre(s, parent, school.other_student_id)
        assert [x["student_id"] for x in parent_centre.linked_learners(s, parent)] == [school.student_id]


def test_only_parents_use_the_centre(engine, world):
    school = world["school"]
    with session_scope(engine) as s:
        for actor in (school.student, school.instructor, school.admin):
            with pytest.raises(Forbidden):
                parent_centre.linked_learners(s, actor)
        with pytest.raises(Forbidden):
            parent_centre.learner_centre(s, school.parents["parent_full"], school.other_student_id)
        assert parent_centre.bookable_learners(s, school.student) == []


def test_a_parent_with_book_lessons_books_in_the_learners_name(engine):
    day = weekday_ahead(2)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        only_instructor(s, instructor.id)
        learner = make_student(s, instructor)
        learner_actor = actor_for_user(s, learner.user_id)
        user, profile = make_user(s, "parent", "Robin")
        parent = Parent(user_id=user.id, profile_id=profile.id)
        s.add(parent)
        s.flush()
        link = ParentStudentLink(parent_id=parent.id, student_id=learner.id, status="active",
                                 **{p: True for p in PARENT_PERMISSIONS})
        s.add(link)
        s.flush()
        parent_actor, link_id, learner_id, service_id = actor_for_user(s, user.id), link.id, learner.id, service.id
    with session_scope(engine) as s:
        [mine] = parent_centre.bookable_learners(s, parent_actor)
        assert mine["student_id"] == learner_id
        r = booking.book_lesson(s, parent_actor, service_id=service_id, start_time=at(day, "10:00"),
                                student_id=learner_id, pickup_address="1 Home St", suburb="Kambah")
        booking.confirm_booking(s, parent_actor, r.booking.id, manage_token=r.manage_token)
        made = r.booking.id
    with session_scope(engine) as s:
        row = s.execute(sa.text("SELECT student_id, booked_by, status FROM bookings WHERE id = :b"),
                        {"b": made}).one()
        assert (row.student_id, row.booked_by, row.status) == (learner_id, parent_actor.user_id, "confirmed")
        accounts.set_parent_permissions(s, learner_actor, link_id, {"can_book_lessons": False})
    with session_scope(engine) as s:
        assert parent_centre.bookable_learners(s, parent_actor) == []
        before = s.execute(sa.text("SELECT count(*) FROM bookings")).scalar_one()
    with pytest.raises(Forbidden), session_scope(engine) as s:
        booking.book_lesson(s, parent_actor, service_id=service_id, start_time=at(day, "13:00"),
                            student_id=learner_id, pickup_address="1 Home St", suburb="Kambah")
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM bookings")).scalar_one() == before


def test_hub_status_is_the_learners_own(engine, world):
    school = world["school"]
    with clock.pinned(pinned_now()), session_scope(engine) as s:
        mine = hub.learner_statuses(s, school.student)
        assert len(mine) == 25
        assert mine[hub.hub_slug(1)]["status"] == "taught"
        assert mine["review-1"]["status"] == "not_started"
        assert hub.learner_statuses(s, world["parent"]) == {}
        assert hub.learner_statuses(s, school.instructor) == {}
