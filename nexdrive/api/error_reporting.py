"""Operations (C23): optional error reporting to Sentry through its SDK.

:func:`init_sentry` is called once by ``nexdrive/http_app.py: build_api`` (the wiring). With no ``SENTRY_DSN``
it does nothing at all (the SDK is never initialised, nothing leaves the machine). With one, the SDK starts with
the Starlette/FastAPI integrations, the environment (``NEXDRIVE_ENV``) and the release (``SENTRY_RELEASE``, else
``nexdrive@<version>``), ``send_default_pii=False`` and :func:`scrub_event` as ``before_send``: every event is
tagged with the request's ``X-Request-ID`` and has email addresses and phone numbers replaced wherever they
appear (messages, exception values, breadcrumbs, request data, extras, local variables).
"""
from __future__ import annotations

import re
import tomllib
from typing import Any

from nexdrive.api.observability import request_id
from nexdrive.settings import PROJECT_ROOT, Settings, get_settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Australian numbers (mobiles 04xx, landlines 0[2378], +61 ...) and any other run of 8+ digits with separators.
PHONE = re.compile(r"(?<![\w.])(?:(?:\+?61[ -]?|\(?0)[2-478]\)?(?:[ -]?\d){8}|\+\d(?:[ -]?\d){7,14})(?!\w)")
_SENSITIVE_KEYS = re.compile(r"email|phone|mobile|password|token|secret|authorization|cookie", re.I)
_FILTERED = "[Filtered]"
# The SDK's own bookkeeping: ids, times and versions, never personal (and hex ids may look like digits).
_KEEP = frozenset({"event_id", "timestamp", "start_timestamp", "release", "environment", "sdk", "platform",
                   "level", "tags", "trace_id", "span_id", "parent_span_id", "modules"})

_initialised = False


def scrub_text(text: str) -> str:
    return PHONE.sub("[phone]", EMAIL.sub("[email]", text))


def _scrub_item(key: Any, value: Any, depth: int) -> Any:
    if key in _KEEP:
        return value
    if isinstance(key, str) and _SENSITIVE_KEYS.search(key) and isinstance(value, (str, int)):
        return _FILTERED
    return _scrub(value, depth + 1)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub_item(k, v, depth) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v, depth + 1) for v in value)
    return value


def scrub_event(event: dict, _hint: dict | None = None) -> dict:
    """``before_send``: the request id as a tag; emails and phone numbers out of everything sent."""
    rid = request_id.get()
    if rid:
        tags = event.get("tags")
        if isinstance(tags, list):  # the SDK may hold tags as [key, value] pairs
            tags = dict(tags)
        event["tags"] = {**(tags or {}), "request_id": rid}
    event.pop("user", None)  # never who it was: the request id leads to the log lines
    return _scrub(event)


def _release() -> str:
    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as f:
            return "nexdrive@" + tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "nexdrive@unknown"


def init_sentry(settings: Settings | None = None, *, transport: Any = None) -> bool:
    """Start the Sentry SDK once when a DSN is set; True if it is (now or already) initialised.

    ``transport`` is for tests (the SDK's own Transport hook: envelopes captured, no network)."""
    global _initialised
    settings = settings or get_settings()
    if not settings.sentry_dsn:
        return False
    if _initialised:
        return True
    import sentry_sdk
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=settings.sentry_release or _release(),
        send_default_pii=False,
        before_send=scrub_event,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        default_integrations=True,
        integrations=[StarletteIntegration(), FastApiIntegration()],
        **options,
    )
    _initialised = True
    return True


def reset_for_tests() -> None:
    """Forget the SDK (tests initialise it with their own transport, then stop it)."""
    global _initialised
    import sentry_sdk

    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)
    _initialised = False


__all__ = ["init_sentry", "reset_for_tests", "scrub_event", "scrub_text"]
