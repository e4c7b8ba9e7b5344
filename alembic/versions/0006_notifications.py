"""Notifications: dispatcher, delivery status, preferences, two-way SMS.

* outbox_messages: who holds a claim (``claimed_by``), SMS segments, the
  provider's latest delivery status, and when a secret link was removed from
  the stored body; a partial index to find stale claims.
* offline_deliveries: what the offline SMS/email adapters "delivered", one row
  per outbox message (UNIQUE), so exactly-once holds there and the admin can
  see what would have gone out.
* bookings.attendance_confirmed_at: a learner replied "Y" to a reminder.
* marketing_consents.unsubscribe_token: the one-click unsubscribe link.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("claimed_by", sa.Text(), nullable=True))
    op.add_column("outbox_messages", sa.Column("segments", sa.Integer(), nullable=True))
    op.add_column("outbox_messages", sa.Column("provider_status", sa.Text(), nullable=True))
    op.add_column("outbox_messages", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(op.f("ck_outbox_messages_segments"), "outbox_messages",
                               "segments IS NULL OR segments >= 0")
    op.create_index("ix_outbox_messages_sending_claimed_at", "outbox_messages", ["claimed_at"],
                    postgresql_where=sa.text("status = 'sending'"))

    op.create_table(
        "offline_deliveries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("outbox_message_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachments", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("provider_message_id", sa.Text(), nullable=False),
        sa.Column("send_requests", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("last_requested_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_deliveries")),
        sa.ForeignKeyConstraint(["outbox_message_id"], ["outbox_messages.id"], ondelete="CASCADE",
                                name=op.f("fk_offline_deliveries_outbox_message_id")),
        sa.UniqueConstraint("outbox_message_id", name=op.f("uq_offline_deliveries_outbox_message_id")),
        sa.UniqueConstraint("provider_message_id", name=op.f("uq_offline_deliveries_provider_message_id")),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_offline_deliveries_channel")),
        sa.CheckConstraint("send_requests >= 1", name=op.f("ck_offline_deliveries_send_requests")),
    )
    op.create_index("ix_offline_deliveries_created_at", "offline_deliveries", ["created_at"])

    op.add_column("bookings", sa.Column("attendance_confirmed_at", sa.DateTime(timezone=True), nullable=True))

    op.add_column("marketing_consents", sa.Column("unsubscribe_token", sa.Text(), nullable=True))
    op.create_index("uq_marketing_consents_unsubscribe_token", "marketing_consents", ["unsubscribe_token"],
                    unique=True, postgresql_where=sa.text("unsubscribe_token IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_marketing_consents_unsubscribe_token", table_name="marketing_consents")
    op.drop_column("marketing_consents", "unsubscribe_token")
    op.drop_column("bookings", "attendance_confirmed_at")
    op.drop_index("ix_offline_deliveries_created_at", table_name="offline_deliveries")
    op.drop_table("offline_deliveries")
    op.drop_index("ix_outbox_messages_sending_claimed_at", table_name="outbox_messages")
    op.drop_constraint(op.f("ck_outbox_messages_segments"), "outbox_messages", type_="check")
    for column in ("redacted_at", "provider_status", "segments", "claimed_by"):
        op.drop_column("outbox_messages", column)
