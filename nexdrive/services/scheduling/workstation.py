"""The instructor's workstation (a phone in a parked car): the day sheet and the week, each learner's
progress snapshot, and a lesson recorded and signed on the phone handed in whole (possibly long after,
from the phone's outbox).

* ``snapshot``: everything the phone keeps for a day without signal: the instructor's lessons from
  today for a week (next first), the lessons still "to record" (``to_record``: started in the last
  week, under way or ended, no lesson recorded yet, oldest first; so a 10:30 pm lesson is still there
  after midnight), who each learner is (a visitor's booking shows the name typed when
  booking), how to call them (+61 numbers), and per learner the competency matrix as the compliance
  engine reports it (status, can_assess, why a task is locked), the tasks in progress and next, the last
  bridge form's focus areas and the latest self-assessment. Scoped to the instructor's own bookings and
  learners (``core.access``).
* ``submit_lesson``: one lesson from the phone in one transaction: the compliance engine records it
  under the phone-made ``client_id`` (the same id twice is one lesson), the instructor's and then the
  learner's signature (``compliance.lessons.sign_lesson``), the bridge form, and the booking is marked
  completed. A refusal (the engine's rules, applied again at sync) leaves nothing written.

The rules are the compliance engine's; nothing here decides whether a task may be assessed.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.errors import Forbidden, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_day, au_time, e164_au_phone, format_au_phone
from nexdrive.models import Booking, Lesson, LessonBridgeForm
from nexdrive.services.compliance import bridge_forms, competencies, logbook, private_notes
from nexdrive.services.compliance import lessons as lesson_records
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor

DAYS = 7
TO_RECORD_DAYS = 7  # how far back an unrecorded lesson stays on the sheet
SHOWN_STATUSES = ("confirmed", "in_progress", "completed")
STATUS_LABELS = {"not_started": "Not started", "taught": "Taught", "assessed": "Assessed",
                 "competent": "Achieved", "not_yet_competent": "Not yet competent"}
MARKS = ("taught", "assessed", "achieved")
QUICK_PHRASES = (
    "Good observation at intersections.",
    "Check mirrors before changing lanes.",
    "Smooth braking and steering.",
    "Keep a safe following distance.",
    "Confident in traffic.",
    "Needs more practice with reverse parking.",
    "Watch speed in school zones.",
)
MAX_TEXT = 2000


# ─────────────────────────────────────────────────────────────────────────────
# Reading: the day sheet, the week and the snapshots
# ─────────────────────────────────────────────────────────────────────────────


def _require_instructor(actor: Actor) -> uuid.UUID:
    access.require_signed_in(actor)
    if not actor.is_instructor or actor.instructor_id is None:
        raise Forbidden("The workstation is for instructors.")
    return actor.instructor_id


def _people(session: Session, student_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    if not student_ids:
        return {}
    rows = session.execute(sa.text("""
        SELECT s.id, s.transmission, p.first_name, p.last_name, p.phone
        FROM students s JOIN profiles p ON p.id = s.profile_id WHERE s.id = ANY(:ids)"""),
        {"ids": list(student_ids)}).all()
    return {r.id: {"name": f"{r.first_name or ''} {r.last_name or ''}".strip(), "phone": r.phone,
                   "transmission": r.transmission} for r in rows}


def _contacts(session: Session, contact_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    if not contact_ids:
        return {}
    rows = session.execute(sa.text("SELECT id, first_name, last_name, phone FROM contacts WHERE id = ANY(:ids)"),
                           {"ids": list(contact_ids)}).all()
    return {r.id: {"name": f"{r.first_name or ''} {r.last_name or ''}".strip(), "phone": r.phone} for r in rows}


def _service_names(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.execute(sa.text("SELECT id, name FROM services")).all())


def _lesson_row(b: Booking, *, people: dict, contacts: dict, services: dict) -> dict[str, Any]:
    person = people.get(b.student_id) or {}
    contact = contacts.get(b.contact_id) or {}
    name = person.get("name") or (b.booker_name or "").strip() or contact.get("name") or "Learner (no name given)"
    phone = e164_au_phone(person.get("phone") or b.booker_phone or contact.get("phone"))
    start, end = b.start_time.astimezone(BUSINESS_TZ), b.end_time.astimezone(BUSINESS_TZ)
    pickup = ", ".join(p for p in ((b.pickup_address or "").strip(), (b.suburb or "").strip()) if p)
    return {
        "booking_id": str(b.id), "student_id": str(b.student_id) if b.student_id else "",
        "learner_name": name, "is_visitor": b.student_id is None,
        "phone": phone, "phone_label": format_au_phone(phone),
        "start": start.isoformat(), "end": end.isoformat(), "day": start.date().isoformat(),
        "day_label": au_date(start.date(), year=False), "time_label": f"{au_time(start)} \u2013 {au_time(end)}",
        "when_label": f"{au_day(start)}, {au_time(start)} \u2013 {au_time(end)}",
        "minutes": b.duration_minutes, "pickup": pickup, "suburb": (b.suburb or "").strip(),
        "service": services.get(b.service_id, "Lesson"), "status": b.status,
        "lesson_id": str(b.lesson_id) if b.lesson_id else "",
    }


def _to_record(session: Session, actor: Actor, now: datetime) -> list[Booking]:
    """The lessons that have started (in progress, or confirmed and ended) in the last ``TO_RECORD_DAYS``
    days with no lesson recorded yet, oldest first; times compared as instants, whatever the date."""
    recorded = sa.select(Lesson.id).where(Lesson.booking_id == Booking.id).exists()
    query = (select(Booking).where(
        Booking.start_time >= now - timedelta(days=TO_RECORD_DAYS), Booking.start_time <= now,
        sa.or_(Booking.status == "in_progress", sa.and_(Booking.status == "confirmed", Booking.end_time <= now)),
        Booking.lesson_id.is_(None), ~recorded)
        .order_by(Booking.start_time, Booking.id))
    query = access.scope(session, actor, query, student_col=Booking.student_id, instructor_col=Booking.instructor_id,
                         resource="bookings", what="bookings")
    return list(session.exec(query).all())


def _bookings(session: Session, actor: Actor, first: date, last: date) -> list[Booking]:
    query = (select(Booking).where(Booking.scheduled_date >= first, Booking.scheduled_date <= last,
                                   Booking.status.in_(SHOWN_STATUSES))
             .order_by(Booking.start_time, Booking.id))
    query = access.scope(session, actor, query, student_col=Booking.student_id, instructor_col=Booking.instructor_id,
                         resource="bookings", what="bookings")
    return list(session.exec(query).all())


def _task_label(n: int) -> str:
    return {competencies.REVIEW_1: "Review 1", competencies.REVIEW_2: "Review 2"}.get(n, f"task {n}")


def _task_rows(matrix: dict) -> list[dict[str, Any]]:
    out = []
    for r in matrix["competencies"]:
        reasons = []
        for b in r["blocked_by"]:
            text = b["message"]
            if b["rule"] in ("PREREQUISITES", "REVIEW_TASKS") and b["tasks"]:
                text += " (still to do: " + ", ".join(_task_label(n) for n in b["tasks"]) + ")"
            if b.get("opens_at"):
                text += f" (from {au_date(b['opens_at'], year=False)} {au_time(b['opens_at'])})"
            reasons.append(text)
        out.append({"n": r["task_number"], "name": r["task_name"], "kind": r["kind"],
                    "stage": r["category"] or ("Reviews" if r["kind"] == "review" else "Tasks"),
                    "status": r["status"], "status_label": STATUS_LABELS.get(r["status"], r["status"]),
                    "can_assess": bool(r["can_assess"]), "locked": "; ".join(reasons)})
    return out


def _focus_and_self_assessment(session: Session, student_id: uuid.UUID) -> tuple[str, str]:
    focus = session.execute(sa.text(
        "SELECT focus_areas FROM lesson_bridge_forms WHERE student_id = :s ORDER BY created_at DESC LIMIT 1"),
        {"s": student_id}).scalar() or ""
    sa_row = session.execute(sa.text(
        "SELECT assessment_type, responses, completed_at FROM self_assessments WHERE student_id = :s "
        "AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT 1"), {"s": student_id}).first()
    self_assessment = ""
    if sa_row is not None:
        low = [f"task {r.get('task_number')}" for r in (sa_row.responses or [])
               if isinstance(r, dict) and isinstance(r.get("confidence"), int) and r["confidence"] <= 2]
        self_assessment = f"Self-assessment {au_date(sa_row.completed_at, year=False)}" + (
            ": least confident in " + ", ".join(low[:4]) if low else ": confident overall")
    return focus, self_assessment


def learner_snapshot(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """One learner's progress for the phone: the engine's matrix (with why each locked task is locked),
    current and next tasks, the last focus areas and self-assessment."""
    matrix = competencies.matrix_dict(competencies.student_matrix(session, actor, student_id))
    tasks = _task_rows(matrix)
    names = {t["n"]: t["name"] for t in tasks}
    current = [f"{t['n']}. {t['name']}" for t in tasks
               if t["status"] in ("taught", "assessed", "not_yet_competent")][:4]
    working = {t["n"] for t in tasks if t["status"] in ("taught", "assessed", "not_yet_competent")}
    upcoming = [f"{n}. {names.get(n, '')}" for n in matrix["next_tasks"] if n not in working][:3]
    focus, self_assessment = _focus_and_self_assessment(session, student_id)
    summary = matrix["summary"]
    return {"student_id": str(student_id), "transmission": matrix["transmission"], "tasks": tasks,
            "competent": summary["competent"], "total": summary["total"], "current": current, "next": upcoming,
            "focus": focus, "self_assessment": self_assessment}


def snapshot(session: Session, actor: Actor, *, days: int = DAYS) -> dict[str, Any]:
    """The phone's copy of the instructor's week: lessons from today (next first), the lessons still to
    record (oldest first), learners, snapshots."""
    _require_instructor(actor)
    now = clock.now(session)
    today = now.astimezone(BUSINESS_TZ).date()
    bookings = _bookings(session, actor, today, today + timedelta(days=max(1, min(days, 14)) - 1))
    pending = _to_record(session, actor, now)
    pending_ids = {b.id for b in pending}
    learners = access.list_students(session, actor, limit=200)
    people = _people(session, {b.student_id for b in [*bookings, *pending] if b.student_id}
                     | {uuid.UUID(str(s["id"])) for s in learners})
    contacts = _contacts(session, {b.contact_id for b in [*bookings, *pending] if b.contact_id and not b.student_id})
    services = _service_names(session)
    rows = [_lesson_row(b, people=people, contacts=contacts, services=services) for b in bookings]
    to_record = [_lesson_row(b, people=people, contacts=contacts, services=services) for b in pending]
    upcoming = [b for b in bookings if b.scheduled_date == today and b.end_time > now and not b.lesson_id
                and b.status != "completed" and b.id not in pending_ids]
    next_id = str(upcoming[0].id) if upcoming else ""
    snapshots = {str(sid): learner_snapshot(session, actor, sid) for sid in people}
    me = session.execute(sa.text("SELECT p.first_name || ' ' || p.last_name FROM instructors i "
                                 "JOIN profiles p ON p.id = i.profile_id WHERE i.id = :i"),
                         {"i": actor.instructor_id}).scalar() or ""
    return {
        "generated_at": now.isoformat(), "instructor_name": me, "today": today.isoformat(),
        "today_label": au_date(today),
        "next_booking_id": next_id, "lessons": rows, "to_record": to_record,
        "learners": sorted(({"student_id": str(sid), "name": p["name"], "phone": e164_au_phone(p["phone"]),
                             "transmission": p["transmission"]} for sid, p in people.items()),
                           key=lambda x: x["name"].lower()),
        "snapshots": snapshots, "quick_phrases": list(QUICK_PHRASES),
    }


def today_sheet(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The day sheet top to bottom: "To record" (started in the last week, not yet recorded, oldest
    first; ``section`` 'to_record'), then today's other lessons, the next one first (``section`` 'today').
    A lesson is on it once: today's ended, unrecorded lesson is under "To record"."""
    data = snapshot(session, actor, days=1)
    pending = [{**r, "section": "to_record"} for r in data["to_record"]]
    listed = {r["booking_id"] for r in pending}
    rows = [{**r, "section": "today"} for r in data["lessons"]
            if r["day"] == data["today"] and r["booking_id"] not in listed]
    rows.sort(key=lambda r: (r["booking_id"] != data["next_booking_id"], r["start"]))
    return pending + rows


# ─────────────────────────────────────────────────────────────────────────────
# Writing: a lesson handed in whole from the phone
# ─────────────────────────────────────────────────────────────────────────────


def _uuid(value: Any, field: str, *, required: bool = True) -> uuid.UUID | None:
    if value in (None, "") and not required:
        return None
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise ValidationFailed("That id is not valid.", field=field) from None


def _instant(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed("Please enter the time like 09:30.", field=field) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=BUSINESS_TZ)


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationFailed("Please enter the odometer reading in whole kilometres.", field=field) from None


def _text(value: Any) -> str | None:
    text = str(value or "").strip()
    return text[:MAX_TEXT] or None


def _marks(value: Any) -> dict[int, str]:
    if not isinstance(value, dict):
        raise ValidationFailed("The tasks are not in the expected form.", field="tasks")
    out = {}
    for k, v in value.items():
        if v in (None, "", "none"):
            continue
        if v not in MARKS:
            raise ValidationFailed("Each task is taught, assessed or achieved.", field="tasks")
        try:
            out[int(k)] = v
        except ValueError:
            raise ValidationFailed("The tasks are not in the expected form.", field="tasks") from None
    return out


def _skills(session: Session, marks: dict[int, str]) -> list[dict[str, Any]]:
    names = dict(session.execute(sa.text("SELECT task_number, name FROM competency_tasks")).all())
    label = {"taught": "Taught", "assessed": "Assessed", "achieved": "Achieved"}
    return [{"task_number": n, "task_name": names.get(n, f"Task {n}"), "status": label[m]}
            for n, m in sorted(marks.items())]


def submit_lesson(session: Session, actor: Actor, record: dict[str, Any]) -> dict[str, Any]:
    """Record, sign twice and write the bridge form for one lesson made on the phone, once per
    ``client_id``: a second submission of the same id returns the lesson the first made."""
    _require_instructor(actor)
    client_id = _uuid(record.get("client_id"), "client_id")
    student_id = _uuid(record.get("student_id"), "student_id")
    booking_id = _uuid(record.get("booking_id"), "booking_id", required=False)
    marks = _marks(record.get("tasks") or {})
    transmission = record.get("transmission") or session.execute(
        sa.text("SELECT transmission FROM students WHERE id = :s"), {"s": student_id}).scalar() or "auto"
    achieved = [n for n, m in marks.items() if m == "achieved"]
    recorded = lesson_records.record_lesson(
        session, actor, student_id=student_id, booking_id=booking_id, client_id=client_id,
        start_time=_instant(record.get("start_time"), "start_time"),
        end_time=_instant(record.get("end_time"), "end_time"), transmission=transmission,
        odo_start=_int(record.get("odo_start"), "odo_start"), odo_end=_int(record.get("odo_end"), "odo_end"),
        location_suburb=_text(record.get("suburb")), comments=_text(record.get("comments")),
        competencies_taught=sorted(n for n, m in marks.items() if m == "taught"),
        competencies_assessed=sorted(n for n, m in marks.items() if m in ("assessed", "achieved")),
        competencies_achieved_manual=sorted(achieved) if transmission == "manual" else [],
        competencies_achieved_auto=sorted(achieved) if transmission != "manual" else [],
        device_info={"source": "workstation", "recorded_offline": bool(record.get("offline"))})
    lesson_id = uuid.UUID(str(recorded["id"]))
    status = recorded.get("status")
    if not recorded.get("created") and status == "completed":
        return _result(recorded, client_id, created=False, bridge_form_id=_bridge_form_id(session, lesson_id))
    device_time = _instant(record.get("signed_at"), "signed_at")
    if status == "draft":
        if not record.get("instructor_signature"):
            raise ValidationFailed("The instructor's signature is missing.", field="instructor_signature")
        lesson_records.sign_lesson(session, actor, lesson_id, signature_image=record["instructor_signature"],
                                   signer_role="instructor", device_time=device_time)
    if not record.get("learner_signature"):
        raise ValidationFailed("The learner's signature is missing.", field="learner_signature")
    # No autoflush inside: sign_lesson sets status 'completed' and then reads the clock (a query) before
    # setting signed_at; an autoflush between the two would update a signed row (append-only trigger).
    with session.no_autoflush:
        signed = lesson_records.sign_lesson(session, actor, lesson_id, signature_image=record["learner_signature"],
                                            signer_role="student", device_time=device_time)
    exists = session.exec(select(LessonBridgeForm.id).where(LessonBridgeForm.lesson_id == lesson_id)).first()
    if exists is None:
        session.add(LessonBridgeForm(
            lesson_id=lesson_id, student_id=student_id, instructor_id=actor.instructor_id,
            skills_covered=_skills(session, marks), positives=_text(record.get("went_well")),
            practice_instructions=_text(record.get("practise")), focus_areas=_text(record.get("focus")),
            next_lesson_recommendation=_text(record.get("next_lesson"))))
    if _text(record.get("private_note")):  # only the instructor and the office ever see it
        private_notes.add_note(session, actor, student_id=student_id, note=_text(record["private_note"]),
                               note_type=record.get("private_note_type") or "lesson_specific", lesson_id=lesson_id)
    if booking_id is not None:
        booking = session.get(Booking, booking_id)
        if booking is not None and booking.status in ("confirmed", "in_progress"):
            booking.status = "completed"
            session.add(booking)
    session.flush()
    audit.record_event(session, actor, "lesson.submitted_from_workstation", subject_type="lesson",
                       subject_id=lesson_id, details={"client_id": str(client_id)})
    form_id = _bridge_form_id(session, lesson_id)
    result = _result(signed["lesson"], client_id, created=True, bridge_form_id=form_id)
    if record.get("send_bridge_form") and form_id:  # tapped "Send the bridge form" while offline
        result["bridge_form_sent"] = bridge_forms.send_bridge_form(session, actor, uuid.UUID(form_id))["messages"]
    return result


def _bridge_form_id(session: Session, lesson_id: uuid.UUID) -> str:
    form_id = session.exec(select(LessonBridgeForm.id).where(LessonBridgeForm.lesson_id == lesson_id)).first()
    return str(form_id) if form_id else ""


def _result(lesson: dict, client_id: uuid.UUID, *, created: bool, bridge_form_id: str = "") -> dict[str, Any]:
    return {"client_id": str(client_id), "lesson_id": str(lesson["id"]), "lesson_number": lesson.get("lesson_number"),
            "status": lesson.get("status"), "created": created, "bridge_form_id": bridge_form_id}


# ─────────────────────────────────────────────────────────────────────────────
# The learner's page for the instructor (/instructor/learner?id=)
# ─────────────────────────────────────────────────────────────────────────────

SIGNER = {"instructor": "Instructor", "student": "Learner"}


def _lesson_line(lesson: dict[str, Any]) -> dict[str, Any]:
    start, end = lesson["start_time"], lesson["end_time"]
    sigs = [{"role": SIGNER.get(s["signer_role"], s["signer_role"]), "id": str(s["id"]),
             "when": f"{au_date(s['signed_at'], year=False)}, {au_time(s['signed_at'])}",
             "image_url": f"/api/v1/signatures/{s['id']}/image"} for s in lesson.get("signatures") or []]
    return {"id": str(lesson["id"]), "number": str(lesson["lesson_number"]),
            "when": f"{au_date(start)}, {au_time(start)} \u2013 {au_time(end)}",
            "minutes": str(lesson.get("total_minutes") or ""), "status": str(lesson["status"]),
            "taught": ", ".join(str(n) for n in lesson.get("competencies_taught") or []),
            "assessed": ", ".join(str(n) for n in lesson.get("competencies_assessed") or []),
            "comments": lesson.get("comments") or "", "signatures": sigs}


def _self_assessments(session: Session, student_id: uuid.UUID) -> list[dict[str, str]]:
    labels = {"pre_review_1_17": "Before Review 1", "pre_review_1_22": "Before Review 2",
              "pre_final_drive": "Before the final drive", "general": "General"}
    rows = session.execute(sa.text(
        "SELECT id, assessment_type, responses, completed_at FROM self_assessments WHERE student_id = :s "
        "AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT 20"), {"s": student_id}).all()
    out = []
    for r in rows:
        answers = [x for x in (r.responses or []) if isinstance(x, dict)]
        low = [str(x.get("task_number")) for x in answers
               if isinstance(x.get("confidence"), int) and x["confidence"] <= 2]
        out.append({"id": str(r.id), "kind": labels.get(r.assessment_type, r.assessment_type),
                    "when": au_date(r.completed_at), "answers": str(len(answers)),
                    "least_confident": ", ".join(f"task {n}" for n in low) or "none"})
    return out


def learner_page(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """Everything the instructor needs about one of their learners: the engine's competency matrix, lessons
    with their signatures, log-book hours, bridge forms, their own private notes, self-assessments and
    upcoming bookings. An instructor sees only their own learners (the office sees any)."""
    access.require_signed_in(actor)
    if not (actor.sees_everything or (actor.is_instructor and actor.instructor_id is not None)):
        raise Forbidden("This page is for instructors.")
    access.require_student(session, actor, student_id, "lessons")
    person = _people(session, {student_id}).get(student_id, {})
    matrix = competencies.matrix_dict(competencies.student_matrix(session, actor, student_id))
    hours = logbook.logbook_summary(session, actor, student_id)
    now = clock.now(session)
    bookings = [b for b in access.list_bookings(session, actor, student_id=student_id, limit=50)
                if b["end_time"] > now and b["status"] in ("confirmed", "in_progress", "held")]
    bookings.sort(key=lambda b: b["start_time"])
    services = _service_names(session)
    history = lesson_records.lesson_history(session, actor, student_id)
    history.reverse()
    return {
        "student_id": str(student_id), "name": person.get("name") or "Learner",
        "phone": e164_au_phone(person.get("phone")), "phone_label": format_au_phone(e164_au_phone(person.get("phone"))),
        "transmission": matrix["transmission"], "competent": matrix["summary"]["competent"],
        "total": matrix["summary"]["total"], "tasks": _task_rows(matrix),
        "lessons": [_lesson_line(x) for x in history],
        "hours": {"total": hours["total_hours"], "night": hours["night_hours"],
                  "target": hours["target_total_hours"], "target_night": hours["target_night_hours"],
                  "credited": hours["credited_hours"], "supervised": hours["supervised_hours"],
                  "remaining": hours["remaining_hours"], "lessons": hours["lessons"], "drives": hours["drives"]},
        "bridge_forms": [{"id": f["id"], "when": f["lesson_date_label"], "focus": f["focus"],
                          "url": f["page_url"], "pdf_url": f["pdf_url"]}
                         for f in bridge_forms.list_bridge_forms(session, actor, student_id)],
        "notes": private_notes.list_notes(session, actor, student_id=student_id),
        "note_types": [{"value": k, "label": v} for k, v in private_notes.NOTE_TYPE_LABELS.items()],
        "self_assessments": _self_assessments(session, student_id),
        "upcoming": [{"booking_id": str(b["id"]),
                      "when": f"{au_date(b['start_time'])}, {au_time(b['start_time'])} \u2013 {au_time(b['end_time'])}",
                      "service": services.get(b["service_id"], "Lesson"), "status": b["status"],
                      "record_url": f"/instructor/lesson/new?booking={b['id']}"} for b in bookings],
    }
