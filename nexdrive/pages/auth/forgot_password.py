"""Forgot password ``/forgot-password``: email a single-use reset link."""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, field, message_box, page_title, submit_button
from nexdrive.pages.auth.sign_in import check_email
from nexdrive.state.auth import api_error_message, dom_value, post_json_script

ROUTE = "/forgot-password"
TITLE = "Forgot your password | NexDrive Academy"
DESCRIPTION = "Reset your NexDrive Academy password with a link sent to your email."


class ForgotPasswordState(rx.State):
    email_error: str = ""
    form_error: str = ""
    info: str = ""
    loading: bool = False

    @rx.event
    def reset_form(self):
        self.email_error = self.form_error = self.info = ""
        self.loading = False

    @rx.event
    def submit(self, form_data: dict):
        self.email_error = check_email(form_data.get("email", ""))
        self.form_error = self.info = ""
        if self.email_error:
            return None
        self.loading = True
        body = f"{{email: {dom_value('fp-email')}.trim()}}"
        return rx.call_script(post_json_script("/api/v1/auth/password/forgot", body),
                              callback=ForgotPasswordState.finished)

    @rx.event
    def finished(self, result: dict):
        self.loading = False
        if isinstance(result, dict) and result.get("ok"):
            self.info = ("If there's an account for that email, we've sent a link to reset your password. "
                         "It works once and expires in 30 minutes.")
        else:
            self.form_error = api_error_message(result)


def forgot_password_page() -> rx.Component:
    return layout(
        card(
            page_title("Forgot your password?", "We'll email you a link to choose a new one."),
            rx.form(
                rx.vstack(
                    message_box(ForgotPasswordState.form_error, id="forgot-error"),
                    message_box(ForgotPasswordState.info, tone="green", id="forgot-info", icon="mail-check"),
                    field("Email address", id="fp-email", name="email", type="email", autocomplete="email",
                          error=ForgotPasswordState.email_error),
                    submit_button("Email me a reset link", loading=ForgotPasswordState.loading,
                                  id="forgot-submit", loading_label="Sending\u2026"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ForgotPasswordState.submit,
                no_validate=True,
                aria_label="Reset your password",
                width="100%",
            ),
            rx.text(rx.link("Back to sign in", href="/sign-in"), size="2", as_="p"),
        ),
        active=ROUTE,
    )


ON_LOAD = [ForgotPasswordState.reset_form]
