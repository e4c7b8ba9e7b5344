"""Two-way SMS: what happens when someone texts the school's number (architecture §5.3).

Every inbound text is logged on the sender's SMS conversation. Then:

* STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT — marketing consent for that
  number is revoked at once (``revoked_source='sms_stop'``); reminders and
  booking messages keep coming (they are not marketing). Note: Twilio's own
  default STOP filtering blocks *every* message to that number (error 21610);
  to keep reminders flowing the school turns it off (Advanced Opt-Out on a
  Messaging Service), and the dispatcher marks messages Twilio refuses this
  way as suppressed.
* START, UNSTOP — marketing resumes only where this number had consented
  before and stopped; the reply is recorded as a new consent (``sms_start``).
  A number that never consented is not subscribed by a text.
* HELP, INFO — the school's contact details.
* Y, YES — confirms attendance of the sender's next confirmed lesson starting
  in the next 48 hours (``bookings.attendance_confirmed_at``; the instructor's
  schedule shows "Confirmed by SMS"). Only the sender's own lessons: the number
  must be the learner's profile mobile or the booking contact's mobile.
* Anything else — the conversation is flagged for the owner to answer
  (``handoff_requested``) and each admin gets an in-app notice.

Replies are transactional SMS written to the outbox in the same transaction
(idempotent on the inbound MessageSid); the webhook asks the dispatcher to
send them straight away, so the reply is recorded, retried and shown on the
Outbox page like any other message.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import Conversation, MarketingConsent, Message
from nexdrive.services.core import audit
from nexdrive.services.messaging import notify
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.crm.contacts import format_au_phone, normalise_au_mobile
from nexdrive.errors import ValidationFailed
from nexdrive.formats import au_when
from nexdrive.services.messaging.message_templates import SENDER

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
YES_WORDS = {"Y", "YES"}
CONFIRM_WINDOW = timedelta(hours=48)
REPLY_TEMPLATE = "sms_reply"


@dataclass
class InboundResult:
    action: str  # 'stop' | 'start' | 'help' | 'confirm' | 'no_booking' | 'handoff'
    conversation_id: uuid.UUID
    send_now: list[uuid.UUID] = field(default_factory=list)  # the reply and owner notices
    booking_id: uuid.UUID | None = None


def keyword(body: str) -> str:
    """The single word a keyword reply is made of ('Stop.' -> 'STOP'); '' for a sentence."""
    words = (body or "").strip().strip(".!").split()
    return words[0].upper() if len(words) == 1 else ""


def _phone(raw: str) -> str:
    try:
        return normalise_au_mobile(raw)
    except ValidationFailed:
        return (raw or "").strip()


def _who(session: Session, phone: str) -> dict:
    """The contact and account this number belongs to, if we know it."""
    contact = session.execute(sa.text(
        "SELECT id, first_name, user_id FROM contacts WHERE phone = :p AND deleted_at IS NULL"), {"p": phone}).first()
    profile = session.execute(sa.text(
        "SELECT user_id, first_name, role FROM profiles WHERE phone = :p ORDER BY created_at LIMIT 1"),
        {"p": phone}).first()
    return {"contact_id": contact.id if contact else None,
            "user_id": (profile.user_id if profile else None) or (contact.user_id if contact else None),
            "first_name": (profile.first_name if profile else None) or (contact.first_name if contact else None),
            "role": profile.role if profile else None}


def _conversation(session: Session, phone: str, who: dict) -> Conversation:
    conv = session.exec(select(Conversation).where(
        Conversation.channel == "sms", Conversation.channel_identifier == phone, Conversation.status != "closed",
    ).order_by(Conversation.last_message_at.desc()).with_for_update()).first()
    if conv is None:
        mode = {"student": "student", "parent": "parent"}.get(who.get("role") or "", "prospect")
        conv = Conversation(channel="sms", channel_identifier=phone, contact_id=who["contact_id"],
                            user_id=who["user_id"], mode=mode)
        session.add(conv)
        session.flush()
    return conv


def _log(session: Session, conv: Conversation, *, direction: str, content: str, sender_type: str,
         external_id: str | None = None, intent: str | None = None) -> None:
    session.add(Message(conversation_id=conv.id, direction=direction, sender_type=sender_type, content=content,
                        external_id=external_id, intent_detected=intent))
    conv.message_count = (conv.message_count or 0) + 1
    conv.last_message_at = session.execute(sa.text("SELECT now()")).scalar_one()
    session.add(conv)
    session.flush()


def _reply(session: Session, conv: Conversation, phone: str, who: dict, sid: str, reply: str,
           data: dict) -> uuid.UUID:
    """The automatic answer ``reply`` (message_templates.sms_reply), queued once per inbound message and logged."""
    [msg] = notify.queue_message(
        session, REPLY_TEMPLATE, to={"phone": phone, "user_id": who["user_id"], "contact_id": who["contact_id"]},
        data={"reply": reply, "first_name": who.get("first_name"), **data},
        idempotency_key={"sms": f"{REPLY_TEMPLATE}:{sid}"}, related_type="conversation", related_id=conv.id,
        template_data={})
    _log(session, conv, direction="outbound", content=msg.body, sender_type="system")
    return msg.id


def _school(session: Session) -> dict:
    row = session.execute(
        sa.text("SELECT business_name, phone, email, website FROM business_settings WHERE id = 1")
    ).first()
    if row is None:
        return {"name": SENDER, "phone": "", "email": "", "website": ""}
    return {"name": row.business_name or SENDER, "phone": row.phone or "", "email": row.email or "",
            "website": row.website or ""}


def handle_inbound_sms(session: Session, *, from_number: str, body: str, message_sid: str) -> InboundResult:
    """Act on one inbound SMS (in the caller's transaction; the webhook makes it idempotent on the SID)."""
    phone = _phone(from_number)
    who = _who(session, phone)
    conv = _conversation(session, phone, who)
    word = keyword(body)
    _log(session, conv, direction="inbound", content=(body or "")[:1600], sender_type="user",
         external_id=message_sid, intent=word.lower() or "message")
    school = _school(session)
    data = {"school_phone": school["phone"], "school_email": school["email"], "website": school["website"]}

    if word in STOP_WORDS:
        revoked = _revoke(session, phone)
        reply = "stop"
        result = InboundResult("stop", conv.id)
        audit.record_event(session, SYSTEM, "marketing.sms_stop", subject_type="conversation", subject_id=conv.id,
                           details={"revoked": revoked})
    elif word in START_WORDS:
        reply = _start(session, phone, message_sid)
        result = InboundResult("start", conv.id)
    elif word in HELP_WORDS:
        reply = "help"
        result = InboundResult("help", conv.id)
    elif word in YES_WORDS:
        booking = _confirm_attendance(session, phone)
        if booking is not None:
            reply, data["when"] = "confirmed", au_when(booking.start_time)
            result = InboundResult("confirm", conv.id, booking_id=booking.id)
        else:
            reply = "no_booking"
            result = InboundResult("no_booking", conv.id, send_now=_hand_off(
                session, conv, phone, who, message_sid, "no_lesson"))
    else:
        if who["contact_id"] is None and who["user_id"] is None and phone.startswith("+614"):
            # A new person texting: a lead in the CRM, so the owner sees who it is (architecture §5.3).
            from nexdrive.services.crm.contacts import record_contact
            contact = record_contact(session, SYSTEM, name=None, phone=phone, email=None, source="sms",
                                     source_detail=f"SMS: {(body or '').strip()[:300]}", trusted=False)
            who["contact_id"] = conv.contact_id = contact.id
            session.add(conv)
        already = conv.status == "handoff_requested"
        result = InboundResult("handoff", conv.id, send_now=_hand_off(
            session, conv, phone, who, message_sid, "needs_reply"))
        if already:
            return result  # acknowledged once already; the owner will answer the thread
        reply = "received"
    result.send_now.append(_reply(session, conv, phone, who, message_sid, reply, data))
    return result


def _name(who: dict, phone: str) -> str:
    return who.get("first_name") or format_au_phone(phone) or phone


def _revoke(session: Session, phone: str) -> int:
    from nexdrive.services.messaging.preferences import revoke_marketing_consent
    return revoke_marketing_consent(session, SYSTEM, channel="sms", recipient=phone, source="sms_stop")


def _start(session: Session, phone: str, sid: str) -> str:
    live = session.exec(select(MarketingConsent).where(MarketingConsent.channel == "sms",
                                                       MarketingConsent.recipient == phone,
                                                       MarketingConsent.revoked_at.is_(None))).first()
    if live is not None:
        return "start_already"
    before = session.exec(select(MarketingConsent).where(MarketingConsent.channel == "sms",
                                                         MarketingConsent.recipient == phone)
                          .order_by(MarketingConsent.granted_at.desc())).first()
    if before is None:
        return "start_not_needed"
    consent = MarketingConsent(channel="sms", recipient=phone, source="sms_start", contact_id=before.contact_id,
                               user_id=before.user_id,
                               consent_text=f"Replied START by SMS (message {sid}) after opting out.")
    session.add(consent)
    session.flush()
    audit.record_event(session, SYSTEM, "marketing.consent_recorded", subject_type="marketing_consent",
                       subject_id=consent.id, details={"channel": "sms", "source": "sms_start"})
    return "start_again"


def _confirm_attendance(session: Session, phone: str):
    """The sender's next confirmed lesson in the next 48 h (their own only); marks it confirmed once."""
    from nexdrive.models import Booking

    booking_id = session.execute(sa.text(
        """SELECT b.id FROM bookings b
           LEFT JOIN students s ON s.id = b.student_id
           LEFT JOIN profiles p ON p.id = s.profile_id
           LEFT JOIN contacts c ON c.id = b.contact_id
           WHERE b.status = 'confirmed' AND b.start_time > now() AND b.start_time <= now() + CAST(:w AS interval)
             AND (p.phone = :phone OR COALESCE(b.booker_phone, c.phone) = :phone)
           ORDER BY b.start_time LIMIT 1 FOR UPDATE OF b"""
    ), {"phone": phone, "w": f"{int(CONFIRM_WINDOW.total_seconds())} seconds"}).scalar()
    if booking_id is None:
        return None
    booking = session.get(Booking, booking_id)
    if booking.attendance_confirmed_at is None:
        booking.attendance_confirmed_at = session.execute(sa.text("SELECT now()")).scalar_one()
        session.add(booking)
        session.flush()
        audit.record_event(session, SYSTEM, "booking.attendance_confirmed", subject_type="booking",
                           subject_id=booking.id, details={"via": "sms"})
    return booking


def _hand_off(session: Session, conv: Conversation, phone: str, who: dict, sid: str, why: str) -> list[uuid.UUID]:
    """Flag the thread for the owner and put a notice in each admin's bell (once per inbound message).

    ``why``: 'no_lesson' or 'needs_reply' (message_templates.sms_handoff)."""
    data = {"who": _name(who, phone), "why": why}
    conv.status, conv.handoff_reason = "handoff_requested", notify.render_message(session, "sms_handoff", data).in_app
    session.add(conv)
    session.flush()
    notices = []
    for (admin_id,) in session.execute(sa.text("SELECT id FROM users WHERE role = 'admin' AND status = 'active'")):
        [notice] = notify.queue_message(session, "sms_handoff", to={"user_id": admin_id}, data=data,
                                        idempotency_key={"in_app": f"sms_handoff:{sid}:{admin_id}"},
                                        related_type="conversation", related_id=conv.id, template_data={})
        notices.append(notice.id)
    return notices
