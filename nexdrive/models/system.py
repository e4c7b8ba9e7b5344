"""System tables: webhook_events, business_settings, public_holidays, job_runs."""
from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    date_field,
    int_field,
    jsonb_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

WEBHOOK_STATUSES = ("received", "processing", "processed", "failed", "ignored")
JOB_RUN_STATUSES = ("running", "ok", "failed", "skipped")


class WebhookEvent(SQLModel, table=True):
    """Every provider webhook received, once (idempotency on the provider's event id)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_webhook_events_provider_event_id"),
        sa.Index("ix_webhook_events_status_received", "status", "received_at"),
        check_in("status", WEBHOOK_STATUSES),
        check("attempts >= 0", "attempts"),
    )

    id: uuid.UUID = uuid_pk()
    provider: str = text_field(nullable=False)  # 'stripe', 'twilio', 'vapi', ...
    event_id: str = text_field(nullable=False)
    event_type: Optional[str] = text_field()
    received_at: datetime = ts_field(nullable=False, server_now=True)
    processed_at: Optional[datetime] = ts_field()
    payload: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    status: str = text_field(nullable=False, default="received")
    attempts: int = int_field(nullable=False, default=0)
    last_error: Optional[str] = text_field()


class BusinessSettings(SQLModel, table=True):
    """The single row (id = 1) of business details and booking rules."""

    __tablename__ = "business_settings"
    __table_args__ = (
        check("id = 1", "single_row"),
        check("cancellation_notice_hours >= 0", "cancellation_notice_hours"),
        check("late_cancellation_fee_cents >= 0", "late_cancellation_fee_cents"),
        check("default_buffer_minutes >= 0", "default_buffer_minutes"),
        check("min_lesson_minutes > 0", "min_lesson_minutes"),
        check("hold_minutes > 0", "hold_minutes"),
        check("min_booking_notice_hours >= 0", "min_booking_notice_hours"),
        check("booking_horizon_days > 0", "booking_horizon_days"),
        check("review_min_gap_hours >= 0", "review_min_gap_hours"),
        check("final_drive_notice_business_days >= 0", "final_drive_notice_business_days"),
        check("accreditation_warning_days >= 0", "accreditation_warning_days"),
    )

    id: int = Field(
        default=1,
        sa_column=sa.Column(
            "id", sa.SmallInteger, primary_key=True, autoincrement=False, server_default=sa.text("1")
        ),
    )
    business_name: str = text_field(nullable=False, default="NexDrive Academy")
    abn: Optional[str] = text_field()
    gst_registered: bool = bool_field(default=False)
    address: Optional[str] = text_field()
    phone: Optional[str] = text_field()
    email: Optional[str] = text_field()
    website: Optional[str] = text_field()
    timezone: str = text_field(nullable=False, default="Australia/Sydney")
    # Cancellation policy
    cancellation_notice_hours: int = int_field(nullable=False, default=24)
    late_cancellation_fee_cents: int = int_field(nullable=False, default=0)
    # Payments (0005): may a customer confirm now and pay at the lesson?
    allow_pay_later: bool = bool_field(default=True)
    # Booking defaults
    default_buffer_minutes: int = int_field(nullable=False, default=15)
    min_booking_notice_hours: int = int_field(nullable=False, default=24)
    booking_horizon_days: int = int_field(nullable=False, default=60)
    min_lesson_minutes: int = int_field(nullable=False, default=45)
    hold_minutes: int = int_field(nullable=False, default=35)  # >= a Stripe Checkout session's 30 min
    # CBT&A rules (docs/decisions/0004-cbta-rules.md)
    review_min_gap_hours: int = int_field(nullable=False, default=36)
    final_drive_notice_business_days: int = int_field(nullable=False, default=2)
    accreditation_warning_days: int = int_field(nullable=False, default=30)
    updated_at: datetime = updated_at_field()


class PublicHoliday(SQLModel, table=True):
    """Public holidays (ACT and national) that block final drives and may close the school."""

    __tablename__ = "public_holidays"
    __table_args__ = (
        sa.UniqueConstraint("date", "jurisdiction", name="uq_public_holidays_date_jurisdiction"),
    )

    id: uuid.UUID = uuid_pk()
    date: dt.date = date_field(nullable=False)
    name: str = text_field(nullable=False)
    jurisdiction: str = text_field(nullable=False, default="ACT")  # 'ACT' or 'national'
    created_at: datetime = created_at_field()


class JobRun(SQLModel, table=True):
    """One due run of a scheduled job, claimed by exactly one app process (migration 0007).

    ``due_at`` is the trigger's scheduled fire time (UTC); UNIQUE(job_name, due_at)
    is the run-once lock: a process that fails to insert the row skips the run.
    A run started by hand (``manual``) is keyed on the moment it was asked for.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("job_name", "due_at", name="uq_job_runs_job_name_due_at"),
        sa.Index("ix_job_runs_started_at", "started_at"),
        check_in("status", JOB_RUN_STATUSES),
        check("finished_at IS NULL OR finished_at >= started_at", "finished_after_start"),
    )

    id: uuid.UUID = uuid_pk()
    job_name: str = text_field(nullable=False)
    due_at: datetime = ts_field(nullable=False)
    manual: bool = bool_field(default=False)
    status: str = text_field(nullable=False, default="running")
    started_at: datetime = ts_field(nullable=False, server_now=True)
    finished_at: Optional[datetime] = ts_field()
    result: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    error: Optional[str] = text_field()
    host: Optional[str] = text_field()
    pid: Optional[int] = int_field()
