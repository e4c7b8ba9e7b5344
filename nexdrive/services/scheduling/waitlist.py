"""The waitlist matcher: offer open lesson times to people waiting for one.

Runs daily (and the booking service offers a freed time straight away when a
lesson is cancelled or moved: booking.offer_freed_slot). For each entry still
waiting, oldest first, it looks for the earliest time in the next two weeks
that matches the entry's lesson type, instructor, day of the week and time
range and is bookable online right now; the entry is marked notified with the
offered time and an SMS/e-mail goes out through the outbox. One time is
offered to at most three people per run (first to book it gets it).

Re-running offers nothing twice: notified entries are not looked at again
until the offered time has passed; then they are marked booked (if that
person took a lesson at that time) or go back to waiting.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import Service, WaitlistEntry
from nexdrive.services.scheduling import availability
from nexdrive.services.messaging import notify
from nexdrive.services.scheduling import booking as booking_service
from nexdrive.formats import BUSINESS_TZ, au_when

DAYS_AHEAD = 14
OFFERS_PER_TIME = 3


def _default_service(session: Session) -> Service | None:
    """The plain lesson people wait for when they named no lesson type."""
    return session.exec(
        select(Service).where(Service.is_active, Service.is_bookable_online, Service.category == "lesson",
                              Service.eligibility_kind.is_(None))
        .order_by(Service.sort_order, Service.duration_minutes, Service.created_at)
    ).first()


def _matches(entry: WaitlistEntry, start: datetime) -> bool:
    local = start.astimezone(BUSINESS_TZ)
    if entry.preferred_day is not None and availability.dow(local.date()) != entry.preferred_day:
        return False
    if entry.preferred_time_start is not None:
        t = local.time().replace(tzinfo=None)
        if not (entry.preferred_time_start <= t < entry.preferred_time_end):
            return False
    return True


def settle_lapsed_offers(session: Session, now: datetime) -> dict:
    """Offers whose time has passed: booked if the person took that lesson, otherwise waiting again."""
    entries = session.exec(select(WaitlistEntry).where(
        WaitlistEntry.status == "notified", WaitlistEntry.offered_start_time <= now).with_for_update(skip_locked=True)
    ).all()
    counts = Counter()
    for e in entries:
        took_it = session.execute(sa.text("""
            SELECT 1 FROM bookings WHERE start_time = :t AND status IN ('confirmed','in_progress','completed')
              AND ((CAST(:s AS uuid) IS NOT NULL AND student_id = :s)
                   OR (CAST(:c AS uuid) IS NOT NULL AND contact_id = :c))"""),
            {"t": e.offered_start_time, "s": e.student_id, "c": e.contact_id}).first()
        e.status = "booked" if took_it else "waiting"
        counts[e.status] += 1
        session.add(e)
    session.flush()
    return {"booked": counts["booked"], "waiting_again": counts["waiting"]}


def match_waitlist(session: Session, now: datetime | None = None, days_ahead: int = DAYS_AHEAD) -> dict:
    """Offer open times to waiting entries; returns counts."""
    now = now or session.execute(sa.text("SELECT now()")).scalar_one()
    settled = settle_lapsed_offers(session, now)
    waiting = session.exec(select(WaitlistEntry).where(WaitlistEntry.status == "waiting")
                           .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
                           .with_for_update(skip_locked=True)).all()
    today = now.astimezone(BUSINESS_TZ).date()
    default = _default_service(session)
    slot_cache: dict[tuple, list] = {}
    offered_per_time: Counter = Counter()
    offered = 0
    for entry in waiting:
        service = session.get(Service, entry.service_id) if entry.service_id else default
        if service is None or not service.is_active:
            continue
        cache_key = (service.id, entry.instructor_id)
        if cache_key not in slot_cache:
            slot_cache[cache_key] = booking_service.find_slots(
                session, service=service, date_from=today, date_to=today + timedelta(days=days_ahead),
                instructor_id=entry.instructor_id, now=now)
        slot = next((s for s in slot_cache[cache_key]
                     if _matches(entry, s.start) and offered_per_time[s.start] < OFFERS_PER_TIME), None)
        if slot is None:
            continue
        offered_per_time[slot.start] += 1
        _offer(session, entry, service, slot.start, now)
        offered += 1
    session.flush()
    return {"offered": offered, "waiting": len(waiting) - offered, **settled}


def _offer(session: Session, entry: WaitlistEntry, service: Service, start: datetime, now: datetime) -> None:
    entry.status, entry.notified_at, entry.offered_start_time = "notified", now, start
    session.add(entry)
    who = booking_service.recipient_for(session, entry.student_id, entry.contact_id)
    notify.queue_message(
        session, "waitlist_available", to={**who, "contact_id": entry.contact_id},
        data={"service_name": service.name, "when": au_when(start), "book_url": notify.public_url("/book")},
        idempotency_key={"sms": f"waitlist:{entry.id}:{start.isoformat()}",
                         "email": f"waitlist_email:{entry.id}:{start.isoformat()}"},
        related_type="waitlist", related_id=entry.id,
        template_data={"waitlist_id": str(entry.id), "start_at": start.isoformat(), "service_id": str(service.id)})
