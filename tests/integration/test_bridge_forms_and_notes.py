"""Bridge forms (C25), private notes (C15) and a lesson's status on its booking, on the real database.

* A lesson handed in from the workstation has a bridge form: its skills with status, the instructor's
  words, a practice suggestion and a Hub link per task; the learner, a parent with "Practice guides", the
  instructor and the office see it (page data and PDF); another instructor, a parent without the switch,
  do not. Sending queues the link by email and SMS to the learner and that parent, once.
* Private notes: the author instructor and the office only; a learner, a parent, another instructor are
  refused. A marker written as a private note is absent from every learner- and parent-facing API GET
  (walked from the OpenAPI document), from the bridge form PDF and from every outbox message.
* ``/bookings/{id}/start`` and ``/complete``: the booking's instructor; a completed booking links its lesson.
"""
from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from nexdrive.db import session_scope
from nexdrive.errors import Forbidden, InvalidState, ValidationFailed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.models import Booking, Instructor, Parent, Student
from nexdrive.services.compliance import bridge_forms, private_notes
from nexdrive.services.core import clock
from nexdrive.services.scheduling import lesson_status, workstation
from tests.api_server import serve_api
from tests.compliance_helpers import make_school, pinned_now, png
from tests.factories import make_service
from tests.integration.test_lessons_api import bearer

MARKER = "ZZPRIVATEMARKER-7f3a"


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


def _booking(s, school, service_id, start, status="confirmed") -> uuid.UUID:
    b = Booking(instructor_id=school.instructor_id, student_id=school.student_id, service_id=service_id,
                scheduled_date=start.astimezone(BUSINESS_TZ).date(), start_time=start,
                end_time=start + timedelta(hours=1), duration_minutes=60, status=status, amount_cents=8500,
                pickup_address="12 Example St", suburb="Belconnen")
    s.add(b)
    s.flush()
    return b.id


@pytest.fixture
def lesson(engine):
    """A lesson from the phone (tasks 1 and 2 taught), its bridge form, and two parents (with and without
    the "Practice guides" switch)."""
    with session_scope(engine) as s:
        school = make_school(s)
        from tests.compliance_helpers import _parent
        school.parents["parent_no_guides"] = _parent(s, school.student_id, can_view_bridge_forms=False)
        service = make_service(s)
        start = pinned_now() - timedelta(hours=2)
        booking_id = _booking(s, school, service.id, start)
        result = workstation.submit_lesson(s, school.instructor, {
            "client_id": str(uuid.uuid4()), "student_id": str(school.student_id), "booking_id": str(booking_id),
            "start_time": start.isoformat(), "end_time": (start + timedelta(hours=1)).isoformat(),
            "odo_start": "1000", "odo_end": "1032", "suburb": "Belconnen", "comments": "Good start.",
            "tasks": {"1": "taught", "2": "taught"}, "went_well": "Steady steering.",
            "practise": "Cabin drill before every drive.", "focus": "Mirrors", "next_lesson": "Task 3 next.",
            "instructor_signature": png(seed=1), "learner_signature": png(seed=2),
            "signed_at": pinned_now().isoformat()})
    return school, result, booking_id, service.id


def test_hub_slugs_follow_the_catalogue_names():
    assert bridge_forms.hub_slug(1, "Controls") == "task-1-controls"
    assert bridge_forms.hub_slug(7, "Turns (left and right)") == "task-7-turns-left-and-right"
    assert bridge_forms.hub_slug(101, "Review 1") == "review-1"
    assert bridge_forms.hub_url(20, "Observation / hazard recognition") == "/hub/task-20-observation-hazard-recognition"


def test_the_bridge_form_from_the_signed_lesson_and_who_sees_it(engine, lesson):
    school, result, _, _ = lesson
    form_id = uuid.UUID(result["bridge_form_id"])
    with session_scope(engine) as s:
        for actor in (school.instructor, school.admin, school.student, school.parents["parent_full"]):
            view = bridge_forms.get_bridge_form(s, actor, form_id)
            assert [k["task_number"] for k in view["skills"]] == [1, 2]
            assert view["skills"][0]["status"] == "Taught" and view["skills"][0]["hub_url"] == "/hub/task-1-controls"
            assert view["skills"][1]["practice"] == bridge_forms.practice_tip(2)
            assert view["went_well"] == "Steady steering." and view["lesson_signed"]
            assert view["when"].endswith(("am", "pm")) and view["learner_name"] == "Sam Student"
        latest = bridge_forms.latest_bridge_form(s, school.parents["parent_full"], school.student_id)
        assert latest["id"] == str(form_id)
        for actor in (school.other_instructor, school.other_student, school.parents["parent_no_guides"]):
            with pytest.raises(Forbidden):
                bridge_forms.get_bridge_form(s, actor, form_id)
        with pytest.raises(Forbidden):
            bridge_forms.latest_bridge_form(s, school.parents["parent_no_guides"], school.student_id)
        name, data = bridge_forms.bridge_form_pdf(s, school.student, form_id)
    assert name.endswith(".pdf") and data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Steady steering." in text and "/hub/task-1-controls" in text and "Controls" in text


def test_sending_reaches_the_learner_and_parents_with_the_switch_once(engine, lesson):
    school, result, _, _ = lesson
    form_id = uuid.UUID(result["bridge_form_id"])
    with session_scope(engine) as s:
        with pytest.raises(Forbidden):
            bridge_forms.send_bridge_form(s, school.student, form_id)
        with pytest.raises(Forbidden):
            bridge_forms.send_bridge_form(s, school.other_instructor, form_id)
        sent = bridge_forms.send_bridge_form(s, school.instructor, form_id)
        again = bridge_forms.send_bridge_form(s, school.instructor, form_id)
    assert sent["messages"] >= 2 and again["messages"] == sent["messages"]
    with session_scope(engine) as s:
        rows = s.execute(sa.text("SELECT channel, recipient, body, user_id FROM outbox_messages "
                                 "WHERE template = 'bridge_form_ready'")).all()
        student_user = s.get(Student, school.student_id).user_id
        no_guides = s.execute(sa.select(Parent.user_id)).scalars().all()
    assert len(rows) == sent["messages"]
    assert all(f"/lessons/bridge?id={form_id}" in r.body for r in rows)
    users = {r.user_id for r in rows}
    assert student_user in users and school.parents["parent_full"].user_id in users
    assert school.parents["parent_no_guides"].user_id not in users and len(no_guides) >= 4
    assert {r.channel for r in rows if r.user_id == student_user} == {"email", "sms"}


def test_private_notes_are_for_their_author_and_the_office_only(engine, lesson):
    school, result, _, _ = lesson
    with session_scope(engine) as s:
        note = private_notes.add_note(s, school.instructor, student_id=school.student_id, note="Nervous at lights",
                                      note_type="coaching_strategy")
        on_lesson = private_notes.add_note(s, school.instructor, student_id=school.student_id, note="Check mirrors",
                                           lesson_id=uuid.UUID(result["lesson_id"]))
        assert on_lesson["note_type"] == "lesson_specific"
        with pytest.raises(ValidationFailed):
            private_notes.add_note(s, school.instructor, student_id=school.student_id, note="x", note_type="gossip")
        for actor in (school.student, school.parents["parent_full"], school.other_instructor):
            with pytest.raises(Forbidden):
                private_notes.add_note(s, actor, student_id=school.student_id, note="no")
    with session_scope(engine) as s:
        mine = private_notes.list_notes(s, school.instructor, student_id=school.student_id)
        assert [n["id"] for n in mine] == [on_lesson["id"], note["id"]]
        assert [n["id"] for n in private_notes.list_notes(s, school.admin, student_id=school.student_id)] == \
            [on_lesson["id"], note["id"]]
        assert private_notes.list_notes(s, school.other_instructor, student_id=school.student_id) == []
        assert [n["id"] for n in private_notes.list_notes(s, school.instructor,
                                                          lesson_id=uuid.UUID(result["lesson_id"]))] \
            == [on_lesson["id"]]
        for actor in (school.student, school.parents["parent_full"]):
            with pytest.raises(Forbidden):
                private_notes.list_notes(s, actor, student_id=school.student_id)
        with pytest.raises(Forbidden):
            private_notes.delete_note(s, school.other_instructor, uuid.UUID(note["id"]))
        private_notes.update_note(s, school.instructor, uuid.UUID(note["id"]), note="Calmer now")
        private_notes.delete_note(s, school.instructor, uuid.UUID(on_lesson["id"]))
        details = s.execute(sa.text("SELECT details::text FROM audit_log WHERE event_type LIKE 'private_note.%'")
                            ).scalars().all()
    assert len(details) == 4 and not any("Nervous" in d or "Calmer" in d for d in details)


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def test_a_private_note_leaks_nowhere_a_learner_or_parent_can_look(engine, lesson):
    school, result, booking_id, _ = lesson
    form_id = result["bridge_form_id"]
    with session_scope(engine) as s:
        note = private_notes.add_note(s, school.instructor, student_id=school.student_id,
                                      note=f"{MARKER} general", note_type="safety_concern")
        private_notes.add_note(s, school.instructor, student_id=school.student_id, note=f"{MARKER} lesson",
                               lesson_id=uuid.UUID(result["lesson_id"]))
        bridge_forms.send_bridge_form(s, school.instructor, uuid.UUID(form_id))
        sig = s.execute(sa.text("SELECT id FROM signatures WHERE document_id = :l LIMIT 1"),
                        {"l": result["lesson_id"]}).scalar_one()
        users = {"learner": s.get(Student, school.student_id).user_id,
                 "parent": school.parents["parent_full"].user_id}
        ins_user = s.get(Instructor, school.instructor_id).user_id
    ids = {"student_id": str(school.student_id), "lesson_id": result["lesson_id"], "form_id": form_id,
           "booking_id": str(booking_id), "signature_id": str(sig), "note_id": note["id"]}
    with serve_api() as base:
        spec = httpx.get(f"{base}/api/v1/openapi.json").json()
        gets = [p for p, ops in spec["paths"].items() if "get" in ops and "openapi" not in p]
        assert "/api/v1/students/{student_id}/private-notes" in gets and len(gets) > 20
        for who, user_id in users.items():
            headers = bearer(engine, user_id)
            seen = 0
            for path in gets:
                r = httpx.get(base + _fill(path, ids), headers=headers, timeout=30)
                body = r.content
                if r.headers.get("content-type", "").startswith("application/pdf"):
                    body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).encode()
                assert MARKER.encode() not in body, (who, path)
                seen += r.status_code == 200
            notes = httpx.get(f"{base}/api/v1/students/{school.student_id}/private-notes", headers=headers)
            assert notes.status_code == 403, who
            assert seen >= 8, (who, seen)  # the learner's and parent's own pages really answered
        # the author does get them (the walk would have seen them if they were on a shared path)
        mine = httpx.get(f"{base}/api/v1/students/{school.student_id}/private-notes",
                         headers=bearer(engine, ins_user)).json()["data"]
        assert any(MARKER in n["note"] for n in mine)
    with session_scope(engine) as s:
        texts = s.execute(sa.text("SELECT coalesce(subject, '') || body FROM outbox_messages")).scalars().all()
        assert texts and not any(MARKER in t for t in texts)


def test_start_and_complete_a_booked_lesson(engine, lesson):
    school, result, done_id, service_id = lesson
    with session_scope(engine) as s:
        later = _booking(s, school, service_id, pinned_now() - timedelta(minutes=10))
        future = _booking(s, school, service_id, pinned_now() + timedelta(days=2))
    with session_scope(engine) as s:
        for actor in (school.student, school.parents["parent_full"], school.other_instructor):
            with pytest.raises(Forbidden):
                lesson_status.start_lesson(s, actor, later)
        with pytest.raises(InvalidState):
            lesson_status.start_lesson(s, school.instructor, future)
        started = lesson_status.start_lesson(s, school.instructor, later)
        assert started["status"] == "in_progress"
        assert lesson_status.start_lesson(s, school.instructor, later)["status"] == "in_progress"
        completed = lesson_status.complete_lesson(s, school.instructor, later)
        assert completed["status"] == "completed" and completed["lesson_id"] == ""
        assert completed["record_url"].endswith(f"booking={later}")
        recorded = lesson_status.complete_lesson(s, school.instructor, done_id)  # completed by the workstation
        assert recorded["lesson_id"] == result["lesson_id"] and recorded["status"] == "completed"
        assert s.get(Booking, done_id).lesson_id == uuid.UUID(result["lesson_id"])
    with serve_api() as base:
        r = httpx.post(f"{base}/api/v1/bookings/{future}/start", headers=bearer(engine, school.student.user_id))
        assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
        r = httpx.post(f"{base}/api/v1/bookings/{future}/complete",
                       headers=bearer(engine, school.instructor.user_id))
        assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE"


def test_the_learner_page_for_their_instructor_only(engine, lesson):
    school, result, _, service_id = lesson
    with session_scope(engine) as s:
        _booking(s, school, service_id, pinned_now() + timedelta(days=1))
        private_notes.add_note(s, school.instructor, student_id=school.student_id, note="Likes footy")
        s.execute(sa.text("INSERT INTO self_assessments (student_id, assessment_type, responses, completed_at) "
                          "VALUES (:s, 'general', CAST(:r AS jsonb), :t)"),
                  {"s": school.student_id, "r": '[{"task_number": 3, "confidence": 1}]', "t": pinned_now()})
    with session_scope(engine) as s:
        page = workstation.learner_page(s, school.instructor, school.student_id)
        assert page["name"] == "Sam Student" and len(page["tasks"]) == 25
        assert [x["id"] for x in page["lessons"]] == [result["lesson_id"]]
        assert [sg["role"] for sg in page["lessons"][0]["signatures"]] == ["Instructor", "Learner"]
        assert page["lessons"][0]["when"].endswith(("am", "pm"))
        assert page["bridge_forms"][0]["id"] == result["bridge_form_id"]
        assert [n["note"] for n in page["notes"]] == ["Likes footy"]
        assert page["self_assessments"][0]["least_confident"] == "task 3"
        assert len(page["upcoming"]) == 1 and page["hours"]["lessons"] == 1
        assert workstation.learner_page(s, school.admin, school.student_id)["notes"][0]["note"] == "Likes footy"
        for actor in (school.other_instructor, school.student, school.parents["parent_full"]):
            with pytest.raises(Forbidden):
                workstation.learner_page(s, actor, school.student_id)


def test_a_private_note_written_with_the_lesson_on_the_phone(engine, lesson):
    school, _, _, service_id = lesson
    start = pinned_now() - timedelta(hours=5)
    with session_scope(engine) as s:
        out = workstation.submit_lesson(s, school.instructor, {
            "client_id": str(uuid.uuid4()), "student_id": str(school.student_id),
            "start_time": start.isoformat(), "end_time": (start + timedelta(hours=1)).isoformat(),
            "tasks": {"3": "taught"}, "instructor_signature": png(seed=3), "learner_signature": png(seed=4),
            "private_note": f"{MARKER} phone", "private_note_type": "safety_concern", "send_bridge_form": True})
        assert out["bridge_form_sent"] >= 2
        notes = private_notes.list_notes(s, school.instructor, lesson_id=uuid.UUID(out["lesson_id"]))
        assert [(n["note"], n["note_type"]) for n in notes] == [(f"{MARKER} phone", "safety_concern")]
        form = bridge_forms.get_bridge_form(s, school.student, uuid.UUID(out["bridge_form_id"]))
        assert MARKER not in str(form)
