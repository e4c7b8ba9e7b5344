"""In-process events: how one domain reacts to another without importing it.

A publisher names what happened; each subscriber runs in the publisher's transaction
(same session), so the reaction commits or rolls back with the change that caused it.
Subscribers register at import; ``SUBSCRIBERS`` lists the modules that do, so they are
always loaded before the first event whoever the caller is (page, API, SMS, job, test).
See docs/decisions/0006-events-between-domains.md.
"""
from __future__ import annotations

import importlib
from collections import defaultdict
from typing import Any, Callable

# The modules whose import registers subscribers (the one wiring place).
SUBSCRIBERS = (
    "nexdrive.services.money.payments",  # booking.cancelled, booking.fee_waived -> refunds and package credits
    "nexdrive.services.scheduling.ics",  # email.attachments -> the lesson's calendar file
)

_handlers: dict[str, list[Callable[..., Any]]] = defaultdict(list)
_loaded = False


def subscribe(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: run the function whenever ``event`` is published."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn not in _handlers[event]:
            _handlers[event].append(fn)
        return fn
    return register


def publish(event: str, **payload: Any) -> list[Any]:
    """Run every subscriber of ``event`` in order; return their results (exceptions propagate)."""
    global _loaded
    if not _loaded:
        for module in SUBSCRIBERS:
            importlib.import_module(module)
        _loaded = True
    return [handler(**payload) for handler in list(_handlers.get(event, ()))]
