"""Rate limits for public mutations: fixed-window counters shared by every app process.

``rate_limit_counters`` holds one row per (bucket, window): the bucket names the
action and who is counted (``reserve|ip|203.0.113.7``, ``sign_up|contact|a@b.com``).
``nexdrive.services.core.ratelimit`` bumps it with ``INSERT ... ON CONFLICT DO UPDATE``
in its own short transaction, so every worker sees the same count. Rows past
``expires_at`` are useless and purged nightly.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hits >= 0", name=op.f("ck_rate_limit_counters_hits")),
        sa.PrimaryKeyConstraint("bucket", "window_start", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(op.f("ix_rate_limit_counters_expires_at"), "rate_limit_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counters_expires_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
