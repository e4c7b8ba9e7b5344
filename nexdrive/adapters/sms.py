"""The SMS port: Twilio when configured, the outbox otherwise (docs/decisions/0005-outbox-and-offline-adapters.md).

Bodies are normalised to the GSM-7 alphabet where a look-alike exists (an en
dash in "9:30 am – 10:30 am" would otherwise make the whole message UCS-2 and
cost 70-character segments); the segment count stored is that of the text
actually sent.

Twilio's Messages API has no idempotency key. Each message carries its outbox
id in the status-callback URL, so Twilio's first callback (seconds after it
accepts the message) records the provider id even if this process died before
it could; only a crash after Twilio accepted the message *and* before any
callback arrived, followed by the stale-claim timeout, sends it twice.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlparse

from nexdrive.adapters.delivery import SendFailed, offline_body, record_offline_delivery
from nexdrive.settings import Settings

STATUS_PATH = "/api/v1/sms/status"
INBOUND_PATH = "/api/v1/sms/inbound"

# GSM 03.38: the basic alphabet (one septet each) and the extension table (escape + one: two septets).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")
_LOOKALIKES = str.maketrans({
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2026": "...", "\u00a0": " ", "\u2022": "-",
    "\u00b7": "-", "\u2009": " ", "\u202f": " ",
})


def gsm_normalise(text: str) -> str:
    """Replace typographic characters that have a plain GSM-7 equivalent (dashes, curly quotes, ellipsis)."""
    return (text or "").translate(_LOOKALIKES)


@dataclass(frozen=True)
class Segments:
    encoding: str  # 'GSM-7' | 'UCS-2'
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def sms_segments(text: str) -> Segments:
    """How many SMS parts ``text`` is billed as: GSM-7 160 (153 per part when split), UCS-2 70 (67)."""
    text = text or ""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    count = 1 if units <= single else math.ceil(units / part)
    return Segments(encoding, units, count)


@dataclass(frozen=True)
class OutgoingSms:
    outbox_id: uuid.UUID
    to: str  # E.164
    body: str


@dataclass(frozen=True)
class SmsReceipt:
    provider_message_id: str
    segments: int
    status: str | None = None  # the provider's first status, e.g. 'queued'


class SmsSender(Protocol):
    provider: str

    def send(self, message: OutgoingSms) -> SmsReceipt:
        """Hand one SMS to the provider; raise SendFailed if it was not accepted."""
        ...


def status_callback_url(settings: Settings, outbox_id: uuid.UUID) -> str | None:
    """Where Twilio reports delivery for this message; None when the public URL is not reachable from outside."""
    host = (urlparse(settings.public_url).hostname or "").lower()
    if host in ("", "localhost", "127.0.0.1", "::1") or host.endswith(".local"):
        return None
    return f"{settings.public_url}{STATUS_PATH}?outbox={outbox_id}"


# Twilio error codes (https://www.twilio.com/docs/api/errors).
TWILIO_BLOCKED = {21610}  # the recipient replied STOP to this number
# Worth retrying although 4xx: rate limited, and account problems the owner can fix (credentials, suspension).
TWILIO_RETRYABLE = {20429, 20003, 20005}


class TwilioSms:
    """Twilio Programmable Messaging through the official library."""

    provider = "twilio"

    def __init__(self, settings: Settings, *, http_client=None, timeout: float = 30.0):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.settings = settings
        self.from_number = settings.twilio_from_number
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                             http_client=http_client or TwilioHttpClient(timeout=timeout))

    def send(self, message: OutgoingSms) -> SmsReceipt:
        from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

        from nexdrive.errors import ValidationFailed
        from nexdrive.formats import normalise_au_mobile

        try:
            to = normalise_au_mobile(message.to)
        except ValidationFailed:
            raise SendFailed(f"{message.to!r} is not an Australian mobile number", permanent=True) from None
        body = gsm_normalise(message.body)
        kwargs = {"to": to, "from_": self.from_number, "body": body}
        callback = status_callback_url(self.settings, message.outbox_id)
        if callback:
            kwargs["status_callback"] = callback
        try:
            created = self.client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            status, code = int(getattr(exc, "status", 0) or 0), getattr(exc, "code", None)
            text = f"Twilio {status} error {code}: {getattr(exc, 'msg', None) or getattr(exc, 'title', '')}"
            if code in TWILIO_BLOCKED:
                raise SendFailed(text, recipient_blocked=True, code=code) from None
            # Any other 4xx (invalid number, unreachable region, ...) fails the same way every time.
            temporary = status == 429 or status >= 500 or code in TWILIO_RETRYABLE
            raise SendFailed(text, permanent=not temporary, code=code) from None
        except (TwilioException, OSError) as exc:  # network trouble: retry later
            raise SendFailed(f"Twilio unreachable: {exc}") from None
        try:
            segments = int(created.num_segments or 0)
        except (TypeError, ValueError):
            segments = 0
        return SmsReceipt(created.sid, segments or sms_segments(body).count, created.status)


class OutboxSms:
    """Offline default: the message is 'delivered' into offline_deliveries, where the admin can read it."""

    provider = "outbox"

    def __init__(self, settings: Settings, *, engine=None):
        self.settings = settings
        self.engine = engine

    def send(self, message: OutgoingSms) -> SmsReceipt:
        body = gsm_normalise(message.body)
        segments = sms_segments(body).count
        provider_id = record_offline_delivery(self.engine, outbox_id=message.outbox_id, channel="sms",
                                              recipient=message.to, body=offline_body(self.settings, body),
                                              segments=segments)
        return SmsReceipt(provider_id, segments, "delivered")
