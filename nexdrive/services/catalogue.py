"""The lesson types the school sells, as the website, widget and API show them."""
from __future__ import annotations

from sqlmodel import Session, select

from nexdrive.models import Service
from nexdrive.services.formats import aud

CATEGORY_LABELS = {"lesson": "Driving lessons", "assessment": "CBT&A reviews and final drive",
                   "co_lesson": "Coaching for supervising drivers", "special": "Other"}
ELIGIBILITY_NOTES = {
    "review_1": "Bookable once tasks 1–17 are signed off in your log book.",
    "review_2": "Bookable once Review 1 and tasks 18–22 are signed off.",
    "final_drive": "Bookable once Review 2 is passed; needs 2 business days' notice, not on Sundays or public holidays.",
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
