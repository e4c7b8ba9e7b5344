"""One conversation brain for every channel (web chat, SMS, voice).

``handle_message`` takes who is talking (:class:`Caller`) and what they said, and returns a
:class:`Reply`: the words (from the knowledge base or the message catalogue), sources, action
buttons, and whether a person must take over. It keeps the thread in ``conversations`` /
``messages`` and what it waits for (times offered, a hold, a cancellation to confirm) in
``conversations.assistant_state``.

Intents: question, booking, manage_booking, handoff, complaint, out_of_scope — a deterministic
classifier offline, the llm port when live (its label is only a hint: it can pick an intent,
never widen what a tool may do).

Booking uses the booking engine's own functions, the ones the widget uses:
``scheduling.booking.availability_by_day`` (at most 3 times offered), ``book_lesson`` (the hold),
``confirm_booking``, ``cancel_booking`` and ``reschedule_booking``. A person acts only on their own
bookings: found by the signed-in user's student record, or by the phone number the SMS or call came
from (the learner's profile mobile, or the mobile given when booking). Nothing here reads private
notes, lesson comments, vouchers or another person's bookings.

Safety: messages are cut at ``MAX_MESSAGE`` characters; each message counts against the
``assistant`` rate limit per IP and per phone number or chat session (``core.ratelimit``).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters import get_adapter
from nexdrive.errors import RateLimited, ServiceError, SlotUnavailable, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_when, normalise_au_mobile
from nexdrive.models import Booking, Conversation, Message, Service
from nexdrive.services.ai import knowledge
from nexdrive.services.core import clock, ratelimit
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.services.crm import callbacks, contacts
from nexdrive.services.messaging import admin_alerts, notify
from nexdrive.services.scheduling import booking as booking_svc

INTENTS = ("question", "booking", "manage_booking", "handoff", "complaint", "out_of_scope")
CHANNELS = ("sms", "web_chat", "voice")
MAX_MESSAGE = 500
MAX_OFFERED = 3
SEARCH_DAYS = 14

_DOMAIN = re.compile(
    r"\b(lesson|lessons|drive|driving|driver|drivers|licen[cs]e\w*|learner|learners|log ?book|logbook|cbt|cbta|"
    r"cbt&a|competenc\w*|review|instructor|car|cars|book|booking|bookings|price|prices|cost|costs|fee|fees|"
    r"pay|payment|paying|cancel\w*|refund\w*|hours?|supervis\w*|test|assessment|p ?plates?|l ?plates?|"
    r"provisional|parking|reverse|pick ?up|suburb|belconnen|gungahlin|woden|tuggeranong|canberra|act|night driving|"
    r"automatic|manual|package|voucher|final drive|task|tasks|parent|nervous|bring|glasses|accredit\w*|"
    r"gst|email|phone|contact|open|available|availability|times?|slot|slots|spot|spots|reschedule|move)\b",
    re.I)
_INJECTION = re.compile(
    r"(ignore (all |any |the )?(previous|prior|above)|system prompt|you are now|developer mode|jailbreak|"
    r"disregard (your|the) (rules|instructions)|act as (an? |the )?(admin|administrator|owner|system)|"
    r"reveal (your|the) (prompt|instructions)|"
    r"(show|give|list|send|read) (me )?(\w+'s |all |every |other )?(private notes|notes about)|"
    r"print (all|every) (bookings|customers|users|vouchers)|sudo|admin mode)", re.I)
_COMPLAINT = re.compile(
    r"\b(complain\w*|complaint|rude|unprofessional|unhappy|disappointed|terrible|awful|disgusted|unsafe|"
    r"dangerous|angry|furious|worst|not happy|very poor|poor service|never turned up|didn'?t (turn|show) up|"
    r"no[- ]show(ed)? by|late again|yelled|shouted|harass\w*|ripped off|scam)\b", re.I)
_HANDOFF = re.compile(
    r"\b(human|real person|a person|someone|somebody|the owner|speak to|talk to|call me|ring me|call back|"
    r"callback|phone me|operator|agent)\b", re.I)
_MANAGE = re.compile(
    r"\b((cancel|reschedule|move|change|shift)\b.{0,30}\b(my|our|his|her|this|that|the|tomorrow'?s|next)\b.{0,20}"
    r"\b(lesson|lessons|booking|bookings|appointment)|(cancel|reschedule|move|change) (it|that|this)\b|"
    r"my (bookings|appointments)|when is my|my next lesson|can'?t make (it|my))", re.I)
_QUESTION_WORD = re.compile(r"^\s*(how|what|why|where|who|which|is|are|does|do)\b", re.I)
_AVAILABILITY = re.compile(
    r"\b(spots?|slots?|available|availability|free (time|times|slot|spot)|openings?|any time|next (free|available)|"
    r"(can|could) i (get|have|book) (a )?(lesson|time)|book (me|a lesson|in)|i('d| would) like (to book|a lesson)|"
    r"want to book|need a lesson)\b", re.I)
_WHEN = re.compile(
    r"\b(today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|"
    r"thur|thurs|fri|sat|sun|weekend|next week|this week|morning|afternoon|evening|\d{1,2}(:\d\d)? ?(am|pm))\b",
    re.I)
_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_CHOICE = re.compile(r"^\s*(?:#|no\.?|number|option)?\s*([1-3])\s*[.!]?\s*$|^\s*(?:the )?(first|second|third)"
                     r"( one)?\s*[.!]?\s*$", re.I)
_YES = re.compile(r"^\s*(y|yes|yep|yeah|ok|okay|confirm|sure|please do)\b", re.I)
_NO = re.compile(r"^\s*(n|no|nope|keep( it)?|don'?t)\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Caller:
    channel: str  # 'sms' | 'web_chat' | 'voice'
    identifier: str  # the phone number (E.164), the chat session id, or the call id
    actor: Actor = VISITOR  # the signed-in user (web chat); VISITOR otherwise
    phone: str | None = None  # a number the provider vouches for (SMS sender, caller id)
    ip: str | None = None


@dataclass
class Reply:
    text: str
    intent: str
    conversation_id: uuid.UUID | None = None
    sms: str = ""
    sources: list[dict] = field(default_factory=list)
    confidence: float | None = None
    actions: list[dict] = field(default_factory=list)  # {"kind": "hold"|"confirm"|"link", "label", ...}
    needs_handoff: bool = False
    booking_id: uuid.UUID | None = None
    notices: list[uuid.UUID] = field(default_factory=list)  # outbox rows to send now (admin alerts)


# ─────────────────────────────────────────────────────────────────────────────
# Classification
# ─────────────────────────────────────────────────────────────────────────────

def classify(text: str) -> str:
    """The deterministic intent of one message."""
    text = text or ""
    if _INJECTION.search(text):
        return "out_of_scope"
    if _COMPLAINT.search(text):
        return "complaint"
    if _HANDOFF.search(text):
        return "handoff"
    if _MANAGE.search(text):
        return "manage_booking"
    asking = _QUESTION_WORD.match(text) and not re.search(r"\b(spots?|slots?|available|availability|free)\b",
                                                             text, re.I)
    if not asking and (_AVAILABILITY.search(text) or (re.search(r"\bbook\b", text, re.I) and _WHEN.search(text))):
        return "booking"
    if _DOMAIN.search(text) or text.strip().endswith("?"):
        return "question"
    return "out_of_scope"


def intent_of(text: str) -> str:
    rule = classify(text)
    if rule in ("out_of_scope", "complaint") and _INJECTION.search(text or ""):
        return rule  # an injection attempt is never re-labelled by a model
    model = get_adapter("llm")
    if model.live:
        try:
            label = model.classify(text, INTENTS)
        except Exception:
            label = None
        if label in INTENTS:
            return label
    return rule


# ─────────────────────────────────────────────────────────────────────────────
# The thread
# ─────────────────────────────────────────────────────────────────────────────

def _conversation(session: Session, caller: Caller) -> Conversation:
    conv = session.exec(select(Conversation).where(
        Conversation.channel == caller.channel, Conversation.channel_identifier == caller.identifier,
        Conversation.status != "closed").order_by(Conversation.last_message_at.desc()).with_for_update()).first()
    if conv is None:
        who = _who(session, caller)
        conv = Conversation(channel=caller.channel, channel_identifier=caller.identifier,
                            user_id=who.get("user_id"), contact_id=who.get("contact_id"),
                            mode={"student": "student", "parent": "parent"}.get(who.get("role") or "", "prospect"))
        session.add(conv)
        session.flush()
    return conv


def _log(session: Session, conv: Conversation, *, direction: str, content: str, sender: str,
         intent: str | None = None, sources: list[dict] | None = None, confidence: float | None = None,
         external_id: str | None = None) -> Message:
    msg = Message(conversation_id=conv.id, direction=direction, sender_type=sender, content=content[:1600],
                  intent_detected=intent, rag_sources=sources or None, external_id=external_id,
                  confidence=None if confidence is None else round(confidence, 2))
    session.add(msg)
    conv.message_count = (conv.message_count or 0) + 1
    conv.last_message_at = clock.now(session)
    session.add(conv)
    session.flush()
    return msg


def _who(session: Session, caller: Caller) -> dict:
    """The account or contact behind this caller: the signed-in user, else the phone the provider vouches for."""
    if caller.actor.user_id is not None:
        row = session.execute(sa.text("SELECT p.first_name, p.phone, u.role FROM users u LEFT JOIN profiles p "
                                      "ON p.user_id = u.id WHERE u.id = :u"), {"u": caller.actor.user_id}).first()
        return {"user_id": caller.actor.user_id, "first_name": row.first_name if row else None,
                "role": row.role if row else None, "phone": row.phone if row else None, "contact_id": None}
    if not caller.phone:
        return {}
    profile = session.execute(sa.text(
        "SELECT p.user_id, p.first_name, p.role, s.id AS student_id FROM profiles p "
        "LEFT JOIN students s ON s.profile_id = p.id WHERE p.phone = :p ORDER BY p.created_at LIMIT 1"),
        {"p": caller.phone}).first()
    contact = session.execute(sa.text("SELECT id, first_name FROM contacts WHERE phone = :p AND deleted_at IS NULL "
                                      "ORDER BY created_at LIMIT 1"), {"p": caller.phone}).first()
    return {"user_id": profile.user_id if profile else None, "role": profile.role if profile else None,
            "student_id": profile.student_id if profile else None,
            "first_name": (profile.first_name if profile else None) or (contact.first_name if contact else None),
            "contact_id": contact.id if contact else None, "phone": caller.phone}


def _acting(session: Session, caller: Caller) -> Actor:
    """Who books: the signed-in user; an SMS or caller whose number is a learner's profile mobile acts as that
    learner; anyone else is a visitor."""
    if not caller.actor.is_visitor:
        return caller.actor
    who = _who(session, caller)
    if who.get("student_id") and who.get("role") == "student":
        return Actor(role="student", user_id=who["user_id"], student_id=who["student_id"], ip_address=caller.ip)
    return Actor(role="visitor", ip_address=caller.ip)


def _say(session: Session, say: str, **data) -> tuple[str, str]:
    """(chat words, SMS words) of catalogue line ``say`` (message_templates.assistant_reply)."""
    rendered = notify.render_message(session, "assistant_reply", {"say": say, **data})
    return rendered.in_app, rendered.sms


def _reply(session: Session, conv: Conversation, intent: str, say: str, **kw) -> Reply:
    data = kw.pop("data", {})
    chat, sms = _say(session, say, **data)
    reply = Reply(chat, intent, conv.id, sms, **kw)
    _log(session, conv, direction="outbound", content=chat, sender="ai", intent=intent,
         sources=reply.sources, confidence=reply.confidence)
    return reply


def _state(conv: Conversation) -> dict:
    return dict(conv.assistant_state or {})


def _set_state(session: Session, conv: Conversation, state: dict) -> None:
    conv.assistant_state = state
    session.add(conv)
    session.flush()


# ─────────────────────────────────────────────────────────────────────────────
# The entry point
# ─────────────────────────────────────────────────────────────────────────────

def handle_message(session: Session, caller: Caller, text: str, *, external_id: str | None = None) -> Reply:
    """Answer one message from ``caller`` (in the caller's transaction)."""
    if caller.channel not in CHANNELS:
        raise ValidationFailed("Unknown channel.", field="channel")
    text = (text or "").replace("\x00", "")
    contact_key = caller.phone or f"{caller.identifier[:64]}@{caller.channel}.session"
    try:
        ratelimit.enforce(session, "assistant", ip=caller.ip, contact=contact_key)
    except RateLimited:
        conv = _conversation(session, caller)
        return _reply(session, conv, "out_of_scope", "slow_down")
    conv = _conversation(session, caller)
    if len(text) > MAX_MESSAGE:
        _log(session, conv, direction="inbound", content=text[:MAX_MESSAGE], sender="user", intent="too_long",
             external_id=external_id)
        return _reply(session, conv, "out_of_scope", "too_long", data={"limit": MAX_MESSAGE})
    text = " ".join(text.split())
    state = _state(conv)
    pending = _pending(session, caller, conv, state, text)
    if pending is not None:
        return pending
    intent = intent_of(text)
    inbound = _log(session, conv, direction="inbound", content=text, sender="user", intent=intent,
                   external_id=external_id)
    if not text:
        return _reply(session, conv, "question", "greeting")
    if intent == "complaint":
        return _complaint(session, caller, conv, text, inbound)
    if intent == "handoff":
        return _handoff(session, caller, conv, text, "handoff", reason=text)
    if intent == "booking":
        return offer_times(session, caller, conv, text)
    if intent == "manage_booking":
        return _manage(session, caller, conv, text)
    if intent == "out_of_scope":
        return _reply(session, conv, intent, "out_of_scope")
    answer = knowledge.answer_question(session, text, caller.channel)
    if answer.needs_handoff:
        if not _DOMAIN.search(text):
            return _reply(session, conv, "out_of_scope", "out_of_scope", confidence=answer.confidence)
        return _handoff(session, caller, conv, text, "question", reason=text, confidence=answer.confidence)
    actions = [{"kind": "link", "label": "See prices", "url": "/lessons"},
               {"kind": "ask", "label": "Find me a time", "text": "Any free times this week?"}]
    return _reply(session, conv, "question", "answer", data={"answer": answer.text}, sources=answer.sources,
                  confidence=answer.confidence, actions=actions)


def _choice(text: str) -> int | None:
    m = _CHOICE.match(text or "")
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else {"first": 1, "second": 2, "third": 3}[m.group(2).lower()]


def _pending(session: Session, caller: Caller, conv: Conversation, state: dict, text: str) -> Reply | None:
    """A reply to what the assistant asked last (a time to pick, details, yes/no); None if it isn't one."""
    waiting = state.get("waiting")
    if not waiting:
        return None
    n = _choice(text)
    if waiting in ("offer", "move") and n is not None:
        _log(session, conv, direction="inbound", content=text, sender="user", intent="booking")
        offered = state.get("offers") or []
        if n > len(offered):
            return _reply(session, conv, "booking", "pick_one")
        chosen = offered[n - 1]
        if waiting == "move":
            return _move(session, caller, conv, state, chosen)
        return hold_time(session, caller, chosen["start_at"], chosen["service_id"], conversation=conv)
    if waiting == "details":
        email = _EMAIL.search(text)
        if email:
            _log(session, conv, direction="inbound", content=text, sender="user", intent="booking")
            before, after = text[:email.start()], text[email.end():]
            name = before.strip(" ,;-") or None
            address = after.strip(" ,;-") or None
            suburb = address.replace(",", " ").split()[-1].title() if address else None
            chosen = state.get("chosen") or {}
            return hold_time(session, caller, chosen.get("start_at", ""), chosen.get("service_id", ""),
                             details={"name": name, "email": email.group(0), "pickup_address": address,
                                      "suburb": suburb, "phone": caller.phone}, conversation=conv)
    if waiting in ("held", "cancel") and (_YES.match(text) or _NO.match(text)):
        _log(session, conv, direction="inbound", content=text, sender="user", intent="manage_booking")
        yes = bool(_YES.match(text))
        if waiting == "held":
            return confirm_held(session, caller, conv) if yes else _release(session, caller, conv, state)
        return _cancel(session, caller, conv, state) if yes else _done(session, conv, "kept")
    if waiting == "listed":
        m = re.match(r"^\s*(cancel|move|change|reschedule)\s*#?\s*([1-3])\b", text, re.I)
        if m:
            _log(session, conv, direction="inbound", content=text, sender="user", intent="manage_booking")
            return _act_on_listed(session, caller, conv, state, m.group(1).lower(), int(m.group(2)))
    return None


def _done(session: Session, conv: Conversation, say: str, **data) -> Reply:
    _set_state(session, conv, {})
    return _reply(session, conv, "manage_booking", say, data=data)


# ─────────────────────────────────────────────────────────────────────────────
# Booking: offer up to 3 times, hold one, confirm
# ─────────────────────────────────────────────────────────────────────────────

def _service_for(session: Session, text: str, service_id: str | None = None) -> Service | None:
    rows = session.exec(select(Service).where(Service.is_active.is_(True), Service.is_bookable_online.is_(True))
                        .order_by(Service.sort_order, Service.name)).all()
    if service_id:
        for s in rows:
            if str(s.id) == str(service_id):
                return s
    lowered = (text or "").lower()
    for s in rows:
        if s.name.lower() in lowered or f"{s.duration_minutes} min" in lowered or \
                f"{s.duration_minutes}-min" in lowered:
            if s.category == "lesson" or s.name.lower() in lowered:
                return s
    lessons = [s for s in rows if s.category == "lesson"]
    return (lessons or rows or [None])[0]


def when_wanted(text: str, today: date) -> tuple[date, date, tuple[int, int] | None, str]:
    """(first day, last day, (from hour, to hour) or None, how to say it) from words like 'Saturday morning'."""
    lowered = (text or "").lower()
    first, last, label = today, today + timedelta(days=SEARCH_DAYS - 1), ""
    if "tomorrow" in lowered:
        first = last = today + timedelta(days=1)
        label = "tomorrow"
    elif re.search(r"\btoday\b|\btonight\b", lowered):
        first = last = today
        label = "today"
    elif "next week" in lowered:
        first = today + timedelta(days=7 - today.weekday())
        last, label = first + timedelta(days=6), "next week"
    elif "weekend" in lowered:
        first = today + timedelta(days=(5 - today.weekday()) % 7)
        last, label = first + timedelta(days=1), "at the weekend"
    else:
        m = re.search(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", lowered)
        if m:
            wd = _DAY_NAMES[m.group(1)]
            first = today + timedelta(days=(wd - today.weekday()) % 7)
            last, label = first, "on " + first.strftime("%A")
    hours = None
    if "morning" in lowered:
        hours, label = (0, 12), (label + " morning").strip()
    elif "afternoon" in lowered:
        hours, label = (12, 17), (label + " afternoon").strip()
    elif "evening" in lowered or "after school" in lowered or "after work" in lowered:
        hours, label = (15, 24), (label + " evening").strip()
    return first, last, hours, label


def offer_times(session: Session, caller: Caller, conv: Conversation, text: str,
                service_id: str | None = None) -> Reply:
    """Up to 3 free times (the widget's own availability), remembered so '1', '2' or '3' holds one."""
    service = _service_for(session, text, service_id)
    if service is None:
        return _handoff(session, caller, conv, text, "booking", reason=text)
    today = clock.today(session)
    first, last, hours, label = when_wanted(text, today)
    offers = _free_times(session, service, first, last, hours)
    if not offers and (last - first).days < SEARCH_DAYS - 1:
        offers = _free_times(session, service, first, first + timedelta(days=SEARCH_DAYS - 1), hours)
        label = (label + " or soon after").strip() if offers else label
    data = {"service_name": service.name, "when_text": label, "times": [o["label"] for o in offers]}
    if not offers:
        _set_state(session, conv, {})
        return _reply(session, conv, "booking", "no_times", data=data)
    _set_state(session, conv, {"waiting": "offer", "offers": offers})
    actions = [{"kind": "hold", "label": o["label"], "start_at": o["start_at"], "service_id": o["service_id"]}
               for o in offers]
    return _reply(session, conv, "booking", "offer", data=data, actions=actions)


def _free_times(session: Session, service: Service, first: date, last: date,
                hours: tuple[int, int] | None) -> list[dict]:
    view = booking_svc.availability_by_day(session, service_ref=service.id, date_from=first, date_to=last)
    found = []
    for day in view["slots"]:
        for t in day["times"]:
            hour = int(t["start"][:2])
            if hours and not hours[0] <= hour < hours[1]:
                continue
            start = datetime.fromisoformat(t["start_at"].replace("Z", "+00:00"))
            found.append({"start_at": t["start_at"], "label": au_when(start), "service_id": str(service.id)})
    # Spread the offer: the first free time of different days first, then more times on those days.
    by_day: dict[str, list[dict]] = {}
    for item in found:
        by_day.setdefault(item["start_at"][:10], []).append(item)
    chosen: list[dict] = []
    depth = 0
    while len(chosen) < MAX_OFFERED and any(len(v) > depth for v in by_day.values()):
        for items in by_day.values():
            if len(items) > depth and len(chosen) < MAX_OFFERED:
                chosen.append(items[depth])
        depth += 1
    return sorted(chosen, key=lambda o: o["start_at"])


def _profile_pickup(session: Session, actor: Actor) -> dict:
    if actor.student_id is None:
        return {}
    row = session.execute(sa.text("SELECT p.address_line1, p.suburb FROM students s JOIN profiles p "
                                  "ON p.id = s.profile_id WHERE s.id = :s"), {"s": actor.student_id}).first()
    return {"pickup_address": row.address_line1, "suburb": row.suburb} if row and row.address_line1 else {}


def hold_time(session: Session, caller: Caller, start_at: str, service_id: str, *, details: dict | None = None,
              conversation: Conversation | None = None) -> Reply:
    """Hold a time the assistant offered, through ``book_lesson`` (the widget's reserve). Visitors give their
    details (chat form or SMS); a learner recognised by their sign-in or mobile books with their profile."""
    conv = conversation or _conversation(session, caller)
    state = _state(conv)
    offered = {o["start_at"] for o in state.get("offers") or []} | {(state.get("chosen") or {}).get("start_at")}
    if start_at not in offered:
        # Only a time this conversation was offered can be held here (a forged button does nothing else).
        return _reply(session, conv, "booking", "pick_one")
    actor = _acting(session, caller)
    details = {k: v for k, v in (details or {}).items() if v}
    if caller.phone and not details.get("phone"):
        details["phone"] = caller.phone
    if actor.is_student:
        details = {**_profile_pickup(session, actor), **details}
    needs = ("pickup_address", "suburb") if actor.is_student else ("name", "email", "pickup_address", "suburb",
                                                                   "phone")
    if any(not details.get(k) for k in needs):
        _set_state(session, conv, {**state, "waiting": "details",
                                   "chosen": {"start_at": start_at, "service_id": service_id}})
        return _reply(session, conv, "booking", "need_details",
                      actions=[{"kind": "details", "label": "Book this time", "start_at": start_at,
                                "service_id": service_id}])
    start = datetime.fromisoformat(start_at.replace("Z", "+00:00"))
    via = {"sms": "sms", "voice": "voice_agent"}.get(caller.channel, "website")
    try:
        with session.begin_nested():
            reservation = booking_svc.book_lesson(
                session, actor, service_id=service_id, start_time=start, name=details.get("name"),
                phone=details.get("phone"), email=details.get("email"), pickup_address=details.get("pickup_address"),
                suburb=details.get("suburb"), booked_via=via,
                idempotency_key=f"assistant:{conv.id}:{start_at}")
    except SlotUnavailable:
        # The refusal's alternatives are not used (the assistant offers the day's times below), so one refused
        # under the instructor's lock is not completed (``booking.complete_alternatives``): no fortnight read.
        _log(session, conv, direction="outbound", content="(time taken)", sender="system", intent="booking")
        service = session.get(Service, uuid.UUID(service_id))
        day = start.astimezone(BUSINESS_TZ).date()
        return offer_times(session, caller, conv, f"on {day.strftime('%A')}", service_id=str(service.id))
    except ValidationFailed as exc:
        return Reply(exc.message, "booking", conv.id, exc.message)
    b = reservation.booking
    if conv.contact_id is None and b.contact_id:
        conv.contact_id = b.contact_id
    _set_state(session, conv, {"waiting": "held", "booking_id": str(b.id)})
    minutes = max(1, int((b.hold_expires_at - clock.now(session)).total_seconds() // 60))
    link = booking_svc.manage_url(reservation.manage_token) if reservation.manage_token else notify.public_url("/")
    return _reply(session, conv, "booking", "held", booking_id=b.id,
                  data={"when": au_when(b.start_time), "minutes": minutes, "link": link},
                  actions=[{"kind": "confirm", "label": "Confirm (pay at the lesson)", "booking_id": str(b.id)},
                           {"kind": "link", "label": "Manage or pay", "url": link}])


def confirm_held(session: Session, caller: Caller, conv: Conversation | None = None) -> Reply:
    """Confirm the hold this conversation made (pay later, when the school allows it)."""
    conv = conv or _conversation(session, caller)
    state = _state(conv)
    if state.get("waiting") != "held" or not state.get("booking_id"):
        return _reply(session, conv, "booking", "pick_one")
    if not booking_svc.business_settings(session).allow_pay_later:
        return _reply(session, conv, "booking", "handoff")
    booking_id = uuid.UUID(state["booking_id"])
    try:
        with session.begin_nested():
            b = booking_svc.confirm_booking(session, _acting(session, caller), booking_id, payment_status="unpaid")
    except ServiceError as exc:
        _set_state(session, conv, {})
        return Reply(exc.message, "booking", conv.id, exc.message)
    _set_state(session, conv, {})
    return _reply(session, conv, "booking", "confirmed", booking_id=b.id, data={"when": au_when(b.start_time)})


def _release(session: Session, caller: Caller, conv: Conversation, state: dict) -> Reply:
    booking_id = uuid.UUID(state["booking_id"])
    b = session.get(Booking, booking_id)
    if b is not None and b.status == "held":
        with session.begin_nested():
            booking_svc.cancel_booking(session, SYSTEM, booking_id, reason="Released in the assistant")
    return _done(session, conv, "kept")


# ─────────────────────────────────────────────────────────────────────────────
# Manage: the caller's own bookings only
# ─────────────────────────────────────────────────────────────────────────────

def own_bookings(session: Session, caller: Caller, *, limit: int = 3) -> list[Booking]:
    """Upcoming bookings of this caller: the signed-in learner's, or those made for or with this phone number."""
    actor = caller.actor
    if actor.is_student and actor.student_id:
        where, params = "b.student_id = :s", {"s": actor.student_id}
    elif caller.phone:
        where = ("(p.phone = :phone OR b.booker_phone = :phone OR (b.booker_phone IS NULL AND c.phone = :phone))")
        params = {"phone": caller.phone}
    else:
        return []
    ids = session.execute(sa.text(f"""
        SELECT b.id FROM bookings b
        LEFT JOIN students s ON s.id = b.student_id LEFT JOIN profiles p ON p.id = s.profile_id
        LEFT JOIN contacts c ON c.id = b.contact_id
        WHERE {where} AND b.status IN ('confirmed', 'held') AND b.start_time > :now
        ORDER BY b.start_time LIMIT :n"""), {**params, "now": clock.now(session), "n": limit}).scalars().all()
    return [session.get(Booking, i) for i in ids]


def _manage(session: Session, caller: Caller, conv: Conversation, text: str) -> Reply:
    mine = own_bookings(session, caller)
    if not mine:
        _set_state(session, conv, {})
        return _reply(session, conv, "manage_booking", "no_bookings")
    listed = [str(b.id) for b in mine]
    wants = re.search(r"\b(cancel|move|reschedule|change|shift)\b", text, re.I)
    if len(mine) == 1 and wants:
        _set_state(session, conv, {"waiting": "listed", "listed": listed})
        verb = "cancel" if wants.group(1).lower() == "cancel" else "move"
        return _act_on_listed(session, caller, conv, {"listed": listed}, verb, 1)
    _set_state(session, conv, {"waiting": "listed", "listed": listed})
    return _reply(session, conv, "manage_booking", "your_bookings",
                  data={"times": [au_when(b.start_time) for b in mine]})


def _owned(session: Session, caller: Caller, booking_id: str) -> Booking | None:
    """The booking, if it is still one of this caller's own (checked again at every step)."""
    return next((b for b in own_bookings(session, caller, limit=20) if str(b.id) == booking_id), None)


def _act_on_listed(session: Session, caller: Caller, conv: Conversation, state: dict, verb: str, n: int) -> Reply:
    listed = state.get("listed") or []
    if n > len(listed):
        return _reply(session, conv, "manage_booking", "pick_one")
    b = _owned(session, caller, listed[n - 1])
    if b is None:
        return _done(session, conv, "no_bookings")
    if verb == "cancel":
        terms = booking_svc.cancellation_terms(session, b)
        _set_state(session, conv, {"waiting": "cancel", "booking_id": str(b.id)})
        return _reply(session, conv, "manage_booking", "cancel_check",
                      data={"when": au_when(b.start_time), "free": terms["free"], "free_until": terms["free_until"],
                            "fee": terms["fee"]})
    service = session.get(Service, b.service_id)
    day = b.start_time.astimezone(BUSINESS_TZ).date()
    offers = [o for o in _free_times(session, service, max(day - timedelta(days=3), clock.today(session)),
                                     day + timedelta(days=7), None) if o["start_at"] != b.start_time.isoformat()]
    if not offers:
        return _done(session, conv, "no_times", service_name=service.name)
    _set_state(session, conv, {"waiting": "move", "booking_id": str(b.id), "offers": offers})
    return _reply(session, conv, "manage_booking", "move_pick", data={"times": [o["label"] for o in offers]},
                  actions=[{"kind": "move", "label": o["label"], "start_at": o["start_at"]} for o in offers])


def _manage_actor(session: Session, caller: Caller) -> Actor:
    """Who changes an owned booking: the signed-in learner themself; for a number the provider vouches for and
    that the booking was made with (checked by ``_owned``), the app on their behalf."""
    actor = _acting(session, caller)
    return actor if actor.is_student else SYSTEM


def _cancel(session: Session, caller: Caller, conv: Conversation, state: dict) -> Reply:
    b = _owned(session, caller, state.get("booking_id", ""))
    if b is None:
        return _done(session, conv, "no_bookings")
    if b.start_time <= clock.now(session):
        return _done(session, conv, "handoff")
    when = au_when(b.start_time)
    with session.begin_nested():
        outcome = booking_svc.cancel_booking(session, _manage_actor(session, caller), b.id,
                                             reason=f"Cancelled by {caller.channel} assistant")
    return _done(session, conv, "cancelled", when=when, outcome=outcome.message)


def _move(session: Session, caller: Caller, conv: Conversation, state: dict, chosen: dict) -> Reply:
    b = _owned(session, caller, state.get("booking_id", ""))
    if b is None:
        return _done(session, conv, "no_bookings")
    if not booking_svc.cancellation_terms(session, b)["can_reschedule"]:
        return _done(session, conv, "handoff")  # inside the notice window: the owner decides
    new_start = datetime.fromisoformat(chosen["start_at"].replace("Z", "+00:00"))
    try:
        with session.begin_nested():
            moved = booking_svc.reschedule_booking(session, _manage_actor(session, caller), b.id, new_start)
    except SlotUnavailable:
        return _done(session, conv, "taken")
    return _done(session, conv, "moved", when=au_when(moved.start_time))


# ─────────────────────────────────────────────────────────────────────────────
# People: handoff, complaints, new leads
# ─────────────────────────────────────────────────────────────────────────────

def _admin_ids(session: Session) -> list[uuid.UUID]:
    return list(session.execute(sa.text("SELECT id FROM users WHERE role = 'admin' AND status = 'active'")).scalars())


def _lead(session: Session, caller: Caller, conv: Conversation, text: str) -> None:
    """A new person texting or calling becomes a lead in the CRM."""
    if conv.contact_id is None and conv.user_id is None and caller.phone:
        try:
            normalise_au_mobile(caller.phone)
        except ValidationFailed:
            return
        contact = contacts.record_contact(session, SYSTEM, name=None, phone=caller.phone, email=None,
                                          source="voice_agent" if caller.channel == "voice" else "sms",
                                          source_detail=f"{caller.channel}: {text[:300]}", trusted=False)
        conv.contact_id = contact.id
        session.add(conv)
        session.flush()


def _handoff(session: Session, caller: Caller, conv: Conversation, text: str, intent: str, *, reason: str,
             confidence: float | None = None) -> Reply:
    """A person takes over: the thread is flagged, each admin gets a notice, and a caller with a number is put in
    the callback queue."""
    _lead(session, caller, conv, text)
    if conv.status == "handoff_requested" and caller.channel == "sms":
        # Already with the owner: log it for them, don't text another acknowledgement.
        return Reply("", intent, conv.id, "", needs_handoff=True, confidence=confidence)
    who = _who(session, caller)
    data = {"who": who.get("first_name") or caller.phone or "a visitor", "channel": caller.channel,
            "message": reason[:300]}
    conv.status = "handoff_requested"
    conv.handoff_reason = notify.render_message(session, "assistant_handoff", data).in_app
    session.add(conv)
    notices = []
    for admin_id in _admin_ids(session):
        notices += [m.id for m in notify.queue_message(
            session, "assistant_handoff", to={"user_id": admin_id}, data=data, related_type="conversation",
            related_id=conv.id, idempotency_key={"in_app": f"assistant_handoff:{conv.id}:{conv.message_count}:"
                                                           f"{admin_id}"}, template_data={})]
    if caller.phone:
        callbacks.request_callback(session, phone=caller.phone, reason=reason, name=who.get("first_name"),
                                   conversation_id=conv.id, contact_id=conv.contact_id, channel=caller.channel)
    _set_state(session, conv, {})
    return _reply(session, conv, intent, "unsure" if intent == "question" else "handoff", needs_handoff=True,
                  confidence=confidence, notices=notices)


def _complaint(session: Session, caller: Caller, conv: Conversation, text: str, inbound: Message) -> Reply:
    """A complaint goes to the owner at once: email and in-app alert to every administrator."""
    _lead(session, caller, conv, text)
    who = _who(session, caller)
    data = {"who": who.get("first_name") or caller.phone or "a visitor", "channel": caller.channel,
            "message": text[:500]}
    admin_alerts.alert_admins(session, key=f"assistant_complaint:{inbound.id}", notification_type="assistant_complaint",
                              data=data, related_id=conv.id, template_data={"conversation_id": str(conv.id)})
    notices = list(session.execute(sa.text(
        "SELECT id FROM outbox_messages WHERE idempotency_key LIKE :k"), {"k": f"assistant_complaint:{inbound.id}:%"}
    ).scalars())
    conv.status = "handoff_requested"
    conv.handoff_reason = f"complaint: {text[:200]}"
    session.add(conv)
    _set_state(session, conv, {})
    return _reply(session, conv, "complaint", "complaint", needs_handoff=True, notices=notices)


def history(session: Session, caller: Caller, *, limit: int = 50) -> list[dict]:
    """This caller's own thread (web chat), oldest first, as plain data."""
    conv = session.exec(select(Conversation).where(
        Conversation.channel == caller.channel, Conversation.channel_identifier == caller.identifier)
        .order_by(Conversation.last_message_at.desc())).first()
    if conv is None:
        return []
    rows = session.exec(select(Message).where(Message.conversation_id == conv.id)
                        .order_by(Message.created_at.desc(), Message.id).limit(limit)).all()
    return [{"from": "you" if m.direction == "inbound" else "assistant", "text": m.content,
             "sources": m.rag_sources or []} for m in reversed(rows)]
