"""Money: payments, packages, student_packages, vouchers, voucher_redemptions,
invoices and invoice_counters. All amounts are integer cents, GST-inclusive.

Invoices (docs/decisions/0008-time-and-money-formats.md) are numbered ``NXD-<year>-<seq:04d>`` without gaps:
the number is taken from ``invoice_counters`` (row locked ``FOR UPDATE``) in the
same transaction that inserts the invoice.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    fk_field,
    int_field,
    jsonb_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_array_field,
    uuid_pk,
)

PAYMENT_METHODS = (
    "card",
    "direct_debit",
    "afterpay",
    "paypal",
    "package_credit",
    "voucher",
    "cash",
    "other",
)
PAYMENT_STATUSES = (
    "pending",
    "processing",
    "completed",
    "failed",
    "refunded",
    "partially_refunded",
    "disputed",
    "expired",  # an abandoned checkout (0005)
)
REFUND_STATUSES = ("pending", "succeeded", "failed", "cancelled")
# Why the money went back: the admin, a cancellation under the policy, a waived fee, a payment
# for a hold that lapsed and could not be re-reserved, a second payment for one lesson, or a
# refund made in the gateway's own dashboard (learned from its webhook).
REFUND_KINDS = ("admin", "cancellation", "fee_waived", "lapsed_hold", "duplicate", "gateway")
STUDENT_PACKAGE_STATUSES = ("active", "exhausted", "expired", "cancelled")
VOUCHER_TYPES = ("percentage", "fixed_amount", "free_lesson")


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        sa.Index("idx_payments_student_id", "student_id"),
        sa.Index("idx_payments_booking_id", "booking_id"),
        sa.Index("idx_payments_status", "status"),
        sa.Index("idx_payments_created", "created_at"),
        sa.Index("idx_payments_completed", "completed_at"),
        # Webhook idempotency: one row per gateway object.
        sa.Index(
            "uq_payments_gateway_payment_id",
            "gateway",
            "gateway_payment_id",
            unique=True,
            postgresql_where=sa.text("gateway_payment_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_payments_gateway_checkout_id",
            "gateway",
            "gateway_checkout_id",
            unique=True,
            postgresql_where=sa.text("gateway_checkout_id IS NOT NULL"),
        ),
        check_in("payment_method", PAYMENT_METHODS),
        check_in("status", PAYMENT_STATUSES),
        check("amount_cents >= 0", "amount_cents"),
        check("refund_amount_cents >= 0 AND refund_amount_cents <= amount_cents", "refund_amount_cents"),
        check("discount_cents >= 0", "discount_cents"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: Optional[uuid.UUID] = fk_field("students.id", index=False)
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    booking_id: Optional[uuid.UUID] = fk_field("bookings.id", index=False)
    package_id: Optional[uuid.UUID] = fk_field("packages.id")
    amount_cents: int = int_field(nullable=False)
    currency: str = text_field(nullable=False, default="AUD")
    payment_method: str = text_field(nullable=False)
    gateway: Optional[str] = text_field()  # 'stripe', 'local' (offline test mode), ...
    gateway_payment_id: Optional[str] = text_field()  # e.g. Stripe PaymentIntent id
    gateway_checkout_id: Optional[str] = text_field()  # e.g. Stripe Checkout Session id
    gateway_response: Optional[dict[str, Any]] = jsonb_field()
    status: str = text_field(nullable=False, default="pending")
    refund_amount_cents: int = int_field(nullable=False, default=0)
    refund_reason: Optional[str] = text_field()
    refunded_at: Optional[datetime] = ts_field()
    description: Optional[str] = text_field()
    # 0005: the voucher discount already taken off amount_cents; when the money arrived; when the
    # gateway's checkout closes (always before the booking's hold lapses).
    discount_cents: int = int_field(nullable=False, default=0)
    completed_at: Optional[datetime] = ts_field()
    checkout_expires_at: Optional[datetime] = ts_field()
    # The customer's booking link while a checkout is open, so the confirmation sent from the
    # webhook carries the link they already hold (the outbox body carries it anyway); cleared on completion.
    manage_token: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Refund(SQLModel, table=True):
    """One refund sent to the gateway (0005). ``payments.refund_amount_cents`` is the total of these.

    ``idempotency_key`` is also sent to the gateway, so a retried refund is the same refund there
    and here; ``gateway_refund_id`` ties a ``charge.refunded`` webhook back to this row.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        sa.UniqueConstraint("gateway_refund_id", name="uq_refunds_gateway_refund_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_refunds_idempotency_key"),
        check("amount_cents > 0", "amount_cents"),
        check_in("status", REFUND_STATUSES),
        check_in("kind", REFUND_KINDS),
    )

    id: uuid.UUID = uuid_pk()
    payment_id: uuid.UUID = fk_field("payments.id", nullable=False)
    amount_cents: int = int_field(nullable=False)
    reason: str = text_field(nullable=False)
    kind: str = text_field(nullable=False, default="admin")
    gateway_refund_id: Optional[str] = text_field()
    idempotency_key: str = text_field(nullable=False)
    status: str = text_field(nullable=False, default="pending")
    created_by: Optional[uuid.UUID] = fk_field("users.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Package(SQLModel, table=True):
    """A prepaid bundle of lesson credits."""

    __tablename__ = "packages"
    __table_args__ = (
        check("total_credits > 0", "total_credits"),
        check("price_cents >= 0", "price_cents"),
        check("valid_for_days IS NULL OR valid_for_days > 0", "valid_for_days"),
    )

    id: uuid.UUID = uuid_pk()
    name: str = text_field(nullable=False)
    description: Optional[str] = text_field()
    total_credits: int = int_field(nullable=False)
    price_cents: int = int_field(nullable=False)
    valid_for_days: Optional[int] = int_field()  # NULL = no expiry
    applicable_services: list[uuid.UUID] = uuid_array_field()  # empty = all
    is_active: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class StudentPackage(SQLModel, table=True):
    """A package a student bought; ``credits_remaining`` is generated."""

    __tablename__ = "student_packages"
    __table_args__ = (
        sa.Index("idx_sp_student_id", "student_id"),
        sa.Index("idx_sp_status", "status"),
        # One package per purchase, however often the gateway's webhook arrives (0005).
        sa.Index("uq_student_packages_payment_id", "payment_id", unique=True,
                 postgresql_where=sa.text("payment_id IS NOT NULL")),
        check_in("status", STUDENT_PACKAGE_STATUSES),
        check("credits_used >= 0 AND credits_used <= credits_total", "credits_used"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    package_id: uuid.UUID = fk_field("packages.id", nullable=False)
    payment_id: Optional[uuid.UUID] = fk_field("payments.id")
    credits_total: int = int_field(nullable=False)
    credits_used: int = int_field(nullable=False, default=0)
    credits_remaining: Optional[int] = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.Computed("credits_total - credits_used", persisted=True)),
    )
    purchased_at: datetime = ts_field(nullable=False, server_now=True)
    expires_at: Optional[datetime] = ts_field()
    status: str = text_field(nullable=False, default="active")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Voucher(SQLModel, table=True):
    """A promotional code or gift voucher (codes are stored upper-case)."""

    __tablename__ = "vouchers"
    __table_args__ = (
        sa.UniqueConstraint("code", name="uq_vouchers_code"),
        check_in("voucher_type", VOUCHER_TYPES),
        check("discount_percent IS NULL OR discount_percent BETWEEN 0 AND 100", "discount_percent"),
        check("discount_cents IS NULL OR discount_cents >= 0", "discount_cents"),
        check("times_used >= 0", "times_used"),
    )

    id: uuid.UUID = uuid_pk()
    code: str = text_field(nullable=False)
    voucher_type: str = text_field(nullable=False)
    discount_percent: Optional[int] = int_field()
    discount_cents: Optional[int] = int_field()
    max_uses: Optional[int] = int_field()  # NULL = unlimited
    times_used: int = int_field(nullable=False, default=0)
    max_uses_per_student: Optional[int] = int_field(default=1)
    valid_from: datetime = ts_field(nullable=False, server_now=True)
    valid_until: Optional[datetime] = ts_field()
    applicable_services: list[uuid.UUID] = uuid_array_field()  # empty = all
    is_active: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class VoucherRedemption(SQLModel, table=True):
    """One use of a voucher (at most once per booking)."""

    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        sa.UniqueConstraint("voucher_id", "booking_id", name="uq_voucher_redemptions_voucher_booking"),
        check("discount_cents >= 0", "discount_cents"),
        check("student_id IS NOT NULL OR contact_id IS NOT NULL", "who"),
    )

    id: uuid.UUID = uuid_pk()
    voucher_id: uuid.UUID = fk_field("vouchers.id", nullable=False, index=False)
    student_id: Optional[uuid.UUID] = fk_field("students.id")
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    booking_id: Optional[uuid.UUID] = fk_field("bookings.id")
    payment_id: Optional[uuid.UUID] = fk_field("payments.id")
    discount_cents: int = int_field(nullable=False)
    created_at: datetime = created_at_field()


class Invoice(SQLModel, table=True):
    """An issued (tax) invoice; immutable once issued."""

    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("invoice_number", name="uq_invoices_invoice_number"),
        sa.UniqueConstraint("year", "seq", name="uq_invoices_year_seq"),
        sa.UniqueConstraint("payment_id", name="uq_invoices_payment_id"),
        check("seq > 0", "seq"),
        check(
            "subtotal_cents >= 0 AND gst_cents >= 0 AND total_cents = subtotal_cents + gst_cents",
            "amounts",
        ),
        check("is_tax_invoice OR gst_cents = 0", "gst_only_on_tax_invoice"),
    )

    id: uuid.UUID = uuid_pk()
    invoice_number: str = text_field(nullable=False)  # NXD-2026-0001
    year: int = int_field(nullable=False)
    seq: int = int_field(nullable=False)
    payment_id: uuid.UUID = fk_field("payments.id", nullable=False, index=False)
    student_id: Optional[uuid.UUID] = fk_field("students.id")
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    issued_at: datetime = ts_field(nullable=False, server_now=True)
    subtotal_cents: int = int_field(nullable=False)  # excluding GST
    gst_cents: int = int_field(nullable=False, default=0)  # 1/11 of a GST-inclusive total
    total_cents: int = int_field(nullable=False)
    is_tax_invoice: bool = bool_field(nullable=False)
    # [{"description": ..., "quantity": 1, "unit_cents": ..., "total_cents": ..., "gst_cents": ...}]
    line_items: list[dict[str, Any]] = jsonb_field(nullable=False, default="[]")
    # Name/ABN/address as at issue time; buyer details (required from $1,000).
    business_snapshot: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    buyer_snapshot: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    pdf_storage_key: Optional[str] = text_field()
    created_at: datetime = created_at_field()


class InvoiceCounter(SQLModel, table=True):
    """Last invoice sequence number issued per calendar year."""

    __tablename__ = "invoice_counters"
    __table_args__ = (check("last_seq >= 0", "last_seq"),)

    year: int = Field(sa_column=sa.Column("year", sa.Integer, primary_key=True, autoincrement=False))
    last_seq: int = int_field(nullable=False, default=0)
