"""The HTTP edge: what every request has to get past before a router sees it, and what every response carries.

* :class:`StrictInput` — the base of every request body: no unknown fields, no NUL/control characters
  or lone surrogates in any string (PostgreSQL cannot store them), integers within 32 bits, dates
  between 1900 and 2100. A breach is a 422 VALIDATION_ERROR naming the field.
* :data:`SaneDate`, :data:`Offset`, :data:`SeqNumber` — the same bounds for query parameters.
* :class:`EdgeGuard` — ASGI middleware for ``/api/``: control characters in the path or query are a 422,
  a body over :data:`MAX_BODY_BYTES` a 413, JSON nested deeper than :data:`MAX_JSON_DEPTH` a 422, all
  before anything is parsed; and an exception nobody handled becomes the 500 envelope (and is logged)
  instead of a plain-text "Internal Server Error".
* :class:`SecurityHeaders` — CSP, frame-ancestors, nosniff, referrer policy, HSTS on https, on every
  response (pages, the Reflex backend and the API: the sub-app wraps all of them in production).
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from nexdrive.settings import get_settings

log = logging.getLogger("nexdrive.edge")

DOCS_PATH = "/api/v1/docs"
MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)

# C0 controls except tab, newline, carriage return; DEL; C1 controls; lone UTF-16 surrogates.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# In a URL path or query nothing below space is legitimate.
_BAD_URL_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    if _BAD_TEXT.search(value):
        return "Contains control characters that aren't allowed."
    return None


def _check_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise PydanticCustomError("control_characters", problem)
    elif isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise PydanticCustomError("int_range", "The number is out of range.")
    elif isinstance(value, date):
        day = value if type(value) is date else value.date()
        if not MIN_DATE <= day <= MAX_DATE:
            raise PydanticCustomError("date_range", "Use a date between 1900 and 2100.")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_value(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key)
            _check_value(item)
    return value


class StrictInput(BaseModel):
    """Base of request bodies: unknown fields, control characters, huge numbers and absurd dates are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _sane(cls, value: Any) -> Any:
        return _check_value(value)


def _sane_date(value: date | None) -> date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise PydanticCustomError("date_range", "Use a date between 1900 and 2100.")
    return value


SaneDate = Annotated[date, AfterValidator(_sane_date)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
PageLimit = Annotated[int, Query(ge=1, le=500)]
SeqNumber = Annotated[int, Query(ge=0, le=MAX_BIGINT)]


# ─────────────────────────────────────────────────────────────────────────────
# ASGI middleware
# ─────────────────────────────────────────────────────────────────────────────


def _envelope_bytes(code: str, message: str, details: Any = None) -> bytes:
    body: dict = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return json.dumps(body).encode()


async def send_envelope(send, status: int, code: str, message: str, details: Any = None,
                        headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = _envelope_bytes(code, message, details)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"), *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deeply the JSON document nests (strings ignored), without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for ch in brackets:
        if ch in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class EdgeGuard:
    """Refuses hostile requests to ``/api/`` before parsing; turns unhandled errors into the 500 envelope."""

    def __init__(self, app, prefix: str = "/api/"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        query = unquote(scope.get("query_string", b"").decode("latin-1").replace("+", " "), errors="replace")
        if _BAD_URL_TEXT.search(path) or _BAD_URL_TEXT.search(query):
            return await send_envelope(send, 422, "VALIDATION_ERROR",
                                       "The address contains control characters that aren't allowed.")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return await send_envelope(send, 413, "PAYLOAD_TOO_LARGE", "The request body is too large.")
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                return await send_envelope(send, 413, "PAYLOAD_TOO_LARGE", "The request body is too large.")
        raw = bytes(body)
        if raw.lstrip()[:1] in (b"[", b"{") and json_depth(raw) > MAX_JSON_DEPTH:
            return await send_envelope(send, 422, "VALIDATION_ERROR", "The request body is nested too deeply.")

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracking_send)
        except Exception as exc:
            from sqlalchemy.exc import DataError

            if started:
                raise
            if isinstance(exc, DataError):
                # A value the database refused (out of range, bad encoding): the caller's input, not our fault.
                log.warning("%s %s: value refused by the database: %s", scope.get("method"), path, exc.orig)
                return await send_envelope(send, 422, "VALIDATION_ERROR", "A value in the request is not valid.")
            log.exception("%s %s failed", scope.get("method"), path)
            await send_envelope(send, 500, "INTERNAL_ERROR",
                                "Something went wrong on our side. Please try again; if it keeps happening, "
                                "call NexDrive Academy.")


def content_security_policy(docs: bool = False) -> str:
    """As strict as a Reflex 0.10 production build allows.

    Reflex's runtime evaluates server-sent scripts (``rx.call_script``) with ``eval`` and the build inlines
    its hydration scripts, so scripts need 'unsafe-inline' 'unsafe-eval'; Emotion/Radix inject styles.
    Everything is loaded from our own origin; the only socket is the Reflex backend's, on our own host.
    """
    public = urlsplit(get_settings().public_url)
    ws = f"{'wss' if public.scheme == 'https' else 'ws'}://{public.netloc}"
    if docs:  # FastAPI's Swagger UI loads its script, styles and logo from public CDNs
        return "; ".join(["default-src 'self'", "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
                          "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
                          "img-src 'self' data: https://fastapi.tiangolo.com", "object-src 'none'",
                          "base-uri 'self'", "frame-ancestors 'none'"])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' {ws}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """Adds the security headers to every HTTP response passing through."""

    def __init__(self, app):
        self.app = app

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-security-policy", content_security_policy(docs=path == DOCS_PATH).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        if get_settings().public_url.startswith("https://"):
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        return headers

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self._headers(scope.get("path", ""))
        names = {name for name, _ in extra}

        async def with_headers(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
