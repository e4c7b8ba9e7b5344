"""Account-security bookkeeping that the spec has no table for.

``auth_throttle_events``: one row per counted attempt (a failed sign-in, a
magic-link request, a password-reset request), keyed by account (lower-case
email) and by IP, so the accounts service can refuse the N+1th attempt within
a sliding window, per account and per IP. Rows older than a day are useless
and may be purged (``nexdrive.services.identity.accounts.purge_throttle_events``).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import TZ, check, check_in, created_at_field, inet_field, text_field, uuid_pk

THROTTLE_ACTIONS = ("sign_in_failed", "magic_link", "password_reset")


class AuthThrottleEvent(SQLModel, table=True):
    __tablename__ = "auth_throttle_events"
    __table_args__ = (
        sa.Index("ix_auth_throttle_events_account", "action", "account", "created_at"),
        sa.Index("ix_auth_throttle_events_ip", "action", "ip", "created_at"),
        check_in("action", THROTTLE_ACTIONS),
    )

    id: uuid.UUID = uuid_pk()
    action: str = text_field(nullable=False)
    account: Optional[str] = text_field()  # lower-case email as typed (known or not)
    ip: Optional[str] = inet_field()
    created_at: datetime = created_at_field()


class RateLimitCounter(SQLModel, table=True):
    """Fixed-window hit counters for public mutations (``nexdrive.services.core.ratelimit``), one row per bucket
    (action + who: an IP or a contact) and window, shared by every app process."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (check("hits >= 0", "hits"),)

    bucket: str = Field(sa_column=sa.Column(sa.Text(), primary_key=True))
    window_start: datetime = Field(sa_column=sa.Column(TZ, primary_key=True))
    hits: int = Field(default=0, sa_column=sa.Column(sa.Integer(), nullable=False, server_default=sa.text("0")))
    expires_at: datetime = Field(sa_column=sa.Column(TZ, nullable=False, index=True))
