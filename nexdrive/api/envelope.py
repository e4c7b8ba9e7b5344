"""The spec's response envelopes (architecture §4.3), shared by every router."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from nexdrive.services.identity.accounts import AuthRequired, RateLimited
from nexdrive.errors import ServiceError


def error_envelope(code: str, message: str, details: Any = None) -> dict:
    body: dict = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = jsonable_encoder(details)
    return body


def service_error_response(exc: ServiceError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthRequired):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(status_code=exc.http_status, content=error_envelope(exc.code, exc.message, exc.details),
                        headers=headers)


class EnvelopeRoute(APIRoute):
    """Turns a ServiceError raised anywhere in a request (dependencies included) into the envelope."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except ServiceError as exc:
                return service_error_response(exc)

        return handler
