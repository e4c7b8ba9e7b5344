"""The SMS assistant (C06): every inbound text to the school's number.

Keywords keep working exactly as before (``crm.sms_replies``): STOP/START/HELP at once, and Y/YES
confirms attendance of the sender's next lesson — unless the assistant has just asked this number a
yes/no question (confirm a hold, cancel a lesson), which YES then answers. Every other text goes to
the conversation brain (``conversation.handle_message``) with the sender's number as the identity
Twilio vouches for: questions are answered from the knowledge base, "any spots Saturday morning?"
gets three times, "2" holds one, YES confirms it. The reply is a catalogue message
(``assistant_reply``) queued in the outbox in the same transaction, once per inbound MessageSid.
"""
from __future__ import annotations

from sqlmodel import Session, select

from nexdrive.errors import ValidationFailed
from nexdrive.formats import normalise_au_mobile
from nexdrive.models import Conversation
from nexdrive.services.ai import conversation
from nexdrive.services.crm import sms_replies
from nexdrive.services.messaging import notify

KEYWORDS = sms_replies.STOP_WORDS | sms_replies.START_WORDS | sms_replies.HELP_WORDS
ANSWERS_A_QUESTION = ("held", "cancel")


def _phone(raw: str) -> str:
    try:
        return normalise_au_mobile(raw)
    except ValidationFailed:
        return (raw or "").strip()


def _waiting(session: Session, phone: str) -> str | None:
    conv = session.exec(select(Conversation).where(
        Conversation.channel == "sms", Conversation.channel_identifier == phone, Conversation.status != "closed",
    ).order_by(Conversation.last_message_at.desc())).first()
    return (conv.assistant_state or {}).get("waiting") if conv is not None else None


def handle_inbound_sms(session: Session, *, from_number: str, body: str, message_sid: str,
                       ip: str | None = None) -> sms_replies.InboundResult:
    """Act on one inbound SMS (in the webhook's transaction, which makes it idempotent on the SID)."""
    phone = _phone(from_number)
    word = sms_replies.keyword(body)
    if word in KEYWORDS or (word in sms_replies.YES_WORDS and _waiting(session, phone) not in ANSWERS_A_QUESTION):
        return sms_replies.handle_inbound_sms(session, from_number=from_number, body=body, message_sid=message_sid)
    caller = conversation.Caller("sms", phone, phone=phone, ip=ip)
    reply = conversation.handle_message(session, caller, body, external_id=message_sid)
    result = sms_replies.InboundResult("handoff" if reply.needs_handoff else reply.intent, reply.conversation_id,
                                       booking_id=reply.booking_id)
    result.send_now += reply.notices
    if reply.text:
        conv = session.get(Conversation, reply.conversation_id)
        [msg] = notify.queue_message(
            session, "assistant_reply", to={"phone": phone, "user_id": conv.user_id, "contact_id": conv.contact_id},
            data={"say": "answer", "answer": reply.text}, idempotency_key={"sms": f"assistant_reply:{message_sid}"},
            related_type="conversation", related_id=conv.id, template_data={"intent": reply.intent})
        result.send_now.append(msg.id)
    return result
