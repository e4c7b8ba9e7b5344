"""Scheduled jobs: run-once records.

``job_runs`` holds one row per due run of a scheduled job. Every app process
runs the same APScheduler job table; before doing the work a process inserts
``(job_name, due_at)`` with ON CONFLICT DO NOTHING in its own committed
transaction, and only the process whose insert lands does the work
(docs/decisions/0000-stack.md: "each due job fires once across all processes").

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_name", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'running'"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'ok', 'failed', 'skipped')", name=op.f("ck_job_runs_status")),
        sa.CheckConstraint("finished_at IS NULL OR finished_at >= started_at", name=op.f("ck_job_runs_finished_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job_name", "due_at", name="uq_job_runs_job_name_due_at"),
    )
    op.create_index("ix_job_runs_started_at", "job_runs", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_runs_started_at", table_name="job_runs")
    op.drop_table("job_runs")
