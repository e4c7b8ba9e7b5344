"""What can be booked and when: services, availability_rules, availability_overrides.

Availability times are wall-clock ``TIME`` values in the business time zone
(Australia/Sydney, docs/decisions/0008-time-and-money-formats.md); the booking service converts them to UTC
instants per date.
"""
from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime, time
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    date_field,
    fk_field,
    int_field,
    text_field,
    time_field,
    updated_at_field,
    uuid_pk,
)

SERVICE_CATEGORIES = ("lesson", "co_lesson", "assessment", "special")
OVERRIDE_TYPES = ("blocked", "available")
# Which CBT&A rule gates a service (docs/decisions/0004-cbta-rules.md); NULL = anyone may book it.
ELIGIBILITY_KINDS = ("review_1", "review_2", "final_drive")


class Service(SQLModel, table=True):
    """A lesson type and its price (integer cents, GST-inclusive)."""

    __tablename__ = "services"
    __table_args__ = (
        sa.UniqueConstraint("slug", name="uq_services_slug"),
        sa.Index("idx_services_active", "is_active"),
        check_in("category", SERVICE_CATEGORIES),
        check("duration_minutes > 0", "duration_minutes"),
        check("price_cents >= 0", "price_cents"),
        check("min_notice_hours >= 0", "min_notice_hours"),
        check("buffer_minutes IS NULL OR buffer_minutes >= 0", "buffer_minutes"),
        check_in("eligibility_kind", ELIGIBILITY_KINDS),
    )

    id: uuid.UUID = uuid_pk()
    name: str = text_field(nullable=False)
    slug: str = text_field(nullable=False)
    description: Optional[str] = text_field()
    duration_minutes: int = int_field(nullable=False)
    price_cents: int = int_field(nullable=False)
    category: str = text_field(nullable=False)
    is_bookable_online: bool = bool_field(default=True)
    requires_eligibility_check: bool = bool_field(default=False)
    eligibility_kind: Optional[str] = text_field()  # review_1 / review_2 / final_drive (0004)
    buffer_minutes: Optional[int] = int_field()  # travel time after it; NULL = instructor default (0004)
    min_notice_hours: int = int_field(nullable=False, default=24)
    sort_order: int = int_field(nullable=False, default=0)
    is_active: bool = bool_field(default=True)
    color: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class AvailabilityRule(SQLModel, table=True):
    """Recurring weekly availability (0 = Sunday ... 6 = Saturday)."""

    __tablename__ = "availability_rules"
    __table_args__ = (
        sa.Index("idx_avail_rules_instructor", "instructor_id"),
        sa.Index("idx_avail_rules_day", "day_of_week"),
        check("day_of_week BETWEEN 0 AND 6", "day_of_week"),
        check("end_time > start_time", "time_order"),
        check("effective_until IS NULL OR effective_until >= effective_from", "effective_order"),
    )

    id: uuid.UUID = uuid_pk()
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    day_of_week: int = int_field(nullable=False)
    start_time: time = time_field(nullable=False)
    end_time: time = time_field(nullable=False)
    effective_from: Optional[date] = date_field(nullable=False, server_today=True)
    effective_until: Optional[date] = date_field()
    is_active: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class AvailabilityOverride(SQLModel, table=True):
    """A one-off block or opening; NULL start/end = the whole day."""

    __tablename__ = "availability_overrides"
    __table_args__ = (
        sa.Index("idx_avail_overrides_instructor", "instructor_id"),
        sa.Index("idx_avail_overrides_date", "date"),
        check_in("override_type", OVERRIDE_TYPES),
        check(
            "(start_time IS NULL AND end_time IS NULL)"
            " OR (start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)",
            "time_range",
        ),
    )

    id: uuid.UUID = uuid_pk()
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    date: dt.date = date_field(nullable=False)
    start_time: Optional[time] = time_field()
    end_time: Optional[time] = time_field()
    override_type: str = text_field(nullable=False)
    reason: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class InstructorService(SQLModel, table=True):
    """A lesson type an instructor offers (migration 0014). No rows for an instructor = every lesson type."""

    __tablename__ = "instructor_services"
    __table_args__ = (sa.Index("ix_instructor_services_service_id", "service_id"),)

    instructor_id: uuid.UUID = Field(sa_column=sa.Column(
        sa.Uuid, sa.ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True, nullable=False))
    service_id: uuid.UUID = Field(sa_column=sa.Column(
        sa.Uuid, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, nullable=False))
    created_at: datetime = created_at_field()


class CalendarVersion(SQLModel, table=True):
    """Changes whenever the instructor's calendar does (migration 0022: triggers on bookings, weekly rules,
    overrides and the instructor's own limits). ``reserve_lock()`` compares it after the instructor's lock."""

    __tablename__ = "calendar_versions"

    instructor_id: uuid.UUID = Field(sa_column=sa.Column(
        sa.Uuid, sa.ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True, nullable=False))
    version: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    # Changes only with the rules, overrides and the instructor's own limits, not the bookings (migration 0025).
    rules_version: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))


class CalendarDayVersion(SQLModel, table=True):
    """Changes whenever a booking touching this Canberra day of the instructor's calendar does (migration 0026).
    The availability engine's per-process copy of a window is used only while the instructor's ``rules_version``
    and the set of these versions in the window are the ones read with it."""

    __tablename__ = "calendar_day_versions"

    instructor_id: uuid.UUID = Field(sa_column=sa.Column(
        sa.Uuid, sa.ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True, nullable=False))
    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True, nullable=False))
    version: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
