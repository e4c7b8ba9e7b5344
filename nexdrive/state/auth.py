"""Cross-cutting auth state: who is signed in, and route guards.

The session token lives in the HttpOnly ``nxd_session`` cookie set by the
``/api/v1/auth/*`` endpoints. The browser sends it with the websocket handshake;
Reflex 0.10 keeps the handshake headers on the server only (``self.router.headers.cookie``
is never serialised to the frontend), so the token never reaches the page's JS.

Every handler that needs the acting user resolves the cookie again through
:func:`nexdrive.services.identity.accounts.actor_for_session_token` (so a sign-out or
revoked session takes effect at once), in a worker thread (docs/architecture.md: no
blocking DB work on the event loop). Guards only redirect; permission checks
stay in the service layer.

Usage in a page::

    app.add_page(page, route="/student", on_load=[*require_role("student"), MyPageState.load])

    class MyPageState(rx.State):
        @rx.event
        async def load(self):
            result = await run_as_actor(self, lambda session, actor: access.list_bookings(session, actor))
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx

from nexdrive.db import session_scope
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.core.actors import Actor

SESSION_COOKIE = "nxd_session"
SIGN_IN_ROUTE = "/sign-in"

ROLE_HOMES: dict[str, str] = {
    "admin": "/admin",
    "instructor": "/instructor",
    "student": "/student",
    "parent": "/parent",
}
ROLE_LABELS: dict[str, str] = {
    "admin": "Administrator",
    "instructor": "Instructor",
    "student": "Learner",
    "parent": "Parent / supervisor",
}

T = TypeVar("T")


def home_for(role: str | None) -> str:
    return ROLE_HOMES.get(role or "", "/")


# Who each area is for, and how to name the signed-in person's role in a sentence.
AREA_AUDIENCES: dict[str, str] = {
    "admin": "the school's administrator",
    "instructor": "instructors",
    "student": "learners",
    "parent": "parents and supervising drivers",
}
ROLE_IN_SENTENCE: dict[str, str] = {
    "admin": "the administrator",
    "instructor": "an instructor",
    "student": "a learner",
    "parent": "a parent or supervisor",
}


def area_notice(denied: str | None, role: str | None) -> str:
    """'That page is for instructors; you're signed in as a learner.' ('' for an unknown area)."""
    audience = AREA_AUDIENCES.get((denied or "").strip("/"))
    if not audience or not role:
        return ""
    return (f"That page is for {audience}; you're signed in as {ROLE_IN_SENTENCE.get(role, role)}, "
            "so here is your own area.")


def session_token_from_cookie_header(cookie_header: str | None) -> str | None:
    """The ``nxd_session`` value from a raw Cookie header, or None."""
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        # One malformed cookie must not hide ours: fall back to a plain split.
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value:
                return value
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


def request_context(state: rx.State) -> tuple[str | None, str | None, str | None]:
    """(token, ip, user agent) of the websocket connection behind ``state``."""
    headers = state.router.headers
    token = session_token_from_cookie_header(headers.cookie)
    ip = state.router.session.client_ip or None
    ua = headers.user_agent or None
    return token, ip, ua


def safe_next(value: str | None) -> str | None:
    """Only same-site relative paths are followed after signing in (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def _resolve_in_thread(token: str | None, ip: str | None, ua: str | None,
                       fn: Callable[[Any, Actor], T]) -> T:
    with session_scope() as session:
        actor = accounts.actor_for_session_token(session, token, ip=ip, user_agent=ua)
        return fn(session, actor)


async def run_as_actor(state: rx.State, fn: Callable[[Any, Actor], T]) -> T:
    """Run ``fn(session, actor)`` in one transaction, as the signed-in user, off the event loop.

    Raises AuthRequired when the visitor is not signed in (or the session ended);
    whatever ``fn`` raises (Forbidden, ValidationFailed...) propagates after rollback.
    """
    token, ip, ua = request_context(state)
    if not token:
        raise AuthRequired("Please sign in to continue.")
    return await asyncio.to_thread(_resolve_in_thread, token, ip, ua, fn)


async def run_anonymous(fn: Callable[[Any], T]) -> T:
    """Run ``fn(session)`` in one transaction off the event loop (for public reads)."""
    def work() -> T:
        with session_scope() as session:
            return fn(session)
    return await asyncio.to_thread(work)


async def run_as_visitor_or_user(state: rx.State, fn: Callable[[Any, Actor], T]) -> T:
    """Like run_as_actor, but a signed-out (or expired) visitor acts as a visitor instead of failing.

    For public flows such as the booking widget: a signed-in student books as themselves.
    """
    token, ip, ua = request_context(state)

    def work() -> T:
        with session_scope() as session:
            actor = Actor(role="visitor", ip_address=accounts.clean_ip(ip), user_agent=ua)
            if token:
                try:
                    actor = accounts.actor_for_session_token(session, token, ip=ip, user_agent=ua)
                except AuthRequired:
                    pass
            return fn(session, actor)
    return await asyncio.to_thread(work)


def _who(session, actor: Actor) -> dict[str, Any]:
    me = accounts.get_me(session, actor)
    profile = me.get("profile") or {}
    return {
        "user_id": str(actor.user_id),
        "role": actor.role,
        "email": me["user"]["email"],
        "first_name": profile.get("first_name") or "",
        "last_name": profile.get("last_name") or "",
        "student_id": str(actor.student_id) if actor.student_id else "",
        "parent_id": str(actor.parent_id) if actor.parent_id else "",
        "instructor_id": str(actor.instructor_id) if actor.instructor_id else "",
    }


class AuthState(rx.State):
    """Who is signed in: plain data only; the token stays in the HttpOnly cookie."""

    signed_in: bool = False
    checked: bool = False
    user_id: str = ""
    role: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    student_id: str = ""
    parent_id: str = ""
    instructor_id: str = ""
    # Why the person was sent here from another role's area ('' when they weren't).
    area_notice: str = ""

    # Backend-only: the token last seen on this connection (never sent to the browser).
    _token: str = ""
    _notice_path: str = ""  # the page the area notice belongs to

    @rx.var
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @rx.var
    def home_route(self) -> str:
        return home_for(self.role)

    def _clear(self) -> None:
        self.signed_in = False
        self.user_id = self.role = self.email = self.first_name = self.last_name = ""
        self.student_id = self.parent_id = self.instructor_id = ""
        self.area_notice = ""
        self._token = ""

    async def _refresh(self) -> bool:
        """Resolve the cookie again; True when signed in."""
        token, ip, ua = request_context(self)
        try:
            if not token:
                raise AuthRequired("Please sign in to continue.")
            who = await asyncio.to_thread(_resolve_in_thread, token, ip, ua, _who)
        except AuthRequired:
            self._clear()
            self.checked = True
            return False
        self._token = token
        self.signed_in = True
        self.checked = True
        for key, value in who.items():
            setattr(self, key, value)
        return True

    def _sign_in_redirect(self):
        url = self.router.url
        target = (url.path or "/").rstrip("/") or "/"  # the production build serves /student/
        if url.query:
            target += "?" + url.query
        return rx.redirect(f"{SIGN_IN_ROUTE}?next={quote(target, safe='')}", replace=True)

    @rx.event
    async def check(self):
        """Refresh who is signed in (no redirect): for public pages that adapt to it."""
        await self._refresh()

    @rx.event
    async def check_once(self):
        """The shared header: find out once per visit who is signed in (guards and sign-in refresh it).

        The area notice stays on the page it was given for only."""
        if self.area_notice and (self.router.url.path or "/").rstrip("/") != self._notice_path:
            self.area_notice = ""
        if not self.checked:
            await self._refresh()

    @rx.event
    async def guard(self, role: str):
        """on_load guard: signed-out visitors go to sign-in, other roles to their own home, with a notice
        saying why (``?denied=<area>``, read by the guard of the page they land on).

        ``role`` may list several roles separated by commas, or be ``"any"``.
        """
        if not await self._refresh():
            return self._sign_in_redirect()
        allowed = [r.strip() for r in role.split(",") if r.strip()]
        if "any" not in allowed and self.role not in allowed:
            area = (self.router.url.path or "/").strip("/").split("/")[0]
            home = home_for(self.role)
            return rx.redirect(f"{home}?denied={quote(area, safe='')}" if home != "/" else home, replace=True)
        self.area_notice = area_notice(self.router.url.query_parameters.get("denied"), self.role)
        self._notice_path = (self.router.url.path or "/").rstrip("/")
        return None

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load for sign-in / sign-up pages: a signed-in user goes home (or to ?next=)."""
        if await self._refresh():
            target = safe_next(self.router.url.query_parameters.get("next")) or home_for(self.role)
            return rx.redirect(target, replace=True)
        return None


def require_role(*roles: str) -> list:
    """on_load events guarding a page for ``roles`` (none given: any signed-in user)."""
    return [AuthState.guard(",".join(roles) if roles else "any")]


# JS helpers for the pages: POST JSON to our own API so it can set the HttpOnly cookie.
def post_json_script(url: str, body_js: str) -> str:
    """A JS expression (a Promise) that POSTs ``body_js`` (a JS object expression) as JSON to
    ``url`` and resolves to ``{ok, status, data, error}`` (never rejects)."""
    return (
        "(async () => { try {"
        f" const r = await fetch({url!r}, {{method: 'POST', credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/json', 'Accept': 'application/json'},"
        f" body: JSON.stringify({body_js})}});"
        " let j = {}; try { j = await r.json(); } catch (e) {}"
        " return {ok: r.ok, status: r.status, data: (j && j.data) || {},"
        " error: (j && j.error) || (r.ok ? {} : {code: 'HTTP_' + r.status, message: ''})};"
        " } catch (e) { return {ok: false, status: 0, data: {},"
        " error: {code: 'NETWORK', message: ''}}; } })()"
    )


def dom_value(element_id: str) -> str:
    """JS expression: the current value of the input with this id ('' if absent)."""
    return f"((document.getElementById({element_id!r}) || {{}}).value || '')"


NETWORK_ERROR = "We couldn't reach NexDrive Academy. Check your connection and try again."


def api_error_message(result: dict | None, fallback: str = "Something went wrong. Please try again.") -> str:
    """A person-readable message from a post_json_script result."""
    if not isinstance(result, dict):
        return fallback
    error = result.get("error") or {}
    if error.get("code") == "NETWORK":
        return NETWORK_ERROR
    return error.get("message") or fallback


def api_field_errors(result: dict | None) -> dict[str, str]:
    """{field: message} from an API error envelope (ValidationFailed carries ``field``)."""
    if not isinstance(result, dict):
        return {}
    error = result.get("error") or {}
    details = error.get("details") or {}
    out: dict[str, str] = {}
    if isinstance(details, dict) and details.get("field"):
        out[str(details["field"])] = error.get("message") or ""
    if isinstance(details, dict) and isinstance(details.get("fields"), list):
        for item in details["fields"]:
            if isinstance(item, dict) and item.get("field"):
                out.setdefault(str(item["field"]).split(".")[-1], item.get("message") or "")
    return out
