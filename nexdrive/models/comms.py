"""Communication: conversations, messages, call_logs, notifications,
notification_preferences, marketing_consents and the transactional outbox.

Outbound SMS/email is written to ``outbox_messages`` in the same transaction as
the change that caused it (docs/decisions/0005-outbox-and-offline-adapters.md); a dispatcher claims ``pending`` rows
with ``FOR UPDATE SKIP LOCKED``, retries with backoff and records the
provider's message id. ``idempotency_key`` stops a message being queued twice.
Marketing messages (``is_marketing``) need a live row in ``marketing_consents``;
an SMS "STOP" revokes it at once (docs/decisions/0009-messages-and-consent.md).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import SQLModel

from nexdrive.models.base import (
    bool_field,
    check,
    check_in,
    created_at_field,
    fk_field,
    int_field,
    jsonb_field,
    numeric_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_field,
    uuid_pk,
)

CONVERSATION_CHANNELS = ("sms", "web_chat", "voice")
CONVERSATION_MODES = ("prospect", "student", "parent")
CONVERSATION_STATUSES = ("active", "handoff_requested", "closed")
MESSAGE_DIRECTIONS = ("inbound", "outbound")
SENDER_TYPES = ("user", "ai", "system", "staff")  # staff: the owner's inbox replies (0020)
CALL_DIRECTIONS = ("inbound", "outbound")
CALL_OUTCOMES = ("answered", "voicemail", "missed", "failed")
CALL_RESOLUTIONS = (
    "resolved",
    "booking_made",
    "message_taken",
    "callback_scheduled",
    "transferred",
    "hung_up",
)
NOTIFICATION_CHANNELS = ("email", "sms", "push", "in_app")
NOTIFICATION_STATUSES = ("pending", "sent", "delivered", "failed", "bounced")
PREFERENCE_CHANNELS = ("email", "sms", "push", "in_app")
MARKETING_CHANNELS = ("sms", "email")
OUTBOX_CHANNELS = ("sms", "email", "in_app")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "suppressed")
OFFLINE_DELIVERY_CHANNELS = ("sms", "email")


class Conversation(SQLModel, table=True):
    """An SMS / web chat / voice thread."""

    __tablename__ = "conversations"
    __table_args__ = (
        sa.Index("idx_conv_contact", "contact_id"),
        sa.Index("idx_conv_channel", "channel", "channel_identifier"),
        sa.Index("idx_conv_status", "status"),
        check_in("channel", CONVERSATION_CHANNELS),
        check_in("mode", CONVERSATION_MODES),
        check_in("status", CONVERSATION_STATUSES),
    )

    id: uuid.UUID = uuid_pk()
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id", index=False)
    user_id: Optional[uuid.UUID] = fk_field("users.id")
    channel: str = text_field(nullable=False)
    channel_identifier: Optional[str] = text_field()  # phone number or chat session id
    mode: str = text_field(nullable=False, default="prospect")
    status: str = text_field(nullable=False, default="active")
    handoff_reason: Optional[str] = text_field()
    started_at: datetime = ts_field(nullable=False, server_now=True)
    last_message_at: datetime = ts_field(nullable=False, server_now=True)
    message_count: int = int_field(nullable=False, default=0)
    # What the assistant waits for in this thread: times offered, the hold made (0013).
    assistant_state: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("idx_messages_conversation", "conversation_id"),
        sa.Index("idx_messages_created", "created_at"),
        sa.Index(
            "idx_messages_external_id",
            "external_id",
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
        check_in("direction", MESSAGE_DIRECTIONS),
        check_in("sender_type", SENDER_TYPES),
        check("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", "confidence"),
    )

    id: uuid.UUID = uuid_pk()
    conversation_id: uuid.UUID = fk_field("conversations.id", nullable=False, index=False)
    direction: str = text_field(nullable=False)
    sender_type: str = text_field(nullable=False)
    content: str = text_field(nullable=False)
    rag_sources: Optional[list[dict[str, Any]]] = jsonb_field()
    confidence: Optional[Decimal] = numeric_field(3, 2)
    intent_detected: Optional[str] = text_field()
    external_id: Optional[str] = text_field()  # Twilio message SID
    delivery_status: Optional[str] = text_field()
    created_at: datetime = created_at_field()


class CallLog(SQLModel, table=True):
    """A voice-agent call."""

    __tablename__ = "call_logs"
    __table_args__ = (
        sa.Index("idx_calls_contact", "contact_id"),
        sa.Index("idx_calls_caller_phone", "caller_phone"),
        sa.Index("idx_calls_started", "started_at"),
        sa.Index(
            "idx_calls_requires_callback",
            "requires_callback",
            postgresql_where=sa.text("requires_callback = true"),
        ),
        sa.Index(
            "uq_call_logs_external_call_id",
            "voice_provider",
            "external_call_id",
            unique=True,
            postgresql_where=sa.text("external_call_id IS NOT NULL"),
        ),
        check_in("call_direction", CALL_DIRECTIONS),
        check_in("outcome", CALL_OUTCOMES),
        check_in("resolution", CALL_RESOLUTIONS),
        check("duration_seconds IS NULL OR duration_seconds >= 0", "duration_seconds"),
    )

    id: uuid.UUID = uuid_pk()
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id", index=False)
    conversation_id: Optional[uuid.UUID] = fk_field("conversations.id")
    caller_phone: str = text_field(nullable=False)
    call_direction: str = text_field(nullable=False, default="inbound")
    started_at: datetime = ts_field(nullable=False)
    ended_at: Optional[datetime] = ts_field()
    duration_seconds: Optional[int] = int_field()
    outcome: str = text_field(nullable=False, default="answered")
    resolution: Optional[str] = text_field()
    transcript: Optional[str] = text_field()
    summary: Optional[str] = text_field()
    caller_name: Optional[str] = text_field()
    caller_reason: Optional[str] = text_field()
    voice_provider: Optional[str] = text_field()  # 'vapi', ...
    external_call_id: Optional[str] = text_field()
    requires_callback: bool = bool_field(default=False)
    callback_scheduled_at: Optional[datetime] = ts_field()
    callback_completed_at: Optional[datetime] = ts_field()
    created_at: datetime = created_at_field()


class Notification(SQLModel, table=True):
    """A notification to a person (the in-app feed and the delivery log)."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("idx_notif_recipient", "recipient_id"),
        sa.Index("idx_notif_status", "status"),
        sa.Index("idx_notif_type", "notification_type"),
        check_in("channel", NOTIFICATION_CHANNELS),
        check_in("status", NOTIFICATION_STATUSES),
    )

    id: uuid.UUID = uuid_pk()
    recipient_id: Optional[uuid.UUID] = fk_field("users.id", index=False)
    recipient_contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    recipient_phone: Optional[str] = text_field()
    recipient_email: Optional[str] = text_field()
    channel: str = text_field(nullable=False)
    notification_type: str = text_field(nullable=False)  # booking_confirmation, ...
    subject: Optional[str] = text_field()
    body: str = text_field(nullable=False)
    status: str = text_field(nullable=False, default="pending")
    external_id: Optional[str] = text_field()
    sent_at: Optional[datetime] = ts_field()
    delivered_at: Optional[datetime] = ts_field()
    failed_reason: Optional[str] = text_field()
    read_at: Optional[datetime] = ts_field()  # in-app feed
    triggered_by: Optional[str] = text_field()
    related_id: Optional[uuid.UUID] = uuid_field()  # booking_id, lesson_id, ...
    outbox_message_id: Optional[uuid.UUID] = fk_field("outbox_messages.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class NotificationPreference(SQLModel, table=True):
    """Per-user opt in/out of a notification type on a channel (absent row = default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id",
            "notification_type",
            "channel",
            name="uq_notification_preferences_user_type_channel",
        ),
        check_in("channel", PREFERENCE_CHANNELS),
    )

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = fk_field("users.id", nullable=False, ondelete="CASCADE", index=False)
    notification_type: str = text_field(nullable=False)
    channel: str = text_field(nullable=False)
    enabled: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class MarketingConsent(SQLModel, table=True):
    """Recorded consent to promotional messages on one channel/address.

    Live while ``revoked_at`` is NULL. ``recipient`` is the phone number
    (E.164) or email address the consent covers, so an inbound SMS "STOP" can
    revoke it without resolving a person first.
    """

    __tablename__ = "marketing_consents"
    __table_args__ = (
        sa.Index("ix_marketing_consents_channel_recipient", "channel", "recipient"),
        check_in("channel", MARKETING_CHANNELS),
        check("contact_id IS NOT NULL OR user_id IS NOT NULL", "who"),
        check("revoked_at IS NULL OR revoked_at >= granted_at", "revoked_after_granted"),
        sa.Index("uq_marketing_consents_unsubscribe_token", "unsubscribe_token", unique=True,
                 postgresql_where=sa.text("unsubscribe_token IS NOT NULL")),
    )

    id: uuid.UUID = uuid_pk()
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    user_id: Optional[uuid.UUID] = fk_field("users.id")
    channel: str = text_field(nullable=False)
    recipient: Optional[str] = text_field()
    granted_at: datetime = ts_field(nullable=False, server_now=True)
    source: str = text_field(nullable=False)  # 'booking_form', 'admin', ...
    consent_text: Optional[str] = text_field()  # wording the person agreed to
    revoked_at: Optional[datetime] = ts_field()
    revoked_source: Optional[str] = text_field()  # 'sms_stop', 'unsubscribe_link', ...
    # The secret in the one-click unsubscribe link of marketing emails (0006); revokes only this consent.
    unsubscribe_token: Optional[str] = text_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class OutboxMessage(SQLModel, table=True):
    """An outbound SMS / email / in-app message awaiting (or after) dispatch."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_messages_idempotency_key"),
        sa.Index(
            "ix_outbox_messages_pending_next_attempt",
            "next_attempt_at",
            "id",  # the claim's ORDER BY (migration 0012)
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_outbox_messages_status_created", "status", "created_at"),
        sa.Index(
            "ix_outbox_messages_provider_message_id",
            "provider_message_id",
            postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        ),
        # Claims a crashed dispatcher left behind (0006).
        sa.Index(
            "ix_outbox_messages_sending_claimed_at",
            "claimed_at",
            postgresql_where=sa.text("status = 'sending'"),
        ),
        check_in("channel", OUTBOX_CHANNELS),
        check_in("status", OUTBOX_STATUSES),
        check("attempts >= 0", "attempts"),
        check("segments IS NULL OR segments >= 0", "segments"),
    )

    id: uuid.UUID = uuid_pk()
    channel: str = text_field(nullable=False)
    recipient: str = text_field(nullable=False)  # E.164 phone, email address or user id
    subject: Optional[str] = text_field()
    body: str = text_field(nullable=False)
    template: Optional[str] = text_field()  # notification type / template name
    template_data: dict[str, Any] = jsonb_field(nullable=False, default="{}")
    user_id: Optional[uuid.UUID] = fk_field("users.id")
    contact_id: Optional[uuid.UUID] = fk_field("contacts.id")
    booking_id: Optional[uuid.UUID] = fk_field("bookings.id")
    related_type: Optional[str] = text_field()
    related_id: Optional[uuid.UUID] = uuid_field()
    status: str = text_field(nullable=False, default="pending")
    attempts: int = int_field(nullable=False, default=0)
    next_attempt_at: datetime = ts_field(nullable=False, server_now=True)
    claimed_at: Optional[datetime] = ts_field()  # when a dispatcher took it ('sending')
    claimed_by: Optional[str] = text_field()  # which dispatcher run holds the claim (0006)
    last_error: Optional[str] = text_field()
    provider_message_id: Optional[str] = text_field()
    idempotency_key: Optional[str] = text_field()
    is_marketing: bool = bool_field(default=False)
    segments: Optional[int] = int_field()  # SMS parts billed (GSM-7 160/153, UCS-2 70/67) (0006)
    provider_status: Optional[str] = text_field()  # latest status the provider reported (0006)
    redacted_at: Optional[datetime] = ts_field()  # when a secret link was removed from body (0006)
    created_at: datetime = created_at_field()
    sent_at: Optional[datetime] = ts_field()
    delivered_at: Optional[datetime] = ts_field()
    updated_at: datetime = updated_at_field()


class OfflineDelivery(SQLModel, table=True):
    """What the offline SMS/email adapters delivered: the stand-in for the recipient's phone or mailbox.

    One row per outbox message (UNIQUE), so a re-send after a crash is absorbed
    here (``send_requests`` counts how often a dispatcher asked) and the offline
    "provider" delivers exactly once.
    """

    __tablename__ = "offline_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("outbox_message_id", name="uq_offline_deliveries_outbox_message_id"),
        sa.UniqueConstraint("provider_message_id", name="uq_offline_deliveries_provider_message_id"),
        sa.Index("ix_offline_deliveries_created_at", "created_at"),
        check_in("channel", OFFLINE_DELIVERY_CHANNELS),
        check("send_requests >= 1", "send_requests"),
    )

    id: uuid.UUID = uuid_pk()
    outbox_message_id: uuid.UUID = fk_field("outbox_messages.id", nullable=False, ondelete="CASCADE",
                                            index=False)
    channel: str = text_field(nullable=False)
    recipient: str = text_field(nullable=False)
    subject: Optional[str] = text_field()
    body: str = text_field(nullable=False)
    attachments: list[dict[str, Any]] = jsonb_field(nullable=False, default="[]")
    segments: Optional[int] = int_field()
    provider_message_id: str = text_field(nullable=False)
    send_requests: int = int_field(nullable=False, default=1)
    last_requested_at: datetime = ts_field(nullable=False, server_now=True)
    created_at: datetime = created_at_field()
