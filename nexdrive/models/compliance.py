"""CBT&A compliance: competency_tasks, student_competencies, signatures,
audit_log and chain_heads.

Hash chains (docs/decisions/0002-hash-chains.md): ``audit_log``, ``signatures`` and
``student_competencies`` each carry ``chain``, ``seq``, ``previous_hash`` and
``record_hash``. A BEFORE INSERT trigger (migration 0002) locks the chain's row
in ``chain_heads`` ``FOR UPDATE``, sets ``seq = head.seq + 1``,
``previous_hash = head.head_hash`` and ``record_hash = sha256(previous_hash ||
canonical_json(record))``, and advances the head. ``UNIQUE(chain, seq)`` and
``UNIQUE(chain, previous_hash)`` are backstops against forks. Chains:
``audit_log``, ``signatures`` and ``student_competencies:<student_id>`` (one
per student).

The three tables are append-only (triggers in 0002); corrections are new rows
linked with ``correction_of``.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    fk_field,
    inet_field,
    int_array_field,
    int_field,
    jsonb_field,
    numeric_field,
    text_field,
    trigger_filled_field,
    ts_field,
    updated_at_field,
    uuid_field,
    uuid_pk,
)

COMPETENCY_STATUSES = ("not_started", "taught", "assessed", "competent", "not_yet_competent")
TRANSMISSIONS = ("manual", "auto")
SIGNER_ROLES = ("instructor", "student")
SIGNATURE_DOCUMENT_TYPES = ("lesson", "competency", "certificate", "enrollment")
SEVERITIES = ("info", "warning", "critical")


def _chain_constraints(table: str) -> tuple[Any, ...]:
    return (
        sa.UniqueConstraint("chain", "seq", name=f"uq_{table}_chain_seq"),
        sa.UniqueConstraint("chain", "previous_hash", name=f"uq_{table}_chain_previous_hash"),
        check("seq > 0", "seq"),
    )


class CompetencyTask(SQLModel, table=True):
    """Reference catalogue of the ACT CBT&A tasks and reviews (loaded from a data file)."""

    __tablename__ = "competency_tasks"
    __table_args__ = (
        sa.UniqueConstraint("task_number", name="uq_competency_tasks_task_number"),
        check("final_drive_min_minutes IS NULL OR final_drive_min_minutes > 0", "final_drive_min_minutes"),
    )

    id: uuid.UUID = uuid_pk()
    task_number: int = int_field(nullable=False)
    name: str = text_field(nullable=False)
    description: Optional[str] = text_field()
    category: Optional[str] = text_field()
    prerequisites: list[int] = int_array_field()
    is_review: bool = bool_field(default=False)
    is_final_drive: bool = bool_field(default=False)
    review_requires_tasks: list[int] = int_array_field()
    final_drive_min_minutes: Optional[int] = int_field()
    final_drive_unfamiliar_roads: bool = bool_field(default=False)
    competency_hub_content_id: Optional[uuid.UUID] = uuid_field()
    sort_order: int = int_field(nullable=False)
    is_active: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class StudentCompetency(SQLModel, table=True):
    """One status change of one task for one student (append-only, hash-chained)."""

    __tablename__ = "student_competencies"
    __table_args__ = (
        sa.Index("idx_sc_student_id", "student_id"),
        sa.Index("idx_sc_task_id", "task_id"),
        sa.Index("idx_sc_student_task", "student_id", "task_id"),
        sa.Index("idx_sc_status", "status"),
        check_in("status", COMPETENCY_STATUSES),
        check_in("transmission", TRANSMISSIONS),
        *_chain_constraints("student_competencies"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    task_id: uuid.UUID = fk_field("competency_tasks.id", nullable=False, index=False)
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False)
    status: str = text_field(nullable=False)
    transmission: str = text_field(nullable=False)
    status_changed_at: datetime = ts_field(nullable=False, server_now=True)
    lesson_id: Optional[uuid.UUID] = fk_field("lessons.id")
    signed_by_instructor: bool = bool_field(default=False)
    signed_by_student: bool = bool_field(default=False)
    signature_id: Optional[uuid.UUID] = fk_field("signatures.id")
    correction_of: Optional[uuid.UUID] = fk_field("student_competencies.id")
    correction_reason: Optional[str] = text_field()
    # Hash chain (filled by trigger): chain = 'student_competencies:<student_id>'
    chain: Optional[str] = trigger_filled_field(sa.Text)
    seq: Optional[int] = trigger_filled_field(sa.BigInteger)
    previous_hash: Optional[str] = trigger_filled_field(sa.Text)
    record_hash: Optional[str] = trigger_filled_field(sa.Text)
    created_at: datetime = created_at_field()


class Signature(SQLModel, table=True):
    """An e-signature capture. Immutable, hash-chained (chain 'signatures')."""

    __tablename__ = "signatures"
    __table_args__ = (
        sa.Index("idx_signatures_signer", "signer_id"),
        sa.Index("idx_signatures_document", "document_type", "document_id"),
        check_in("signer_role", SIGNER_ROLES),
        check_in("document_type", SIGNATURE_DOCUMENT_TYPES),
        *_chain_constraints("signatures"),
    )

    id: uuid.UUID = uuid_pk()
    signer_id: uuid.UUID = fk_field("users.id", nullable=False, index=False)
    signer_role: str = text_field(nullable=False)
    document_type: str = text_field(nullable=False)
    document_id: uuid.UUID = uuid_field(nullable=False)  # the lesson / competency / ... signed
    signature_url: str = text_field(nullable=False)  # storage key of the signature image
    signature_image_sha256: Optional[str] = text_field()  # hex digest of the stored image
    timestamp_utc: datetime = ts_field(nullable=False, server_now=True)
    ip_address: Optional[str] = inet_field()
    user_agent: Optional[str] = text_field()
    device_info: Optional[dict[str, Any]] = jsonb_field()
    gps_latitude: Optional[Decimal] = numeric_field(10, 7)
    gps_longitude: Optional[Decimal] = numeric_field(10, 7)
    correction_of: Optional[uuid.UUID] = fk_field("signatures.id")
    correction_reason: Optional[str] = text_field()
    chain: Optional[str] = trigger_filled_field(sa.Text)
    seq: Optional[int] = trigger_filled_field(sa.BigInteger)
    previous_hash: Optional[str] = trigger_filled_field(sa.Text)
    record_hash: Optional[str] = trigger_filled_field(sa.Text)
    created_at: datetime = created_at_field()
    # Migration 0010: what was signed (SHA-256 of the document's canonical content) and the device's clock.
    document_sha256: Optional[str] = text_field()
    device_time: Optional[datetime] = ts_field()


class AuditLog(SQLModel, table=True):
    """Immutable event log (chain 'audit_log')."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("idx_audit_event_type", "event_type"),
        sa.Index("idx_audit_actor", "actor_id"),
        sa.Index("idx_audit_subject", "subject_type", "subject_id"),
        sa.Index("idx_audit_created", "created_at"),
        check_in("severity", SEVERITIES),
        *_chain_constraints("audit_log"),
    )

    id: uuid.UUID = uuid_pk()
    event_type: str = text_field(nullable=False)  # e.g. LESSON_CREATED
    severity: str = text_field(nullable=False, default="info")
    actor_id: Optional[uuid.UUID] = fk_field("users.id", index=False)  # NULL = system
    actor_role: Optional[str] = text_field()
    subject_type: Optional[str] = text_field()
    subject_id: Optional[uuid.UUID] = uuid_field()
    details: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    ip_address: Optional[str] = inet_field()
    user_agent: Optional[str] = text_field()
    gps_latitude: Optional[Decimal] = numeric_field(10, 7)
    gps_longitude: Optional[Decimal] = numeric_field(10, 7)
    chain: Optional[str] = trigger_filled_field(sa.Text)
    seq: Optional[int] = trigger_filled_field(sa.BigInteger)
    previous_hash: Optional[str] = trigger_filled_field(sa.Text)
    record_hash: Optional[str] = trigger_filled_field(sa.Text)
    created_at: datetime = created_at_field()


class ChainHead(SQLModel, table=True):
    """The current head of each hash chain; locked FOR UPDATE by the insert trigger."""

    __tablename__ = "chain_heads"
    __table_args__ = (check("seq >= 0", "seq"),)

    chain: str = Field(sa_column=sa.Column("chain", sa.Text, primary_key=True))
    seq: int = int_field(nullable=False, default=0, big=True)
    head_hash: str = text_field(nullable=False)
    updated_at: datetime = updated_at_field()
