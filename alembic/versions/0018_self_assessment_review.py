"""Self-assessments (C24): who marked one reviewed, and when.

``self_assessments.reviewed_by_instructor`` (0001) says only that it was reviewed. The instructor's
review is part of the learner's record, so keep who did it and when: ``reviewed_at`` and
``reviewed_by`` (a user). A partial index serves the instructor's list of those still to review.

Revision ID: 0018
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("self_assessments", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("self_assessments", sa.Column("reviewed_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_self_assessments_reviewed_by"), "self_assessments", "users",
                          ["reviewed_by"], ["id"])
    op.create_index("ix_self_assessments_unreviewed", "self_assessments", ["student_id", "completed_at"],
                    postgresql_where=sa.text("NOT reviewed_by_instructor"))


def downgrade() -> None:
    op.drop_index("ix_self_assessments_unreviewed", table_name="self_assessments")
    op.drop_constraint(op.f("fk_self_assessments_reviewed_by"), "self_assessments", type_="foreignkey")
    op.drop_column("self_assessments", "reviewed_by")
    op.drop_column("self_assessments", "reviewed_at")
