"""Self-assessment (C24): before Review 1, Review 2 and the final drive the learner rates their
confidence in each task the checkpoint covers (1 = not yet, 5 = confident), with an optional note.

* Which tasks a checkpoint covers is the catalogue's (Review 1: its ``covers``, tasks 1–17; Review 2:
  tasks 1–22; the final drive: every task 1–23), never a list of our own.
* Every submission is kept (a new row each time): the history is the learner's record.
* The learner's instructor (or the office) reads them and marks each one reviewed (who and when);
  parents never see them (``core.access.may_read_self_assessments``).
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from nexdrive.errors import Forbidden, InvalidState, ValidationFailed
from nexdrive.formats import au_date, au_when
from nexdrive.models import Profile, SelfAssessment, Student
from nexdrive.services.compliance import competencies as engine
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor

# checkpoint -> (stored assessment_type, the engine's task number of the checkpoint)
CHECKPOINTS: dict[str, tuple[str, int]] = {
    "review_1": ("pre_review_1_17", engine.REVIEW_1),
    "review_2": ("pre_review_1_22", engine.REVIEW_2),
    "final_drive": ("pre_final_drive", engine.FINAL_DRIVE),
}
CHECKPOINT_OF_TYPE = {t: k for k, (t, _) in CHECKPOINTS.items()}
TITLES = {"review_1": "Before Review 1", "review_2": "Before Review 2", "final_drive": "Before the final drive"}
CONFIDENCE = {1: "Not yet", 2: "Unsure", 3: "Getting there", 4: "Mostly confident", 5: "Confident"}
MAX_NOTE = 500
MAX_LIST = 100


def _checkpoint(kind: str) -> tuple[str, int]:
    if kind not in CHECKPOINTS:
        raise ValidationFailed("Choose Review 1, Review 2 or the final drive.", field="checkpoint",
                               allowed=list(CHECKPOINTS))
    return CHECKPOINTS[kind]


def covered_tasks(catalogue: engine.Catalogue, kind: str) -> list[int]:
    """The tasks a checkpoint covers, from the catalogue (the final drive: every task, itself included)."""
    _, number = _checkpoint(kind)
    task = catalogue.tasks.get(number)
    if task is not None and task.kind == "review":
        return sorted(n for n in task.covers if n in catalogue.tasks)
    return [n for n in catalogue.countable]


def next_checkpoint(matrix: engine.Matrix) -> str | None:
    """The first of Review 1, Review 2, the final drive the learner has not passed yet."""
    for kind, (_, number) in CHECKPOINTS.items():
        row = next((r for r in matrix.rows if r.task_number == number), None)
        if row is not None and row.status != "competent":
            return kind
    return None


def form(session: Session, actor: Actor, student_id: uuid.UUID, kind: str | None = None) -> dict[str, Any]:
    """What the learner fills in: the checkpoint (default: their next one), its tasks with their current
    status, and their last answers for it (to start from)."""
    if not access.may_read_self_assessments(session, actor, student_id):
        access.require_signed_in(actor)
        raise Forbidden("You don't have access to this learner's self-assessments.")
    matrix = engine.compute_matrix(session, student_id)
    kind = kind or next_checkpoint(matrix) or "final_drive"
    assessment_type, _ = _checkpoint(kind)
    catalogue = engine.load_catalogue(session)
    last = session.exec(select(SelfAssessment).where(SelfAssessment.student_id == student_id,
                                                     SelfAssessment.assessment_type == assessment_type)
                        .order_by(SelfAssessment.created_at.desc()).limit(1)).first()
    previous = {int(r["task_number"]): r for r in (last.responses if last else []) if "task_number" in r}
    tasks = []
    for n in covered_tasks(catalogue, kind):
        row = matrix.row(n)
        tasks.append({"task_number": n, "name": row.task_name, "status": row.status,
                      "confidence": int(previous.get(n, {}).get("confidence") or 0),
                      "note": previous.get(n, {}).get("notes") or previous.get(n, {}).get("note") or ""})
    return {"checkpoint": kind, "title": TITLES[kind], "assessment_type": assessment_type, "tasks": tasks,
            "next_checkpoint": next_checkpoint(matrix),
            "last_completed_at": last.completed_at if last else None}


def _responses(catalogue: engine.Catalogue, kind: str, responses: Any) -> list[dict[str, Any]]:
    if not isinstance(responses, (list, tuple)):
        raise ValidationFailed("Answers are a list, one per task.", field="responses")
    wanted = covered_tasks(catalogue, kind)
    seen: dict[int, dict[str, Any]] = {}
    for r in responses:
        if not isinstance(r, dict):
            raise ValidationFailed("Each answer names a task and a confidence.", field="responses")
        n, c = r.get("task_number"), r.get("confidence")
        if isinstance(n, bool) or not isinstance(n, int) or n not in wanted:
            raise ValidationFailed(f"Task {n} is not part of this self-assessment.", field="responses",
                                   tasks=[n] if isinstance(n, int) else [])
        if n in seen:
            raise ValidationFailed(f"Task {n} is answered twice.", field="responses", tasks=[n])
        if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 5:
            raise ValidationFailed(f"Rate task {n} from 1 (not yet) to 5 (confident).", field=f"task_{n}",
                                   tasks=[n])
        note = r.get("note")
        if note is not None and not isinstance(note, str):
            raise ValidationFailed("A note is text.", field=f"note_{n}", tasks=[n])
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            raise ValidationFailed(f"A note is at most {MAX_NOTE} characters.", field=f"note_{n}", tasks=[n])
        if any((ord(ch) < 32 and ch not in "\n\t\r") or ord(ch) == 127 for ch in note):
            raise ValidationFailed("The note contains control characters.", field=f"note_{n}", tasks=[n])
        seen[n] = {"task_number": n, "confidence": c, "notes": note}  # the spec's shape
    missing = [n for n in wanted if n not in seen]
    if missing:
        raise ValidationFailed("Rate every task: " + ", ".join(f"task {n}" for n in missing[:8])
                               + (" …" if len(missing) > 8 else "") + " still to go.", field="responses",
                               tasks=missing)
    return [seen[n] for n in wanted]


def submit(session: Session, actor: Actor, student_id: uuid.UUID, kind: str,
           responses: list[dict[str, Any]]) -> dict[str, Any]:
    """The learner records a self-assessment (a new row; earlier ones stay as history)."""
    access.require_signed_in(actor)
    if not (actor.is_student and actor.student_id == student_id):
        raise Forbidden("Only the learner fills in their own self-assessment.")
    assessment_type, _ = _checkpoint(kind)
    catalogue = engine.load_catalogue(session)
    answers = _responses(catalogue, kind, responses)
    now = clock.now(session)
    row = SelfAssessment(student_id=student_id, assessment_type=assessment_type, responses=answers,
                         completed_at=now)
    session.add(row)
    session.flush()
    audit.record_event(session, actor, "self_assessment.completed", subject_type="self_assessment",
                       subject_id=row.id, details={"student_id": str(student_id), "checkpoint": kind,
                                                   "tasks": len(answers)})
    session.refresh(row)
    return _dict(session, row, catalogue)


def _name(session: Session, student_id: uuid.UUID) -> str:
    student = session.get(Student, student_id)
    profile = session.get(Profile, student.profile_id) if student else None
    return f"{profile.first_name} {profile.last_name}".strip() if profile else "Learner"


def _dict(session: Session, row: SelfAssessment, catalogue: engine.Catalogue,
          names: dict[uuid.UUID, str] | None = None) -> dict[str, Any]:
    kind = CHECKPOINT_OF_TYPE.get(row.assessment_type, "general")
    answers = []
    for r in row.responses or []:
        n = r.get("task_number")
        task = catalogue.tasks.get(n) if isinstance(n, int) else None
        c = int(r.get("confidence") or 0)
        answers.append({"task_number": n, "name": task.name if task else f"Task {n}", "confidence": c,
                        "confidence_label": CONFIDENCE.get(c, ""),
                        "note": r.get("notes") or r.get("note") or ""})
    low = [a["task_number"] for a in answers if a["confidence"] and a["confidence"] <= 2]
    return {
        "id": row.id, "student_id": row.student_id,
        "student_name": (names or {}).get(row.student_id) or _name(session, row.student_id),
        "checkpoint": kind, "title": TITLES.get(kind, "Self-assessment"), "assessment_type": row.assessment_type,
        "responses": answers, "low_confidence_tasks": low,
        "completed_at": row.completed_at, "completed_label": au_when(row.completed_at) if row.completed_at else "",
        "reviewed": row.reviewed_by_instructor, "reviewed_at": row.reviewed_at,
        "reviewed_label": au_date(row.reviewed_at) if row.reviewed_at else "", "reviewed_by": row.reviewed_by,
    }


def list_for_student(session: Session, actor: Actor, student_id: uuid.UUID, *, limit: int = 50,
                     offset: int = 0) -> list[dict[str, Any]]:
    """The learner's self-assessments, newest first (learner, their instructor, the office)."""
    access.require_signed_in(actor)
    if not access.may_read_self_assessments(session, actor, student_id):
        raise Forbidden("You don't have access to this learner's self-assessments.")
    limit, offset = max(1, min(int(limit), MAX_LIST)), max(0, int(offset))
    rows = session.exec(select(SelfAssessment).where(SelfAssessment.student_id == student_id)
                        .order_by(SelfAssessment.created_at.desc(), SelfAssessment.id)
                        .limit(limit).offset(offset)).all()
    catalogue = engine.load_catalogue(session)
    names = {student_id: _name(session, student_id)}
    return [_dict(session, r, catalogue, names) for r in rows]


def to_review(session: Session, actor: Actor, *, limit: int = 50) -> list[dict[str, Any]]:
    """Self-assessments not yet reviewed: an instructor's own learners', or every learner's for the office."""
    instructor_id = access.learner_scope(actor)
    query = (select(SelfAssessment).join(Student, Student.id == SelfAssessment.student_id)
             .where(SelfAssessment.reviewed_by_instructor.is_(False), SelfAssessment.completed_at.is_not(None)))
    if instructor_id is not None:
        query = query.where(Student.instructor_id == instructor_id)
    rows = session.exec(query.order_by(SelfAssessment.completed_at, SelfAssessment.id)
                        .limit(max(1, min(int(limit), MAX_LIST)))).all()
    catalogue = engine.load_catalogue(session)
    names: dict[uuid.UUID, str] = {}
    for r in rows:
        if r.student_id not in names:
            names[r.student_id] = _name(session, r.student_id)
    return [_dict(session, r, catalogue, names) for r in rows]


def mark_reviewed(session: Session, actor: Actor, assessment_id: uuid.UUID) -> dict[str, Any]:
    """The learner's instructor (or the office) has read it: reviewed, by whom and when."""
    access.require_signed_in(actor)
    row = session.exec(select(SelfAssessment).where(SelfAssessment.id == assessment_id).with_for_update()).first()
    visible = row is not None and access.may_read_self_assessments(session, actor, row.student_id)
    access.require_visible(actor, row, visible, "self-assessment")
    if not access.may_review_self_assessments(session, actor, row.student_id):
        raise Forbidden("Only the learner's instructor marks a self-assessment reviewed.")
    if row.reviewed_by_instructor:
        raise InvalidState("This self-assessment is already marked reviewed.")
    row.reviewed_by_instructor = True
    row.reviewed_at = clock.now(session)
    row.reviewed_by = actor.user_id
    session.add(row)
    session.flush()
    audit.record_event(session, actor, "self_assessment.reviewed", subject_type="self_assessment",
                       subject_id=row.id, details={"student_id": str(row.student_id)})
    session.refresh(row)
    return _dict(session, row, engine.load_catalogue(session))


__all__ = ["CHECKPOINTS", "CONFIDENCE", "covered_tasks", "form", "list_for_student", "mark_reviewed",
           "next_checkpoint", "submit", "to_review"]
