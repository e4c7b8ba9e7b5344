"""Notification preferences and marketing consent (docs/decisions/0009-messages-and-consent.md).

Preferences: a person may turn off, per channel, the notification types the
catalogue marks optional (reminders, lesson summaries, supervising-driver
notes, low-credit and waitlist notices, each competency). What they must know
— bookings made, moved or cancelled, payments and receipts, invitations,
call-back times, their certificate, and account security emails — always goes;
``set_preference`` refuses to turn those off. No row means "on". The
dispatcher reads the preference when it sends, so a change applies to messages
already queued.

Marketing: a promotional message goes only while a consent for that channel
and address is live (recorded with its wording and source), carries an opt-out
("Reply STOP to opt out" / an unsubscribe link), and an SMS "STOP" revokes the
consent at once. STOP never stops reminders or confirmations: they are not
marketing.
"""
from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import MarketingConsent, NotificationPreference
from nexdrive.services.core import audit
from nexdrive.formats import normalise_au_mobile, normalise_email
from nexdrive.services.core.actors import Actor
from nexdrive.errors import Forbidden, NotFound, ValidationFailed
from nexdrive.services.messaging.message_templates import NOTIFICATION_TYPES

CONSENT_SOURCES = ("booking_form", "enquiry_form", "account_settings", "admin", "sms_start", "import")


# ─────────────────────────────────────────────────────────────────────────────
# Preferences
# ─────────────────────────────────────────────────────────────────────────────

def _whose(actor: Actor, user_id: uuid.UUID | None) -> uuid.UUID:
    if actor.user_id is None and not actor.sees_everything:
        raise Forbidden("Please sign in to change your notifications.")
    target = user_id or actor.user_id
    if target is None:
        raise ValidationFailed("Whose preferences?", field="user_id")
    if target != actor.user_id and not actor.sees_everything:
        raise Forbidden("You can only change your own notifications.")
    return target


def get_preferences(session: Session, actor: Actor, *, user_id: uuid.UUID | None = None) -> list[dict]:
    """Every notification type with its channels: on/off, and whether it may be turned off."""
    target = _whose(actor, user_id)
    saved = {(p.notification_type, p.channel): p.enabled for p in session.exec(
        select(NotificationPreference).where(NotificationPreference.user_id == target)).all()}
    return [
        {"type": t.key, "label": t.label, "optional": t.optional,
         "channels": {ch: (saved.get((t.key, ch), True) if t.optional else True) for ch in t.channels}}
        for t in NOTIFICATION_TYPES.values()
    ]


def set_preference(session: Session, actor: Actor, *, notification_type: str, channel: str, enabled: bool,
                   user_id: uuid.UUID | None = None) -> dict:
    """Turn one optional notification on or off on one channel (repeating it changes nothing)."""
    target = _whose(actor, user_id)
    spec = NOTIFICATION_TYPES.get(notification_type)
    if spec is None:
        raise ValidationFailed("Unknown notification.", field="notification_type")
    if channel not in spec.channels:
        raise ValidationFailed(f"{spec.label} are not sent by {channel}.", field="channel")
    if not spec.optional:
        raise ValidationFailed(f"{spec.label} always go out: they are about your bookings, payments or account.",
                               field="notification_type")
    session.execute(sa.text(
        "INSERT INTO notification_preferences (user_id, notification_type, channel, enabled) "
        "VALUES (:u, :t, :c, :e) ON CONFLICT (user_id, notification_type, channel) "
        "DO UPDATE SET enabled = EXCLUDED.enabled"
    ), {"u": target, "t": notification_type, "c": channel, "e": bool(enabled)})
    audit.record_event(session, actor, "notifications.preference_set", subject_type="user", subject_id=target,
                       details={"type": notification_type, "channel": channel, "enabled": bool(enabled)})
    return {"type": notification_type, "channel": channel, "enabled": bool(enabled)}


def is_enabled(session: Session, user_id: uuid.UUID | None, notification_type: str, channel: str) -> bool:
    """Would this person get this notification on this channel? (The dispatcher's rule, for pages and jobs.)"""
    spec = NOTIFICATION_TYPES.get(notification_type)
    if user_id is None or spec is None or not spec.optional:
        return True
    enabled = session.exec(select(NotificationPreference.enabled).where(
        NotificationPreference.user_id == user_id, NotificationPreference.notification_type == notification_type,
        NotificationPreference.channel == channel)).first()
    return True if enabled is None else bool(enabled)


# ─────────────────────────────────────────────────────────────────────────────
# Marketing consent
# ─────────────────────────────────────────────────────────────────────────────

def normalise_recipient(channel: str, recipient: str) -> str:
    if channel == "sms":
        return normalise_au_mobile(recipient, field="recipient")
    if channel == "email":
        return normalise_email(recipient)
    raise ValidationFailed("Marketing goes by SMS or email only.", field="channel")


def _own_addresses(session: Session, actor: Actor) -> set[str]:
    if actor.user_id is None:
        return set()
    row = session.execute(sa.text(
        "SELECT u.email, p.email AS profile_email, p.phone FROM users u LEFT JOIN profiles p ON p.user_id = u.id "
        "WHERE u.id = :u"), {"u": actor.user_id}).first()
    return {a.lower() for a in (row or ()) if a}


def has_marketing_consent(session: Session, channel: str, recipient: str) -> bool:
    return session.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM marketing_consents WHERE channel = :c AND lower(recipient) = lower(:r) "
        "AND revoked_at IS NULL)"), {"c": channel, "r": recipient}).scalar_one()


def record_marketing_consent(session: Session, actor: Actor, *, channel: str, recipient: str, source: str,
                             consent_text: str, contact_id: uuid.UUID | None = None,
                             user_id: uuid.UUID | None = None) -> MarketingConsent:
    """Record that this address agreed to promotional messages (the words they agreed to, and where).

    Web forms (visitor) and staff record consent for the address given to them; a signed-in person only for
    their own. Recording it again while it is live returns the live consent.
    """
    recipient = normalise_recipient(channel, recipient)
    if source not in CONSENT_SOURCES:
        raise ValidationFailed("Unknown consent source.", field="source")
    if not (consent_text or "").strip():
        raise ValidationFailed("Record the words the person agreed to.", field="consent_text")
    if (actor.is_family or actor.is_instructor) and recipient.lower() not in _own_addresses(session, actor):
        raise Forbidden("You can only subscribe your own number or address.")
    if (actor.is_family or actor.is_instructor):
        user_id = actor.user_id
    if contact_id is None and user_id is None:
        contact_id = session.execute(sa.text(
            "SELECT id FROM contacts WHERE deleted_at IS NULL AND (phone = :r OR lower(email) = lower(:r)) LIMIT 1"),
            {"r": recipient}).scalar()
        if contact_id is None:
            user_id = session.execute(sa.text(
                "SELECT user_id FROM profiles WHERE phone = :r OR lower(email) = lower(:r) LIMIT 1"),
                {"r": recipient}).scalar()
    if contact_id is None and user_id is None:
        raise ValidationFailed("Consent must belong to a known person or contact.", field="recipient")
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 11))"),
                    {"k": f"consent:{channel}:{recipient.lower()}"})
    live = session.exec(select(MarketingConsent).where(
        MarketingConsent.channel == channel, sa.func.lower(MarketingConsent.recipient) == recipient.lower(),
        MarketingConsent.revoked_at.is_(None))).first()
    if live is not None:
        return live
    consent = MarketingConsent(channel=channel, recipient=recipient, source=source, consent_text=consent_text.strip(),
                               contact_id=contact_id, user_id=user_id, unsubscribe_token=secrets.token_urlsafe(24))
    session.add(consent)
    session.flush()
    audit.record_event(session, actor, "marketing.consent_recorded", subject_type="marketing_consent",
                       subject_id=consent.id, details={"channel": channel, "source": source})
    return consent


def revoke_marketing_consent(session: Session, actor: Actor, *, channel: str, recipient: str,
                             source: str) -> int:
    """Stop promotional messages to this address on this channel, at once; returns consents revoked."""
    recipient = normalise_recipient(channel, recipient) if channel == "email" else recipient
    if (actor.is_family or actor.is_instructor) and recipient.lower() not in _own_addresses(session, actor):
        raise Forbidden("You can only unsubscribe your own number or address.")
    if actor.is_visitor:
        raise Forbidden("Use the unsubscribe link in the message.")
    ids = list(session.execute(sa.text(
        "UPDATE marketing_consents SET revoked_at = GREATEST(now(), granted_at), revoked_source = :s "
        "WHERE channel = :c AND lower(recipient) = lower(:r) AND revoked_at IS NULL RETURNING id"),
        {"s": source, "c": channel, "r": recipient}).scalars())
    for obj in list(session.identity_map.values()):  # loaded copies must not show them as live
        if isinstance(obj, MarketingConsent) and obj.id in ids:
            session.expire(obj)
    for consent_id in ids:
        audit.record_event(session, actor, "marketing.consent_revoked", subject_type="marketing_consent",
                           subject_id=consent_id, details={"channel": channel, "source": source})
    return len(ids)


def unsubscribe_by_token(session: Session, token: str) -> dict:
    """The one-click link in a marketing email: revoke that consent (and any other for the same address)."""
    consent = session.exec(select(MarketingConsent).where(MarketingConsent.unsubscribe_token == (token or ""))).first()
    if consent is None or not token:
        raise NotFound("That unsubscribe link is not valid.")
    from nexdrive.services.core.actors import SYSTEM
    revoked = revoke_marketing_consent(session, SYSTEM, channel=consent.channel, recipient=consent.recipient,
                                       source="unsubscribe_link")
    return {"channel": consent.channel, "recipient": consent.recipient, "revoked": revoked}
