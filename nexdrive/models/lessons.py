"""Lesson records (the digital per-lesson logbook row), bridge forms,
student self-assessments and instructor-only private notes.

``lessons`` is append-only once signed (docs/decisions/0003-append-only.md; the triggers are in
migration 0002): a lesson is *signed* when ``status = 'completed'`` and
``signed_at`` is set. A correction is a new row with ``correction_of`` pointing
at the row it corrects and the same ``lesson_number``.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    date_field,
    fk_field,
    int_array_field,
    int_field,
    jsonb_field,
    numeric_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

LESSON_STATUSES = ("draft", "pending_student_signature", "completed", "disputed")
SIGNED_LESSON_STATUS = "completed"
ASSESSMENT_TYPES = ("pre_review_1_17", "pre_review_1_22", "pre_final_drive", "general")
NOTE_TYPES = ("general", "lesson_specific", "safety_concern", "coaching_strategy", "personal_interest")


class Lesson(SQLModel, table=True):
    __tablename__ = "lessons"
    __table_args__ = (
        sa.Index("idx_lessons_student_id", "student_id"),
        sa.Index("idx_lessons_instructor_id", "instructor_id"),
        sa.Index("idx_lessons_date", "lesson_date"),
        sa.Index("idx_lessons_booking_id", "booking_id"),
        sa.Index(
            "idx_lessons_student_number",
            "student_id",
            "lesson_number",
            unique=True,
            postgresql_where=sa.text("correction_of IS NULL"),
        ),
        check_in("status", LESSON_STATUSES),
        check("end_time > start_time", "time_order"),
        check("total_minutes > 0", "total_minutes"),
        check("lesson_number > 0", "lesson_number"),
        check("odo_end IS NULL OR odo_start IS NULL OR odo_end >= odo_start", "odometer"),
        check("correction_of IS NULL OR correction_reason IS NOT NULL", "correction_reason"),
        check_in("transmission", ("manual", "auto")),
    )

    id: uuid.UUID = uuid_pk()
    booking_id: Optional[uuid.UUID] = fk_field("bookings.id", index=False)
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    lesson_number: int = int_field(nullable=False)  # per student
    lesson_date: date = date_field(nullable=False)  # local (Australia/Sydney) date
    start_time: datetime = ts_field(nullable=False)
    end_time: datetime = ts_field(nullable=False)
    total_minutes: int = int_field(nullable=False)
    rounded_minutes: Optional[int] = int_field()
    odo_start: Optional[int] = int_field()
    odo_end: Optional[int] = int_field()
    total_km: Optional[int] = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.Computed("odo_end - odo_start", persisted=True)),
    )
    competencies_taught: list[int] = int_array_field()
    competencies_assessed: list[int] = int_array_field()
    competencies_achieved_manual: list[int] = int_array_field()
    competencies_achieved_auto: list[int] = int_array_field()
    location_suburb: Optional[str] = text_field()
    location_detail: Optional[str] = text_field()
    comments: Optional[str] = text_field()  # visible to student/parent per privacy
    status: str = text_field(nullable=False, default="draft")
    instructor_signature_id: Optional[uuid.UUID] = fk_field("signatures.id")
    student_signature_id: Optional[uuid.UUID] = fk_field("signatures.id")
    signed_at: Optional[datetime] = ts_field()
    device_info: Optional[dict[str, Any]] = jsonb_field()
    gps_latitude: Optional[Decimal] = numeric_field(10, 7)
    gps_longitude: Optional[Decimal] = numeric_field(10, 7)
    created_at: datetime = created_at_field()
    # No updated_at: append-only once signed.
    correction_of: Optional[uuid.UUID] = fk_field("lessons.id")
    correction_reason: Optional[str] = text_field()
    # Migration 0010: the device-made id (offline sync: the same id twice is one lesson) and the car.
    client_id: Optional[uuid.UUID] = Field(default=None, sa_column=sa.Column(sa.Uuid, nullable=True, unique=True))
    transmission: str = text_field(nullable=False, default="auto")


class LessonCounter(SQLModel, table=True):
    """The last lesson number given to a student (migration 0010): incremented in the recording
    transaction, so numbers are gap-free under concurrency."""

    __tablename__ = "lesson_counters"
    __table_args__ = (check("last_number >= 0", "last_number"),)

    student_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey("students.id"), primary_key=True,
                                                      nullable=False))
    last_number: int = int_field(nullable=False, default=0)


class LessonDispute(SQLModel, table=True):
    """A learner's dispute of a signed lesson; a signed correction resolves it (migration 0010)."""

    __tablename__ = "lesson_disputes"
    __table_args__ = (
        sa.Index("uq_lesson_disputes_open", "lesson_id", unique=True,
                 postgresql_where=sa.text("resolved_at IS NULL")),
    )

    id: uuid.UUID = uuid_pk()
    lesson_id: uuid.UUID = fk_field("lessons.id", nullable=False)
    student_id: uuid.UUID = fk_field("students.id", nullable=False)
    raised_by: uuid.UUID = fk_field("users.id", nullable=False, index=False)
    reason: str = text_field(nullable=False)
    raised_at: datetime = ts_field(nullable=False, server_now=True)
    resolved_by_lesson_id: Optional[uuid.UUID] = fk_field("lessons.id", index=False)
    resolved_at: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()


class FinalDriveNotice(SQLModel, table=True):
    """When the government audit unit was told of a learner's final drive (migration 0010)."""

    __tablename__ = "final_drive_notices"

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False)
    planned_date: date = date_field(nullable=False)
    notified_at: datetime = ts_field(nullable=False)
    reference: Optional[str] = text_field()
    recorded_by: Optional[uuid.UUID] = fk_field("users.id", index=False)
    created_at: datetime = created_at_field()


class LessonBridgeForm(SQLModel, table=True):
    """Post-lesson handout for the supervising driver."""

    __tablename__ = "lesson_bridge_forms"
    __table_args__ = (
        # The unique constraint on lesson_id doubles as the spec's idx_lbf_lesson.
        sa.UniqueConstraint("lesson_id", name="uq_lesson_bridge_forms_lesson_id"),
        sa.Index("idx_lbf_student", "student_id"),
    )

    id: uuid.UUID = uuid_pk()
    lesson_id: uuid.UUID = fk_field("lessons.id", nullable=False, index=False)
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False)
    skills_covered: list[dict[str, Any]] = jsonb_field(nullable=False, default="[]")
    positives: Optional[str] = text_field()
    practice_instructions: Optional[str] = text_field()
    focus_areas: Optional[str] = text_field()
    next_lesson_recommendation: Optional[str] = text_field()
    pdf_url: Optional[str] = text_field()  # storage key of the generated PDF
    is_visible_to_student: bool = bool_field(default=True)
    is_visible_to_parent: bool = bool_field(default=True)
    created_at: datetime = created_at_field()


class SelfAssessment(SQLModel, table=True):
    __tablename__ = "self_assessments"
    __table_args__ = (
        sa.Index("idx_sa_student", "student_id"),
        sa.Index("ix_self_assessments_unreviewed", "student_id", "completed_at",
                 postgresql_where=sa.text("NOT reviewed_by_instructor")),
        check_in("assessment_type", ASSESSMENT_TYPES),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    assessment_type: str = text_field(nullable=False)
    # [{"task_number": 1, "confidence": 1-5, "notes": "..."}]
    responses: list[dict[str, Any]] = jsonb_field(nullable=False, default="[]")
    completed_at: Optional[datetime] = ts_field()
    reviewed_by_instructor: bool = bool_field(default=False)
    reviewed_at: Optional[datetime] = ts_field()  # migration 0018
    reviewed_by: Optional[uuid.UUID] = fk_field("users.id", index=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class PrivateNote(SQLModel, table=True):
    """Instructor-only coaching notes. NEVER shown to students or parents."""

    __tablename__ = "private_notes"
    __table_args__ = (
        sa.Index("idx_pn_instructor", "instructor_id"),
        sa.Index("idx_pn_student", "student_id"),
        sa.Index("idx_pn_lesson", "lesson_id"),
        check_in("note_type", NOTE_TYPES),
    )

    id: uuid.UUID = uuid_pk()
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    lesson_id: Optional[uuid.UUID] = fk_field("lessons.id", index=False)
    note: str = text_field(nullable=False)
    note_type: str = text_field(nullable=False, default="general")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
