"""How the production build's pages and assets are delivered (issue 17): no redirect, long-lived caching.

In production (``manage.py serve``: ``reflex run --env prod --single-port``) Reflex serves the compiled
frontend from ``.web/build/client`` with Starlette's StaticFiles, wrapped by the HTTP app's middleware.
Two things cost a phone most of a second there:

* ``/book`` is the folder ``book/`` with an ``index.html``, and StaticFiles answers a folder without its
  slash with a redirect to ``/book/`` — one more round trip before anything paints, on every internal
  link and every sitemap entry. :class:`StaticDelivery` serves the folder's page at once instead (the
  request's path gets the slash before StaticFiles sees it; the address bar keeps ``/book``).
* The build's assets (``/assets/<name>-<hash>.js|css|...``) carry a content hash in their names, so
  they never change: they are sent with ``Cache-Control: public, max-age=31536000, immutable``.
  Pages themselves stay revalidated (``no-cache``), so a new release is picked up at once.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nexdrive.settings import PROJECT_ROOT

IMMUTABLE = "public, max-age=31536000, immutable"
# Vite/React Router output: name-<8+ url-safe hash chars>.<ext>, e.g. /assets/_book_._index-DHoXPXC4.js
_HASHED_ASSET = re.compile(r"^/assets/.+-[A-Za-z0-9_-]{8,}\.(?:js|mjs|css|woff2?|ttf|svg|png|jpe?g|webp|avif)$")
# Dynamic routes (``/blog/[slug]``): no page file per address, so the build's SPA shell answers with 200 (not
# the 404 page) and the client router renders the post; a draft or unknown slug shows "Post not found".
_DYNAMIC_PAGE = re.compile(r"^/blog/[a-z0-9]+(?:-[a-z0-9]+)*/?$")
SPA_SHELL = "__spa-fallback.html"
# Paths the app (not the static build) answers.
_APP_PREFIXES = ("/api/", "/_event", "/_upload", "/_health", "/ping", "/_all_routes", "/assets/")


def static_dir() -> Path:
    """Where Reflex puts the compiled frontend (``REFLEX_WEB_WORKDIR``, default ``.web``)."""
    web = Path(os.environ.get("REFLEX_WEB_WORKDIR", ".web"))
    if not web.is_absolute():
        web = PROJECT_ROOT / web
    return web / "build" / "client"


class StaticDelivery:
    """ASGI middleware: serve ``/page`` as ``/page/`` when the build has ``page/index.html`` (no redirect),
    and mark hashed build assets immutable."""

    def __init__(self, app: ASGIApp, directory: Path | None = None):
        self.app = app
        self.directory = directory
        self._folders: dict[str, bool] = {}

    def _is_page_folder(self, path: str) -> bool:
        known = self._folders.get(path)
        if known is None:
            root = (self.directory or static_dir()).resolve()
            candidate = (root / path.strip("/") / "index.html").resolve()
            known = candidate.is_relative_to(root) and candidate.is_file()
            if len(self._folders) < 10_000:
                self._folders[path] = known
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if _HASHED_ASSET.match(path):
            async def send_immutable(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] in (200, 304):
                    MutableHeaders(scope=message)["Cache-Control"] = IMMUTABLE
                await send(message)
            await self.app(scope, receive, send_immutable)
            return
        if _DYNAMIC_PAGE.match(path) and (self.directory or static_dir()).joinpath(SPA_SHELL).is_file():
            shell = "/" + SPA_SHELL
            scope = dict(scope, path=shell, raw_path=shell.encode())

            async def send_shell(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    MutableHeaders(scope=message).setdefault("Cache-Control", "no-cache")
                await send(message)
            await self.app(scope, receive, send_shell)
            return
        if (path != "/" and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]
                and not path.startswith(_APP_PREFIXES) and self._is_page_folder(path)):
            scope = dict(scope, path=path + "/", raw_path=(path + "/").encode())

            async def send_page(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    headers = MutableHeaders(scope=message)
                    headers.setdefault("Cache-Control", "no-cache")
                await send(message)
            await self.app(scope, receive, send_page)
            return
        await self.app(scope, receive, send)
