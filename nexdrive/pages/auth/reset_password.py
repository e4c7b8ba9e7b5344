"""Reset password ``/reset-password?token=...``: choose a new password (explicit POST)."""
from __future__ import annotations

import json

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, field, go_to, message_box, page_title, submit_button
from nexdrive.state.auth import api_error_message, api_field_errors, dom_value, home_for, post_json_script

ROUTE = "/reset-password"
TITLE = "Choose a new password | NexDrive Academy"
DESCRIPTION = "Choose a new password for your NexDrive Academy account."


class ResetPasswordState(rx.State):
    password_error: str = ""
    confirm_error: str = ""
    form_error: str = ""
    loading: bool = False
    has_token: bool = True

    @rx.event
    def load(self):
        self.password_error = self.confirm_error = self.form_error = ""
        self.loading = False
        self.has_token = bool(self.router.url.query_parameters.get("token"))

    @rx.event
    def submit(self, form_data: dict):
        self.password_error = self.confirm_error = self.form_error = ""
        token = self.router.url.query_parameters.get("token", "")
        password = form_data.get("new_password") or ""
        if len(password) < 8:
            self.password_error = "Use at least 8 characters."
        elif password != (form_data.get("confirm_password") or ""):
            self.confirm_error = "The two passwords don't match."
        if not token:
            self.form_error = "This page needs the link from your email. Please request a new one."
        if self.password_error or self.confirm_error or self.form_error:
            return None
        self.loading = True
        body = f"{{token: {json.dumps(token)}, new_password: {dom_value('rp-password')}}}"
        return rx.call_script(post_json_script("/api/v1/auth/password/reset", body),
                              callback=ResetPasswordState.finished)

    @rx.event
    def finished(self, result: dict):
        if isinstance(result, dict) and result.get("ok"):
            role = ((result.get("data") or {}).get("me") or {}).get("user", {}).get("role")
            return go_to(home_for(role))
        self.loading = False
        fields = api_field_errors(result)
        if "new_password" in fields or "password" in fields:
            self.password_error = fields.get("new_password") or fields.get("password")
        else:
            self.form_error = api_error_message(result)
        return None


def reset_password_page() -> rx.Component:
    return layout(
        card(
            page_title("Choose a new password", "This signs you out on every other device."),
            rx.cond(
                ResetPasswordState.has_token,
                rx.form(
                    rx.vstack(
                        message_box(ResetPasswordState.form_error, id="reset-error"),
                        field("New password", id="rp-password", name="new_password", type="password",
                              autocomplete="new-password",
                              hint="At least 8 characters. A few unrelated words make a strong password.",
                              error=ResetPasswordState.password_error),
                        field("Type it again", id="rp-confirm", name="confirm_password", type="password",
                              autocomplete="new-password", error=ResetPasswordState.confirm_error),
                        submit_button("Save password and sign in", loading=ResetPasswordState.loading,
                                      id="reset-submit", loading_label="Saving\u2026"),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=ResetPasswordState.submit,
                    no_validate=True,
        method="post",
                    aria_label="Choose a new password",
                    width="100%",
                ),
                rx.callout("This page needs the link from your email. Request a new one below.",
                           icon="circle-alert", color_scheme="red", role="alert"),
            ),
            rx.text(rx.link("Request a new reset link", href="/forgot-password"), size="2", as_="p"),
        ),
        active=ROUTE,
    )


ON_LOAD = [ResetPasswordState.load]
