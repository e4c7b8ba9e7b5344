"""What the booking widget's confirm step may offer for one lesson (read-only).

``payments.start_booking_checkout`` decides what is actually allowed and
charged; this only tells the page which choices to show: pay later (a school
setting), a package credit (the signed-in student's package that would be used),
and whether card payments run in the offline test mode.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.adapters import choose_adapters
from nexdrive.models import BusinessSettings
from nexdrive.services.actors import Actor
from nexdrive.services.formats import au_date
from nexdrive.settings import get_settings


def payments_test_mode() -> bool:
    """True when card payments go through the offline gateway (no real money)."""
    return any(c.port == "payments" and c.mode == "offline" for c in choose_adapters(get_settings()))


def usable_package(session: Session, actor: Actor, service_id: uuid.UUID | str) -> dict | None:
    """The student's package a credit for this lesson would come from: active, unexpired, credits left,
    covering the service; the one expiring first."""
    if actor.role != "student" or actor.student_id is None:
        return None
    row = session.execute(sa.text(
        "SELECT sp.id, p.name, sp.credits_remaining, sp.expires_at FROM student_packages sp "
        "JOIN packages p ON p.id = sp.package_id "
        "WHERE sp.student_id = :s AND sp.status = 'active' AND sp.credits_remaining > 0 "
        "AND (sp.expires_at IS NULL OR sp.expires_at > now()) "
        "AND (cardinality(p.applicable_services) = 0 OR CAST(:svc AS uuid) = ANY(p.applicable_services)) "
        "ORDER BY sp.expires_at ASC NULLS LAST, sp.purchased_at ASC LIMIT 1"),
        {"s": actor.student_id, "svc": str(service_id)}).first()
    if row is None:
        return None
    return {"id": str(row.id), "name": row.name, "credits_remaining": int(row.credits_remaining),
            "expires": au_date(row.expires_at, weekday=False) if row.expires_at else ""}


def for_booking(session: Session, actor: Actor, *, service_id: uuid.UUID | str) -> dict:
    settings = session.get(BusinessSettings, 1)
    package = usable_package(session, actor, service_id)
    return {
        "allow_pay_later": bool(getattr(settings, "allow_pay_later", False)) if settings else False,
        "test_mode": payments_test_mode(),
        "package_credits": package["credits_remaining"] if package else 0,
        "package_name": package["name"] if package else "",
        "package_expires": package["expires"] if package else "",
    }
