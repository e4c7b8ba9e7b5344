import os

import reflex as rx

from nexdrive.first_paint import FirstPaintPlugin
from nexdrive.lean_bundle import LeanBundlePlugin
from nexdrive.load_transition import LoadStateTransitionPlugin
from nexdrive.offline import WorkstationOfflinePlugin
from nexdrive.settings import get_settings

config = rx.Config(
    app_name="nexdrive",
    # The database is ours (SQLModel + Alembic, nexdrive/db.py); Reflex's own db tooling is unused.
    frontend_port=int(os.environ.get("FRONTEND_PORT", "3000")),
    backend_port=int(os.environ.get("BACKEND_PORT", "8000")),
    telemetry_enabled=False,
    # Radix Themes is not imported whole by the app root for window.__reflex (only dynamic, state-returned
    # components need it; the app has none): with LeanBundlePlugin the pages' bundles keep only the Radix Themes
    # components they use (nexdrive/lean_bundle.py, docs/performance.md, fifth round).
    frontend_lazy_bundled_libraries=True,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        WorkstationOfflinePlugin(),  # the instructor workstation's service worker (sw.js)
        # Critical CSS inline, stylesheet and scripts after the first paint; a tap made before hydration is held
        # and replayed once React has hydrated the tapped element (nexdrive/first_paint.py, docs/performance.md).
        FirstPaintPlugin(),
        # The page's load state (the websocket's first deltas) rendered as a React transition, in slices.
        LoadStateTransitionPlugin(),
        LeanBundlePlugin(),  # with frontend_lazy_bundled_libraries: Radix Themes tree-shaken
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium"),
        ),
    ],
    redis_url=os.environ.get("REDIS_URL") or None,
    deploy_url=os.environ.get("PUBLIC_URL", "http://localhost:3000"),
    # Never "*": with credentials Starlette would reflect any Origin. PUBLIC_URL's origin plus CORS_ORIGINS.
    cors_allowed_origins=get_settings().allowed_origins,
)
