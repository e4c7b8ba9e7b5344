"""Certificates of competency (issue 12, item 5).

``certificates``: one row per learner (UNIQUE student_id: a certificate is issued once). It records
the serial number of the official form the instructor hands over (``form_serial``), the public
verification code printed on the completion statement, the document the two signatures bind
(``content`` plus the row's own facts; its SHA-256 in ``document_sha256``) and both signatures
(``signatures.document_type = 'certificate'``). Append-only: the signatures are written before the row,
so the row never changes after it is inserted, and the database refuses UPDATE, DELETE and TRUNCATE.

Revision ID: 0016
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("student_id", sa.Uuid(), sa.ForeignKey("students.id", name="fk_certificates_student_id"),
                  nullable=False),
        sa.Column("instructor_id", sa.Uuid(), sa.ForeignKey("instructors.id", name="fk_certificates_instructor_id"),
                  nullable=False),
        sa.Column("issued_by_user_id", sa.Uuid(),
                  sa.ForeignKey("users.id", name="fk_certificates_issued_by_user_id"), nullable=False),
        sa.Column("form_serial", sa.Text(), nullable=False),
        sa.Column("verification_code", sa.Text(), nullable=False),
        sa.Column("transmission", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("final_drive_lesson_id", sa.Uuid(),
                  sa.ForeignKey("lessons.id", name="fk_certificates_final_drive_lesson_id"), nullable=True),
        sa.Column("content", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("document_sha256", sa.Text(), nullable=False),
        sa.Column("instructor_signature_id", sa.Uuid(),
                  sa.ForeignKey("signatures.id", name="fk_certificates_instructor_signature_id"), nullable=False),
        sa.Column("student_signature_id", sa.Uuid(),
                  sa.ForeignKey("signatures.id", name="fk_certificates_student_signature_id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_certificates"),
        sa.UniqueConstraint("student_id", name="uq_certificates_student_id"),
        sa.UniqueConstraint("verification_code", name="uq_certificates_verification_code"),
        sa.CheckConstraint("char_length(form_serial) BETWEEN 1 AND 40", name="form_serial"),
        sa.CheckConstraint("verification_code ~ '^[A-Z2-9]{5}-[A-Z2-9]{5}$'", name="verification_code"),
        sa.CheckConstraint("transmission IN ('manual', 'auto')", name="transmission"),
        sa.CheckConstraint("document_sha256 ~ '^[0-9a-f]{64}$'", name="document_sha256"),
    )
    op.create_index("ix_certificates_instructor_id", "certificates", ["instructor_id"])
    op.create_index("ix_certificates_issued_by_user_id", "certificates", ["issued_by_user_id"])
    op.create_index("ix_certificates_final_drive_lesson_id", "certificates", ["final_drive_lesson_id"])
    op.create_index("ix_certificates_instructor_signature_id", "certificates", ["instructor_signature_id"])
    op.create_index("ix_certificates_student_signature_id", "certificates", ["student_signature_id"])
    op.execute("""
        CREATE TRIGGER certificates_append_only BEFORE UPDATE OR DELETE ON certificates
            FOR EACH ROW EXECUTE FUNCTION reject_append_only_change();
        CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON certificates
            FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS certificates_no_truncate ON certificates")
    op.execute("DROP TRIGGER IF EXISTS certificates_append_only ON certificates")
    op.drop_table("certificates")
