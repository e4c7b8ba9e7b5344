"""Lesson records: record, edit a draft, sign (instructor, then learner), correct, dispute, read.

* ``record_lesson``: from a booking or standalone, by the learner's instructor (or the office). The
  lesson number comes from the learner's counter row (``lesson_counters``), incremented in the same
  transaction, so two devices at once get consecutive numbers and nothing is skipped. A device may send
  its own id (``client_id``): the same id twice returns the first record (offline sync exactly once).
  Every competency listed is checked against the rules (``competencies``) before anything is written.
* ``update_draft``: only the lesson's instructor, only while it is a draft.
* ``sign_lesson``: the instructor signs the draft (it is then frozen), then the learner (on their own
  account or on the instructor's device). Both signatures bind the SHA-256 of the lesson's canonical
  content. On the learner's signature the lesson is ``completed`` and its competency changes are appended
  to the learner's chain, each pointing at the lesson and the learner's signature.
* ``correct_lesson``: a new record (``correction_of``, a reason) with the same number, signed again by
  both; when signed it replaces the original in the matrix and resolves any dispute of it.
* ``dispute_lesson``: the learner, within 7 days of signing, with a reason: the lesson becomes
  ``disputed`` and the office and the instructor are told.
* ``get_lesson`` / ``lesson_history``: for whoever may see the learner's lessons, with the versions,
  signatures and disputes; private notes are never part of a lesson.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters.storage import Storage
from nexdrive.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.formats import au_date
from nexdrive.models import (
    Booking,
    CompetencyTask,
    Instructor,
    Lesson,
    LessonDispute,
    Profile,
    Signature,
    Student,
    StudentCompetency,
)
from nexdrive.services.compliance import competencies as rules
from nexdrive.services.compliance import signatures as sigs
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.messaging import admin_alerts, notify

BUSINESS_TZ = rules.BUSINESS_TZ
SIGNED = ("completed", "disputed")
DISPUTE_DAYS = 7
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=730)
MIN_MINUTES, MAX_MINUTES = 5, 12 * 60
MAX_ODOMETER = 2_000_000
MAX_KM = 2_000
LIMITS = {"location_suburb": 100, "location_detail": 300, "comments": 4000, "reason": 1000}
EDITABLE = ("start_time", "end_time", "odo_start", "odo_end", "location_suburb", "location_detail", "comments",
            "competencies_taught", "competencies_assessed", "competencies_achieved_manual",
            "competencies_achieved_auto", "transmission")


# ─────────────────────────────────────────────────────────────────────────────
# Input checks (all before anything is written)
# ─────────────────────────────────────────────────────────────────────────────


def _text(value: Any, field: str, *, limit: int, required: bool = False, multiline: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"Please give a {field.replace('_', ' ')}.", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"The {field.replace('_', ' ')} must be text.", field=field)
    text = value.strip()
    if len(text) > limit:
        raise ValidationFailed(f"The {field.replace('_', ' ')} is at most {limit} characters.", field=field,
                               limit=limit)
    allowed = "\n\t\r" if multiline else ""
    if any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in text):
        raise ValidationFailed(f"The {field.replace('_', ' ')} contains control characters.", field=field)
    return text


def _tasks(value: Any, field: str) -> list[int]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationFailed("Task numbers must be a list of numbers.", field=field)
    out = set()
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationFailed("Task numbers must be whole numbers.", field=field)
        out.add(v)
    return sorted(out)


def _times(start: Any, end: Any, now: datetime) -> tuple[datetime, datetime]:
    for name, v in (("start_time", start), ("end_time", end)):
        if not isinstance(v, datetime) or v.tzinfo is None:
            raise ValidationFailed("Lesson times need a date, a time and a time zone.", field=name)
    # Compare instants, not wall times: two datetimes in the same zone compare by wall clock in Python, so
    # 02:36 → 03:06 on the October DST Sunday would pass while it ends 30 minutes before it starts.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValidationFailed("The lesson must end after it starts.", field="end_time")
    minutes = (end - start).total_seconds() / 60
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationFailed(f"A lesson lasts between {MIN_MINUTES} minutes and {MAX_MINUTES // 60} hours.",
                               field="end_time")
    if end > now + FUTURE_TOLERANCE:
        raise ValidationFailed("A lesson can't be recorded before it has happened.", field="end_time")
    if start < now - MAX_AGE:
        raise ValidationFailed("That lesson is too long ago to record here.", field="start_time")
    return start, end


def _odometer(odo_start: Any, odo_end: Any) -> tuple[int | None, int | None]:
    for name, v in (("odo_start", odo_start), ("odo_end", odo_end)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_ODOMETER):
            raise ValidationFailed(f"Odometer readings are whole kilometres up to {MAX_ODOMETER:,}.", field=name)
    if odo_start is not None and odo_end is not None:
        if odo_end < odo_start:
            raise ValidationFailed("The odometer at the end is less than at the start.", field="odo_end")
        if odo_end - odo_start > MAX_KM:
            raise ValidationFailed(f"A lesson covers at most {MAX_KM:,} km.", field="odo_end")
    return odo_start, odo_end


def _competency_lists(catalogue: rules.Catalogue, transmission: str, fields: dict) -> dict[str, list[int]]:
    lists = {k: _tasks(fields.get(k), k) for k in ("competencies_taught", "competencies_assessed",
                                                     "competencies_achieved_manual", "competencies_achieved_auto")}
    unknown = sorted({n for v in lists.values() for n in v if n not in catalogue.tasks})
    if unknown:
        raise ValidationFailed("There is no task " + ", ".join(map(str, unknown)) + " in the CBT&A catalogue.",
                               field="competencies", tasks=unknown)
    not_teachable = [n for n in lists["competencies_taught"] if catalogue.tasks[n].kind == "review"]
    if not_teachable:
        raise ValidationFailed("Reviews are assessed, not taught.", field="competencies_taught",
                               tasks=not_teachable)
    manual, auto = set(lists["competencies_achieved_manual"]), set(lists["competencies_achieved_auto"])
    assessed = set(lists["competencies_assessed"])
    if manual & auto:
        raise ValidationFailed("A task is achieved in one transmission per lesson.", field="competencies",
                               tasks=sorted(manual & auto))
    if not (manual | auto) <= assessed:
        raise ValidationFailed("A task can only be achieved in a lesson that assesses it.",
                               field="competencies", tasks=sorted((manual | auto) - assessed))
    wrong = manual if transmission == "auto" else auto
    if wrong:
        raise ValidationFailed(f"This lesson was in a{'n automatic' if transmission == 'auto' else ' manual'} car: "
                               "achievements are recorded for that transmission.", field="competencies",
                               tasks=sorted(wrong))
    return lists


def _check(session: Session, *, student_id: uuid.UUID, fields: dict, exclude: Iterable[uuid.UUID] = ()
           ) -> dict[str, Any]:
    """Validated, normalised lesson fields; the competency rules applied (COMPETENCY_LOCKED)."""
    now = clock.now(session)
    start, end = _times(fields.get("start_time"), fields.get("end_time"), now)
    odo_start, odo_end = _odometer(fields.get("odo_start"), fields.get("odo_end"))
    transmission = fields.get("transmission") or "auto"
    if transmission not in rules.TRANSMISSIONS:
        raise ValidationFailed("Transmission must be manual or auto.", field="transmission")
    catalogue = rules.load_catalogue(session)
    lists = _competency_lists(catalogue, transmission, fields)
    out = dict(start_time=start, end_time=end, odo_start=odo_start, odo_end=odo_end, transmission=transmission,
               location_suburb=_text(fields.get("location_suburb"), "location_suburb",
                                     limit=LIMITS["location_suburb"]),
               location_detail=_text(fields.get("location_detail"), "location_detail",
                                     limit=LIMITS["location_detail"]),
               comments=_text(fields.get("comments"), "comments", limit=LIMITS["comments"], multiline=True),
               **lists)
    blocked = rules.lesson_blockers(session, student_id=student_id, transmission=transmission, start=start,
                                    end=end, taught=lists["competencies_taught"],
                                    assessed=lists["competencies_assessed"], exclude_lessons=exclude,
                                    catalogue=catalogue)
    rules.raise_if_blocked(catalogue, blocked)
    return out


def _apply(lesson: Lesson, values: dict[str, Any]) -> None:
    for k, v in values.items():
        setattr(lesson, k, v)
    lesson.lesson_date = lesson.start_time.astimezone(BUSINESS_TZ).date()
    lesson.total_minutes = max(1, round((lesson.end_time - lesson.start_time).total_seconds() / 60))


def lesson_document(lesson: Lesson) -> dict[str, Any]:
    """What a signature binds: the lesson's facts (not its status or signatures)."""
    return {
        "id": lesson.id, "student_id": lesson.student_id, "instructor_id": lesson.instructor_id,
        "booking_id": lesson.booking_id, "lesson_number": lesson.lesson_number, "lesson_date": lesson.lesson_date,
        "start_time": lesson.start_time, "end_time": lesson.end_time, "total_minutes": lesson.total_minutes,
        "odo_start": lesson.odo_start, "odo_end": lesson.odo_end, "transmission": lesson.transmission,
        "competencies_taught": sorted(lesson.competencies_taught or []),
        "competencies_assessed": sorted(lesson.competencies_assessed or []),
        "competencies_achieved_manual": sorted(lesson.competencies_achieved_manual or []),
        "competencies_achieved_auto": sorted(lesson.competencies_achieved_auto or []),
        "location_suburb": lesson.location_suburb, "location_detail": lesson.location_detail,
        "comments": lesson.comments, "correction_of": lesson.correction_of,
        "correction_reason": lesson.correction_reason,
    }


def lesson_sha256(lesson: Lesson) -> str:
    return sigs.document_hash(lesson_document(lesson))


# ─────────────────────────────────────────────────────────────────────────────
# Recording
# ─────────────────────────────────────────────────────────────────────────────


def _next_number(session: Session, student_id: uuid.UUID) -> int:
    return session.execute(sa.text("""
        INSERT INTO lesson_counters (student_id, last_number)
        VALUES (:s, COALESCE((SELECT max(lesson_number) FROM lessons WHERE student_id = :s), 0) + 1)
        ON CONFLICT (student_id) DO UPDATE SET last_number = lesson_counters.last_number + 1
        RETURNING last_number"""), {"s": student_id}).scalar_one()


def _lock_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID) -> Lesson:
    access.require_signed_in(actor)
    lesson = session.exec(select(Lesson).where(Lesson.id == lesson_id).with_for_update()).first()
    access.require_visible(actor, lesson, lesson is not None and access.may_see_lesson(session, actor, lesson),
                           "lesson")
    return lesson


def record_lesson(session: Session, actor: Actor, *, student_id: uuid.UUID, start_time: datetime | None = None,
                  end_time: datetime | None = None, booking_id: uuid.UUID | None = None,
                  client_id: uuid.UUID | None = None, transmission: str | None = None,
                  odo_start: int | None = None, odo_end: int | None = None, location_suburb: str | None = None,
                  location_detail: str | None = None, comments: str | None = None,
                  competencies_taught: Sequence[int] = (), competencies_assessed: Sequence[int] = (),
                  competencies_achieved_manual: Sequence[int] = (), competencies_achieved_auto: Sequence[int] = (),
                  device_info: dict | None = None, gps_latitude: Any = None, gps_longitude: Any = None
                  ) -> dict[str, Any]:
    """A new draft lesson (or, for a ``client_id`` seen before, the lesson it made)."""
    access.require_signed_in(actor)
    if not access.may_record_lessons_for(session, actor, student_id):
        raise Forbidden("Only the learner's instructor records their lessons.")
    if client_id is not None:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"lesson_client:{client_id}"})
        existing = session.exec(select(Lesson).where(Lesson.client_id == client_id)).first()
        if existing is not None:
            if existing.student_id != student_id or not access.may_see_lesson(session, actor, existing):
                raise InvalidState("That lesson id is already used by another lesson.", field="client_id")
            return {**lesson_view(session, actor, existing), "created": False}
    student = session.get(Student, student_id)
    if student is None:
        raise NotFound("No such student.")
    booking = None
    if booking_id is not None:
        booking = session.exec(select(Booking).where(Booking.id == booking_id).with_for_update()).first()
        if booking is None or booking.student_id != student_id:
            raise ValidationFailed("That booking is not this learner's.", field="booking_id")
        if booking.status in ("cancelled", "held", "expired", "no_show", "rescheduled"):
            raise InvalidState("That booking was not a lesson that took place.", field="booking_id")
        taken = session.exec(select(Lesson.id).where(Lesson.booking_id == booking_id,
                                                     Lesson.correction_of.is_(None))).first()
        if taken is not None:
            raise InvalidState("A lesson is already recorded for that booking.", lesson_id=str(taken))
        start_time = start_time or booking.start_time
        end_time = end_time or booking.end_time
    instructor_id = actor.instructor_id if actor.is_instructor else (
        booking.instructor_id if booking is not None else student.instructor_id)
    if instructor_id is None:
        raise ValidationFailed("The learner has no instructor to record the lesson for.", field="instructor_id")
    if booking is not None and booking.instructor_id != instructor_id:
        raise ValidationFailed("That booking is with another instructor.", field="booking_id")
    gps = sigs.parse_gps(gps_latitude, gps_longitude)
    values = _check(session, student_id=student_id, fields=dict(
        start_time=start_time, end_time=end_time, odo_start=odo_start, odo_end=odo_end,
        transmission=transmission or student.transmission, location_suburb=location_suburb,
        location_detail=location_detail, comments=comments, competencies_taught=competencies_taught,
        competencies_assessed=competencies_assessed, competencies_achieved_manual=competencies_achieved_manual,
        competencies_achieved_auto=competencies_achieved_auto))
    lesson = Lesson(student_id=student_id, instructor_id=instructor_id, booking_id=booking_id, client_id=client_id,
                    lesson_number=_next_number(session, student_id), status="draft", device_info=device_info,
                    gps_latitude=gps.latitude if gps else None, gps_longitude=gps.longitude if gps else None,
                    lesson_date=values["start_time"].date(), total_minutes=1, **values)
    _apply(lesson, {})
    session.add(lesson)
    session.flush()
    if booking is not None and booking.lesson_id is None:
        booking.lesson_id = lesson.id
        session.add(booking)
        session.flush()
    audit.record_event(session, actor, "lesson.recorded", subject_type="lesson", subject_id=lesson.id,
                       details={"student_id": str(student_id), "lesson_number": lesson.lesson_number,
                                "client_id": str(client_id) if client_id else None})
    return {**lesson_view(session, actor, lesson), "created": True}


def update_draft(session: Session, actor: Actor, lesson_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    """Change a draft; only its instructor, only before anyone has signed it."""
    lesson = _lock_lesson(session, actor, lesson_id)
    if not access.is_lesson_instructor(actor, lesson):
        raise Forbidden("Only the lesson's instructor can edit it.")
    if lesson.status != "draft":
        raise InvalidState("This lesson has been signed and can no longer be edited; record a correction.")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("These fields can't be changed: " + ", ".join(sorted(unknown)) + ".",
                               fields=sorted(unknown))
    fields = {k: getattr(lesson, k) for k in EDITABLE}
    fields.update(changes)
    values = _check(session, student_id=lesson.student_id, fields=fields,
                    exclude=[lesson.correction_of] if lesson.correction_of else ())
    _apply(lesson, values)
    session.add(lesson)
    session.flush()
    audit.record_event(session, actor, "lesson.draft_updated", subject_type="lesson", subject_id=lesson.id,
                       details={"fields": sorted(changes)})
    return lesson_view(session, actor, lesson)


# ─────────────────────────────────────────────────────────────────────────────
# Signing
# ─────────────────────────────────────────────────────────────────────────────


def sign_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID, *, signature_image: str | bytes,
                signer_role: str | None = None, device_time: datetime | None = None, gps_latitude: Any = None,
                gps_longitude: Any = None, storage: Storage | None = None) -> dict[str, Any]:
    """The instructor signs the draft; then the learner (signed in, or on the instructor's device with
    ``signer_role='student'``). The learner's signature completes the lesson and writes its competency
    changes to the learner's chain."""
    lesson = _lock_lesson(session, actor, lesson_id)
    if access.is_lesson_learner(actor, lesson):
        role = "student"
        if signer_role not in (None, "student"):
            raise Forbidden("A learner signs as the learner.")
    elif access.is_lesson_instructor(actor, lesson):
        role = signer_role or "instructor"
        if role not in ("instructor", "student"):
            raise ValidationFailed("The signer is the instructor or the learner.", field="signer_role")
    else:
        raise Forbidden("Only the lesson's instructor and learner sign it.")
    image = sigs.decode_signature_image(signature_image)
    gps = sigs.parse_gps(gps_latitude, gps_longitude)
    if device_time is not None and device_time.tzinfo is None:
        raise ValidationFailed("The device time needs a time zone.", field="device_time")
    catalogue = rules.load_catalogue(session)
    exclude = [lesson.correction_of] if lesson.correction_of else []
    if role == "instructor":
        if lesson.status != "draft":
            raise InvalidState("The instructor has already signed this lesson.", lesson_status=lesson.status)
    elif lesson.status == "draft":
        raise InvalidState("The instructor signs the lesson first.", lesson_status=lesson.status)
    elif lesson.status != "pending_student_signature":
        raise InvalidState("This lesson is already signed.", lesson_status=lesson.status)
    # The rules again: another lesson may have been signed since this one was recorded.
    rules.raise_if_blocked(catalogue, rules.lesson_blockers(
        session, student_id=lesson.student_id, transmission=lesson.transmission, start=lesson.start_time,
        end=lesson.end_time, taught=lesson.competencies_taught, assessed=lesson.competencies_assessed,
        exclude_lessons=exclude, catalogue=catalogue))
    digest = lesson_sha256(lesson)
    if role == "student":
        first = session.get(Signature, lesson.instructor_signature_id)
        if first is None or first.document_sha256 != digest:
            raise InvalidState("The lesson changed after the instructor signed it; it can't be completed.")
        signer_id = session.get(Student, lesson.student_id).user_id
    else:
        signer_id = session.get(Instructor, lesson.instructor_id).user_id
    device_info = None
    if role == "student" and not access.is_lesson_learner(actor, lesson):
        device_info = {"captured_on": "instructor_device", "captured_by": str(actor.user_id)}
    signature = sigs.store_signature(
        session, signer_id=signer_id, signer_role=role, document_type="lesson", document_id=lesson.id,
        document_sha256=digest, image=image, device_time=device_time, ip_address=actor.ip_address,
        user_agent=actor.user_agent, gps=gps, device_info=device_info, storage=storage)
    signed_at = clock.now(session)  # read before the row changes (a query would flush it half-done)
    if role == "instructor":
        lesson.instructor_signature_id = signature.id
        lesson.status = "pending_student_signature"
    else:
        lesson.student_signature_id = signature.id
        lesson.status = "completed"
        lesson.signed_at = signed_at
    session.add(lesson)
    session.flush()
    if role == "student":
        _write_chain(session, lesson, signature)
        if lesson.correction_of:
            _resolve_disputes(session, actor, lesson)
    audit.record_event(session, actor, "lesson.signed", subject_type="lesson", subject_id=lesson.id,
                       details={"signer_role": role, "signature_id": str(signature.id),
                                "document_sha256": digest, "lesson_status": lesson.status})
    return {"signature_id": signature.id, "lesson_status": lesson.status,
            "lesson": lesson_view(session, actor, lesson)}


def _write_chain(session: Session, lesson: Lesson, signature: Signature) -> list[StudentCompetency]:
    """Append the lesson's competency changes to the learner's chain (signed by both)."""
    ids = dict(session.execute(sa.select(CompetencyTask.task_number, CompetencyTask.id)).all())
    previous: dict[int, uuid.UUID] = {}
    if lesson.correction_of:
        for row in session.exec(select(StudentCompetency).where(StudentCompetency.lesson_id == lesson.correction_of)
                                .order_by(StudentCompetency.seq)).all():
            task = next((n for n, i in ids.items() if i == row.task_id), None)
            if task is not None:
                previous[task] = row.id
    achieved = {**{n: "manual" for n in lesson.competencies_achieved_manual or []},
                **{n: "auto" for n in lesson.competencies_achieved_auto or []}}
    changes = [(n, "taught", lesson.transmission) for n in sorted(lesson.competencies_taught or [])]
    for n in sorted(lesson.competencies_assessed or []):
        changes.append((n, "competent", achieved[n]) if n in achieved
                       else (n, "not_yet_competent", lesson.transmission))
    rows = []
    for task, status, transmission in changes:
        row = StudentCompetency(
            student_id=lesson.student_id, task_id=ids[task], instructor_id=lesson.instructor_id, status=status,
            transmission=transmission, status_changed_at=lesson.end_time, lesson_id=lesson.id,
            signed_by_instructor=True, signed_by_student=True, signature_id=signature.id,
            correction_of=previous.get(task) if lesson.correction_of else None,
            correction_reason=lesson.correction_reason if lesson.correction_of and task in previous else None)
        session.add(row)
        session.flush()  # one at a time: the chain's order is the lesson's order
        rows.append(row)
    return rows


# ─────────────────────────────────────────────────────────────────────────────
# Corrections and disputes
# ─────────────────────────────────────────────────────────────────────────────


def _signed_correction(session: Session, lesson_id: uuid.UUID) -> Lesson | None:
    return session.exec(select(Lesson).where(Lesson.correction_of == lesson_id,
                                             Lesson.status.in_(SIGNED))).first()


def correct_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID, *, reason: str,
                   **changes: Any) -> dict[str, Any]:
    """A correction of a signed lesson: a new draft with the same number, to be signed by both."""
    original = _lock_lesson(session, actor, lesson_id)
    if not (access.is_lesson_instructor(actor, original) or actor.sees_everything):
        raise Forbidden("Only the lesson's instructor corrects it.")
    if original.status not in SIGNED:
        raise InvalidState("Only a signed lesson is corrected; edit the draft instead.")
    newer = _signed_correction(session, original.id)
    if newer is not None:
        raise InvalidState("This lesson has already been corrected; correct the latest version.",
                           lesson_id=str(newer.id))
    open_one = session.exec(select(Lesson.id).where(Lesson.correction_of == original.id,
                                                    Lesson.status.not_in(SIGNED))).first()
    if open_one is not None:
        raise InvalidState("A correction of this lesson is waiting to be signed.", lesson_id=str(open_one))
    reason = _text(reason, "reason", limit=LIMITS["reason"], required=True, multiline=True)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("These fields can't be corrected: " + ", ".join(sorted(unknown)) + ".",
                               fields=sorted(unknown))
    fields = {k: getattr(original, k) for k in EDITABLE}
    fields.update(changes)
    values = _check(session, student_id=original.student_id, fields=fields, exclude=[original.id])
    lesson = Lesson(student_id=original.student_id, instructor_id=original.instructor_id,
                    booking_id=original.booking_id, lesson_number=original.lesson_number, status="draft",
                    correction_of=original.id, correction_reason=reason, lesson_date=original.lesson_date,
                    total_minutes=1, **values)
    _apply(lesson, {})
    session.add(lesson)
    session.flush()
    audit.record_event(session, actor, "lesson.correction_recorded", subject_type="lesson", subject_id=lesson.id,
                       details={"correction_of": str(original.id), "reason": reason})
    return lesson_view(session, actor, lesson)


def _resolve_disputes(session: Session, actor: Actor, correction: Lesson) -> None:
    original = session.get(Lesson, correction.correction_of)
    disputes = session.exec(select(LessonDispute).where(LessonDispute.lesson_id == original.id,
                                                        LessonDispute.resolved_at.is_(None))).all()
    now = clock.now(session)
    for d in disputes:
        d.resolved_at = now
        d.resolved_by_lesson_id = correction.id
        session.add(d)
    if original.status == "disputed":
        original.status = "completed"
        session.add(original)
    session.flush()
    if disputes:
        audit.record_event(session, actor, "lesson.dispute_resolved", subject_type="lesson", subject_id=original.id,
                           details={"correction_id": str(correction.id)})


def dispute_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID, *, reason: str) -> dict[str, Any]:
    """The learner disputes a signed lesson (within 7 days of signing): it is marked disputed and the office
    and the instructor are told. A correction signed by both resolves it."""
    lesson = _lock_lesson(session, actor, lesson_id)
    if not access.is_lesson_learner(actor, lesson):
        raise Forbidden("Only the learner disputes their lesson, from their own account.")
    reason = _text(reason, "reason", limit=LIMITS["reason"], required=True, multiline=True)
    if lesson.status == "disputed":
        raise InvalidState("This lesson is already disputed.")
    if lesson.status != "completed" or lesson.signed_at is None:
        raise InvalidState("Only a signed lesson can be disputed.")
    if _signed_correction(session, lesson.id) is not None:
        raise InvalidState("This lesson has been corrected; dispute the corrected version.")
    now = clock.now(session)
    if now - lesson.signed_at > timedelta(days=DISPUTE_DAYS):
        raise InvalidState(f"A lesson can be disputed within {DISPUTE_DAYS} days of signing; please contact us.")
    dispute = LessonDispute(lesson_id=lesson.id, student_id=lesson.student_id, raised_by=actor.user_id,
                            reason=reason, raised_at=now)
    session.add(dispute)
    lesson.status = "disputed"
    session.add(lesson)
    session.flush()
    audit.record_event(session, actor, "lesson.disputed", subject_type="lesson", subject_id=lesson.id,
                       details={"dispute_id": str(dispute.id), "reason": reason})
    learner = _name(session, session.get(Student, lesson.student_id).profile_id)
    instructor = session.get(Instructor, lesson.instructor_id)
    data = {"learner": learner, "instructor": _name(session, instructor.profile_id),
            "lesson_number": lesson.lesson_number, "lesson_date": au_date(lesson.lesson_date), "reason": reason}
    admin_alerts.alert_admins(session, key=f"lesson_disputed:{dispute.id}", notification_type="lesson_disputed",
                              data=data, related_id=lesson.id, template_data=data)
    profile = session.get(Profile, instructor.profile_id)
    notify.queue_message(session, "lesson_disputed", data=data, related_type="lesson", related_id=lesson.id,
                         to={"user_id": instructor.user_id, "email": profile.email if profile else None,
                             "first_name": profile.first_name if profile else None},
                         idempotency_key=f"lesson_disputed:{dispute.id}:instructor")
    return {"dispute_id": dispute.id, "lesson_status": lesson.status, "lesson": lesson_view(session, actor, lesson)}


def _name(session: Session, profile_id: uuid.UUID | None) -> str:
    p = session.get(Profile, profile_id) if profile_id else None
    return f"{p.first_name} {p.last_name}".strip() if p else "A learner"


# ─────────────────────────────────────────────────────────────────────────────
# Reading
# ─────────────────────────────────────────────────────────────────────────────


def lesson_view(session: Session, actor: Actor, lesson: Lesson) -> dict[str, Any]:
    """The lesson for this viewer, with its signatures, disputes and versions (never private notes)."""
    data = access.lesson_dict(session, actor, lesson)
    if actor.is_family:
        data.pop("client_id", None)
    staff = actor.is_school
    data["signatures"] = [sigs.signature_dict(s, staff=staff) for s in session.exec(
        select(Signature).where(Signature.document_type == "lesson", Signature.document_id == lesson.id)
        .order_by(Signature.seq)).all()]
    data["disputes"] = [{"id": d.id, "reason": d.reason, "raised_at": d.raised_at, "resolved_at": d.resolved_at,
                         "resolved_by_lesson_id": d.resolved_by_lesson_id}
                        for d in session.exec(select(LessonDispute).where(LessonDispute.lesson_id == lesson.id)
                                              .order_by(LessonDispute.raised_at)).all()]
    data["versions"] = _versions(session, lesson)
    newer = session.exec(select(Lesson.id).where(Lesson.correction_of == lesson.id)
                         .order_by(Lesson.created_at.desc())).first()
    data["corrected_by"] = newer
    data["is_current"] = _signed_correction(session, lesson.id) is None
    return data


def _versions(session: Session, lesson: Lesson) -> list[dict[str, Any]]:
    """Every record of this lesson number for this learner, original first."""
    rows = session.exec(select(Lesson).where(Lesson.student_id == lesson.student_id,
                                             Lesson.lesson_number == lesson.lesson_number)
                        .order_by(Lesson.created_at, Lesson.id)).all()
    return [{"id": r.id, "status": r.status, "correction_of": r.correction_of,
             "correction_reason": r.correction_reason, "created_at": r.created_at, "signed_at": r.signed_at}
            for r in rows]


def get_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID) -> dict[str, Any]:
    access.require_signed_in(actor)
    lesson = session.get(Lesson, lesson_id)
    access.require_visible(actor, lesson, lesson is not None and access.may_see_lesson(session, actor, lesson),
                           "lesson")
    return lesson_view(session, actor, lesson)


def lesson_history(session: Session, actor: Actor, student_id: uuid.UUID, *, limit: int = 100,
                   offset: int = 0) -> list[dict[str, Any]]:
    """The learner's lessons in number order, each version (corrections) in the order recorded."""
    access.require_student(session, actor, student_id, "lessons")
    query = select(Lesson).where(Lesson.student_id == student_id)
    if actor.is_instructor:
        query = query.where(Lesson.instructor_id == actor.instructor_id)
    limit, offset = max(1, min(int(limit), 200)), max(0, int(offset))
    rows = session.exec(query.order_by(Lesson.lesson_number, Lesson.created_at, Lesson.id)
                        .limit(limit).offset(offset)).all()
    return [lesson_view(session, actor, r) for r in rows]


def get_signature(session: Session, actor: Actor, signature_id: uuid.UUID) -> dict[str, Any]:
    """A signature's record, for whoever may see the lesson it signs."""
    access.require_signed_in(actor)
    signature = session.get(Signature, signature_id)
    lesson = session.get(Lesson, signature.document_id) if signature and signature.document_type == "lesson" \
        else None
    visible = lesson is not None and access.may_see_lesson(session, actor, lesson)
    access.require_visible(actor, signature, visible, "signature")
    return sigs.signature_dict(signature, staff=actor.is_school)


def signature_image(session: Session, actor: Actor, signature_id: uuid.UUID,
                    storage: Storage | None = None) -> bytes:
    get_signature(session, actor, signature_id)
    image = sigs.read_image(session.get(Signature, signature_id), storage)
    if image is None:
        raise NotFound("The signature image is missing from storage.")
    return image


__all__ = ["correct_lesson", "dispute_lesson", "get_lesson", "get_signature", "lesson_document",
           "lesson_history", "lesson_sha256", "lesson_view", "record_lesson", "sign_lesson", "signature_image",
           "update_draft"]
