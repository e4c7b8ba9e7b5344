"""Lesson packages: the school defines them, a learner buys one, each booking uses a credit.

A credit is used when a lesson is confirmed with the package (the package row is
locked ``FOR UPDATE`` so two bookings at once can never use more credits than
were bought; ``credits_used <= credits_total`` is also a CHECK). A cancellation
inside the free window, or a waived late fee, gives the credit back; a late
cancellation keeps it. Buying goes through the same checkout as lessons
(``payments.start_package_checkout``); the ``student_packages`` row is created
when the payment completes.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import Booking, Package, Service, StudentPackage
from nexdrive.services.core import clock
from nexdrive.services.core import access
from nexdrive.services.core import audit
from nexdrive.services.messaging import notify
from nexdrive.services.core.actors import Actor
from nexdrive.errors import Forbidden, NoCreditsLeft, NotFound, ValidationFailed
from nexdrive.formats import au_date, aud

LOW_CREDITS = 2  # package_low_credits goes out when this many or fewer are left
MAX_CREDITS = 100
MAX_PRICE_CENTS = 10_000_00
MAX_VALID_DAYS = 3 * 365


def _now(session: Session) -> datetime:
    return clock.now(session)


def _service_names(session: Session, ids: list[uuid.UUID]) -> list[str]:
    if not ids:
        return []
    return list(session.exec(select(Service.name).where(Service.id.in_(ids)).order_by(Service.name)).all())


def package_view(session: Session, package: Package) -> dict:
    per = package.price_cents // package.total_credits if package.total_credits else 0
    return {
        "id": str(package.id), "name": package.name, "description": package.description or "",
        "total_credits": package.total_credits, "price_cents": package.price_cents,
        "price_display": aud(package.price_cents), "per_lesson_display": aud(per),
        "valid_for_days": package.valid_for_days,
        "validity_display": (f"Use within {package.valid_for_days} days of purchase" if package.valid_for_days
                             else "No expiry"),
        "service_ids": [str(s) for s in package.applicable_services],
        "service_names": _service_names(session, list(package.applicable_services)) or ["Any lesson"],
        "is_active": package.is_active,
    }


def list_packages(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[dict]:
    """Packages on sale (public); the admin can also see retired ones."""
    if include_inactive and not actor.sees_everything:
        raise Forbidden("Only the administrator can see retired packages.")
    query = select(Package)
    if not include_inactive:
        query = query.where(Package.is_active.is_(True))
    return [package_view(session, p) for p in session.exec(query.order_by(Package.price_cents, Package.name)).all()]


def save_package(session: Session, actor: Actor, *, package_id: uuid.UUID | None = None, name: str,
                 description: str | None, total_credits: int, price_cents: int, valid_for_days: int | None,
                 service_ids: list[uuid.UUID | str] | None, is_active: bool = True) -> dict:
    """Create or change a package (admin). Bought packages keep the credits and expiry they were sold with."""
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can change packages.")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Please give the package a name.", field="name")
    if len(name) > 100:
        raise ValidationFailed("The name is too long (100 characters at most).", field="name")
    description = " ".join((description or "").split()) or None
    if description and len(description) > 500:
        raise ValidationFailed("The description is too long (500 characters at most).", field="description")
    if not isinstance(total_credits, int) or not 1 <= total_credits <= MAX_CREDITS:
        raise ValidationFailed(f"A package has between 1 and {MAX_CREDITS} lessons.", field="total_credits")
    if not isinstance(price_cents, int) or not 100 <= price_cents <= MAX_PRICE_CENTS:
        raise ValidationFailed(f"Enter a price between $1.00 and {aud(MAX_PRICE_CENTS)}.", field="price_cents")
    if valid_for_days is not None and (not isinstance(valid_for_days, int)
                                       or not 1 <= valid_for_days <= MAX_VALID_DAYS):
        raise ValidationFailed(f"Validity is between 1 and {MAX_VALID_DAYS} days (or no expiry).",
                               field="valid_for_days")
    try:
        services = sorted({uuid.UUID(str(s)) for s in (service_ids or [])})
    except ValueError:
        raise ValidationFailed("Choose lesson types from the list.", field="service_ids") from None
    if services:
        found = set(session.exec(select(Service.id).where(Service.id.in_(services))).all())
        if found != set(services):
            raise ValidationFailed("Choose lesson types from the list.", field="service_ids")
    if package_id is not None:
        package = session.exec(select(Package).where(Package.id == package_id).with_for_update()).first()
        if package is None:
            raise NotFound("No such package.")
    else:
        package = Package(name=name, total_credits=total_credits, price_cents=price_cents)
    before = package_view(session, package) if package_id is not None else None
    package.name, package.description = name, description
    package.total_credits, package.price_cents = total_credits, price_cents
    package.valid_for_days, package.applicable_services, package.is_active = valid_for_days, services, bool(is_active)
    session.add(package)
    session.flush()
    after = package_view(session, package)
    audit.record_event(session, actor, "package.saved", subject_type="package", subject_id=package.id,
                       details={"before": before, "after": after})
    return after


def _student_package_view(session: Session, sp: StudentPackage, package: Package, now: datetime) -> dict:
    left = sp.credits_total - sp.credits_used
    status = sp.status
    if status == "active" and sp.expires_at is not None and sp.expires_at <= now:
        status = "expired"  # the nightly job hasn't run yet; show the truth
    labels = {"active": "Active", "exhausted": "All lessons used", "expired": "Expired", "cancelled": "Cancelled"}
    return {
        "id": str(sp.id), "package_id": str(package.id), "name": package.name,
        "credits_total": sp.credits_total, "credits_used": sp.credits_used, "credits_left": left,
        "credits_display": f"{left} of {sp.credits_total} lesson{'s' if sp.credits_total != 1 else ''} left",
        "purchased_at": sp.purchased_at, "purchased_display": au_date(sp.purchased_at),
        "expires_at": sp.expires_at, "expires_display": au_date(sp.expires_at) if sp.expires_at else "No expiry",
        "status": status, "status_label": labels.get(status, status.title()),
        "usable": status == "active" and left > 0,
        "service_names": _service_names(session, list(package.applicable_services)) or ["Any lesson"],
        "payment_id": str(sp.payment_id) if sp.payment_id else None,
    }


def my_packages(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None) -> list[dict]:
    """A learner's packages with credits left and expiry (their own; staff and permitted parents by student_id)."""
    access.require_signed_in(actor)
    if student_id is None:
        if not actor.is_student:
            raise ValidationFailed("Choose a learner.", field="student_id")
        student_id = actor.student_id
    elif actor.is_instructor:
        access.require_student(session, actor, student_id, "student")
    else:
        access.require_student(session, actor, student_id, "payments")
    now = _now(session)
    rows = session.exec(select(StudentPackage, Package).join(Package, Package.id == StudentPackage.package_id)
                        .where(StudentPackage.student_id == student_id)
                        .order_by(StudentPackage.purchased_at.desc(), StudentPackage.id)).all()
    views = [_student_package_view(session, sp, p, now) for sp, p in rows]
    views.sort(key=lambda v: (not v["usable"],))  # usable first, newest first within each group
    return views


def usable_package_for(session: Session, student_id: uuid.UUID | None, service_id: uuid.UUID) -> dict | None:
    """The package a booking of this lesson would use (for showing the option), or None."""
    if student_id is None:
        return None
    row = session.execute(sa.text("""
        SELECT sp.id FROM student_packages sp JOIN packages p ON p.id = sp.package_id
        WHERE sp.student_id = :s AND sp.status = 'active' AND sp.credits_used < sp.credits_total
          AND (sp.expires_at IS NULL OR sp.expires_at > now())
          AND (cardinality(p.applicable_services) = 0 OR CAST(:svc AS uuid) = ANY(p.applicable_services))
        ORDER BY sp.expires_at NULLS LAST, sp.purchased_at LIMIT 1"""), {"s": student_id, "svc": service_id}).scalar()
    if row is None:
        return None
    sp = session.get(StudentPackage, row)
    return _student_package_view(session, sp, session.get(Package, sp.package_id), _now(session))


def use_credit(session: Session, actor: Actor, *, booking: Booking) -> StudentPackage:
    """Take one credit for this booking from the learner's package that expires first.

    The caller holds the booking row lock. Every candidate package is locked, so concurrent
    bookings queue here and the credit count can never go past what was bought.
    """
    if booking.student_id is None:
        raise NoCreditsLeft("Lesson packages belong to a learner's account. Please sign in to use one.")
    if booking.student_package_id is not None and booking.payment_status == "package_credit":
        return session.get(StudentPackage, booking.student_package_id)  # already paid with a credit
    ids = list(session.execute(sa.text("""
        SELECT sp.id FROM student_packages sp JOIN packages p ON p.id = sp.package_id
        WHERE sp.student_id = :s AND sp.status = 'active' AND sp.credits_used < sp.credits_total
          AND (sp.expires_at IS NULL OR sp.expires_at > now())
          AND (cardinality(p.applicable_services) = 0 OR CAST(:svc AS uuid) = ANY(p.applicable_services))
        ORDER BY sp.expires_at NULLS LAST, sp.purchased_at, sp.id
        FOR UPDATE OF sp"""), {"s": booking.student_id, "svc": booking.service_id}).scalars())
    # Rows that changed while we waited are re-checked by PostgreSQL; pick the first still usable.
    chosen = None
    for sp_id in ids:
        sp = session.get(StudentPackage, sp_id)
        session.refresh(sp)
        if sp.status == "active" and sp.credits_used < sp.credits_total:
            chosen = sp
            break
    if chosen is None:
        raise NoCreditsLeft("You have no package lessons left for this lesson type. Please pay by card, "
                            "or buy a new package.")
    session.execute(sa.text(
        "UPDATE student_packages SET credits_used = credits_used + 1, "
        "status = CASE WHEN credits_used + 1 >= credits_total THEN 'exhausted' ELSE status END WHERE id = :i"),
        {"i": chosen.id})
    session.refresh(chosen)
    booking.student_package_id = chosen.id
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "package.credit_used", subject_type="student_package", subject_id=chosen.id,
                       details={"booking_id": str(booking.id), "credits_used": chosen.credits_used,
                                "credits_total": chosen.credits_total})
    left = chosen.credits_total - chosen.credits_used
    if left <= LOW_CREDITS:
        _low_credits_message(session, chosen, left)
    return chosen


def return_credit(session: Session, actor: Actor, *, booking: Booking, reason: str) -> bool:
    """Give back the credit a booking used (cancelled in time, or the late fee waived). Once only."""
    if booking.student_package_id is None or booking.payment_status != "package_credit":
        return False
    sp = session.exec(select(StudentPackage).where(StudentPackage.id == booking.student_package_id)
                      .with_for_update()).first()
    if sp is None or sp.credits_used <= 0:
        return False
    session.execute(sa.text(
        "UPDATE student_packages SET credits_used = credits_used - 1, "
        "status = CASE WHEN status = 'exhausted' AND (expires_at IS NULL OR expires_at > now()) THEN 'active' "
        "ELSE status END WHERE id = :i"), {"i": sp.id})
    session.refresh(sp)
    booking.payment_status = "refunded"
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "package.credit_returned", subject_type="student_package", subject_id=sp.id,
                       details={"booking_id": str(booking.id), "reason": reason, "credits_used": sp.credits_used})
    return True


def expire_due_packages(session: Session, now: datetime | None = None) -> int:
    """Mark packages past their expiry date as expired (run daily by the scheduler). Returns how many."""
    now = now or _now(session)
    ids = list(session.execute(sa.text(
        "UPDATE student_packages SET status = 'expired' WHERE status = 'active' AND expires_at IS NOT NULL "
        "AND expires_at <= :now RETURNING id"), {"now": now}).scalars())
    if ids:
        from nexdrive.services.core.actors import SYSTEM
        audit.record_event(session, SYSTEM, "packages.expired", subject_type="student_package",
                           details={"count": len(ids), "ids": [str(i) for i in ids[:200]]})
    return len(ids)


def create_student_package(session: Session, *, package: Package, student_id: uuid.UUID, payment_id: uuid.UUID,
                           now: datetime) -> StudentPackage:
    """The package a completed purchase gives (once per payment: unique payment_id)."""
    existing = session.exec(select(StudentPackage).where(StudentPackage.payment_id == payment_id)).first()
    if existing is not None:
        return existing
    sp = StudentPackage(student_id=student_id, package_id=package.id, payment_id=payment_id,
                        credits_total=package.total_credits, credits_used=0, purchased_at=now,
                        expires_at=now + timedelta(days=package.valid_for_days) if package.valid_for_days else None,
                        status="active")
    session.add(sp)
    session.flush()
    session.refresh(sp)
    return sp


def queue_once(session: Session, **message) -> None:
    """notify.queue, unless a message with this idempotency key is already in the outbox."""
    exists = session.execute(sa.text("SELECT 1 FROM outbox_messages WHERE idempotency_key = :k"),
                             {"k": message["idempotency_key"]}).first()
    if exists is None:
        notify.queue(session, **message)


def _low_credits_message(session: Session, sp: StudentPackage, left: int) -> None:
    from nexdrive.services.scheduling.booking import recipient_for

    package = session.get(Package, sp.package_id)
    who = recipient_for(session, sp.student_id, None)
    notify.queue_message(
        session, "package_low_credits", to=who,
        data={"credits_remaining": left, "package_name": package.name, "credits_used": sp.credits_used,
              "credits_total": sp.credits_total, "expires_on": au_date(sp.expires_at) if sp.expires_at else None,
              "buy_url": notify.public_url("/packages")},
        idempotency_key={c: f"package_low_credits:{c}:{sp.id}:{sp.credits_used}" for c in ("sms", "email")},
        related_type="student_package", related_id=sp.id,
        template_data={"student_package_id": str(sp.id), "credits_left": left})
