"""The outbox dispatcher on a real PostgreSQL, through the offline adapters."""
from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from nexdrive.adapters.delivery import SendFailed
from nexdrive.adapters.email import EmailReceipt
from nexdrive.db import session_scope
from nexdrive.models import Booking, MarketingConsent
from nexdrive.services.messaging import dispatch
from nexdrive.services.messaging import notify
from nexdrive.services.messaging import preferences
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.messaging.dispatch import dispatch_due
from nexdrive.services.messaging.message_templates import LINK_REMOVED
from tests.booking_helpers import at, open_instructor, weekday_ahead
from tests.factories import make_student, make_user
from tests.notify_helpers import deliveries, later, offline, outbox, queue_many


def test_due_messages_are_sent_once_with_the_provider_id(engine):
    ids = queue_many(engine, 3) + queue_many(engine, 2, channel="email")
    sms, email = offline(engine)
    stats = dispatch_due(engine, sms=sms, email=email)
    assert (stats.claimed, stats.sent, stats.failed) == (5, 5, 0)
    rows, sent = outbox(engine, ids), deliveries(engine)
    assert {r.status for r in rows.values()} == {"sent"}
    assert all(rows[i].provider_message_id == sent[i].provider_message_id for i in ids)
    assert all(rows[i].provider_message_id.startswith("offline-") for i in ids)
    assert all(rows[i].segments == 1 for i in ids if rows[i].channel == "sms")
    # A second run finds nothing to do.
    again = dispatch_due(engine, sms=sms, email=email)
    assert again.claimed == 0 and len(deliveries(engine)) == 5


def test_a_message_not_yet_due_waits(engine):
    with session_scope(engine) as s:
        msg = notify.queue(s, channel="sms", recipient="+61412000001", body="NexDrive Academy: later",
                           template="waitlist_available", send_after=later(60))
    sms, email = offline(engine)
    assert dispatch_due(engine, sms=sms, email=email).claimed == 0
    assert dispatch_due(engine, sms=sms, email=email, now=later(61)).sent == 1
    assert outbox(engine, [msg.id])[msg.id].status == "sent"


def test_secret_links_are_removed_from_the_stored_body_after_sending(engine):
    token = "A" * 43
    link = f"https://school.example.com.au/booking/manage?token={token}"
    with session_scope(engine) as s:
        secret = notify.queue(s, channel="email", recipient="ava@example.com", subject="Lesson booked",
                              template="booking_confirmation",
                              body=f"Hi Ava,\n\nTo reschedule or cancel: {link}\nReference: NXD-1\n")
        plain = notify.queue(s, channel="sms", recipient="+61412000002", template="waitlist_available",
                             body="NexDrive Academy: book at https://school.example.com.au/book?id=123")
    sms, _ = offline(engine)
    sent_bodies = []

    class LiveEmail:  # a real provider (SMTP): the recipient has the link, our copy must not
        provider = "smtp"

        def send(self, message):
            sent_bodies.append(message.text)
            return EmailReceipt(f"<{message.outbox_id}@school.example.com.au>", "sent")

    dispatch_due(engine, sms=sms, email=LiveEmail())
    rows = outbox(engine, [secret.id, plain.id])
    assert token not in rows[secret.id].body and LINK_REMOVED in rows[secret.id].body
    assert "Reference: NXD-1" in rows[secret.id].body and rows[secret.id].redacted_at is not None
    assert rows[plain.id].body.endswith("/book?id=123") and rows[plain.id].redacted_at is None
    # The recipient got the link.
    assert any(token in body for body in sent_bodies)


def test_booking_confirmation_email_carries_the_calendar_file(engine):
    day = weekday_ahead(1)
    with session_scope(engine) as s:
        instructor, service = open_instructor(s)
        student = make_student(s, instructor)
        booking = Booking(instructor_id=instructor.id, student_id=student.id, service_id=service.id,
                          scheduled_date=day, start_time=at(day, "10:00"), end_time=at(day, "11:00"),
                          duration_minutes=60, status="confirmed")
        s.add(booking)
        s.flush()
        msg = notify.queue(s, channel="email", recipient="sam@example.com", subject="Lesson booked",
                           body="Hi Sam,\n\nYour lesson is booked.\n", template="booking_confirmation",
                           booking_id=booking.id, template_data={"booking_id": str(booking.id)})
    sms, email = offline(engine)
    dispatch_due(engine, sms=sms, email=email)
    attachments = deliveries(engine)[msg.id].attachments
    assert len(attachments) == 1 and attachments[0]["filename"].endswith(".ics")
    assert attachments[0]["content_type"].startswith("text/calendar") and attachments[0]["size"] > 100


class Flaky:
    """A provider that fails (temporarily or for good) and counts what it was asked."""

    def __init__(self, *, permanent: bool = False, blocked: bool = False):
        self.calls = Counter()
        self.permanent, self.blocked = permanent, blocked

    def send(self, message):
        self.calls[message.outbox_id] += 1
        raise SendFailed("provider said 503", permanent=self.permanent, recipient_blocked=self.blocked, code=503)


def test_a_provider_error_backs_off_then_fails_loudly_after_n_attempts(engine, caplog):
    with session_scope(engine) as s:
        make_user(s, "admin", "Olive")
        school = s.execute(sa.text("SELECT email FROM business_settings WHERE id = 1")).scalar()
    [msg_id] = queue_many(engine, 1)
    flaky = Flaky()
    _, email = offline(engine)
    clock = later(0)
    seen_waits = []
    for attempt in (1, 2):
        before = clock
        stats = dispatch_due(engine, sms=flaky, email=email, now=clock, max_attempts=3)
        assert stats.retried == 1 and stats.failed == 0
        row = outbox(engine, [msg_id])[msg_id]
        assert row.status == "pending" and row.attempts == attempt and f"Attempt {attempt} failed" in row.last_error
        wait = row.next_attempt_at - before
        full = min(3600, 60 * 2 ** (attempt - 1))
        assert timedelta(seconds=full / 2) <= wait <= timedelta(seconds=full)  # exponential, with jitter
        seen_waits.append(wait)
        # Not due again until the wait is over.
        assert dispatch_due(engine, sms=flaky, email=email, now=before + wait / 3, max_attempts=3).claimed == 0
        clock = row.next_attempt_at + timedelta(seconds=1)
    assert seen_waits[1] > seen_waits[0] / 2
    with caplog.at_level(logging.ERROR, logger="nexdrive.dispatch"):
        stats = dispatch_due(engine, sms=flaky, email=email, now=clock, max_attempts=3)
    assert stats.failed == 1 and flaky.calls[msg_id] == 3
    row = outbox(engine, [msg_id])[msg_id]
    assert row.status == "failed" and row.attempts == 3 and "Gave up after 3 attempt(s)" in row.last_error
    assert any("FAILED" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    with engine.connect() as conn:
        alerts = conn.execute(
            sa.text(
                "SELECT channel, recipient FROM outbox_messages WHERE template = 'delivery_failed' "
                "AND related_id = :i ORDER BY channel"
            ),
            {"i": msg_id},
        ).all()
    assert [a.channel for a in alerts] == ["email", "in_app"] and alerts[0].recipient == school
    # No more attempts, however late it gets (the run only sends the alerts).
    dispatch_due(engine, sms=flaky, email=email, now=later(600), max_attempts=3)
    assert flaky.calls[msg_id] == 3 and outbox(engine, [msg_id])[msg_id].status == "failed"


def test_a_permanent_error_fails_at_once_and_a_provider_block_suppresses(engine):
    [bad] = queue_many(engine, 1)
    _, email = offline(engine)
    assert dispatch_due(engine, sms=Flaky(permanent=True), email=email).failed == 1
    [blocked] = queue_many(engine, 1)
    assert dispatch_due(engine, sms=Flaky(blocked=True), email=email).suppressed == 1
    rows = outbox(engine, [bad, blocked])
    assert rows[bad].status == "failed" and rows[bad].attempts == 1
    assert rows[blocked].status == "suppressed" and "replied STOP" in rows[blocked].last_error


def test_the_alert_email_reaches_the_school_and_the_admins_bell(engine):
    with session_scope(engine) as s:
        admin, _ = make_user(s, "admin", "Olive")
    [msg_id] = queue_many(engine, 1)
    sms, email = offline(engine)
    dispatch_due(engine, sms=Flaky(permanent=True), email=email)
    stats = dispatch_due(engine, sms=sms, email=email)  # now the alerts themselves go out
    assert stats.sent == 2
    with engine.connect() as conn:
        bell = conn.execute(sa.text("SELECT recipient_id, channel, subject FROM notifications")).all()
    assert [(b.recipient_id, b.channel) for b in bell] == [(admin.id, "in_app")]
    assert "Message not delivered" in bell[0].subject


def test_two_dispatchers_at_once_send_each_message_once(engine):
    ids = queue_many(engine, 120) + queue_many(engine, 40, channel="email")
    sms, email = offline(engine)
    calls = Counter()
    lock = threading.Lock()

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def send(self, message):
            with lock:
                calls[message.outbox_id] += 1
            return self.inner.send(message)

    results = []

    def worker(name):
        results.append(dispatch_due(engine, batch_size=7, worker_id=name, sms=Counting(sms), email=Counting(email)))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == sorted(ids) and set(calls.values()) == {1}
    assert sum(r.sent for r in results) == len(ids)
    assert sum(1 for r in results if r.sent) >= 2  # they really shared the work
    sent = deliveries(engine)
    assert len(sent) == len(ids) and {d.send_requests for d in sent.values()} == {1}
    assert {r.status for r in outbox(engine, ids).values()} == {"sent"}


def test_a_stale_claim_is_requeued_and_a_poison_message_gives_up(engine):
    [msg_id] = queue_many(engine, 1)
    with engine.begin() as conn:  # a dispatcher claimed it and died
        conn.execute(sa.text("UPDATE outbox_messages SET status = 'sending', attempts = 1, claimed_at = now(), "
                             "claimed_by = 'dead:1' WHERE id = :i"), {"i": msg_id})
    sms, email = offline(engine)
    assert dispatch_due(engine, sms=sms, email=email, now=later(1)).claimed == 0  # still fresh: leave it
    stats = dispatch_due(engine, sms=sms, email=email, now=later(6))
    assert stats.requeued_stale == 1 and stats.sent == 1
    row = outbox(engine, [msg_id])[msg_id]
    assert row.status == "sent" and row.attempts == 2
    [poison] = queue_many(engine, 1)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE outbox_messages SET status = 'sending', attempts = 6, claimed_at = now(), "
                             "claimed_by = 'dead:2' WHERE id = :i"), {"i": poison})
    stats = dispatch_due(engine, sms=sms, email=email, now=later(6))
    assert stats.requeued_stale == 1
    assert outbox(engine, [poison])[poison].status == "failed" and poison not in deliveries(engine)


def test_marketing_needs_a_live_consent_and_carries_an_opt_out(engine):
    with session_scope(engine) as s:
        _, profile = make_user(s, "student", "Mia")
        s.execute(sa.text("UPDATE profiles SET phone = '+61412555001' WHERE id = :p"), {"p": profile.id})
        preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient="0412 555 001",
                                             source="booking_form", consent_text="Send me offers by SMS")
        with_consent = notify.queue(s, channel="sms", recipient="+61412555001", template="promotion",
                                    body="NexDrive Academy: 10% off 5-lesson packs this month.", is_marketing=True)
        without = notify.queue(s, channel="sms", recipient="+61412555002", template="promotion",
                               body="NexDrive Academy: 10% off 5-lesson packs this month.", is_marketing=True)
    sms, email = offline(engine)
    stats = dispatch_due(engine, sms=sms, email=email)
    assert (stats.sent, stats.suppressed) == (1, 1)
    rows, sent = outbox(engine), deliveries(engine)
    assert rows[without.id].status == "suppressed" and "marketing consent" in rows[without.id].last_error
    assert sent[with_consent.id].body.endswith("Reply STOP to opt out")


def test_marketing_email_has_an_unsubscribe_link_that_works(engine):
    with session_scope(engine) as s:
        _, profile = make_user(s, "student", "Mia")
        consent = preferences.record_marketing_consent(s, SYSTEM, channel="email", recipient=profile.email,
                                                       source="booking_form", consent_text="Email me offers")
        token = consent.unsubscribe_token
        msg = notify.queue(s, channel="email", recipient=profile.email, subject="Winter special", template="promotion",
                           body="NexDrive Academy: winter special.", is_marketing=True)
    built = dispatch.build_email(engine, {"id": msg.id, "recipient": msg.recipient, "subject": msg.subject,
                                          "body": msg.body, "template": msg.template, "template_data": {},
                                          "is_marketing": True})
    assert f"unsubscribe?token={token}" in built.text and f"unsubscribe?token={token}" in built.html
    assert built.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with session_scope(engine) as s:
        assert preferences.unsubscribe_by_token(s, token)["revoked"] == 1
    sms, email = offline(engine)
    assert dispatch_due(engine, sms=sms, email=email).suppressed == 1


def test_turned_off_notifications_are_suppressed_but_must_haves_are_not(engine):
    with session_scope(engine) as s:
        user, _ = make_user(s, "student", "Noah")
        from nexdrive.services.identity.accounts import actor_for_user
        me = actor_for_user(s, user.id)
        preferences.set_preference(s, me, notification_type="booking_reminder_24h", channel="sms", enabled=False)
        reminder = notify.queue(s, channel="sms", recipient="+61412555003", template="booking_reminder_24h",
                                body="NexDrive Academy: lesson tomorrow.", user_id=user.id)
        confirmation = notify.queue(s, channel="sms", recipient="+61412555003", template="booking_confirmation",
                                    body="NexDrive Academy: lesson booked.", user_id=user.id)
    sms, email = offline(engine)
    stats = dispatch_due(engine, sms=sms, email=email)
    assert (stats.sent, stats.suppressed) == (1, 1)
    rows = outbox(engine)
    assert rows[reminder.id].status == "suppressed" and rows[confirmation.id].status == "sent"


def test_a_message_past_its_send_before_is_not_sent(engine):
    with session_scope(engine) as s:
        msg = notify.queue(s, channel="sms", recipient="+61412555004", template="booking_reminder_2h",
                           body="NexDrive Academy: lesson in 2 hours.",
                           template_data={"send_before": later(-1).isoformat()})
    sms, email = offline(engine)
    assert dispatch_due(engine, sms=sms, email=email).failed == 1
    assert "too late" in outbox(engine, [msg.id])[msg.id].last_error and not deliveries(engine)


def test_queue_is_idempotent_on_its_key(engine):
    with session_scope(engine) as s:
        a = notify.queue(s, channel="sms", recipient="+61412555005", body="x", template="t", idempotency_key="k1")
        b = notify.queue(s, channel="sms", recipient="+61412555005", body="x", template="t", idempotency_key="k1")
        assert a.id == b.id
    with session_scope(engine) as s:
        c = notify.queue(s, channel="sms", recipient="+61412555005", body="x", template="t", idempotency_key="k1")
        assert c.id == a.id
        assert s.execute(sa.text("SELECT count(*) FROM outbox_messages")).scalar() == 1


def test_queue_message_renders_each_channel_without_storing_secrets(engine):
    secret = "https://school.example.com.au/parent/accept?token=" + "B" * 43
    with session_scope(engine) as s:
        queued = notify.queue_message(
            s, "parent_invitation", to={"phone": "+61412555006", "email": "dad@example.com"},
            data={"learner_name": "Ava Nguyen", "relationship": "father", "accept_url": secret},
            idempotency_key=f"invite:{uuid.uuid4()}")
        assert sorted(m.channel for m in queued) == ["email", "sms"]
        assert all("NexDrive Academy" in m.body and secret in m.body for m in queued)
        assert all("accept_url" not in m.template_data and m.template_data["learner_name"] == "Ava Nguyen"
                   for m in queued)


def test_consent_recorded_twice_is_one_consent_and_stop_revokes_it(engine):
    with session_scope(engine) as s:
        _, profile = make_user(s, "student", "Ivy")
        s.execute(sa.text("UPDATE profiles SET phone = '+61412555007' WHERE id = :p"), {"p": profile.id})
        a = preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient="+61412555007",
                                                 source="admin", consent_text="Said yes on the phone")
        b = preferences.record_marketing_consent(s, SYSTEM, channel="sms", recipient="0412555007",
                                                 source="admin", consent_text="Said yes on the phone")
        assert a.id == b.id
        assert preferences.revoke_marketing_consent(s, SYSTEM, channel="sms", recipient="+61412555007",
                                                    source="sms_stop") == 1
        assert not preferences.has_marketing_consent(s, "sms", "+61412555007")
        assert s.get(MarketingConsent, a.id).revoked_source == "sms_stop"
