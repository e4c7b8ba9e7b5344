"""Accounts: the throttle table behind the sign-in / magic-link / reset rate limits.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_throttle_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "action IN ('sign_in_failed', 'magic_link', 'password_reset')",
            name=op.f("ck_auth_throttle_events_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_throttle_events")),
    )
    op.create_index("ix_auth_throttle_events_account", "auth_throttle_events",
                    ["action", "account", "created_at"], unique=False)
    op.create_index("ix_auth_throttle_events_ip", "auth_throttle_events",
                    ["action", "ip", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_auth_throttle_events_ip", table_name="auth_throttle_events")
    op.drop_index("ix_auth_throttle_events_account", table_name="auth_throttle_events")
    op.drop_table("auth_throttle_events")
