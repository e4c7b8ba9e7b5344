"""Bookings (holds and confirmed lessons in one table) and the waitlist.

docs/decisions/0001-no-double-booking.md: a booking blocks its instructor over
``[start_time, blocked_until)`` where ``blocked_until = end_time + buffer`` is
stored. Migration 0002 adds the exclusion constraint over
``(int8range(instructor_key, instructor_key, '[]'), tstzrange(start_time,
blocked_until))`` for rows that are held (unexpired) or confirmed, and the
trigger (``bookings_fill_derived``) that computes ``blocked_until`` and copies
``instructors.lock_key`` into ``instructor_key`` on every INSERT/UPDATE.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Optional

import sqlalchemy as sa
from sqlmodel import SQLModel

from nexdrive.models.base import (
    TZ,
    bool_field,
    check,
    check_in,
    created_at_field,
    date_field,
    fk_field,
    int_field,
    text_field,
    time_field,
    trigger_filled_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

BOOKING_STATUSES = (
    "held",
    "expired",  # a hold that lapsed before confirmation
    "pending",
    "confirmed",
    "in_progress",
    "completed",
    "cancelled",
    "no_show",
    "rescheduled",
)
# Statuses that occupy the instructor's time (a 'held' row only until hold_expires_at).
BLOCKING_STATUSES = ("held", "confirmed")
PAYMENT_STATUSES = ("unpaid", "deposit_paid", "paid", "package_credit", "refunded", "waived",
                    "partially_refunded")  # 0005: a late cancellation refunds all but the fee
BOOKED_VIA = ("website", "phone", "sms", "voice_agent", "admin", "walk_in")
WAITLIST_STATUSES = ("waiting", "notified", "booked", "expired", "cancelled")


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.Index("idx_bookings_instructor_id", "instructor_id"),
        sa.Index("idx_bookings_student_id", "student_id"),
        sa.Index("idx_bookings_scheduled_date", "scheduled_date"),
        sa.Index("idx_bookings_start_time", "start_time"),
        sa.Index("idx_bookings_status", "status"),
        # Calendars: an instructor's bookings near a time range (migration 0012).
        sa.Index("ix_bookings_instructor_start", "instructor_id", "start_time"),
        sa.Index("ix_bookings_held_instructor", "instructor_id", "hold_expires_at",
                 postgresql_where=sa.text("status = 'held'")),
        # For the job that releases lapsed holds.
        sa.Index(
            "idx_bookings_hold_expires_at",
            "hold_expires_at",
            postgresql_where=sa.text("status = 'held'"),
        ),
        check_in("status", BOOKING_STATUSES),
        check_in("payment_status", PAYMENT_STATUSES),
        check_in("booked_via", BOOKED_VIA),
        check("end_time > start_time", "time_order"),
        check("blocked_until >= end_time", "blocked_until"),
        check("buffer_minutes >= 0", "buffer_minutes"),
        check("duration_minutes > 0", "duration_minutes"),
        check("amount_cents >= 0", "amount_cents"),
        check("status <> 'held' OR hold_expires_at IS NOT NULL", "hold_expiry"),
        check("cancellation_fee_cents >= 0", "cancellation_fee_cents"),
        check("reschedule_count >= 0", "reschedule_count"),
        # A booking blocks at most a day, so calendar queries can bound start_time from below (0012).
        check("blocked_until <= start_time + interval '1 day'", "blocks_within_a_day"),
        sa.Index("uq_bookings_manage_token_hash", "manage_token_hash", unique=True,
                 postgresql_where=sa.text("manage_token_hash IS NOT NULL")),
        sa.Index("uq_bookings_reserve_key_hash", "reserve_key_hash", unique=True,
                 postgresql_where=sa.text("reserve_key_hash IS NOT NULL")),  # migration 0009
    )
    # Read trigger-maintained columns back with RETURNING on UPDATE as well as INSERT.
    __mapper_args__ = {"eager_defaults": True}

    id: uuid.UUID = uuid_pk()
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    # Copy of instructors.lock_key, kept by the bookings_fill_derived trigger (0002).
    instructor_key: Optional[int] = trigger_filled_field(sa.BigInteger, on_update=True)
    student_id: Optional[uuid.UUID] = fk_field("students.id", index=False)  # NULL for prospects
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    service_id: uuid.UUID = fk_field("services.id", nullable=False)

    # Schedule: scheduled_date is the local (Australia/Sydney) date of start_time.
    scheduled_date: date = date_field(nullable=False)
    start_time: datetime = ts_field(nullable=False)
    end_time: datetime = ts_field(nullable=False)
    duration_minutes: int = int_field(nullable=False)
    buffer_minutes: int = int_field(nullable=False, default=0)
    # end_time + buffer_minutes, stored; kept by the bookings_fill_derived trigger (0002).
    blocked_until: Optional[datetime] = trigger_filled_field(TZ, on_update=True)
    hold_expires_at: Optional[datetime] = ts_field()

    pickup_address: Optional[str] = text_field()
    suburb: Optional[str] = text_field()

    status: str = text_field(nullable=False, default="held")
    cancelled_at: Optional[datetime] = ts_field()
    cancelled_by: Optional[uuid.UUID] = fk_field("users.id")
    cancellation_reason: Optional[str] = text_field()
    rescheduled_from_id: Optional[uuid.UUID] = fk_field("bookings.id")
    reschedule_count: int = int_field(nullable=False, default=0)
    # Policy outcome of a cancellation: the late fee kept, and who waived it (0004).
    cancellation_fee_cents: int = int_field(nullable=False, default=0)
    fee_waived_at: Optional[datetime] = ts_field()
    fee_waived_by: Optional[uuid.UUID] = fk_field("users.id", index=False)
    # SHA-256 of the secret "manage your booking" link for people without an account (0004).
    manage_token_hash: Optional[str] = text_field()
    # The details typed in this booking (migration 0009): its messages go to these, never to an
    # account or contact that merely shares a phone or email. SHA-256 of the caller's reserve
    # idempotency key: only that caller's retry finds this hold again.
    booker_name: Optional[str] = text_field()
    booker_phone: Optional[str] = text_field()
    booker_email: Optional[str] = text_field()
    reserve_key_hash: Optional[str] = text_field()

    payment_status: str = text_field(nullable=False, default="unpaid")
    payment_id: Optional[uuid.UUID] = fk_field("payments.id", use_alter=True)
    amount_cents: int = int_field(nullable=False, default=0)
    # The package whose credit paid for this lesson (0005); a cancellation in time gives it back.
    student_package_id: Optional[uuid.UUID] = fk_field("student_packages.id", use_alter=True)

    booked_via: str = text_field(nullable=False, default="website")
    booked_by: Optional[uuid.UUID] = fk_field("users.id")

    is_co_lesson: bool = bool_field(default=False)
    co_lesson_parent_id: Optional[uuid.UUID] = fk_field("parents.id")

    # The learner replied "Y" to a reminder SMS (0006); the instructor's schedule shows it.
    attendance_confirmed_at: Optional[datetime] = ts_field()

    booking_notes: Optional[str] = text_field()  # visible to the student
    admin_notes: Optional[str] = text_field()  # internal only

    lesson_id: Optional[uuid.UUID] = fk_field("lessons.id", use_alter=True)

    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class WaitlistEntry(SQLModel, table=True):
    """Someone waiting for a preferred slot (spec `waitlist`)."""

    __tablename__ = "waitlist"
    __table_args__ = (
        sa.Index("idx_waitlist_status", "status"),
        sa.Index("idx_waitlist_instructor", "instructor_id"),
        check_in("status", WAITLIST_STATUSES),
        check("preferred_day IS NULL OR preferred_day BETWEEN 0 AND 6", "preferred_day"),
        check("student_id IS NOT NULL OR contact_id IS NOT NULL", "who"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: Optional[uuid.UUID] = fk_field("students.id")
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    instructor_id: Optional[uuid.UUID] = fk_field("instructors.id", index=False)
    preferred_day: Optional[int] = int_field()  # 0 = Sunday ... 6 = Saturday
    preferred_time_start: Optional[time] = time_field()
    preferred_time_end: Optional[time] = time_field()
    service_id: Optional[uuid.UUID] = fk_field("services.id")
    status: str = text_field(nullable=False, default="waiting")
    notified_at: Optional[datetime] = ts_field()
    offered_start_time: Optional[datetime] = ts_field()  # the freed slot we offered (0004)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
