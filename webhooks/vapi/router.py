"""Vapi's server URL: the voice agent (recorded messages in ``webhooks/vapi/fixtures/``).

Every request must carry the server secret configured in Vapi (``X-Vapi-Secret``), compared in constant
time with ``VAPI_SECRET``; without a configured secret the endpoint refuses everything (403), so an
unauthenticated or forged request changes nothing. The body is bounded and must be Vapi's envelope
``{"message": {"type": ...}}``. Tool calls are answered by ``services.ai.voice`` once per tool-call id
(a replay gets the first answer); call status and end-of-call reports are idempotent on the call id.
Database work runs off the event loop.
"""
from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from nexdrive.api.envelope import error_envelope
from nexdrive.db import session_scope
from nexdrive.errors import ServiceError
from nexdrive.services.ai import voice
from nexdrive.settings import get_settings

log = logging.getLogger("nexdrive.webhooks.vapi")
router = APIRouter(tags=["voice"])
PATH = "/voice/vapi"
MAX_BODY = 256 * 1024


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    log.warning("Vapi request refused: %s", message)
    return JSONResponse(status_code=status, content=error_envelope(code, message))


@router.post(PATH)
async def vapi_server_message(request: Request):
    secret = get_settings().vapi_secret
    if not secret:
        return _refuse(403, "FORBIDDEN", "The voice agent is off: no Vapi secret is configured.")
    given = request.headers.get("x-vapi-secret", "")
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        return _refuse(403, "FORBIDDEN", "The Vapi secret does not match.")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _refuse(413, "PAYLOAD_TOO_LARGE", "The message is too large.")
    try:
        message = json.loads(raw).get("message")
    except (ValueError, AttributeError):
        message = None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return _refuse(400, "BAD_REQUEST", "Not a Vapi server message.")
    kind = message["type"]

    def handle():
        with session_scope() as session:
            if kind == "assistant-request":
                return voice.assistant_config(session)
            if kind == "tool-calls":
                return {"results": voice.tool_results(session, message)}
            if kind in ("status-update", "end-of-call-report"):
                voice.record_call(session, message)
                return {}
            return {}

    try:
        return JSONResponse(await run_in_threadpool(handle))
    except ServiceError as exc:
        return _refuse(exc.http_status, exc.code, exc.message)
