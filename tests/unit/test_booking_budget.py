"""At most N booking requests run at once per process (http_app.BookingBudget); other routes are never held."""
from __future__ import annotations

import anyio
import anyio.to_thread

from nexdrive.http_app import _BOOKING_CONCURRENCY, BookingBudget


def _budgeted(tokens: int):
    state = {"now": 0, "peak": 0, "paths": []}

    async def app(scope, receive, send):
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        state["paths"].append(scope["path"])
        await anyio.sleep(0.01)
        state["now"] -= 1

    return BookingBudget(app, tokens=tokens), state


def _burst(budget, path: str, n: int) -> None:
    async def main():
        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(budget, {"type": "http", "path": path}, None, None)
    anyio.run(main)


def test_a_burst_of_booking_requests_runs_at_most_the_budget_at_once():
    budget, state = _budgeted(3)
    _burst(budget, "/api/v1/booking/reserve", 12)
    assert len(state["paths"]) == 12  # every request ran, in turn
    assert state["peak"] == 3


def test_other_routes_and_the_thread_pool_are_untouched():
    budget, state = _budgeted(3)
    _burst(budget, "/api/v1/webhooks/twilio/sms", 12)
    assert state["peak"] == 12

    async def limiter_tokens():
        await budget({"type": "http", "path": "/api/v1/bookings/upcoming"}, None, None)
        return anyio.to_thread.current_default_thread_limiter().total_tokens
    assert anyio.run(limiter_tokens) == 40  # anyio's default: the pages' assets and webhooks keep their threads


def test_zero_means_no_limit_and_the_default_is_the_pool_size():
    budget, state = _budgeted(0)
    _burst(budget, "/api/v1/booking/confirm", 12)
    assert state["peak"] == 12
    assert _BOOKING_CONCURRENCY == 10  # the pool keeps 10 connections (db.make_engine)
