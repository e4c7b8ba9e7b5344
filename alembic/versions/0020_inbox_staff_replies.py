"""The owner's inbox (issue 15): a conversation's message may be written by a member of staff.

``messages.sender_type`` gains ``'staff'``: the owner's reply from ``/admin/inbox`` (sent by SMS or
email through the outbox) is kept in the thread beside the visitor's messages and the assistant's.

Revision ID: 0020
Revises: 0013
"""
from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_messages_sender_type"), "messages", type_="check")
    op.create_check_constraint(op.f("ck_messages_sender_type"), "messages",
                               "sender_type IN ('user', 'ai', 'system', 'staff')")


def downgrade() -> None:
    op.execute("UPDATE messages SET sender_type = 'system' WHERE sender_type = 'staff'")
    op.drop_constraint(op.f("ck_messages_sender_type"), "messages", type_="check")
    op.create_check_constraint(op.f("ck_messages_sender_type"), "messages", "sender_type IN ('user', 'ai', 'system')")
