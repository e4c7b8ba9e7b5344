"""The learner's portal (issue 14, learner side) against the real database: the map and its reasons, the
booking gate, self-assessments (C24), the privacy switch, the log-book PDF, and their REST routes.

Every figure is checked against the engine's own answer (``student_matrix``, ``logbook_summary``), never
against a number of our own.
"""
from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from nexdrive.data import seed
from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, ValidationFailed
from nexdrive.http_app import build_api
from nexdrive.models import User
from nexdrive.services.compliance import competencies, learner_home, logbook, logbook_pdf, self_assessment
from nexdrive.services.compliance import lessons as lessons_service
from nexdrive.services.compliance.logbook import DriveInput
from nexdrive.services.core import clock
from nexdrive.services.identity import accounts, privacy
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.settings import PROJECT_ROOT
from tests.compliance_helpers import make_school, monday, pinned_now, signed

STAGE_1 = list(range(1, 18))
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        made = make_school(s)
    return made


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


def _through_stage_1(s, school, start):
    order = [[1], [2], [3], [4], [5, 6], [7, 8], [9], [10], [11, 12, 13], [14, 15, 16, 17]]
    day = start
    signed(s, school, day, taught=STAGE_1)
    for group in order:
        day += timedelta(days=1)
        signed(s, school, day, assessed=group)
    return day + timedelta(hours=1)


def _pin_at(when):
    return clock.pinned(when.astimezone(competencies.BUSINESS_TZ).astimezone(pinned_now().tzinfo))


# ── the map ──────────────────────────────────────────────────────────────────


def test_the_map_is_the_engines_matrix_in_words(engine, school):
    with session_scope(engine) as s:
        signed(s, school, monday(), taught=[1, 2, 3])
        signed(s, school, monday() + timedelta(days=1), assessed=[1])
    with session_scope(engine) as s:
        data = learner_home.learner_home(s, school.student, school.student_id)
        matrix = competencies.student_matrix(s, school.student, school.student_id)
        assert (data["competent"], data["total"]) == (matrix.competent, matrix.total) == (1, 23)
        assert len(data["map"]) == 25
        assert [m["task_number"] for m in data["map"]] == [r.task_number for r in matrix.rows]
        assert [m["status"] for m in data["map"]] == [r.status for r in matrix.rows]
        one = next(m for m in data["map"] if m["task_number"] == 1)
        assert one["status_label"] == "Competent" and one["lesson_number"] == 2 and one["date_label"]
        assert [m["task_number"] for m in data["map"] if m["is_next"]] == matrix.next_tasks
        four = next(m for m in data["map"] if m["task_number"] == 4)
        assert four["locked"] and "Task 4 needs tasks 2 and 3 competent first" in four["lock_reason"]
        review = next(m for m in data["map"] if m["task_number"] == 101)
        assert review["locked"] and review["lock_reason"].startswith("Review 1 opens 36 hours after every task")
        assert data["hours"]["professional_minutes"] == 120
        assert data["certificate"]["eligible"] is False and 102 in data["certificate"]["missing_reviews"]


def test_review_1_says_when_it_opens_and_the_booking_gate_agrees(engine, school):
    with session_scope(engine) as s:
        last = _through_stage_1(s, school, monday())
    opens = last + timedelta(hours=36)
    with _pin_at(last + timedelta(hours=2)), session_scope(engine) as s:
        data = learner_home.progress_summary(s, school.student, school.student_id)
        review = next(m for m in data["map"] if m["task_number"] == 101)
        local = opens.astimezone(competencies.BUSINESS_TZ)
        expected = (f"Review 1 opens on {local:%a} {local.day} {local:%B}, "
                    f"{local.hour % 12 or 12}:{local:%M} {'am' if local.hour < 12 else 'pm'}, "
                    "36 hours after task")
        assert review["lock_reason"].startswith(expected), review["lock_reason"]
        assert review["opens_at"] == opens and not review["open_now"]
        gate = learner_home.booking_gate(s, school.student, school.student_id, "review_1")
        assert gate["earliest"] == opens and gate["rule"] == "REVIEW_GAP"
        assert gate["reason"].startswith("Review 1 opens on")
        blocked = learner_home.booking_gate(s, school.student, school.student_id, "review_2")
        assert blocked["ok"] is False and "Review 1" in blocked["reason"]
        final = learner_home.booking_gate(s, school.student, school.student_id, "final_drive")
        assert final["ok"] is False and final["reason"].startswith("The final drive can be booked once")
        assert learner_home.booking_gate(s, school.student, school.student_id, None)["ok"] is True
    with _pin_at(opens + timedelta(minutes=1)), session_scope(engine) as s:
        review = next(m for m in learner_home.progress_summary(s, school.student, school.student_id)["map"]
                      if m["task_number"] == 101)
        assert review["open_now"] and not review["locked"]
        assert learner_home.booking_gate(s, school.student, school.student_id, "review_1")["ok"] is True


def test_who_may_read_the_progress(engine, school):
    with session_scope(engine) as s:
        for who in (school.student, school.instructor, school.admin, school.parents["parent_full"]):
            assert learner_home.progress_summary(s, who, school.student_id)["total"] == 23
        for who in (school.other_student, school.other_instructor, school.parents["parent_no_progress"]):
            with pytest.raises(Forbidden):
                learner_home.progress_summary(s, who, school.student_id)
        with pytest.raises(AuthRequired):
            learner_home.progress_summary(s, school.visitor, school.student_id)
        with pytest.raises(Forbidden):
            learner_home.booking_gate(s, school.other_student, school.student_id, "review_1")


def test_progress_figures_agree_with_the_engine_for_every_demo_learner(engine):
    with session_scope(engine) as s:
        seed.load_demo_data(s)
    with session_scope(engine) as s:
        users = s.execute(sa.text("SELECT user_id, id FROM students")).all()
        assert len(users) >= 4
        for user_id, student_id in users:
            actor = actor_for_user(s, user_id)
            data = learner_home.learner_home(s, actor, student_id)
            matrix = competencies.student_matrix(s, actor, student_id)
            hours = logbook.logbook_summary(s, actor, student_id)
            assert data["competent"] == matrix.competent <= data["total"] == matrix.total == 23
            assert data["reviews_passed"] == matrix.reviews_passed
            assert sum(1 for m in data["map"] if m["kind"] != "review" and m["status"] == "competent") \
                == matrix.competent
            for key in ("total_hours", "supervised_hours", "credited_hours", "night_hours", "remaining_hours"):
                assert data["hours"][key] == hours[key], key
            cert = competencies.certificate_eligibility(s, actor, student_id)
            assert data["certificate"]["missing_tasks"] == cert["missing_tasks"]
        # The log-book summary of the learner furthest along, kept (PDF and a PNG per page) to be looked at.
        user_id, student_id = s.execute(sa.text("""SELECT s.user_id, s.id FROM students s
            JOIN profiles p ON p.id = s.profile_id ORDER BY s.total_hours DESC, p.first_name LIMIT 1""")).one()
        learner = actor_for_user(s, user_id)
        # Afternoons: clear of the demo's own drives (weekends 9:30, weeknights 21:00) and lessons.
        day = (pinned_now() - timedelta(days=9)).astimezone(competencies.BUSINESS_TZ).replace(hour=15, minute=0)
        for i, (minutes, roads) in enumerate([(65, ["residential"]), (140, ["main_road", "highway"]),
                                              (50, ["car_park", "residential"])]):
            start = day + timedelta(days=2 * i, hours=2 * i)
            logbook.add_drive(s, learner, student_id, DriveInput(
                start_time=start, end_time=start + timedelta(minutes=minutes), supervisor_name="Grace Williams",
                supervisor_licence_number="ACT 0987654", odo_start=52_310 + 60 * i, odo_end=52_340 + 60 * i,
                road_conditions=roads, weather="wet" if i == 1 else "dry"))
        _, pdf = logbook_pdf.logbook_pdf(s, learner, student_id)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "logbook-summary.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(ARTIFACTS / "logbook-summary.pdf"),
                        str(ARTIFACTS / "logbook-summary")], check=True)


# ── self-assessment ──────────────────────────────────────────────────────────


def _answers(tasks, confidence=4):
    return [{"task_number": n, "confidence": confidence, "note": f"note {n}"} for n in tasks]


def test_a_self_assessment_is_kept_seen_by_the_instructor_and_marked_reviewed(engine, school):
    with session_scope(engine) as s:
        form = self_assessment.form(s, school.student, school.student_id)
        assert form["checkpoint"] == "review_1" and [t["task_number"] for t in form["tasks"]] == STAGE_1
        first = self_assessment.submit(s, school.student, school.student_id, "review_1", _answers(STAGE_1, 2))
        assert first["low_confidence_tasks"] == STAGE_1 and not first["reviewed"]
    with session_scope(engine) as s:
        again = self_assessment.form(s, school.student, school.student_id, "review_1")
        assert again["tasks"][0]["confidence"] == 2  # starts from the last answers
        self_assessment.submit(s, school.student, school.student_id, "review_1", _answers(STAGE_1, 5))
    with session_scope(engine) as s:
        history = self_assessment.list_for_student(s, school.instructor, school.student_id)
        assert [h["responses"][0]["confidence"] for h in history] == [5, 2]  # newest first, both kept
        queue = self_assessment.to_review(s, school.instructor)
        assert {q["id"] for q in queue} == {h["id"] for h in history}
        assert self_assessment.to_review(s, school.other_instructor) == []
        with pytest.raises(Forbidden):
            self_assessment.mark_reviewed(s, school.other_instructor, first["id"])
        with pytest.raises(Forbidden):
            self_assessment.mark_reviewed(s, school.student, first["id"])
        done = self_assessment.mark_reviewed(s, school.instructor, first["id"])
        assert done["reviewed"] and done["reviewed_at"] == clock.now(s)
    with session_scope(engine) as s:
        with pytest.raises(InvalidState):
            self_assessment.mark_reviewed(s, school.admin, first["id"])
        assert len(self_assessment.to_review(s, school.admin)) == 1


def test_self_assessment_access_and_bad_answers_change_nothing(engine, school):
    with session_scope(engine) as s:
        for who in (school.parents["parent_full"], school.other_student, school.other_instructor):
            with pytest.raises(Forbidden):
                self_assessment.list_for_student(s, who, school.student_id)
        with pytest.raises(Forbidden):  # only the learner fills it in
            self_assessment.submit(s, school.instructor, school.student_id, "review_1", _answers(STAGE_1))
        bad = [
            ("review_3", _answers(STAGE_1)),
            ("review_1", _answers(STAGE_1[:-1])),  # a task missing
            ("review_1", _answers(STAGE_1, 6)),
            ("review_1", _answers(STAGE_1) + [{"task_number": 18, "confidence": 3}]),
            ("review_1", [{**a, "note": "x" * 501} for a in _answers(STAGE_1)]),
        ]
        for kind, answers in bad:
            with pytest.raises(ValidationFailed):
                self_assessment.submit(s, school.student, school.student_id, kind, answers)
        assert s.execute(sa.text("SELECT count(*) FROM self_assessments")).scalar_one() == 0
        final = self_assessment.form(s, school.student, school.student_id, "final_drive")
        assert [t["task_number"] for t in final["tasks"]] == list(range(1, 24))
        assert len(self_assessment.form(s, school.student, school.student_id, "review_2")["tasks"]) == 22


# ── privacy switch ───────────────────────────────────────────────────────────


def test_the_privacy_switch_hides_everything_from_parents_at_once(engine, school):
    parent = school.parents["parent_full"]
    with session_scope(engine) as s:
        assert learner_home.progress_summary(s, parent, school.student_id)
        with pytest.raises(Forbidden):
            privacy.set_parent_visibility(s, parent, school.student_id, False)
        with pytest.raises(Forbidden):
            privacy.set_parent_visibility(s, school.instructor, school.student_id, False)
        with pytest.raises(ValidationFailed):
            privacy.set_parent_visibility(s, school.student, school.student_id, "no")
        out = privacy.set_parent_visibility(s, school.student, school.student_id, False)
        assert out["parent_visibility"] is False and out["linked_parents"] == 3
    with session_scope(engine) as s:
        with pytest.raises(Forbidden):
            learner_home.progress_summary(s, parent, school.student_id)
        privacy.set_parent_visibility(s, school.student, school.student_id, True)
    with session_scope(engine) as s:
        assert learner_home.progress_summary(s, parent, school.student_id)["total"] == 23


# ── the log-book PDF ─────────────────────────────────────────────────────────


def test_the_logbook_pdf_lists_drives_lessons_and_the_engines_totals(engine, school, tmp_path):
    with session_scope(engine) as s:
        signed(s, school, monday(), taught=[1, 2, 3], minutes=90)
        start = (monday() + timedelta(days=3)).replace(hour=19, minute=0)
        logbook.add_drive(s, school.student, school.student_id, DriveInput(
            start_time=start, end_time=start + timedelta(minutes=75), supervisor_name="Sam Supervisor",
            supervisor_licence_number="ACT1234567", odo_start=1000, odo_end=1042,
            road_conditions=["residential", "main_road"], weather="wet"))
    with session_scope(engine) as s:
        data = logbook_pdf.logbook_summary_data(s, school.student, school.student_id)
        assert len(data["drives"]) == 1 and len(data["lessons"]) == 1
        assert data["summary"] == logbook.logbook_summary(s, school.student, school.student_id)
        name, pdf = logbook_pdf.logbook_pdf(s, school.student, school.student_id)
        assert name.startswith("logbook-") and name.endswith(".pdf") and pdf.startswith(b"%PDF")
        for who in (school.other_student, school.other_instructor, school.parents["parent_no_progress"]):
            with pytest.raises(Forbidden):
                logbook_pdf.logbook_pdf(s, who, school.student_id)
    path = tmp_path / "logbook.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
        for expected in ("Learner driver log-book summary", "Sam Supervisor", "ACT1234567", "1 h 15 min",
                         "Credited for professional lessons", "4 h 30 min", "Declaration"):
            assert expected in text, expected


# ── the REST API (architecture §4.2.3) ───────────────────────────────────────


def _client(engine, school, actor_key="student"):
    client = TestClient(build_api())
    actor = getattr(school, actor_key) if actor_key != "parent" else school.parents["parent_full"]
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, actor.user_id), None, None)
    client.headers["Authorization"] = f"Bearer {issued.token}"
    return client


def test_the_api_progress_self_assessments_privacy_and_pdf(engine, school):
    student = _client(engine, school)
    base = f"/api/v1/students/{school.student_id}"
    r = student.get(f"{base}/progress")
    assert r.status_code == 200
    body = r.json()["data"]
    assert (body["competent"], body["total"], len(body["map"])) == (0, 23, 25)
    r = student.post(f"{base}/self-assessments", json={"checkpoint": "review_1", "responses": _answers(STAGE_1)})
    assert r.status_code == 201, r.text
    sa_id = r.json()["data"]["id"]
    bad = student.post(f"{base}/self-assessments", json={"checkpoint": "review_1", "responses": _answers([1])})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    assert len(student.get(f"{base}/self-assessments").json()["data"]) == 1
    instructor = _client(engine, school, "instructor")
    assert instructor.post(f"/api/v1/self-assessments/{sa_id}/review").json()["data"]["reviewed"] is True
    assert student.post(f"/api/v1/self-assessments/{sa_id}/review").status_code == 403
    parent = _client(engine, school, "parent")
    assert parent.get(f"{base}/self-assessments").status_code == 403
    assert parent.get(f"{base}/progress").status_code == 200
    assert parent.patch(f"{base}/privacy", json={"parent_visibility": False}).status_code == 403
    r = student.patch(f"{base}/privacy", json={"parent_visibility": False})
    assert r.status_code == 200 and r.json()["data"]["parent_visibility"] is False
    assert parent.get(f"{base}/progress").status_code == 403
    assert student.patch(f"{base}/privacy", json={"parent_visibility": "yes"}).status_code == 422
    pdf = student.get(f"{base}/logbook/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "no-store" in pdf.headers["cache-control"]
    assert _client(engine, school, "other_student").get(f"{base}/logbook/pdf").status_code == 403


# ── lessons: comments, signatures, bridge forms, disputes ───────────────────


def test_the_lesson_list_shows_signatures_and_offers_a_dispute_for_7_days(engine, school):
    with session_scope(engine) as s:
        lesson = signed(s, school, monday(), taught=[1, 2], comments="Smooth start, mirrors need work.")
        signed_at = s.execute(sa.text("SELECT signed_at FROM lessons WHERE id = :i"), {"i": lesson["id"]}).scalar()
    with clock.pinned(signed_at + timedelta(days=2)), session_scope(engine) as s:
        rows = learner_home.lesson_list(s, school.student, school.student_id)
        assert len(rows) == 1 and rows[0]["can_dispute"] and rows[0]["comments"].startswith("Smooth start")
        assert {g["signer_role"] for g in rows[0]["signatures"]} == {"instructor", "student"}
        assert rows[0]["taught"] == ["1. Controls", "2. Cabin drill"]
        assert not learner_home.lesson_list(s, school.instructor, school.student_id)[0]["can_dispute"]
        with pytest.raises(ValidationFailed):
            lessons_service.dispute_lesson(s, school.student, lesson["id"], reason="  ")
        lessons_service.dispute_lesson(s, school.student, lesson["id"], reason="Task 2 was not covered.")
    with clock.pinned(signed_at + timedelta(days=2)), session_scope(engine) as s:
        row = learner_home.lesson_list(s, school.student, school.student_id)[0]
        assert row["status"] == "disputed" and not row["can_dispute"]
        assert row["disputes"][0]["reason"] == "Task 2 was not covered."
    with session_scope(engine) as s:
        other = signed(s, school, monday() + timedelta(days=1), assessed=[1])
        at = s.execute(sa.text("SELECT signed_at FROM lessons WHERE id = :i"), {"i": other["id"]}).scalar()
    with clock.pinned(at + timedelta(days=8)), session_scope(engine) as s:
        row = next(r for r in learner_home.lesson_list(s, school.student, school.student_id)
                   if r["id"] == other["id"])
        assert not row["can_dispute"]
        with pytest.raises(InvalidState):
            lessons_service.dispute_lesson(s, school.student, other["id"], reason="Too late now.")


def test_both_signature_images_are_viewable_by_the_learner_and_not_by_another(engine, school):
    with session_scope(engine) as s:
        signed(s, school, monday(), taught=[1])
    with session_scope(engine) as s:
        rows = learner_home.lesson_list(s, school.student, school.student_id)
    student, other = _client(engine, school), _client(engine, school, "other_student")
    for sig in rows[0]["signatures"]:
        r = student.get(f"/api/v1/signatures/{sig['id']}/image")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), sig["signer_role"]
        assert other.get(f"/api/v1/signatures/{sig['id']}/image").status_code == 403
