"""The auditor's pack: one learner's whole CBT&A record, as a PDF for people and a ZIP for machines.

* :func:`build_pack` (the office, or the learner's own instructor; nobody else): the learner's details,
  every lesson record in order (corrections included) with both signature images and their hashes, each
  lesson's ``verify_lesson`` result, the competency history with the chain's sequence numbers and hashes
  and the chain's verification, the log-book totals, and the certificate with its verification, all
  checked at generation time. Private notes are never read here.
* :func:`pack_pdf` / :func:`pack_zip`: the same pack as a PDF (fpdf2) and as a ZIP of ``pack.json`` and
  the signature PNGs (with ``SHA256SUMS``).
* :func:`range_pack_zip` (the office only): the pack of every learner with a lesson in a date range.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters.storage import Storage
from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date
from nexdrive.models import BusinessSettings, Certificate, Instructor, Lesson, LessonDispute, Profile, Signature
from nexdrive.services.compliance import certificates, competencies, lessons, logbook, verification
from nexdrive.services.compliance import signatures as sigs
from nexdrive.services.compliance._documents import BAD_RED, MUTED, OK_GREEN, DocumentPdf, logo
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import SYSTEM, Actor

MAX_RANGE_DAYS = 366
MAX_RANGE_STUDENTS = 200


@dataclass
class Pack:
    data: dict[str, Any]
    images: dict[str, bytes] = field(default_factory=dict)  # file name in the ZIP -> PNG bytes

    @property
    def ok(self) -> bool:
        return bool(self.data["verification"]["ok"])


def _name(session: Session, profile_id: uuid.UUID | None) -> str:
    p = session.get(Profile, profile_id) if profile_id else None
    return f"{p.first_name} {p.last_name}".strip() if p else ""


def _when(dt: datetime | None) -> str:
    return dt.astimezone(BUSINESS_TZ).strftime("%d/%m/%Y %H:%M") if dt else "-"


def _signature_entry(session: Session, signature: Signature, file_stem: str, images: dict[str, bytes],
                     storage: Storage | None) -> dict[str, Any]:
    data = sigs.signature_dict(signature, staff=True)
    data["signer_name"] = _name(session, session.exec(select(Profile.id).where(
        Profile.user_id == signature.signer_id)).first())
    data["previous_hash"] = signature.previous_hash
    image = sigs.read_image(signature, storage)
    if image is None:
        data["image_file"] = None
        data["image_stored_sha256"] = None
    else:
        name = f"{file_stem}-{signature.signer_role}.png"
        images[name] = image
        data["image_file"] = name
        data["image_stored_sha256"] = sigs.image_hash(image)
    data["ip_address"] = str(signature.ip_address) if signature.ip_address else None
    return data


def build_pack(session: Session, actor: Actor, student_id: uuid.UUID, *, storage: Storage | None = None,
               record: bool = True) -> Pack:
    """The learner's auditor's pack as plain data plus the signature images (see the module docstring)."""
    student = access.require_auditors_pack(session, actor, student_id)
    now = clock.now(session)
    profile = session.get(Profile, student.profile_id)
    instructor = session.get(Instructor, student.instructor_id)
    settings = session.get(BusinessSettings, 1)
    images: dict[str, bytes] = {}

    learner = {
        "student_id": student.id, "first_name": profile.first_name if profile else "",
        "last_name": profile.last_name if profile else "",
        "date_of_birth": profile.date_of_birth if profile else None, "email": profile.email if profile else None,
        "phone": profile.phone if profile else None, "suburb": profile.suburb if profile else None,
        "licence_number": student.licence_number, "licence_type": student.licence_type,
        "licence_expiry": student.licence_expiry, "transmission": student.transmission,
        "enrollment_date": student.enrollment_date, "status": student.status,
        "completion_date": student.completion_date, "school_or_work": student.school_or_work,
        "instructor": {"instructor_id": instructor.id if instructor else None,
                       "name": _name(session, instructor.profile_id) if instructor else "",
                       "accreditation_number": instructor.accreditation_number if instructor else None,
                       "accreditation_expiry": instructor.accreditation_expiry if instructor else None},
    }

    rows = session.exec(select(Lesson).where(Lesson.student_id == student_id)
                        .order_by(Lesson.lesson_number, Lesson.created_at, Lesson.id)).all()
    instructor_names: dict[uuid.UUID, str] = {}
    lesson_entries = []
    for ln in rows:
        if ln.instructor_id not in instructor_names:
            ins = session.get(Instructor, ln.instructor_id)
            instructor_names[ln.instructor_id] = _name(session, ins.profile_id) if ins else ""
        entry = {k: getattr(ln, k) for k in (
            "id", "lesson_number", "status", "lesson_date", "start_time", "end_time", "total_minutes", "odo_start",
            "odo_end", "transmission", "location_suburb", "competencies_taught", "competencies_assessed",
            "competencies_achieved_manual", "competencies_achieved_auto", "comments", "correction_of",
            "correction_reason", "signed_at", "booking_id")}
        entry["instructor"] = instructor_names[ln.instructor_id]
        entry["document_sha256"] = lessons.lesson_sha256(ln)
        stem = f"signatures/lesson-{ln.lesson_number:03d}-{str(ln.id)[:8]}"
        entry["signatures"] = [_signature_entry(session, s, stem, images, storage) for s in session.exec(
            select(Signature).where(Signature.document_type == "lesson", Signature.document_id == ln.id)
            .order_by(Signature.seq)).all()]
        entry["disputes"] = [{"reason": d.reason, "raised_at": d.raised_at, "resolved_at": d.resolved_at,
                              "resolved_by_lesson_id": d.resolved_by_lesson_id} for d in session.exec(
            select(LessonDispute).where(LessonDispute.lesson_id == ln.id).order_by(LessonDispute.raised_at)).all()]
        entry["verification"] = verification.verify_lesson(session, SYSTEM, ln.id, storage=storage).as_dict()
        lesson_entries.append(entry)

    history = [dict(r._mapping) for r in session.execute(sa.text("""
        SELECT sc.seq, t.task_number, t.name AS task_name, sc.status, sc.transmission, sc.status_changed_at,
               sc.lesson_id, l.lesson_number, sc.signature_id, sc.correction_of, sc.previous_hash, sc.record_hash
        FROM student_competencies sc JOIN competency_tasks t ON t.id = sc.task_id
        LEFT JOIN lessons l ON l.id = sc.lesson_id
        WHERE sc.student_id = :s ORDER BY sc.seq"""), {"s": student_id}).all()]
    chain = audit.verify_chain(session, "student_competencies", f"student_competencies:{student_id}")
    chain_result = {"ok": chain.ok, "checked": chain.checked, "broken_seq": chain.broken_seq, "reason": chain.reason}

    matrix = competencies.compute_matrix(session, student_id)
    summary = logbook.logbook_summary(session, SYSTEM, student_id)
    summary.pop("weekly", None)

    cert = session.exec(select(Certificate).where(Certificate.student_id == student_id)).first()
    cert_entry = None
    if cert is not None:
        cert_entry = certificates.certificate_view(session, SYSTEM, cert)
        cert_entry["content"] = cert.content
        cert_entry["signatures"] = [_signature_entry(session, s, "certificate/certificate", images, storage)
                                    for s in (session.get(Signature, cert.instructor_signature_id),
                                              session.get(Signature, cert.student_signature_id)) if s]
        checks = certificates.check_certificate(session, cert, storage=storage)
        cert_entry["verification"] = {"ok": all(c.ok for c in checks), "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]}

    lessons_ok = all(e["verification"]["ok"] for e in lesson_entries if e["status"] in ("completed", "disputed"))
    problems = [f"Lesson {e['lesson_number']}: {p}" for e in lesson_entries if e["status"] in ("completed",
                                                                                              "disputed")
                for p in e["verification"]["problems"]]
    if not chain.ok:
        problems.append(f"Competency chain: {chain.reason}")
    if cert_entry and not cert_entry["verification"]["ok"]:
        problems += [f"Certificate: {c['detail']}" for c in cert_entry["verification"]["checks"] if not c["ok"]]
    data = {
        "kind": "nexdrive.auditors_pack", "version": 1,
        "school": settings.business_name if settings else "NexDrive Academy",
        "generated_at": now, "generated_by": {"user_id": actor.user_id, "role": actor.role},
        "learner": learner,
        "summary": {"lessons": len(lesson_entries),
                    "signed_lessons": sum(1 for e in lesson_entries if e["status"] in ("completed", "disputed")),
                    "competent": matrix.competent, "total": matrix.total, "reviews_passed": matrix.reviews_passed},
        "lessons": lesson_entries,
        "competency_history": history,
        "competency_chain": chain_result,
        "logbook": summary,
        "certificate": cert_entry,
        "verification": {"checked_at": now, "ok": lessons_ok and chain.ok and (cert_entry is None or
                                                                              cert_entry["verification"]["ok"]),
                         "problems": problems},
    }
    if record:
        audit.record_event(session, actor, "auditors_pack.generated", subject_type="student", subject_id=student.id,
                           details={"lessons": len(lesson_entries), "verified": data["verification"]["ok"]})
    return Pack(data=data, images=images)


# ─────────────────────────────────────────────────────────────────────────────
# The PDF
# ─────────────────────────────────────────────────────────────────────────────


def _tasks(values: list[int] | None) -> str:
    return ", ".join(str(n) for n in sorted(values or [])) or "-"


def _d(value: date | datetime | None) -> str:
    if value is None:
        return "-"
    return au_date(value, weekday=False)


def pack_pdf(pack: Pack) -> bytes:
    d = pack.data
    learner = d["learner"]
    name = f"{learner['first_name']} {learner['last_name']}".strip()
    pdf = DocumentPdf(f"{d['school']} - auditor's pack - {name} - generated {_when(d['generated_at'])}",
                      title=f"Auditor's pack - {name}")
    pdf.continued = f"Auditor's pack - {name}"
    pdf.alias_nb_pages()
    pdf.add_page()
    logo(pdf, pdf.l_margin, 14, 12)
    pdf.set_xy(pdf.l_margin + 16, 14)
    pdf.font(14, bold=True)
    pdf.cell(0, 6, pdf.t(f"Auditor's pack: {name}"))
    pdf.set_xy(pdf.l_margin + 16, 20)
    pdf.font(8.5, color=MUTED)
    pdf.cell(0, 5, pdf.t(f"{d['school']} - ACT CBT&A record - generated {_when(d['generated_at'])} (Canberra time)"))
    pdf.set_y(30)
    v = d["verification"]
    pdf.para("Verification at generation time: " + ("PASSED - every signed lesson, signature image, hash chain and "
                                                     "the certificate check out." if v["ok"] else "FAILED"),
             size=10, bold=True, color=OK_GREEN if v["ok"] else BAD_RED)
    for p in v["problems"]:
        pdf.para("- " + p, size=8.5, color=BAD_RED)

    pdf.heading("Learner")
    ins = learner["instructor"]
    pdf.pairs([
        ("Name", name), ("Date of birth", _d(learner["date_of_birth"])),
        ("Learner licence", f"{learner['licence_number'] or '-'} (expires {_d(learner['licence_expiry'])})"),
        ("Transmission", learner["transmission"]), ("Enrolled", _d(learner["enrollment_date"])),
        ("Status", learner["status"]), ("Completed", _d(learner["completion_date"])),
        ("Contact", f"{learner['email'] or '-'}, {learner['phone'] or '-'}, {learner['suburb'] or '-'}"),
        ("Instructor", f"{ins['name']} (accreditation {ins['accreditation_number'] or '-'})"),
    ])
    s = d["summary"]
    lb = d["logbook"]
    pdf.heading("Progress and log-book totals")
    pdf.pairs([
        ("Lesson records", f"{s['lessons']} ({s['signed_lessons']} signed by both)"),
        ("Competent", f"{s['competent']} of {s['total']} tasks; reviews passed: "
                      f"{', '.join('Review ' + str(r - 100) for r in s['reviews_passed']) or 'none'}"),
        ("Professional hours", f"{lb['professional_hours']:g} h ({lb['lessons']} signed lessons), credited "
                               f"{lb['credited_hours']:g} h"),
        ("Supervised hours", f"{lb['supervised_hours']:g} h ({lb['drives']} drives, "
                             f"{lb['unconfirmed_drives']} not yet confirmed)"),
        ("Total / night", f"{lb['total_hours']:g} of {lb['target_total_hours']} h; night {lb['night_hours']:g} of "
                          f"{lb['target_night_hours']} h"),
    ])

    pdf.heading("Lessons")
    for e in d["lessons"]:
        if pdf.get_y() > pdf.h - 70:
            pdf.add_page()
        title = f"Lesson {e['lesson_number']} - {_d(e['lesson_date'])}, {_when(e['start_time'])[-5:]}-" \
                f"{_when(e['end_time'])[-5:]} ({e['total_minutes']} min) - {e['status']}"
        if e["correction_of"]:
            title += " - correction"
        pdf.para(title, size=9.5, bold=True)
        achieved = (e["competencies_achieved_manual"] or []) + (e["competencies_achieved_auto"] or [])
        rows = [("Instructor", e["instructor"]),
                ("Where / odometer", f"{e['location_suburb'] or '-'}; {e['odo_start'] or '-'} to "
                                     f"{e['odo_end'] or '-'} km; {e['transmission']}"),
                ("Taught / assessed", f"{_tasks(e['competencies_taught'])} / {_tasks(e['competencies_assessed'])}"),
                ("Achieved", _tasks(achieved))]
        if e["correction_reason"]:
            rows.append(("Correction reason", e["correction_reason"]))
        if e["comments"]:
            rows.append(("Comments", e["comments"]))
        for dispute in e["disputes"]:
            rows.append(("Disputed", f"{_when(dispute['raised_at'])}: {dispute['reason']}"
                                     + (f" (resolved {_when(dispute['resolved_at'])})" if dispute["resolved_at"]
                                        else "")))
        pdf.pairs(rows, label_w=36, size=8)
        pdf.hash_line("Lesson SHA-256", e["document_sha256"])
        if e["signatures"]:
            y = pdf.get_y() + 1
            if y > pdf.h - 40:
                pdf.add_page()
                y = pdf.get_y()
            half = (pdf.body_width - 6) / 2
            for i, sig in enumerate(e["signatures"][:2]):
                x = pdf.l_margin + i * (half + 6)
                pdf.png(pack.images.get(sig["image_file"] or ""), x, y, 50, 16)
                pdf.set_xy(x + 52, y)
                pdf.font(6.5, bold=True)
                pdf.multi_cell(half - 52, 3, pdf.t(f"{sig['signer_role'].capitalize()}: {sig['signer_name']}"),
                               new_x="LEFT", new_y="NEXT")
                pdf.set_x(x + 52)
                pdf.font(6, color=MUTED)
                pdf.multi_cell(half - 52, 2.8, pdf.t(
                    f"signed {_when(sig['signed_at'])}, device {_when(sig['device_time'])}; chain #{sig['seq']}; "
                    f"IP {sig['ip_address'] or '-'}"), new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(y + 17)
            for sig in e["signatures"][:2]:
                pdf.hash_line(f"{sig['signer_role'].capitalize()} image", sig["image_sha256"])
                pdf.hash_line(f"{sig['signer_role'].capitalize()} record", sig["record_hash"])
        ver = e["verification"]
        pdf.para(("Verified: " if ver["ok"] else "NOT VERIFIED: ") + ver["summary"], size=7.5,
                 color=OK_GREEN if ver["ok"] else BAD_RED)
        pdf.ln(2.5)

    pdf.heading("Competency history (hash chain)")
    c = d["competency_chain"]
    pdf.para(f"Chain check: {'intact' if c['ok'] else 'BROKEN - ' + str(c['reason'])} ({c['checked']} records).",
             size=8.5, color=OK_GREEN if c["ok"] else BAD_RED)
    widths = [9, 9, 34, 21, 9, 21, 9, pdf.body_width - 112]
    pdf.table(["Seq", "Task", "Name", "Status", "Trans.", "When", "Lesson", "Record hash (SHA-256)"], widths,
              [[h["seq"], h["task_number"] if h["task_number"] < 100 else "R" + str(h["task_number"] - 100),
                h["task_name"], h["status"], h["transmission"], _when(h["status_changed_at"]),
                h["lesson_number"] or "-", h["record_hash"]] for h in d["competency_history"]],
              size=6.5, mono_cols=(7,), mono_size=4.4)

    pdf.heading("Certificate")
    cert = d["certificate"]
    if cert is None:
        pdf.para("No certificate has been issued.", size=9)
    else:
        pdf.pairs([("Official form serial no.", cert["form_serial"]), ("Issued", _when(cert["issued_at"])),
                   ("Completed", _d(cert["completed_on"])), ("Verification code", cert["verification_code"]),
                   ("Verify at", cert["verify_url"])], size=8.5)
        pdf.hash_line("Document SHA-256", cert["document_sha256"])
        y = pdf.get_y() + 1
        for i, sig in enumerate(cert["signatures"][:2]):
            pdf.png(pack.images.get(sig["image_file"] or ""), pdf.l_margin + i * 90, y, 50, 16)
        pdf.set_y(y + 18)
        for sig in cert["signatures"][:2]:
            pdf.hash_line(f"{sig['signer_role'].capitalize()} image", sig["image_sha256"])
        ver = cert["verification"]
        pdf.para(("Verified: the certificate and its signatures are intact." if ver["ok"] else
                  "NOT VERIFIED: " + " ".join(x["detail"] for x in ver["checks"] if not x["ok"])), size=8,
                 color=OK_GREEN if ver["ok"] else BAD_RED)
    return pdf.output_bytes()


# ─────────────────────────────────────────────────────────────────────────────
# The ZIP
# ─────────────────────────────────────────────────────────────────────────────


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value)
    return str(value)


def pack_json(pack: Pack) -> bytes:
    return json.dumps(pack.data, default=_json_default, indent=1, sort_keys=True, ensure_ascii=False).encode()


def _write_pack(zf: zipfile.ZipFile, pack: Pack, prefix: str = "", *, with_pdf: bool = False) -> None:
    files = {"pack.json": pack_json(pack), **pack.images}
    if with_pdf:
        files["pack.pdf"] = pack_pdf(pack)
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    for name, data in sorted(files.items()):
        zf.writestr(prefix + name, data)
    zf.writestr(prefix + "SHA256SUMS", sums)


def pack_zip(pack: Pack) -> bytes:
    """``pack.json``, every signature PNG, and ``SHA256SUMS`` of them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_pack(zf, pack)
    return buf.getvalue()


def student_pack_files(session: Session, actor: Actor, student_id: uuid.UUID, kind: str, *,
                       storage: Storage | None = None) -> tuple[bytes, str]:
    """(bytes, file name) of one learner's pack as 'pdf' or 'zip'."""
    if kind not in ("pdf", "zip"):
        raise ValidationFailed("The pack is a PDF or a ZIP.", field="kind")
    pack = build_pack(session, actor, student_id, storage=storage)
    learner = pack.data["learner"]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", f"auditors-pack-{learner['first_name']}-{learner['last_name']}").strip("-")
    stem += f"-{clock.today(session).isoformat()}"
    return (pack_pdf(pack) if kind == "pdf" else pack_zip(pack)), f"{stem}.{kind}"


def range_pack_zip(session: Session, actor: Actor, date_from: date, date_to: date, *,
                   storage: Storage | None = None) -> tuple[bytes, dict[str, Any]]:
    """The office: the pack (PDF, JSON, PNGs) of every learner with a lesson from ``date_from`` to ``date_to``
    (Canberra dates, inclusive), one folder each, plus ``index.json``."""
    access.require_admin(actor)
    if date_to < date_from:
        raise ValidationFailed("The range ends before it starts.", field="to")
    if date_to - date_from > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationFailed(f"A range is at most {MAX_RANGE_DAYS} days.", field="to")
    ids = list(session.execute(sa.text("""
        SELECT s.id FROM students s JOIN profiles p ON p.id = s.profile_id
        WHERE EXISTS (SELECT 1 FROM lessons l WHERE l.student_id = s.id AND l.lesson_date BETWEEN :a AND :b)
        ORDER BY p.last_name, p.first_name, s.id"""), {"a": date_from, "b": date_to}).scalars())
    if len(ids) > MAX_RANGE_STUDENTS:
        raise ValidationFailed(f"That range has {len(ids)} learners; choose a shorter one (at most "
                               f"{MAX_RANGE_STUDENTS}).", field="to")
    buf = io.BytesIO()
    index: dict[str, Any] = {"from": date_from.isoformat(), "to": date_to.isoformat(),
                             "generated_at": clock.now(session).isoformat(), "learners": []}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for sid in ids:
            pack = build_pack(session, actor, sid, storage=storage, record=False)
            learner = pack.data["learner"]
            folder = re.sub(r"[^A-Za-z0-9]+", "-", f"{learner['last_name']}-{learner['first_name']}").strip("-")
            folder = f"{folder}-{str(sid)[:8]}/"
            _write_pack(zf, pack, folder, with_pdf=True)
            index["learners"].append({"student_id": str(sid), "folder": folder,
                                      "name": f"{learner['first_name']} {learner['last_name']}".strip(),
                                      "lessons": pack.data["summary"]["lessons"], "verified": pack.ok})
        zf.writestr("index.json", json.dumps(index, indent=1))
    audit.record_event(session, actor, "auditors_pack.range_generated", subject_type="school", subject_id=None,
                       details={"from": date_from.isoformat(), "to": date_to.isoformat(), "learners": len(ids)})
    return buf.getvalue(), index


__all__ = ["Pack", "build_pack", "pack_json", "pack_pdf", "pack_zip", "range_pack_zip", "student_pack_files"]
