"""Is a signed lesson still what both people signed? ``verify_lesson`` re-checks everything and says
plainly what fails:

* the lesson's content against the document hash each signature recorded;
* each signature image in storage against the image hash in its signature row;
* each signature row's own chain link (its hash over its content, and the link to the record before it);
* the learner's competency chain in full, and that the lesson's competency rows point at its signature.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters.storage import Storage
from nexdrive.models import Lesson, Signature, StudentCompetency
from nexdrive.services.compliance import lessons as lesson_records
from nexdrive.services.compliance import signatures as sigs
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class LessonVerification:
    lesson_id: uuid.UUID
    lesson_number: int
    checked_at: datetime
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [c.detail for c in self.checks if not c.ok]

    @property
    def summary(self) -> str:
        if self.ok:
            return (f"Lesson {self.lesson_number} verified: its content, both signature images and the "
                    "tamper-evident chains are intact.")
        return f"Lesson {self.lesson_number} failed verification: " + " ".join(self.problems)

    def as_dict(self) -> dict:
        return {"lesson_id": self.lesson_id, "lesson_number": self.lesson_number, "ok": self.ok,
                "summary": self.summary, "checked_at": self.checked_at, "problems": self.problems,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


_WHO = {"instructor": "instructor's", "student": "learner's"}


def _signature_link(session: Session, signature: Signature) -> str | None:
    """None if this row's hash and its link to the previous record hold; else what is wrong."""
    row = session.execute(sa.text("""
        SELECT s.record_hash = chain_record_hash(s.previous_hash, to_jsonb(s)) AS hash_ok,
               s.previous_hash = COALESCE(p.record_hash, 'GENESIS') AS link_ok,
               (s.seq = 1 OR p.seq IS NOT NULL) AS prev_exists
        FROM signatures s LEFT JOIN signatures p ON p.chain = s.chain AND p.seq = s.seq - 1
        WHERE s.id = :id"""), {"id": signature.id}).one()
    if not row.prev_exists:
        return f"the signature record before it (#{signature.seq - 1}) is missing from the chain"
    if not row.hash_ok:
        return "the signature record was altered after it was written (its hash no longer matches)"
    if not row.link_ok:
        return "the signature record does not link to the record before it"
    return None


def verify_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID, *,
                  storage: Storage | None = None) -> LessonVerification:
    """Re-check one lesson; the result names each failing check in plain words."""
    access.require_signed_in(actor)
    lesson = session.get(Lesson, lesson_id)
    access.require_visible(actor, lesson, lesson is not None and access.may_see_lesson(session, actor, lesson),
                           "lesson")
    result = LessonVerification(lesson_id=lesson.id, lesson_number=lesson.lesson_number,
                                checked_at=clock.now(session))
    add = result.checks.append
    signed = lesson.status in ("completed", "disputed")
    add(Check("signed_by_both", signed and bool(lesson.instructor_signature_id and lesson.student_signature_id),
              "Signed by the instructor and the learner." if signed else
              "The lesson is not signed by both the instructor and the learner yet."))
    digest = lesson_records.lesson_sha256(lesson)
    for role, sig_id in (("instructor", lesson.instructor_signature_id), ("student", lesson.student_signature_id)):
        if sig_id is None:
            continue
        who = _WHO[role]
        signature = session.get(Signature, sig_id)
        if signature is None:
            add(Check(f"{role}_signature", False, f"The {who} signature record is missing."))
            continue
        bound = (signature.document_type == "lesson" and signature.document_id == lesson.id
                 and signature.signer_role == role)
        add(Check(f"{role}_signature_binding", bound,
                  f"The {who} signature belongs to this lesson." if bound else
                  f"The {who} signature was made for another document."))
        same = signature.document_sha256 == digest
        add(Check(f"{role}_document_hash", same,
                  f"The lesson is unchanged since the {who} signature." if same else
                  f"The lesson's content has changed since the {who} signature (its document hash differs)."))
        image = sigs.read_image(signature, storage)
        if image is None:
            add(Check(f"{role}_image", False, f"The {who} signature image is missing from storage."))
        else:
            match = sigs.image_hash(image) == signature.signature_image_sha256
            add(Check(f"{role}_image", match, f"The {who} signature image is intact." if match else
                      f"The {who} signature image in storage was replaced or changed (its hash differs)."))
        broken = _signature_link(session, signature)
        add(Check(f"{role}_signature_chain", broken is None,
                  f"The {who} signature record is intact in the signature chain." if broken is None else
                  f"The {who} signature chain is broken: {broken}."))
    if signed:
        chain = f"student_competencies:{lesson.student_id}"
        report = audit.verify_chain(session, "student_competencies", chain)
        add(Check("competency_chain", report.ok,
                  "The learner's competency records are intact." if report.ok else
                  f"The learner's competency records are broken: {report.reason}."))
        rows = session.exec(select(StudentCompetency).where(StudentCompetency.lesson_id == lesson.id)).all()
        expected = len(lesson.competencies_taught or []) + len(lesson.competencies_assessed or [])
        linked = all(r.signature_id == lesson.student_signature_id for r in rows)
        ok = linked and len(rows) == expected
        add(Check("competency_rows", ok,
                  f"The lesson's {len(rows)} competency records point at its signature." if ok else
                  f"The lesson's competency records don't match it ({len(rows)} found, {expected} expected, "
                  f"{'all' if linked else 'not all'} pointing at the learner's signature)."))
    return result


__all__ = ["Check", "LessonVerification", "verify_lesson"]
