"""Indexes for the hot queries, and a bound that keeps calendar ranges tight (issue 17).

* ``ck_bookings_blocks_within_a_day``: a booking blocks its instructor for at most a day
  (``blocked_until <= start_time + 1 day``). Calendar queries ask for bookings overlapping
  ``[lo, hi)``; with this bound they can also say ``start_time > lo - 1 day``, so an index on
  ``(instructor_id, start_time)`` reads only the rows near the range instead of the
  instructor's whole history, in custom and generic (prepared) plans alike.
* ``ix_bookings_instructor_start``: ``(instructor_id, start_time)`` for availability, the
  reserve re-check, the instructor's day and week, and lists ordered by time.
* ``ix_bookings_held_instructor``: an instructor's live holds (``status = 'held'``), for
  releasing lapsed holds under the per-instructor lock.
* ``ix_outbox_messages_pending_next_attempt`` now ``(next_attempt_at, id)``: the dispatcher's
  claim orders by both and stops at its LIMIT without sorting.

Revision ID: 0012
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(op.f("ck_bookings_blocks_within_a_day"), "bookings",
                               "blocked_until <= start_time + interval '1 day'")
    op.create_index("ix_bookings_instructor_start", "bookings", ["instructor_id", "start_time"])
    op.create_index("ix_bookings_held_instructor", "bookings", ["instructor_id", "hold_expires_at"],
                    postgresql_where=sa.text("status = 'held'"))
    op.drop_index("ix_outbox_messages_pending_next_attempt", table_name="outbox_messages")
    op.create_index("ix_outbox_messages_pending_next_attempt", "outbox_messages", ["next_attempt_at", "id"],
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_pending_next_attempt", table_name="outbox_messages")
    op.create_index("ix_outbox_messages_pending_next_attempt", "outbox_messages", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.drop_index("ix_bookings_held_instructor", table_name="bookings")
    op.drop_index("ix_bookings_instructor_start", table_name="bookings")
    op.drop_constraint(op.f("ck_bookings_blocks_within_a_day"), "bookings", type_="check")
