"""Operations (C23): a request id on every HTTP request, structured JSON log lines, and ``/metrics``.

* :class:`RequestContext` (ASGI middleware): takes the caller's ``X-Request-ID`` (if sane) or makes one,
  returns it in the response header, keeps it in a context variable for every log line written while
  the request runs, records the request's latency for ``/metrics`` (by route template, never raw ids)
  and logs one ``http.request`` line; with ``NEXDRIVE_INSTANCE`` set, ``X-Served-By`` names the process.
* :func:`configure_logging`: with ``NEXDRIVE_LOG_FORMAT=json``, the root logger writes one JSON object
  per line (time in UTC, level, logger, message, request_id, and any ``extra`` fields).
* ``GET /metrics``: Prometheus text format (``services.reporting.metrics``); behind
  ``Authorization: Bearer $METRICS_TOKEN`` when that is set.
"""
from __future__ import annotations

import contextvars
import hmac
import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.routing import Match

from nexdrive.db import session_scope
from nexdrive.services.reporting import metrics
from nexdrive.settings import get_settings

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
log = logging.getLogger("nexdrive.http")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

router = APIRouter(tags=["operations"])


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={...}`` fields are kept, the request id added."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(fmt: str | None = None) -> bool:
    """JSON log lines on the root logger when asked (``NEXDRIVE_LOG_FORMAT=json``); True if configured."""
    if (fmt or get_settings().log_format).lower() != "json":
        return False
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_nexdrive_json", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._nexdrive_json = True  # type: ignore[attr-defined]
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return True


def _route_template(scope, routes) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:  # the route as declared in its router; add the prefix it was included under
        included = (scope.get("fastapi") or {}).get("included_router")
        prefix = getattr(getattr(included, "include_context", None), "prefix", "") or ""
        if not prefix and scope.get("path", "").startswith("/api/v1/") and not path.startswith("/api/"):
            prefix = "/api/v1"
        return prefix + path
    for candidate in routes or ():
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # a mount or an odd route: not ours to name
            continue
        if match == Match.FULL and getattr(candidate, "path", None):
            return candidate.path
    raw = scope.get("path", "")
    if raw.startswith("/api/"):
        return "/api/(unmatched)"
    return "/(page or asset)"  # the pages and the build's files: one series, not one per address


class RequestContext:
    """ASGI middleware: request id, latency for /metrics, one log line per request."""

    def __init__(self, app, routes=None):
        self.app = app
        self.routes = routes  # the app's route list, to name a request by its route template

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = {"code": 500}
        served_by = get_settings().instance_name.encode("latin-1", "replace")

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode("latin-1")))
                if served_by:  # which of several app processes answered (NEXDRIVE_INSTANCE)
                    headers.append((b"x-served-by", served_by))
                message = {**message, "headers": headers}
            await send(message)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope, self.routes)
            metrics.observe_request(scope.get("method", "GET"), route, status["code"], elapsed)
            if scope.get("path", "").startswith("/api/") or status["code"] >= 500:
                log.info("http.request", extra={"method": scope.get("method"), "route": route,
                                                "status": status["code"], "duration_ms": round(elapsed * 1000, 1)})
            request_id.reset(token)


def _authorised(request: Request) -> bool:
    token = get_settings().metrics_token
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request) -> PlainTextResponse:
    # A sync endpoint: FastAPI runs it in its thread pool, so the queries never block the event loop.
    if not _authorised(request):
        return PlainTextResponse("unauthorised\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    with session_scope() as session:
        body = metrics.exposition(session)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


__all__ = ["JsonFormatter", "RequestContext", "configure_logging", "request_id", "router"]
