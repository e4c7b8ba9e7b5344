"""Sign-in ``/sign-in``: email + password, or an emailed one-time sign-in link.

With the demo school loaded (and not in production: ``settings.demo_sign_in``) it also
offers "Explore the demo as the owner / the instructor / a learner / a parent": one click
POSTs ``/api/v1/auth/demo-sign-in``, which signs in through ``accounts.demo_sign_in``.

The form validates inline, then the browser POSTs to ``/api/v1/auth/sign-in``
(same origin) so the API can set the HttpOnly session cookie; the result comes
back to :meth:`SignInState.finished`, which shows the error or does a full page
load to the role's home (so the new websocket carries the cookie).
"""
from __future__ import annotations

import re

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, field, go_to, message_box, page_title, submit_button
from nexdrive.services.identity.accounts import DEMO_SIGN_IN_ACCOUNTS
from nexdrive.settings import get_settings
from nexdrive.state.auth import (
    AuthState,
    api_error_message,
    dom_value,
    home_for,
    post_json_script,
    safe_next,
)

ROUTE = brand.ROUTE_SIGN_IN
TITLE = "Sign in | NexDrive Academy"
DESCRIPTION = "Sign in to your NexDrive Academy account: students, parents, the instructor and the school admin."

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


DEMO_LABELS = (("admin", "the owner"), ("instructor", "the instructor"), ("student", "a learner"),
               ("parent", "a parent"))


def demo_choices() -> list[dict[str, str]]:
    """The demo buttons to show: none unless demo mode is on (demo data loaded, not production)."""
    if not get_settings().demo_sign_in:
        return []
    return [{"role": role, "label": label, "email": DEMO_SIGN_IN_ACCOUNTS[role]} for role, label in DEMO_LABELS]


def check_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return "Enter your email address."
    if not EMAIL_RE.match(value):
        return "Enter an email address like name@example.com."
    return ""


class SignInState(rx.State):
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    info: str = ""
    loading: bool = False
    sending_link: bool = False
    ready: bool = False  # set by on_load: the page is connected and the form will work
    demo_accounts: list[dict[str, str]] = []  # the "Explore the demo as ..." buttons (empty: none shown)
    demo_loading: str = ""  # the role whose demo sign-in is under way

    def _reset_messages(self) -> None:
        self.email_error = self.password_error = self.form_error = self.info = ""

    @rx.event
    def reset_form(self):
        self._reset_messages()
        self.loading = self.sending_link = False
        self.demo_loading = ""
        self.demo_accounts = demo_choices()
        self.ready = True
        if self.router.url.query_parameters.get("signed_out"):
            self.info = "You're signed out."

    @rx.event
    def submit(self, form_data: dict):
        self._reset_messages()
        self.email_error = check_email(form_data.get("email", ""))
        if not form_data.get("password"):
            self.password_error = "Enter your password."
        if self.email_error or self.password_error:
            return None
        self.loading = True
        body = f"{{email: {dom_value('email')}.trim(), password: {dom_value('password')}}}"
        return rx.call_script(post_json_script("/api/v1/auth/sign-in", body), callback=SignInState.finished)

    @rx.event
    def demo_sign_in(self, role: str):
        """One click: sign in as the demo account of ``role`` (refused unless demo mode is on)."""
        self._reset_messages()
        choice = next((c for c in demo_choices() if c["role"] == role), None)
        if choice is None:
            self.demo_accounts = []
            self.form_error = "The demo isn't available here."
            return None
        self.demo_loading = role
        return rx.call_script(post_json_script("/api/v1/auth/demo-sign-in", f"{{email: {choice['email']!r}}}"),
                              callback=SignInState.finished)

    @rx.event
    def finished(self, result: dict):
        if isinstance(result, dict) and result.get("ok"):
            role = ((result.get("data") or {}).get("me") or {}).get("user", {}).get("role")
            target = safe_next(self.router.url.query_parameters.get("next")) or home_for(role)
            return go_to(target)  # keep the loading state until the page changes
        self.loading = False
        self.demo_loading = ""
        code = (result or {}).get("error", {}).get("code") if isinstance(result, dict) else None
        if code == "INVALID_CREDENTIALS":
            self.form_error = ("That email and password don't match our records. Check them and try again, "
                               "or use \u201cForgot your password?\u201d.")
            self.password_error = "Check your password."
        else:
            self.form_error = api_error_message(result)
        return None

    @rx.event
    def send_link(self, email: str):
        self._reset_messages()
        self.email_error = check_email(email)
        if self.email_error:
            return None
        self.sending_link = True
        body = f"{{email: {dom_value('email')}.trim()}}"
        return rx.call_script(post_json_script("/api/v1/auth/magic-link", body), callback=SignInState.link_sent)

    @rx.event
    def link_sent(self, result: dict):
        self.sending_link = False
        if isinstance(result, dict) and result.get("ok"):
            self.info = ("If there's an account for that email, we've sent a sign-in link to it. "
                         "It works once and expires in 15 minutes. Check your spam folder too.")
        else:
            self.form_error = api_error_message(result)


def sign_in_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            message_box(SignInState.form_error, id="sign-in-error"),
            message_box(SignInState.info, tone="green", id="sign-in-info", icon="mail-check"),
            field("Email address", id="email", type="email", autocomplete="email",
                  error=SignInState.email_error, input_mode="email", auto_capitalize="none", spell_check=False),
            field("Password", id="password", type="password", autocomplete="current-password",
                  error=SignInState.password_error),
            rx.link("Forgot your password?", href="/forgot-password", size="2", id="forgot-password-link",
                    align_self="start"),
            submit_button("Sign in", loading=SignInState.loading, id="sign-in-submit",
                          loading_label="Signing in\u2026"),
            spacing="4",
            align="stretch",
            width="100%",
        ),
        on_submit=SignInState.submit,
        no_validate=True,
        method="post",  # never a GET with the password in the URL, even before the page has loaded
        custom_attrs={"data-ready": rx.cond(SignInState.ready, "true", "false")},
        aria_label="Sign in with your email and password",
        id="sign-in-form",
        width="100%",
    )


def _demo_button(choice: rx.Var) -> rx.Component:
    return rx.button(
        rx.icon("log-in", size=18, aria_hidden="true"),
        "Explore the demo as " + choice["label"],
        type="button",
        id="demo-" + choice["role"],
        variant="soft",
        size="3",
        width="100%",
        justify="start",
        height="auto",
        min_height="2.75rem",
        padding_y="0.5rem",
        white_space="normal",
        text_align="left",
        loading=SignInState.demo_loading == choice["role"],
        on_click=SignInState.demo_sign_in(choice["role"]),
    )


def demo_panel() -> rx.Component:
    """Shown only in demo mode: one-click sign-in as each role of the demo school."""
    return rx.cond(
        SignInState.demo_accounts.length() > 0,
        rx.vstack(
            rx.heading("Just looking around?", as_="h2", size="4"),
            rx.text("This copy has a demo school loaded. Sign in as one of its people with one click:",
                    size="2", color=rx.color("gray", 11), as_="p"),
            rx.foreach(SignInState.demo_accounts, _demo_button),
            spacing="2",
            width="100%",
            padding="1rem",
            border_radius="var(--radius-3)",
            background=rx.color("accent", 2),
            border=f"1px solid {rx.color('accent', 5)}",
            id="demo-sign-in",
            role="group",
            aria_label="Explore the demo",
        ),
    )


def sign_in_page() -> rx.Component:
    return layout(
        card(
            page_title("Sign in", "For learners, parents and supervising drivers, the instructor and the admin."),
            demo_panel(),
            sign_in_form(),
            rx.hstack(rx.separator(flex="1"), rx.text("or", size="2", color=rx.color("gray", 11)),
                      rx.separator(flex="1"), align="center", width="100%"),
            rx.vstack(
                rx.text("No password? Enter your email above and we'll email you a one-time sign-in link.",
                        size="2", color=rx.color("gray", 11), as_="p"),
                rx.button(
                    rx.icon("mail", size=18, aria_hidden="true"),
                    "Email me a sign-in link",
                    type="button",
                    id="magic-link-button",
                    variant="outline",
                    size="3",
                    width="100%",
                    loading=SignInState.sending_link,
                    on_click=rx.call_script(dom_value("email"), callback=SignInState.send_link),
                ),
                spacing="2",
                width="100%",
            ),
            rx.text(
                "New learner? ",
                rx.link("Create an account", href="/sign-up", id="sign-up-link"),
                size="2",
                as_="p",
            ),
        ),
        active=ROUTE,
    )


ON_LOAD = [SignInState.reset_form, AuthState.redirect_if_signed_in]
