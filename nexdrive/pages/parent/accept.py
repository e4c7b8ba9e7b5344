"""Accept a parent invitation ``/parent/accept?token=...``.

* Signed out, no account yet: choose a name and password; the account is created
  through ``accounts.accept_parent_invitation`` and the browser then signs in
  through ``/api/v1/auth/sign-in`` (so the HttpOnly cookie is set by the API).
* Signed in as the invited parent: one button links the learner.
* Signed out but the email already has an account: sign in first (``next`` brings
  you back here).
Opening the page never uses the invitation up; only the explicit submit does.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, field, go_to, message_box, page_title, submit_button
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.core.actors import Actor
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.state.auth import (
    AuthState,
    api_error_message,
    dom_value,
    post_json_script,
    request_context,
    run_anonymous,
    run_as_actor,
)

ROUTE = "/parent/accept"
TITLE = "Accept your invitation | NexDrive Academy"
DESCRIPTION = "Accept a learner's invitation to follow their driving lessons with NexDrive Academy."


class AcceptState(rx.State):
    checked: bool = False
    valid: bool = False
    problem: str = ""
    student_first_name: str = ""
    email: str = ""
    relationship: str = ""
    has_account: bool = False
    first_name_error: str = ""
    last_name_error: str = ""
    password_error: str = ""
    form_error: str = ""
    done: str = ""
    loading: bool = False
    sign_in_url: str = "/sign-in"

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    async def load(self):
        self.checked = self.valid = self.has_account = self.loading = False
        self.problem = self.student_first_name = self.email = self.relationship = self.done = ""
        self.first_name_error = self.last_name_error = self.password_error = self.form_error = ""
        token = self._token()
        self.sign_in_url = self._sign_in_target()
        if not token:
            self.problem = "This page needs the link from your invitation email."
            self.checked = True
            return
        try:
            info = await run_anonymous(lambda s: accounts.describe_parent_invitation(s, token))
        except ServiceError as exc:
            self.problem = exc.message
            self.checked = True
            return
        self.valid = True
        self.student_first_name = info["student_first_name"]
        self.email = info["email"]
        self.relationship = info["relationship"]
        self.has_account = bool(info["has_account"])
        self.checked = True

    def _sign_in_target(self) -> str:
        return "/sign-in?next=" + quote(f"{ROUTE}?token={self._token()}", safe="")

    @rx.event
    async def accept_signed_in(self):
        """A signed-in parent links the learner to their account."""
        self.form_error = ""
        self.loading = True
        yield
        token = self._token()
        try:
            await run_as_actor(self, lambda s, a: accounts.accept_parent_invitation(s, a, token))
        except AuthRequired:
            self.loading = False
            yield go_to(self._sign_in_target())
            return
        except ServiceError as exc:
            self.form_error = exc.message
            self.loading = False
            return
        yield go_to("/parent")

    @rx.event
    async def create_account(self, form_data: dict):
        """A visitor creates the parent account, then signs in through the API."""
        self.first_name_error = self.last_name_error = self.password_error = self.form_error = ""
        first = (form_data.get("first_name") or "").strip()
        last = (form_data.get("last_name") or "").strip()
        password = form_data.get("password") or ""
        if not first:
            self.first_name_error = "Enter your first name."
        if not last:
            self.last_name_error = "Enter your last name."
        if len(password) < 8:
            self.password_error = "Use at least 8 characters."
        if self.first_name_error or self.last_name_error or self.password_error:
            return
        self.loading = True
        yield
        token = self._token()
        _, ip, ua = request_context(self)
        visitor = Actor(role="visitor", ip_address=accounts.clean_ip(ip), user_agent=ua)

        def work(session):
            link, issued = accounts.accept_parent_invitation(
                session, visitor, token, password=password, first_name=first, last_name=last,
                phone=(form_data.get("phone") or "").strip() or None)
            if issued is not None:  # the browser gets its own session from /auth/sign-in below
                accounts.sign_out(session, issued.actor, issued.token)
            return str(link.id)

        try:
            await run_anonymous(work)
        except ValidationFailed as exc:
            target = {"password": "password_error", "first_name": "first_name_error",
                      "last_name": "last_name_error"}.get(exc.details.get("field") or "")
            setattr(self, target or "form_error", exc.message)
            self.loading = False
            return
        except ServiceError as exc:
            self.form_error = exc.message
            self.loading = False
            return
        body = f"{{email: {json.dumps(self.email)}, password: {dom_value('pa-password')}}}"
        yield rx.call_script(post_json_script("/api/v1/auth/sign-in", body), callback=AcceptState.signed_in)

    @rx.event
    def signed_in(self, result: dict):
        if isinstance(result, dict) and result.get("ok"):
            return go_to("/parent")
        self.loading = False
        self.valid = False
        self.done = ("Your account is ready and linked. " + api_error_message(result, "")).strip()
        return None


def _new_account_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            message_box(AcceptState.form_error, id="accept-error"),
            rx.text("Create your parent account for ", rx.text(AcceptState.email, as_="span", weight="bold"), ".",
                    size="2", as_="p"),
            rx.grid(
                field("First name", id="pa-first_name", name="first_name", autocomplete="given-name",
                      error=AcceptState.first_name_error),
                field("Last name", id="pa-last_name", name="last_name", autocomplete="family-name",
                      error=AcceptState.last_name_error),
                columns=rx.breakpoints(initial="1", sm="2"),
                gap="1rem",
                width="100%",
            ),
            field("Mobile number", id="pa-phone", name="phone", type="tel", autocomplete="tel", required=False),
            field("Choose a password", id="pa-password", name="password", type="password",
                  autocomplete="new-password",
                  hint="At least 8 characters. A few unrelated words make a strong password.",
                  error=AcceptState.password_error),
            submit_button("Accept and create account", loading=AcceptState.loading, id="accept-submit",
                          loading_label="Setting up\u2026"),
            spacing="4",
            width="100%",
        ),
        on_submit=AcceptState.create_account,
        no_validate=True,
        method="post",
        aria_label="Create your parent account",
        width="100%",
    )


def accept_page() -> rx.Component:
    return layout(
        card(
            page_title("Accept your invitation"),
            rx.cond(
                ~AcceptState.checked,
                rx.hstack(rx.spinner(), rx.text("Checking your invitation\u2026"), role="status"),
                rx.cond(
                    AcceptState.valid,
                    rx.vstack(
                        rx.text(AcceptState.student_first_name, " has invited you to follow their driving lessons "
                                "with NexDrive Academy as their ", AcceptState.relationship, ".", as_="p"),
                        rx.text("They choose what you can see, and can change it at any time.", size="2",
                                color=rx.color("gray", 11), as_="p"),
                        rx.cond(
                            AuthState.signed_in,
                            rx.vstack(
                                message_box(AcceptState.form_error, id="accept-error"),
                                rx.button("Accept invitation", id="accept-signed-in", size="3", width="100%",
                                          loading=AcceptState.loading, on_click=AcceptState.accept_signed_in),
                                width="100%",
                            ),
                            rx.cond(
                                AcceptState.has_account,
                                rx.vstack(
                                    rx.text("You already have an account with this email. Sign in to accept.",
                                            as_="p"),
                                    rx.link("Sign in to accept", id="accept-sign-in",
                                            href=AcceptState.sign_in_url),
                                    width="100%",
                                ),
                                _new_account_form(),
                            ),
                        ),
                        spacing="3",
                        align="stretch",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.cond(AcceptState.done != "",
                                rx.callout(AcceptState.done, icon="check", color_scheme="green", role="status"),
                                rx.callout(AcceptState.problem, icon="circle-alert", color_scheme="red",
                                           role="alert")),
                        rx.link("Go to sign in", href="/sign-in"),
                        spacing="3",
                        width="100%",
                    ),
                ),
            ),
            max_width="32rem",
        ),
        active="/parent",
    )


ON_LOAD = [AuthState.check, AcceptState.load]
