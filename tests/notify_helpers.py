"""Shared set-up for notification tests: offline adapters bound to the test database, queued messages,
and a fake clock that moves forward."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from nexdrive.adapters.email import OutboxEmail
from nexdrive.adapters.sms import OutboxSms
from nexdrive.db import session_scope
from nexdrive.services.messaging import notify
from nexdrive.settings import get_settings

PUBLIC_URL = "https://school.example.com.au"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"


def offline(engine):
    settings = get_settings()
    return OutboxSms(settings, engine=engine), OutboxEmail(settings, engine=engine)


def later(minutes: float) -> datetime:
    """A clock this far ahead of the real one (the dispatcher's ``now``)."""
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def queue_many(engine, n: int, *, channel: str = "sms", template: str = "booking_confirmation", **extra) -> list:
    ids = []
    with session_scope(engine) as s:
        for i in range(n):
            recipient = f"+6141{i:07d}" if channel == "sms" else f"learner{i}@example.com"
            msg = notify.queue(s, channel=channel, recipient=recipient, template=template,
                               subject="Lesson booked" if channel == "email" else None,
                               body=f"NexDrive Academy: message {i}", idempotency_key=f"test:{uuid.uuid4()}",
                               **extra)
            ids.append(msg.id)
    return ids


def outbox(engine, ids=None) -> dict:
    with engine.connect() as conn:
        q = "SELECT * FROM outbox_messages" + (" WHERE id = ANY(:ids)" if ids is not None else "")
        return {r.id: r for r in conn.execute(sa.text(q), {"ids": list(ids or [])})}


def deliveries(engine) -> dict:
    with engine.connect() as conn:
        return {r.outbox_message_id: r for r in conn.execute(sa.text("SELECT * FROM offline_deliveries"))}
