"""Certificates of competency (migration 0016): one per learner, append-only.

The row is written after both signatures (``signatures.document_type = 'certificate'``,
``document_id`` = this row's id), so it never changes; the database refuses UPDATE and DELETE.
``document_sha256`` is the SHA-256 of the certificate's canonical document
(``services.compliance.certificates.certificate_document``), which both signatures also bind.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import SQLModel

from nexdrive.models.base import (
    check,
    check_in,
    created_at_field,
    date_field,
    fk_field,
    jsonb_field,
    text_field,
    ts_field,
    uuid_pk,
)


class Certificate(SQLModel, table=True):
    __tablename__ = "certificates"
    __table_args__ = (
        sa.UniqueConstraint("student_id", name="uq_certificates_student_id"),
        sa.UniqueConstraint("verification_code", name="uq_certificates_verification_code"),
        check("char_length(form_serial) BETWEEN 1 AND 40", "form_serial"),
        check("verification_code ~ '^[A-Z2-9]{5}-[A-Z2-9]{5}$'", "verification_code"),
        check_in("transmission", ("manual", "auto")),
        check("document_sha256 ~ '^[0-9a-f]{64}$'", "document_sha256"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False)
    issued_by_user_id: uuid.UUID = fk_field("users.id", nullable=False)
    form_serial: str = text_field(nullable=False)
    verification_code: str = text_field(nullable=False)
    transmission: str = text_field(nullable=False)
    issued_at: datetime = ts_field(nullable=False)
    completed_on: date = date_field(nullable=False)
    final_drive_lesson_id: Optional[uuid.UUID] = fk_field("lessons.id")
    content: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    document_sha256: str = text_field(nullable=False)
    instructor_signature_id: uuid.UUID = fk_field("signatures.id", nullable=False)
    student_signature_id: uuid.UUID = fk_field("signatures.id", nullable=False)
    created_at: datetime = created_at_field()
