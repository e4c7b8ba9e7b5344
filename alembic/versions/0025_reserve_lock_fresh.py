"""reserve_lock_fresh(): the instructor's lock and, when their calendar changed while the reservation waited,
the window's bookings as they stand, in the same round trip (issue 17, sixth round).

``reserve_lock()`` (0024) tells a reservation whether the calendar it checked before the lock is still the one
in the database. Under load it usually is not: the reservation waited for the lock while someone else booked
that instructor, so it read the whole calendar again under the lock (rules, overrides and bookings, one more
round trip while everyone else waits). Only the bookings changed, almost always. ``calendar_versions.rules_version``
changes only with the rest of the calendar (weekly rules, overrides, the instructor's limits and settings: the
same triggers as ``version`` in 0022, without the bookings), and ``reserve_lock_fresh`` returns, after the lock,
the version, the live count, the rules' version and, when the first two differ from the caller's, the window's
live bookings (the same predicate as the calendar's read). When the rules' version is the one read with the
calendar, the caller checks its time against the calendar with these bookings: no second read. Otherwise it
re-reads as before. The exclusion constraint still has the last word.

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

RULE_TABLES = ("availability_rules", "availability_overrides")


def upgrade() -> None:
    op.add_column("calendar_versions", sa.Column("rules_version", sa.BigInteger(), nullable=False,
                                                 server_default="0"))
    op.execute("""
        CREATE FUNCTION bump_rules_versions(ids uuid[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO calendar_versions AS v (instructor_id, version, rules_version)
            SELECT d.id, nextval('calendar_version_seq'), nextval('calendar_version_seq')
            FROM (SELECT DISTINCT x AS id FROM unnest(ids) AS x WHERE x IS NOT NULL) AS d
            WHERE EXISTS (SELECT 1 FROM instructors i WHERE i.id = d.id)
            ORDER BY d.id
            ON CONFLICT (instructor_id) DO UPDATE SET rules_version = EXCLUDED.rules_version
        $$;

        CREATE FUNCTION calendar_rules_changed_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_rules_versions(ARRAY(SELECT instructor_id FROM new_rows));
            RETURN NULL;
        END $$;

        CREATE FUNCTION calendar_rules_changed_del() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_rules_versions(ARRAY(SELECT instructor_id FROM old_rows));
            RETURN NULL;
        END $$;

        CREATE FUNCTION calendar_rules_changed_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_rules_versions(ARRAY(
                SELECT instructor_id FROM new_rows UNION SELECT instructor_id FROM old_rows));
            RETURN NULL;
        END $$;

        CREATE FUNCTION instructors_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_rules_versions(ARRAY[NEW.id]);
            RETURN NULL;
        END $$;
        -- The same columns as instructors_calendar_changed (0022).
        CREATE TRIGGER instructors_rules_changed AFTER UPDATE ON instructors FOR EACH ROW
            WHEN ((NEW.max_lessons_per_day, NEW.default_buffer_minutes, NEW.accreditation_expiry, NEW.status,
                   NEW.lock_key)
                  IS DISTINCT FROM (OLD.max_lessons_per_day, OLD.default_buffer_minutes, OLD.accreditation_expiry,
                                    OLD.status, OLD.lock_key))
            EXECUTE FUNCTION instructors_rules_changed();

        CREATE FUNCTION reserve_lock_fresh(p_key bigint, p_instructor uuid, p_lo timestamptz, p_hi timestamptz,
                                           p_lo_start timestamptz, p_version bigint, p_live bigint,
                                           OUT version bigint, OUT live bigint, OUT rules_version bigint,
                                           OUT b_ids uuid[], OUT b_starts timestamptz[], OUT b_untils timestamptz[],
                                           OUT b_days date[], OUT b_blocking boolean[])
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            SELECT r.version, r.live INTO version, live
              FROM reserve_lock(p_key, p_instructor, p_lo, p_hi, p_lo_start) AS r;
            IF version IS DISTINCT FROM p_version OR live IS DISTINCT FROM p_live THEN
                -- After the lock, in this statement's own snapshot: the calendar read's predicate (availability.py).
                SELECT COALESCE((SELECT v.rules_version FROM calendar_versions v
                                 WHERE v.instructor_id = p_instructor), 0),
                       array_agg(bk.id ORDER BY bk.start_time), array_agg(bk.start_time ORDER BY bk.start_time),
                       array_agg(bk.blocked_until ORDER BY bk.start_time),
                       array_agg(bk.scheduled_date ORDER BY bk.start_time),
                       array_agg(bk.status <> 'completed' ORDER BY bk.start_time)
                  INTO rules_version, b_ids, b_starts, b_untils, b_days, b_blocking
                  FROM bookings bk
                 WHERE bk.instructor_id = p_instructor
                   AND bk.start_time < p_hi AND bk.start_time > p_lo_start AND bk.blocked_until > p_lo
                   AND (bk.status IN ('confirmed','in_progress','completed')
                        OR (bk.status = 'held' AND bk.hold_expires_at > now()));
            END IF;
        END $$;
    """)
    for table in RULE_TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_rules_ins AFTER INSERT ON {table}
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_rules_changed_ins();
            CREATE TRIGGER {table}_rules_upd AFTER UPDATE ON {table}
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION calendar_rules_changed_upd();
            CREATE TRIGGER {table}_rules_del AFTER DELETE ON {table}
                REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_rules_changed_del();
        """)


def downgrade() -> None:
    for table in RULE_TABLES:
        for suffix in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_rules_{suffix} ON {table}")
    op.execute("""
        DROP FUNCTION IF EXISTS reserve_lock_fresh(bigint, uuid, timestamptz, timestamptz, timestamptz, bigint,
                                                   bigint);
        DROP TRIGGER IF EXISTS instructors_rules_changed ON instructors;
        DROP FUNCTION IF EXISTS instructors_rules_changed();
        DROP FUNCTION IF EXISTS calendar_rules_changed_upd();
        DROP FUNCTION IF EXISTS calendar_rules_changed_del();
        DROP FUNCTION IF EXISTS calendar_rules_changed_ins();
        DROP FUNCTION IF EXISTS bump_rules_versions(uuid[]);
    """)
    op.drop_column("calendar_versions", "rules_version")
