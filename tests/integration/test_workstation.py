"""The instructor's workstation through the service layer, on the real database: the day sheet (next lesson
first, every booking names its learner, only the instructor's own), the snapshot's task locks (the engine's),
and a lesson handed in from the phone: recorded, signed by both, bridge form, booking completed, exactly once
per phone-made id; a refusal writes nothing and the same id goes through once fixed."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import Forbidden, NotEligible
from nexdrive.formats import BUSINESS_TZ
from nexdrive.models import Booking
from nexdrive.services.core import clock
from nexdrive.services.scheduling import workstation
from tests.compliance_helpers import make_school, pinned_now, png
from tests.factories import make_service


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


def _booking(s, instructor_id, service_id, start, *, student_id=None, **kw) -> uuid.UUID:
    b = Booking(instructor_id=instructor_id, student_id=student_id, service_id=service_id,
                scheduled_date=start.astimezone(BUSINESS_TZ).date(), start_time=start,
                end_time=start + timedelta(hours=1), duration_minutes=60, status="confirmed", amount_cents=8500,
                pickup_address="12 Example St", suburb="Belconnen", **kw)
    s.add(b)
    s.flush()
    return b.id


@pytest.fixture
def day(engine):
    now = pinned_now()
    with session_scope(engine) as s:
        school = make_school(s)
        service = make_service(s)
        other_ins = s.execute(sa.text("SELECT instructor_id FROM students WHERE id = :s"),
                              {"s": school.other_student_id}).scalar_one()
        ids = {
            "earlier": _booking(s, school.instructor_id, service.id, now - timedelta(hours=2),
                                student_id=school.student_id),
            "visitor": _booking(s, school.instructor_id, service.id, now + timedelta(hours=4),
                                booker_name="Vera Visitor", booker_phone="0412 345 678"),
            "next": _booking(s, school.instructor_id, service.id, now + timedelta(hours=2),
                             student_id=school.student_id),
            "theirs": _booking(s, other_ins, service.id, now + timedelta(hours=1),
                               student_id=school.other_student_id),
        }
    return school, ids


def _count(s, table: str) -> int:
    return s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_today_lists_the_instructors_own_lessons_next_first_with_every_learner_named(engine, day):
    school, ids = day
    with session_scope(engine) as s:
        snap = workstation.snapshot(s, school.instructor)
        sheet = workstation.today_sheet(s, school.instructor)
    assert snap["next_booking_id"] == str(ids["next"])
    # the earlier lesson has ended unrecorded: on top, under "To record" (once); then the next, then the rest
    assert [(r["section"], r["booking_id"]) for r in sheet] == [
        ("to_record", str(ids["earlier"])), ("today", str(ids["next"])), ("today", str(ids["visitor"]))]
    assert [r["booking_id"] for r in snap["to_record"]] == [str(ids["earlier"])]
    assert str(ids["theirs"]) not in {r["booking_id"] for r in snap["lessons"]}
    visitor = next(r for r in sheet if r["booking_id"] == str(ids["visitor"]))
    assert visitor["learner_name"] == "Vera Visitor" and visitor["phone"] == "+61412345678"
    assert visitor["is_visitor"] and visitor["student_id"] == ""
    mine = next(r for r in sheet if r["booking_id"] == str(ids["next"]))
    assert mine["learner_name"] == "Sam Student" and mine["phone"] == "+61400000000"
    assert mine["pickup"] == "12 Example St, Belconnen" and mine["time_label"].endswith(("am", "pm"))
    tasks = {t["n"]: t for t in snap["snapshots"][str(school.student_id)]["tasks"]}
    assert tasks[1]["status"] == "not_started" and not tasks[1]["can_assess"]
    assert "taught in an earlier lesson" in tasks[1]["locked"]
    assert "still to do: task 1" in tasks[2]["locked"]
    assert str(school.other_student_id) not in snap["snapshots"]


def test_only_instructors_use_the_workstation(engine, day):
    school, _ = day
    with session_scope(engine) as s:
        for actor in (school.student, school.parents["parent_full"]):
            with pytest.raises(Forbidden):
                workstation.snapshot(s, actor)


def _record(school, ids, client_id, tasks, **kw) -> dict:
    start = pinned_now() - timedelta(hours=2)
    return {"client_id": str(client_id), "student_id": str(school.student_id), "booking_id": str(ids["earlier"]),
            "start_time": start.isoformat(), "end_time": (start + timedelta(hours=1)).isoformat(),
            "odo_start": "1000", "odo_end": "1032", "suburb": "Belconnen", "comments": "Good start.",
            "tasks": tasks, "went_well": "Steady steering.", "practise": "Practise task 1 on quiet streets.",
            "focus": "1. Pre-drive", "next_lesson": "Task 3 next.", "instructor_signature": png(seed=1),
            "learner_signature": png(seed=2), "signed_at": pinned_now().isoformat(), "offline": True, **kw}


def test_a_lesson_from_the_phone_is_stored_once_signed_by_both_with_its_bridge_form(engine, day):
    school, ids = day
    client_id = uuid.uuid4()
    record = _record(school, ids, client_id, {"1": "taught", "2": "taught"})
    with session_scope(engine) as s:
        first = workstation.submit_lesson(s, school.instructor, record)
    assert first["created"] and first["status"] == "completed" and first["lesson_number"] == 1
    with session_scope(engine) as s:
        again = workstation.submit_lesson(s, school.instructor, record)  # the reply was lost: sent again
    assert (again["created"], again["lesson_id"]) == (False, first["lesson_id"])
    with session_scope(engine) as s:
        assert _count(s, "lessons") == 1 and _count(s, "signatures") == 2 and _count(s, "student_competencies") == 2
        lesson = s.execute(sa.text("SELECT * FROM lessons")).one()
        assert (lesson.odo_start, lesson.odo_end, lesson.location_suburb) == (1000, 1032, "Belconnen")
        assert lesson.client_id == client_id and lesson.booking_id == ids["earlier"]
        assert sorted(lesson.competencies_taught) == [1, 2]
        form = s.execute(sa.text("SELECT * FROM lesson_bridge_forms")).one()
        assert form.positives == "Steady steering." and form.focus_areas == "1. Pre-drive"
        assert [x["status"] for x in form.skills_covered] == ["Taught", "Taught"]
        booking = s.get(Booking, ids["earlier"])
        assert booking.status == "completed" and booking.lesson_id == lesson.id
        snap = workstation.snapshot(s, school.instructor)
        row = next(r for r in snap["lessons"] if r["booking_id"] == str(ids["earlier"]))
        assert row["lesson_id"] == str(lesson.id)
        assert snap["snapshots"][str(school.student_id)]["focus"] == "1. Pre-drive"


def test_a_refusal_writes_nothing_and_the_same_id_goes_through_once_fixed(engine, day):
    school, ids = day
    client_id = uuid.uuid4()
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            workstation.submit_lesson(s, school.instructor, _record(school, ids, client_id, {"5": "achieved"}))
    assert exc.value.code == "COMPETENCY_LOCKED" and "Task 5 cannot be assessed" in exc.value.message
    with session_scope(engine) as s:
        assert _count(s, "lessons") == 0 and _count(s, "signatures") == 0 and _count(s, "lesson_bridge_forms") == 0
        fixed = workstation.submit_lesson(s, school.instructor, _record(school, ids, client_id, {"5": "taught"}))
    assert fixed["created"] and fixed["status"] == "completed"


def test_another_instructor_cannot_hand_in_a_lesson_for_someone_elses_learner(engine, day):
    school, ids = day
    with session_scope(engine) as s:
        with pytest.raises(Forbidden):
            workstation.submit_lesson(s, school.other_instructor, _record(school, ids, uuid.uuid4(), {"1": "taught"}))
        with pytest.raises(Forbidden):
            workstation.submit_lesson(s, school.student, _record(school, ids, uuid.uuid4(), {"1": "taught"}))
