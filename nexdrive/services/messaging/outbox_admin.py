"""The administrator's view of the outbox: every SMS and email the school has queued, sent or failed.

With the offline adapters this is where messages end up (docs/decisions/0005-outbox-and-offline-adapters.md), so the
owner can read exactly what a learner would have received. The administrator
sees full recipients and bodies; nobody else may read the outbox at all.
Retrying puts a failed message back in the queue for the dispatcher; it is
audited, and only a failed message can be retried (a sent one is never re-sent).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import OutboxMessage
from nexdrive.models.comms import OUTBOX_CHANNELS, OUTBOX_STATUSES
from nexdrive.services.core import audit, paging
from nexdrive.services.core.access import require_signed_in
from nexdrive.services.core.actors import Actor
from nexdrive.formats import format_au_phone
from nexdrive.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.formats import au_when

PREVIEW_CHARS = 140
STATUS_LABELS = {"pending": "Pending", "sending": "Sending", "sent": "Sent", "failed": "Failed",
                 "suppressed": "Suppressed"}
CHANNEL_LABELS = {"sms": "SMS", "email": "Email", "in_app": "In-app"}


def _require_admin(actor: Actor) -> None:
    require_signed_in(actor)
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can see the outbox.")


def _parse_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound("No such message.") from None


def _when(dt: datetime | None) -> str:
    return au_when(dt) if dt else ""


def _preview(body: str) -> str:
    flat = " ".join((body or "").split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 1].rstrip() + "\u2026"


def message_dict(m: OutboxMessage, *, full: bool = False) -> dict[str, Any]:
    """Plain data for the page (times in Canberra time); ``full`` adds the whole body and the data."""
    data = {
        "id": str(m.id),
        "created_at": m.created_at.isoformat() if m.created_at else None,
        "when": _when(m.created_at),
        "channel": m.channel,
        "channel_label": CHANNEL_LABELS.get(m.channel, m.channel),
        "recipient": m.recipient,
        "recipient_display": format_au_phone(m.recipient) if m.channel == "sms" else m.recipient,
        "template": m.template or "",
        "subject": m.subject or "",
        "preview": _preview(m.body),
        "status": m.status,
        "status_label": STATUS_LABELS.get(m.status, m.status),
        "attempts": m.attempts,
        "last_error": m.last_error or "",
        "provider_message_id": m.provider_message_id or "",
        "next_attempt": _when(m.next_attempt_at) if m.status == "pending" else "",
        "sent": _when(m.sent_at),
        "delivered": _when(m.delivered_at),
        "booking_id": str(m.booking_id) if m.booking_id else None,
        "is_marketing": m.is_marketing,
        "can_retry": m.status == "failed",
    }
    if full:
        data["body"] = m.body
        data["related_type"] = m.related_type or ""
        data["related_id"] = str(m.related_id) if m.related_id else None
        data["idempotency_key"] = m.idempotency_key or ""
    return data


def _search_terms(search: str) -> list[str]:
    """What a recipient search matches: the text itself, and an Australian mobile also as +614..."""
    terms = [search]
    digits = re.sub(r"[\s\-().]", "", search)
    if re.fullmatch(r"(\+?61|0)?4\d{0,8}", digits) and len(digits) >= 4:
        tail = digits[-9:] if len(digits) >= 9 else digits.lstrip("+").removeprefix("61").removeprefix("0")
        terms.append(tail)
    return terms


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_outbox(session: Session, actor: Actor, *, status: str | None = None, channel: str | None = None,
                search: str | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """Messages newest first, filtered by status, channel and recipient text; ``next_cursor`` pages on."""
    _require_admin(actor)
    if status and status not in OUTBOX_STATUSES:
        raise ValidationFailed("Choose a status from the list.", field="status")
    if channel and channel not in OUTBOX_CHANNELS:
        raise ValidationFailed("Choose a channel from the list.", field="channel")
    limit = paging.page_size(limit, 50)
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    search = " ".join((search or "").split())
    if search:
        if len(search) > 200:
            raise ValidationFailed("That search is too long.", field="search")
        query = query.where(sa.or_(*[OutboxMessage.recipient.ilike(_like(t), escape="\\")
                                     for t in _search_terms(search)]))
    return paging.newest_first(session, query, OutboxMessage, cursor=cursor, limit=limit,
                               to_item=lambda rows: [message_dict(m) for m in rows])


def get_outbox_message(session: Session, actor: Actor, message_id: uuid.UUID | str) -> dict[str, Any]:
    _require_admin(actor)
    row = session.get(OutboxMessage, _parse_id(message_id))
    if row is None:
        raise NotFound("No such message.")
    return message_dict(row, full=True)


def retry_outbox_message(session: Session, actor: Actor, message_id: uuid.UUID | str) -> dict[str, Any]:
    """Queue a failed message again, to go at once; anything not failed is refused and left as it is.

    The attempt count starts again (the dispatcher's back-off and give-up rules apply afresh);
    the previous count and error are kept in the audit record.
    """
    _require_admin(actor)
    row = session.exec(select(OutboxMessage).where(OutboxMessage.id == _parse_id(message_id))
                       .with_for_update()).first()
    if row is None:
        raise NotFound("No such message.")
    if row.status != "failed":
        raise InvalidState(
            f"Only a failed message can be retried; this one is {STATUS_LABELS.get(row.status, row.status).lower()}."
        )
    previous = {"attempts": row.attempts, "last_error": row.last_error}
    row.status = "pending"
    row.attempts = 0
    row.claimed_at = None
    row.next_attempt_at = session.execute(sa.text("SELECT now()")).scalar_one()
    session.add(row)
    session.flush()
    audit.record_event(session, actor, "outbox.retried", subject_type="outbox_message", subject_id=row.id,
                       details={"channel": row.channel, "template": row.template, **previous})
    return message_dict(row, full=True)


def outbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many messages are in each status (every status present, zero when none)."""
    _require_admin(actor)
    counts = dict(session.execute(select(OutboxMessage.status, sa.func.count())
                                  .group_by(OutboxMessage.status)).all())
    return {s: int(counts.get(s, 0)) for s in OUTBOX_STATUSES}


# ─────────────────────────────────────────────────────────────────────────────
# The offline mailbox (/admin/mailbox): a development mail catcher
# ─────────────────────────────────────────────────────────────────────────────

MAILBOX_STATUSES = ("pending", "sending", "sent")
MAILBOX_STATUS_LABELS = {"pending": "Queued", "sending": "Sending", "sent": "Delivered offline"}
_URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")


def mailbox_channels(settings=None) -> list[str]:
    """The channels whose adapter runs offline (their messages stay here instead of going out)."""
    from nexdrive.adapters import adapter_status
    from nexdrive.settings import get_settings

    status = adapter_status(settings or get_settings())
    return [port for port in ("email", "sms") if status[port]["mode"] == "offline"]


def mailbox_available(settings=None) -> bool:
    return bool(mailbox_channels(settings))


def _require_mailbox(actor: Actor) -> list[str]:
    _require_admin(actor)
    channels = mailbox_channels()
    if not channels:
        raise NotFound("There is no offline mailbox: email and SMS are sent through real providers.")
    return channels


def link_parts(body: str) -> list[dict[str, str]]:
    """The body cut into text and links, in order (joined back, the texts are the body)."""
    parts: list[dict[str, str]] = []
    at = 0
    for match in _URL_RE.finditer(body or ""):
        url = match.group(0).rstrip(".,;:!?")
        if match.start() > at:
            parts.append({"text": body[at:match.start()], "href": ""})
        parts.append({"text": url, "href": url})
        at = match.start() + len(url)
    if at < len(body or ""):
        parts.append({"text": body[at:], "href": ""})
    return parts


def _mail_dict(m: OutboxMessage) -> dict[str, Any]:
    first_line = " ".join((m.body or "").split())
    return {
        "id": str(m.id),
        "channel": m.channel,
        "channel_label": CHANNEL_LABELS.get(m.channel, m.channel),
        "to": format_au_phone(m.recipient) if m.channel == "sms" else m.recipient,
        "subject": m.subject or (first_line[:60] + ("\u2026" if len(first_line) > 60 else "")),
        "when": _when(m.sent_at or m.created_at),
        "status_label": MAILBOX_STATUS_LABELS.get(m.status, m.status),
        "redacted": m.redacted_at is not None,
    }


def list_mailbox(session: Session, actor: Actor, *, limit: int = 50) -> dict[str, Any]:
    """What the offline adapters 'sent' (and what is queued for them), newest first. Admin only, and only
    while email or SMS runs offline."""
    channels = _require_mailbox(actor)
    limit = paging.page_size(limit, 50)
    rows = session.exec(select(OutboxMessage)
                        .where(OutboxMessage.channel.in_(channels), OutboxMessage.status.in_(MAILBOX_STATUSES))
                        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()
    return {"items": [_mail_dict(m) for m in rows], "channels": channels}


def get_mailbox_message(session: Session, actor: Actor, message_id: uuid.UUID | str) -> dict[str, Any]:
    """One message whole, with its links cut out so the page can make them clickable."""
    channels = _require_mailbox(actor)
    row = session.get(OutboxMessage, _parse_id(message_id))
    if row is None or row.channel not in channels or row.status not in MAILBOX_STATUSES:
        raise NotFound("No such message in the mailbox.")
    return {**_mail_dict(row), "body": row.body or "", "parts": link_parts(row.body or "")}
