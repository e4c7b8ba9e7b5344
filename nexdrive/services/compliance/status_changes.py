"""A competency status change from the API (``POST /students/{id}/competencies``, architecture §4.2.5).

The engine's rules allow no status change outside a lesson: every row of the learner's competency chain
points at a lesson and at the signature that completed it (DESIGN §3.2, §3.5). So a status change is
made *in a draft lesson* (``lesson_id``, required): the task is moved to the draft's taught / assessed /
achieved lists through ``lessons.update_draft`` (its instructor only, every rule applied there), and it
takes effect when the instructor and the learner sign the lesson. A signed lesson is changed only by a
correction (``POST /lessons/{id}/correction``).
"""
from __future__ import annotations

import uuid
from typing import Any

from nexdrive.errors import InvalidState, ValidationFailed
from nexdrive.services.compliance import competencies, lessons
from nexdrive.services.core.actors import Actor
from sqlmodel import Session

STATUSES = ("not_started", "taught", "assessed", "competent", "not_yet_competent")


def record_status_change(session: Session, actor: Actor, student_id: uuid.UUID, *, task_number: int, status: str,
                         transmission: str | None = None, lesson_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Put ``task_number`` at ``status`` in the learner's draft lesson ``lesson_id`` (see the module docstring)."""
    if status not in STATUSES:
        raise ValidationFailed("The status is one of " + ", ".join(STATUSES) + ".", field="status")
    if transmission is not None and transmission not in competencies.TRANSMISSIONS:
        raise ValidationFailed("Transmission must be manual or auto.", field="transmission")
    if lesson_id is None:
        raise ValidationFailed("A competency changes only in a lesson signed by the instructor and the learner: "
                               "give the draft lesson (lesson_id) to record it in.", field="lesson_id")
    lesson = lessons.get_lesson(session, actor, lesson_id)
    if lesson["student_id"] != student_id:
        raise ValidationFailed("That lesson is not this learner's.", field="lesson_id")
    if lesson["status"] != "draft":
        raise InvalidState("That lesson is signed: record a correction of it instead.", lesson_status=lesson["status"])
    if transmission is not None and status == "competent" and transmission != lesson["transmission"]:
        raise ValidationFailed("A task is achieved in the lesson's own transmission.", field="transmission")
    lists = {k: [n for n in (lesson[k] or []) if n != task_number] for k in (
        "competencies_taught", "competencies_assessed", "competencies_achieved_manual",
        "competencies_achieved_auto")}
    if status == "taught":
        lists["competencies_taught"].append(task_number)
    elif status in ("assessed", "not_yet_competent", "competent"):
        lists["competencies_assessed"].append(task_number)
        if status == "competent":
            key = "competencies_achieved_manual" if lesson["transmission"] == "manual" else \
                "competencies_achieved_auto"
            lists[key].append(task_number)
    updated = lessons.update_draft(session, actor, lesson_id, **lists)
    return {"lesson": updated, "task_number": task_number, "status": status, "takes_effect": "when both sign"}


__all__ = ["STATUSES", "record_status_change"]
