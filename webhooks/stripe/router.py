"""Stripe's webhook: POST /api/v1/payments/webhook.

Verifies Stripe's signature on the raw body (Stripe's own library and tolerance) before anything is
read, answers 400 with nothing changed when it doesn't check out, and hands the event to
``payments.handle_gateway_event`` (idempotent on the event id, ``core.inbound``) off the event loop.
The local test-mode gateway feeds the same function with the same event shapes. Recorded payloads:
``webhooks/stripe/fixtures/``.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from nexdrive.adapters import get_adapter
from nexdrive.api.envelope import EnvelopeRoute, error_envelope, service_error_response
from nexdrive.db import session_scope
from nexdrive.errors import ServiceError
from nexdrive.services.money import payments

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"], route_class=EnvelopeRoute)
MAX_WEBHOOK_BYTES = 512 * 1024


def _process_event(event: dict, provider: str) -> str:
    try:
        with session_scope() as session:
            return payments.handle_gateway_event(session, event, provider=provider)
    except Exception as exc:
        with session_scope() as session:
            payments.record_event_failure(session, provider, event, f"{exc.__class__.__name__}: {exc}")
        raise


@router.post("/payments/webhook", summary="Payment gateway webhook (Stripe)", include_in_schema=True)
async def webhook(request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_WEBHOOK_BYTES:
        return JSONResponse(status_code=413, content=error_envelope("PAYLOAD_TOO_LARGE", "The body is too large."))
    gateway = get_adapter("payments")
    try:
        event = gateway.parse_webhook(raw, request.headers.get("stripe-signature"))
    except ServiceError as exc:
        return service_error_response(exc)
    try:
        result = await run_in_threadpool(_process_event, event, "stripe")
    except ServiceError as exc:
        return service_error_response(exc)
    except Exception:
        log.exception("payment webhook %s failed", event.get("id"))
        # 500 makes Stripe retry later; the event was not marked processed.
        return JSONResponse(status_code=500, content=error_envelope("WEBHOOK_FAILED", "Processing failed; retry."))
    return JSONResponse({"received": True, "result": result})
