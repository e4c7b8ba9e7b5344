"""The email port: SMTP (stdlib smtplib) when SMTP_URL is set, the outbox otherwise
(docs/decisions/0005-outbox-and-offline-adapters.md).

``SMTP_URL``: ``smtp://user:pass@host:587`` (STARTTLS when the server offers
it; a password is never sent unencrypted to anything but this machine) or
``smtps://user:pass@host:465`` (TLS from the start). Every email is
multipart/alternative (plain text + HTML), with optional attachments.

The Message-ID is derived from the outbox id (``<outbox-id@sender-domain>``):
SMTP has no idempotency key, but a re-send after a crash carries the same
Message-ID, which mail systems and clients use to recognise the duplicate.
"""
from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlparse

from nexdrive.adapters.delivery import SendFailed, offline_body, record_offline_delivery
from nexdrive.settings import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. 'text/calendar; method=PUBLISH'
    data: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    outbox_id: uuid.UUID
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe


@dataclass(frozen=True)
class EmailReceipt:
    provider_message_id: str
    status: str | None = None


class EmailSender(Protocol):
    provider: str

    def send(self, message: OutgoingEmail) -> EmailReceipt:
        """Hand one email to the provider; raise SendFailed if it was not accepted."""
        ...


def message_id(outbox_id: uuid.UUID, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "nexdrive.local"
    return f"<{outbox_id}@{domain}>"


def build_message(message: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message: multipart/mixed[ multipart/alternative[text, html], attachments... ]."""
    msg = EmailMessage()
    name, addr = parseaddr(sender)
    msg["From"] = str(Address(display_name=name, addr_spec=addr)) if name else addr
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(message.outbox_id, sender)
    for key, value in message.headers.items():
        msg[key] = value
    msg.set_content(message.text)
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    for att in message.attachments:
        main, _, rest = att.content_type.partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        extra = dict(p.split("=", 1) for p in params if "=" in p)
        msg.add_attachment(att.data, maintype=main, subtype=subtype, filename=att.filename, params=extra)
    return msg


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    starttls: str  # 'auto' (when offered) | 'off'


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlparse(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    implicit = parts.scheme == "smtps"
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls="off" if query.get("starttls") in ("off", "0", "false") else "auto",
    )


def _local(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


class SmtpEmail:
    """Sends through any SMTP server (one connection per message: a school sends a few hundred a day)."""

    provider = "smtp"

    def __init__(self, settings: Settings, *, timeout: float = 30.0):
        self.settings = settings
        self.target = parse_smtp_url(settings.smtp_url)
        self.sender = settings.email_from
        self.timeout = timeout

    def send(self, message: OutgoingEmail) -> EmailReceipt:
        t = self.target
        msg = build_message(message, self.sender)
        try:
            if t.implicit_tls:
                server = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
            with server:
                server.ehlo()
                encrypted = t.implicit_tls
                if not encrypted and t.starttls == "auto" and server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                    server.ehlo()
                    encrypted = True
                if t.username:
                    if not encrypted and not _local(t.host):
                        raise SendFailed("The SMTP server offers no encryption; refusing to send the password "
                                         "in clear text. Use smtps:// or a server with STARTTLS.")
                    server.login(t.username, t.password or "")
                refused = server.send_message(msg)
        except SendFailed:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            raise SendFailed(
                f"SMTP refused {message.to}: {code} {_text(reason)}", permanent=code >= 500, code=code
            ) from None
        except smtplib.SMTPAuthenticationError as exc:  # a configuration problem the owner can fix: retry
            raise SendFailed(
                f"SMTP login failed: {exc.smtp_code} {_text(exc.smtp_error)}", code=exc.smtp_code
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(
                f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
                code=exc.smtp_code,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP server unreachable: {exc}") from None
        if refused:
            code, reason = next(iter(refused.values()))
            raise SendFailed(f"SMTP refused {message.to}: {code} {_text(reason)}", permanent=code >= 500, code=code)
        return EmailReceipt(msg["Message-ID"], "sent")


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class OutboxEmail:
    """Offline default: the email is 'delivered' into offline_deliveries, where the admin can read it."""

    provider = "outbox"

    def __init__(self, settings: Settings, *, engine=None):
        self.settings = settings
        self.engine = engine

    def send(self, message: OutgoingEmail) -> EmailReceipt:
        attachments = [{"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
                       for a in message.attachments]
        provider_id = record_offline_delivery(self.engine, outbox_id=message.outbox_id, channel="email",
                                              recipient=message.to, subject=message.subject,
                                              body=offline_body(self.settings, message.text),
                                              attachments=attachments)
        return EmailReceipt(provider_id, "delivered")
