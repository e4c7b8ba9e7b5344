"""What the SMS and email ports share: how a send fails, and the offline "provider".

A sender either returns a receipt (the provider accepted the message) or raises
:class:`SendFailed`, saying whether trying again could help. The dispatcher
(``services/dispatch.py``) turns that into a retry, a failure or a suppression.

The offline adapters deliver into ``offline_deliveries`` (one row per outbox
message, UNIQUE): a repeated send after a crash finds the row and returns the
same provider id, so delivery through them is exactly once.
"""
from __future__ import annotations

import json
import re
import uuid

import sqlalchemy as sa


class SendFailed(Exception):
    """The provider did not take the message.

    ``permanent``: the same request will fail again (bad number, rejected
    address) — don't retry. ``recipient_blocked``: the recipient opted out at
    the provider (Twilio error 21610 after a "STOP"), so nothing can reach them
    from this number until they reply START.
    """

    def __init__(self, message: str, *, permanent: bool = False, recipient_blocked: bool = False,
                 code: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent or recipient_blocked
        self.recipient_blocked = recipient_blocked
        self.code = code


def record_offline_delivery(engine: sa.Engine | None, *, outbox_id: uuid.UUID, channel: str, recipient: str,
                            body: str, subject: str | None = None, attachments: list[dict] | None = None,
                            segments: int | None = None) -> str:
    """Deliver into ``offline_deliveries`` once per outbox message; return the provider id (same on a repeat)."""
    from nexdrive.db import get_engine

    with (engine or get_engine()).begin() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO offline_deliveries (outbox_message_id, channel, recipient, subject, body, attachments, "
                "segments, provider_message_id) VALUES (:id, :channel, :recipient, :subject, :body, "
                "CAST(:attachments AS jsonb), :segments, 'offline-' || gen_random_uuid()) "
                "ON CONFLICT (outbox_message_id) DO UPDATE SET send_requests = offline_deliveries.send_requests + 1, "
                "last_requested_at = now() RETURNING provider_message_id"
            ),
            {"id": outbox_id, "channel": channel, "recipient": recipient, "subject": subject, "body": body,
             "attachments": json.dumps(attachments or []), "segments": segments},
        ).scalar_one()


def keeps_secret_links(settings) -> bool:
    """Offline sends keep their secret links (sign-in, reset, manage links) only in development, where the
    developer is every recipient and reads them in the offline mailbox (/admin/mailbox)."""
    return settings.environment == "development"


def offline_body(settings, body: str) -> str:
    """The body the offline "recipient" keeps: in development the developer is every recipient and needs the
    links; anywhere else secret links are removed here as well, so staff never read them."""
    if keeps_secret_links(settings):
        return body
    return redact_secret_links(body)


# ── Secret links (magic links, manage links, reset links) are never kept after sending ──

LINK_REMOVED = "[link removed after sending]"
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
_PIECE = re.compile(r"[A-Za-z0-9_\-]{32,}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _is_secret_url(url: str) -> bool:
    if re.search(r"[?&](?:token|key|secret|code)=[^&#\s]{16,}", url):
        return True
    return any(not _UUID.fullmatch(piece) for piece in _PIECE.findall(url.split("://", 1)[-1]))


def has_secret_link(text: str | None) -> bool:
    return bool(text) and any(_is_secret_url(m.group(0)) for m in URL_PATTERN.finditer(text))


def redact_secret_links(text: str) -> str:
    """The stored copy of a sent message: secret links replaced, everything else as sent."""
    def swap(m: re.Match) -> str:
        url = m.group(0).rstrip(".,;)")
        return (LINK_REMOVED + m.group(0)[len(url):]) if _is_secret_url(url) else m.group(0)
    return URL_PATTERN.sub(swap, text or "")
