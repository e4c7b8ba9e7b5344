"""Provider callbacks (Stripe, Twilio, Vapi) are processed once: one record per (provider, event id).

Claim the event in the transaction that acts on it, then finish it there too: a replay of a
processed event is skipped; a delivery that failed (rolled back, or noted by
``record_failure``) is taken again when the provider retries. See docs/decisions/0005.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def claim(session: Session, provider: str, event_id: str, event_type: str | None, payload: Any) -> bool:
    """Record the event once. False when it was already processed (a duplicate, maybe concurrent)."""
    claimed = session.execute(sa.text("""
        INSERT INTO webhook_events (provider, event_id, event_type, payload, status, attempts)
        VALUES (:p, :e, :t, CAST(:payload AS jsonb), 'processing', 1)
        ON CONFLICT (provider, event_id) DO UPDATE SET attempts = webhook_events.attempts + 1,
            status = 'processing'
        WHERE webhook_events.status NOT IN ('processed', 'ignored')
        RETURNING id"""), {"p": provider, "e": event_id, "t": event_type, "payload": _json(payload)}).scalar()
    return claimed is not None


def finish(session: Session, provider: str, event_id: str, status: str = "processed") -> None:
    session.execute(sa.text("UPDATE webhook_events SET status = :s, processed_at = now(), last_error = NULL "
                            "WHERE provider = :p AND event_id = :e"), {"s": status, "p": provider, "e": event_id})


def record_failure(session: Session, provider: str, event_id: str | None, event_type: str | None, payload: Any,
                   error: str) -> None:
    """Note a failed delivery (in its own transaction) so the retry is visible; the provider will resend."""
    session.execute(sa.text("""
        INSERT INTO webhook_events (provider, event_id, event_type, payload, status, attempts, last_error)
        VALUES (:p, :e, :t, CAST(:payload AS jsonb), 'failed', 1, :err)
        ON CONFLICT (provider, event_id) DO UPDATE SET status = 'failed', last_error = :err
        WHERE webhook_events.status NOT IN ('processed', 'ignored')"""),
        {"p": provider, "e": event_id, "t": event_type, "payload": _json(payload), "err": error[:500]})
