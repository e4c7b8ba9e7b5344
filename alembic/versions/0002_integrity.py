"""Integrity guarantees the database enforces itself (docs/decisions/0001-no-double-booking.md-3.3).

* bookings: no two live bookings/holds of one instructor overlap, buffers
  included. An exclusion constraint over (instructor_key, [start, blocked_until))
  for status held/confirmed; blocked_until and instructor_key are kept by a
  trigger so no caller can get them wrong. The embedded PostgreSQL has no
  btree_gist, so the instructor equality is expressed as int8range && int8range.
* hash chains for audit_log, signatures and student_competencies: a chain-head
  row locked FOR UPDATE serialises appends, so concurrent inserts cannot fork
  the chain; records are hashed over canonical JSON with UTC timestamps.
* append-only: UPDATE/DELETE/TRUNCATE rejected on the chained tables, and on
  lessons once signed.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHAINED = {
    # table -> SQL expression naming the chain a new row belongs to
    "audit_log": "'audit_log'",
    "signatures": "'signatures'",
    "student_competencies": "'student_competencies:' || NEW.student_id::text",
}


def upgrade() -> None:
    # ── bookings: overlap-proof holds and bookings ──────────────────────────
    op.execute("""
        CREATE FUNCTION bookings_fill_derived() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.blocked_until := NEW.end_time + make_interval(mins => COALESCE(NEW.buffer_minutes, 0));
            IF TG_OP = 'INSERT' OR NEW.instructor_id IS DISTINCT FROM OLD.instructor_id
               OR NEW.instructor_key IS NULL THEN
                SELECT lock_key INTO NEW.instructor_key FROM instructors WHERE id = NEW.instructor_id;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER bookings_fill_derived BEFORE INSERT OR UPDATE ON bookings
            FOR EACH ROW EXECUTE FUNCTION bookings_fill_derived();

        ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist (
            int8range(instructor_key, instructor_key, '[]') WITH &&,
            tstzrange(start_time, blocked_until, '[)') WITH &&
        ) WHERE (status IN ('held', 'confirmed'));
    """)

    # ── hash chains ─────────────────────────────────────────────────────────
    op.execute("""
        -- The canonical form of a record: its JSON without the hash itself and
        -- without null fields (so adding a nullable column never breaks old links).
        -- jsonb output is deterministic (sorted keys, fixed spacing); the callers
        -- run with timezone=UTC so timestamps serialise the same way everywhere.
        CREATE FUNCTION chain_record_hash(previous_hash text, record jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
            SELECT encode(sha256(convert_to(
                previous_hash || '|' || jsonb_strip_nulls(record - 'record_hash')::text, 'UTF8')), 'hex')
        $$;
    """)
    for table, chain_expr in CHAINED.items():
        op.execute(f"""
        CREATE FUNCTION {table}_chain_append() RETURNS trigger LANGUAGE plpgsql
        SET timezone = 'UTC' AS $$
        DECLARE
            head_seq bigint;
            head_hash text;
        BEGIN
            NEW.chain := {chain_expr};
            INSERT INTO chain_heads (chain, seq, head_hash) VALUES (NEW.chain, 0, 'GENESIS')
                ON CONFLICT (chain) DO NOTHING;
            SELECT seq, chain_heads.head_hash INTO head_seq, head_hash
                FROM chain_heads WHERE chain = NEW.chain FOR UPDATE;
            NEW.seq := head_seq + 1;
            NEW.previous_hash := head_hash;
            NEW.record_hash := NULL;
            NEW.record_hash := chain_record_hash(NEW.previous_hash, to_jsonb(NEW));
            UPDATE chain_heads SET seq = NEW.seq, head_hash = NEW.record_hash, updated_at = now()
                WHERE chain = NEW.chain;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {table}_chain_append BEFORE INSERT ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_chain_append();
        """)

    op.execute("""
        -- Walk one chain in seq order; report the first link that does not hold.
        CREATE FUNCTION verify_chain(p_table regclass, p_chain text)
        RETURNS TABLE (ok boolean, checked bigint, broken_seq bigint, reason text)
        LANGUAGE plpgsql STABLE SET timezone = 'UTC' AS $$
        DECLARE
            r record;
            expected_seq bigint := 1;
            expected_prev text := 'GENESIS';
            n bigint := 0;
            h_seq bigint;
            h_hash text;
        BEGIN
            FOR r IN EXECUTE format(
                'SELECT t.seq, t.previous_hash, t.record_hash, to_jsonb(t) AS doc FROM %s t WHERE t.chain = $1 ORDER BY t.seq',
                p_table) USING p_chain
            LOOP
                n := n + 1;
                IF r.seq <> expected_seq THEN
                    RETURN QUERY SELECT false, n, expected_seq,
                        format('record %s is missing (next record found is %s)', expected_seq, r.seq);
                    RETURN;
                END IF;
                IF r.previous_hash <> expected_prev THEN
                    RETURN QUERY SELECT false, n, r.seq,
                        format('record %s does not link to record %s (previous_hash mismatch)', r.seq, r.seq - 1);
                    RETURN;
                END IF;
                IF r.record_hash <> chain_record_hash(r.previous_hash, r.doc) THEN
                    RETURN QUERY SELECT false, n, r.seq,
                        format('record %s was altered (its content no longer matches its hash)', r.seq);
                    RETURN;
                END IF;
                expected_prev := r.record_hash;
                expected_seq := r.seq + 1;
            END LOOP;
            SELECT seq, head_hash INTO h_seq, h_hash FROM chain_heads WHERE chain = p_chain;
            IF h_seq IS NOT NULL AND (h_seq <> expected_seq - 1 OR h_hash <> expected_prev) THEN
                RETURN QUERY SELECT false, n, expected_seq,
                    format('chain ends at record %s but its head says %s', expected_seq - 1, h_seq);
                RETURN;
            END IF;
            RETURN QUERY SELECT true, n, NULL::bigint, NULL::text;
        END $$;
    """)

    # ── append-only ─────────────────────────────────────────────────────────
    op.execute("""
        CREATE FUNCTION reject_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'append-only: % on % is not allowed; record a correction instead', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END $$;
    """)
    for table in CHAINED:
        op.execute(f"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();
        """)
    op.execute("""
        CREATE FUNCTION lessons_signed_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.signed_at IS NOT NULL OR OLD.status = 'completed' THEN
                RAISE EXCEPTION 'append-only: lesson % is signed; % is not allowed, record a correction instead',
                    OLD.id, TG_OP USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
        CREATE TRIGGER lessons_signed_are_final BEFORE UPDATE OR DELETE ON lessons
            FOR EACH ROW EXECUTE FUNCTION lessons_signed_are_final();
        CREATE TRIGGER lessons_no_truncate BEFORE TRUNCATE ON lessons
            FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER IF EXISTS lessons_no_truncate ON lessons;
        DROP TRIGGER IF EXISTS lessons_signed_are_final ON lessons;
        DROP FUNCTION IF EXISTS lessons_signed_are_final();
    """)
    for table in CHAINED:
        op.execute(f"""
        DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
        DROP TRIGGER IF EXISTS {table}_append_only ON {table};
        DROP TRIGGER IF EXISTS {table}_chain_append ON {table};
        DROP FUNCTION IF EXISTS {table}_chain_append();
        """)
    op.execute("""
        DROP FUNCTION IF EXISTS reject_append_only_change();
        DROP FUNCTION IF EXISTS verify_chain(regclass, text);
        DROP FUNCTION IF EXISTS chain_record_hash(text, jsonb);
        ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ex_bookings_no_overlap;
        DROP TRIGGER IF EXISTS bookings_fill_derived ON bookings;
        DROP FUNCTION IF EXISTS bookings_fill_derived();
    """)
