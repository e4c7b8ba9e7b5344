"""reserve_lock(): the instructor's lock, the calendar's version and the lapsed holds in one round trip (issue 17).

A reservation checks its time against the instructor's calendar read *before* taking the instructor's
advisory lock, then calls this function: it takes the lock, reads (after the lock, in a fresh snapshot:
a plpgsql function's statements each take their own under READ COMMITTED) the instructor's calendar version
(migration 0022) and how many live bookings fall in the window that was read, and marks the instructor's
lapsed holds expired. When both numbers equal the ones read with the calendar, nothing the check depended on
has changed since (the triggers change the version with every change to the bookings, rules, overrides and
limits; the count catches the one change they leave out: a hold the check saw lapsed that was confirmed by a
transaction that still saw it live), and the check stands; otherwise the reservation re-reads the calendar
under the lock as before. The exclusion constraint still has the last word.

Revision ID: 0024
Revises: 0021 (the coordinator re-chains when merging)
"""
from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION reserve_lock(p_key bigint, p_instructor uuid, p_lo timestamptz, p_hi timestamptz,
                                     p_lo_start timestamptz, OUT version bigint, OUT live bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(p_key);
            -- After the lock, in this statement's own snapshot: the same predicate as the calendar's bookings.
            SELECT COALESCE((SELECT v.version FROM calendar_versions v WHERE v.instructor_id = p_instructor), 0),
                   (SELECT count(*) FROM bookings bk
                    WHERE bk.instructor_id = p_instructor
                      AND bk.start_time < p_hi AND bk.start_time > p_lo_start AND bk.blocked_until > p_lo
                      AND (bk.status IN ('confirmed','in_progress','completed')
                           OR (bk.status = 'held' AND bk.hold_expires_at > now())))
              INTO version, live;
            UPDATE bookings SET status = 'expired'
             WHERE instructor_id = p_instructor AND status = 'held' AND hold_expires_at <= now();
        END $$;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS reserve_lock(bigint, uuid, timestamptz, timestamptz, timestamptz)")
