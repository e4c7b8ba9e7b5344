"""The certificate of competency: eligibility, issuing (signed by both), the completion statement and the
public verification page's answer.

* :func:`certificate_eligibility`: the engine's answer (``competencies.certificate_eligibility``) with the
  log-book hours (``logbook.logbook_summary``), and one plain list of exactly what is missing: tasks,
  reviews, the final drive, hours (total and night).
* :func:`issue_certificate`: by the learner's instructor (or the office), once per learner. It records
  the serial number of the official certificate form the instructor hands over (typed, never invented
  here), the two signatures (instructor and learner, ``document_type = 'certificate'``, both binding the
  SHA-256 of the certificate's canonical document), marks the learner completed and writes an audit event.
  The ``certificates`` row is written after its signatures and never changes (the database refuses it).
* :func:`completion_statement_pdf`: the NexDrive completion statement (fpdf2) with the verification code
  and a QR code for ``<PUBLIC_URL>/verify/<code>``.
* :func:`verify_certificate`: for anyone, signed in or not: re-checks the certificate's document hash
  against both signatures, the signature images, their chain links and the learner's competency chain;
  the public page shows only the learner's initials, the date and valid / invalid.
"""
from __future__ import annotations

import re
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from nexdrive.adapters.storage import Storage
from nexdrive.errors import Forbidden, InvalidState, NotEligible, NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date
from nexdrive.models import BusinessSettings, Certificate, Instructor, Lesson, Profile, Signature, Student
from nexdrive.services.compliance import competencies, logbook
from nexdrive.services.compliance import signatures as sigs
from nexdrive.services.compliance import verification
from nexdrive.services.compliance._documents import BAD_RED, MUTED, OK_GREEN, DocumentPdf, logo
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor

MAX_SERIAL = 40
_SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /.-]*$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
_CODE_RE = re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$")


# ─────────────────────────────────────────────────────────────────────────────
# Eligibility
# ─────────────────────────────────────────────────────────────────────────────


def _hours_check(summary: dict[str, Any]) -> dict[str, Any]:
    missing = []
    if summary["remaining_hours"] > 0:
        missing.append(f"{summary['remaining_hours']:g} more log-book hours ({summary['total_hours']:g} of "
                       f"{summary['target_total_hours']})")
    if summary["remaining_night_hours"] > 0:
        missing.append(f"{summary['remaining_night_hours']:g} more night hours ({summary['night_hours']:g} of "
                       f"{summary['target_night_hours']})")
    return {"met": bool(summary["target_met"]), "missing": missing, "total_hours": summary["total_hours"],
            "night_hours": summary["night_hours"], "target_total_hours": summary["target_total_hours"],
            "target_night_hours": summary["target_night_hours"],
            "remaining_hours": summary["remaining_hours"], "remaining_night_hours": summary["remaining_night_hours"],
            "credited_hours": summary["credited_hours"], "professional_hours": summary["professional_hours"],
            "supervised_hours": summary["supervised_hours"], "unconfirmed_drives": summary["unconfirmed_drives"]}


def certificate_eligibility(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """What stands between the learner and the certificate, exactly: for whoever may see their progress."""
    access.require_student(session, actor, student_id, "competencies")
    summary = logbook.logbook_summary(session, actor, student_id)
    hours = _hours_check(summary)
    result = competencies.certificate_eligibility(session, actor, student_id, hours=hours)
    catalogue = competencies.load_catalogue(session)
    missing: list[dict[str, Any]] = []
    for n in result["missing_tasks"]:
        missing.append({"kind": "task", "task_number": n, "label": f"Task {n}: {catalogue.tasks[n].name}"})
    for n in result["missing_reviews"]:
        missing.append({"kind": "review", "task_number": n, "label": catalogue.tasks[n].name})
    if not result["final_drive_done"]:
        missing.append({"kind": "final_drive", "task_number": competencies.FINAL_DRIVE,
                        "label": f"The final drive (task {competencies.FINAL_DRIVE})"})
    for text in hours["missing"]:
        missing.append({"kind": "hours", "task_number": None, "label": text.capitalize()})
    existing = session.exec(select(Certificate).where(Certificate.student_id == student_id)).first()
    result.update(missing=missing, total_hours=hours["total_hours"], night_hours=hours["night_hours"],
                  issued=existing is not None,
                  certificate_number=existing.form_serial if existing is not None else None)
    return result


# ─────────────────────────────────────────────────────────────────────────────
# Issuing
# ─────────────────────────────────────────────────────────────────────────────


def _serial(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("Please type the serial number printed on the certificate form you hand over.",
                               field="form_serial")
    text = " ".join(value.split())
    if len(text) > MAX_SERIAL:
        raise ValidationFailed(f"The form's serial number is at most {MAX_SERIAL} characters.", field="form_serial")
    if not _SERIAL_RE.match(text):
        raise ValidationFailed("The form's serial number has letters, digits, spaces, '-', '/' or '.' only.",
                               field="form_serial")
    return text


def _new_code(session: Session) -> str:
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        if session.exec(select(Certificate.id).where(Certificate.verification_code == code)).first() is None:
            return code


def normalise_code(code: str | None) -> str | None:
    """'abcde fghjk' / 'ABCDEFGHJK' -> 'ABCDE-FGHJK'; None when it can't be a code."""
    if not isinstance(code, str):
        return None
    raw = re.sub(r"[\s-]", "", code).upper()
    if len(raw) != 10:
        return None
    text = f"{raw[:5]}-{raw[5:]}"
    return text if _CODE_RE.match(text) else None


def initials(first: str | None, last: str | None) -> str:
    return " ".join(f"{p.strip()[0].upper()}." for p in (first, last) if p and p.strip())


def certificate_document(cert: Certificate) -> dict[str, Any]:
    """What both signatures bind: the certificate's facts (the same dict before and after it is stored)."""
    return {"id": cert.id, "student_id": cert.student_id, "instructor_id": cert.instructor_id,
            "form_serial": cert.form_serial, "verification_code": cert.verification_code,
            "transmission": cert.transmission, "issued_at": cert.issued_at, "completed_on": cert.completed_on,
            "final_drive_lesson_id": cert.final_drive_lesson_id, "content": cert.content}


def _content(session: Session, student: Student, instructor: Instructor, matrix: competencies.Matrix,
             hours: dict[str, Any]) -> dict[str, Any]:
    profile = session.get(Profile, student.profile_id)
    ins_profile = session.get(Profile, instructor.profile_id)
    settings = session.get(BusinessSettings, 1)
    tasks = []
    for r in matrix.rows:
        tasks.append({"task": r.task_number, "name": r.task_name, "kind": r.kind,
                      "achieved_on": r.achieved_at.astimezone(BUSINESS_TZ).date().isoformat() if r.achieved_at
                      else None,
                      "lesson_id": str(r.lesson_id) if r.lesson_id else None})
    return {
        "school": settings.business_name if settings else "NexDrive Academy",
        "learner": {"first_name": profile.first_name if profile else "", "last_name": profile.last_name if profile
                    else "", "date_of_birth": profile.date_of_birth.isoformat() if profile and profile.date_of_birth
                    else None, "licence_number": student.licence_number},
        "instructor": {"name": f"{ins_profile.first_name} {ins_profile.last_name}".strip() if ins_profile else "",
                       "accreditation_number": instructor.accreditation_number},
        "tasks": tasks,
        "hours": {k: f"{float(hours[k]):.2f}" for k in ("total_hours", "night_hours", "professional_hours",
                                                        "credited_hours", "supervised_hours")}
        | {"target_total_hours": int(hours["target_total_hours"]),
           "target_night_hours": int(hours["target_night_hours"])},
    }


def issue_certificate(session: Session, actor: Actor, student_id: uuid.UUID, *, form_serial: str,
                      instructor_signature: str | bytes, student_signature: str | bytes,
                      device_time: datetime | None = None, gps_latitude: Any = None, gps_longitude: Any = None,
                      storage: Storage | None = None) -> dict[str, Any]:
    """Issue the learner's certificate of competency (once): the form's serial number, both signatures,
    the learner marked completed. Refused with what is missing while the learner is not eligible."""
    access.require_signed_in(actor)
    if not access.may_issue_certificate(session, actor, student_id):
        raise Forbidden("Only the learner's instructor or the office issues the certificate.")
    student = session.exec(select(Student).where(Student.id == student_id).with_for_update()).first()
    if student is None:
        raise NotFound("No such student.")
    existing = session.exec(select(Certificate).where(Certificate.student_id == student_id)).first()
    if existing is not None:
        raise InvalidState("A certificate has already been issued to this learner.",
                           certificate_number=existing.form_serial, issued_at=existing.issued_at.isoformat())
    serial = _serial(form_serial)
    try:
        ins_image = sigs.decode_signature_image(instructor_signature)
    except ValidationFailed as exc:
        raise ValidationFailed("The instructor's signature: " + exc.message, field="instructor_signature") from None
    try:
        stu_image = sigs.decode_signature_image(student_signature)
    except ValidationFailed as exc:
        raise ValidationFailed("The learner's signature: " + exc.message, field="student_signature") from None
    gps = sigs.parse_gps(gps_latitude, gps_longitude)
    if device_time is not None and device_time.tzinfo is None:
        raise ValidationFailed("The device time needs a time zone.", field="device_time")

    eligibility = certificate_eligibility(session, actor, student_id)
    if not eligibility["eligible"]:
        labels = [m["label"] for m in eligibility["missing"]]
        raise NotEligible("The certificate can't be issued yet. Still missing: " + "; ".join(labels) + ".",
                          missing=eligibility["missing"], tasks=eligibility["missing_tasks"],
                          reviews=eligibility["missing_reviews"], hours=eligibility["hours_missing"],
                          rule="CERTIFICATE_REQUIREMENTS")

    matrix = competencies.compute_matrix(session, student_id)
    final_row = matrix.row(competencies.FINAL_DRIVE)
    final_lesson = session.get(Lesson, final_row.lesson_id) if final_row.lesson_id else None
    instructor = session.get(Instructor, final_lesson.instructor_id if final_lesson else student.instructor_id)
    summary = logbook.logbook_summary(session, actor, student_id)
    now = clock.now(session)
    cert = Certificate(
        id=uuid.uuid4(), student_id=student.id, instructor_id=instructor.id, issued_by_user_id=actor.user_id,
        form_serial=serial, verification_code=_new_code(session), transmission=matrix.transmission, issued_at=now,
        completed_on=(final_row.achieved_at or now).astimezone(BUSINESS_TZ).date(),
        final_drive_lesson_id=final_lesson.id if final_lesson else None,
        content=_content(session, student, instructor, matrix, _hours_check(summary)), document_sha256="")
    digest = sigs.document_hash(certificate_document(cert))
    cert.document_sha256 = digest
    captured = {"captured_on": "issuer_device", "captured_by": str(actor.user_id)}
    signed = {}
    for role, signer_id, image in (("instructor", instructor.user_id, ins_image),
                                   ("student", student.user_id, stu_image)):
        signed[role] = sigs.store_signature(
            session, signer_id=signer_id, signer_role=role, document_type="certificate", document_id=cert.id,
            document_sha256=digest, image=image, device_time=device_time, ip_address=actor.ip_address,
            user_agent=actor.user_agent, gps=gps,
            device_info=None if actor.user_id == signer_id else captured, storage=storage)
    cert.instructor_signature_id = signed["instructor"].id
    cert.student_signature_id = signed["student"].id
    session.add(cert)
    session.flush()
    student.status = "completed"
    student.completion_date = cert.completed_on
    student.certificate_issued_at = now
    student.certificate_number = serial
    session.add(student)
    session.flush()
    audit.record_event(session, actor, "certificate.issued", subject_type="student", subject_id=student.id,
                       details={"certificate_id": str(cert.id), "form_serial": serial,
                                "document_sha256": digest, "verification_code": cert.verification_code,
                                "signature_ids": [str(signed["instructor"].id), str(signed["student"].id)]})
    return certificate_view(session, actor, cert)


# ─────────────────────────────────────────────────────────────────────────────
# Reading and verifying
# ─────────────────────────────────────────────────────────────────────────────


def verify_url(code: str) -> str:
    from nexdrive.settings import get_settings

    return f"{get_settings().public_url}/verify/{code}"


def certificate_view(session: Session, actor: Actor, cert: Certificate) -> dict[str, Any]:
    staff = actor.is_school
    signatures = [sigs.signature_dict(s, staff=staff) for s in (
        session.get(Signature, cert.instructor_signature_id), session.get(Signature, cert.student_signature_id))
        if s is not None]
    return {"id": cert.id, "student_id": cert.student_id, "certificate_number": cert.form_serial,
            "form_serial": cert.form_serial, "verification_code": cert.verification_code,
            "verify_url": verify_url(cert.verification_code),
            "pdf_url": f"/api/v1/students/{cert.student_id}/certificate.pdf", "issued_at": cert.issued_at,
            "completed_on": cert.completed_on, "transmission": cert.transmission,
            "final_drive_lesson_id": cert.final_drive_lesson_id, "document_sha256": cert.document_sha256,
            "instructor_name": (cert.content or {}).get("instructor", {}).get("name"),
            "hours": (cert.content or {}).get("hours"), "signatures": signatures}


def _certificate_of(session: Session, student_id: uuid.UUID) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.student_id == student_id)).first()


def get_certificate(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """The learner's certificate: the learner, a parent with 'progress', their instructor, the office."""
    access.require_student(session, actor, student_id, "certificate")
    cert = _certificate_of(session, student_id)
    if cert is None:
        raise NotFound("No certificate has been issued to this learner yet.")
    return certificate_view(session, actor, cert)


def check_certificate(session: Session, cert: Certificate, *, storage: Storage | None = None
                      ) -> list[verification.Check]:
    """Every check of one certificate, in plain words (no access check: callers have done it)."""
    Check = verification.Check
    checks: list[Check] = []
    digest = sigs.document_hash(certificate_document(cert))
    same = digest == cert.document_sha256
    checks.append(Check("document_hash", same, "The certificate is unchanged since it was issued." if same else
                        "The certificate's content has changed since it was issued (its hash differs)."))
    for role, sig_id in (("instructor", cert.instructor_signature_id), ("student", cert.student_signature_id)):
        who = "instructor's" if role == "instructor" else "learner's"
        signature = session.get(Signature, sig_id)
        if signature is None:
            checks.append(Check(f"{role}_signature", False, f"The {who} signature record is missing."))
            continue
        bound = (signature.document_type == "certificate" and signature.document_id == cert.id
                 and signature.signer_role == role and signature.document_sha256 == digest)
        checks.append(Check(f"{role}_signature", bound, f"The {who} signature binds this certificate." if bound
                            else f"The {who} signature does not match this certificate."))
        image = sigs.read_image(signature, storage)
        intact = image is not None and sigs.image_hash(image) == signature.signature_image_sha256
        checks.append(Check(f"{role}_image", intact, f"The {who} signature image is intact." if intact else
                            f"The {who} signature image is missing or was changed."))
        broken = verification._signature_link(session, signature)
        checks.append(Check(f"{role}_signature_chain", broken is None,
                            f"The {who} signature record is intact in the signature chain." if broken is None
                            else f"The {who} signature chain is broken: {broken}."))
    report = audit.verify_chain(session, "student_competencies", f"student_competencies:{cert.student_id}")
    checks.append(Check("competency_chain", report.ok, "The learner's competency records are intact." if report.ok
                        else f"The learner's competency records are broken: {report.reason}."))
    return checks


def verify_certificate(session: Session, actor: Actor, code: str, *, storage: Storage | None = None
                       ) -> dict[str, Any]:
    """The public check behind ``/verify/<code>``: anyone may ask. Says only whether a certificate with this
    code is valid, the learner's initials and the date of issue (nothing else about the learner)."""
    normal = normalise_code(code)
    cert = session.exec(select(Certificate).where(Certificate.verification_code == normal)).first() \
        if normal else None
    if cert is None:
        return {"found": False, "valid": False, "code": normal or "", "initials": "", "issued_on": None}
    checks = check_certificate(session, cert, storage=storage)
    learner = (cert.content or {}).get("learner", {})
    return {"found": True, "valid": all(c.ok for c in checks), "code": cert.verification_code,
            "initials": initials(learner.get("first_name"), learner.get("last_name")),
            "issued_on": cert.issued_at.astimezone(BUSINESS_TZ).date()}


# ─────────────────────────────────────────────────────────────────────────────
# The completion statement (PDF)
# ─────────────────────────────────────────────────────────────────────────────


def _d(value: str | date | None) -> str:
    if not value:
        return "-"
    return au_date(date.fromisoformat(value) if isinstance(value, str) else value, weekday=False)


def render_statement(session: Session, cert: Certificate, *, storage: Storage | None = None) -> bytes:
    content = cert.content or {}
    learner, instructor, hours = content.get("learner", {}), content.get("instructor", {}), content.get("hours", {})
    school = content.get("school", "NexDrive Academy")
    name = f"{learner.get('first_name', '')} {learner.get('last_name', '')}".strip()
    pdf = DocumentPdf(f"{school} - completion statement - verify at {verify_url(cert.verification_code)}",
                      title=f"Completion statement - {name}")
    pdf.alias_nb_pages()
    pdf.add_page()
    logo(pdf, pdf.l_margin, 14, 14)
    pdf.set_xy(pdf.l_margin + 18, 15)
    pdf.font(15, bold=True)
    pdf.cell(0, 7, pdf.t(school))
    pdf.set_xy(pdf.l_margin + 18, 22)
    pdf.font(9, color=MUTED)
    pdf.cell(0, 5, "ACT Competency Based Training and Assessment (CBT&A)")
    url = verify_url(cert.verification_code)
    pdf.qr(url, pdf.w - pdf.r_margin - 32, 12, 32)
    pdf.set_xy(pdf.l_margin, 36)
    pdf.font(20, bold=True)
    pdf.cell(0, 10, "Statement of completion")
    pdf.ln(12)
    pdf.para(f"This statement records that {name} completed every task and review of the ACT CBT&A log book, "
             f"including the final drive, with {school}, and that the instructor issued the official certificate "
             "of competency form whose serial number is shown below. Both the instructor and the learner signed "
             "it electronically.", size=10)
    pdf.ln(3)
    pdf.pairs([
        ("Learner", name),
        ("Date of birth", _d(learner.get("date_of_birth"))),
        ("Learner licence number", learner.get("licence_number") or "-"),
        ("Transmission", "Manual" if cert.transmission == "manual" else "Automatic"),
        ("Course completed", _d(cert.completed_on)),
        ("Certificate issued", _d(cert.issued_at.astimezone(BUSINESS_TZ).date())),
        ("Official form serial no.", cert.form_serial),
        ("Instructor", instructor.get("name") or "-"),
        ("Instructor accreditation", instructor.get("accreditation_number") or "-"),
        ("Log-book hours", f"{hours.get('total_hours', '-')} of {hours.get('target_total_hours', '-')} "
                           f"(night {hours.get('night_hours', '-')} of {hours.get('target_night_hours', '-')})"),
        ("Verification code", cert.verification_code),
    ])
    pdf.heading("Tasks and reviews")
    rows = [[t["task"] if t["kind"] != "review" else "", t["name"], _d(t.get("achieved_on"))]
            for t in content.get("tasks", [])]
    pdf.table(["Task", "Competency", "Competent on"], [14, 120, pdf.body_width - 134], rows, size=8)
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    pdf.heading("Signatures")
    y = pdf.get_y()
    half = (pdf.body_width - 8) / 2
    for i, (label, sig_id) in enumerate((("Instructor", cert.instructor_signature_id),
                                          ("Learner", cert.student_signature_id))):
        x = pdf.l_margin + i * (half + 8)
        signature = session.get(Signature, sig_id)
        image = sigs.read_image(signature, storage) if signature else None
        pdf.png(image, x, y, half, 26)
        pdf.set_xy(x, y + 27)
        pdf.font(8, color=MUTED)
        when = signature.timestamp_utc.astimezone(BUSINESS_TZ).strftime("%d/%m/%Y %H:%M") if signature else "-"
        pdf.cell(half, 4, pdf.t(f"{label} - signed {when} (Canberra)"))
    pdf.set_y(y + 34)
    pdf.hash_line("Document SHA-256", cert.document_sha256)
    pdf.ln(2)
    checks = check_certificate(session, cert, storage=storage)
    ok = all(c.ok for c in checks)
    pdf.para(("Verified when this statement was produced: the certificate, both signatures and the learner's "
              "records are intact." if ok else "WARNING: verification failed when this statement was produced: "
              + " ".join(c.detail for c in checks if not c.ok)), size=8.5, color=OK_GREEN if ok else BAD_RED)
    pdf.ln(1)
    pdf.para(f"Anyone can check this statement at {url} (or scan the QR code): the page shows the learner's "
             "initials, the date of issue and whether the record is valid.", size=8.5, color=MUTED)
    return pdf.output_bytes()


def completion_statement_pdf(session: Session, actor: Actor, student_id: uuid.UUID, *,
                             storage: Storage | None = None) -> bytes:
    """The completion statement for whoever may see the learner's certificate."""
    access.require_student(session, actor, student_id, "certificate")
    cert = _certificate_of(session, student_id)
    if cert is None:
        raise NotFound("No certificate has been issued to this learner yet.")
    return render_statement(session, cert, storage=storage)


__all__ = ["certificate_document", "certificate_eligibility", "certificate_view", "check_certificate",
           "completion_statement_pdf", "get_certificate", "initials", "issue_certificate", "normalise_code",
           "render_statement", "verify_certificate", "verify_url"]
