"""Calendar versions: a number that changes whenever an instructor's calendar does (issue 17).

``calendar_versions``: one row per instructor, its ``version`` taken from ``calendar_version_seq`` by
statement-level triggers whenever that instructor's bookings, weekly rules, overrides or calendar settings
(daily limit, default buffer, accreditation expiry) change. The availability engine keeps a short-lived copy
of each instructor's calendar per process and re-reads it only when the version it reads (one small query)
differs from the copy's, so the calendar is no longer fetched and parsed on every request.

Versions come from a sequence, never from ``version + 1``: a transaction that rolls back can never leave
a number behind that a later, different calendar reuses. A booking's UPDATE changes the version only when it
changes what the calendar shows (its instructor, times, day, or whether it blocks): a live hold becoming
confirmed blocks the same time and does not (the copy expires when the hold would have lapsed anyway).

Revision ID: 0022
Revises: 0014 (the coordinator re-chains when merging)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0023"
branch_labels = None
depends_on = None

CALENDAR_TABLES = ("bookings", "availability_rules", "availability_overrides")


def upgrade() -> None:
    op.execute("CREATE SEQUENCE calendar_version_seq")
    op.create_table(
        "calendar_versions",
        sa.Column("instructor_id", sa.Uuid(),
                  sa.ForeignKey("instructors.id", name="fk_calendar_versions_instructor_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instructor_id", name="pk_calendar_versions"),
    )
    op.execute("""
        CREATE FUNCTION bump_calendar_versions(ids uuid[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO calendar_versions AS v (instructor_id, version)
            SELECT d.id, nextval('calendar_version_seq')
            FROM (SELECT DISTINCT x AS id FROM unnest(ids) AS x WHERE x IS NOT NULL) AS d
            WHERE EXISTS (SELECT 1 FROM instructors i WHERE i.id = d.id)
            ORDER BY d.id
            ON CONFLICT (instructor_id) DO UPDATE SET version = EXCLUDED.version
        $$;

        CREATE FUNCTION calendar_changed_ins() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY(SELECT instructor_id FROM new_rows));
            RETURN NULL;
        END $$;

        CREATE FUNCTION calendar_changed_del() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY(SELECT instructor_id FROM old_rows));
            RETURN NULL;
        END $$;

        CREATE FUNCTION calendar_changed_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY(
                SELECT instructor_id FROM new_rows UNION SELECT instructor_id FROM old_rows));
            RETURN NULL;
        END $$;

        -- Bookings: only the updates that change what a calendar shows. A live hold that becomes confirmed
        -- (or a confirmed lesson that starts) blocks the same time; nothing else a calendar reads changes.
        CREATE FUNCTION bookings_calendar_changed_upd() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY(
                SELECT x.instructor_id
                FROM new_rows n JOIN old_rows o ON o.id = n.id,
                     LATERAL (VALUES (n.instructor_id), (o.instructor_id)) AS x(instructor_id)
                WHERE (n.instructor_id, n.start_time, n.blocked_until, n.scheduled_date)
                        IS DISTINCT FROM (o.instructor_id, o.start_time, o.blocked_until, o.scheduled_date)
                   OR (n.status IS DISTINCT FROM o.status
                       AND NOT (o.status = 'held' AND o.hold_expires_at > now()
                                AND n.status IN ('confirmed', 'in_progress'))
                       AND NOT (o.status = 'confirmed' AND n.status = 'in_progress'))
                   OR (n.status = 'held' AND n.hold_expires_at IS DISTINCT FROM o.hold_expires_at)));
            RETURN NULL;
        END $$;

        -- An instructor's own calendar settings.
        CREATE FUNCTION instructors_calendar_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM bump_calendar_versions(ARRAY[NEW.id]);
            RETURN NULL;
        END $$;
        CREATE TRIGGER instructors_calendar_changed AFTER UPDATE ON instructors FOR EACH ROW
            WHEN ((NEW.max_lessons_per_day, NEW.default_buffer_minutes, NEW.accreditation_expiry, NEW.status,
                   NEW.lock_key)
                  IS DISTINCT FROM (OLD.max_lessons_per_day, OLD.default_buffer_minutes, OLD.accreditation_expiry,
                                    OLD.status, OLD.lock_key))
            EXECUTE FUNCTION instructors_calendar_changed();
    """)
    for table in CALENDAR_TABLES:
        upd = "bookings_calendar_changed_upd" if table == "bookings" else "calendar_changed_upd"
        op.execute(f"""
            CREATE TRIGGER {table}_calendar_ins AFTER INSERT ON {table}
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed_ins();
            CREATE TRIGGER {table}_calendar_upd AFTER UPDATE ON {table}
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION {upd}();
            CREATE TRIGGER {table}_calendar_del AFTER DELETE ON {table}
                REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION calendar_changed_del();
        """)


def downgrade() -> None:
    for table in CALENDAR_TABLES:
        for suffix in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_calendar_{suffix} ON {table}")
    op.execute("""
        DROP TRIGGER IF EXISTS instructors_calendar_changed ON instructors;
        DROP FUNCTION IF EXISTS instructors_calendar_changed();
        DROP FUNCTION IF EXISTS bookings_calendar_changed_upd();
        DROP FUNCTION IF EXISTS calendar_changed_upd();
        DROP FUNCTION IF EXISTS calendar_changed_del();
        DROP FUNCTION IF EXISTS calendar_changed_ins();
        DROP FUNCTION IF EXISTS bump_calendar_versions(uuid[]);
    """)
    op.drop_table("calendar_versions")
    op.execute("DROP SEQUENCE IF EXISTS calendar_version_seq")
