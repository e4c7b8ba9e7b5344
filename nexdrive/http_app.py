"""The FastAPI sub-app: one place that assembles every router under /api/v1 (ours in nexdrive/api/, the
providers' webhooks in webhooks/<provider>/)."""
from __future__ import annotations

import gc
import os

import anyio
from anyio.lowlevel import RunVar

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nexdrive.api import accounts, booking, health, inbox, invoices, lessons, logbook, payments, preferences
from nexdrive.api import certificates, content, error_reporting, instructor_tools, observability, portal, workstation
from nexdrive.api import reports as admin_reports
from nexdrive.settings import get_settings
from webhooks.stripe import router as stripe_webhook
from webhooks.twilio import router as twilio_webhooks
from webhooks.vapi import router as vapi_webhook
from nexdrive.api.edge import EdgeGuard, SecurityHeaders
from nexdrive.api.static_delivery import StaticDelivery
from nexdrive.api.envelope import error_envelope


_STATUS_CODES = {400: "BAD_REQUEST", 401: "AUTH_REQUIRED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 429: "RATE_LIMITED"}


def build_api() -> FastAPI:
    error_reporting.init_sentry()  # only with SENTRY_DSN set: before the app exists, so its integrations hook in
    api = FastAPI(
        title="NexDrive Academy API",
        version="1.0.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_request, exc: RequestValidationError):
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")}
                   for e in exc.errors()]
        return JSONResponse(
            status_code=422, content=error_envelope("VALIDATION_ERROR", "Some fields are not valid.", details)
        )

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return JSONResponse(status_code=exc.status_code, content=error_envelope(code, message))

    for module in (health, accounts, booking, invoices, payments, inbox, preferences, lessons, logbook, workstation,
                   instructor_tools, content, certificates, portal, admin_reports, stripe_webhook, twilio_webhooks,
                   vapi_webhook):
        api.include_router(module.router, prefix="/api/v1")
    api.include_router(certificates.public_router)  # /verify/<code>: the completion statement's QR code
    api.include_router(content.public_router)  # /blog/rss.xml and /sitemap.xml (with the published posts)
    api.include_router(observability.router)  # GET /metrics (Prometheus text format)
    observability.configure_logging()  # JSON log lines when NEXDRIVE_LOG_FORMAT=json
    # Innermost: gzip bodies over 1 KB for clients that accept it (availability JSON shrinks ~25x; in
    # production this app wraps the pages' assets too). Bodies already encoded and event streams pass as is.
    api.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    # The production build's pages without a trailing-slash redirect; hashed assets cached for a year.
    api.add_middleware(StaticDelivery)
    # Outermost last: security headers on every response, then the input guard and catch-all for /api/.
    api.add_middleware(EdgeGuard)
    # Only our own site (and CORS_ORIGINS) may read responses with credentials; Reflex adds the same
    # policy from rxconfig.cors_allowed_origins around the whole app.
    api.add_middleware(CORSMiddleware, allow_origins=get_settings().allowed_origins, allow_credentials=True,
                       allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                       allow_headers=["Content-Type", "Authorization", "X-Manage-Token", "Idempotency-Key"])
    api.add_middleware(SecurityHeaders)
    # Outermost: a request id on every request and its log lines, latency for /metrics.
    api.add_middleware(observability.RequestContext, routes=api.router.routes)
    api.add_middleware(BookingBudget,
                       tokens=int(os.environ.get("NEXDRIVE_BOOKING_CONCURRENCY") or _BOOKING_CONCURRENCY))
    _freeze_startup_heap()
    return api


_frozen = False


def _freeze_startup_heap() -> None:
    """Move everything built so far (the modules, the app, the models: ~270,000 objects) out of the cyclic
    garbage collector's sight, once per process. Every full collection walked them all: ~11% of a booking
    request's CPU went to the collector, ~1.5% after (``scripts/cpu_per_booking.py``, docs/performance.md)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


# The booking API's routes are sync: each runs in anyio's thread pool (40 threads per process) and holds a database
# connection, perhaps an instructor's lock, while its thread waits for the GIL. Under a burst that is more threads
# than the pool keeps connections for (10; the rest are opened and closed per request, each a new PostgreSQL backend
# with cold caches) and than one GIL can serve. So at most this many booking requests run at once per process; the
# rest wait in the event loop, holding nothing. Only the booking routes: the thread pool itself stays as it is for
# the pages' assets, the webhooks (an SMS assistant's reply waits on the LLM) and every other route.
_BOOKING_CONCURRENCY = 10
_BOOKING_PATHS = ("/api/v1/booking/", "/api/v1/bookings")
_booking_limiter: RunVar[anyio.CapacityLimiter] = RunVar("nexdrive_booking_limiter")


class BookingBudget:
    """ASGI middleware: at most ``tokens`` requests to the booking API in flight per event loop (``0`` = no limit;
    ``NEXDRIVE_BOOKING_CONCURRENCY`` sets it)."""

    def __init__(self, app, tokens: int):
        self.app, self.tokens = app, tokens

    async def __call__(self, scope, receive, send):
        if self.tokens <= 0 or scope["type"] != "http" or not scope["path"].startswith(_BOOKING_PATHS):
            await self.app(scope, receive, send)
            return
        try:
            limiter = _booking_limiter.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.tokens)
            _booking_limiter.set(limiter)
        async with limiter:
            await self.app(scope, receive, send)
