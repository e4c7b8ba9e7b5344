"""Queueing messages in the transactional outbox (DESIGN.md §4).

A message is written in the same transaction as the change that causes it, so
a rolled-back booking sends nothing and a committed one is never forgotten. The
dispatcher (notifications issue) sends the rows. Wording is factual and always
names the sender (DESIGN.md §3.10).
"""
from __future__ import annotations

import uuid

from sqlmodel import Session

from nexdrive.models import Booking, OutboxMessage
from nexdrive.settings import get_settings

SENDER = "NexDrive Academy"


def public_url(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def queue(session: Session, *, channel: str, recipient: str, body: str, template: str,
          subject: str | None = None, user_id: uuid.UUID | None = None, contact_id: uuid.UUID | None = None,
          booking_id: uuid.UUID | None = None, related_type: str | None = None, related_id: uuid.UUID | None = None,
          idempotency_key: str | None = None, template_data: dict | None = None) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body, template=template,
                            user_id=user_id, contact_id=contact_id, booking_id=booking_id,
                            related_type=related_type, related_id=related_id, idempotency_key=idempotency_key,
                            template_data=template_data or {})
    session.add(message)
    session.flush()
    return message


def _texts(kind: str, s: dict, extra: dict) -> tuple[str, str, str]:
    """(sms, email subject, email body) for one booking event."""
    hello = f"Hi {s['learner_first_name']}," if s.get("learner_first_name") else "Hello,"
    where = ", ".join(p for p in (s.get("pickup_address"), s.get("suburb")) if p)
    if kind == "booking_confirmation":
        sms = (f"{SENDER}: your {s['service_name']} is booked for {s['when']} with {s['instructor_name']}. "
               f"Pick-up: {where}. Ref {s['reference']}. Change or cancel: {extra.get('manage_url', '')}")
        subject = f"Lesson booked: {s['when']}"
        body = (f"{hello}\n\nYour lesson with {SENDER} is booked.\n\n"
                f"Lesson: {s['service_name']} ({s['duration_minutes']} min, {s['price_display']})\n"
                f"When: {s['when']} (Canberra time)\nInstructor: {s['instructor_name']}\nPick-up: {where}\n"
                f"Reference: {s['reference']}\n\nTo reschedule or cancel: {extra.get('manage_url', '')}\n"
                f"Please bring your learner licence.\n\n{SENDER}\n")
    elif kind == "booking_rescheduled":
        sms = (f"{SENDER}: your lesson has moved from {extra.get('previous', '')} to {s['when']}. "
               f"Ref {s['reference']}.")
        subject = f"Lesson moved to {s['when']}"
        body = (f"{hello}\n\nYour {s['service_name']} has moved.\n\nWas: {extra.get('previous', '')}\n"
                f"Now: {s['when']} (Canberra time)\nPick-up: {where}\nReference: {s['reference']}\n\n{SENDER}\n")
    elif kind == "booking_cancelled":
        fee = extra.get("fee")
        cost = f" A late-cancellation fee of {fee} applies." if fee else " There is no charge."
        sms = f"{SENDER}: your lesson on {s['when']} is cancelled.{cost} Ref {s['reference']}."
        subject = f"Lesson cancelled: {s['when']}"
        body = (f"{hello}\n\nYour {s['service_name']} on {s['when']} is cancelled.{cost}\n"
                f"Reference: {s['reference']}\n\nTo book another time: {public_url('/book')}\n\n{SENDER}\n")
    else:
        raise ValueError(f"unknown booking message {kind!r}")
    return sms, subject, body


def booking_message(session: Session, kind: str, *, booking: Booking, summary: dict, recipient: dict, **extra) -> None:
    """SMS and email about one booking event to the learner (or the contact who booked)."""
    sms, subject, body = _texts(kind, summary, extra)
    version = f"{booking.reschedule_count}:{booking.status}"
    common = dict(template=kind, booking_id=booking.id, user_id=recipient.get("user_id"),
                  contact_id=booking.contact_id, related_type="booking", related_id=booking.id,
                  template_data={"booking_id": str(booking.id), "reference": summary["reference"]})
    if recipient.get("phone"):
        queue(session, channel="sms", recipient=recipient["phone"], body=sms,
              idempotency_key=f"{kind}:sms:{booking.id}:{version}", **common)
    if recipient.get("email"):
        queue(session, channel="email", recipient=recipient["email"], subject=subject, body=body,
              idempotency_key=f"{kind}:email:{booking.id}:{version}", **common)
