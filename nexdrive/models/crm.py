"""CRM: contacts (every person we talk to, including prospects without an account)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    check,
    check_in,
    created_at_field,
    fk_field,
    int_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

LIFECYCLE_STAGES = (
    "prospect",
    "lead",
    "qualified",
    "enrolled",
    "active",
    "completed",
    "alumni",
    "lost",
)


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        sa.Index("idx_contacts_user_id", "user_id"),
        sa.Index("idx_contacts_phone", "phone"),
        sa.Index("idx_contacts_email", "email"),
        sa.Index("idx_contacts_lifecycle", "lifecycle_stage"),
        sa.Index("idx_contacts_instructor_id", "instructor_id"),
        check_in("lifecycle_stage", LIFECYCLE_STAGES),
        check("total_interactions >= 0", "total_interactions"),
        # One live contact per phone and per email (0004): the CRM de-duplicates on them.
        sa.Index("uq_contacts_phone", "phone", unique=True,
                 postgresql_where=sa.text("deleted_at IS NULL AND phone IS NOT NULL")),
        sa.Index("uq_contacts_email", sa.text("lower(email)"), unique=True,
                 postgresql_where=sa.text("deleted_at IS NULL AND email IS NOT NULL")),
    )

    id: uuid.UUID = uuid_pk()
    user_id: Optional[uuid.UUID] = fk_field("users.id", index=False)  # NULL for prospects
    instructor_id: Optional[uuid.UUID] = fk_field("instructors.id", index=False)
    first_name: Optional[str] = text_field()
    last_name: Optional[str] = text_field()
    # "First Last" (or whichever part is known), maintained by PostgreSQL.
    full_name: Optional[str] = Field(
        default=None,
        sa_column=sa.Column(
            sa.Text,
            sa.Computed(
                "NULLIF(btrim(COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')), '')",
                persisted=True,
            ),
        ),
    )
    email: Optional[str] = text_field()
    phone: Optional[str] = text_field()  # E.164; primary identifier for SMS leads
    lifecycle_stage: str = text_field(nullable=False, default="prospect")
    lead_score: int = int_field(nullable=False, default=0)
    source: Optional[str] = text_field()  # website, phone, sms, referral, google, facebook...
    source_detail: Optional[str] = text_field()
    utm_source: Optional[str] = text_field()
    utm_medium: Optional[str] = text_field()
    utm_campaign: Optional[str] = text_field()
    first_contact_at: datetime = ts_field(nullable=False, server_now=True)
    last_contact_at: datetime = ts_field(nullable=False, server_now=True)
    total_interactions: int = int_field(nullable=False, default=1)
    notes: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    deleted_at: Optional[datetime] = ts_field()
