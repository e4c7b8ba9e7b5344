"""The outbox dispatcher: sends queued SMS, email and in-app messages, once
(docs/decisions/0005-outbox-and-offline-adapters.md).

Every message was written to ``outbox_messages`` in the transaction that caused
it. :func:`dispatch_due` (scheduled every ~30 s, safe to run in any number of
processes at once) works in short transactions:

1. **Requeue stale claims.** A row still ``sending`` after ``stale_after``
   belongs to a dispatcher that died; it goes back to ``pending`` (or to
   ``failed`` once it has had ``max_attempts``: a message that kills its sender
   every time must not loop forever).
2. **Claim.** ``SELECT ... WHERE status = 'pending' AND next_attempt_at <= now
   ... FOR UPDATE SKIP LOCKED`` and, in the same statement, mark the rows
   ``sending`` with this run's claim id — or ``suppressed`` when a marketing
   message has no live consent or the person turned this notification off.
   Two dispatchers never hold the same row.
3. **Send** each row through the SMS/email adapter (outside any transaction).
4. **Record** the provider's id and ``sent`` (removing secret links from the
   stored body, except after an offline send in development: there the body is
   the offline mailbox's copy, ``/admin/mailbox``), or schedule a retry with exponential backoff and jitter, or
   mark it ``failed`` after ``max_attempts`` — logged at ERROR and raised with
   the owner by email and in the app.

What a crash can do. Before step 3 returns, a crash loses nothing: the claim
goes stale and the row is sent later. Between the provider accepting the
message and step 4 committing, the row is re-sent after ``stale_after``
(at-least-once), unless something closes the gap first:

* offline adapters: ``offline_deliveries`` is UNIQUE per outbox id, so a
  re-send returns the first delivery — exactly once;
* Twilio: no idempotency key exists, but the status callback carries the outbox
  id and records the SID within seconds (``record_sms_status``), so only a
  crash *and* a lost callback within ``stale_after`` (5 min) duplicates;
* SMTP: the re-send carries the same Message-ID (``<outbox-id@domain>``), which
  receiving systems use to drop or thread the duplicate.

Step 4 commits right after each send (not once per batch), which keeps that
window to one round trip to the database.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.adapters.delivery import SendFailed, keeps_secret_links
from nexdrive.services.core import clock, events
from nexdrive.services.core.actors import Actor
from nexdrive.errors import Forbidden, InvalidState, NotFound
from nexdrive.services.messaging.message_templates import (
    NOTIFICATION_TYPES,
    SENDER,
    default_subject,
    with_unsubscribe,
    email_html,
    has_secret_link,
    redact_secret_links,
)

log = logging.getLogger("nexdrive.dispatch")

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
STALE_AFTER = timedelta(minutes=5)  # far longer than one send may take (adapters time out after 30 s)
TIME_BUDGET = 20.0  # seconds per dispatch_due call, below the ~30 s schedule so runs don't pile up
ALERT_TEMPLATE = "delivery_failed"
SMS_OPT_OUT = "Reply STOP to opt out"

_NOW = "COALESCE(CAST(:now AS timestamptz), now())"
OPTIONAL_TYPES = sorted(k for k, t in NOTIFICATION_TYPES.items() if t.optional)


@dataclass
class DispatchStats:
    """What one dispatch_due call did (``worker_id`` is this run's claim id)."""

    worker_id: str
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    requeued_stale: int = 0
    lost_claims: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4 ... 60 min, half fixed and half random
    ("equal jitter", so retries after an outage spread out instead of arriving together)."""
    full = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE.total_seconds() * 2 ** max(0, attempts - 1))
    return timedelta(seconds=full / 2 + (rng or random).uniform(0, full / 2))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _engine_of(target) -> sa.Engine:
    if target is None:
        from nexdrive.db import get_engine
        return get_engine()
    if isinstance(target, sa.Engine):
        return target
    if callable(target):  # a session factory
        with target() as session:
            bind = session.get_bind()
        return bind.engine if isinstance(bind, sa.Connection) else bind
    raise TypeError("dispatch_due needs an Engine or a session factory")


# ─────────────────────────────────────────────────────────────────────────────
# The dispatcher
# ─────────────────────────────────────────────────────────────────────────────

def dispatch_due(engine_or_session_factory=None, *, batch_size: int = 50, now: datetime | None = None,
                 worker_id: str | None = None, sms=None, email=None, max_attempts: int = MAX_ATTEMPTS,
                 stale_after: timedelta = STALE_AFTER, time_budget: float | None = TIME_BUDGET,
                 only_ids: Iterable[uuid.UUID] | None = None) -> DispatchStats:
    """Send every due outbox message (batches of ``batch_size`` until none are left or ``time_budget``
    seconds have passed) and return what happened.

    ``now`` replaces the database clock (tests, benchmarks); ``sms``/``email`` replace the configured
    adapters; ``only_ids`` limits the run to those messages (an immediate reply to an inbound SMS).
    """
    engine = _engine_of(engine_or_session_factory)
    claim = f"{worker_id or default_worker_id()}/{uuid.uuid4().hex[:8]}"
    stats = DispatchStats(worker_id=claim)
    senders = _Senders(sms, email)
    started = time.monotonic()
    ids = [str(i) for i in only_ids] if only_ids is not None else None

    stats.requeued_stale += requeue_stale_claims(engine, now=now, stale_after=stale_after,
                                                 max_attempts=max_attempts)
    while True:
        rows = _claim(engine, now=now, limit=batch_size, claim=claim, ids=ids)
        if not rows:
            break
        stats.batches += 1
        claimed_at = time.monotonic()
        for row in rows:
            if row["status"] == "suppressed":
                stats.suppressed += 1
                log.info("outbox %s (%s %s) suppressed: %s", row["id"], row["channel"], row["template"],
                         row["last_error"])
                continue
            stats.claimed += 1
            if time.monotonic() - claimed_at > stale_after.total_seconds() / 2 and not _refresh_claim(
                    engine, row["id"], claim, now):
                stats.lost_claims += 1  # we were too slow and another dispatcher took it over
                continue
            _deliver(engine, row, claim=claim, now=now, senders=senders, max_attempts=max_attempts, stats=stats)
        if len(rows) < batch_size or ids is not None:
            break
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
    return stats


class _Senders:
    """The adapters, built on first use (a run with only emails never builds the SMS client)."""

    def __init__(self, sms, email):
        self._sms, self._email = sms, email

    @property
    def sms(self):
        if self._sms is None:
            from nexdrive.adapters import get_adapter
            self._sms = get_adapter("sms")
        return self._sms

    @property
    def email(self):
        if self._email is None:
            from nexdrive.adapters import get_adapter
            self._email = get_adapter("email")
        return self._email


def requeue_stale_claims(engine: sa.Engine, *, now: datetime | None = None, stale_after: timedelta = STALE_AFTER,
                         max_attempts: int = MAX_ATTEMPTS) -> int:
    """Put back rows whose dispatcher died mid-send; give up on those that already had every attempt."""
    with Session(engine) as session, session.begin():
        rows = session.execute(sa.text(
            f"""UPDATE outbox_messages SET
                   status = CASE WHEN attempts >= :max THEN 'failed' ELSE 'pending' END,
                   next_attempt_at = {_NOW},
                   last_error = 'The dispatcher (' || COALESCE(claimed_by, '?') || ') stopped while sending; '
                       || CASE WHEN attempts >= :max THEN 'no attempts left.'
                               ELSE 'sending again (the recipient may get it twice).' END,
                   claimed_by = NULL
                WHERE status = 'sending' AND claimed_at < {_NOW} - CAST(:stale AS interval)
                RETURNING id, status, channel, recipient, template, attempts, last_error"""
        ), {"now": now, "stale": f"{int(stale_after.total_seconds())} seconds", "max": max_attempts}).mappings().all()
        for row in rows:
            if row["status"] == "failed":
                _alert_failure(session, dict(row), row["last_error"])
            else:
                log.warning("outbox %s: stale claim requeued (%s)", row["id"], row["last_error"])
        return len(rows)


def _claim(engine: sa.Engine, *, now: datetime | None, limit: int, claim: str, ids: list[str] | None) -> list[dict]:
    """Claim up to ``limit`` due rows (SKIP LOCKED); suppress the ones that must not go out."""
    only = "AND o.id = ANY(CAST(:ids AS uuid[]))" if ids is not None else ""
    with Session(engine) as session, session.begin():
        rows = session.execute(sa.text(
            f"""WITH due AS (
                  SELECT o.id,
                    CASE
                      WHEN o.is_marketing AND o.channel IN ('sms', 'email') AND NOT EXISTS (
                          SELECT 1 FROM marketing_consents c
                          WHERE c.channel = o.channel AND lower(c.recipient) = lower(o.recipient)
                            AND c.revoked_at IS NULL)
                        THEN 'Not sent: no live marketing consent for this recipient.'
                      WHEN o.user_id IS NOT NULL AND o.template = ANY(CAST(:optional AS text[])) AND EXISTS (
                          SELECT 1 FROM notification_preferences p
                          WHERE p.user_id = o.user_id AND p.notification_type = o.template
                            AND p.channel = o.channel AND NOT p.enabled)
                        THEN 'Not sent: the recipient turned this notification off.'
                    END AS why
                  FROM outbox_messages o
                  WHERE o.status = 'pending' AND o.next_attempt_at <= {_NOW} {only}
                  ORDER BY o.next_attempt_at, o.id
                  LIMIT :limit
                  FOR UPDATE OF o SKIP LOCKED)
                UPDATE outbox_messages o SET
                  status = CASE WHEN due.why IS NULL THEN 'sending' ELSE 'suppressed' END,
                  attempts = o.attempts + CASE WHEN due.why IS NULL THEN 1 ELSE 0 END,
                  claimed_at = CASE WHEN due.why IS NULL THEN {_NOW} ELSE o.claimed_at END,
                  claimed_by = CASE WHEN due.why IS NULL THEN :claim ELSE NULL END,
                  last_error = COALESCE(due.why, o.last_error)
                FROM due WHERE o.id = due.id
                RETURNING o.id, o.status, o.channel, o.recipient, o.subject, o.body, o.template, o.template_data,
                          o.attempts, o.is_marketing, o.user_id, o.booking_id, o.related_id, o.last_error"""
        ), {"now": now, "limit": limit, "claim": claim, "ids": ids, "optional": OPTIONAL_TYPES}).mappings().all()
    out = [dict(r) for r in rows]
    out.sort(key=lambda r: r["id"].bytes)  # deterministic order inside a batch
    return out


def _refresh_claim(engine: sa.Engine, outbox_id: uuid.UUID, claim: str, now: datetime | None) -> bool:
    with engine.begin() as conn:
        return conn.execute(sa.text(
            f"UPDATE outbox_messages SET claimed_at = {_NOW} "
            "WHERE id = :id AND status = 'sending' AND claimed_by = :claim RETURNING id"
        ), {"id": outbox_id, "claim": claim, "now": now}).first() is not None


# ─────────────────────────────────────────────────────────────────────────────
# One message
# ─────────────────────────────────────────────────────────────────────────────

def _deliver(engine: sa.Engine, row: dict, *, claim: str, now: datetime | None, senders: _Senders,
             max_attempts: int, stats: DispatchStats) -> None:
    too_late = _expired(row, now)
    if too_late:
        _give_up(engine, row, claim, now, too_late, stats)
        return
    sender = None
    try:
        if row["channel"] == "in_app":
            _deliver_in_app(engine, row, claim, now)
            stats.sent += 1
            return
        if row["channel"] == "sms":
            from nexdrive.adapters.sms import OutgoingSms
            sender = senders.sms
            receipt = sender.send(OutgoingSms(row["id"], row["recipient"], sms_body(row)))
            provider_id, status, segments = receipt.provider_message_id, receipt.status, receipt.segments
        elif row["channel"] == "email":
            sender = senders.email
            receipt = sender.send(build_email(engine, row))
            provider_id, status, segments = receipt.provider_message_id, receipt.status, None
        else:
            raise SendFailed(f"unknown channel {row['channel']!r}", permanent=True)
    except SendFailed as exc:
        _record_failure(engine, row, claim, now, exc, max_attempts, stats)
        return
    except Exception as exc:  # a bug or an adapter surprise: keep the message, try again later
        log.exception("outbox %s: unexpected error while sending", row["id"])
        _record_failure(engine, row, claim, now, SendFailed(f"{type(exc).__name__}: {exc}"), max_attempts, stats)
        return
    _record_sent(engine, row, now, provider_id, status, segments, keep_body=_offline_keeps_links(sender))
    stats.sent += 1


def _offline_keeps_links(sender) -> bool:
    """An offline "send" (the outbox adapters) in development: the stored body is the only copy, keep it whole."""
    return getattr(sender, "provider", None) == "outbox" and keeps_secret_links(sender.settings)


def _expired(row: dict, now: datetime | None) -> str | None:
    """A message with ``template_data.send_before`` (e.g. a 2-hour reminder) is pointless after that time."""
    limit = (row.get("template_data") or {}).get("send_before")
    if not limit:
        return None
    try:
        deadline = datetime.fromisoformat(str(limit).replace("Z", "+00:00"))
    except ValueError:
        return None
    current = now or clock.now()
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=timezone.utc)
    return f"Not sent: too late (it had to go before {deadline.isoformat()})." if current > deadline else None


def sms_body(row: dict) -> str:
    body = row["body"]
    if row.get("is_marketing") and "STOP" not in body.upper():
        body = f"{body.rstrip()} {SMS_OPT_OUT}"
    return body


def _footer(public: str, business: dict | None = None) -> str:
    business = business or {}
    reach = "  ".join(p for p in (business.get("phone"), business.get("email")) if p)
    return f"{business.get('name') or SENDER}, Canberra\n" + (f"{reach}\n" if reach else "") + public


def _business(engine: sa.Engine) -> dict:
    """The sender's name and contact details from the business settings (one row)."""
    from nexdrive.formats import format_au_phone

    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT business_name, phone, email FROM business_settings WHERE id = 1")).first()
    if row is None:
        return {}
    return {"name": row.business_name, "phone": format_au_phone(row.phone or ""), "email": row.email or ""}


def build_email(engine: sa.Engine, row: dict):
    """The email as sent: text + HTML, the .ics for a booked or moved lesson, unsubscribe for marketing."""
    from nexdrive.adapters.email import OutgoingEmail
    from nexdrive.settings import get_settings

    public = get_settings().public_url
    text = row["body"]
    headers: dict[str, str] = {}
    business = _business(engine)
    sender = business.get("name") or SENDER
    footer = _footer(public, business)
    if row.get("is_marketing"):
        token = _unsubscribe_token(engine, row["recipient"])
        link = f"{public}/api/v1/marketing/unsubscribe?token={token}" if token else f"{public}/account"
        text = with_unsubscribe(text, sender=sender, link=link)
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = row["subject"] or default_subject(sender)
    return OutgoingEmail(
        outbox_id=row["id"],
        to=row["recipient"],
        subject=subject,
        text=text,
        html=email_html(subject, text, footer=footer, sender=sender),
        attachments=_attachments(engine, row),
        headers=headers,
    )


def _unsubscribe_token(engine: sa.Engine, recipient: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT unsubscribe_token FROM marketing_consents WHERE channel = 'email' AND lower(recipient) = lower(:r) "
            "AND revoked_at IS NULL AND unsubscribe_token IS NOT NULL ORDER BY granted_at DESC LIMIT 1"
        ), {"r": recipient}).scalar()


def _attachments(engine: sa.Engine, row: dict) -> tuple:
    """Files that go with an email (e.g. the lesson's calendar file), from whichever domain subscribes."""
    try:
        return tuple(a for found in events.publish("email.attachments", engine=engine, row=row) for a in found)
    except Exception:  # the email still goes without its attachments
        log.exception("outbox %s: could not build the attachments", row["id"])
        return ()


def _stored_body(body: str) -> tuple[str, bool]:
    if has_secret_link(body):
        return redact_secret_links(body), True
    return body, False


def _record_sent(engine: sa.Engine, row: dict, now: datetime | None, provider_id: str, status: str | None,
                 segments: int | None, *, keep_body: bool = False) -> None:
    """Provider id + 'sent' + secret links blanked (not ``keep_body``), right after the send (one short transaction)."""
    body, redacted = (row["body"], False) if keep_body else _stored_body(row["body"])
    params = {"id": row["id"], "pid": provider_id, "pst": status, "seg": segments, "body": body,
              "redacted": redacted, "now": now}
    with engine.begin() as conn:
        done = conn.execute(sa.text(
            f"""UPDATE outbox_messages SET
                   status = CASE WHEN status IN ('sending', 'pending') THEN 'sent' ELSE status END,
                   provider_message_id = COALESCE(provider_message_id, :pid),
                   provider_status = COALESCE(provider_status, :pst),
                   sent_at = COALESCE(sent_at, {_NOW}),
                   delivered_at = CASE WHEN :pst = 'delivered' THEN COALESCE(delivered_at, {_NOW})
                                       ELSE delivered_at END,
                   segments = COALESCE(:seg, segments),
                   last_error = CASE WHEN status IN ('sending', 'pending') THEN NULL ELSE last_error END,
                   body = :body,
                   redacted_at = CASE WHEN :redacted THEN {_NOW} ELSE redacted_at END,
                   claimed_by = NULL
                WHERE id = :id AND (provider_message_id IS NULL OR provider_message_id = :pid)
                RETURNING id"""
        ), params).first()
        if done is None:
            # Someone else already recorded a different send of this message: it went out twice.
            conn.execute(sa.text(f"UPDATE outbox_messages SET body = :body, redacted_at = CASE WHEN :redacted "
                                 f"THEN {_NOW} ELSE redacted_at END WHERE id = :id"), params)
            log.warning("outbox %s was sent twice (%s and an earlier send)", row["id"], provider_id)


def _record_failure(engine: sa.Engine, row: dict, claim: str, now: datetime | None, exc: SendFailed,
                    max_attempts: int, stats: DispatchStats) -> None:
    if exc.recipient_blocked:
        status, next_at = "suppressed", None
        reason = (f"Not sent: the recipient replied STOP to our number, so the provider blocks every message "
                  f"to them until they reply START. ({exc.message})")
    elif exc.permanent or row["attempts"] >= max_attempts:
        status, next_at = "failed", None
        reason = f"Gave up after {row['attempts']} attempt(s): {exc.message}"
    else:
        status, next_at = "pending", (now or clock.now()) + backoff(row["attempts"])
        reason = f"Attempt {row['attempts']} failed: {exc.message}"
    with Session(engine) as session, session.begin():
        updated = session.execute(sa.text(
            "UPDATE outbox_messages SET status = :status, last_error = :reason, claimed_by = NULL, "
            "next_attempt_at = COALESCE(CAST(:next AS timestamptz), next_attempt_at) "
            "WHERE id = :id AND status = 'sending' AND claimed_by = :claim RETURNING id"
        ), {"status": status, "reason": reason[:2000], "next": next_at, "id": row["id"], "claim": claim}).first()
        if updated is None:
            stats.lost_claims += 1
            return
        if status == "failed":
            _alert_failure(session, row, reason)
            stats.failed += 1
        elif status == "suppressed":
            log.warning("outbox %s suppressed: %s", row["id"], reason)
            stats.suppressed += 1
        else:
            log.warning("outbox %s: %s; next try at %s", row["id"], reason, next_at.isoformat())
            stats.retried += 1


def _give_up(engine: sa.Engine, row: dict, claim: str, now: datetime | None, reason: str,
             stats: DispatchStats) -> None:
    with Session(engine) as session, session.begin():
        updated = session.execute(sa.text(
            "UPDATE outbox_messages SET status = 'failed', last_error = :reason, claimed_by = NULL "
            "WHERE id = :id AND status = 'sending' AND claimed_by = :claim RETURNING id"
        ), {"reason": reason, "id": row["id"], "claim": claim}).first()
        if updated is not None:
            _alert_failure(session, row, reason)
            stats.failed += 1


def _deliver_in_app(engine: sa.Engine, row: dict, claim: str, now: datetime | None) -> None:
    """An in-app message becomes a row in ``notifications`` (the bell), in one transaction: exactly once."""
    try:
        user_id = row.get("user_id") or uuid.UUID(str(row["recipient"]))
    except ValueError:
        raise SendFailed(f"in-app recipient {row['recipient']!r} is not a user id", permanent=True) from None
    with engine.begin() as conn:
        notification_id = conn.execute(sa.text(
            f"""INSERT INTO notifications (recipient_id, channel, notification_type, subject, body, status,
                                           sent_at, delivered_at, related_id, outbox_message_id, triggered_by)
                SELECT :user, 'in_app', COALESCE(:template, 'message'), :subject, :body, 'delivered',
                       {_NOW}, {_NOW}, :related, :id, 'outbox'
                WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE outbox_message_id = :id)
                RETURNING id"""
        ), {"user": user_id, "template": row["template"], "subject": row["subject"], "body": row["body"],
            "related": row.get("related_id"), "id": row["id"], "now": now}).scalar()
        if notification_id is None:
            notification_id = conn.execute(sa.text("SELECT id FROM notifications WHERE outbox_message_id = :id"),
                                           {"id": row["id"]}).scalar()
        conn.execute(sa.text(
            f"UPDATE outbox_messages SET status = 'sent', provider_message_id = :pid, provider_status = 'delivered', "
            f"sent_at = {_NOW}, delivered_at = {_NOW}, claimed_by = NULL, last_error = NULL "
            "WHERE id = :id AND status = 'sending' AND claimed_by = :claim"
        ), {"pid": f"in_app-{notification_id}", "id": row["id"], "claim": claim, "now": now})


# ─────────────────────────────────────────────────────────────────────────────
# Telling the owner
# ─────────────────────────────────────────────────────────────────────────────

def _mask(recipient: str) -> str:
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return local[:2] + "\u2026@" + domain
    return recipient[:-3] + "\u2026" if len(recipient) > 6 else recipient


def _alert_failure(session: Session, row: dict, reason: str) -> None:
    """Log at ERROR and tell the owner (email to the school address, a notice in the app for every admin)."""
    log.error("outbox %s: %s %s to %s FAILED: %s", row["id"], row["channel"], row.get("template"),
              _mask(str(row["recipient"])), reason)
    if row.get("template") == ALERT_TEMPLATE:
        return  # never alert about an alert
    from nexdrive.services.messaging import notify

    data = {"what": (row.get("template") or "message").replace("_", " "), "channel": row["channel"],
            "recipient": _mask(str(row["recipient"])), "reason": reason}
    school = session.execute(sa.text("SELECT email FROM business_settings WHERE id = 1")).scalar()
    common = dict(data=data, related_type="outbox_message", related_id=row["id"], template_data={})
    if school:
        notify.queue_message(session, ALERT_TEMPLATE, to={"email": school}, channels=("email",),
                             idempotency_key={"email": f"{ALERT_TEMPLATE}:{row['id']}:email"}, **common)
    for (admin_id,) in session.execute(sa.text("SELECT id FROM users WHERE role = 'admin' AND status = 'active'")):
        notify.queue_message(session, ALERT_TEMPLATE, to={"user_id": admin_id}, channels=("in_app",),
                             idempotency_key={"in_app": f"{ALERT_TEMPLATE}:{row['id']}:in_app:{admin_id}"}, **common)


def delivery_report(session: Session, actor: Actor, *, since: datetime) -> dict:
    """For the owner's digest and the admin area: counts by status since ``since`` and what failed."""
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can see delivery reports.")
    counts = dict(session.execute(sa.text(
        "SELECT status, count(*) FROM outbox_messages WHERE updated_at >= :since GROUP BY status"
    ), {"since": since}).all())
    failed = [dict(r) for r in session.execute(sa.text(
        "SELECT id, channel, recipient, template, attempts, last_error, updated_at FROM outbox_messages "
        "WHERE status = 'failed' AND updated_at >= :since AND template IS DISTINCT FROM :alert "
        "ORDER BY updated_at DESC LIMIT 50"
    ), {"since": since, "alert": ALERT_TEMPLATE}).mappings()]
    stuck = session.execute(
        sa.text(
            "SELECT count(*) FROM outbox_messages "
            "WHERE status = 'pending' AND next_attempt_at < now() - interval '10 minutes'"
        )
    ).scalar_one()
    return {"counts": counts, "failed": failed, "overdue_pending": stuck}


def send_again(session: Session, actor: Actor, outbox_id: uuid.UUID) -> None:
    """The admin asks for a failed message to be tried again (fresh attempts, due now)."""
    if not actor.is_admin:
        raise Forbidden("Only the administrator can resend messages.")
    row = session.execute(sa.text("SELECT status FROM outbox_messages WHERE id = :id FOR UPDATE"),
                          {"id": outbox_id}).first()
    if row is None:
        raise NotFound("No such message.")
    if row.status != "failed":
        raise InvalidState("Only a failed message can be sent again.")
    session.execute(sa.text("UPDATE outbox_messages SET status = 'pending', attempts = 0, next_attempt_at = now(), "
                            "last_error = NULL WHERE id = :id"), {"id": outbox_id})
    from nexdrive.services.core import audit
    audit.record_event(session, actor, "outbox.resend", subject_type="outbox_message", subject_id=outbox_id)


# ─────────────────────────────────────────────────────────────────────────────
# Provider status callbacks
# ─────────────────────────────────────────────────────────────────────────────

# Twilio's message statuses, in the order they can happen; a late 'sent' never undoes 'delivered'.
_STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "read": 4, "canceled": 3}


def record_sms_status(session: Session, *, message_sid: str, status: str, error_code: str | None = None,
                      outbox_id: uuid.UUID | None = None) -> str:
    """Apply a delivery status callback; returns what happened ('updated', 'ignored', 'unknown').

    The outbox id in the callback URL finds a message whose sender died before recording the SID, so it
    is marked sent (and not sent again when its claim goes stale).
    """
    status = (status or "").lower()
    rank = _STATUS_RANK.get(status)
    if rank is None:
        return "ignored"
    row = session.execute(sa.text(
        "SELECT id, status, provider_status, provider_message_id, body, channel, recipient, template "
        "FROM outbox_messages WHERE provider_message_id = :sid FOR UPDATE"), {"sid": message_sid}).mappings().first()
    if row is None and outbox_id is not None:
        row = session.execute(sa.text(
            "SELECT id, status, provider_status, provider_message_id, body, channel, recipient, template "
            "FROM outbox_messages WHERE id = :id AND channel = 'sms' FOR UPDATE"), {"id": outbox_id}).mappings().first()
        if row is not None and row["provider_message_id"] not in (None, message_sid):
            log.warning("outbox %s: status for %s but it was recorded as %s (sent twice?)", row["id"], message_sid,
                        row["provider_message_id"])
            return "ignored"
    if row is None:
        return "unknown"
    if row["provider_message_id"] is None:
        # The sender died after Twilio accepted it: record the send now, so it is not sent again.
        body, redacted = _stored_body(row["body"])
        session.execute(
            sa.text(
                "UPDATE outbox_messages SET provider_message_id = :sid, "
                "status = CASE WHEN status IN ('sending', 'pending') "
                "THEN 'sent' ELSE status END, sent_at = COALESCE(sent_at, now()), claimed_by = NULL, body = :body, "
                "redacted_at = CASE WHEN :redacted THEN now() ELSE redacted_at END WHERE id = :id"
            ),
            {"sid": message_sid, "id": row["id"], "body": body, "redacted": redacted},
        )
        log.warning("outbox %s: SID %s recorded from Twilio's status callback", row["id"], message_sid)
    current = _STATUS_RANK.get(row["provider_status"] or "", -1)
    if rank < current:
        return "ignored"  # an older status arriving late
    if status == "delivered":
        session.execute(sa.text("UPDATE outbox_messages SET provider_status = 'delivered', "
                                "delivered_at = COALESCE(delivered_at, now()) WHERE id = :id"), {"id": row["id"]})
    elif status in ("failed", "undelivered"):
        reason = f"Twilio reported the SMS {status}" + (f" (error {error_code})" if error_code else "") + "."
        session.execute(sa.text("UPDATE outbox_messages SET provider_status = :st, status = 'failed', "
                                "last_error = :reason WHERE id = :id"),
                        {"st": status, "reason": reason, "id": row["id"]})
        if row["status"] != "failed":
            _alert_failure(session, dict(row), reason)
    else:
        session.execute(sa.text("UPDATE outbox_messages SET provider_status = :st WHERE id = :id"),
                        {"st": status, "id": row["id"]})
    return "updated"


def run_forever(engine_or_session_factory=None, *, every: float = 30.0,
                stop: Callable[[], bool] = lambda: False) -> None:  # pragma: no cover - a convenience loop
    """For a worker without the scheduler: dispatch every ``every`` seconds until ``stop()``."""
    while not stop():
        try:
            dispatch_due(engine_or_session_factory)
        except Exception:
            log.exception("dispatch run failed")
        time.sleep(every)
