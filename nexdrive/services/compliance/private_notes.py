"""Private notes (spec C15): an instructor's own coaching notes about a learner, or about one lesson.

Visible to the instructor who wrote them and to the office, by no other path: no learner- or parent-facing
shape (API, page, PDF, export, email, the auditor's pack, an assistant's answer) reads this table. Reading
goes through ``core.access.list_private_notes`` / ``get_private_note`` (the one policy place); the audit
log records that a note was written or deleted, never its words.

Public functions: ``NOTE_TYPES``, ``NOTE_TYPE_LABELS``, ``add_note``, ``list_notes``, ``update_note``,
``delete_note``.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from nexdrive.errors import Forbidden, ValidationFailed
from nexdrive.formats import au_date, au_time
from nexdrive.models import Lesson, PrivateNote
from nexdrive.models.lessons import NOTE_TYPES
from nexdrive.services.core import access, audit
from nexdrive.services.core.actors import Actor

__all__ = ["NOTE_TYPES", "NOTE_TYPE_LABELS", "MAX_NOTE", "add_note", "delete_note", "list_notes", "update_note"]

MAX_NOTE = 4000
NOTE_TYPE_LABELS = {
    "general": "General",
    "lesson_specific": "About this lesson",
    "safety_concern": "Safety concern",
    "coaching_strategy": "Coaching strategy",
    "personal_interest": "Personal interest (rapport)",
}


def _author(actor: Actor) -> uuid.UUID:
    access.require_signed_in(actor)
    if not actor.is_instructor or actor.instructor_id is None:
        raise Forbidden("Private notes are written by instructors.")
    return actor.instructor_id


def _clean(note: Any, note_type: Any) -> tuple[str, str]:
    text = str(note or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed("Please write the note first.", field="note")
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"A note is at most {MAX_NOTE} characters.", field="note")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValidationFailed("The note has characters that can't be stored.", field="note")
    kind = str(note_type or "general")
    if kind not in NOTE_TYPES:
        raise ValidationFailed("Choose one of the note types.", field="note_type")
    return text, kind


def _view(row: dict[str, Any]) -> dict[str, Any]:
    created = row.get("created_at")
    return {
        "id": str(row["id"]), "student_id": str(row["student_id"]), "instructor_id": str(row["instructor_id"]),
        "lesson_id": str(row["lesson_id"]) if row.get("lesson_id") else "", "note": row["note"],
        "note_type": row["note_type"], "note_type_label": NOTE_TYPE_LABELS.get(row["note_type"], row["note_type"]),
        "created_at": created.isoformat() if created else "",
        "created_label": f"{au_date(created, year=False)}, {au_time(created)}" if created else "",
    }


def add_note(session: Session, actor: Actor, *, student_id: uuid.UUID, note: str, note_type: str = "general",
             lesson_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A note by the learner's instructor (about the learner, or about one of their lessons)."""
    instructor_id = _author(actor)
    access.require_student(session, actor, student_id, "lessons")
    text, kind = _clean(note, note_type)
    if lesson_id is not None:
        lesson = session.get(Lesson, lesson_id)
        if lesson is None or lesson.student_id != student_id or not access.may_see_lesson(session, actor, lesson):
            raise ValidationFailed("That lesson is not one of this learner's.", field="lesson_id")
        if kind == "general":
            kind = "lesson_specific"
    row = PrivateNote(instructor_id=instructor_id, student_id=student_id, lesson_id=lesson_id, note=text,
                      note_type=kind)
    session.add(row)
    session.flush()
    session.refresh(row)
    audit.record_event(session, actor, "private_note.added", subject_type="private_note", subject_id=row.id,
                       details={"student_id": str(student_id), "note_type": kind})
    return _view(row.model_dump())


def list_notes(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None,
               lesson_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Newest first: the office sees every note, an instructor only the notes they wrote."""
    rows = access.list_private_notes(session, actor, student_id=student_id)
    if lesson_id is not None:
        rows = [r for r in rows if r.get("lesson_id") == lesson_id]
    return [_view(r) for r in reversed(rows)]


def _own(session: Session, actor: Actor, note_id: uuid.UUID) -> PrivateNote:
    access.get_private_note(session, actor, note_id)  # the author or the office, else Forbidden
    row = session.get(PrivateNote, note_id)
    if not (actor.is_instructor and row.instructor_id == actor.instructor_id) and not actor.sees_everything:
        raise Forbidden("Only the author can change a private note.")
    return row


def update_note(session: Session, actor: Actor, note_id: uuid.UUID, *, note: str,
                note_type: str | None = None) -> dict[str, Any]:
    row = _own(session, actor, note_id)
    row.note, row.note_type = _clean(note, note_type or row.note_type)
    session.add(row)
    session.flush()
    session.refresh(row)
    audit.record_event(session, actor, "private_note.changed", subject_type="private_note", subject_id=row.id,
                       details={"student_id": str(row.student_id)})
    return _view(row.model_dump())


def delete_note(session: Session, actor: Actor, note_id: uuid.UUID) -> None:
    row = _own(session, actor, note_id)
    audit.record_event(session, actor, "private_note.deleted", subject_type="private_note", subject_id=row.id,
                       details={"student_id": str(row.student_id)})
    session.delete(row)
    session.flush()
