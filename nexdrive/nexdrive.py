"""The Reflex app: pages, the mounted FastAPI sub-app, and start-up tasks."""
from __future__ import annotations

import logging

import reflex as rx

from jobs.scheduler import scheduler_lifespan
from nexdrive.adapters import describe_adapters
from nexdrive.pages import register_pages
from nexdrive.settings import get_settings
from nexdrive.http_app import build_api

logger = logging.getLogger("nexdrive")

app = rx.App(
    api_transformer=build_api(),
    html_lang="en-AU",  # Australian English: dates day-first, spelling, screen-reader voice
    head_components=[rx.el.meta(name="theme-color", content="#3e63dd")],
)
register_pages(app)


async def announce_adapters():
    """Say at start-up which services are live and which run offline."""
    settings = get_settings()
    db = "embedded PostgreSQL" if settings.embedded_database else "external PostgreSQL"
    message = f"NexDrive Academy: database={db}. {describe_adapters(settings)}"
    logger.warning(message)
    print(message, flush=True)


app.register_lifespan_task(announce_adapters)
# Scheduled jobs run inside each app process; each due run is claimed once in the database (jobs/runner.py).
app.register_lifespan_task(scheduler_lifespan)
