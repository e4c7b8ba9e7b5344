"""What every /api/v1 router shares: the caller (signed in, optional, or by manage link), the request's
client details, and the success envelope. Routers stay thin: parse, call one service, answer.

Authentication: the ``nxd_session`` cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https)
or ``Authorization: Bearer <token>``. Cookie-authenticated writes must come from our own origin.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from nexdrive.api.envelope import json_safe
from nexdrive.errors import AuthRequired, Forbidden
from nexdrive.services.core.actors import Actor
from nexdrive.services.identity import accounts
from nexdrive.settings import get_settings

SESSION_COOKIE = "nxd_session"


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def ok(payload: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(status_code=status_code,
                        content={"data": json_safe(payload, iso)})


def client_ip(request: Request) -> str | None:
    # The direct peer. Behind a reverse proxy run uvicorn with --proxy-headers and
    # --forwarded-allow-ips so this is the real client (never trust the header blindly).
    return accounts.clean_ip(request.client.host) if request.client else None


def client_ua(request: Request) -> str | None:
    ua = request.headers.get("user-agent")
    return ua[:500] if ua else None


def request_token(request: Request) -> tuple[str | None, str | None]:
    """(token, how) where how is 'bearer' or 'cookie'."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        return (token or None), "bearer"
    token = request.cookies.get(SESSION_COOKIE)
    return (token or None), ("cookie" if token else None)


def allowed_origins(request: Request) -> set[str]:
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return {*get_settings().allowed_origins, own}


def check_origin(request: Request, how: str | None) -> None:
    """Cookie-authenticated state changes must come from our own pages (SameSite=Lax plus this)."""
    if how != "cookie" or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    if origin is None:
        # Old browsers omit Origin on same-origin posts; a cross-site one still says so in Sec-Fetch-Site.
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise Forbidden("This request came from another site and was refused.")
        return
    if origin == "null" or origin.rstrip("/") not in allowed_origins(request):
        raise Forbidden("This request came from another site and was refused.")


def current_actor(session, request: Request) -> tuple[Actor, str]:
    """The signed-in caller (AuthRequired otherwise) and the token they presented."""
    token, how = request_token(request)
    actor = accounts.actor_for_session_token(session, token, ip=client_ip(request), user_agent=client_ua(request))
    check_origin(request, how)
    return actor, token


def optional_actor(session, request: Request) -> Actor:
    """The signed-in caller, or a visitor (a stale cookie must not block a public booking)."""
    token, _ = request_token(request)
    if not token:
        return Actor(role="visitor", ip_address=client_ip(request), user_agent=client_ua(request))
    try:
        return current_actor(session, request)[0]
    except AuthRequired:
        return Actor(role="visitor", ip_address=client_ip(request), user_agent=client_ua(request))


def manage_token_of(request: Request) -> str | None:
    return request.headers.get("x-manage-token") or request.query_params.get("token") or None


def actor_for_manage(session, request: Request) -> tuple[Actor, str | None]:
    token = manage_token_of(request)
    if token:
        return optional_actor(session, request), token
    return current_actor(session, request)[0], None
