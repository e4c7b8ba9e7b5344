import os

import reflex as rx

from nexdrive.offline import WorkstationOfflinePlugin
from nexdrive.settings import get_settings

config = rx.Config(
    app_name="nexdrive",
    # The database is ours (SQLModel + Alembic, nexdrive/db.py); Reflex's own db tooling is unused.
    frontend_port=int(os.environ.get("FRONTEND_PORT", "3000")),
    backend_port=int(os.environ.get("BACKEND_PORT", "8000")),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        # nexdrive.first_paint.FirstPaintPlugin (critical CSS inline, scripts after the first paint) is switched off:
        # menus and the chat button were dead until hydration and taps on them were lost (docs/performance.md).
        WorkstationOfflinePlugin(),  # the instructor workstation's service worker (sw.js)
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium"),
        ),
    ],
    redis_url=os.environ.get("REDIS_URL") or None,
    deploy_url=os.environ.get("PUBLIC_URL", "http://localhost:3000"),
    # Never "*": with credentials Starlette would reflect any Origin. PUBLIC_URL's origin plus CORS_ORIGINS.
    cors_allowed_origins=get_settings().allowed_origins,
)
