"""Calendar day versions: a booking changes only the versions of the days it touches (issue 17, seventh round).

``calendar_versions.version`` (0022) changes with every booking of the instructor, on any day. The availability
engine's per-process copy of a calendar window was checked against it, so under booking load every copy of a
busy instructor was out of date at once: "first available" read all ten instructors' day again on almost every
reservation (a booking on 3 March made the copy of 10 February stale). ``calendar_day_versions`` holds one row
per instructor and Canberra day that a booking ever touched, its ``version`` taken from the same sequence by the
bookings' triggers, for each local day from the booking's start to its ``blocked_until`` and its
``scheduled_date``. A copy of a window is now current while the instructor's ``rules_version`` (0025: weekly
rules, overrides, the instructor's limits) and the set of day versions in the window (with a day either side:
the calendar read covers them) are the ones read with it.

Why the set and not the greatest: versions come from a sequence, so every value is written to one row once and
the set of a window's values names its state exactly; the greatest does not (a transaction that took a lower
value may commit after one that took a higher). The bookings' update trigger keeps 0022's rule of what a
calendar shows (a live hold that becomes confirmed does not change it), now in one function for both numbers.
``calendar_versions.version`` is unchanged: ``reserve_lock()`` (0024) still compares it after the lock.

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# 0022's test of "this update changes what the calendar shows", kept as written there.
_SHOWS_CHANGE = """
    (n.instructor_id, n.start_time, n.blocked_until, n.scheduled_date)
        IS DISTINCT FROM (o.instructor_id, o.start_time, o.blocked_until, o.scheduled_date)
    OR (n.status IS DISTINCT FROM o.status
        AND NOT (o.status = 'held' AND o.hold_expires_at > now()
                 AND n.status IN ('confirmed', 'in_progress'))
        AND NOT (o.status = 'confirmed' AND n.status = 'in_progress'))
    OR (n.status = 'held' AND n.hold_expires_at IS DISTINCT FROM o.hold_expires_at)"""


def upgrade() -> None:
    op.create_table(
        "calendar_day_versions",
        sa.Column("instructor_id", sa.Uuid(),
                  sa.ForeignKey("instructors.id", name="fk_calendar_day_versions_instructor_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instructor_id", "day", name="pk_calendar_day_versions"),
    )
    op.execute(f"""
        -- The Canberra days each booking touches: from its start's day to its blocked_until's (at most a week:
        -- a lesson is hours long) and its scheduled_date. Locked in (instructor, day) order: no deadlock between
        -- two statements bumping the same days.
        CREATE FUNCTION bump_calendar_days(ids uuid[], starts timestamptz[], untils timestamptz[], days date[])
        RETURNS void LANGUAGE sql AS $$
            INSERT INTO calendar_day_versions AS v (instructor_id, day, version)
            SELECT d.instructor_id, d.day, nextval('calendar_version_seq')
            FROM (
                SELECT DISTINCT b.instructor_id, x.day
                FROM unnest(ids, starts, untils, days) AS b(instructor_id, start_time, blocked_until, scheduled_date),
                     LATERAL (
                         SELECT b.scheduled_date AS day
                         UNION
                         SELECT g::date FROM generate_series(
                             (b.start_time AT TIME ZONE 'Australia/Sydney')::date::timestamp,
                             LEAST((b.blocked_until AT TIME ZONE 'Australia/Sydney')::date,
                                   (b.start_time AT TIME ZONE 'Australia/Sydney')::date + 7)::timestamp,
                             interval '1 day') AS g
                     ) AS x
                WHERE b.instructor_id IS NOT NULL AND x.day IS NOT NULL
            ) AS d
            WHERE EXISTS (SELECT 1 FROM instructors i WHERE i.id = d.instructor_id)
            ORDER BY d.instructor_id, d.day
            ON CONFLICT (instructor_id, day) DO UPDATE SET version = EXCLUDED.version
        $$;

        CREATE FUNCTION bookings_calendar_changed_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE i uuid[]; s timestamptz[]; u timestamptz[]; d date[];
        BEGIN
            -- One pass over the rows: the four aggregates see them in the same order.
            SELECT array_agg(instructor_id), array_agg(start_time), array_agg(blocked_until), array_agg(scheduled_date)
              INTO i, s, u, d FROM new_rows;
            PERFORM bump_calendar_versions(i);
            PERFORM bump_calendar_days(i, s, u, d);
            RETURN NULL;
        END $$;

        CREATE FUNCTION bookings_calendar_changed_del() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE i uuid[]; s timestamptz[]; u timestamptz[]; d date[];
        BEGIN
            SELECT array_agg(instructor_id), array_agg(start_time), array_agg(blocked_until), array_agg(scheduled_date)
              INTO i, s, u, d FROM old_rows;
            PERFORM bump_calendar_versions(i);
            PERFORM bump_calendar_days(i, s, u, d);
            RETURN NULL;
        END $$;

        -- Only the updates that change what a calendar shows (0022), for the instructor and for the days the row
        -- touched before and after.
        CREATE OR REPLACE FUNCTION bookings_calendar_changed_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE i uuid[]; s timestamptz[]; u timestamptz[]; d date[];
        BEGIN
            SELECT array_agg(x.instructor_id), array_agg(x.start_time), array_agg(x.blocked_until),
                   array_agg(x.scheduled_date)
              INTO i, s, u, d
              FROM new_rows n JOIN old_rows o ON o.id = n.id,
                   LATERAL (VALUES (n.instructor_id, n.start_time, n.blocked_until, n.scheduled_date),
                                   (o.instructor_id, o.start_time, o.blocked_until, o.scheduled_date))
                           AS x(instructor_id, start_time, blocked_until, scheduled_date)
             WHERE {_SHOWS_CHANGE};
            IF i IS NOT NULL THEN
                PERFORM bump_calendar_versions(i);
                PERFORM bump_calendar_days(i, s, u, d);
            END IF;
            RETURN NULL;
        END $$;

        DROP TRIGGER bookings_calendar_ins ON bookings;
        DROP TRIGGER bookings_calendar_del ON bookings;
        CREATE TRIGGER bookings_calendar_ins AFTER INSERT ON bookings
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bookings_calendar_changed_ins();
        CREATE TRIGGER bookings_calendar_del AFTER DELETE ON bookings
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bookings_calendar_changed_del();
    """)


def downgrade() -> None:
    op.execute(f"""
        DROP TRIGGER bookings_calendar_ins ON bookings;
        DROP TRIGGER bookings_calendar_del ON bookings;
        CREATE TRIGGER bookings_calendar_ins AFTER INSERT ON bookings
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed_ins();
        CREATE TRIGGER bookings_calendar_del AFTER DELETE ON bookings
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed_del();
        CREATE OR REPLACE FUNCTION bookings_calendar_changed_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY(
                SELECT x.instructor_id
                FROM new_rows n JOIN old_rows o ON o.id = n.id,
                     LATERAL (VALUES (n.instructor_id), (o.instructor_id)) AS x(instructor_id)
                WHERE {_SHOWS_CHANGE}));
            RETURN NULL;
        END $$;
        DROP FUNCTION bookings_calendar_changed_del();
        DROP FUNCTION bookings_calendar_changed_ins();
        DROP FUNCTION bump_calendar_days(uuid[], timestamptz[], timestamptz[], date[]);
    """)
    op.drop_table("calendar_day_versions")
