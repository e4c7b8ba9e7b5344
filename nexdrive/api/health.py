"""Health endpoint: is the app up, can it reach its database, which adapters are live."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from nexdrive.adapters import adapter_status
from nexdrive.db import database_status
from nexdrive.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> JSONResponse:
    # A sync endpoint: FastAPI runs it in its thread pool, so the DB ping never blocks the event loop.
    db = database_status()
    settings = get_settings()
    body = {
        "status": "ok" if db["status"] == "ok" else "degraded",
        "database": {**db, "embedded": settings.embedded_database},
        "adapters": adapter_status(settings),
    }
    return JSONResponse(status_code=200 if db["status"] == "ok" else 503, content=body)
