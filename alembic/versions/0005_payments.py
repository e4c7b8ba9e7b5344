"""Payments: gateway records, refunds, packages in bookings, voucher redemption.

Revision ID: 0005
Revises: 0004

* ``business_settings.allow_pay_later``: whether a customer may confirm now and pay later.
* ``bookings.student_package_id``: the package whose credit paid for the lesson;
  ``bookings.payment_status`` may also be ``partially_refunded`` (a late cancellation keeps the fee).
* ``payments``: ``discount_cents`` (voucher), ``completed_at`` (revenue is counted when the money
  arrives, not when the checkout opened), ``checkout_expires_at`` (the gateway session's end, always
  before the hold's), ``manage_token`` (the customer's booking link, kept only while a checkout is
  open so the confirmation sent from the webhook carries the same link the customer already has;
  cleared when the payment completes) and the status ``expired`` (an abandoned checkout).
* ``refunds``: one row per refund sent to the gateway; ``payments.refund_amount_cents`` is their total.
* ``student_packages.payment_id`` unique: one package per purchase, however often the webhook arrives.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_BOOKING_PAYMENT = ("unpaid", "deposit_paid", "paid", "package_credit", "refunded", "waived")
NEW_BOOKING_PAYMENT = OLD_BOOKING_PAYMENT + ("partially_refunded",)
OLD_PAYMENT_STATUS = ("pending", "processing", "completed", "failed", "refunded", "partially_refunded", "disputed")
NEW_PAYMENT_STATUS = OLD_PAYMENT_STATUS + ("expired",)
REFUND_STATUSES = ("pending", "succeeded", "failed", "cancelled")
REFUND_KINDS = ("admin", "cancellation", "fee_waived", "lapsed_hold", "duplicate", "gateway")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _replace_check(table: str, name: str, expr: str) -> None:
    op.drop_constraint(op.f(name), table, type_="check")
    op.create_check_constraint(op.f(name), table, expr)


def upgrade() -> None:
    op.add_column("business_settings", sa.Column("allow_pay_later", sa.Boolean(),
                                                 server_default=sa.true(), nullable=False))

    op.add_column("payments", sa.Column("discount_cents", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("payments", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payments", sa.Column("checkout_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payments", sa.Column("manage_token", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_payments_discount_cents"), "payments", "discount_cents >= 0")
    _replace_check("payments", "ck_payments_status", _in("status", NEW_PAYMENT_STATUS))
    op.create_index("idx_payments_completed", "payments", ["completed_at"], unique=False)

    op.add_column("bookings", sa.Column("student_package_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_bookings_student_package_id"), "bookings", "student_packages",
                          ["student_package_id"], ["id"])
    op.create_index(op.f("ix_bookings_student_package_id"), "bookings", ["student_package_id"], unique=False)
    _replace_check("bookings", "ck_bookings_payment_status", _in("payment_status", NEW_BOOKING_PAYMENT))

    op.create_index("uq_student_packages_payment_id", "student_packages", ["payment_id"], unique=True,
                    postgresql_where=sa.text("payment_id IS NOT NULL"))

    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default=sa.text("'admin'"), nullable=False),
        sa.Column("gateway_refund_id", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refunds_amount_cents")),
        sa.CheckConstraint(_in("status", REFUND_STATUSES), name=op.f("ck_refunds_status")),
        sa.CheckConstraint(_in("kind", REFUND_KINDS), name=op.f("ck_refunds_kind")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_refunds_created_by")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("gateway_refund_id", name=op.f("uq_refunds_gateway_refund_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"], unique=False)
    op.create_index(op.f("ix_refunds_created_by"), "refunds", ["created_by"], unique=False)
    op.execute("CREATE TRIGGER trg_refunds_updated_at BEFORE UPDATE ON refunds "
               "FOR EACH ROW EXECUTE FUNCTION set_updated_at()")


def downgrade() -> None:
    op.drop_table("refunds")
    op.drop_index("uq_student_packages_payment_id", table_name="student_packages")
    op.execute("UPDATE bookings SET payment_status = 'paid' WHERE payment_status = 'partially_refunded'")
    _replace_check("bookings", "ck_bookings_payment_status", _in("payment_status", OLD_BOOKING_PAYMENT))
    op.drop_index(op.f("ix_bookings_student_package_id"), table_name="bookings")
    op.drop_constraint(op.f("fk_bookings_student_package_id"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "student_package_id")
    op.drop_index("idx_payments_completed", table_name="payments")
    op.execute("UPDATE payments SET status = 'failed' WHERE status = 'expired'")
    _replace_check("payments", "ck_payments_status", _in("status", OLD_PAYMENT_STATUS))
    op.drop_constraint(op.f("ck_payments_discount_cents"), "payments", type_="check")
    for column in ("manage_token", "checkout_expires_at", "completed_at", "discount_cents"):
        op.drop_column("payments", column)
    op.drop_column("business_settings", "allow_pay_later")
