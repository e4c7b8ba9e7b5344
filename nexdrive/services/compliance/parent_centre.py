"""The parents' centre (spec C16): what a linked parent sees of each learner, per the learner's switches.

Every read goes through the guarded function that owns the data (``core.access``, the engine's
``student_matrix``, ``logbook``, ``hub``), so a switch the learner turns off is refused by the service
on the very next read: nothing is cached here. :func:`learner_centre` asks the access policy which
views the parent has *now* and reads only those; a view the parent lacks is ``None`` ("not shared").

* :func:`linked_learners`: the parent's active links (name, relationship, switches);
* :func:`learner_centre`: one learner's progress map, what to practise next, lessons (comments only with
  the lesson-notes switch), bridge forms with practice instructions, bookings, payments, log-book drives
  (with the ones this parent may confirm), and whether the parent may book for them;
* :func:`progress_map`, :func:`bridge_forms`: the single views, each refusing without its switch.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from nexdrive.errors import Forbidden
from nexdrive.formats import au_when
from nexdrive.models import ParentStudentLink, Profile, Student
from nexdrive.services.compliance import bridge_forms as bridge_form_service
from nexdrive.services.compliance import competencies, hub, logbook
from nexdrive.services.core import access
from nexdrive.services.core.actors import Actor

SWITCHES = access.PARENT_PERMISSIONS


def _require_parent(actor: Actor) -> None:
    access.require_signed_in(actor)
    if not actor.is_parent or actor.parent_id is None:
        raise Forbidden("The parents' centre is for linked parents and supervising drivers.")


def linked_learners(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The learners who linked this parent (active links), with the switches as they stand now.

    A learner who hides everything from parents (``parent_visibility`` off) shows every switch off."""
    _require_parent(actor)
    rows = session.exec(
        select(ParentStudentLink, Student, Profile)
        .join(Student, Student.id == ParentStudentLink.student_id)
        .join(Profile, Profile.id == Student.profile_id)
        .where(ParentStudentLink.parent_id == actor.parent_id, ParentStudentLink.status == "active")
        .order_by(Profile.first_name, Profile.last_name, Student.id)
    ).all()
    out = []
    for link, student, profile in rows:
        visible = bool(student.parent_visibility)
        out.append({"student_id": student.id, "link_id": link.id,
                    "name": f"{profile.first_name} {profile.last_name}".strip(),
                    "first_name": profile.first_name, "relationship": link.relationship,
                    "permissions": {k: visible and bool(getattr(link, k)) for k in SWITCHES}})
    return out


def progress_map(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """The 23 tasks and 2 reviews with status and what's next (the engine's matrix; "Progress" switch)."""
    matrix = competencies.student_matrix(session, actor, student_id)
    statuses = hub.matrix_statuses(matrix)
    pages = {p.task_number: p for p in hub.hub_pages()}
    rows = []
    for row in matrix.rows:
        page = pages.get(row.task_number)
        st = statuses.get(page.slug, {}) if page else {}
        rows.append({"task_number": row.task_number, "label": page.label if page else str(row.task_number),
                     "name": row.task_name, "kind": row.kind, "status": row.status,
                     "status_label": st.get("label", row.status), "detail": st.get("detail", ""),
                     "path": page.route if page else "", "is_next": row.task_number in matrix.next_tasks})
    return {"rows": rows, "competent": matrix.competent, "total": matrix.total,
            "reviews_passed": list(matrix.reviews_passed), "next_tasks": list(matrix.next_tasks)}


def bridge_forms(session: Session, actor: Actor, student_id: uuid.UUID, *, limit: int = 10) -> list[dict[str, Any]]:
    """The practice handouts shared with parents, newest first ("Practice guides" switch), each task with
    its practice tip and Competency Hub link (``bridge_forms.list_bridge_forms``)."""
    out = []
    for f in bridge_form_service.list_bridge_forms(session, actor, student_id, limit=limit):
        out.append({"id": f["id"], "lesson_id": f["lesson_id"], "date": f["lesson_date_label"],
                    "skills": [f"Task {s['task_number']}: {s['task_name']}" if s["task_number"] < 100
                               else s["task_name"] for s in f["skills"]],
                    "tasks": [{"label": s["task_name"], "path": s["hub_url"], "practice": s["practice"]}
                              for s in f["skills"]],
                    "positives": f["went_well"], "practice_instructions": f["practise"],
                    "focus_areas": f["focus"], "next_lesson_recommendation": f["next_lesson"],
                    "page_url": f["page_url"], "pdf_url": f["pdf_url"]})
    return out


def learner_centre(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """Everything this parent may see of one learner now; a view not shared is ``None``."""
    _require_parent(actor)
    if access.parent_link(session, actor, student_id) is None:
        raise Forbidden("This learner hasn't shared anything with you.")

    def allowed(resource: str) -> bool:
        return access.can_access_student(session, actor, student_id, resource)

    progress = allowed("competencies")
    data: dict[str, Any] = {
        "student_id": student_id,
        "progress": progress_map(session, actor, student_id) if progress else None,
        "guide": hub.supervision_guide(session, actor, student_id) if progress else None,
        "lessons": access.list_lessons(session, actor, student_id=student_id, limit=20)
        if allowed("lessons") else None,
        "lesson_notes": allowed("lesson_notes"),
        "bridge_forms": bridge_forms(session, actor, student_id) if allowed("bridge_forms") else None,
        "bookings": access.list_bookings(session, actor, student_id=student_id, limit=100)
        if allowed("bookings") else None,
        "payments": access.list_payments(session, actor, student_id=student_id, limit=20)
        if allowed("payments") else None,
        "drives": None, "hours": None,
        "can_book": access.may_book_for_student(session, actor, student_id),
    }
    if allowed("logbook"):
        data["drives"] = logbook.list_drives(session, actor, student_id, limit=20)
        summary = logbook.logbook_summary(session, actor, student_id)
        data["hours"] = {k: summary[k] for k in (
            "total_hours", "target_total_hours", "night_hours", "target_night_hours", "credited_hours",
            "supervised_hours", "unconfirmed_drives")}
    return data


def drive_row(d: dict[str, Any]) -> dict[str, Any]:
    """A drive as the parents' centre lists it."""
    return {"id": d["id"], "when": d.get("when") or au_when(d["start_time"], d["end_time"]),
            "minutes": d["total_minutes"], "night_minutes": d["night_minutes"],
            "supervisor": d["supervisor_name"], "confirmed": d["confirmed"], "can_confirm": d["can_confirm"]}


__all__ = ["bookable_learners", "bridge_forms", "drive_row", "learner_centre", "linked_learners", "progress_map"]


def bookable_learners(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The learners this parent may book lessons for now ("Book lessons" on), with the learner's booking
    details (the booking is made in the learner's name, as if they booked it themselves)."""
    if not actor.is_parent or actor.parent_id is None:
        return []
    ids = access.linked_students(session, actor, "book")
    if not ids:
        return []
    rows = session.exec(select(Student.id, Profile).join(Profile, Profile.id == Student.profile_id)
                        .where(Student.id.in_(ids)).order_by(Profile.first_name, Profile.last_name)).all()
    return [{"student_id": sid, "name": f"{p.first_name} {p.last_name}".strip(), "phone": p.phone or "",
             "email": p.email or "", "pickup_address": p.address_line1 or "", "suburb": p.suburb or ""}
            for sid, p in rows]
