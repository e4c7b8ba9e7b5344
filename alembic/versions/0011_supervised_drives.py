"""The learner's log book: supervised practice drives (issue 12, item 4).

``supervised_drives``: one row per drive entered by the learner or a linked parent. The
supervisor is a linked parent (``supervisor_parent_id``, who may confirm the drive from their
own account) or typed (name + licence number). Day and night minutes are computed by the
service from Canberra's sunrise and sunset; the CHECKs below keep every row sane even if a
caller is wrong (end after start, at most 12 hours, day + night = total, odometer forwards,
bounded text, known road and weather conditions, confirmation fields together). Totals are
never stored: the log-book summary adds up these rows and the signed lessons.

Revision ID: 0011
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ROAD_CONDITIONS = ("residential", "main_road", "highway", "rural", "city", "gravel", "car_park")
WEATHER = ("dry", "wet", "fog", "wind", "storm")
ENTRANT_ROLES = ("student", "parent")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "supervised_drives",
        sa.Column("id", sa.Uuid(), primary_key=True, nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("student_id", sa.Uuid(), sa.ForeignKey("students.id", name="fk_supervised_drives_student_id"),
                  nullable=False),
        sa.Column("entered_by_user_id", sa.Uuid(),
                  sa.ForeignKey("users.id", name="fk_supervised_drives_entered_by_user_id"), nullable=False),
        sa.Column("entered_by_role", sa.Text(), nullable=False),
        sa.Column("supervisor_parent_id", sa.Uuid(),
                  sa.ForeignKey("parents.id", name="fk_supervised_drives_supervisor_parent_id"), nullable=True),
        sa.Column("supervisor_name", sa.Text(), nullable=False),
        sa.Column("supervisor_licence_number", sa.Text(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_minutes", sa.Integer(), nullable=False),
        sa.Column("day_minutes", sa.Integer(), nullable=False),
        sa.Column("night_minutes", sa.Integer(), nullable=False),
        sa.Column("odo_start", sa.Integer(), nullable=True),
        sa.Column("odo_end", sa.Integer(), nullable=True),
        sa.Column("road_conditions", sa.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'::text[]")),
        sa.Column("weather", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_user_id", sa.Uuid(),
                  sa.ForeignKey("users.id", name="fk_supervised_drives_confirmed_by_user_id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_supervised_drives"),
        sa.CheckConstraint(f"entered_by_role IN ({_in(ENTRANT_ROLES)})", name="entered_by_role"),
        sa.CheckConstraint("end_time > start_time", name="time_order"),
        sa.CheckConstraint("end_time - start_time <= interval '12 hours'", name="max_length"),
        sa.CheckConstraint("total_minutes > 0 AND total_minutes <= 720", name="total_minutes"),
        sa.CheckConstraint("day_minutes >= 0 AND night_minutes >= 0 AND day_minutes + night_minutes = total_minutes",
                           name="day_night"),
        sa.CheckConstraint("odo_start IS NULL OR odo_start BETWEEN 0 AND 9999999", name="odo_start"),
        sa.CheckConstraint("odo_end IS NULL OR odo_end BETWEEN 0 AND 9999999", name="odo_end"),
        sa.CheckConstraint("odo_end IS NULL OR odo_start IS NULL OR odo_end >= odo_start",
                           name="odometer"),
        sa.CheckConstraint("char_length(supervisor_name) BETWEEN 1 AND 100", name="supervisor_name"),
        sa.CheckConstraint("char_length(supervisor_licence_number) BETWEEN 1 AND 20",
                           name="supervisor_licence_number"),
        sa.CheckConstraint("notes IS NULL OR char_length(notes) <= 1000", name="notes"),
        sa.CheckConstraint(f"road_conditions <@ ARRAY[{_in(ROAD_CONDITIONS)}]::text[]",
                           name="road_conditions"),
        sa.CheckConstraint(f"weather IN ({_in(WEATHER)})", name="weather"),
        sa.CheckConstraint("(confirmed_at IS NULL) = (confirmed_by_user_id IS NULL)",
                           name="confirmation"),
        sa.CheckConstraint("confirmed_at IS NULL OR supervisor_parent_id IS NOT NULL",
                           name="confirmed_by_linked_supervisor"),
    )
    op.create_index("idx_supervised_drives_student_start", "supervised_drives", ["student_id", "start_time"])
    op.create_index("ix_supervised_drives_supervisor_parent_id", "supervised_drives", ["supervisor_parent_id"])
    op.create_index("ix_supervised_drives_entered_by_user_id", "supervised_drives", ["entered_by_user_id"])
    op.create_index("ix_supervised_drives_confirmed_by_user_id", "supervised_drives", ["confirmed_by_user_id"])
    op.execute("""
        CREATE TRIGGER trg_supervised_drives_updated_at BEFORE UPDATE ON supervised_drives
            FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_supervised_drives_updated_at ON supervised_drives")
    op.drop_table("supervised_drives")
