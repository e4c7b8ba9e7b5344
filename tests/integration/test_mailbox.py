"""The offline mailbox: with no SMTP / Twilio credentials, what the app "sends" stays whole and
the administrator reads it (links and all) at /admin/mailbox, like a development mail catcher."""
from __future__ import annotations

import pytest

from nexdrive.db import session_scope
from nexdrive.services.identity import accounts
from nexdrive.services.messaging import notify
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.messaging.dispatch import dispatch_due
from nexdrive.errors import Forbidden, NotFound
from nexdrive.settings import get_settings, reset_settings
from tests.factories import make_user
from tests.notify_helpers import offline, outbox

IP = "203.0.113.10"


@pytest.fixture
def people(engine):
    with session_scope(engine) as s:
        admin, _ = make_user(s, "admin")
        learner, _ = make_user(s, "student")
        instructor, _ = make_user(s, "instructor")
        return {"admin": accounts.actor_for_user(s, admin.id), "student": accounts.actor_for_user(s, learner.id),
                "instructor": accounts.actor_for_user(s, instructor.id), "learner_email": learner.email}


LIVE = {"SMTP_URL": "smtp://user:pass@mail.example.com:587", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef", "TWILIO_FROM_NUMBER": "+61400000000"}


@pytest.fixture
def live(monkeypatch):
    def switch(*names):
        for name in names:
            monkeypatch.setenv(name, LIVE[name])
        reset_settings()
    yield switch
    for name in LIVE:
        monkeypatch.delenv(name, raising=False)
    reset_settings()


def _magic_link(engine, email):
    with session_scope(engine) as s:
        token = accounts.request_magic_link(s, email=email, ip=IP)
    return token


def test_an_offline_send_keeps_the_whole_body(engine, people):
    token = _magic_link(engine, people["learner_email"])
    sms, email = offline(engine)
    assert dispatch_due(engine, sms=sms, email=email).sent == 1
    [row] = outbox(engine).values()
    assert row.status == "sent" and token in row.body and row.redacted_at is None


def test_the_admin_reads_the_magic_link_in_the_mailbox_and_it_signs_in(engine, people):
    token = _magic_link(engine, people["learner_email"])
    with session_scope(engine) as s:
        notify.queue(s, channel="sms", recipient="+61412000003", template="waitlist_available",
                     body="NexDrive Academy: a time opened up.")
    sms, email = offline(engine)
    dispatch_due(engine, sms=sms, email=email)
    with session_scope(engine) as s:
        page = outbox_admin.list_mailbox(s, people["admin"])
    assert [(m["channel_label"], m["to"]) for m in page["items"]] == [
        ("SMS", "0412 000 003"), ("Email", people["learner_email"])]
    mail = page["items"][1]
    assert mail["subject"] == "Your NexDrive Academy sign-in link" and mail["when"]
    with session_scope(engine) as s:
        full = outbox_admin.get_mailbox_message(s, people["admin"], mail["id"])
    links = [p["href"] for p in full["parts"] if p["href"]]
    assert links == [f"{get_settings().public_url}/sign-in/link?token={token}"]
    assert "".join(p["text"] for p in full["parts"]) == full["body"]
    with session_scope(engine) as s:  # the link in the mailbox works
        assert accounts.consume_magic_link(s, links[0].split("token=")[1]).user_id


def test_a_queued_message_is_readable_before_the_dispatcher_runs(engine, people):
    token = _magic_link(engine, people["learner_email"])
    with session_scope(engine) as s:
        [item] = outbox_admin.list_mailbox(s, people["admin"])["items"]
        assert item["status_label"] == "Queued"
        assert token in outbox_admin.get_mailbox_message(s, people["admin"], item["id"])["body"]


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_only_the_admin_may_open_the_mailbox(engine, people, role):
    _magic_link(engine, people["learner_email"])
    with session_scope(engine) as s:
        [item] = outbox_admin.list_mailbox(s, people["admin"])["items"]
    with pytest.raises(Forbidden), session_scope(engine) as s:
        outbox_admin.list_mailbox(s, people[role])
    with pytest.raises(Forbidden), session_scope(engine) as s:
        outbox_admin.get_mailbox_message(s, people[role], item["id"])


def test_a_live_channel_leaves_the_mailbox_and_with_both_live_there_is_none(engine, people, live):
    _magic_link(engine, people["learner_email"])
    with session_scope(engine) as s:
        [item] = outbox_admin.list_mailbox(s, people["admin"])["items"]
    live("SMTP_URL")  # email goes out for real now; SMS still offline
    with session_scope(engine) as s:
        assert outbox_admin.list_mailbox(s, people["admin"]) == {"items": [], "channels": ["sms"]}
    with pytest.raises(NotFound), session_scope(engine) as s:
        outbox_admin.get_mailbox_message(s, people["admin"], item["id"])
    live("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    assert outbox_admin.mailbox_available() is False
    with pytest.raises(NotFound), session_scope(engine) as s:
        outbox_admin.list_mailbox(s, people["admin"])
    with pytest.raises(NotFound), session_scope(engine) as s:
        outbox_admin.get_mailbox_message(s, people["admin"], item["id"])


def test_real_sends_are_still_blanked(engine, people):
    token = _magic_link(engine, people["learner_email"])

    class LiveEmail:
        provider = "smtp"

        def send(self, message):
            from nexdrive.adapters.email import EmailReceipt
            return EmailReceipt(f"<{message.outbox_id}@example.com>", "sent")

    sms, _ = offline(engine)
    dispatch_due(engine, sms=sms, email=LiveEmail())
    [row] = outbox(engine).values()
    assert token not in row.body and row.redacted_at is not None
