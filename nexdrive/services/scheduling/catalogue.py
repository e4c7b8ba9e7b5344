"""The lesson types the school sells, as the website, widget and API show them."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.services.core import clock
from nexdrive.models import BusinessSettings, Instructor, InstructorService, Profile, Service
from nexdrive.services.crm.contacts import e164_au_phone, format_au_phone
from nexdrive.formats import aud

CATEGORY_LABELS = {"lesson": "Driving lessons", "assessment": "CBT&A reviews and final drive",
                   "co_lesson": "Coaching for supervising drivers", "special": "Other"}
ELIGIBILITY_NOTES = {
    "review_1": "Bookable once tasks 1–17 are signed off in your log book.",
    "review_2": "Bookable once Review 1 and tasks 18–22 are signed off.",
    "final_drive": (
        "Bookable once Review 2 is passed; needs 2 business days' notice, not on Sundays or public holidays."
    ),
}


def service_view(s: Service) -> dict:
    return {
        "id": str(s.id), "slug": s.slug, "name": s.name, "description": s.description or "",
        "duration_minutes": s.duration_minutes, "price_cents": s.price_cents, "price": aud(s.price_cents),
        "category": s.category, "category_label": CATEGORY_LABELS.get(s.category, "Other"),
        "eligibility_kind": s.eligibility_kind, "eligibility_note": ELIGIBILITY_NOTES.get(s.eligibility_kind or "", ""),
        "bookable_online": bool(s.is_bookable_online),
    }


def list_services(session: Session, *, online_only: bool = True) -> list[dict]:
    """Active services in the owner's order (public: no actor needed, nothing private here)."""
    query = select(Service).where(Service.is_active.is_(True))
    if online_only:
        query = query.where(Service.is_bookable_online.is_(True))
    return [service_view(s) for s in session.exec(query.order_by(Service.sort_order, Service.name))]


# ------------------------------------------------------------------ who teaches what (migration 0014)

def offers_sql(instructor_id: str, service_id: str) -> str:
    """The rule of :func:`offering` as a SQL condition (for a statement that reads instructors anyway):
    ``instructor_id`` a column or expression, ``service_id`` a bind parameter such as ``:service_id``."""
    return (f"(NOT EXISTS (SELECT 1 FROM instructor_services x WHERE x.instructor_id = {instructor_id}) "
            f"OR EXISTS (SELECT 1 FROM instructor_services x WHERE x.instructor_id = {instructor_id} "
            f"AND x.service_id = {service_id}))")


def offers_clause(instructor_id, service_id: uuid.UUID):
    """The rule of :func:`offering` as a SQLAlchemy condition on an instructor id column (for a statement that
    reads the instructor anyway)."""
    chosen = sa.select(InstructorService.service_id).where(InstructorService.instructor_id == instructor_id)
    return sa.or_(~chosen.exists(), chosen.where(InstructorService.service_id == service_id).exists())


def offering(session: Session, service_id: uuid.UUID, instructor_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these instructors offer this lesson type: those with no lesson types chosen offer every one,
    the others only the ones chosen for them (``instructor_services``). One query, whatever the number."""
    if not instructor_ids:
        return set()
    limited = session.execute(sa.text(
        "SELECT instructor_id, bool_or(service_id = :s) AS offers FROM instructor_services "
        "WHERE instructor_id = ANY(:ids) GROUP BY instructor_id"),
        {"s": service_id, "ids": list(instructor_ids)}).all()
    refused = {r.instructor_id for r in limited if not r.offers}
    return {i for i in instructor_ids if i not in refused}


def bookable_instructors(session: Session) -> list[dict]:
    """The instructors a visitor may choose in the booking widget (public: first name and initial only).

    Active, with weekly hours, and with an accreditation that has not lapsed; the owner first.
    ``service_ids`` lists the lesson types they offer (empty = every one)."""
    rows = session.execute(sa.text("""
        SELECT i.id, p.first_name, p.last_name, i.transmission,
               COALESCE((SELECT array_agg(x.service_id::text ORDER BY x.service_id) FROM instructor_services x
                         WHERE x.instructor_id = i.id), '{}') AS service_ids
        FROM instructors i JOIN profiles p ON p.id = i.profile_id
        WHERE i.status = 'active'
          AND (i.accreditation_expiry IS NULL OR i.accreditation_expiry >= CAST(:today AS date))
          AND EXISTS (SELECT 1 FROM availability_rules r WHERE r.instructor_id = i.id AND r.is_active
                      AND (r.effective_until IS NULL
                           OR r.effective_until >= CAST(:today AS date)))
        ORDER BY i.is_owner DESC, p.first_name, p.last_name, i.id"""), {"today": clock.today(session)}).all()
    return [{"id": str(r.id), "name": f"{r.first_name} {(r.last_name or '')[:1]}".strip(),
             "transmission": TRANSMISSION_LABELS.get(r.transmission or "", ""),
             "service_ids": list(r.service_ids or [])} for r in rows]


# ------------------------------------------------------------------ public website

DEFAULT_NOTICE_HOURS = 24
TRANSMISSION_LABELS = {
    "auto": "automatic",
    "automatic": "automatic",
    "manual": "manual",
    "both": "automatic and manual",
}


def _hours_text(hours: int) -> str:
    return f"{hours} hour" + ("" if hours == 1 else "s")


def booking_policy(session: Session) -> dict:
    """The cancellation and pricing rules the website states, read from ``business_settings`` (id = 1).

    Public: nothing private here. Falls back to the model defaults when the row is missing.
    """
    row = session.get(BusinessSettings, 1)
    hours = int(row.cancellation_notice_hours) if row else DEFAULT_NOTICE_HOURS
    fee_cents = int(row.late_cancellation_fee_cents) if row else 0
    gst = bool(row.gst_registered) if row else False
    pay_later = bool(row.allow_pay_later) if row else True
    phone = (row.phone if row else None) or ""
    phone_e164 = e164_au_phone(phone)
    notice = _hours_text(hours)
    notice_of = notice + ("'" if notice.endswith("s") else "'s")  # "24 hours' notice", "1 hour's notice"
    if hours == 0:
        cancellation = "You can cancel or move a lesson at any time before it starts, free of charge."
        late = ""
    else:
        cancellation = (f"You can cancel or move a lesson free of charge up to {notice} before it starts.")
        if fee_cents > 0:
            late = (f"With less than {notice_of} notice, or if you don't turn up, a late cancellation fee of "
                    f"{aud(fee_cents)} applies.")
        else:
            late = (f"With less than {notice_of} notice we don't charge a fee, but please let us know as early as "
                    "you can so another learner can have the time.")
    return {
        "business_name": (row.business_name if row else None) or "NexDrive Academy",
        "abn": (row.abn if row else None) or "",
        "email": (row.email if row else None) or "",
        "phone": phone,
        "phone_display": format_au_phone(phone_e164) if phone_e164 else phone,
        "phone_international": (f"+61 {phone_e164[3]} {phone_e164[4:8]} {phone_e164[8:]}"
                                if phone_e164 and phone_e164[3] != "4" else ""),
        "phone_href": f"tel:{phone_e164 or phone.replace(' ', '')}" if phone else "",
        "allow_pay_later": pay_later,
        "payment_terms": ("You can pay by card when you book, or confirm now and pay at or before your lesson. "
                          "A lesson that is still unpaid when it starts is paid at the lesson." if pay_later else
                          "You pay by card when you book: a lesson is confirmed once it is paid for."),
        "confirmation_terms": ("A booking is confirmed when you receive a confirmation by email or SMS: once you "
                               "have paid by card, or straight away if you choose to pay at the lesson."
                               if pay_later else
                               "A booking is confirmed once it is paid for and you receive a confirmation by "
                               "email or SMS."),
        "price_suffix": " (GST incl.)" if gst else "",
        "notice_hours": hours,
        "notice": notice,
        "late_fee_cents": fee_cents,
        "late_fee": aud(fee_cents),
        "has_late_fee": fee_cents > 0,
        "gst_registered": gst,
        "gst_note": ("All prices are in Australian dollars and include GST." if gst else
                     "All prices are in Australian dollars and are the full amount you pay: no GST is added."),
        "cancellation": cancellation,
        "late_cancellation": late,
    }


def owner_instructor(session: Session) -> dict | None:
    """The owner-instructor as the About page shows them (no licence or accreditation numbers)."""
    row = session.exec(
        select(Instructor, Profile)
        .join(Profile, Profile.id == Instructor.profile_id)
        .where(Instructor.is_owner.is_(True), Instructor.status == "active")
        .order_by(Instructor.created_at)
    ).first()
    if row is None:
        return None
    instructor, profile = row
    vehicle = " ".join(
        str(p) for p in (instructor.vehicle_year, instructor.vehicle_make, instructor.vehicle_model) if p
    )
    return {
        "first_name": profile.first_name or "",
        "name": " ".join(p for p in (profile.first_name, profile.last_name) if p),
        "bio": (instructor.bio or "").strip(),
        "vehicle": vehicle,
        "transmission": TRANSMISSION_LABELS.get(instructor.transmission or "", ""),
        "territory": (instructor.territory or "").strip(),
    }
