"""The API's sync routes run at most the pool's number of threads at once per event loop (http_app.ThreadBudget)."""
from __future__ import annotations

import anyio
import anyio.to_thread

from nexdrive.http_app import _API_THREADS, ThreadBudget


def test_the_limiter_is_set_on_the_first_request_and_kept():
    seen = []

    async def app(scope, receive, send):
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)

    budget = ThreadBudget(app, tokens=_API_THREADS)

    async def main():
        before = anyio.to_thread.current_default_thread_limiter().total_tokens
        await budget({"type": "lifespan"}, None, None)  # not a request: untouched
        await budget({"type": "http"}, None, None)
        await budget({"type": "http"}, None, None)
        return before

    before = anyio.run(main)
    assert before == 40  # anyio's default
    assert seen == [40, _API_THREADS, _API_THREADS]
    assert _API_THREADS == 10  # the pool keeps 10 connections (db.make_engine)
