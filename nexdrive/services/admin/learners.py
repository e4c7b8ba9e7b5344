"""Learners for the office: search and filter, one learner's whole record, archive, transfer.

The list is the administrator's (every learner) or an instructor's (their own learners only,
``access.learner_scope``); the learner's admin record, archive and transfer are the
administrator's alone (``access.require_admin``). Archive and transfer are audited.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import InvalidState, NotFound, ValidationFailed
from nexdrive.formats import au_date, au_when, aud, format_au_phone
from nexdrive.models import Instructor, Student
from nexdrive.models.users import STUDENT_STATUSES
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event

PAGE = 25
MAX_PAGE = 100
TAUGHT = ("confirmed", "in_progress", "completed")
LAST_LESSON_FILTERS = {
    "": "Any time",
    "7": "In the last 7 days",
    "30": "In the last 30 days",
    "90": "In the last 90 days",
    "older": "More than 90 days ago",
    "none": "No lesson yet",
}

_LAST_LESSON = f"""(SELECT max(b.start_time) FROM bookings b WHERE b.student_id = s.id
                    AND b.status IN ({", ".join(f"'{x}'" for x in TAUGHT)}) AND b.start_time <= :now)"""
_COMPETENT = """(SELECT count(*) FROM (
                    SELECT DISTINCT ON (sc.task_id) sc.status FROM student_competencies sc
                    WHERE sc.student_id = s.id ORDER BY sc.task_id, sc.seq DESC) latest
                 WHERE latest.status = 'competent')"""


def _uuid(value: Any, field: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("That is not a valid choice.", field=field) from None


def search_learners(session: Session, actor: Actor, *, q: str = "", instructor_id: Any = None, status: str = "",
                    last_lesson: str = "", limit: int = PAGE, offset: int = 0) -> dict:
    """Learners matching a search of name, email or phone, and the filters; newest first, a page at a time."""
    scope = access.learner_scope(actor)
    if status and status not in STUDENT_STATUSES:
        raise ValidationFailed("Unknown status.", field="status")
    if last_lesson not in LAST_LESSON_FILTERS:
        raise ValidationFailed("Unknown last-lesson filter.", field="last_lesson")
    limit, offset = max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))
    now = clock.now(session)
    where, params = ["TRUE"], {"now": now}
    if scope is not None:
        where.append("s.instructor_id = :scope")
        params["scope"] = scope
    chosen = _uuid(instructor_id, "instructor_id")
    if chosen is not None:
        where.append("s.instructor_id = :ins")
        params["ins"] = chosen
    if status:
        where.append("s.status = :status")
        params["status"] = status
    text = " ".join((q or "").split())[:100]
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        cond = ["(p.first_name || ' ' || p.last_name) ILIKE :q", "p.email ILIKE :q"]
        params["q"] = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if len(digits) >= 4:
            # 0412 345 678, +61412345678 and 412345678 all find +61412345678
            params["digits"] = "%" + (digits[1:] if digits.startswith("0") else digits) + "%"
            cond.append("regexp_replace(COALESCE(p.phone, ''), '[^0-9]', '', 'g') LIKE :digits")
        where.append("(" + " OR ".join(cond) + ")")
    if last_lesson in ("7", "30", "90"):
        where.append(f"{_LAST_LESSON} >= :since")
        params["since"] = now - timedelta(days=int(last_lesson))
    elif last_lesson == "older":
        where.append(f"{_LAST_LESSON} < :since")
        params["since"] = now - timedelta(days=90)
    elif last_lesson == "none":
        where.append(f"{_LAST_LESSON} IS NULL")
    base = f"""FROM students s JOIN profiles p ON p.id = s.profile_id
               JOIN instructors i ON i.id = s.instructor_id JOIN profiles ip ON ip.id = i.profile_id
               WHERE {" AND ".join(where)}"""
    total = session.execute(sa.text(f"SELECT count(*) {base}"), params).scalar_one()
    rows = session.execute(sa.text(f"""
        SELECT s.id, p.first_name, p.last_name, p.email, p.phone, s.status, s.instructor_id, s.enrollment_date,
               TRIM(ip.first_name || ' ' || ip.last_name) AS instructor, {_LAST_LESSON} AS last_lesson,
               {_COMPETENT} AS competent
        {base} ORDER BY s.created_at DESC, s.id LIMIT :limit OFFSET :offset"""),
        {**params, "limit": limit, "offset": offset}).all()
    items = [{"id": str(r.id), "name": f"{r.first_name} {r.last_name}".strip(), "email": r.email,
              "phone": format_au_phone(r.phone) if r.phone else "", "status": r.status,
              "instructor_id": str(r.instructor_id), "instructor": r.instructor,
              "last_lesson": au_date(r.last_lesson, weekday=False) if r.last_lesson else "",
              "competent": int(r.competent)} for r in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


def instructor_choices(session: Session, actor: Actor, *, active_only: bool = True) -> list[dict]:
    """Instructors to filter by or transfer to (the administrator's list)."""
    access.require_admin(actor)
    rows = session.execute(sa.text(f"""
        SELECT i.id, TRIM(p.first_name || ' ' || p.last_name) AS name, i.status FROM instructors i
        JOIN profiles p ON p.id = i.profile_id {"WHERE i.status = 'active'" if active_only else ""}
        ORDER BY 2, 1""")).all()
    return [{"id": str(r.id), "name": r.name, "status": r.status} for r in rows]


def learner_record(session: Session, actor: Actor, student_id: Any) -> dict:
    """Administrator: the learner's profile, bookings, payments, family links and progress."""
    access.require_admin(actor)
    sid = _uuid(student_id, "student_id")
    if sid is None or session.get(Student, sid) is None:
        raise NotFound("No such learner.")
    data = access.get_student_record(session, actor, sid)
    ins = access.get_instructor_record(session, actor, data["instructor_id"])
    bookings = session.execute(sa.text("""
        SELECT b.id, b.start_time, b.end_time, b.status, b.payment_status, b.amount_cents, sv.name AS service,
               TRIM(ip.first_name || ' ' || ip.last_name) AS instructor
        FROM bookings b JOIN services sv ON sv.id = b.service_id
        JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
        WHERE b.student_id = :sid AND b.status NOT IN ('held', 'expired')
        ORDER BY b.start_time DESC, b.id LIMIT 100"""), {"sid": sid}).all()
    payments = access.list_payments(session, actor, student_id=sid, limit=100)
    family = session.execute(sa.text("""
        SELECT l.id, l.relationship, l.status, l.can_view_progress, l.can_view_bookings, l.can_view_payments,
               l.can_book_lessons, TRIM(pp.first_name || ' ' || pp.last_name) AS name, pp.email, pp.phone
        FROM parent_student_links l JOIN parents pa ON pa.id = l.parent_id JOIN profiles pp ON pp.id = pa.profile_id
        WHERE l.student_id = :sid ORDER BY l.created_at, l.id"""), {"sid": sid}).all()
    progress = session.execute(sa.text(f"""
        SELECT {_COMPETENT} AS competent,
               (SELECT count(*) FROM competency_tasks WHERE is_active) AS tasks,
               (SELECT count(DISTINCT sc.task_id) FROM student_competencies sc WHERE sc.student_id = s.id) AS started
        FROM students s WHERE s.id = :sid"""), {"sid": sid}).one()
    return {
        "id": str(sid),
        "name": f"{data['first_name'] or ''} {data['last_name'] or ''}".strip(),
        "first_name": data["first_name"] or "", "last_name": data["last_name"] or "",
        "email": data["email"] or "", "phone": format_au_phone(data["phone"]) if data["phone"] else "",
        "status": data["status"], "transmission": data["transmission"],
        "licence_number": data.get("licence_number") or "",
        "enrolled": au_date(data["enrollment_date"]) if data.get("enrollment_date") else "",
        "completed": au_date(data["completion_date"]) if data.get("completion_date") else "",
        "referral": " \u2014 ".join(x for x in (data.get("referral_source"), data.get("referral_detail")) if x),
        "instructor_id": str(data["instructor_id"]),
        "instructor": f"{ins['first_name']} {ins['last_name']}".strip(),
        "hours": {"total": str(data.get("total_hours") or 0), "night": str(data.get("night_hours") or 0),
                  "professional": str(data.get("professional_hours") or 0)},
        "progress": {"competent": int(progress.competent), "tasks": int(progress.tasks),
                     "started": int(progress.started)},
        "bookings": [{"id": str(b.id), "when": au_when(b.start_time, b.end_time), "status": b.status,
                      "payment_status": b.payment_status, "amount": aud(b.amount_cents), "service": b.service,
                      "instructor": b.instructor} for b in bookings],
        "payments": [{"id": str(p["id"]), "when": au_date(p.get("completed_at") or p["created_at"]),
                      "amount": aud(p["amount_cents"]), "refunded": aud(p.get("refund_amount_cents") or 0),
                      "method": p["payment_method"], "status": p["status"],
                      "description": p.get("description") or ""} for p in payments],
        "family": [{"id": str(f.id), "name": f.name, "email": f.email,
                    "phone": format_au_phone(f.phone) if f.phone else "", "relationship": f.relationship,
                    "status": f.status,
                    "permissions": ", ".join(label for flag, label in (
                        (f.can_view_progress, "progress"), (f.can_view_bookings, "bookings"),
                        (f.can_view_payments, "payments"), (f.can_book_lessons, "books lessons")) if flag)}
                   for f in family],
    }


def _student_for_update(session: Session, actor: Actor, student_id: Any) -> Student:
    access.require_admin(actor)
    sid = _uuid(student_id, "student_id")
    student = session.get(Student, sid, with_for_update=True) if sid else None
    if student is None:
        raise NotFound("No such learner.")
    return student


def _reason(reason: str | None) -> str | None:
    text = " ".join((reason or "").split())
    if len(text) > 500:
        raise ValidationFailed("Please keep the reason under 500 characters.", field="reason")
    return text or None


def archive_learner(session: Session, actor: Actor, student_id: Any, *, reason: str | None = None) -> dict:
    """Archive a learner (they drop out of the active lists; their records stay). Audited."""
    student = _student_for_update(session, actor, student_id)
    if student.status == "archived":
        raise InvalidState("This learner is already archived.")
    before = student.status
    student.status = "archived"
    session.add(student)
    session.flush()
    record_event(session, actor, "STUDENT_ARCHIVED", subject_type="student", subject_id=student.id,
                 details={"from": before, "reason": _reason(reason)})
    return {"id": str(student.id), "status": student.status}


def restore_learner(session: Session, actor: Actor, student_id: Any) -> dict:
    """Bring an archived learner back to the active list. Audited."""
    student = _student_for_update(session, actor, student_id)
    if student.status != "archived":
        raise InvalidState("Only an archived learner can be restored.")
    student.status = "active"
    session.add(student)
    session.flush()
    record_event(session, actor, "STUDENT_RESTORED", subject_type="student", subject_id=student.id)
    return {"id": str(student.id), "status": student.status}


def transfer_learner(session: Session, actor: Actor, student_id: Any, *, instructor_id: Any,
                     reason: str | None = None) -> dict:
    """Give the learner to another (active) instructor. Audited. Lessons already booked stay with the
    instructor who has them in their diary; the answer says how many, so the office can move them."""
    student = _student_for_update(session, actor, student_id)
    target = _uuid(instructor_id, "instructor_id")
    instructor = session.get(Instructor, target) if target else None
    if instructor is None or instructor.status != "active":
        raise ValidationFailed("Please choose an active instructor.", field="instructor_id")
    if instructor.id == student.instructor_id:
        raise ValidationFailed("The learner already has this instructor.", field="instructor_id")
    before = student.instructor_id
    student.instructor_id = instructor.id
    session.add(student)
    session.flush()
    upcoming = session.execute(sa.text("""
        SELECT count(*) FROM bookings WHERE student_id = :sid AND instructor_id = :old
          AND status IN ('confirmed', 'pending') AND start_time > :now"""),
        {"sid": student.id, "old": before, "now": clock.now(session)}).scalar_one()
    record_event(session, actor, "STUDENT_TRANSFERRED", subject_type="student", subject_id=student.id,
                 details={"from_instructor_id": str(before), "to_instructor_id": str(instructor.id),
                          "reason": _reason(reason), "upcoming_with_previous": int(upcoming)})
    return {"id": str(student.id), "instructor_id": str(instructor.id), "upcoming_with_previous": int(upcoming)}


__all__ = ["LAST_LESSON_FILTERS", "archive_learner", "instructor_choices", "learner_record", "restore_learner",
           "search_learners", "transfer_learner"]
