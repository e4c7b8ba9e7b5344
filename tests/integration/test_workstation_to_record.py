"""The day sheet's "To record" list on the real database, at fixed Canberra times: the instructor's own
lessons of the last week that have started (in progress, or confirmed and ended) with no lesson recorded,
oldest first, each with its date; just after midnight last night's lessons are still there, a lesson that
crosses midnight is recorded from the phone (times as instants, its date the start's Canberra date), and
nothing is listed twice."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import Forbidden
from nexdrive.formats import BUSINESS_TZ, au_time
from nexdrive.models import Booking
from nexdrive.services.core import clock
from nexdrive.services.scheduling import workstation
from tests.compliance_helpers import make_school, monday, png
from tests.factories import make_service

DAY = (monday() + timedelta(days=120)).date()  # a Canberra date well after the reference week


def at(day_offset: int, hh: int, mm: int = 0) -> datetime:
    """A Canberra wall time ``day_offset`` days from DAY."""
    return datetime.combine(DAY + timedelta(days=day_offset), time(hh, mm), tzinfo=BUSINESS_TZ)


def _booking(s, instructor_id, service_id, start, end, *, student_id, status="confirmed") -> uuid.UUID:
    b = Booking(instructor_id=instructor_id, student_id=student_id, service_id=service_id,
                scheduled_date=start.astimezone(BUSINESS_TZ).date(), start_time=start, end_time=end,
                duration_minutes=int((end - start).total_seconds() // 60), status=status, amount_cents=8500,
                pickup_address="3 Night Rd", suburb="Dickson")
    s.add(b)
    s.flush()
    return b.id


@pytest.fixture
def week(engine):
    with session_scope(engine) as s:
        school = make_school(s)
        service = make_service(s)
        mine = dict(instructor_id=school.instructor_id, service_id=service.id)
        ids = {
            "late": _booking(s, start=at(-1, 22, 30), end=at(-1, 23, 30), student_id=school.student_id, **mine),
            "crossing": _booking(s, start=at(-1, 23, 20), end=at(0, 0, 5), student_id=school.student_id,
                                 status="in_progress", **mine),
            "recorded": _booking(s, start=at(-3, 10), end=at(-3, 11), student_id=school.student_id, **mine),
            "eight_days": _booking(s, start=at(-8, 9), end=at(-8, 10), student_id=school.student_id, **mine),
            "cancelled": _booking(s, start=at(-2, 10), end=at(-2, 11), student_id=school.student_id,
                                  status="cancelled", **mine),
            "morning": _booking(s, start=at(0, 9), end=at(0, 10), student_id=school.student_id, **mine),
            "afternoon": _booking(s, start=at(0, 14), end=at(0, 15), student_id=school.student_id, **mine),
            "theirs": _booking(s, instructor_id=school.other_instructor.instructor_id, service_id=service.id,
                               start=at(-1, 21), end=at(-1, 22), student_id=school.other_student_id),
        }
    return school, ids


def _record(school, booking_id, start: str, end: str, signed_at: datetime) -> dict:
    """What the phone sends: wall times without a zone (Canberra), the end on the next day past midnight."""
    return {"client_id": str(uuid.uuid4()), "student_id": str(school.student_id), "booking_id": str(booking_id),
            "start_time": start, "end_time": end, "odo_start": "1000", "odo_end": "1030", "suburb": "Dickson",
            "tasks": {}, "instructor_signature": png(seed=1), "learner_signature": png(seed=2),
            "signed_at": signed_at.isoformat(), "offline": False}


def _sheet(engine, actor) -> tuple[list[tuple[str, str]], dict]:
    with session_scope(engine) as s:
        sheet = workstation.today_sheet(s, actor)
        snap = workstation.snapshot(s, actor)
    return [(r["section"], r["booking_id"]) for r in sheet], snap


def test_just_after_midnight_last_nights_lessons_are_to_record_oldest_first(engine, week):
    school, ids = week
    with session_scope(engine) as s, clock.pinned(at(-3, 12)):  # the morning lesson 3 days ago: recorded
        workstation.submit_lesson(s, school.instructor, _record(
            school, ids["recorded"], at(-3, 10).strftime("%Y-%m-%dT%H:%M"), at(-3, 11).strftime("%Y-%m-%dT%H:%M"),
            at(-3, 11, 5)))
    with clock.pinned(at(0, 0, 10)):
        sheet, snap = _sheet(engine, school.instructor)
    assert sheet == [("to_record", str(ids["late"])), ("to_record", str(ids["crossing"])),
                     ("today", str(ids["morning"])), ("today", str(ids["afternoon"]))]
    assert snap["next_booking_id"] == str(ids["morning"])
    assert [r["booking_id"] for r in snap["to_record"]] == [str(ids["late"]), str(ids["crossing"])]  # offline too
    late, crossing = snap["to_record"]
    d = DAY - timedelta(days=1)
    assert late["when_label"] == f"{d.strftime('%a')} {d.day} {d.strftime('%b')}, 10:30 pm \u2013 11:30 pm"
    assert crossing["when_label"].endswith(f"{au_time(at(-1, 23, 20))} \u2013 12:05 am")
    assert crossing["day"] == d.isoformat() and crossing["learner_name"] == "Sam Student"
    assert str(school.student_id) in snap["snapshots"]


def test_another_instructor_sees_only_their_own_and_learners_none(engine, week):
    school, ids = week
    with clock.pinned(at(0, 0, 10)):
        sheet, snap = _sheet(engine, school.other_instructor)
        assert sheet == [("to_record", str(ids["theirs"]))] and snap["to_record"][0]["booking_id"] == str(ids["theirs"])
        with session_scope(engine) as s, pytest.raises(Forbidden):
            workstation.today_sheet(s, school.student)


def test_a_lesson_crossing_midnight_is_recorded_from_the_phone_and_leaves_the_list(engine, week):
    school, ids = week
    with clock.pinned(at(0, 0, 10)):
        with session_scope(engine) as s:
            done = workstation.submit_lesson(s, school.instructor, _record(
                school, ids["crossing"], f"{(DAY - timedelta(days=1)).isoformat()}T23:20", f"{DAY.isoformat()}T00:05",
                at(0, 0, 8)))
        assert done["created"] and done["status"] == "completed"
        with session_scope(engine) as s:
            lesson = s.execute(sa.text("SELECT * FROM lessons WHERE id = :l"), {"l": done["lesson_id"]}).one()
            assert lesson.lesson_date == DAY - timedelta(days=1) and lesson.total_minutes == 45
            assert lesson.start_time == at(-1, 23, 20) and lesson.end_time == at(0, 0, 5)
            assert s.get(Booking, ids["crossing"]).status == "completed"
        sheet, _ = _sheet(engine, school.instructor)
    assert [b for _, b in sheet] == [str(ids["recorded"]), str(ids["late"]), str(ids["morning"]),
                                     str(ids["afternoon"])]


def test_todays_ended_lesson_is_listed_once_and_a_week_old_one_drops_off(engine, week):
    school, ids = week
    with clock.pinned(at(0, 12)):  # noon: the morning lesson ended, unrecorded
        sheet, snap = _sheet(engine, school.instructor)
    ids_listed = [b for _, b in sheet]
    assert ids_listed.count(str(ids["morning"])) == 1 and ("to_record", str(ids["morning"])) in sheet
    assert ids_listed == [str(ids["recorded"]), str(ids["late"]), str(ids["crossing"]), str(ids["morning"]),
                          str(ids["afternoon"])]
    assert snap["next_booking_id"] == str(ids["afternoon"])
    assert str(ids["eight_days"]) not in ids_listed and str(ids["cancelled"]) not in ids_listed
    with clock.pinned(at(-2, 12)):  # six days after the lesson 8 days back it was still listed
        assert str(ids["eight_days"]) in [b for _, b in _sheet(engine, school.instructor)[0]]
