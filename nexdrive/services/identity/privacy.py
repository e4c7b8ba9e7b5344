"""The learner's privacy switch (architecture §4.2.3 ``PATCH /students/:id/privacy``).

``students.parent_visibility`` false hides everything from every linked parent at once, whatever each
link's own switches say (``core.access.parent_link`` reads it on every request); true restores what
each link allows. Only the learner (or the office) turns it.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from nexdrive.errors import Forbidden, ValidationFailed
from nexdrive.models import ParentStudentLink, Student
from nexdrive.services.core import access, audit
from nexdrive.services.core.actors import Actor


def get_privacy(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """The switch and how many parents it concerns (the learner or the office)."""
    student = _own(session, actor, student_id)
    links = session.exec(select(ParentStudentLink.id).where(ParentStudentLink.student_id == student_id,
                                                            ParentStudentLink.status == "active")).all()
    return {"student_id": student.id, "parent_visibility": bool(student.parent_visibility),
            "linked_parents": len(links)}


def _own(session: Session, actor: Actor, student_id: uuid.UUID) -> Student:
    student = access.require_student(session, actor, student_id, "student")
    if not (actor.sees_everything or (actor.is_student and actor.student_id == student_id)):
        raise Forbidden("Only the learner changes who can see their record.")
    return student


def set_parent_visibility(session: Session, actor: Actor, student_id: uuid.UUID, visible: Any) -> dict[str, Any]:
    """Let linked parents see what each link allows (True), or hide everything from all of them (False)."""
    if not isinstance(visible, bool):
        raise ValidationFailed("parent_visibility is true or false.", field="parent_visibility")
    student = _own(session, actor, student_id)
    before = bool(student.parent_visibility)
    if before != visible:
        student.parent_visibility = visible
        session.add(student)
        session.flush()
        audit.record_event(session, actor, "PRIVACY_CHANGED", subject_type="student", subject_id=student.id,
                           details={"parent_visibility": {"before": before, "after": visible}})
    return get_privacy(session, actor, student_id)


__all__ = ["get_privacy", "set_parent_visibility"]
