"""Telling the school's administrators something: an email through the outbox and an in-app notification.

Used by the scheduled jobs (daily digest, chain-break alerts, callback
follow-ups). Every alert has a ``key``; sending the same key again adds
nothing, so a re-run job never doubles a message.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.messaging import inbox
from nexdrive.services.messaging import notify


@dataclass(frozen=True)
class Admin:
    user_id: uuid.UUID | None
    email: str | None
    first_name: str


def admins(session: Session) -> list[Admin]:
    """Active administrators; with none yet, the business e-mail address from the settings."""
    rows = session.execute(sa.text("""
        SELECT u.id, u.email, COALESCE(p.first_name, '') AS first_name
        FROM users u LEFT JOIN profiles p ON p.user_id = u.id
        WHERE u.role = 'admin' AND u.status = 'active' ORDER BY u.created_at""")).all()
    found = [Admin(r.id, r.email, r.first_name) for r in rows]
    if found:
        return found
    email = session.execute(sa.text("SELECT email FROM business_settings WHERE id = 1")).scalar()
    return [Admin(None, email, "")] if email else []


def _lock(session: Session, key: str) -> None:
    # Two runs racing on one key (a manual run beside a scheduled one) queue here.
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "admin_alert:" + key})


def alert_admins(session: Session, *, key: str, notification_type: str, data: dict,
                 related_id: uuid.UUID | None = None, template_data: dict | None = None) -> int:
    """Email and in-app note to every administrator, once per ``key``; returns how many were new.

    The words are template ``notification_type`` (message_templates) filled with ``data``."""
    _lock(session, key)
    added = 0
    notice = notify.render_message(session, notification_type, data)
    for admin in admins(session):
        who = str(admin.user_id) if admin.user_id else (admin.email or "")
        if admin.email:
            idem = f"{key}:email:{who}"
            exists = session.execute(sa.text("SELECT 1 FROM outbox_messages WHERE idempotency_key = :k"),
                                     {"k": idem}).first()
            if not exists:
                notify.queue_message(session, notification_type, data=data, channels=("email",),
                                     to={"email": admin.email, "user_id": admin.user_id,
                                         "first_name": admin.first_name},
                                     related_type=notification_type, related_id=related_id,
                                     idempotency_key={"email": idem}, template_data=template_data or {})
                added += 1
        if admin.user_id is not None:
            before = session.execute(
                sa.text(
                    "SELECT count(*) FROM notifications "
                    "WHERE recipient_id = :u AND channel = 'in_app' AND triggered_by = :k"
                ),
                {"u": admin.user_id, "k": key},
            ).scalar_one()
            inbox.post_notification(session, user_id=admin.user_id, notification_type=notification_type,
                                    subject=notice.subject, body=notice.in_app, related_id=related_id,
                                    dedupe_key=key)
            added += 0 if before else 1
    session.flush()
    return added
