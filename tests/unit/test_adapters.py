"""The real SMS and email adapters, through the providers' own libraries: Twilio's client against recorded
API responses, smtplib against a local SMTP server (aiosmtpd)."""
from __future__ import annotations

import email
import email.policy
import socket
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from twilio.http import HttpClient
from twilio.http.response import Response

from nexdrive.adapters.delivery import SendFailed
from nexdrive.adapters.email import Attachment, OutgoingEmail, SmtpEmail, parse_smtp_url
from nexdrive.adapters.sms import OutgoingSms, TwilioSms
from nexdrive.services.messaging.message_templates import email_html
from nexdrive.settings import Settings

RECORDED = Path(__file__).resolve().parents[2] / "webhooks" / "twilio" / "fixtures"
SID, TOKEN = "AC" + "1" * 32, "0123456789abcdef0123456789abcdef"


class Recorded(HttpClient):
    """Twilio's HTTP client replaced: answers with a recorded response and keeps the request."""

    def __init__(self, status: int, fixture: str):
        super().__init__(logger=None, is_async=False)
        self.status, self.text = status, (RECORDED / fixture).read_text()
        self.requests = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        return Response(self.status, self.text)


def twilio(status: int, fixture: str, public_url: str = "https://school.example.com.au"):
    http = Recorded(status, fixture)
    settings = Settings(twilio_account_sid=SID, twilio_auth_token=TOKEN, twilio_from_number="+61480000000",
                        public_url=public_url)
    return TwilioSms(settings, http_client=http), http


def test_twilio_send_posts_the_message_and_reads_the_sid_and_segments():
    adapter, http = twilio(201, "message_created.json")
    outbox_id = uuid.uuid4()
    receipt = adapter.send(OutgoingSms(outbox_id, "0412 345 678", "NexDrive Academy: 9:30 am \u2013 10:30 am"))
    assert receipt.provider_message_id == "SM0123456789abcdef0123456789abcdef"
    assert receipt.segments == 2 and receipt.status == "queued"
    [req] = http.requests
    assert req["method"] == "POST" and req["uri"].endswith(f"/Accounts/{SID}/Messages.json")
    assert req["auth"] == (SID, TOKEN)
    assert req["data"]["To"] == "+61412345678" and req["data"]["From"] == "+61480000000"
    assert req["data"]["Body"] == "NexDrive Academy: 9:30 am - 10:30 am"  # GSM-7, not UCS-2
    assert req["data"]["StatusCallback"] == f"https://school.example.com.au/api/v1/sms/status?outbox={outbox_id}"


def test_twilio_gets_no_status_callback_when_the_site_is_not_public():
    adapter, http = twilio(201, "message_created.json", public_url="http://localhost:3000")
    adapter.send(OutgoingSms(uuid.uuid4(), "+61412345678", "NexDrive Academy: hello"))
    assert "StatusCallback" not in http.requests[0]["data"]


@pytest.mark.parametrize("status,fixture,permanent,blocked", [
    (400, "error_21610_unsubscribed.json", True, True),
    (400, "error_21211_invalid_to.json", True, False),
    (429, "error_20429_too_many_requests.json", False, False),
    (500, "error_20500_internal.json", False, False),
])
def test_twilio_errors_say_whether_to_retry(status, fixture, permanent, blocked):
    adapter, _ = twilio(status, fixture)
    with pytest.raises(SendFailed) as err:
        adapter.send(OutgoingSms(uuid.uuid4(), "+61412345678", "NexDrive Academy: hello"))
    assert err.value.permanent is permanent and err.value.recipient_blocked is blocked
    assert str(err.value.code) in err.value.message


def test_twilio_refuses_a_number_that_is_not_an_australian_mobile_without_calling():
    adapter, http = twilio(201, "message_created.json")
    with pytest.raises(SendFailed) as err:
        adapter.send(OutgoingSms(uuid.uuid4(), "02 6100 0000", "NexDrive Academy: hello"))
    assert err.value.permanent and http.requests == []


# ─────────────────────────────────────────────────────────────────────────────
# SMTP
# ─────────────────────────────────────────────────────────────────────────────

class Inbox:
    def __init__(self, refuse: bool = False):
        self.messages, self.refuse = [], refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(request):
    host = getattr(request, "param", "127.0.0.1")
    inbox = Inbox()
    controller = Controller(inbox, hostname=host, port=_free_port(host))
    controller.start()
    yield inbox, f"smtp://{host}:{controller.port}"
    controller.stop()


def _email(outbox_id, **extra) -> OutgoingEmail:
    text = "Hi Ava,\n\nYour lesson with NexDrive Academy is booked.\n\nWhen: Tue 3 March, 9:30 am\n<b>not bold</b>\n"
    return OutgoingEmail(outbox_id=outbox_id, to="ava@example.com", subject="Lesson booked: Tue 3 March",
                         text=text, html=email_html("Lesson booked", text, footer="NexDrive Academy, Canberra"),
                         **extra)


def test_smtp_sends_plain_and_html_parts_and_the_calendar_file(smtp_server):
    inbox, url = smtp_server
    settings = Settings(smtp_url=url, email_from="NexDrive Academy <hello@nexdrive.example>")
    outbox_id = uuid.uuid4()
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    receipt = SmtpEmail(settings).send(_email(outbox_id, attachments=(
        Attachment("lesson-NXD-1.ics", "text/calendar; method=PUBLISH", ics),)))
    assert receipt.provider_message_id == f"<{outbox_id}@nexdrive.example>"
    [(sender, rcpt, raw)] = inbox.messages
    assert sender == "hello@nexdrive.example" and rcpt == ["ava@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Message-ID"] == receipt.provider_message_id and "NexDrive Academy" in msg["From"]
    assert msg.get_content_type() == "multipart/mixed"
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Your lesson with NexDrive Academy is booked." in plain and "<b>not bold</b>" in plain
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html  # escaped
    [att] = list(msg.iter_attachments())
    assert att.get_content_type() == "text/calendar" and att.get_filename() == "lesson-NXD-1.ics"
    assert att.get_param("method") == "PUBLISH" and att.get_content().encode() == ics


def test_smtp_a_refused_recipient_is_permanent(smtp_server):
    inbox, url = smtp_server
    inbox.refuse = True
    with pytest.raises(SendFailed) as err:
        SmtpEmail(Settings(smtp_url=url)).send(_email(uuid.uuid4()))
    assert err.value.permanent and err.value.code == 550


def test_smtp_an_unreachable_server_is_worth_retrying():
    url = f"smtp://127.0.0.1:{_free_port('127.0.0.1')}"  # nothing listens there
    with pytest.raises(SendFailed) as err:
        SmtpEmail(Settings(smtp_url=url), timeout=2).send(_email(uuid.uuid4()))
    assert not err.value.permanent


@pytest.mark.parametrize("smtp_server", ["127.0.0.2"], indirect=True)
def test_smtp_never_sends_a_password_unencrypted_to_another_host(smtp_server):
    inbox, url = smtp_server
    with pytest.raises(SendFailed) as err:
        SmtpEmail(Settings(smtp_url=url.replace("smtp://", "smtp://mail%40school:s3cret@"))).send(_email(uuid.uuid4()))
    assert "clear text" in err.value.message and inbox.messages == []


def test_smtp_urls():
    t = parse_smtp_url("smtps://mail%40school.au:p%40ss@smtp.example.com")
    assert (t.host, t.port, t.implicit_tls, t.username, t.password) == ("smtp.example.com", 465, True,
                                                                        "mail@school.au", "p@ss")
    t = parse_smtp_url("smtp://smtp.example.com?starttls=off")
    assert (t.port, t.implicit_tls, t.starttls) == (587, False, "off")
    with pytest.raises(ValueError):
        parse_smtp_url("http://smtp.example.com")
