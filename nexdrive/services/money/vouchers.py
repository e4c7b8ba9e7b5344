"""Vouchers: checking a code before paying, and redeeming it exactly once.

When is a voucher redeemed? When the checkout starts, together with the hold:
the use is counted (``voucher_redemptions`` row + ``times_used``) in the same
transaction that opens the card checkout (or confirms a lesson the voucher pays
for in full). If that checkout expires unpaid, or the lesson is cancelled inside
the free-cancellation window, the use is given back. Counting at checkout start
means a voucher with one use left cannot be spent by two people paying at the
same time; giving it back on expiry means an abandoned checkout doesn't burn it.

Exactly once, even under concurrent use: the voucher row is locked
``FOR UPDATE``, every rule is checked again under that lock, the redemption is
inserted (``UNIQUE(voucher_id, booking_id)`` as a backstop) and ``times_used``
is incremented in the same statement sequence.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import Service, Voucher, VoucherRedemption
from nexdrive.errors import VoucherRefused
from nexdrive.formats import aud


@dataclass(frozen=True)
class VoucherCheck:
    ok: bool
    message: str
    code: str = ""
    discount_cents: int = 0


def normalise_code(code: str | None) -> str:
    return "".join((code or "").split()).upper()


def _discount(voucher: Voucher, price_cents: int) -> int:
    if voucher.voucher_type == "percentage":
        return price_cents * (voucher.discount_percent or 0) // 100
    if voucher.voucher_type == "fixed_amount":
        return min(price_cents, voucher.discount_cents or 0)
    return price_cents  # free_lesson


def _uses_by(session: Session, voucher_id: uuid.UUID, student_id: uuid.UUID | None,
             contact_id: uuid.UUID | None) -> int:
    return session.execute(sa.text(
        "SELECT count(*) FROM voucher_redemptions WHERE voucher_id = :v AND "
        "(student_id = :s OR contact_id = :c)"), {"v": voucher_id, "s": student_id, "c": contact_id}).scalar()


def _problem(session: Session, voucher: Voucher | None, service: Service | None, now: datetime,
             student_id: uuid.UUID | None, contact_id: uuid.UUID | None) -> str | None:
    """Why this voucher can't be used now for this lesson by this person (None = it can)."""
    if voucher is None or not voucher.is_active or service is None:
        return "That voucher code is not valid."
    if voucher.valid_from and now < voucher.valid_from:
        return "That voucher can't be used yet."
    if voucher.valid_until and now > voucher.valid_until:
        return "That voucher has expired."
    if voucher.max_uses is not None and voucher.times_used >= voucher.max_uses:
        return "That voucher has been fully used."
    if voucher.applicable_services and service.id not in voucher.applicable_services:
        return f"That voucher can't be used for a {service.name}."
    if voucher.max_uses_per_student is not None and (student_id or contact_id):
        if _uses_by(session, voucher.id, student_id, contact_id) >= voucher.max_uses_per_student:
            return "You have already used this voucher."
    return None


def check_voucher(session: Session, code: str | None, *, service_id: uuid.UUID | str,
                  student_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None) -> VoucherCheck:
    """Is this code usable for this lesson by this person right now? A plain reason when not."""
    code = normalise_code(code)
    if not code:
        return VoucherCheck(False, "Please enter a voucher code.")
    if len(code) > 40:
        return VoucherCheck(False, "That voucher code is not valid.")
    voucher = session.exec(select(Voucher).where(Voucher.code == code)).first()
    try:
        service = session.get(Service, uuid.UUID(str(service_id)))
    except ValueError:
        service = session.exec(select(Service).where(Service.slug == str(service_id))).first()
    now = session.execute(sa.text("SELECT now()")).scalar_one()
    problem = _problem(session, voucher, service, now, student_id, contact_id)
    if problem:
        return VoucherCheck(False, problem, code)
    discount = _discount(voucher, service.price_cents)
    return VoucherCheck(True, f"Voucher {code} applies: {aud(discount)} off. It is taken off when you pay.",
                        code, discount)


def redeem_voucher(session: Session, code: str | None, *, booking_id: uuid.UUID, service_id: uuid.UUID,
                   amount_cents: int, student_id: uuid.UUID | None, contact_id: uuid.UUID | None,
                   payment_id: uuid.UUID | None = None) -> VoucherRedemption:
    """Count one use of the voucher for this booking (once, under the voucher's row lock).

    Raises VoucherRefused with the plain reason when it can't be used. Redeeming again
    for the same booking returns the existing redemption.
    """
    code = normalise_code(code)
    if not code or len(code) > 40:
        raise VoucherRefused("That voucher code is not valid.", field="voucher_code")
    voucher = session.exec(select(Voucher).where(Voucher.code == code).with_for_update()).first()
    if voucher is not None:
        existing = session.exec(select(VoucherRedemption).where(
            VoucherRedemption.voucher_id == voucher.id, VoucherRedemption.booking_id == booking_id)).first()
        if existing is not None:
            return existing
    if student_id is None and contact_id is None:
        raise VoucherRefused("Please give your details before using a voucher.", field="voucher_code")
    now = session.execute(sa.text("SELECT now()")).scalar_one()
    problem = _problem(session, voucher, session.get(Service, service_id), now, student_id, contact_id)
    if problem:
        raise VoucherRefused(problem, field="voucher_code", code=code)
    redemption = VoucherRedemption(voucher_id=voucher.id, student_id=student_id, contact_id=contact_id,
                                   booking_id=booking_id, payment_id=payment_id,
                                   discount_cents=_discount(voucher, amount_cents))
    session.add(redemption)
    session.execute(sa.text("UPDATE vouchers SET times_used = times_used + 1 WHERE id = :v"), {"v": voucher.id})
    session.flush()
    session.refresh(voucher)
    return redemption


def redemption_for_booking(session: Session, booking_id: uuid.UUID) -> tuple[VoucherRedemption, Voucher] | None:
    row = session.exec(select(VoucherRedemption, Voucher).join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
                       .where(VoucherRedemption.booking_id == booking_id)).first()
    return (row[0], row[1]) if row else None


def release_redemption(session: Session, booking_id: uuid.UUID) -> int:
    """Give back the voucher use counted for this booking (checkout expired, or cancelled in time)."""
    released = 0
    for redemption in session.exec(select(VoucherRedemption).where(VoucherRedemption.booking_id == booking_id)).all():
        session.execute(sa.text("SELECT id FROM vouchers WHERE id = :v FOR UPDATE"), {"v": redemption.voucher_id})
        gone = session.execute(sa.text("DELETE FROM voucher_redemptions WHERE id = :r RETURNING id"),
                               {"r": redemption.id}).scalar()
        if gone is not None:
            session.execute(sa.text("UPDATE vouchers SET times_used = greatest(times_used - 1, 0) WHERE id = :v"),
                            {"v": redemption.voucher_id})
            released += 1
        session.expunge(redemption)  # deleted behind the ORM's back
    return released
