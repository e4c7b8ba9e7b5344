"""Sign out ``/sign-out``: an explicit button that POSTs ``/api/v1/auth/sign-out``."""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, go_to, message_box, page_title
from nexdrive.state.auth import AuthState, post_json_script

ROUTE = "/sign-out"
TITLE = "Sign out | NexDrive Academy"
DESCRIPTION = "Sign out of NexDrive Academy on this device."

SIGN_OUT_SCRIPT = post_json_script("/api/v1/auth/sign-out", "{}")


class SignOutState(rx.State):
    loading: bool = False
    form_error: str = ""

    @rx.event
    def reset_form(self):
        self.loading = False
        self.form_error = ""

    @rx.event
    def sign_out(self):
        self.loading = True
        return rx.call_script(SIGN_OUT_SCRIPT, callback=SignOutState.finished)

    @rx.event
    def finished(self, result: dict):
        # 401 means the session had already ended: signed out either way.
        if isinstance(result, dict) and (result.get("ok") or result.get("status") == 401):
            return go_to("/sign-in?signed_out=1")
        self.loading = False
        self.form_error = "We couldn't sign you out. Check your connection and try again."
        return None


def sign_out_button(**props) -> rx.Component:
    """A button that signs out of this device (usable on any page)."""
    props.setdefault("variant", "soft")
    return rx.button(rx.icon("log-out", size=18, aria_hidden="true"), "Sign out", type="button",
                     loading=SignOutState.loading, on_click=SignOutState.sign_out, **props)


def sign_out_page() -> rx.Component:
    return layout(
        card(
            page_title("Sign out"),
            rx.cond(
                AuthState.signed_in,
                rx.vstack(
                    rx.text("You're signed in as ", rx.text(AuthState.email, as_="span", weight="bold"), ".",
                            as_="p"),
                    message_box(SignOutState.form_error),
                    sign_out_button(id="sign-out-button", size="3", variant="solid", width="100%"),
                    rx.link("Sign out of all devices instead", href="/account#security", size="2"),
                    spacing="3",
                    align="stretch",
                    width="100%",
                ),
                rx.vstack(
                    rx.text("You're not signed in.", as_="p"),
                    rx.link("Sign in", href="/sign-in"),
                    spacing="3",
                ),
            ),
        ),
        active=ROUTE,
    )


ON_LOAD = [SignOutState.reset_form, AuthState.check]
