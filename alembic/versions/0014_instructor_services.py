"""Which lesson types each instructor offers (issue 16, C20: a school of many instructors).

``instructor_services``: one row per (instructor, service) the instructor teaches. An instructor
with no rows offers every active lesson type (so existing schools keep working unchanged); once
the office picks lesson types for an instructor, the booking engine offers that instructor only
for those.

Revision ID: 0014
Revises: 0013 (chained after 0012 on this branch; the coordinator re-chains when merging)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instructor_services",
        sa.Column("instructor_id", sa.Uuid(),
                  sa.ForeignKey("instructors.id", name="fk_instructor_services_instructor_id",
                                ondelete="CASCADE"), nullable=False),
        sa.Column("service_id", sa.Uuid(),
                  sa.ForeignKey("services.id", name="fk_instructor_services_service_id",
                                ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("instructor_id", "service_id", name="pk_instructor_services"),
    )
    op.create_index("ix_instructor_services_service_id", "instructor_services", ["service_id"])


def downgrade() -> None:
    op.drop_index("ix_instructor_services_service_id", table_name="instructor_services")
    op.drop_table("instructor_services")
