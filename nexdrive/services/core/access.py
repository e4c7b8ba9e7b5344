"""The access matrix (architecture §3.4, §6.4), in one place, and the scoped
reads the dashboards and the API call.

Who sees what:

=================  =======  ==========================  ==========  ==========================================
resource           admin    instructor                  student     parent (active link, student allows it)
=================  =======  ==========================  ==========  ==========================================
student record     all      own students                own         can_view_progress
bookings           all      own bookings                own         can_view_bookings
lessons            all      own lessons (own students)  own         can_view_progress or can_view_lesson_notes;
                                                                    comments only with can_view_lesson_notes
competencies       all      own students                own         can_view_progress
bridge forms       all      own students                own*        can_view_bridge_forms*
payments           all      \u2014                           own         can_view_payments
private notes      all      notes they wrote            never       never
log-book drives    all      own students (read)         own         can_view_progress; enter: linked parent;
                                                                    confirm: the parent who supervised
audit log          read     \u2014                           \u2014           \u2014
book lessons for   all      own students                self        can_book_lessons
=================  =======  ==========================  ==========  ==========================================

(* only forms marked visible to the student / parent.) A student can also hide
everything from every parent (``students.parent_visibility = false``); a
revoked or pending link grants nothing. Signed-out callers get AuthRequired
(401); signed-in callers without the right get Forbidden (403) — also for ids
that don't exist, so probing ids reveals nothing (the admin gets NotFound).

Every function returns plain dicts (never ORM rows), shaped per role: students
and parents never get ``bookings.admin_notes`` or payment gateway internals,
and no lesson shape carries private notes (they live in their own table and
only :func:`list_private_notes` / :func:`get_private_note` read it).
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from nexdrive.models import (
    AuditLog,
    Booking,
    Instructor,
    Lesson,
    LessonBridgeForm,
    ParentStudentLink,
    Payment,
    PrivateNote,
    Profile,
    Student,
    StudentCompetency,
    SupervisedDrive,
)
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.people import possible_matches
from nexdrive.errors import AuthRequired, Forbidden, NotFound

MAX_PAGE = 200

# resource -> the parent-link switches any one of which lets a parent see it
PARENT_RULES: dict[str, tuple[str, ...]] = {
    "student": ("can_view_progress",),
    "bookings": ("can_view_bookings",),
    "lessons": ("can_view_progress", "can_view_lesson_notes"),
    "lesson_notes": ("can_view_lesson_notes",),
    "competencies": ("can_view_progress",),
    "bridge_forms": ("can_view_bridge_forms",),
    "payments": ("can_view_payments",),
    "book": ("can_book_lessons",),
    "logbook": ("can_view_progress",),  # the log book is part of the learner's progress
    "certificate": ("can_view_progress",),  # the certificate of competency and its completion statement
}
# resources an instructor may see for their own students
INSTRUCTOR_RESOURCES = {"student", "bookings", "lessons", "lesson_notes", "competencies", "bridge_forms", "book",
                        "logbook", "certificate"}
RESOURCES = tuple(PARENT_RULES)

_LABELS = {
    "student": "this student's record", "bookings": "these bookings", "lessons": "these lessons",
    "lesson_notes": "these lesson notes", "competencies": "this student's progress",
    "bridge_forms": "these bridge forms", "payments": "these payments", "book": "booking for this student",
    "logbook": "this learner's log book",
    "certificate": "this learner's certificate",
}

# What a student can let each linked parent see or do (one switch each on parent_student_links).
PARENT_PERMISSIONS = (
    "can_view_progress",
    "can_view_bookings",
    "can_view_payments",
    "can_view_lesson_notes",
    "can_view_bridge_forms",
    "can_book_lessons",
)



# ─────────────────────────────────────────────────────────────────────────────
# The checks
# ─────────────────────────────────────────────────────────────────────────────


def require_signed_in(actor: Actor) -> None:
    if actor.is_system:
        return
    if actor.is_visitor or actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")


def parent_link(session: Session, actor: Actor, student_id: uuid.UUID) -> ParentStudentLink | None:
    """The acting parent's active link to this student, if the student lets parents see anything."""
    if not actor.is_parent or actor.parent_id is None:
        return None
    return session.exec(
        select(ParentStudentLink)
        .join(Student, Student.id == ParentStudentLink.student_id)
        .where(ParentStudentLink.parent_id == actor.parent_id, ParentStudentLink.student_id == student_id,
               ParentStudentLink.status == "active", Student.parent_visibility.is_(True))
    ).first()


def can_access_student(session: Session, actor: Actor, student_id: uuid.UUID, resource: str = "student") -> bool:
    """May ``actor`` see ``resource`` of this student? (No 401/403 distinction: see require_student.)"""
    if resource not in PARENT_RULES:
        raise ValueError(f"unknown resource {resource!r}")
    if actor.sees_everything:
        return True
    if actor.user_id is None:
        return False
    if actor.is_student:
        return actor.student_id is not None and actor.student_id == student_id
    if actor.is_instructor:
        if resource not in INSTRUCTOR_RESOURCES or actor.instructor_id is None:
            return False
        owner = session.exec(select(Student.instructor_id).where(Student.id == student_id)).first()
        return owner is not None and owner == actor.instructor_id
    if actor.is_parent:
        link = parent_link(session, actor, student_id)
        return link is not None and any(getattr(link, flag) for flag in PARENT_RULES[resource])
    return False


def require_student(session: Session, actor: Actor, student_id: uuid.UUID, resource: str = "student") -> Student:
    """The student row if ``actor`` may see ``resource`` of it; else AuthRequired / Forbidden / NotFound."""
    require_signed_in(actor)
    if not can_access_student(session, actor, student_id, resource):
        raise Forbidden(f"You don't have access to {_LABELS[resource]}.")
    student = session.get(Student, student_id)
    if student is None:
        raise NotFound("No such student.")
    return student


def can_view_student(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    return can_access_student(session, actor, student_id, "student")


def may_book_for_student(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """Booking channels ask this before reserving for a student (parents: can_book_lessons)."""
    return can_access_student(session, actor, student_id, "book")


def require_may_book(session: Session, actor: Actor, student_id: uuid.UUID) -> Student:
    return require_student(session, actor, student_id, "book")


def require_admin(actor: Actor) -> None:
    """The owner's office only (admin, or the app itself): the dashboard, the learner admin, the CRM.

    An instructor (a contractor included), a learner or a parent is refused; a visitor must sign in."""
    require_signed_in(actor)
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can do this.")


def learner_scope(actor: Actor) -> uuid.UUID | None:
    """Lists of learners: None = every learner (admin); an instructor's id = only their own learners.

    Learners and parents use their own pages, never these lists."""
    require_signed_in(actor)
    if actor.sees_everything:
        return None
    if actor.is_instructor and actor.instructor_id is not None:
        return actor.instructor_id
    raise Forbidden("You don't have access to the list of learners.")


def _staff_instructor(actor: Actor) -> uuid.UUID | None:
    """The instructor id to scope by, or None for admin/system (no scoping)."""
    if actor.sees_everything:
        return None
    return actor.instructor_id


def linked_students(session: Session, actor: Actor, resource: str) -> list[uuid.UUID]:
    flags = PARENT_RULES[resource]
    return list(session.exec(
        select(ParentStudentLink.student_id)
        .join(Student, Student.id == ParentStudentLink.student_id)
        .where(ParentStudentLink.parent_id == actor.parent_id, ParentStudentLink.status == "active",
               Student.parent_visibility.is_(True),
               sa.or_(*[getattr(ParentStudentLink, f).is_(True) for f in flags]))
    ).all())


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))


def _plain(row: SQLModel, exclude: set[str] = frozenset()) -> dict[str, Any]:
    return {k: v for k, v in row.model_dump().items() if k not in exclude}


# ─────────────────────────────────────────────────────────────────────────────
# Students
# ─────────────────────────────────────────────────────────────────────────────


def _student_dict(session: Session, student: Student) -> dict[str, Any]:
    profile = session.get(Profile, student.profile_id)
    data = _plain(student, {"referral_source", "referral_detail"})
    data["first_name"] = profile.first_name if profile else None
    data["last_name"] = profile.last_name if profile else None
    data["email"] = profile.email if profile else None
    data["phone"] = profile.phone if profile else None
    return data


def may_see(session: Session, actor: Actor, *, student_id: uuid.UUID | None, resource: str,
             instructor_id: uuid.UUID | None = None) -> bool:
    """The one rule for a single row about a learner (a booking, lesson, payment): admin and system all;
    an instructor the rows that are theirs; a learner or parent as ``can_access_student`` allows."""
    if actor.sees_everything:
        return True
    if actor.is_instructor:
        return instructor_id is not None and instructor_id == actor.instructor_id
    if student_id is None or not actor.is_family:
        return False
    return can_access_student(session, actor, student_id, resource)


def require_visible(actor: Actor, row: Any, visible: bool, what: str) -> Any:
    """The row, or the refusal: only the office learns that an id does not exist."""
    if row is None or not visible:
        if row is None and actor.sees_everything:
            raise NotFound(f"No such {what}.")
        raise Forbidden(f"You don't have access to this {what}.")
    return row


def scope(session: Session, actor: Actor, query, *, student_col, instructor_col=None, resource: str, what: str):
    """The one ladder for lists: only the rows this actor may see. Admin and system: all; instructor: their
    own (where the rows have an instructor); learner: their own; parent: learners whose switch for
    ``resource`` is on. Anyone else is refused."""
    if actor.sees_everything:
        return query
    if actor.is_instructor and instructor_col is not None:
        return query.where(instructor_col == actor.instructor_id)
    if actor.is_student:
        return query.where(student_col == actor.student_id)
    if actor.is_parent:
        return query.where(student_col.in_(linked_students(session, actor, resource)))
    raise Forbidden(f"You don't have access to {what}.")


def get_student_record(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    student = require_student(session, actor, student_id, "student")
    data = _student_dict(session, student)
    if actor.sees_everything:
        data["referral_source"] = student.referral_source
        data["referral_detail"] = student.referral_detail
    return data


def list_students(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    require_signed_in(actor)
    limit, offset = _page(limit, offset)
    query = scope(session, actor, select(Student).order_by(Student.created_at, Student.id), student_col=Student.id,
                  instructor_col=Student.instructor_id, resource="student", what="student records")
    return [_student_dict(session, s) for s in session.exec(query.limit(limit).offset(offset)).all()]


def get_instructor_record(session: Session, actor: Actor, instructor_id: uuid.UUID) -> dict[str, Any]:
    """Admin: any; instructor: themselves; student: their assigned instructor (read); parent: no."""
    require_signed_in(actor)
    allowed = (actor.sees_everything
               or (actor.is_instructor and actor.instructor_id == instructor_id))
    if actor.is_student and actor.student_id:
        allowed = (
            session.exec(select(Student.instructor_id).where(Student.id == actor.student_id)).first() == instructor_id
        )
    if not allowed:
        raise Forbidden("You don't have access to this instructor's record.")
    instructor = session.get(Instructor, instructor_id)
    if instructor is None:
        raise NotFound("No such instructor.")
    profile = session.get(Profile, instructor.profile_id)
    if actor.is_student:
        data = {k: getattr(instructor, k) for k in ("id", "bio", "transmission", "vehicle_make", "vehicle_model",
                                                     "accreditation_number", "accreditation_expiry")}
        data.update(first_name=profile.first_name, last_name=profile.last_name, phone=profile.phone)
        return data
    data = _plain(instructor)
    data.update(first_name=profile.first_name, last_name=profile.last_name, email=profile.email,
                phone=profile.phone)
    return data


# ─────────────────────────────────────────────────────────────────────────────
# Bookings
# ─────────────────────────────────────────────────────────────────────────────


def _booking_dict(actor: Actor, booking: Booking) -> dict[str, Any]:
    exclude = {"manage_token_hash", "reserve_key_hash"}  # secrets' hashes are nobody's business
    if not actor.is_school:
        exclude.add("admin_notes")
    return _plain(booking, exclude)


def may_read_booking(session: Session, actor: Actor, booking: Booking) -> bool:
    """Every by-id read of one booking (detail, .ics, payment result) asks this.

    Book-for grants booking, not reading: a parent reads a learner's bookings with "Bookings"
    (can_view_bookings) on; with only "Book lessons for me", just the bookings they made themselves.
    """
    if may_see(session, actor, student_id=booking.student_id, instructor_id=booking.instructor_id,
               resource="bookings"):
        return True
    return (actor.is_parent and booking.student_id is not None and booking.booked_by == actor.user_id
            and may_book_for_student(session, actor, booking.student_id))


def may_change_booking(session: Session, actor: Actor, booking: Booking) -> bool:
    """Change, cancel or pay for one booking (without its manage link): staff on theirs, the student,
    a parent allowed to book for the learner, and only a booking they may read."""
    if actor.sees_everything:
        return True
    if actor.is_instructor:
        return booking.instructor_id == actor.instructor_id
    if booking.student_id is None or not actor.is_family:
        return False
    return may_book_for_student(session, actor, booking.student_id) and may_read_booking(session, actor, booking)


def get_booking(session: Session, actor: Actor, booking_id: uuid.UUID) -> dict[str, Any]:
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    require_visible(actor, booking, booking is not None and may_read_booking(session, actor, booking), "booking")
    return _booking_dict(actor, booking)


def list_bookings(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None,
                  limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Newest first. Instructors see their own bookings; parents those of students who allow it."""
    require_signed_in(actor)
    limit, offset = _page(limit, offset)
    query = select(Booking).order_by(Booking.start_time.desc(), Booking.id)
    if student_id is not None:
        require_student(session, actor, student_id, "bookings")
        query = query.where(Booking.student_id == student_id)
    query = scope(session, actor, query, student_col=Booking.student_id, instructor_col=Booking.instructor_id,
                  resource="bookings", what="bookings")
    rows = [_booking_dict(actor, b) for b in session.exec(query.limit(limit).offset(offset)).all()]
    if actor.is_school:
        for row in rows:
            row["possible_match"] = _possible_match(session, row)
    return rows


def _possible_match(session: Session, row: dict[str, Any]) -> str:
    """Staff only: a booking made without an account whose typed phone/email belongs to someone we know.

    Nothing is linked because details match; staff merge on purpose. "" when there is no such person.
    """
    if row.get("student_id") is not None:
        return ""
    names = possible_matches(session, phone=row.get("booker_phone"), email=row.get("booker_email"),
                             exclude_contact_id=row.get("contact_id"))
    return f"possibly the same person as {' or '.join(names)}" if names else ""


# ─────────────────────────────────────────────────────────────────────────────
# Lessons (never with private notes; comments only where the student allows it)
# ─────────────────────────────────────────────────────────────────────────────


def _lesson_dict(session: Session, actor: Actor, lesson: Lesson) -> dict[str, Any]:
    exclude: set[str] = set()
    if actor.is_parent and not can_access_student(session, actor, lesson.student_id, "lesson_notes"):
        exclude.add("comments")
    if actor.is_family:
        exclude |= {"device_info", "gps_latitude", "gps_longitude"}
    return _plain(lesson, exclude)


def get_lesson(session: Session, actor: Actor, lesson_id: uuid.UUID) -> dict[str, Any]:
    require_signed_in(actor)
    lesson = session.get(Lesson, lesson_id)
    require_visible(actor, lesson, lesson is not None and may_see(
        session, actor, student_id=lesson.student_id, instructor_id=lesson.instructor_id, resource="lessons"),
        "lesson")
    return _lesson_dict(session, actor, lesson)


def list_lessons(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None,
                 limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    require_signed_in(actor)
    limit, offset = _page(limit, offset)
    query = select(Lesson).order_by(Lesson.start_time.desc(), Lesson.id)
    if student_id is not None:
        require_student(session, actor, student_id, "lessons")
        query = query.where(Lesson.student_id == student_id)
    query = scope(session, actor, query, student_col=Lesson.student_id, instructor_col=Lesson.instructor_id,
                  resource="lessons", what="lessons")
    return [_lesson_dict(session, actor, ln) for ln in session.exec(query.limit(limit).offset(offset)).all()]


def may_record_lessons_for(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """Record (or correct) a lesson for this learner: the office, or the learner's own instructor."""
    if actor.sees_everything:
        return True
    return actor.is_instructor and can_access_student(session, actor, student_id, "lessons")


def is_lesson_instructor(actor: Actor, lesson: Lesson) -> bool:
    """The instructor who gave the lesson (drafts are theirs alone to edit and sign)."""
    return actor.is_instructor and actor.instructor_id is not None and actor.instructor_id == lesson.instructor_id


def is_lesson_learner(actor: Actor, lesson: Lesson) -> bool:
    """The learner the lesson was for, signed in as themselves (signing, disputing)."""
    return actor.is_student and actor.student_id is not None and actor.student_id == lesson.student_id


def may_see_lesson(session: Session, actor: Actor, lesson: Lesson) -> bool:
    """One lesson (and its signatures): admin all, instructor theirs, learner own, parent per switch."""
    return may_see(session, actor, student_id=lesson.student_id, instructor_id=lesson.instructor_id,
                   resource="lessons")


def lesson_dict(session: Session, actor: Actor, lesson: Lesson) -> dict[str, Any]:
    """A lesson shaped for this viewer (comments per the parent's switch; no device data for family)."""
    return _lesson_dict(session, actor, lesson)


# ─────────────────────────────────────────────────────────────────────────────
# Competencies, bridge forms, payments
# ─────────────────────────────────────────────────────────────────────────────


def list_competencies(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every recorded status change of the student's CBT&A tasks, oldest first."""
    require_student(session, actor, student_id, "competencies")
    rows = session.exec(select(StudentCompetency).where(StudentCompetency.student_id == student_id)
                        .order_by(StudentCompetency.seq)).all()
    return [_plain(r) for r in rows]


def list_bridge_forms(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    require_student(session, actor, student_id, "bridge_forms")
    query = select(LessonBridgeForm).where(LessonBridgeForm.student_id == student_id)
    if actor.is_student:
        query = query.where(LessonBridgeForm.is_visible_to_student.is_(True))
    elif actor.is_parent:
        query = query.where(LessonBridgeForm.is_visible_to_parent.is_(True))
    return [_plain(r) for r in session.exec(query.order_by(LessonBridgeForm.created_at)).all()]


def _payment_dict(actor: Actor, payment: Payment) -> dict[str, Any]:
    exclude = set() if actor.sees_everything else {"gateway_response", "gateway_checkout_id"}
    return _plain(payment, exclude)


def get_payment(session: Session, actor: Actor, payment_id: uuid.UUID) -> dict[str, Any]:
    require_signed_in(actor)
    payment = session.get(Payment, payment_id)
    visible = payment is not None and (
        actor.sees_everything
        or (payment.student_id is not None and actor.is_family
            and can_access_student(session, actor, payment.student_id, "payments"))
    )
    if not visible:
        if payment is None and actor.sees_everything:
            raise NotFound("No such payment.")
        raise Forbidden("You don't have access to this payment.")
    return _payment_dict(actor, payment)


def list_payments(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None,
                  limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Admin: all; student: own; parent: receipts of students who allow it; instructors: none."""
    require_signed_in(actor)
    if actor.is_instructor:
        raise Forbidden("Payments are visible to the administrator and the student only.")
    limit, offset = _page(limit, offset)
    query = select(Payment).order_by(Payment.created_at.desc(), Payment.id)
    if student_id is not None:
        require_student(session, actor, student_id, "payments")
        query = query.where(Payment.student_id == student_id)
    if actor.is_student:
        query = query.where(Payment.student_id == actor.student_id)
    elif actor.is_parent:
        query = query.where(Payment.student_id.in_(linked_students(session, actor, "payments")))
    elif not actor.sees_everything:
        raise Forbidden("You don't have access to payments.")
    return [_payment_dict(actor, p) for p in session.exec(query.limit(limit).offset(offset)).all()]


# ─────────────────────────────────────────────────────────────────────────────
# Private notes: the author instructor and the admin, by no path else
# ─────────────────────────────────────────────────────────────────────────────


def _may_read_notes(actor: Actor) -> None:
    require_signed_in(actor)
    if not actor.is_school or (actor.is_instructor and not actor.instructor_id):
        raise Forbidden("Private notes are for instructors only.")


def list_private_notes(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Admin: every note; an instructor: only the notes they wrote (whoever teaches the student now)."""
    _may_read_notes(actor)
    query = select(PrivateNote).order_by(PrivateNote.created_at, PrivateNote.id)
    if actor.is_instructor:
        query = query.where(PrivateNote.instructor_id == actor.instructor_id)
    if student_id is not None:
        query = query.where(PrivateNote.student_id == student_id)
    return [_plain(n) for n in session.exec(query).all()]


def get_private_note(session: Session, actor: Actor, note_id: uuid.UUID) -> dict[str, Any]:
    _may_read_notes(actor)
    note = session.get(PrivateNote, note_id)
    if note is None or (actor.is_instructor and note.instructor_id != actor.instructor_id):
        if note is None and actor.sees_everything:
            raise NotFound("No such note.")
        raise Forbidden("Private notes are visible to their author only.")
    return _plain(note)


# ─────────────────────────────────────────────────────────────────────────────
# Log book (supervised practice drives): read as "logbook"; entered by the learner or a linked parent;
# changed only by whoever entered it; confirmed only by the linked parent who supervised it
# ─────────────────────────────────────────────────────────────────────────────


def may_enter_drives(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """The learner themselves, or a parent whose active link lets them see the log book."""
    if actor.is_student:
        return actor.student_id is not None and actor.student_id == student_id
    if actor.is_parent:
        return can_access_student(session, actor, student_id, "logbook")
    return False


def may_change_drive(session: Session, actor: Actor, drive: SupervisedDrive) -> bool:
    """Edit or delete: only the person who entered the drive, while they may still enter drives for the learner."""
    return (actor.user_id is not None and drive.entered_by_user_id == actor.user_id
            and may_enter_drives(session, actor, drive.student_id))


def may_confirm_drive(session: Session, actor: Actor, drive: SupervisedDrive) -> bool:
    """Only the linked parent named as the supervisor, from their own account, while the link is active."""
    return (actor.is_parent and actor.parent_id is not None and drive.supervisor_parent_id == actor.parent_id
            and parent_link(session, actor, drive.student_id) is not None)


def may_issue_certificate(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """Issue a learner's certificate of competency: the office, or the learner's own instructor."""
    return may_record_lessons_for(session, actor, student_id)


def require_auditors_pack(session: Session, actor: Actor, student_id: uuid.UUID) -> Student:
    """One learner's auditor's pack: the office, or the learner's own instructor; nobody else (not the
    learner, not a parent: the pack carries signature metadata such as IP addresses and devices)."""
    require_signed_in(actor)
    if not (actor.sees_everything or (actor.is_instructor and can_access_student(session, actor, student_id,
                                                                                   "lessons"))):
        raise Forbidden("The auditor's pack is for the office and the learner's instructor.")
    student = session.get(Student, student_id)
    if student is None:
        raise NotFound("No such student.")
    return student


def may_read_self_assessments(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """Self-assessments (C24): the learner, their instructor and the office; never a parent."""
    if actor.is_parent:
        return False
    return can_access_student(session, actor, student_id, "competencies")


def may_review_self_assessments(session: Session, actor: Actor, student_id: uuid.UUID) -> bool:
    """Mark a self-assessment reviewed: the learner's instructor or the office."""
    return (actor.sees_everything or actor.is_instructor) and may_read_self_assessments(session, actor, student_id)


def require_audit_reader(actor: Actor) -> None:
    """The audit trail (and verifying every chain) is for the administrator."""
    require_signed_in(actor)
    if not actor.sees_everything:
        raise Forbidden("The audit log is visible to the administrator only.")


# ─────────────────────────────────────────────────────────────────────────────
# Audit log: admin, read only (no function here or anywhere updates or deletes it)
# ─────────────────────────────────────────────────────────────────────────────


def read_audit_log(session: Session, actor: Actor, *, limit: int = 100, before_seq: int | None = None,
                   event_type: str | None = None, subject_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Newest first; page with ``before_seq`` (the smallest seq of the previous page)."""
    require_signed_in(actor)
    if not actor.sees_everything:
        raise Forbidden("The audit log is visible to the administrator only.")
    limit, _ = _page(limit, 0)
    query = select(AuditLog).order_by(AuditLog.seq.desc())
    if before_seq is not None:
        query = query.where(AuditLog.seq < before_seq)
    if event_type:
        query = query.where(AuditLog.event_type == event_type)
    if subject_id:
        query = query.where(AuditLog.subject_id == subject_id)
    return [_plain(r) for r in session.exec(query.limit(limit)).all()]


__all__ = [
    "PARENT_PERMISSIONS", "PARENT_RULES", "RESOURCES", "can_access_student", "can_view_student", "get_booking",
    "get_instructor_record", "get_lesson", "get_payment", "get_private_note", "get_student_record",
    "list_bookings", "list_bridge_forms", "list_competencies", "list_lessons", "list_payments",
    "is_lesson_instructor", "is_lesson_learner", "lesson_dict", "learner_scope",
    "list_private_notes", "list_students", "may_book_for_student", "may_change_booking", "may_read_booking",
    "may_change_drive", "may_confirm_drive", "may_enter_drives", "may_issue_certificate", "may_record_lessons_for",
    "may_see_lesson", "require_audit_reader", "require_auditors_pack",
    "parent_link", "read_audit_log",
    "require_admin", "require_may_book", "require_signed_in", "require_student",
]


# ── The assistant's knowledge base and conversations (issue 15) ──

def may_manage_knowledge(actor: Actor) -> bool:
    """Add, change, remove and re-index the assistant's documents: the owner's office or the app itself."""
    return actor.sees_everything


def require_manage_knowledge(actor: Actor) -> None:
    if not may_manage_knowledge(actor):
        require_signed_in(actor)
        raise Forbidden("Only the school's administrators can change the assistant's knowledge.")


def may_read_conversations(actor: Actor) -> bool:
    """Every channel's conversations with the public (the owner's inbox): the owner's office or the app."""
    return actor.sees_everything


def require_read_conversations(actor: Actor) -> None:
    """The owner's inbox: every conversation, call and callback, and replying to them."""
    if not may_read_conversations(actor):
        require_signed_in(actor)
        raise Forbidden("Only the school's administrators can read the inbox.")


# ── The website's content: FAQ, testimonials, blog (issue 16) ──

def may_edit_content(actor: Actor) -> bool:
    """Write the FAQ, testimonials and blog posts: the owner's office or the app itself. Reading what is
    published is public; drafts and consent records are the office's."""
    return actor.sees_everything


def require_edit_content(actor: Actor) -> None:
    if not may_edit_content(actor):
        require_signed_in(actor)
        raise Forbidden("Only the school's administrators can change the website's content.")
