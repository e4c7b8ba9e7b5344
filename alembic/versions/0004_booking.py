"""Booking engine: per-service buffer and eligibility, booking management, contact de-duplication.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ELIGIBILITY_KINDS = ("review_1", "review_2", "final_drive")


def upgrade() -> None:
    # Services: their own buffer (NULL = the instructor's default) and which CBT&A rule gates them.
    op.add_column("services", sa.Column("buffer_minutes", sa.Integer(), nullable=True))
    op.add_column("services", sa.Column("eligibility_kind", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_services_buffer_minutes"), "services",
                               "buffer_minutes IS NULL OR buffer_minutes >= 0")
    op.create_check_constraint(
        op.f("ck_services_eligibility_kind"), "services",
        "eligibility_kind IN (" + ", ".join(f"'{k}'" for k in ELIGIBILITY_KINDS) + ")",
    )
    op.execute("UPDATE services SET eligibility_kind = CASE slug WHEN 'review-1' THEN 'review_1' "
               "WHEN 'review-2' THEN 'review_2' WHEN 'final-drive' THEN 'final_drive' END "
               "WHERE requires_eligibility_check")

    # Bookings: a secret link for people without an account, the cancellation fee and its waiver.
    op.add_column("bookings", sa.Column("manage_token_hash", sa.Text(), nullable=True))
    op.add_column("bookings", sa.Column("cancellation_fee_cents", sa.Integer(),
                                        server_default=sa.text("0"), nullable=False))
    op.add_column("bookings", sa.Column("fee_waived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("fee_waived_by", sa.Uuid(), nullable=True))
    op.add_column("bookings", sa.Column("reschedule_count", sa.Integer(),
                                        server_default=sa.text("0"), nullable=False))
    op.create_foreign_key(op.f("fk_bookings_fee_waived_by"), "bookings", "users",
                          ["fee_waived_by"], ["id"])
    op.create_check_constraint(op.f("ck_bookings_cancellation_fee_cents"), "bookings",
                               "cancellation_fee_cents >= 0")
    op.create_check_constraint(op.f("ck_bookings_reschedule_count"), "bookings", "reschedule_count >= 0")
    op.create_index("uq_bookings_manage_token_hash", "bookings", ["manage_token_hash"], unique=True,
                    postgresql_where=sa.text("manage_token_hash IS NOT NULL"))

    # Waitlist: the slot a cancellation offered.
    op.add_column("waitlist", sa.Column("offered_start_time", sa.DateTime(timezone=True), nullable=True))

    # One live contact per phone number and per email address (the CRM de-duplicates on them).
    op.create_index("uq_contacts_phone", "contacts", ["phone"], unique=True,
                    postgresql_where=sa.text("deleted_at IS NULL AND phone IS NOT NULL"))
    op.create_index("uq_contacts_email", "contacts", [sa.text("lower(email)")], unique=True,
                    postgresql_where=sa.text("deleted_at IS NULL AND email IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_contacts_email", table_name="contacts")
    op.drop_index("uq_contacts_phone", table_name="contacts")
    op.drop_column("waitlist", "offered_start_time")
    op.drop_index("uq_bookings_manage_token_hash", table_name="bookings")
    op.drop_constraint(op.f("ck_bookings_reschedule_count"), "bookings", type_="check")
    op.drop_constraint(op.f("ck_bookings_cancellation_fee_cents"), "bookings", type_="check")
    op.drop_constraint(op.f("fk_bookings_fee_waived_by"), "bookings", type_="foreignkey")
    for column in ("reschedule_count", "fee_waived_by", "fee_waived_at", "cancellation_fee_cents",
                   "manage_token_hash"):
        op.drop_column("bookings", column)
    op.drop_constraint(op.f("ck_services_eligibility_kind"), "services", type_="check")
    op.drop_constraint(op.f("ck_services_buffer_minutes"), "services", type_="check")
    op.drop_column("services", "eligibility_kind")
    op.drop_column("services", "buffer_minutes")
