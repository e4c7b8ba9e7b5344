"""The certificate of competency and the auditor's pack (issue 12, items 5, 6 and 8), on the real database."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, InvalidState, NotEligible, NotFound, ValidationFailed
from nexdrive.models import Instructor, PrivateNote, Student, User
from nexdrive.services.compliance import auditors_pack, certificates, competencies, logbook, status_changes
from nexdrive.services.core import clock
from nexdrive.services.core.holidays import is_business_day
from nexdrive.services.identity import accounts
from tests.api_server import serve_api
from tests.compliance_helpers import make_school, monday, pinned_now, png, record, signed

STAGE_1 = list(range(1, 18))
NOTE_MARKER = "PRIVATE-NOTE-MARKER-7Q"


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        made = make_school(s)
    return made


def _course(s, school) -> None:
    """Tasks 1-22, both reviews, the audit-unit notice and the final drive, all signed by both."""
    start = monday()
    signed(s, school, start, taught=STAGE_1)
    day = start
    for group in [[1], [2], [3], [4], [5, 6], [7, 8], [9], [10], [11, 12, 13], [14, 15, 16, 17]]:
        day += timedelta(days=1)
        signed(s, school, day, assessed=group)
    signed(s, school, start + timedelta(days=12), assessed=[101])
    signed(s, school, start + timedelta(days=13), taught=[18, 19, 20, 21, 22])
    signed(s, school, start + timedelta(days=14), assessed=[18, 20, 21])
    signed(s, school, start + timedelta(days=15), assessed=[19, 22])
    signed(s, school, start + timedelta(days=17), assessed=[102])
    drive = start + timedelta(days=22)
    while not is_business_day(drive.date()):
        drive += timedelta(days=1)
    competencies.record_audit_unit_notice(s, school.instructor, school.student_id, planned_date=drive.date(),
                                          notified_at=start + timedelta(days=18), reference="AU-1")
    signed(s, school, drive, assessed=[23], minutes=60)


def _hours(s, school, drives: int = 6) -> None:
    """Long supervised drives through the night (well after the lessons), enough for 100 h incl. 10 at night."""
    base = monday() + timedelta(days=40)
    for i in range(drives):
        start = (base + timedelta(days=i)).replace(hour=18)
        logbook.add_drive(s, school.student, school.student_id, logbook.DriveInput(
            start_time=start, end_time=start + timedelta(hours=11), supervisor_name="Pat Parent",
            supervisor_licence_number="1234567"))


def _issue(s, school, actor=None, serial="AB 123456"):
    return certificates.issue_certificate(s, actor or school.instructor, school.student_id, form_serial=serial,
                                          instructor_signature=png(seed=3), student_signature=png(seed=4))


@pytest.fixture
def completed(engine, school):
    with session_scope(engine) as s:
        _course(s, school)
        _hours(s, school)
    return school


def test_eligibility_lists_exactly_what_is_missing(engine, school):
    with session_scope(engine) as s:
        result = certificates.certificate_eligibility(s, school.instructor, school.student_id)
    kinds = [m["kind"] for m in result["missing"]]
    assert result["eligible"] is False
    assert [m["task_number"] for m in result["missing"] if m["kind"] == "task"] == list(range(1, 23))
    assert [m["task_number"] for m in result["missing"] if m["kind"] == "review"] == [101, 102]
    assert kinds.count("final_drive") == 1 and kinds.count("hours") == 2
    assert result["missing"][0]["label"].startswith("Task 1:")
    with session_scope(engine) as s:
        _course(s, school)
        result = certificates.certificate_eligibility(s, school.instructor, school.student_id)
    assert result["eligible"] is False and [m["kind"] for m in result["missing"]] == ["hours", "hours"]
    assert "more log-book hours" in result["missing"][0]["label"] and "night" in result["missing"][1]["label"]
    with session_scope(engine) as s:
        with pytest.raises(NotEligible, match="Still missing") as exc:
            _issue(s, school)
        assert exc.value.code == "COMPETENCY_LOCKED" and len(exc.value.details["hours"]) == 2
        _hours(s, school)
        result = certificates.certificate_eligibility(s, school.student, school.student_id)
    assert result["eligible"] is True and result["missing"] == [] and result["total_hours"] >= 100


def test_issue_once_signed_by_both_marks_completed_and_audited(engine, completed):
    school = completed
    with session_scope(engine) as s:
        cert = _issue(s, school)
    assert cert["certificate_number"] == "AB 123456" and cert["pdf_url"].endswith("/certificate.pdf")
    assert {x["signer_role"] for x in cert["signatures"]} == {"instructor", "student"}
    assert all(x["document_sha256"] == cert["document_sha256"] for x in cert["signatures"])
    with session_scope(engine) as s:
        student = s.get(Student, school.student_id)
        assert student.status == "completed" and student.certificate_number == "AB 123456"
        assert student.completion_date == cert["completed_on"]
        assert s.execute(sa.text("SELECT count(*) FROM audit_log WHERE event_type = 'certificate.issued'")
                         ).scalar_one() == 1
        assert s.execute(sa.text("SELECT count(*) FROM signatures WHERE document_type = 'certificate'")
                         ).scalar_one() == 2
    with session_scope(engine) as s:
        with pytest.raises(InvalidState, match="already been issued"):
            _issue(s, school, actor=school.admin, serial="ZZ 999")
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM certificates")).scalar_one() == 1
        assert s.execute(sa.text("SELECT count(*) FROM signatures WHERE document_type = 'certificate'")
                         ).scalar_one() == 2
    with session_scope(engine) as s, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        s.execute(sa.text("UPDATE certificates SET form_serial = 'X1'"))


@pytest.mark.parametrize("bad", [dict(serial=""), dict(serial="x" * 41), dict(serial="AB<script>"),
                                 dict(blank=True)])
def test_bad_input_to_issue_changes_nothing(engine, completed, bad):
    school = completed
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed):
            certificates.issue_certificate(
                s, school.instructor, school.student_id, form_serial=bad.get("serial", "AB 1"),
                instructor_signature=png(blank=True) if bad.get("blank") else png(seed=3),
                student_signature=png(seed=4))
    with session_scope(engine) as s:
        assert s.execute(sa.text("SELECT count(*) FROM certificates")).scalar_one() == 0
        assert s.get(Student, school.student_id).status == "active"


def test_certificate_access_matrix(engine, completed):
    school = completed
    with session_scope(engine) as s:
        for who in (school.student, school.other_instructor, school.parents["parent_full"], school.visitor):
            with pytest.raises((Forbidden, AuthRequired)):
                _issue(s, school, actor=who)
    with session_scope(engine) as s:
        _issue(s, school)
    allowed = [school.student, school.parents["parent_full"], school.instructor, school.admin]
    refused = [school.parents["parent_no_progress"], school.parents["parent_nothing"], school.other_instructor,
               school.other_student, school.visitor]
    with session_scope(engine) as s:
        for who in allowed:
            assert certificates.get_certificate(s, who, school.student_id)["certificate_number"] == "AB 123456"
            assert certificates.completion_statement_pdf(s, who, school.student_id).startswith(b"%PDF")
        for who in refused:
            with pytest.raises((Forbidden, AuthRequired)):
                certificates.get_certificate(s, who, school.student_id)
            with pytest.raises((Forbidden, AuthRequired)):
                certificates.completion_statement_pdf(s, who, school.student_id)
        with pytest.raises(NotFound):
            certificates.get_certificate(s, school.other_student, school.other_student_id)
    # the auditor's pack: the office and the learner's own instructor only
    with session_scope(engine) as s:
        for who in (school.admin, school.instructor):
            assert auditors_pack.build_pack(s, who, school.student_id).ok
        for who in (school.student, school.parents["parent_full"], school.other_instructor, school.other_student,
                    school.visitor):
            with pytest.raises((Forbidden, AuthRequired)):
                auditors_pack.build_pack(s, who, school.student_id)
        for who in (school.instructor, school.student, school.visitor):
            with pytest.raises((Forbidden, AuthRequired)):
                auditors_pack.range_pack_zip(s, who, monday().date(), pinned_now().date())


def test_public_verification_shows_initials_date_and_turns_invalid_on_tampering(engine, completed):
    school = completed
    with session_scope(engine) as s:
        cert = _issue(s, school)
        first, last = s.execute(sa.text("SELECT p.first_name, p.last_name FROM profiles p JOIN students st "
                                        "ON st.profile_id = p.id WHERE st.id = :s"),
                                {"s": school.student_id}).one()
    code = cert["verification_code"]
    with session_scope(engine) as s:
        result = certificates.verify_certificate(s, school.visitor, code.lower().replace("-", " "))
    assert result == {"found": True, "valid": True, "code": code, "initials": f"{first[0]}. {last[0]}.",
                      "issued_on": pinned_now().astimezone(certificates.BUSINESS_TZ).date()}
    with clock.pinned(pinned_now()), serve_api() as base:
        page = httpx.get(f"{base}/verify/{code}")
        assert page.status_code == 200 and ">Valid<" in page.text
        assert f"{first[0]}. {last[0]}." in page.text
        assert first not in page.text.replace(f"{first[0]}.", "") and last not in page.text.replace(f"{last[0]}.", "")
        assert "AB 123456" not in page.text
        assert httpx.get(f"{base}/verify/AAAAA-BBBBB").status_code == 404
        with session_scope(engine) as s:
            s.execute(sa.text("SET LOCAL session_replication_role = replica"))
            s.execute(sa.text("UPDATE certificates SET content = jsonb_set(content, '{hours,total_hours}', "
                              "'\"140.00\"')"))
        page = httpx.get(f"{base}/verify/{code}")
        assert page.status_code == 200 and ">Invalid<" in page.text, page.text
        api = httpx.get(f"{base}/api/v1/certificates/verify/{code}").json()["data"]
        assert api["valid"] is False and set(api) == {"found", "valid", "code", "initials", "issued_on"}


def test_the_pack_holds_both_signature_hashes_and_no_private_note(engine, completed):
    school = completed
    with session_scope(engine) as s:
        _issue(s, school)
        s.add(PrivateNote(instructor_id=school.instructor_id, student_id=school.student_id, note=NOTE_MARKER))
    with session_scope(engine) as s:
        pack = auditors_pack.build_pack(s, school.instructor, school.student_id)
        pdf = auditors_pack.pack_pdf(pack)
        archive = auditors_pack.pack_zip(pack)
    data = pack.data
    assert data["verification"]["ok"] is True and data["competency_chain"]["ok"] is True
    assert [e["lesson_number"] for e in data["lessons"]] == sorted(e["lesson_number"] for e in data["lessons"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    zf = zipfile.ZipFile(io.BytesIO(archive))
    as_json = json.loads(zf.read("pack.json"))
    for lesson in as_json["lessons"]:
        assert {sig["signer_role"] for sig in lesson["signatures"]} == {"instructor", "student"}
        for sig in lesson["signatures"]:
            assert sig["image_sha256"] and sig["image_sha256"] in text.replace("\n", "")
            assert sig["image_stored_sha256"] == sig["image_sha256"]
            assert zf.read(sig["image_file"]).startswith(b"\x89PNG")
    assert as_json["certificate"]["verification"]["ok"] is True
    assert as_json["competency_history"][0]["seq"] == 1 and as_json["competency_history"][-1]["record_hash"]
    for blob in (text, zf.read("pack.json").decode()):
        assert NOTE_MARKER not in blob
    sums = zf.read("SHA256SUMS").decode()
    assert "pack.json" in sums and sums.count(".png") == len(pack.images)


def test_range_pack_and_the_rest_routes(engine, completed):
    school = completed
    with session_scope(engine) as s:
        ins_user = s.get(Instructor, school.instructor_id).user_id
        stu_user = s.get(Student, school.student_id).user_id
        admin_user = s.execute(sa.select(User.id).where(User.role == "admin")).scalars().first()
        tokens = {k: {"Authorization": f"Bearer {accounts._issue_session(s, s.get(User, u), None, None).token}"}
                  for k, u in (("ins", ins_user), ("stu", stu_user), ("admin", admin_user))}
    sid = school.student_id
    with clock.pinned(pinned_now()), serve_api() as base:
        r = httpx.get(f"{base}/api/v1/students/{sid}/certificate-eligibility", headers=tokens["stu"])
        assert r.status_code == 200 and r.json()["data"]["eligible"] is True, r.text
        r = httpx.post(f"{base}/api/v1/students/{sid}/certificate", headers=tokens["stu"],
                       json={"form_serial": "AB 1", "instructor_signature": png(), "student_signature": png()})
        assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
        r = httpx.post(f"{base}/api/v1/students/{sid}/certificate", headers=tokens["ins"],
                       json={"form_serial": "AB 1", "instructor_signature": png(seed=1),
                             "student_signature": png(seed=2)})
        assert r.status_code == 201, r.text
        assert set(r.json()["data"]) >= {"certificate_number", "pdf_url", "issued_at", "verification_code"}
        r = httpx.post(f"{base}/api/v1/students/{sid}/certificate", headers=tokens["admin"],
                       json={"form_serial": "AB 2", "instructor_signature": png(seed=1),
                             "student_signature": png(seed=2)})
        assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE"
        pdf = httpx.get(f"{base}/api/v1/students/{sid}/certificate.pdf", headers=tokens["stu"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert httpx.get(f"{base}/api/v1/students/{sid}/auditors-pack.pdf", headers=tokens["stu"]).status_code == 403
        for kind, magic in (("pdf", b"%PDF"), ("zip", b"PK")):
            r = httpx.get(f"{base}/api/v1/students/{sid}/auditors-pack.{kind}", headers=tokens["ins"])
            assert r.status_code == 200 and r.content.startswith(magic)
        q = {"from": monday().date().isoformat(), "to": pinned_now().date().isoformat()}
        assert httpx.get(f"{base}/api/v1/auditors-pack.zip", params=q, headers=tokens["ins"]).status_code == 403
        r = httpx.get(f"{base}/api/v1/auditors-pack.zip", params=q, headers=tokens["admin"])
        assert r.status_code == 200, r.text
        zf = zipfile.ZipFile(io.BytesIO(r.content))
        index = json.loads(zf.read("index.json"))
        assert [x["student_id"] for x in index["learners"]] == [str(sid)] and index["learners"][0]["verified"]
        assert any(n.endswith("/pack.pdf") for n in zf.namelist())
        empty = {"from": (pinned_now() + timedelta(days=-2)).date().isoformat(), "to": pinned_now().date().isoformat()}
        r = httpx.get(f"{base}/api/v1/auditors-pack.zip", params=empty, headers=tokens["admin"])
        assert json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("index.json"))["learners"] == []


def test_a_status_change_goes_through_a_draft_lesson(engine, school):
    with session_scope(engine) as s:
        with pytest.raises(ValidationFailed, match="lesson_id|draft lesson"):
            status_changes.record_status_change(s, school.instructor, school.student_id, task_number=1,
                                                status="taught")
        draft = record(s, school, monday(), taught=[2])
        out = status_changes.record_status_change(s, school.instructor, school.student_id, task_number=1,
                                                  status="taught", lesson_id=draft["id"])
        assert out["lesson"]["competencies_taught"] == [1, 2]
        with pytest.raises(NotEligible):
            status_changes.record_status_change(s, school.instructor, school.student_id, task_number=3,
                                                status="competent", lesson_id=draft["id"])
        with pytest.raises(Forbidden):
            status_changes.record_status_change(s, school.student, school.student_id, task_number=1,
                                                status="taught", lesson_id=draft["id"])
