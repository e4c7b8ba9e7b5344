"""Twilio webhooks: inbound SMS and delivery status (recorded payloads in ``webhooks/twilio/fixtures/``).

Both Twilio endpoints check ``X-Twilio-Signature`` with the library's
``RequestValidator`` against the URL we gave Twilio — ``settings.public_url``
plus the path (and query) — never the Host the request claims. Without a
Twilio auth token (offline mode) there is no number that could text us, so
they refuse everything (403) rather than accept unsigned requests. Each
callback is recorded once in ``webhook_events`` (provider 'twilio') in the same
transaction as its effect (``core.inbound``): a replay changes nothing. Database work runs off the
event loop.
"""
from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from nexdrive.adapters.sms import INBOUND_PATH, STATUS_PATH
from nexdrive.db import get_engine, session_scope
from nexdrive.services.core import inbound
from nexdrive.services.messaging import dispatch
from nexdrive.services.ai import sms as sms_assistant
from nexdrive.settings import get_settings
from nexdrive.api.envelope import error_envelope

log = logging.getLogger("nexdrive.webhooks.sms")
router = APIRouter(tags=["sms"])
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _Refused(Exception):
    pass


async def _verified_form(request: Request, path: str):
    """The form Twilio posted, if its signature is right for our public URL; _Refused otherwise."""
    settings = get_settings()
    if not settings.twilio_auth_token:
        raise _Refused("SMS webhooks are off: no Twilio auth token is configured.")
    from twilio.request_validator import RequestValidator

    form = await request.form()
    url = settings.public_url + path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(settings.twilio_auth_token).validate(url, form, signature):
        raise _Refused("The Twilio signature does not match.")
    if settings.twilio_account_sid and form.get("AccountSid") != settings.twilio_account_sid:
        raise _Refused("This request is for another Twilio account.")
    return form


def _refused(exc: _Refused) -> JSONResponse:
    log.warning("Twilio webhook refused: %s", exc)
    return JSONResponse(status_code=403, content=error_envelope("FORBIDDEN", str(exc)))


def _twiml(background: BackgroundTask | None = None) -> Response:
    return Response(EMPTY_TWIML, media_type="application/xml", background=background)


def _send_now(ids: list[uuid.UUID]) -> None:
    """Send a reply straight away rather than at the next scheduled run (the dispatcher's usual guarantees)."""
    try:
        dispatch.dispatch_due(get_engine(), only_ids=ids, worker_id="sms-reply")
    except Exception:  # the scheduled run will pick it up
        log.exception("immediate dispatch of SMS replies failed")


@router.post(INBOUND_PATH.removeprefix("/api/v1"))
async def sms_inbound(request: Request):
    """Someone texted the school's number."""
    try:
        form = await _verified_form(request, INBOUND_PATH)
    except _Refused as exc:
        return _refused(exc)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        return JSONResponse(status_code=400, content=error_envelope("BAD_REQUEST", "MessageSid is missing."))
    event_id = f"inbound:{sid}"

    def handle():
        with session_scope() as session:
            if not inbound.claim(session, "twilio", event_id, "sms.inbound",
                                 {k: form.get(k) for k in ("MessageSid", "From", "To", "Body", "NumSegments")}):
                return None  # a replay: already handled
            result = sms_assistant.handle_inbound_sms(session, from_number=form.get("From", ""),
                                                      body=form.get("Body", ""), message_sid=sid)
            inbound.finish(session, "twilio", event_id)
            return result

    result = await run_in_threadpool(handle)
    background = BackgroundTask(_send_now, result.send_now) if result is not None and result.send_now else None
    return _twiml(background)


@router.post(STATUS_PATH.removeprefix("/api/v1"))
async def sms_status(request: Request):
    """Twilio reports what happened to a message we sent."""
    try:
        form = await _verified_form(request, STATUS_PATH)
    except _Refused as exc:
        return _refused(exc)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return JSONResponse(status_code=400, content=error_envelope("BAD_REQUEST", "MessageSid or status missing."))
    try:
        outbox_id = uuid.UUID(request.query_params.get("outbox", ""))
    except ValueError:
        outbox_id = None
    event_id = f"status:{sid}:{status}"

    def record():
        with session_scope() as session:
            if not inbound.claim(session, "twilio", event_id, "sms.status",
                                 {k: form.get(k) for k in ("MessageSid", "MessageStatus", "ErrorCode", "To")}):
                return
            outcome = dispatch.record_sms_status(session, message_sid=sid, status=status,
                                                 error_code=form.get("ErrorCode"), outbox_id=outbox_id)
            inbound.finish(session, "twilio", event_id, "processed" if outcome == "updated" else "ignored")

    await run_in_threadpool(record)
    return Response(status_code=204)
