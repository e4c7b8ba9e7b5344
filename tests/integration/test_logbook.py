"""The log book against the real database: who may read, add, change and confirm supervised drives;
totals computed from the records (signed lessons credited 3:1 for the first 10 hours); and bad
input through the REST API answered with the error envelope, leaving the table unchanged.

The service clock is pinned (``clock.pinned``) so "in the future" and the learner's age do not
depend on the day the suite runs.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.http_app import build_api
from nexdrive.models import Lesson, Parent, ParentStudentLink, Profile, User
from nexdrive.services.compliance import logbook
from nexdrive.services.compliance.logbook import DriveInput
from nexdrive.services.core import clock
from nexdrive.services.core.access import PARENT_PERMISSIONS
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import actor_for_user
from tests.factories import make_instructor, make_student, make_user

SYD = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # Monday 30 November 2026, 12:00 AEDT


def at(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SYD)


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock.pinned(NOW):
        yield


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)


def _parent(s, student, first="Pat", **flags) -> Actor:
    user, profile = make_user(s, "parent", first)
    parent = Parent(user_id=user.id, profile_id=profile.id)
    s.add(parent)
    s.flush()
    s.add(ParentStudentLink(parent_id=parent.id, student_id=student.id, status=flags.pop("status", "active"),
                            **{p: flags.get(p, True) for p in PARENT_PERMISSIONS}))
    s.flush()
    return actor_for_user(s, user.id)


def build_world(engine, *, dob: date | None = date(2009, 5, 1)) -> World:
    w = World()
    with session_scope(engine) as s:
        ins_a, ins_b = make_instructor(s), make_instructor(s)
        student, other = make_student(s, ins_a), make_student(s, ins_b)
        s.get(Profile, student.profile_id).date_of_birth = dob
        admin, _ = make_user(s, "admin")
        w.actors.update(
            admin=actor_for_user(s, admin.id), instructor_a=actor_for_user(s, ins_a.user_id),
            instructor_b=actor_for_user(s, ins_b.user_id), student=actor_for_user(s, student.user_id),
            other_student=actor_for_user(s, other.user_id), parent_full=_parent(s, student, "Pat"),
            parent_no_progress=_parent(s, student, "Nora", can_view_progress=False),
            parent_revoked=_parent(s, student, "Rex", status="revoked"),
            other_parent=_parent(s, other, "Olga"), visitor=VISITOR,
        )
        w.ids.update(student=student.id, other=other.id, instructor_a=ins_a.id)
    return w


def drive_input(start: datetime, minutes: int = 60, **extra) -> DriveInput:
    values = dict(start_time=start, end_time=start + timedelta(minutes=minutes), supervisor_name="Pat Parent",
                  supervisor_licence_number="1234567", road_conditions=["residential"], weather="dry")
    values.update(extra)
    return DriveInput(**values)


def add(engine, actor, student_id, start, minutes=60, **extra):
    with session_scope(engine) as s:
        return logbook.add_drive(s, actor, student_id, drive_input(start, minutes, **extra))


def count_drives(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(sa.text("SELECT count(*) FROM supervised_drives")).scalar_one()


# ─────────────────────────────────────────────────────────────────────────────
# Access matrix
# ─────────────────────────────────────────────────────────────────────────────

READERS_OF_S = {"admin", "instructor_a", "student", "parent_full"}
ENTRANTS_FOR_S = {"student", "parent_full"}
ALL = ["admin", "instructor_a", "instructor_b", "student", "other_student", "parent_full", "parent_no_progress",
       "parent_revoked", "other_parent", "visitor"]


def _refusal(actor_key: str):
    return AuthRequired if actor_key == "visitor" else Forbidden


def test_access_matrix_for_log_book_entries(engine):
    w = build_world(engine)
    sid = w.ids["student"]
    drive = add(engine, w.actors["student"], sid, at(2026, 11, 20, 10))
    for key in ALL:
        actor = w.actors[key]
        with session_scope(engine) as s:
            if key in READERS_OF_S:
                assert [d["id"] for d in logbook.list_drives(s, actor, sid)] == [drive["id"]], key
                assert logbook.get_drive(s, actor, drive["id"])["total_minutes"] == 60, key
                assert logbook.logbook_summary(s, actor, sid)["supervised_hours"] == 1.0, key
            else:
                for call, arg in ((logbook.list_drives, sid), (logbook.get_drive, drive["id"]),
                                  (logbook.logbook_summary, sid)):
                    with pytest.raises(_refusal(key)):
                        call(s, actor, arg)
    for key in ALL:
        actor = w.actors[key]
        # Entering drives: the learner and a parent whose link lets them see the log book; nobody else.
        start = at(2026, 11, 1, 8) + timedelta(hours=2 * ALL.index(key))
        if key in ENTRANTS_FOR_S:
            assert add(engine, actor, sid, start)["entered_by_role"] == ("parent" if "parent" in key else "student")
        else:
            with pytest.raises(_refusal(key)):
                add(engine, actor, sid, start)
    assert count_drives(engine) == 1 + len(ENTRANTS_FOR_S)
    # An unknown drive id: the administrator learns it does not exist, nobody else does.
    with session_scope(engine) as s:
        with pytest.raises(NotFound):
            logbook.get_drive(s, w.actors["admin"], uuid.uuid4())
        with pytest.raises(Forbidden):
            logbook.get_drive(s, w.actors["student"], uuid.uuid4())


def test_only_the_entrant_changes_an_unconfirmed_drive_and_only_the_supervisor_confirms(engine):
    w = build_world(engine)
    sid = w.ids["student"]
    pat = w.actors["parent_full"]
    with session_scope(engine) as s:
        choices = logbook.linked_supervisors(s, w.actors["student"], sid)
    assert {c["parent_id"] for c in choices} == {pat.parent_id, w.actors["parent_no_progress"].parent_id}
    drive = add(engine, w.actors["student"], sid, at(2026, 11, 21, 9), supervisor_parent_id=pat.parent_id,
                supervisor_name=None)
    assert drive["supervisor_name"] == "Pat Parent" and not drive["confirmed"]
    for key in ("parent_full", "admin", "instructor_a"):  # not the entrant
        with session_scope(engine) as s, pytest.raises(Forbidden):
            logbook.update_drive(s, w.actors[key], drive["id"], drive_input(at(2026, 11, 21, 9), 90))
        with session_scope(engine) as s, pytest.raises(Forbidden):
            logbook.delete_drive(s, w.actors[key], drive["id"])
    with session_scope(engine) as s:
        changed = logbook.update_drive(s, w.actors["student"], drive["id"],
                                       drive_input(at(2026, 11, 21, 9), 90, supervisor_parent_id=pat.parent_id))
    assert changed["total_minutes"] == 90 and changed["can_edit"]
    for key in ("student", "parent_no_progress", "admin"):  # not the supervisor
        with session_scope(engine) as s, pytest.raises(Forbidden):
            logbook.confirm_drive(s, w.actors[key], drive["id"])
    with session_scope(engine) as s:
        assert logbook.get_drive(s, pat, drive["id"])["can_confirm"]
        confirmed = logbook.confirm_drive(s, pat, drive["id"])
    assert confirmed["confirmed"] and confirmed["confirmed_at"] == NOW and not confirmed["can_edit"]
    with session_scope(engine) as s, pytest.raises(InvalidState):
        logbook.update_drive(s, w.actors["student"], drive["id"], drive_input(at(2026, 11, 21, 9), 30))
    with session_scope(engine) as s, pytest.raises(InvalidState):
        logbook.delete_drive(s, w.actors["student"], drive["id"])
    with session_scope(engine) as s, pytest.raises(InvalidState):
        logbook.confirm_drive(s, pat, drive["id"])
    # A typed supervisor can't confirm in the app; the entrant may delete an unconfirmed drive.
    typed = add(engine, pat, sid, at(2026, 11, 22, 9))
    assert not typed["can_confirm"]
    with session_scope(engine) as s:
        logbook.delete_drive(s, pat, typed["id"])
        events = s.execute(sa.text("SELECT event_type FROM audit_log WHERE subject_type = 'supervised_drive' "
                                   "ORDER BY seq")).scalars().all()
    assert events == ["LOGBOOK_DRIVE_ADDED", "LOGBOOK_DRIVE_UPDATED", "LOGBOOK_DRIVE_CONFIRMED",
                      "LOGBOOK_DRIVE_ADDED", "LOGBOOK_DRIVE_DELETED"]
    assert count_drives(engine) == 1


# ─────────────────────────────────────────────────────────────────────────────
# Totals from the records
# ─────────────────────────────────────────────────────────────────────────────


def _lessons(engine, w, hours: int, *, status="completed", first_day=1) -> None:
    with session_scope(engine) as s:
        n = s.execute(sa.text("SELECT count(*) FROM lessons WHERE student_id = :s"), {"s": w.ids["student"]}).scalar()
        for i in range(hours):
            start = at(2026, 10, first_day + i, 10)
            s.add(Lesson(instructor_id=w.ids["instructor_a"], student_id=w.ids["student"], lesson_number=n + i + 1,
                         lesson_date=start.date(), start_time=start, end_time=start + timedelta(hours=1),
                         total_minutes=60, status=status,
                         signed_at=start + timedelta(hours=1) if status == "completed" else None))


def test_summary_is_computed_from_signed_lessons_and_drives(engine):
    w = build_world(engine, dob=date(2009, 5, 1))  # 17: 100 hours including 10 at night
    sid = w.ids["student"]
    _lessons(engine, w, 12)  # 12 signed professional hours -> 32 credited
    _lessons(engine, w, 2, status="draft", first_day=20)  # drafts don't count
    add(engine, w.actors["student"], sid, at(2026, 11, 14, 19, 30), 90)  # sunset 19:46:03 AEDT: 16 day + 74 night
    add(engine, w.actors["parent_full"], sid, at(2026, 11, 21, 10), 120)
    with session_scope(engine) as s:
        summary = logbook.logbook_summary(s, w.actors["parent_full"], sid)
        drives = logbook.list_drives(s, w.actors["student"], sid)
    night = drives[1]["night_minutes"]
    assert (drives[1]["day_minutes"], night) == (16, 74)
    assert summary["age"] == 17 and summary["target_total_hours"] == 100 and summary["target_night_hours"] == 10
    assert summary["professional_hours"] == 12 and summary["credited_hours"] == 32 and summary["lessons"] == 12
    assert summary["supervised_hours"] == 3.5
    assert summary["supervised_night_hours"] == round(night / 60, 2)
    assert summary["total_hours"] == 35.5 and summary["remaining_hours"] == 64.5
    assert summary["remaining_night_hours"] == round(10 - night / 60, 2)
    assert summary["unconfirmed_drives"] == 2 and not summary["target_met"]
    weekly = summary["weekly"]
    assert weekly[0]["week_start"] == date(2026, 9, 28) and weekly[-1]["week_start"] == date(2026, 11, 16)
    assert sum(x["professional_minutes"] for x in weekly) == 12 * 60
    assert sum(x["supervised_minutes"] for x in weekly) == 210
    assert weekly[-1]["cumulative_hours"] == summary["total_hours"]
    # Nothing is stored as a counter: the students row's old total columns stay untouched.
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT total_hours FROM students WHERE id = :s"), {"s": sid}).scalar() == 0


def test_a_learner_of_25_needs_50_hours_including_5_at_night(engine):
    w = build_world(engine, dob=date(2001, 11, 30))  # 25 today (pinned clock)
    with session_scope(engine) as s:
        summary = logbook.logbook_summary(s, w.actors["student"], w.ids["student"])
    assert (summary["age"], summary["target_total_hours"], summary["target_night_hours"]) == (25, 50, 5)
    assert summary["remaining_hours"] == 50 and summary["weekly"] == []


def test_night_minutes_recorded_for_a_drive_on_the_april_dst_sunday(engine):
    w = build_world(engine)
    with clock.pinned(datetime(2027, 4, 5, tzinfo=timezone.utc)):
        drive = add(engine, w.actors["student"], w.ids["student"], at(2027, 4, 4, 17, 0), 90)
    assert (drive["day_minutes"], drive["night_minutes"]) == (54, 36)  # sunset 17:54:23 AEST


# ─────────────────────────────────────────────────────────────────────────────
# Bad input through the API: the envelope, and the table unchanged
# ─────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def api(engine):
    with TestClient(build_api()) as c:
        yield c


def bearer(engine, user_id) -> dict:
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, user_id), None, None)
        # Issued at the pinned time, checked against the database's own now(): keep it alive for the test.
        s.execute(sa.text("UPDATE auth_sessions SET idle_expires_at = now() + interval '1 day', "
                          "absolute_expires_at = now() + interval '1 day' WHERE id = :i"), {"i": issued.session_id})
    return {"Authorization": f"Bearer {issued.token}"}


def body(start: datetime, minutes: int = 60, **extra) -> dict:
    values = {"start_time": start.isoformat(), "end_time": (start + timedelta(minutes=minutes)).isoformat(),
              "supervisor_name": "Pat Parent", "supervisor_licence_number": "1234567",
              "road_conditions": ["residential", "main_road"], "weather": "wet", "odo_start": 1000, "odo_end": 1020}
    values.update(extra)
    return values


def envelope(r, status, code, field_name=None):
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    if field_name:
        assert field_name in str(error.get("details")), error
    return error


def test_api_adds_lists_and_summarises(engine, api):
    w = build_world(engine)
    sid = w.ids["student"]
    auth = bearer(engine, w.actors["student"].user_id)
    r = api.post(f"/api/v1/students/{sid}/logbook/drives", json=body(at(2026, 11, 28, 16)), headers=auth)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["total_minutes"] == 60 and data["distance_km"] == 20 and data["start_time"].endswith("Z")
    listed = api.get(f"/api/v1/students/{sid}/logbook/drives", headers=auth).json()["data"]
    assert [d["id"] for d in listed] == [data["id"]]
    summary = api.get(f"/api/v1/students/{sid}/logbook", headers=auth).json()["data"]
    assert summary["supervised_hours"] == 1.0
    assert api.delete(f"/api/v1/logbook/drives/{data['id']}", headers=auth).status_code == 204
    envelope(api.get(f"/api/v1/students/{sid}/logbook"), 401, "AUTH_REQUIRED")
    other = bearer(engine, w.actors["other_student"].user_id)
    envelope(api.get(f"/api/v1/students/{sid}/logbook", headers=other), 403, "FORBIDDEN")
    assert count_drives(engine) == 0


def test_api_bad_input_gets_the_envelope_and_changes_nothing(engine, api):
    w = build_world(engine)
    sid = w.ids["student"]
    auth = bearer(engine, w.actors["student"].user_id)
    url = f"/api/v1/students/{sid}/logbook/drives"
    good = api.post(url, json=body(at(2026, 11, 28, 16)), headers=auth)
    assert good.status_code == 201, good.text
    drive_id = good.json()["data"]["id"]

    def snapshot():
        with session_scope(engine) as s:
            return s.execute(sa.text("SELECT * FROM supervised_drives ORDER BY id")).all(), s.execute(
                sa.text("SELECT count(*) FROM audit_log")).scalar()

    before = snapshot()
    start = at(2026, 11, 29, 9)
    cases = [
        (body(start, -30), 422, "VALIDATION_ERROR", "end_time"),                        # end before start
        (body(start, 0), 422, "VALIDATION_ERROR", "end_time"),                          # no time at all
        (body(at(2026, 11, 30, 11, 30)), 422, "VALIDATION_ERROR", "end_time"),          # ends in the future
        (body(at(2026, 12, 5, 9)), 422, "VALIDATION_ERROR", "end_time"),                # wholly in the future
        (body(start, 13 * 60), 422, "VALIDATION_ERROR", "end_time"),                    # over 12 hours
        (body(at(2026, 11, 28, 16, 30)), 422, "VALIDATION_ERROR", "start_time"),        # overlaps the drive
        (body(start, odo_start=5000, odo_end=4999), 422, "VALIDATION_ERROR", "odo_end"),  # odometer backwards
        (body(start, odo_start=0, odo_end=5000), 422, "VALIDATION_ERROR", "odo_end"),   # 5,000 km in an hour
        (body(start, odo_start=-1), 422, "VALIDATION_ERROR", "odo_start"),
        (body(start, notes="x" * 1001), 422, "VALIDATION_ERROR", "notes"),              # text over limits
        (body(start, supervisor_name="y" * 101), 422, "VALIDATION_ERROR", "supervisor_name"),
        (body(start, supervisor_licence_number="1" * 21), 422, "VALIDATION_ERROR", "supervisor_licence_number"),
        (body(start, supervisor_licence_number="12;DROP"), 422, "VALIDATION_ERROR", "supervisor_licence_number"),
        (body(start, supervisor_name="   "), 422, "VALIDATION_ERROR", "supervisor_name"),
        (body(start, supervisor_name="Pat\x00"), 422, "VALIDATION_ERROR", "supervisor_name"),
        (body(start, road_conditions=["moon"]), 422, "VALIDATION_ERROR", "road_conditions"),
        (body(start, weather="hail"), 422, "VALIDATION_ERROR", "weather"),
        (body(start, supervisor_parent_id=str(w.actors["other_parent"].parent_id)), 422, "VALIDATION_ERROR",
         "supervisor_parent_id"),                                                       # not this learner's parent
        (body(at(2019, 1, 5, 9)), 422, "VALIDATION_ERROR", "start_time"),               # too long ago
        ({**body(start), "extra": 1}, 422, "VALIDATION_ERROR", "extra"),
    ]
    for payload, status, code, field_name in cases:
        envelope(api.post(url, json=payload, headers=auth), status, code, field_name)
        if "T16:30" not in payload["start_time"]:  # (a drive may overlap its own old times when corrected)
            envelope(api.put(f"/api/v1/logbook/drives/{drive_id}", json=payload, headers=auth), status, code,
                     field_name)
    # Someone else's learner, a parent without the switch: refused.
    nora = bearer(engine, w.actors["parent_no_progress"].user_id)
    envelope(api.post(url, json=body(start), headers=nora), 403, "FORBIDDEN")
    envelope(api.post(f"/api/v1/logbook/drives/{drive_id}/confirm", headers=auth), 403, "FORBIDDEN")
    envelope(api.post(f"/api/v1/logbook/drives/{uuid.uuid4()}/confirm", headers=auth), 403, "FORBIDDEN")
    assert snapshot() == before


def test_overlap_with_a_lesson_is_refused(engine):
    w = build_world(engine)
    _lessons(engine, w, 1, first_day=10)  # 10 October 2026, 10:00-11:00
    with pytest.raises(ValidationFailed, match="overlaps lesson 1"):
        add(engine, w.actors["student"], w.ids["student"], at(2026, 10, 10, 10, 30))
    assert count_drives(engine) == 0
