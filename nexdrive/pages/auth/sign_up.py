"""Sign-up ``/sign-up``: a learner creates their account (POST /api/v1/auth/sign-up)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, field, message_box, page_title, submit_button
from nexdrive.pages.auth.sign_in import check_email
from nexdrive.state.auth import AuthState, api_error_message, api_field_errors, dom_value, post_json_script

ROUTE = "/sign-up"
TITLE = "Create your learner account | NexDrive Academy"
DESCRIPTION = "Create a NexDrive Academy learner account to book lessons and follow your CBT&A progress."

PASSWORD_HINT = "At least 8 characters. A few unrelated words make a strong password."


class SignUpState(rx.State):
    first_name_error: str = ""
    last_name_error: str = ""
    email_error: str = ""
    phone_error: str = ""
    password_error: str = ""
    form_error: str = ""
    done_message: str = ""
    loading: bool = False

    def _clear(self) -> None:
        self.first_name_error = self.last_name_error = self.email_error = ""
        self.phone_error = self.password_error = self.form_error = ""

    @rx.event
    def reset_form(self):
        self._clear()
        self.done_message = ""
        self.loading = False

    @rx.event
    def submit(self, form_data: dict):
        self._clear()
        if not (form_data.get("first_name") or "").strip():
            self.first_name_error = "Enter your first name."
        if not (form_data.get("last_name") or "").strip():
            self.last_name_error = "Enter your last name."
        self.email_error = check_email(form_data.get("email", ""))
        if len(form_data.get("password") or "") < 8:
            self.password_error = "Use at least 8 characters."
        if any((self.first_name_error, self.last_name_error, self.email_error, self.password_error)):
            return None
        self.loading = True
        body = ("{" + ", ".join(f"{k}: {dom_value('su-' + k)}" + (".trim()" if k != "password" else "")
                                for k in ("first_name", "last_name", "email", "password"))
                + f", phone: ({dom_value('su-phone')}.trim() || null)}}")
        return rx.call_script(post_json_script("/api/v1/auth/sign-up", body), callback=SignUpState.finished)

    @rx.event
    def finished(self, result: dict):
        self.loading = False
        if isinstance(result, dict) and result.get("ok"):
            # The same answer whether or not the email already had an account: the email says which.
            data = result.get("data") or {}
            self.done_message = data.get("message") or ("Thanks! Check your email: we've sent you a link to "
                                                         "finish signing up.")
            return None
        fields = api_field_errors(result)
        for key, message in fields.items():
            if hasattr(self, f"{key}_error"):
                setattr(self, f"{key}_error", message)
        if not fields:
            self.form_error = api_error_message(result)
        return None


def sign_up_page() -> rx.Component:
    return layout(
        card(
            page_title(
                "Create your learner account", "Book lessons online and follow your ACT CBT&A log-book progress."
            ),
            rx.form(
                rx.vstack(
                    message_box(SignUpState.form_error, id="sign-up-error"),
                    message_box(SignUpState.done_message, tone="green", icon="mail-check", id="sign-up-done"),
                    rx.grid(
                        field(
                            "First name",
                            id="su-first_name",
                            name="first_name",
                            autocomplete="given-name",
                            error=SignUpState.first_name_error,
                        ),
                        field(
                            "Last name",
                            id="su-last_name",
                            name="last_name",
                            autocomplete="family-name",
                            error=SignUpState.last_name_error,
                        ),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        gap="1rem",
                        width="100%",
                    ),
                    field(
                        "Email address",
                        id="su-email",
                        name="email",
                        type="email",
                        autocomplete="email",
                        error=SignUpState.email_error,
                    ),
                    field(
                        "Mobile number",
                        id="su-phone",
                        name="phone",
                        type="tel",
                        autocomplete="tel",
                        required=False,
                        hint="So your instructor can reach you, e.g. 0412 345 678.",
                        error=SignUpState.phone_error,
                    ),
                    field(
                        "Password",
                        id="su-password",
                        name="password",
                        type="password",
                        autocomplete="new-password",
                        hint=PASSWORD_HINT,
                        error=SignUpState.password_error,
                    ),
                    submit_button(
                        "Create account",
                        loading=SignUpState.loading,
                        id="sign-up-submit",
                        loading_label="Creating your account\u2026",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=SignUpState.submit,
                no_validate=True,
                method="post",
                aria_label="Create your learner account",
                width="100%",
            ),
            rx.text(
                "Already have an account? ", rx.link("Sign in", href="/sign-in", underline="always"), size="2", as_="p"
            ),
            rx.text(
                "Parents and supervising drivers: ask your learner to invite you from their account.",
                size="2",
                color=rx.color("gray", 11),
                as_="p",
            ),
            max_width="34rem",
        ),
        active=ROUTE,
    )


ON_LOAD = [SignUpState.reset_form, AuthState.redirect_if_signed_in]
