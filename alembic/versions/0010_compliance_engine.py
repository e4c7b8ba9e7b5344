"""The CBT&A engine's own bookkeeping: lesson numbers, disputes, audit-unit notices, signature bindings.

* ``lesson_counters``: one row per student holding the last lesson number given out. Recording a lesson
  increments it with ``INSERT ... ON CONFLICT DO UPDATE`` (the row stays locked until commit), so two
  devices recording at once get consecutive numbers and a rolled-back lesson gives its number back.
* ``lessons.client_id``: the id a device made for the lesson (the offline workstation syncs with a
  phone-made UUID); unique, so a repeat returns the first record. ``lessons.transmission``: the car.
* ``lesson_disputes``: a learner's dispute of a signed lesson (reason, when) and the correction that
  resolved it. A signed lesson may change only its ``status`` between ``completed`` and ``disputed``;
  every other column stays final (the trigger from 0002, narrowed).
* ``final_drive_notices``: when the government audit unit was told of a learner's final drive.
* ``signatures.document_sha256`` (the SHA-256 of the signed document's canonical content at signing)
  and ``signatures.device_time`` (the signing device's own clock). Both are part of the chained record.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("signatures", sa.Column("document_sha256", sa.Text(), nullable=True))
    op.add_column("signatures", sa.Column("device_time", sa.DateTime(timezone=True), nullable=True))

    op.add_column("lessons", sa.Column("client_id", sa.Uuid(), nullable=True))
    op.add_column("lessons", sa.Column("transmission", sa.Text(), server_default=sa.text("'auto'"),
                                       nullable=False))
    op.create_check_constraint(op.f("ck_lessons_transmission"), "lessons", "transmission IN ('manual', 'auto')")
    op.create_unique_constraint(op.f("uq_lessons_client_id"), "lessons", ["client_id"])

    op.create_table(
        "lesson_counters",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_lesson_counters_last_number")),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], name=op.f("fk_lesson_counters_student_id")),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_lesson_counters")),
    )
    op.execute("""
        INSERT INTO lesson_counters (student_id, last_number)
        SELECT student_id, max(lesson_number) FROM lessons GROUP BY student_id
    """)

    op.create_table(
        "lesson_disputes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("raised_by", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_by_lesson_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_disputes_lesson_id")),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], name=op.f("fk_lesson_disputes_student_id")),
        sa.ForeignKeyConstraint(["raised_by"], ["users.id"], name=op.f("fk_lesson_disputes_raised_by")),
        sa.ForeignKeyConstraint(["resolved_by_lesson_id"], ["lessons.id"],
                                name=op.f("fk_lesson_disputes_resolved_by_lesson_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_disputes")),
    )
    op.create_index(op.f("ix_lesson_disputes_lesson_id"), "lesson_disputes", ["lesson_id"], unique=False)
    op.create_index(op.f("ix_lesson_disputes_student_id"), "lesson_disputes", ["student_id"], unique=False)
    op.create_index("uq_lesson_disputes_open", "lesson_disputes", ["lesson_id"], unique=True,
                    postgresql_where=sa.text("resolved_at IS NULL"))

    op.create_table(
        "final_drive_notices",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], name=op.f("fk_final_drive_notices_student_id")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_final_drive_notices_recorded_by")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_final_drive_notices")),
    )
    op.create_index(op.f("ix_final_drive_notices_student_id"), "final_drive_notices", ["student_id"],
                    unique=False)

    # A signed lesson stays final, except that a dispute may flip its status (and a resolution flip it back).
    op.execute("""
        CREATE OR REPLACE FUNCTION lessons_signed_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.signed_at IS NOT NULL OR OLD.status IN ('completed', 'disputed') THEN
                IF TG_OP = 'UPDATE' AND OLD.status IN ('completed', 'disputed')
                   AND NEW.status IN ('completed', 'disputed')
                   AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'append-only: lesson % is signed; % is not allowed, record a correction instead',
                    OLD.id, TG_OP USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
    """)


def downgrade() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION lessons_signed_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.signed_at IS NOT NULL OR OLD.status = 'completed' THEN
                RAISE EXCEPTION 'append-only: lesson % is signed; % is not allowed, record a correction instead',
                    OLD.id, TG_OP USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
    """)
    op.drop_table("final_drive_notices")
    op.drop_table("lesson_disputes")
    op.drop_table("lesson_counters")
    op.drop_constraint(op.f("uq_lessons_client_id"), "lessons", type_="unique")
    op.drop_constraint(op.f("ck_lessons_transmission"), "lessons", type_="check")
    op.drop_column("lessons", "transmission")
    op.drop_column("lessons", "client_id")
    op.drop_column("signatures", "device_time")
    op.drop_column("signatures", "document_sha256")
