"""Lessons, competency rules and signatures through the service layer, on the real database."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import Forbidden, InvalidState, NotEligible, ValidationFailed
from nexdrive.services.compliance import competencies, lessons, verification
from nexdrive.services.core import clock
from tests.compliance_helpers import make_school, monday, pinned_now, png, record, sign_both, signed

STAGE_1 = list(range(1, 18))


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        made = make_school(s)
    return made


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


def _count(s, table: str) -> int:
    return s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_lesson_is_recorded_signed_by_both_and_its_changes_are_chained(engine, school):
    start = monday()
    with session_scope(engine) as s:
        draft = record(s, school, start, taught=[1, 2, 3], location_suburb="Belconnen", odo_start=1000,
                       odo_end=1032, comments="Good start.")
        assert (draft["lesson_number"], draft["status"], draft["created"]) == (1, "draft", True)
        assert draft["lesson_date"] == start.date() and draft["total_minutes"] == 60
    with session_scope(engine) as s:
        first = lessons.sign_lesson(s, school.instructor, draft["id"], signature_image=png())
        assert first["lesson_status"] == "pending_student_signature"
        assert _count(s, "student_competencies") == 0  # nothing counts until both have signed
    with session_scope(engine) as s:
        done = lessons.sign_lesson(s, school.student, draft["id"], signature_image=png(seed=3))
        assert done["lesson_status"] == "completed"
        rows = s.execute(sa.text("""SELECT t.task_number, sc.status, sc.lesson_id, sc.signature_id, sc.seq
            FROM student_competencies sc JOIN competency_tasks t ON t.id = sc.task_id ORDER BY sc.seq""")).all()
        assert [(r.task_number, r.status) for r in rows] == [(1, "taught"), (2, "taught"), (3, "taught")]
        assert {r.lesson_id for r in rows} == {draft["id"]}
        assert {r.signature_id for r in rows} == {done["signature_id"]}
        sig_rows = s.execute(sa.text("SELECT signer_role, document_sha256, signature_image_sha256 FROM signatures "
                                     "ORDER BY seq")).all()
        assert [r.signer_role for r in sig_rows] == ["instructor", "student"]
        assert sig_rows[0].document_sha256 == sig_rows[1].document_sha256
        result = verification.verify_lesson(s, school.admin, draft["id"])
        assert result.ok, result.problems
        matrix = competencies.student_matrix(s, school.student, school.student_id)
        assert matrix.row(1).status == "taught" and matrix.row(4).status == "not_started"


def test_assessing_needs_teaching_first_and_prerequisites_and_never_the_same_lesson(engine, school):
    start = monday()
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            record(s, school, start, taught=[1], assessed=[1])
        assert exc.value.code == "COMPETENCY_LOCKED" and exc.value.details["tasks"] == [1]
        rules = {b["rule"] for b in exc.value.details["blocked_by"]["1"]}
        assert "TAUGHT_AND_ASSESSED_SAME_LESSON" in rules
    with session_scope(engine) as s:
        signed(s, school, start, taught=[1, 2])
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            record(s, school, start + timedelta(days=1), assessed=[2])  # 2 needs 1 competent
        assert exc.value.details["blocked_by"]["2"][0] == {
            "rule": "PREREQUISITES", "message": competencies.RULE_TEXT["PREREQUISITES"], "tasks": [1],
            "opens_at": None}
    with session_scope(engine) as s:
        signed(s, school, start + timedelta(days=1), assessed=[1])
        lesson = signed(s, school, start + timedelta(days=2), assessed=[2])
        assert lesson["lesson_number"] == 3
        matrix = competencies.student_matrix(s, school.instructor, school.student_id)
        assert (matrix.row(1).status, matrix.row(2).status) == ("competent", "competent")
        assert matrix.competent == 2 and matrix.total == 23


def _through_stage_1(s, school, start, *, last_end_offset=timedelta()):
    """Teach and pass tasks 1-17 respecting prerequisites; returns when the last one became competent."""
    order = [[1], [2], [3], [4], [5, 6], [7, 8], [9], [10], [11, 12, 13], [14, 15, 16, 17]]
    day = start
    signed(s, school, day, taught=STAGE_1)
    for group in order:
        day += timedelta(days=1)
        signed(s, school, day, assessed=group)
    return day + timedelta(hours=1)


def test_review_1_opens_exactly_36_hours_after_the_last_task(engine, school):
    with session_scope(engine) as s:
        last_done = _through_stage_1(s, school, monday())
        matrix = competencies.student_matrix(s, school.student, school.student_id)
        assert matrix.competent == 17 and matrix.review_opens_at[101] == last_done + timedelta(hours=36)
        opens = matrix.review_opens_at[101]
        with pytest.raises(NotEligible) as exc:
            record(s, school, opens - timedelta(minutes=1), assessed=[101])
        assert exc.value.details["blocked_by"]["101"][0]["rule"] == "REVIEW_GAP"
    with session_scope(engine) as s:
        review = signed(s, school, opens, assessed=[101])
        assert review["status"] == "completed"
        assert competencies.student_matrix(s, school.student, school.student_id).reviews_passed == [101]


def test_a_manual_achievement_covers_automatic_but_not_the_other_way(engine, school):
    start = monday()
    with session_scope(engine) as s:
        signed(s, school, start, taught=[1], transmission="manual")
        signed(s, school, start + timedelta(days=1), assessed=[1], transmission="manual")
        auto = competencies.student_matrix(s, school.admin, school.student_id, transmission="auto")
        manual = competencies.student_matrix(s, school.admin, school.student_id, transmission="manual")
        assert auto.row(1).status == manual.row(1).status == "competent"
        signed(s, school, start + timedelta(days=2), taught=[2], transmission="manual")
        signed(s, school, start + timedelta(days=3), assessed=[2], transmission="auto")
        manual = competencies.student_matrix(s, school.admin, school.student_id, transmission="manual")
        assert manual.row(2).status == "taught" and manual.row(2).auto_status == "competent"


def test_lesson_numbers_corrections_and_history(engine, school):
    start = monday()
    with session_scope(engine) as s:
        first = signed(s, school, start, taught=[1, 2], comments="Orig")
        second = signed(s, school, start + timedelta(days=1), taught=[3])
    with session_scope(engine) as s:
        with pytest.raises(InvalidState):
            lessons.update_draft(s, school.instructor, first["id"], comments="edit after signing")
        fix = lessons.correct_lesson(s, school.instructor, first["id"], reason="Task 2 was not covered.",
                                     competencies_taught=[1])
        assert (fix["lesson_number"], fix["correction_of"], fix["status"]) == (1, first["id"], "draft")
        sign_both(s, school, fix["id"])
    with session_scope(engine) as s:
        matrix = competencies.student_matrix(s, school.student, school.student_id)
        assert matrix.row(2).status == "not_started" and matrix.row(1).status == "taught"
        history = lessons.lesson_history(s, school.student, school.student_id)
        assert [(h["lesson_number"], h["correction_of"]) for h in history] == [
            (1, None), (1, first["id"]), (2, None)]
        view = lessons.get_lesson(s, school.student, first["id"])
        assert view["is_current"] is False and len(view["versions"]) == 2
        assert second["lesson_number"] == 2


def test_dispute_within_7_days_notifies_and_a_correction_resolves_it(engine, school):
    start = monday()
    with session_scope(engine) as s:
        lesson = signed(s, school, start, taught=[1])
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            lessons.dispute_lesson(s, school.student, lesson["id"], reason="  ")
        with pytest.raises(Forbidden):
            lessons.dispute_lesson(s, school.instructor, lesson["id"], reason="no")
    with session_scope(engine) as s:
        out = lessons.dispute_lesson(s, school.student, lesson["id"], reason="The lesson was 45 minutes, not 60.")
        assert out["lesson_status"] == "disputed"
        queued = s.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE template = 'lesson_disputed'")).scalar()
        assert queued >= 1
        inbox = s.execute(sa.text("SELECT count(*) FROM notifications WHERE notification_type = 'lesson_disputed'"
                                  )).scalar()
        assert inbox >= 1  # the office's bell
    with session_scope(engine) as s:
        fix = lessons.correct_lesson(s, school.instructor, lesson["id"], reason="Shortened to 45 minutes.",
                                     end_time=start + timedelta(minutes=45))
        sign_both(s, school, fix["id"])
    with session_scope(engine) as s:
        view = lessons.get_lesson(s, school.admin, lesson["id"])
        assert view["status"] == "completed" and view["disputes"][0]["resolved_by_lesson_id"] == fix["id"]


def test_a_dispute_after_7_days_is_refused(engine, school):
    with session_scope(engine) as s:
        lesson = signed(s, school, monday(), taught=[1])
    with clock.pinned(pinned_now() + timedelta(days=7, minutes=1)):
        with session_scope(engine) as s:
            with pytest.raises(InvalidState, match="7 days"):
                lessons.dispute_lesson(s, school.student, lesson["id"], reason="late")


def test_the_same_client_id_twice_is_one_lesson(engine, school):
    cid = uuid.uuid4()
    with session_scope(engine) as s:
        a = record(s, school, monday(), taught=[1], client_id=cid)
    with session_scope(engine) as s:
        b = record(s, school, monday(), taught=[1], client_id=cid)
        assert (a["id"], a["created"], b["created"]) == (b["id"], True, False)
        assert _count(s, "lessons") == 1


def test_only_its_instructor_edits_a_draft(engine, school):
    with session_scope(engine) as s:
        draft = record(s, school, monday(), taught=[1])
    for who in (school.admin, school.other_instructor, school.student):
        with session_scope(engine) as s:
            with pytest.raises(Forbidden):
                lessons.update_draft(s, who, draft["id"], comments="mine now")
    with session_scope(engine) as s:
        out = lessons.update_draft(s, school.instructor, draft["id"], comments="Fine.", competencies_taught=[1, 2])
        assert out["comments"] == "Fine." and out["competencies_taught"] == [1, 2]


def test_final_drive_rules(engine, school):
    """Review 2 first, 45 minutes, not on a Sunday or ACT public holiday, the audit unit told 2 business
    days before."""
    with session_scope(engine) as s:
        cat = competencies.load_catalogue(s)
        rules = competencies.load_rules(s)
    states = competencies.fold([competencies.Event(102, "competent", "auto", monday(), monday(), 1)])
    tuesday = monday() + timedelta(days=8)
    notice = [(tuesday - timedelta(days=2)).astimezone(competencies.BUSINESS_TZ).replace(hour=8)]

    def rules_of(at, minutes=60, notices=notice):
        return [b.rule for b in competencies.assess_blockers(cat, states, 23, "auto", at=at, rules=rules,
                                                             lesson_minutes=minutes, notices=notices)]
    assert rules_of(tuesday) == []
    assert rules_of(tuesday, minutes=44) == ["FINAL_DRIVE_TOO_SHORT"]
    assert rules_of(tuesday, notices=[tuesday - timedelta(days=1)]) == ["AUDIT_UNIT_NOT_NOTIFIED"]
    sunday = monday() + timedelta(days=6)
    assert "FINAL_DRIVE_SUNDAY" in rules_of(sunday, notices=[monday() - timedelta(days=7)])
    assert rules_of(tuesday, notices=[])[-1] == "AUDIT_UNIT_NOT_NOTIFIED"
    none = competencies.fold([])
    assert [b.rule for b in competencies.assess_blockers(cat, none, 23, "auto", at=tuesday, rules=rules,
                                                         lesson_minutes=60, notices=notice)] == ["PREREQUISITES"]


@pytest.mark.parametrize("bad", [
    dict(odo_start=1000, odo_end=999),
    dict(taught=[99]),
    dict(comments="x" * 4001),
    dict(location_suburb="y" * 101),
    dict(future=True),
])
def test_bad_input_is_refused_and_changes_nothing(engine, school, bad):
    tables = ("lessons", "lesson_counters", "signatures", "student_competencies", "audit_log")
    with session_scope(engine) as s:
        before = {t: _count(s, t) for t in tables}
    start = pinned_now() + timedelta(hours=1) if bad.pop("future", False) else monday()
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            record(s, school, start, **bad)
    with session_scope(engine) as s:
        assert {t: _count(s, t) for t in tables} == before


@pytest.mark.parametrize("image", [png(blank=True), png(blank=True, transparent=True), "bm90IGEgcG5n",
                                   "%%%not base64", "", png(size=(5, 5))])
def test_bad_signatures_are_refused_and_change_nothing(engine, school, image):
    with session_scope(engine) as s:
        draft = record(s, school, monday(), taught=[1])
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            lessons.sign_lesson(s, school.instructor, draft["id"], signature_image=image)
    with session_scope(engine) as s:
        assert _count(s, "signatures") == 0
        assert lessons.get_lesson(s, school.instructor, draft["id"])["status"] == "draft"


def test_the_whole_path_to_the_final_drive_and_certificate_eligibility(engine, school):
    from nexdrive.services.core.holidays import is_business_day

    start = monday()
    with session_scope(engine) as s:
        _through_stage_1(s, school, start)  # the last task passes on day 10
        signed(s, school, start + timedelta(days=12), assessed=[101])
        signed(s, school, start + timedelta(days=13), taught=[18, 19, 20, 21, 22])
        signed(s, school, start + timedelta(days=14), assessed=[18, 20, 21])
        signed(s, school, start + timedelta(days=15), assessed=[19, 22])
        signed(s, school, start + timedelta(days=17), assessed=[102])
        eligibility = competencies.certificate_eligibility(s, school.instructor, school.student_id)
        assert eligibility["missing_tasks"] == [] and eligibility["missing_reviews"] == []
        assert eligibility["final_drive_done"] is False and eligibility["eligible"] is False
    sunday = start + timedelta(days=20)
    drive = start + timedelta(days=22)
    while not is_business_day(drive.date()):
        drive += timedelta(days=1)
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            record(s, school, drive, assessed=[23])
        assert [b["rule"] for b in exc.value.details["blocked_by"]["23"]] == ["AUDIT_UNIT_NOT_NOTIFIED"]
        with pytest.raises(Forbidden):
            competencies.record_audit_unit_notice(s, school.student, school.student_id, planned_date=drive.date())
    with session_scope(engine) as s:
        competencies.record_audit_unit_notice(s, school.instructor, school.student_id, planned_date=drive.date(),
                                              notified_at=start + timedelta(days=18), reference="AU-123")
    with session_scope(engine) as s:
        with pytest.raises(NotEligible) as exc:
            record(s, school, sunday, assessed=[23])
        assert "FINAL_DRIVE_SUNDAY" in [b["rule"] for b in exc.value.details["blocked_by"]["23"]]
        with pytest.raises(NotEligible, match="at least 45 minutes"):
            record(s, school, drive, assessed=[23], minutes=40)
        signed(s, school, drive, assessed=[23], minutes=60)
        eligibility = competencies.certificate_eligibility(s, school.admin, school.student_id)
        assert eligibility["eligible"] is True and eligibility["hours_checked"] is False
        short = competencies.certificate_eligibility(s, school.admin, school.student_id,
                                                     hours={"met": False, "missing": ["20 night hours"]})
        assert short["eligible"] is False and short["hours_missing"] == ["20 night hours"]
        matrix = competencies.student_matrix(s, school.student, school.student_id)
        assert (matrix.competent, matrix.total, matrix.reviews_passed) == (23, 23, [101, 102])


def test_a_lesson_from_a_booking_takes_its_times_and_links_it_once(engine, school):
    from nexdrive.models import Booking
    from tests.factories import make_service

    start = monday()
    with session_scope(engine) as s:
        service = make_service(s)
        booking = Booking(instructor_id=school.instructor_id, student_id=school.student_id, service_id=service.id,
                          scheduled_date=start.date(), start_time=start, end_time=start + timedelta(minutes=90),
                          duration_minutes=90, status="confirmed", amount_cents=8500)
        s.add(booking)
        s.flush()
        booking_id = booking.id
    with session_scope(engine) as s:
        lesson = lessons.record_lesson(s, school.instructor, student_id=school.student_id, booking_id=booking_id,
                                       competencies_taught=[1])
        assert (lesson["start_time"], lesson["total_minutes"], lesson["booking_id"]) == (start, 90, booking_id)
        assert s.get(Booking, booking_id).lesson_id == lesson["id"]
    with session_scope(engine) as s:
        with pytest.raises(InvalidState, match="already recorded"):
            lessons.record_lesson(s, school.instructor, student_id=school.student_id, booking_id=booking_id)
        with pytest.raises(ValidationFailed, match="not this learner"):
            lessons.record_lesson(s, school.other_instructor, student_id=school.other_student_id,
                                  booking_id=booking_id)


def test_a_lesson_across_the_october_clock_change_is_timed_by_the_instant_not_the_wall_clock(engine, school):
    """2:36 am to 3:06 am on the first Sunday of October reads as 30 minutes on the wall but ends 30 minutes
    before it starts (2:00 becomes 3:00): refused with a plain message, nothing written."""
    start = datetime(2026, 10, 4, 2, 36, tzinfo=competencies.BUSINESS_TZ)  # in the gap: taken as 2:36 AEST (16:36 UTC)
    end = datetime(2026, 10, 4, 3, 6, tzinfo=competencies.BUSINESS_TZ)  # 3:06 AEDT = 16:06 UTC
    assert end.astimezone(UTC) < start.astimezone(UTC) and end > start  # Python compares one zone by wall time
    with session_scope(engine) as s:
        before = _count(s, "lessons")
        with pytest.raises(ValidationFailed, match="end after it starts"):
            lessons.record_lesson(s, school.instructor, student_id=school.student_id, start_time=start,
                                  end_time=end, competencies_taught=[1])
    with session_scope(engine) as s:
        assert _count(s, "lessons") == before
