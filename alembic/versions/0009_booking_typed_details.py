"""Bookings keep the details typed when they were made; a reserve retry is keyed, never matched by email.

* ``booker_name``, ``booker_phone``, ``booker_email``: the name, mobile (E.164) and email
  given in this booking. A booking made without signing in is never attached to an
  existing account or another person's contact because a detail matches; its messages
  go to these details only.
* ``reserve_key_hash``: SHA-256 of the idempotency key the caller sent with the
  reservation, so a retry by the same caller finds the same hold.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("booker_name", sa.Text(), nullable=True))
    op.add_column("bookings", sa.Column("booker_phone", sa.Text(), nullable=True))
    op.add_column("bookings", sa.Column("booker_email", sa.Text(), nullable=True))
    op.add_column("bookings", sa.Column("reserve_key_hash", sa.Text(), nullable=True))
    op.create_index("uq_bookings_reserve_key_hash", "bookings", ["reserve_key_hash"], unique=True,
                    postgresql_where=sa.text("reserve_key_hash IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_bookings_reserve_key_hash", table_name="bookings")
    for column in ("reserve_key_hash", "booker_email", "booker_phone", "booker_name"):
        op.drop_column("bookings", column)
