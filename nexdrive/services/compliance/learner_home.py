"""The learner's home: where they are in the log book at a glance, from the engine's own answers.

Nothing here recomputes a rule. The map is the engine's matrix (:func:`competencies.student_matrix`)
turned into words: each of the 23 tasks and 2 reviews with its status, the date and the lesson it was
reached in, whether it is next, and, when it is locked, why ("Review 1 opens on Thu 14 May, 3:40 pm,
36 hours after task 17"). Hours are the log book's summary (:func:`logbook.logbook_summary`), the
certificate status is :func:`competencies.certificate_eligibility` fed with those hours, and whether a
review or the final drive may be booked now is :func:`competencies.eligibility_for_booking`.

* :func:`progress_summary`: the map, the counts, the hours and the certificate (learner, parents with
  "Progress", the learner's instructor, the office): the REST API's ``/students/{id}/progress``.
* :func:`learner_home`: the above plus the next booking and the latest bridge form (the ``/student`` page).
* :func:`booking_gate`: may this learner book a review / the final drive, and if not, why: asked by the
  booking widget before any time is offered.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.formats import au_date, au_time, au_when
from nexdrive.services.compliance import bridge_forms
from nexdrive.services.compliance import competencies as engine
from nexdrive.services.compliance import lessons as lesson_records
from nexdrive.services.compliance import logbook
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor

STATUS_LABELS = {"not_started": "Not started", "taught": "Taught", "assessed": "Assessed",
                 "competent": "Competent", "not_yet_competent": "Not yet competent"}
KIND_OF_TASK = {engine.REVIEW_1: "review_1", engine.REVIEW_2: "review_2", engine.FINAL_DRIVE: "final_drive"}
UPCOMING = ("held", "pending", "confirmed", "in_progress")


def _when(dt: datetime) -> str:
    """Thu 14 May, 3:40 pm (Canberra)."""
    return f"{au_date(dt, year=False)}, {au_time(dt)}"


def _label(matrix: engine.Matrix, number: int) -> str:
    row = next((r for r in matrix.rows if r.task_number == number), None)
    if row is None:
        return f"task {number}"
    return row.task_name if row.kind == "review" else f"task {number}"


def _and(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _list(matrix: engine.Matrix, numbers: list[int] | tuple[int, ...], limit: int = 6) -> str:
    """"Review 1 and tasks 18, 19 and 20" (reviews first; at most ``limit`` task numbers, then "N more")."""
    kinds = {r.task_number: r.kind for r in matrix.rows}
    reviews = [_label(matrix, n) for n in numbers if kinds.get(n) == "review"]
    tasks = [n for n in numbers if kinds.get(n) != "review"]
    parts = list(reviews)
    if tasks:
        shown = [str(n) for n in tasks[:limit]]
        if len(tasks) > limit:
            shown.append(f"{len(tasks) - limit} more")
        parts.append(("task " if len(tasks) == 1 else "tasks ") + _and(shown))
    return _and(parts)


def _gap_hours(session: Session) -> int:
    return int(engine.load_rules(session).review_gap.total_seconds() // 3600)


def lock_reason(matrix: engine.Matrix, row: engine.MatrixRow, gap_hours: int) -> str:
    """Why a task or review can't be reached yet, in words; "" when nothing but teaching stands in the way."""
    if row.status == "competent":
        return ""
    rules = {b.rule: b for b in row.blocked_by}
    name = row.task_name if row.kind == "review" else f"Task {row.task_number}"
    if row.kind == "review":
        covers = [r for r in matrix.rows if r.task_number in set(rules["REVIEW_GAP"].tasks)] \
            if "REVIEW_GAP" in rules else []
        if "REVIEW_GAP" in rules and rules["REVIEW_GAP"].opens_at is not None:
            last = max((r for r in covers if r.achieved_at), key=lambda r: r.achieved_at, default=None)
            after = f", {gap_hours} hours after {_label(matrix, last.task_number)}" if last else ""
            return f"{name} opens on {_when(rules['REVIEW_GAP'].opens_at)}{after}."
        if "REVIEW_TASKS" in rules:
            missing = list(rules["REVIEW_TASKS"].tasks)
            return (f"{name} opens {gap_hours} hours after every task it covers is competent; "
                    f"still to do: {_list(matrix, missing)}.")
        return ""
    if "PREREQUISITES" in rules:
        return f"{name} needs {_list(matrix, list(rules['PREREQUISITES'].tasks))} competent first."
    return ""


def _lesson_numbers(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = session.execute(sa.text("SELECT id, lesson_number FROM lessons WHERE id = ANY(:ids)"),
                           {"ids": list(ids)}).all()
    return {r.id: r.lesson_number for r in rows}


def _map(session: Session, matrix: engine.Matrix) -> list[dict[str, Any]]:
    gap = _gap_hours(session)
    numbers = _lesson_numbers(session, {r.lesson_id for r in matrix.rows if r.lesson_id})
    out = []
    for r in matrix.rows:
        reason = lock_reason(matrix, r, gap)
        reached = r.achieved_at if r.status == "competent" else (r.assessed_at or r.taught_at)
        opens = r.review_opens_at
        open_now = r.kind == "review" and r.status != "competent" and opens is not None and opens <= matrix.as_of
        out.append({
            "task_number": r.task_number, "name": r.task_name, "kind": r.kind, "status": r.status,
            "status_label": STATUS_LABELS.get(r.status, r.status),
            "label": r.task_name if r.kind == "review" else f"Task {r.task_number}",
            "date": reached, "date_label": au_date(reached, year=False) if reached else "",
            "lesson_number": numbers.get(r.lesson_id) if r.lesson_id else None,
            "is_next": r.task_number in matrix.next_tasks, "locked": bool(reason), "lock_reason": reason,
            "opens_at": opens, "open_now": open_now,
        })
    return out


def _hours_missing(hours: dict[str, Any]) -> list[str]:
    out = []
    if hours["remaining_hours"] > 0:
        out.append(f"{hours['remaining_hours']:g} more hours of driving")
    if hours["remaining_night_hours"] > 0:
        out.append(f"{hours['remaining_night_hours']:g} more hours at night")
    return out


def progress_summary(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """The learner's progress: the map of 23 tasks and 2 reviews, the counts, hours and certificate."""
    matrix = engine.student_matrix(session, actor, student_id)
    hours = logbook.logbook_summary(session, actor, student_id)
    missing = _hours_missing(hours)
    certificate = engine.certificate_eligibility(session, actor, student_id,
                                                 hours={"met": hours["target_met"], "missing": missing})
    reviews = {r.task_number: r for r in matrix.rows if r.kind == "review"}
    return {
        "student_id": student_id, "as_of": matrix.as_of, "transmission": matrix.transmission,
        "competent": matrix.competent, "total": matrix.total, "in_progress": matrix.in_progress,
        "not_started": matrix.not_started, "reviews_passed": list(matrix.reviews_passed),
        "reviews_total": len(reviews), "next_tasks": list(matrix.next_tasks),
        "map": _map(session, matrix),
        "hours": hours,
        "certificate": {
            "eligible": certificate["eligible"], "missing_tasks": certificate["missing_tasks"],
            "missing_reviews": certificate["missing_reviews"], "final_drive_done": certificate["final_drive_done"],
            "hours_missing": certificate["hours_missing"],
        },
    }


def booking_gate(session: Session, actor: Actor, student_id: uuid.UUID, kind: str | None,
                 at: datetime | None = None) -> dict[str, Any]:
    """May the learner book a lesson of ``kind`` ('review_1', 'review_2', 'final_drive'; None: any lesson)
    at ``at`` (default: now)? ``{"ok", "reason", "earliest"}``: the widget says ``reason`` before any time
    is offered and offers only times from ``earliest`` on."""
    access.require_student(session, actor, student_id, "book")
    at = at or clock.now(session)
    result = engine.eligibility_for_booking(session, student_id, kind, at)
    if result.ok:
        return {"ok": True, "reason": "", "earliest": None, "rule": None}
    matrix = engine.compute_matrix(session, student_id, as_of=at)
    task = engine.ELIGIBILITY_TASK.get(kind)
    what = _label(matrix, task) if task != engine.FINAL_DRIVE else "The final drive"
    what = what[:1].upper() + what[1:]
    if result.rule == "REVIEW_GAP" and result.earliest is not None:
        row = matrix.row(task)
        reason = lock_reason(matrix, row, _gap_hours(session)) or f"{what} opens on {_when(result.earliest)}."
        return {"ok": True, "reason": reason + " Times from then on are shown.", "earliest": result.earliest,
                "rule": result.rule}
    reason = f"{what} can be booked once {_list(matrix, list(result.missing))} " \
             f"{'is' if len(result.missing) == 1 else 'are'} signed off in your log book."
    return {"ok": False, "reason": reason, "earliest": None, "rule": result.rule}


def _next_booking(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any] | None:
    if not access.can_access_student(session, actor, student_id, "bookings"):
        return None
    now = clock.now(session)
    rows = [b for b in access.list_bookings(session, actor, student_id=student_id, limit=50)
            if b.get("status") in UPCOMING and b.get("end_time") and b["end_time"] > now]
    if not rows:
        return None
    b = min(rows, key=lambda b: b["start_time"])
    service = session.execute(sa.text("SELECT name FROM services WHERE id = :i"),
                              {"i": b.get("service_id")}).scalar() if b.get("service_id") else None
    return {"id": b["id"], "when": au_when(b["start_time"], b["end_time"]), "start_time": b["start_time"],
            "service": service or "Driving lesson", "status": b["status"], "suburb": b.get("suburb") or ""}


def _bridge_dict(f: dict[str, Any]) -> dict[str, Any]:
    """A bridge form (``bridge_forms``' page data) as the learner's pages show it."""
    return {"id": f["id"], "lesson_id": f["lesson_id"], "lesson_number": f["lesson_number"],
            "date": f["lesson_date_label"], "positives": f["went_well"], "practice_instructions": f["practise"],
            "focus_areas": f["focus"], "next_lesson_recommendation": f["next_lesson"],
            "skills": [s["task_name"] for s in f["skills"]], "page_url": f["page_url"], "pdf_url": f["pdf_url"]}


def _latest_bridge_form(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any] | None:
    if not access.can_access_student(session, actor, student_id, "bridge_forms"):
        return None
    form = bridge_forms.latest_bridge_form(session, actor, student_id)
    return _bridge_dict(form) if form else None


def _task_name(catalogue: engine.Catalogue, n: int) -> str:
    task = catalogue.tasks.get(n)
    if task is None:
        return f"Task {n}"
    return task.name if task.kind == "review" else f"{n}. {task.name}"


def lesson_list(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """The learner's lessons, newest first, each with its comments (as the viewer may read them), both
    signatures, disputes, bridge form and whether the viewer may dispute it now (the learner, within
    ``lessons.DISPUTE_DAYS`` days of signing: the dispute use case checks again)."""
    history = lesson_records.lesson_history(session, actor, student_id, limit=200)
    forms = {}
    if access.can_access_student(session, actor, student_id, "bridge_forms"):
        forms = {f["lesson_id"]: f for f in bridge_forms.list_bridge_forms(session, actor, student_id, limit=200)}
    now = clock.now(session)
    catalogue = engine.load_catalogue(session)
    out = []
    for ln in reversed(history):
        signed_at = ln.get("signed_at")
        can_dispute = (actor.is_student and actor.student_id == student_id and ln["status"] == "completed"
                       and ln.get("is_current", True) and signed_at is not None
                       and now - signed_at <= timedelta(days=lesson_records.DISPUTE_DAYS))
        names = {n: _task_name(catalogue, n) for key in ("competencies_taught", "competencies_assessed")
                 for n in ln.get(key) or []}
        achieved = set(ln.get("competencies_achieved_manual") or []) | set(ln.get("competencies_achieved_auto") or [])
        out.append({
            **ln, "when": au_when(ln["start_time"], ln["end_time"]),
            "taught": [names[n] for n in ln.get("competencies_taught") or []],
            "achieved": [names[n] for n in ln.get("competencies_assessed") or [] if n in achieved],
            "not_yet": [names[n] for n in ln.get("competencies_assessed") or [] if n not in achieved],
            "can_dispute": bool(can_dispute),
            "dispute_until": au_date(signed_at + timedelta(days=lesson_records.DISPUTE_DAYS)) if can_dispute else "",
            "bridge_form": _bridge_dict(forms[str(ln["id"])]) if str(ln["id"]) in forms else None,
        })
    return out


def learner_home(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """Everything the learner's home shows, in one read."""
    data = progress_summary(session, actor, student_id)
    data["next_booking"] = _next_booking(session, actor, student_id)
    data["latest_bridge_form"] = _latest_bridge_form(session, actor, student_id)
    return data


__all__ = ["STATUS_LABELS", "booking_gate", "learner_home", "lesson_list", "lock_reason", "progress_summary"]
