"""Twilio's inbound-SMS and status webhooks: real signatures (twilio's RequestValidator), real database."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from nexdrive import adapters
from nexdrive.adapters.email import OutboxEmail
from nexdrive.adapters.sms import OutboxSms, SmsReceipt
from nexdrive.db import session_scope
from nexdrive.models import Booking
from nexdrive.pages.account._display import booking_row
from nexdrive.services.core import access
from nexdrive.services.messaging import notify
from nexdrive.services.messaging import preferences
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.messaging.dispatch import STALE_AFTER, dispatch_due
from nexdrive.settings import get_settings, reset_settings
from tests.booking_helpers import open_instructor
from tests.factories import make_student, make_user
from tests.notify_helpers import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN, deliveries, later, offline, outbox
from nexdrive.http_app import build_api

INBOUND = "/api/v1/sms/inbound"
STATUS = "/api/v1/sms/status"
SCHOOL_NUMBER = "+61480000000"


@pytest.fixture
def twilio(engine, monkeypatch):
    """Settings with a Twilio account; the SMS/email ports deliver offline into the test database."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", SCHOOL_NUMBER)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    reset_settings()
    adapters.reset_adapters()
    adapters.override("sms", OutboxSms(get_settings(), engine=engine))
    adapters.override("email", OutboxEmail(get_settings(), engine=engine))
    yield TestClient(build_api())
    adapters.reset_adapters()
    monkeypatch.undo()
    reset_settings()


def signed_post(client, path, params, *, token=TWILIO_TOKEN, url=None, query="", tamper=None):
    full = (url or PUBLIC_URL + path) + (f"?{query}" if query else "")
    signature = RequestValidator(token).compute_signature(full, params)
    sent = dict(params, **(tamper or {}))
    return client.post(path + (f"?{query}" if query else ""), data=sent, headers={"X-Twilio-Signature": signature})


def inbound(phone: str, body: str, sid: str | None = None) -> dict:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": TWILIO_SID, "From": phone,
            "To": SCHOOL_NUMBER, "Body": body, "NumSegments": "1"}


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in
                ("webhook_events", "conversations", "messages", "outbox_messages", "audit_log")} | {
            "live_consents": conn.execute(sa.text(
                "SELECT count(*) FROM marketing_consents WHERE revoked_at IS NULL")).scalar(),
            "confirmed": conn.execute(sa.text(
                "SELECT count(*) FROM bookings WHERE attendance_confirmed_at IS NOT NULL")).scalar(),
            "statuses": conn.execute(sa.text(
                "SELECT string_agg(id || ':' || status || ':' || COALESCE(provider_status, ''), ',' ORDER BY id) "
                "FROM outbox_messages")).scalar(),
        }


def learner(session, instructor, phone: str, first: str = "Sam"):
    student = make_student(session, instructor)
    session.execute(sa.text("UPDATE profiles SET phone = :p, first_name = :f WHERE id = :i"),
                    {"p": phone, "f": first, "i": student.profile_id})
    return student


def book(session, instructor, service, student, start: datetime, status: str = "confirmed") -> Booking:
    b = Booking(instructor_id=instructor.id, student_id=student.id, service_id=service.id,
                scheduled_date=start.date(), start_time=start, end_time=start + timedelta(hours=1),
                duration_minutes=60, status=status)
    session.add(b)
    session.flush()
    return b


# ─────────────────────────────────────────────────────────────────────────────
# Signatures
# ─────────────────────────────────────────────────────────────────────────────

def test_bad_signatures_are_refused_and_change_nothing(twilio, engine):
    with session_scope(engine) as s:
        _, profile = make_user(s, "student", "Mia")
        s.execute(sa.text("UPDATE profiles SET phone = '+61412777001' WHERE id = :p"), {"p": profile.id})
        preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient="+61412777001",
                                             source="booking_form", consent_text="Offers by SMS please")
    before = snapshot(engine)
    stop = inbound("+61412777001", "STOP")
    attempts = [
        signed_post(twilio, INBOUND, stop, token="f" * 32),  # wrong token
        signed_post(twilio, INBOUND, stop, tamper={"From": "+61412777002"}),  # a parameter changed after signing
        signed_post(twilio, INBOUND, stop, url="http://testserver" + INBOUND),  # the request's host, not ours
        signed_post(twilio, INBOUND, stop, url=PUBLIC_URL + STATUS),  # signed for another endpoint
        twilio.post(INBOUND, data=stop),  # no signature at all
        signed_post(twilio, STATUS, {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": TWILIO_SID},
                    token="f" * 32),
        signed_post(twilio, STATUS, {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": TWILIO_SID},
                    tamper={"MessageStatus": "failed"}),
        signed_post(twilio, STATUS, {"MessageSid": "SM1", "MessageStatus": "failed", "AccountSid": TWILIO_SID},
                    query="outbox=" + str(uuid.uuid4()), url=PUBLIC_URL + STATUS + "?outbox=" + str(uuid.uuid4())),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all(r.json()["error"]["code"] == "FORBIDDEN" for r in attempts)
    assert snapshot(engine) == before


def test_without_a_twilio_token_the_webhooks_refuse_everything(engine, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    reset_settings()
    try:
        client = TestClient(build_api())
        before = snapshot(engine)
        r = signed_post(client, INBOUND, inbound("+61412777003", "STOP"), url="http://localhost:3000" + INBOUND)
        assert r.status_code == 403 and "no Twilio auth token" in r.json()["error"]["message"]
        assert snapshot(engine) == before
    finally:
        reset_settings()


# ─────────────────────────────────────────────────────────────────────────────
# STOP / START / HELP
# ─────────────────────────────────────────────────────────────────────────────

def test_stop_suppresses_marketing_but_not_reminders_or_confirmations(twilio, engine):
    phone = "+61412777010"
    with session_scope(engine) as s:
        user, profile = make_user(s, "student", "Mia")
        s.execute(sa.text("UPDATE profiles SET phone = :p WHERE id = :i"), {"p": phone, "i": profile.id})
        preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient=phone, source="booking_form",
                                             consent_text="Offers by SMS please")
        promo = notify.queue(s, channel="sms", recipient=phone, template="promotion", is_marketing=True,
                             body="NexDrive Academy: 5 lessons for the price of 4 this month.")
        reminder = notify.queue(s, channel="sms", recipient=phone, template="booking_reminder_24h", user_id=user.id,
                                body="NexDrive Academy: your lesson is tomorrow at 9:00 am.")
        confirmation = notify.queue(s, channel="sms", recipient=phone, template="booking_confirmation",
                                    user_id=user.id, body="NexDrive Academy: your lesson is booked.")
    stop = inbound(phone, "Stop")
    r = signed_post(twilio, INBOUND, stop)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    with engine.connect() as conn:
        consent = conn.execute(sa.text("SELECT revoked_at, revoked_source FROM marketing_consents")).one()
        reply = conn.execute(sa.text("SELECT status, body FROM outbox_messages WHERE template = 'sms_reply'")).one()
    assert consent.revoked_at is not None and consent.revoked_source == "sms_stop"
    assert reply.status == "sent" and "Reply START" in reply.body  # sent at once, not at the next run
    sms, email = offline(engine)
    dispatch_due(engine, sms=sms, email=email)
    rows = outbox(engine, [promo.id, reminder.id, confirmation.id])
    assert rows[promo.id].status == "suppressed"
    assert rows[reminder.id].status == "sent" and rows[confirmation.id].status == "sent"
    assert promo.id not in deliveries(engine)
    # The same STOP delivered again by Twilio changes nothing.
    before = snapshot(engine)
    assert signed_post(twilio, INBOUND, stop).status_code == 200
    assert snapshot(engine) == before


def test_start_resubscribes_only_a_number_that_had_consented(twilio, engine):
    phone, stranger = "+61412777011", "+61412777012"
    with session_scope(engine) as s:
        _, profile = make_user(s, "student", "Mia")
        s.execute(sa.text("UPDATE profiles SET phone = :p WHERE id = :i"), {"p": phone, "i": profile.id})
        preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient=phone, source="booking_form",
                                             consent_text="Offers by SMS please")
    signed_post(twilio, INBOUND, inbound(phone, "STOP"))
    signed_post(twilio, INBOUND, inbound(phone, "START"))
    signed_post(twilio, INBOUND, inbound(stranger, "START"))
    with session_scope(engine) as s:
        assert preferences.has_marketing_consent(s, "sms", phone)
        assert not preferences.has_marketing_consent(s, "sms", stranger)
        sources = s.execute(sa.text("SELECT source FROM marketing_consents WHERE recipient = :p ORDER BY granted_at"),
                            {"p": phone}).scalars().all()
    assert sources == ["booking_form", "sms_start"]


def test_help_replies_with_the_schools_contact_details(twilio, engine):
    with engine.connect() as conn:
        school_phone = conn.execute(sa.text("SELECT phone FROM business_settings WHERE id = 1")).scalar()
    signed_post(twilio, INBOUND, inbound("+61412777013", "help"))
    with engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM outbox_messages WHERE template = 'sms_reply'")).scalar()
    assert "NexDrive Academy" in body and school_phone in body


# ─────────────────────────────────────────────────────────────────────────────
# "Y" confirms attendance
# ─────────────────────────────────────────────────────────────────────────────

def test_yes_confirms_the_senders_next_lesson_only(twilio, engine):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        ava = learner(s, instructor, "+61412777020", "Ava")
        ben = learner(s, instructor, "+61412777021", "Ben")
        past = book(s, instructor, service, ava, now - timedelta(hours=20))
        cancelled = book(s, instructor, service, ava, now + timedelta(hours=5), status="cancelled")
        ava_next = book(s, instructor, service, ava, now + timedelta(hours=30))
        ava_later = book(s, instructor, service, ava, now + timedelta(hours=40))
        ben_next = book(s, instructor, service, ben, now + timedelta(hours=10))
        instructor_user = instructor.user_id
    ava_yes = inbound("0412 777 020", "Y")
    assert signed_post(twilio, INBOUND, ava_yes).status_code == 200

    def confirmed() -> dict:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT id, attendance_confirmed_at FROM bookings")).all())

    after = confirmed()
    assert after[ava_next.id] is not None
    assert all(after[b.id] is None for b in (past, cancelled, ava_later, ben_next))
    with engine.connect() as conn:
        reply = conn.execute(sa.text("SELECT recipient, body FROM outbox_messages WHERE template = 'sms_reply'")).one()
    assert reply.recipient == "+61412777020" and "confirmed" in reply.body and "Ava" in reply.body
    # Replaying Twilio's request changes nothing; Ben's own "yes" confirms Ben's lesson.
    before = snapshot(engine)
    signed_post(twilio, INBOUND, ava_yes)
    assert snapshot(engine) == before and confirmed()[ava_next.id] == after[ava_next.id]
    signed_post(twilio, INBOUND, inbound("+61412777021", "yes"))
    assert confirmed()[ben_next.id] is not None and confirmed()[ava_later.id] is None
    # The instructor's schedule carries it as a plain field, shown as a "Confirmed by SMS" badge.
    with session_scope(engine) as s:
        rows = {str(b["id"]): booking_row(b) for b in access.list_bookings(s, actor_for_user(s, instructor_user))}
    assert rows[str(ava_next.id)].confirmed_by_sms and not rows[str(ava_later.id)].confirmed_by_sms


def test_yes_without_a_lesson_soon_goes_to_the_owner(twilio, engine):
    with session_scope(engine) as s:
        make_user(s, "admin", "Olive")
    signed_post(twilio, INBOUND, inbound("+61412777030", "YES"))
    with engine.connect() as conn:
        conv = conn.execute(sa.text("SELECT status, handoff_reason FROM conversations")).one()
    assert conv.status == "handoff_requested" and "no lesson" in conv.handoff_reason


# ─────────────────────────────────────────────────────────────────────────────
# Anything else: logged and flagged for the owner
# ─────────────────────────────────────────────────────────────────────────────

def test_other_messages_the_assistant_cannot_answer_are_flagged_for_the_owner(twilio, engine):
    """Texts other than the keywords go to the assistant (services/ai/sms.py); what it can't answer goes to
    the owner: the thread is flagged, each admin's bell rings, the number joins the callback queue."""
    with session_scope(engine) as s:
        admin, _ = make_user(s, "admin", "Olive")
    phone = "+61412777040"
    signed_post(twilio, INBOUND, inbound(phone, "Do you teach heavy rigid truck licences with a trailer?"))
    signed_post(twilio, INBOUND, inbound(phone, "Or a motorbike licence for my son?"))
    with engine.connect() as conn:
        conv = conn.execute(sa.text("SELECT id, channel, channel_identifier, status, handoff_reason, message_count "
                                    "FROM conversations")).one()
        texts = conn.execute(sa.text("SELECT direction, content, external_id FROM messages WHERE conversation_id = :c "
                                     "ORDER BY created_at"), {"c": conv.id}).all()
        acks = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE template = 'assistant_reply'")).scalar()
        bell = conn.execute(sa.text("SELECT recipient_id FROM notifications "
                                    "WHERE notification_type = 'assistant_handoff'")).scalars().all()
        callbacks = conn.execute(sa.text("SELECT count(*) FROM call_logs WHERE requires_callback "
                                         "AND caller_phone = :p"), {"p": phone}).scalar()
    assert (conv.channel, conv.channel_identifier, conv.status) == ("sms", phone, "handoff_requested")
    assert "needs a reply" in conv.handoff_reason
    assert [t.direction for t in texts] == ["inbound", "outbound", "inbound"]  # acknowledged once
    assert texts[0].content.startswith("Do you teach") and texts[0].external_id.startswith("SM")
    assert acks == 1 and bell == [admin.id] and callbacks == 1
    with engine.connect() as conn:  # a new number becomes a lead in the CRM, linked to the thread
        lead = conn.execute(sa.text("SELECT id, source, lifecycle_stage FROM contacts WHERE phone = :p"),
                            {"p": phone}).one()
        assert (lead.source, lead.lifecycle_stage) == ("sms", "lead")
        assert conn.execute(sa.text("SELECT contact_id FROM conversations")).scalar() == lead.id


# ─────────────────────────────────────────────────────────────────────────────
# Status callbacks
# ─────────────────────────────────────────────────────────────────────────────

class FixedSid:
    """A provider that accepts every message with a known SID (as Twilio would)."""

    def __init__(self):
        self.sids = {}

    def send(self, message):
        self.sids[message.outbox_id] = "SM" + uuid.uuid4().hex
        return SmsReceipt(self.sids[message.outbox_id], 1, "queued")


def status(client, sid, state, *, outbox_id=None, error=None):
    params = {"MessageSid": sid, "MessageStatus": state, "AccountSid": TWILIO_SID, "To": "+61412777050"}
    if error:
        params["ErrorCode"] = error
    return signed_post(client, STATUS, params, query=f"outbox={outbox_id}" if outbox_id else "")


def test_status_callbacks_record_delivery_in_order_and_once(twilio, engine):
    with session_scope(engine) as s:
        make_user(s, "admin", "Olive")
        ok = notify.queue(s, channel="sms", recipient="+61412777050", template="booking_confirmation", body="a")
        bad = notify.queue(s, channel="sms", recipient="+61412777051", template="booking_confirmation", body="b")
    provider = FixedSid()
    _, email = offline(engine)
    dispatch_due(engine, sms=provider, email=email)
    assert status(twilio, provider.sids[ok.id], "sent").status_code == 204
    assert status(twilio, provider.sids[ok.id], "delivered").status_code == 204
    delivered_at = outbox(engine, [ok.id])[ok.id].delivered_at
    assert delivered_at is not None
    status(twilio, provider.sids[ok.id], "sending")  # late and out of order: ignored
    before = snapshot(engine)
    status(twilio, provider.sids[ok.id], "delivered")  # a replay
    assert snapshot(engine) == before
    row = outbox(engine, [ok.id])[ok.id]
    assert row.provider_status == "delivered" and row.status == "sent" and row.delivered_at == delivered_at
    status(twilio, provider.sids[bad.id], "undelivered", error="30003")
    row = outbox(engine, [bad.id])[bad.id]
    assert row.status == "failed" and "30003" in row.last_error
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE template = 'delivery_failed' "
                                    "AND related_id = :i"), {"i": bad.id}).scalar() >= 1


def test_a_status_callback_records_a_send_the_dispatcher_did_not_live_to_record(twilio, engine):
    with session_scope(engine) as s:
        msg = notify.queue(s, channel="sms", recipient="+61412777060", template="booking_confirmation",
                           body="NexDrive Academy: manage at https://school.example.com.au/m?token=" + "C" * 43)
    with engine.begin() as conn:  # claimed, handed to Twilio, then the process died before recording the SID
        conn.execute(sa.text("UPDATE outbox_messages SET status = 'sending', attempts = 1, claimed_at = now(), "
                             "claimed_by = 'dead:1' WHERE id = :i"), {"i": msg.id})
    assert status(twilio, "SM" + "d" * 32, "sent", outbox_id=msg.id).status_code == 204
    row = outbox(engine, [msg.id])[msg.id]
    assert row.status == "sent" and row.provider_message_id == "SM" + "d" * 32 and "C" * 43 not in row.body
    provider = FixedSid()
    _, email = offline(engine)
    stats = dispatch_due(engine, sms=provider, email=email, now=later(0) + STALE_AFTER + timedelta(minutes=1))
    assert stats.requeued_stale == 0 and msg.id not in provider.sids  # not sent a second time
