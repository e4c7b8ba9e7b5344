"""Accounts, sessions and people: users, auth_sessions, magic_links, profiles,
instructors, students, parents, parent_student_links, parent_invitations.

``users`` replaces Clerk (docs/decisions/0000-stack.md): every ``user_id`` column in the spec
that held a Clerk id is a UUID foreign key to ``users.id`` here.
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
    inet_field,
    int_field,
    jsonb_field,
    numeric_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

ROLES = ("admin", "instructor", "student", "parent")
USER_STATUSES = ("active", "suspended")
MAGIC_LINK_PURPOSES = ("sign_in", "reset_password", "invite", "verify_email")
PROFILE_STATUSES = ("active", "inactive", "suspended")
INSTRUCTOR_STATUSES = ("active", "inactive", "onboarding", "suspended")
INSTRUCTOR_TRANSMISSIONS = ("manual", "auto", "both")
TRANSMISSIONS = ("manual", "auto")
LICENCE_TYPES = ("learner", "provisional", "full")
STUDENT_STATUSES = ("active", "inactive", "completed", "suspended", "archived")
PARENT_RELATIONSHIPS = ("parent", "guardian", "supervisor", "other")
PARENT_LINK_STATUSES = ("pending", "active", "revoked")


class User(SQLModel, table=True):
    """An account (replaces Clerk). Email is unique case-insensitively."""

    __tablename__ = "users"
    __table_args__ = (
        sa.Index("uq_users_email_lower", sa.text("lower(email)"), unique=True),
        check_in("role", ROLES),
        check_in("status", USER_STATUSES),
        check("failed_sign_in_count >= 0", "failed_sign_in_count"),
    )

    id: uuid.UUID = uuid_pk()
    email: str = text_field(nullable=False)
    password_hash: Optional[str] = text_field()  # Argon2id; NULL = magic-link only
    role: str = text_field(nullable=False)
    status: str = text_field(nullable=False, default="active")
    email_verified_at: Optional[datetime] = ts_field()
    last_sign_in_at: Optional[datetime] = ts_field()
    failed_sign_in_count: int = int_field(nullable=False, default=0)
    locked_until: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class AuthSession(SQLModel, table=True):
    """A server-side session; the cookie carries the token, we store its hash."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_auth_sessions_token_hash"),
        check("absolute_expires_at > created_at", "absolute_after_created"),
    )

    id: uuid.UUID = uuid_pk()
    token_hash: str = text_field(nullable=False)
    user_id: uuid.UUID = fk_field("users.id", nullable=False, ondelete="CASCADE")
    created_at: datetime = created_at_field()
    last_seen_at: datetime = ts_field(nullable=False, server_now=True)
    idle_expires_at: datetime = ts_field(nullable=False)
    absolute_expires_at: datetime = ts_field(nullable=False)
    revoked_at: Optional[datetime] = ts_field()
    ip: Optional[str] = inet_field()
    user_agent: Optional[str] = text_field()


class MagicLink(SQLModel, table=True):
    """A one-time sign-in / password-reset / invitation token (hash stored)."""

    __tablename__ = "magic_links"
    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_magic_links_token_hash"),
        sa.Index("ix_magic_links_email", sa.text("lower(email)")),
        check_in("purpose", MAGIC_LINK_PURPOSES),
    )

    id: uuid.UUID = uuid_pk()
    token_hash: str = text_field(nullable=False)
    user_id: Optional[uuid.UUID] = fk_field("users.id", ondelete="CASCADE")
    email: str = text_field(nullable=False)
    purpose: str = text_field(nullable=False)
    expires_at: datetime = ts_field(nullable=False)
    consumed_at: Optional[datetime] = ts_field()
    requested_ip: Optional[str] = inet_field()
    created_at: datetime = created_at_field()


class Profile(SQLModel, table=True):
    """Extended person data for every role (spec `profiles`)."""

    __tablename__ = "profiles"
    __table_args__ = (
        sa.Index("idx_profiles_role", "role"),
        sa.Index("idx_profiles_email", "email"),
        sa.Index("idx_profiles_phone", "phone"),
        check_in("role", ROLES),
        check_in("status", PROFILE_STATUSES),
    )

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, unique=True)
    first_name: str = text_field(nullable=False)
    last_name: str = text_field(nullable=False)
    email: str = text_field(nullable=False)
    phone: Optional[str] = text_field()  # E.164, +61XXXXXXXXX
    date_of_birth: Optional[date] = date_field()
    address_line1: Optional[str] = text_field()
    address_line2: Optional[str] = text_field()
    suburb: Optional[str] = text_field()
    state: Optional[str] = text_field(default="ACT")
    postcode: Optional[str] = text_field()
    role: str = text_field(nullable=False)
    status: str = text_field(nullable=False, default="active")
    onboarded_at: Optional[datetime] = ts_field()
    avatar_url: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    deleted_at: Optional[datetime] = ts_field()


class Instructor(SQLModel, table=True):
    """An instructor. ``lock_key`` is the integer the booking exclusion
    constraint and advisory locks use (docs/decisions/0001-no-double-booking.md)."""

    __tablename__ = "instructors"
    __table_args__ = (
        sa.UniqueConstraint("lock_key", name="uq_instructors_lock_key"),
        sa.Index("idx_instructors_adi_number", "adi_number"),
        check_in("transmission", INSTRUCTOR_TRANSMISSIONS),
        check_in("status", INSTRUCTOR_STATUSES),
        check("default_buffer_minutes >= 0", "default_buffer_minutes"),
        check("max_lessons_per_day > 0", "max_lessons_per_day"),
        check("hourly_rate_cents IS NULL OR hourly_rate_cents >= 0", "hourly_rate_cents"),
    )

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, unique=True)
    profile_id: uuid.UUID = fk_field("profiles.id", nullable=False, unique=True)
    lock_key: Optional[int] = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(always=True), nullable=False),
    )
    # ADI licence (ACT Government) as in the spec
    adi_number: str = text_field(nullable=False)
    adi_expiry: date = date_field(nullable=False)
    # ACT CBT&A accreditation certificate (docs/decisions/0004-cbta-rules.md): warn before it
    # lapses, stop offering slots after it does.
    accreditation_number: Optional[str] = text_field()
    accreditation_expiry: Optional[date] = date_field()
    vehicle_rego: Optional[str] = text_field()
    vehicle_make: Optional[str] = text_field()
    vehicle_model: Optional[str] = text_field()
    vehicle_year: Optional[int] = int_field()
    transmission: Optional[str] = text_field()
    is_owner: bool = bool_field(default=False)
    hourly_rate_cents: Optional[int] = int_field()
    commission_rate: Optional[Decimal] = numeric_field(5, 4)
    territory: Optional[str] = text_field()
    bio: Optional[str] = text_field()
    default_buffer_minutes: int = int_field(nullable=False, default=15)
    max_lessons_per_day: int = int_field(nullable=False, default=8)
    status: str = text_field(nullable=False, default="active")
    verified_at: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Student(SQLModel, table=True):
    """A learner driver."""

    __tablename__ = "students"
    __table_args__ = (
        sa.Index("idx_students_instructor_id", "instructor_id"),
        sa.Index("idx_students_status", "status"),
        sa.Index("idx_students_licence_number", "licence_number"),
        check_in("licence_type", LICENCE_TYPES),
        check_in("transmission", TRANSMISSIONS),
        check_in("status", STUDENT_STATUSES),
        check(
            "total_hours >= 0 AND night_hours >= 0 AND professional_hours >= 0",
            "hours_non_negative",
        ),
    )

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, unique=True)
    profile_id: uuid.UUID = fk_field("profiles.id", nullable=False, unique=True)
    instructor_id: uuid.UUID = fk_field("instructors.id", nullable=False, index=False)
    licence_number: Optional[str] = text_field()
    licence_type: Optional[str] = text_field()
    licence_expiry: Optional[date] = date_field()
    transmission: str = text_field(nullable=False, default="auto")
    school_or_work: Optional[str] = text_field()
    # Logbook totals (hours, NUMERIC(6,2)); credited hours are computed by the
    # logbook service (docs/decisions/0004-cbta-rules.md).
    total_hours: Optional[Decimal] = numeric_field(6, 2, nullable=False, default="0")
    night_hours: Optional[Decimal] = numeric_field(6, 2, nullable=False, default="0")
    professional_hours: Optional[Decimal] = numeric_field(6, 2, nullable=False, default="0")
    parent_visibility: bool = bool_field(default=True)
    enrollment_date: Optional[date] = date_field(nullable=False, server_today=True)
    estimated_test_date: Optional[date] = date_field()
    completion_date: Optional[date] = date_field()
    certificate_issued_at: Optional[datetime] = ts_field()
    certificate_number: Optional[str] = text_field()
    status: str = text_field(nullable=False, default="active")
    referral_source: Optional[str] = text_field()
    referral_detail: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Parent(SQLModel, table=True):
    """A parent / guardian / supervising driver."""

    __tablename__ = "parents"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, unique=True)
    profile_id: uuid.UUID = fk_field("profiles.id", nullable=False, unique=True)
    licence_type: Optional[str] = text_field()
    years_driving: Optional[int] = int_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ParentStudentLink(SQLModel, table=True):
    """Parent <-> student, with the permissions the *student* controls."""

    __tablename__ = "parent_student_links"
    __table_args__ = (
        # The unique (parent_id, student_id) also serves lookups by parent_id.
        sa.UniqueConstraint("parent_id", "student_id", name="uq_parent_student_links_parent_student"),
        sa.Index("idx_psl_student_id", "student_id"),
        check_in("relationship", PARENT_RELATIONSHIPS),
        check_in("status", PARENT_LINK_STATUSES),
    )

    id: uuid.UUID = uuid_pk()
    parent_id: uuid.UUID = fk_field("parents.id", nullable=False, index=False)
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    relationship: str = text_field(nullable=False, default="parent")
    can_view_progress: bool = bool_field(default=True)
    can_view_bookings: bool = bool_field(default=True)
    can_view_payments: bool = bool_field(default=True)
    can_view_lesson_notes: bool = bool_field(default=True)
    can_view_bridge_forms: bool = bool_field(default=True)
    can_book_lessons: bool = bool_field(default=True)
    status: str = text_field(nullable=False, default="active")
    invited_at: datetime = ts_field(nullable=False, server_now=True)
    accepted_at: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ParentInvitation(SQLModel, table=True):
    """A student's invitation to a parent (token hash stored, single use)."""

    __tablename__ = "parent_invitations"
    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_parent_invitations_token_hash"),
        sa.Index("ix_parent_invitations_email", sa.text("lower(email)")),
        check_in("relationship", PARENT_RELATIONSHIPS),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False)
    email: str = text_field(nullable=False)
    token_hash: str = text_field(nullable=False)
    relationship: str = text_field(nullable=False, default="parent")
    # {"can_view_progress": true, ...} — copied onto the link on acceptance
    permissions: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    invited_by_user_id: Optional[uuid.UUID] = fk_field("users.id")
    expires_at: datetime = ts_field(nullable=False)
    accepted_at: Optional[datetime] = ts_field()
    accepted_parent_id: Optional[uuid.UUID] = fk_field("parents.id")
    revoked_at: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
