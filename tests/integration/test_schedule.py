"""The instructor's schedule against the real database: weekly hours, time off, extra hours, the calendar."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import Parent
from nexdrive.services.scheduling import booking
from nexdrive.services.scheduling import schedule
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.errors import Forbidden, ValidationFailed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.services.scheduling.holidays import act_public_holidays
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_instructor, make_student, make_user

TUESDAY = weekday_ahead(1)
WEDNESDAY = TUESDAY + timedelta(days=1)
SUNDAY = TUESDAY - timedelta(days=2)
DETAILS = dict(name="Ava Nguyen", phone="0412 345 678", email="ava@example.com",
               pickup_address="12 Example St", suburb="Belconnen")


@pytest.fixture
def school(engine):
    """One instructor working Mon-Sat 08:00-18:00 (since yesterday), a learner, a parent, another instructor."""
    with session_scope(engine) as s:
        instructor, _ = open_instructor(s)
        only_instructor(s, instructor.id)
        student = make_student(s, instructor)
        other = make_instructor(s)
        user, profile = make_user(s, "parent", "Pat")
        parent = Parent(user_id=user.id, profile_id=profile.id)
        s.add(parent)
        s.flush()
        admin_user, _ = make_user(s, "admin", "Jo")
        today = s.execute(sa.text("SELECT now()")).scalar_one().astimezone(BUSINESS_TZ).date()
        return {
            "id": instructor.id, "today": today,
            "me": Actor(role="instructor", user_id=instructor.user_id, instructor_id=instructor.id),
            "admin": Actor(role="admin", user_id=admin_user.id),
            "other": Actor(role="instructor", user_id=other.user_id, instructor_id=other.id),
            "student": Actor(role="student", user_id=student.user_id, student_id=student.id),
            "parent": Actor(role="parent", user_id=user.id, parent_id=parent.id),
        }


def _times(engine, day: date, instructor_id=None) -> list[str]:
    with session_scope(engine) as s:
        view = booking.availability_by_day(s, service_ref="standard-60", date_from=day, date_to=day,
                                           instructor_id=instructor_id)
    return [t["start"] for d in view["slots"] for t in d["times"]]


def _count(s, table, where="true", **params) -> int:
    return s.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar()


def _confirmed_lesson(engine, start):
    with session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id="standard-60", start_time=start, **DETAILS)
        booking.confirm_booking(s, VISITOR, r.booking.id, manage_token=r.manage_token)
        return r.booking.id


# ─────────────────────────────────────────────────────────────────────────────
# Weekly hours
# ─────────────────────────────────────────────────────────────────────────────

def test_new_weekly_hours_replace_the_pattern_and_the_booking_page_follows(engine, school):
    assert _times(engine, TUESDAY)[:2] == ["08:00", "08:30"]
    windows = [(2, "09:00", "12:00"), (2, "13:00", "15:00"), (4, "10:00", "14:00")]
    with session_scope(engine) as s:
        result = schedule.set_weekly_hours(s, school["me"], school["id"], windows)
    assert result["changed"] and result["effective_from"] == school["today"].isoformat()
    assert [(h["day_of_week"], h["start"], h["end"]) for h in result["hours"]] == [
        (2, "09:00", "12:00"), (2, "13:00", "15:00"), (4, "10:00", "14:00")]
    assert _times(engine, TUESDAY) == ["09:00", "09:30", "10:00", "10:30", "11:00", "13:00", "13:30", "14:00"]
    assert _times(engine, WEDNESDAY) == []  # Wednesday is no longer a working day
    with session_scope(engine) as s:
        assert [(h["day_of_week"], h["start"]) for h in schedule.weekly_hours(s, school["me"], school["id"])] == [
            (2, "09:00"), (2, "13:00"), (4, "10:00")]
        # history is kept: the old rules end yesterday, the new ones start today
        yesterday = school["today"] - timedelta(days=1)
        assert _count(s, "availability_rules", "instructor_id = :i AND effective_until = :y",
                      i=school["id"], y=yesterday) == 6
        assert _count(s, "availability_rules", "instructor_id = :i AND effective_from = :t AND is_active",
                      i=school["id"], t=school["today"]) == 3
        event = s.execute(sa.text("SELECT actor_role, subject_id, details FROM audit_log "
                                  "WHERE event_type = 'availability.weekly_hours_changed'")).one()
        assert event.actor_role == "instructor" and event.subject_id == school["id"]
        assert event.details["after"][0] == [2, "09:00", "12:00"] and len(event.details["before"]) == 6
    # changing again the same day switches off the rules that only started today
    with session_scope(engine) as s:
        schedule.set_weekly_hours(s, school["admin"], school["id"], [(2, "07:00", "09:00")])
    assert _times(engine, TUESDAY) == ["07:00", "07:30", "08:00"]
    with session_scope(engine) as s:
        assert _count(s, "availability_rules", "instructor_id = :i AND is_active AND "
                      "(effective_until IS NULL OR effective_until >= :t)", i=school["id"], t=school["today"]) == 1
        # saving the same pattern again changes nothing and records nothing
        again = schedule.set_weekly_hours(s, school["me"], school["id"], [(2, "07:00", "09:00")])
        assert again["changed"] is False
        assert _count(s, "audit_log", "event_type = 'availability.weekly_hours_changed'") == 2


@pytest.mark.parametrize("windows, field, words", [
    ([(2, "12:00", "09:00")], "hours.2.0.end", "after the start"),
    ([(2, "09:00", "09:00")], "hours.2.0.end", "after the start"),
    ([(2, "09:00", "12:00"), (2, "11:00", "14:00")], "hours.2.1.start", "overlaps"),
    ([(3, "09:10", "12:00")], "hours.3.0.start", "quarter hours"),
    ([(3, "09:00", "12:20")], "hours.3.0.end", "quarter hours"),
    ([(1, "06:00", "07:00"), (1, "08:00", "09:00"), (1, "10:00", "11:00"), (1, "12:00", "13:00")],
     "hours.1.3.start", "At most 3"),
    ([(7, "09:00", "12:00")], "hours", "day of the week"),
    ([(2, "nine", "12:00")], "hours.2.0.start", "like 09:30"),
    ([(2, "", "12:00")], "hours.2.0.start", "choose the start"),
])
def test_invalid_weekly_hours_are_refused_and_change_nothing(engine, school, windows, field, words):
    with session_scope(engine) as s:
        before = schedule.weekly_hours(s, school["me"], school["id"])
    with pytest.raises(ValidationFailed) as exc, session_scope(engine) as s:
        schedule.set_weekly_hours(s, school["me"], school["id"], [(5, "08:00", "12:00"), *windows])
    assert exc.value.details["field"] == field
    assert words in exc.value.message
    assert any(f["field"] == field for f in exc.value.details["fields"])
    with session_scope(engine) as s:
        assert schedule.weekly_hours(s, school["me"], school["id"]) == before
        assert _count(s, "audit_log", "event_type LIKE 'availability.%'") == 0
    assert _times(engine, TUESDAY)[0] == "08:00"


def test_every_problem_is_reported_at_once(engine, school):
    with pytest.raises(ValidationFailed) as exc, session_scope(engine) as s:
        schedule.set_weekly_hours(s, school["me"], school["id"],
                                  [(1, "10:00", "09:00"), (2, "09:05", "10:00"), (2, "11:00", "12:00")])
    assert [f["field"] for f in exc.value.details["fields"]] == ["hours.1.0.end", "hours.2.0.start"]


@pytest.mark.parametrize("who", ["other", "student", "parent"])
def test_only_the_instructor_and_the_admin_may_see_or_change_the_schedule(engine, school, who):
    actor = school[who]
    calls = [
        lambda s: schedule.weekly_hours(s, actor, school["id"]),
        lambda s: schedule.set_weekly_hours(s, actor, school["id"], [(2, "09:00", "10:00")]),
        lambda s: schedule.add_time_off(s, actor, school["id"], TUESDAY),
        lambda s: schedule.add_extra_hours(s, actor, school["id"], SUNDAY, "10:00", "12:00"),
        lambda s: schedule.upcoming_overrides(s, actor, school["id"]),
        lambda s: schedule.calendar_preview(s, actor, school["id"], TUESDAY, days=3),
    ]
    for call in calls:
        with pytest.raises(Forbidden), session_scope(engine) as s:
            call(s)
    with session_scope(engine) as s:
        override_id = schedule.add_time_off(s, school["me"], school["id"], TUESDAY)["override"]["id"]
    with pytest.raises(Forbidden), session_scope(engine) as s:
        schedule.remove_override(s, actor, override_id)
    with pytest.raises(Forbidden), session_scope(engine) as s:
        schedule.weekly_hours(s, VISITOR, school["id"])
    with session_scope(engine) as s:
        assert len(schedule.weekly_hours(s, school["admin"], school["id"])) == 6
        assert len(schedule.weekly_hours(s, SYSTEM, school["id"])) == 6
        assert _count(s, "availability_rules", "instructor_id = :i", i=school["id"]) == 6
        assert _count(s, "availability_overrides", "instructor_id = :i", i=school["id"]) == 1


# ─────────────────────────────────────────────────────────────────────────────
# Time off and extra hours
# ─────────────────────────────────────────────────────────────────────────────

def test_time_off_removes_slots_and_removing_it_brings_them_back(engine, school):
    with session_scope(engine) as s:
        whole = schedule.add_time_off(s, school["me"], school["id"], TUESDAY, reason="Dentist")
        part = schedule.add_time_off(s, school["me"], school["id"], WEDNESDAY, "12:00", "15:00")
    assert whole["warning"] is False and whole["affected"] == []
    assert whole["override"]["time_label"] == "All day" and whole["override"]["reason"] == "Dentist"
    assert part["warning"] is False and part["override"]["start"] == "12:00"
    assert _times(engine, TUESDAY) == []
    wed = _times(engine, WEDNESDAY)
    assert wed == ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00",
                   "15:00", "15:30", "16:00", "16:30", "17:00"]
    with session_scope(engine) as s:
        listed = schedule.upcoming_overrides(s, school["me"], school["id"])
        assert [(o["date"], o["kind"], o["start"]) for o in listed] == [
            (TUESDAY.isoformat(), "blocked", ""), (WEDNESDAY.isoformat(), "blocked", "12:00")]
        with pytest.raises(ValidationFailed, match="already have"):
            schedule.add_time_off(s, school["me"], school["id"], TUESDAY)
    with session_scope(engine) as s:
        schedule.remove_override(s, school["me"], whole["override"]["id"])
        assert _count(s, "audit_log", "event_type = 'availability.override_removed'") == 1
    assert _times(engine, TUESDAY)[:2] == ["08:00", "08:30"]


@pytest.mark.parametrize("call, field", [
    (lambda s, a, i, t: schedule.add_time_off(s, a, i, t - timedelta(days=1)), "date"),
    (lambda s, a, i, t: schedule.add_time_off(s, a, i, t + timedelta(days=5), "13:00", None), "time.end"),
    (lambda s, a, i, t: schedule.add_time_off(s, a, i, t + timedelta(days=5), "13:00", "12:00"), "time.end"),
    (lambda s, a, i, t: schedule.add_extra_hours(s, a, i, t + timedelta(days=5), None, None), "time.start"),
    (lambda s, a, i, t: schedule.add_extra_hours(s, a, i, t + timedelta(days=5), "10:07", "12:00"), "time.start"),
    (lambda s, a, i, t: schedule.add_extra_hours(s, a, i, "not a date", "10:00", "12:00"), "date"),
    (lambda s, a, i, t: schedule.add_time_off(s, a, i, t + timedelta(days=5), reason="x" * 500), "reason"),
])
def test_bad_time_off_or_extra_hours_are_refused(engine, school, call, field):
    with pytest.raises(ValidationFailed) as exc, session_scope(engine) as s:
        call(s, school["me"], school["id"], school["today"])
    assert exc.value.details["field"] == field
    with session_scope(engine) as s:
        assert _count(s, "availability_overrides") == 0


def test_extra_hours_add_slots_and_open_a_public_holiday(engine, school):
    assert _times(engine, SUNDAY) == []
    with session_scope(engine) as s:
        extra = schedule.add_extra_hours(s, school["me"], school["id"], SUNDAY, "10:00", "13:00", "Catch-up")
    assert extra["override"]["kind"] == "available" and extra["public_holiday"] == ""
    assert _times(engine, SUNDAY) == ["10:00", "10:30", "11:00", "11:30", "12:00"]

    today = school["today"]
    holiday, name = next((d, n) for y in (today.year, today.year + 1) for d, n in sorted(act_public_holidays(y).items())
                         if d > today + timedelta(days=2) and d.weekday() < 5)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = 800 WHERE id = 1"))
        closed = schedule.calendar_preview(s, school["me"], school["id"], holiday, days=1)[0]
    assert closed["is_holiday"] and closed["holiday"] == name
    assert closed["hours_label"] == "Public holiday — closed" and closed["free_slots"] == 0
    assert _times(engine, holiday) == []
    with session_scope(engine) as s:
        opened = schedule.add_extra_hours(s, school["me"], school["id"], holiday, "09:00", "11:00")
        assert opened["public_holiday"] == name
        day = schedule.calendar_preview(s, school["me"], school["id"], holiday, days=1)[0]
    assert day["opened"] and day["status"] == "working" and day["hours_label"] == "9:00 am – 11:00 am"
    assert _times(engine, holiday) == ["09:00", "09:30", "10:00"]
    assert day["free_starts"] == 3 and day["free_slots"] == 1  # one hour + 15 min buffer fits once in two hours


def test_time_off_over_a_confirmed_lesson_warns_and_keeps_the_lesson(engine, school):
    lesson_id = _confirmed_lesson(engine, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        clear = schedule.add_time_off(s, school["me"], school["id"], TUESDAY, "14:00", "16:00")
        assert clear["warning"] is False
        result = schedule.add_time_off(s, school["me"], school["id"], TUESDAY, "09:30", "12:00", "Car service")
    assert result["warning"] is True
    [affected] = result["affected"]
    assert affected["id"] == str(lesson_id) and affected["learner"] == "Ava"
    assert affected["time"] == "10:00 am" and affected["service"].startswith("Learner lesson (60 min)")
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT status FROM bookings WHERE id = :i"), {"i": lesson_id}).scalar() == "confirmed"
        # the whole day off also lists it, and the calendar still shows the lesson
        whole = schedule.add_time_off(s, school["admin"], school["id"], TUESDAY)
        assert [a["id"] for a in whole["affected"]] == [str(lesson_id)]
        day = schedule.calendar_preview(s, school["me"], school["id"], TUESDAY, days=1)[0]
    assert day["status"] == "off" and day["lesson_count"] == 1 and day["free_slots"] == 0


def test_new_hours_list_the_lessons_they_leave_outside(engine, school):
    lesson_id = _confirmed_lesson(engine, at(TUESDAY, "16:00"))
    with session_scope(engine) as s:
        result = schedule.set_weekly_hours(s, school["me"], school["id"], [(2, "08:00", "12:00")])
        assert [b["id"] for b in result["outside_hours"]] == [str(lesson_id)]
        assert s.execute(sa.text("SELECT status FROM bookings WHERE id = :i"), {"i": lesson_id}).scalar() == "confirmed"


# ─────────────────────────────────────────────────────────────────────────────
# The calendar
# ─────────────────────────────────────────────────────────────────────────────

def test_calendar_preview_matches_the_booking_engine(engine, school):
    _confirmed_lesson(engine, at(TUESDAY, "10:00"))
    with session_scope(engine) as s:
        schedule.add_extra_hours(s, school["me"], school["id"], SUNDAY, "10:00", "12:00")
        days = schedule.calendar_preview(s, school["me"], school["id"], SUNDAY, days=7)
        service = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
        slots = booking.find_slots(s, service=booking._service(s, service), date_from=SUNDAY,
                                   date_to=SUNDAY + timedelta(days=6), instructor_id=school["id"])
    assert [d["date"] for d in days] == [(SUNDAY + timedelta(days=n)).isoformat() for n in range(7)]
    per_day = {}
    for slot in slots:
        per_day[slot.local_start.date().isoformat()] = per_day.get(slot.local_start.date().isoformat(), 0) + 1
    assert {d["date"]: d["free_starts"] for d in days} == {d["date"]: per_day.get(d["date"], 0) for d in days}
    sunday, monday, tuesday = days[0], days[1], days[2]
    assert sunday["extra_hours"] and sunday["hours_label"] == "10:00 am – 12:00 pm"
    assert monday["label"] == f"Mon {monday['day']} {(SUNDAY + timedelta(days=1)).strftime('%b')}"
    assert monday["hours_label"] == "8:00 am – 6:00 pm" and monday["working_minutes"] == 600
    assert monday["free_starts"] == 19 and monday["free_slots"] == 7  # 75-minute blocks from 08:00 to 17:00
    # Tuesday: the 10:00 lesson blocks 09:30-11:15 starts; back to back, 08:00, 11:30, 13:00, 14:30, 16:00 fit
    assert tuesday["lesson_count"] == 1 and tuesday["free_slots"] == 5
    [lesson] = tuesday["lessons"]
    assert (lesson["time"], lesson["learner"], lesson["start_minute"], lesson["end_minute"]) == (
        "10:00 am", "Ava", 600, 660)
    assert lesson["service"].startswith("Learner lesson (60 min)")


def test_the_calendar_skips_the_hour_daylight_saving_removes(engine, school):
    today = school["today"]
    october = date(today.year if today < date(today.year, 10, 1) else today.year + 1, 10, 1)
    spring = october + timedelta(days=(6 - october.weekday()) % 7)  # first Sunday of October
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = 800, min_booking_notice_hours = 0 "
                          "WHERE id = 1"))
        schedule.set_weekly_hours(s, school["me"], school["id"], [(0, "01:00", "04:00")])
        day = schedule.calendar_preview(s, school["me"], school["id"], spring, days=1)[0]
    assert day["label"].startswith("Sun ")
    assert day["free_starts"] == 3  # 01:00, 01:30 and 03:00: 02:00-03:00 does not exist that night


def test_whose_schedule_is_shown(engine, school):
    with session_scope(engine) as s:
        assert schedule.whose_schedule(s, school["me"], school["other"].instructor_id)["id"] == school["id"]  # own only
        assert schedule.whose_schedule(s, school["admin"])["id"] == school["id"]  # the only active instructor
        assert schedule.whose_schedule(s, school["admin"], school["other"].instructor_id)["name"] == "Ian Instructor"
        for who in ("student", "parent"):
            with pytest.raises(Forbidden):
                schedule.whose_schedule(s, school[who])
