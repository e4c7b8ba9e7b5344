"""Checking a voucher code before booking (redeeming it belongs to the payments release)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import Service, Voucher
from nexdrive.services.formats import aud


@dataclass(frozen=True)
class VoucherCheck:
    ok: bool
    message: str
    code: str = ""
    discount_cents: int = 0


def _discount(voucher: Voucher, price_cents: int) -> int:
    if voucher.voucher_type == "percentage":
        return price_cents * (voucher.discount_percent or 0) // 100
    if voucher.voucher_type == "fixed_amount":
        return min(price_cents, voucher.discount_cents or 0)
    return price_cents  # free_lesson


def check_voucher(session: Session, code: str | None, *, service_id: uuid.UUID | str,
                  student_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None) -> VoucherCheck:
    """Is this code usable for this lesson by this person right now? A plain reason when not."""
    code = "".join((code or "").split()).upper()
    if not code:
        return VoucherCheck(False, "Please enter a voucher code.")
    if len(code) > 40:
        return VoucherCheck(False, "That voucher code is not valid.")
    voucher = session.exec(select(Voucher).where(Voucher.code == code)).first()
    service = session.get(Service, uuid.UUID(str(service_id)))
    if voucher is None or not voucher.is_active or service is None:
        return VoucherCheck(False, "That voucher code is not valid.", code)
    now = session.execute(sa.text("SELECT now()")).scalar_one()
    if voucher.valid_from and now < voucher.valid_from:
        return VoucherCheck(False, "That voucher can't be used yet.", code)
    if voucher.valid_until and now > voucher.valid_until:
        return VoucherCheck(False, "That voucher has expired.", code)
    if voucher.max_uses is not None and voucher.times_used >= voucher.max_uses:
        return VoucherCheck(False, "That voucher has been fully used.", code)
    if voucher.applicable_services and service.id not in voucher.applicable_services:
        return VoucherCheck(False, f"That voucher can't be used for a {service.name}.", code)
    if voucher.max_uses_per_student is not None and (student_id or contact_id):
        used = session.execute(sa.text(
            "SELECT count(*) FROM voucher_redemptions WHERE voucher_id = :v AND "
            "(student_id = :s OR contact_id = :c)"), {"v": voucher.id, "s": student_id, "c": contact_id}).scalar()
        if used >= voucher.max_uses_per_student:
            return VoucherCheck(False, "You have already used this voucher.", code)
    discount = _discount(voucher, service.price_cents)
    return VoucherCheck(True, f"Voucher {code} applies: {aud(discount)} off. It is taken off when you pay.",
                        code, discount)
