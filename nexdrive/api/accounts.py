"""/api/v1 accounts: sign-up, sign-in (password and magic link), sign-out,
passwords, and the caller's own profile (``/me``).

Authentication: the ``nxd_session`` cookie (HttpOnly, SameSite=Lax, Secure when
the public URL is https) or ``Authorization: Bearer <token>``. Signed-out callers
of an authenticated endpoint get 401 AUTH_REQUIRED; signed-in callers without
the right get 403 FORBIDDEN, both in the spec's envelope (architecture §4.3).
Business rules live in ``nexdrive.services.identity.accounts``; this module only
translates HTTP to use cases and back.

A magic link opened with GET only *describes* itself (a page with a button, or
JSON); it is used up only by ``POST /auth/magic-link/consume``, so a mail
scanner that fetches links cannot sign anyone in or burn the link.
"""
from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from nexdrive.db import session_scope
from nexdrive.services.compliance import learner_home
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.core import ratelimit
from nexdrive.services.identity.accounts import IssuedSession
from nexdrive.errors import ServiceError
from nexdrive.settings import get_settings
from nexdrive.api.deps import SESSION_COOKIE, client_ip, client_ua, current_actor, ok, request_token
from nexdrive.api.edge import Offset, PageLimit, SaneDate, SeqNumber, StrictInput
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.api import portal



router = APIRouter(tags=["accounts"], route_class=EnvelopeRoute)


# ─────────────────────────────────────────────────────────────────────────────
# Request helpers
# ─────────────────────────────────────────────────────────────────────────────


def _set_session_cookie(response: Response, issued: IssuedSession) -> None:
    seconds = max(1, int((issued.expires_at - datetime.now(timezone.utc)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=seconds, httponly=True, samesite="lax",
                        secure=get_settings().public_url.startswith("https://"), path="/")


def _clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=get_settings().public_url.startswith("https://"))


def _signed_in_response(session, issued: IssuedSession, client: str, status_code: int = 200) -> JSONResponse:
    payload: dict[str, Any] = {"me": accounts.get_me(session, issued.actor),
                               "session": {"expires_at": issued.expires_at}}
    if client == "api":
        payload["session"]["token"] = issued.token  # for Authorization: Bearer; browsers use the cookie
    response = ok(payload, status_code)
    if client != "api":
        _set_session_cookie(response, issued)
    return response


# ─────────────────────────────────────────────────────────────────────────────
# Bodies
# ─────────────────────────────────────────────────────────────────────────────


class _Body(StrictInput):
    model_config = ConfigDict(extra="forbid")


class SignUpBody(_Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=30)
    date_of_birth: SaneDate | None = None
    instructor_id: uuid.UUID | None = None
    client: Literal["browser", "api"] = "browser"


class SignInBody(_Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    client: Literal["browser", "api"] = "browser"


class DemoSignInBody(_Body):
    email: str = Field(max_length=254)


class EmailBody(_Body):
    email: str = Field(max_length=254)


class ConsumeBody(_Body):
    token: str = Field(max_length=200)
    client: Literal["browser", "api"] = "browser"


class ResetBody(_Body):
    token: str = Field(max_length=200)
    new_password: str = Field(max_length=4096)
    client: Literal["browser", "api"] = "browser"


class ChangePasswordBody(_Body):
    current_password: str | None = Field(default=None, max_length=4096)  # not asked when there is none yet
    new_password: str = Field(max_length=4096)


class MeUpdateBody(_Body):
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=30)
    date_of_birth: SaneDate | None = None
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    suburb: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=10)
    postcode: str | None = Field(default=None, max_length=10)
    school_or_work: str | None = Field(default=None, max_length=200)
    transmission: Literal["manual", "auto"] | None = None
    licence_type: str | None = Field(default=None, max_length=50)
    years_driving: int | None = Field(default=None, ge=0, le=90)
    bio: str | None = Field(default=None, max_length=2000)


_GENERIC_EMAIL_SENT = ("If an account exists for that email, we've sent a link to it. "
                       "It works once and expires soon.")


# ─────────────────────────────────────────────────────────────────────────────
# Endpoints
# ─────────────────────────────────────────────────────────────────────────────


@router.post("/auth/sign-up", status_code=202)
def sign_up(body: SignUpBody, request: Request) -> JSONResponse:
    """The same 202 whether or not the email already has an account (no account enumeration): a new
    learner gets a link to confirm their email and sign in; an existing one an email saying so."""
    with session_scope() as session:
        ratelimit.enforce(session, "sign_up", ip=client_ip(request), contact=body.email)
        accounts.request_sign_up(
            session, email=body.email, password=body.password, first_name=body.first_name,
            last_name=body.last_name, phone=body.phone, date_of_birth=body.date_of_birth,
            instructor_id=body.instructor_id, ip=client_ip(request), user_agent=client_ua(request))
    return ok({"message": accounts.SIGN_UP_MESSAGE}, 202)


@router.post("/auth/sign-in")
def sign_in(body: SignInBody, request: Request) -> JSONResponse:
    previous, _ = request_token(request)
    with session_scope() as session:
        ratelimit.enforce(session, "sign_in", ip=client_ip(request), contact=body.email)
        issued = accounts.sign_in(session, email=body.email, password=body.password, ip=client_ip(request),
                                  user_agent=client_ua(request), previous_token=previous)
        return _signed_in_response(session, issued, body.client)


@router.post("/auth/demo-sign-in")
def demo_sign_in(body: DemoSignInBody, request: Request) -> JSONResponse:
    """One-click demo sign-in (404 unless the demo school is loaded and this is not production)."""
    previous, _ = request_token(request)
    with session_scope() as session:
        issued = accounts.demo_sign_in(session, email=body.email, ip=client_ip(request),
                                       user_agent=client_ua(request), previous_token=previous)
        return _signed_in_response(session, issued, "browser")


@router.post("/auth/sign-out")
def sign_out(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, token = current_actor(session, request)
        accounts.sign_out(session, actor, token)
    response = ok({"signed_out": True})
    _clear_session_cookie(response)
    return response


@router.post("/auth/sign-out-all")
def sign_out_all(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        ended = accounts.sign_out_everywhere(session, actor)
    response = ok({"signed_out": True, "sessions_ended": ended})
    _clear_session_cookie(response)
    return response


@router.post("/auth/magic-link", status_code=202)
def request_magic_link(body: EmailBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        accounts.request_magic_link(session, email=body.email, ip=client_ip(request), user_agent=client_ua(request))
    return ok({"message": _GENERIC_EMAIL_SENT}, 202)


def _page(title: str, inner: str, status_code: int = 200) -> HTMLResponse:
    doc = f"""<!doctype html><html lang="en-AU"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer"><title>{html.escape(title)} \u2014 NexDrive Academy</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2937}}
button{{font-size:1rem;padding:.7rem 1.2rem;border:0;border-radius:.5rem;background:#1d4ed8;color:#fff;cursor:pointer}}
input{{font-size:1rem;padding:.6rem;width:100%;box-sizing:border-box;margin:.3rem 0 1rem}}</style></head>
<body><h1>{html.escape(title)}</h1>{inner}</body></html>"""
    return HTMLResponse(doc, status_code=status_code, headers={"Cache-Control": "no-store"})


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


@router.get("/auth/magic-link/{token}")
def describe_magic_link(token: str, request: Request) -> Response:
    """Looks, never uses up: a link scanner's GET leaves the link working."""
    with session_scope() as session:
        info = accounts.describe_magic_link(session, token)
    if not _wants_html(request):
        return ok(info)
    if not info["valid"]:
        why = {"used": "This link has already been used.", "expired": "This link has expired."}.get(
            info["reason"], "This link isn't valid.")
        return _page("Link not valid", f"<p>{why} Please request a new one from the sign-in page.</p>", 410)
    t = html.escape(token, quote=True)
    if info["purpose"] == "sign_in":
        return _page("Sign in to NexDrive Academy",
                     f"<p>Signing in as {html.escape(info['email_hint'])}.</p>"
                     f'<form method="post" action="consume"><input type="hidden" name="token" value="{t}">'
                     "<button type=submit>Sign in</button></form>")
    return _page("Choose your password",
                 f"<p>For {html.escape(info['email_hint'])}. Use at least 8 characters; a few unrelated words "
                 "make a strong password.</p>"
                 f'<form method="post" action="../password/reset"><input type="hidden" name="token" value="{t}">'
                 '<label>New password<input type="password" name="new_password" autocomplete="new-password" '
                 'minlength="8" required></label><button type=submit>Save password and sign in</button></form>')


async def _json_or_form(request: Request) -> tuple[dict[str, Any], bool]:
    """(fields, is_form): the confirm page posts a form, API clients post JSON."""
    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    if ctype.startswith("application/x-www-form-urlencoded"):
        parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}, True
    import json

    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise accounts.ValidationFailed("The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise accounts.ValidationFailed("The request body must be a JSON object.")
    return data, False


def _validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
                   for e in exc.errors()]
        raise accounts.ValidationFailed("Some fields are not valid.", fields=details) from None


def _form_result(issued_fn: Callable[[Any], IssuedSession], request: Request, is_form: bool, client: str):
    def run():
        previous, _ = request_token(request)
        try:
            with session_scope() as session:
                issued = issued_fn((session, previous))
                if is_form:
                    response = RedirectResponse("/", status_code=303)
                    _set_session_cookie(response, issued)
                    return response
                return _signed_in_response(session, issued, client)
        except ServiceError as exc:
            if is_form:
                return _page("That didn't work", f"<p>{html.escape(exc.message)}</p>", exc.http_status)
            raise
    return run


@router.post("/auth/magic-link/consume")
async def consume_magic_link(request: Request) -> Response:
    data, is_form = await _json_or_form(request)
    body = _validate(ConsumeBody, data)
    ip, ua = client_ip(request), client_ua(request)
    run = _form_result(lambda sp: accounts.consume_magic_link(sp[0], body.token, ip=ip, user_agent=ua,
                                                               previous_token=sp[1]),
                       request, is_form, body.client)
    return await run_in_threadpool(run)


@router.post("/auth/password/forgot", status_code=202)
def forgot_password(body: EmailBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        accounts.request_password_reset(session, email=body.email, ip=client_ip(request),
                                        user_agent=client_ua(request))
    return ok({"message": _GENERIC_EMAIL_SENT}, 202)


@router.post("/auth/password/reset")
async def reset_password(request: Request) -> Response:
    data, is_form = await _json_or_form(request)
    body = _validate(ResetBody, data)
    ip, ua = client_ip(request), client_ua(request)
    run = _form_result(lambda sp: accounts.reset_password(sp[0], body.token, body.new_password, ip=ip,
                                                           user_agent=ua),
                       request, is_form, body.client)
    return await run_in_threadpool(run)


@router.post("/auth/password/change")
def change_password(body: ChangePasswordBody, request: Request) -> JSONResponse:
    _, how = request_token(request)
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        issued = accounts.change_password(session, actor, current_password=body.current_password,
                                          new_password=body.new_password)
        return _signed_in_response(session, issued, "api" if how == "bearer" else "browser")


@router.get("/me")
def get_me(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(accounts.get_me(session, actor))


@router.patch("/me")
def update_me(body: MeUpdateBody, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(accounts.update_me(session, actor, body.model_dump(exclude_unset=True)))


# ─────────────────────────────────────────────────────────────────────────────
# Scoped reads (architecture §4.2.3 / §4.2.10), straight onto the access matrix
# ─────────────────────────────────────────────────────────────────────────────


def _read(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(fn(session, actor, *args, **kwargs))


@router.get("/students/{student_id}")
def student_detail(student_id: uuid.UUID, request: Request) -> JSONResponse:
    return _read(request, access.get_student_record, student_id)


@router.get("/students/{student_id}/progress", response_model=portal.ProgressEnvelope, responses=portal.ERRORS,
            summary="Progress: the map of 23 tasks and 2 reviews, hours and certificate status")
def student_progress(student_id: uuid.UUID, request: Request) -> JSONResponse:
    return _read(request, learner_home.progress_summary, student_id)


@router.get("/students/{student_id}/lessons")
def student_lessons(student_id: uuid.UUID, request: Request, limit: PageLimit = 50, offset: Offset = 0) -> JSONResponse:
    return _read(request, access.list_lessons, student_id=student_id, limit=limit, offset=offset)


@router.get("/students/{student_id}/bookings")
def student_bookings(
    student_id: uuid.UUID, request: Request, limit: PageLimit = 50, offset: Offset = 0
) -> JSONResponse:
    return _read(request, access.list_bookings, student_id=student_id, limit=limit, offset=offset)


@router.get("/students/{student_id}/payments")
def student_payments(
    student_id: uuid.UUID, request: Request, limit: PageLimit = 50, offset: Offset = 0
) -> JSONResponse:
    return _read(request, access.list_payments, student_id=student_id, limit=limit, offset=offset)


@router.get("/students/{student_id}/bridge-forms")
def student_bridge_forms(student_id: uuid.UUID, request: Request) -> JSONResponse:
    return _read(request, access.list_bridge_forms, student_id)


@router.get("/admin/audit-log")
def audit_log(request: Request, limit: PageLimit = 100, before_seq: SeqNumber | None = None,
              event_type: str | None = Query(None, max_length=100)) -> JSONResponse:
    return _read(request, access.read_audit_log, limit=limit, before_seq=before_seq, event_type=event_type)
