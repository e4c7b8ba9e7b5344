"""iCalendar (.ics, RFC 5545) files so a learner can add a lesson to their calendar."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

from sqlmodel import Session

from nexdrive.services.core import clock, events

log = logging.getLogger(__name__)
# Emails that carry the lesson as a calendar file.
ICS_TEMPLATES = ("booking_confirmation", "booking_rescheduled")


def _escape(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += b
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(iso_z: str) -> str:
    return datetime.fromisoformat(iso_z.replace("Z", "+00:00")).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def booking_ics(summary: dict, *, organiser: str = "NexDrive Academy") -> str:
    """One VEVENT for a booking summary (times in UTC, so every calendar shows the right local time)."""
    where = ", ".join(p for p in (summary.get("pickup_address"), summary.get("suburb")) if p)
    cancelled = summary.get("status") == "cancelled"
    description = (f"Driving lesson with {summary.get('instructor_name') or 'your instructor'}. "
                   f"Reference {summary['reference']}. Bring your learner licence.")
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//NexDrive Academy//Bookings//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:{summary['id']}@nexdrive-academy",
        f"DTSTAMP:{clock.now().strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART:{_utc(summary['start_at'])}", f"DTEND:{_utc(summary['end_at'])}",
        f"SUMMARY:{_escape(('Cancelled: ' if cancelled else '') + summary['service_name'] + ' – ' + organiser)}",
        f"LOCATION:{_escape('Pick-up: ' + where if where else '')}",
        "DESCRIPTION:" + _escape(description),
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SEQUENCE:{summary.get('sequence', 0)}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Driving lesson", "TRIGGER:-PT1H", "END:VALARM",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


@events.subscribe("email.attachments")
def lesson_calendar_file(engine, row: dict) -> tuple:
    """The .ics for a booking confirmation or reschedule email (the dispatcher attaches it)."""
    from nexdrive.adapters.email import Attachment
    from nexdrive.models import Booking
    from nexdrive.services.scheduling import booking as booking_service

    booking_id = (row.get("template_data") or {}).get("booking_id") or row.get("booking_id")
    if row["template"] not in ICS_TEMPLATES or not booking_id:
        return ()
    with Session(engine) as session:
        booking = session.get(Booking, uuid.UUID(str(booking_id)))
        if booking is None:
            return ()
        summary = booking_service.booking_summary(session, booking)
    data = booking_ics(summary).encode("utf-8")
    return (Attachment(f"lesson-{summary['reference']}.ics", "text/calendar; method=PUBLISH", data),)
