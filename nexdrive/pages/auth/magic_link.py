"""Magic-link landing ``/sign-in/link?token=...``.

Opening the page (GET) only describes the link; the "Sign me in" button POSTs
``/api/v1/auth/magic-link/consume``, so a mail scanner fetching the link can't
use it up.
"""
from __future__ import annotations

import json

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.pages.auth._forms import card, go_to, message_box, page_title
from nexdrive.services.identity import accounts
from nexdrive.state.auth import api_error_message, home_for, post_json_script, run_anonymous

ROUTE = "/sign-in/link"
TITLE = "Sign in with your email link | NexDrive Academy"
DESCRIPTION = "Finish signing in to NexDrive Academy with the one-time link we emailed you."

_REASONS = {
    "used": "This link has already been used. Please request a new one.",
    "expired": "This link has expired. Please request a new one.",
}


class MagicLinkState(rx.State):
    checked: bool = False
    valid: bool = False
    email_hint: str = ""
    problem: str = ""
    form_error: str = ""
    loading: bool = False

    @rx.event
    async def load(self):
        self.checked = self.valid = self.loading = False
        self.email_hint = self.problem = self.form_error = ""
        token = self.router.url.query_parameters.get("token", "")
        info = await run_anonymous(lambda s: accounts.describe_magic_link(s, token)) if token else None
        self.checked = True
        if info and info["valid"] and info["purpose"] == "sign_in":
            self.valid = True
            self.email_hint = info["email_hint"] or ""
        else:
            self.problem = _REASONS.get((info or {}).get("reason"), "This link isn't valid. Please request a new one.")

    @rx.event
    def consume(self):
        token = self.router.url.query_parameters.get("token", "")
        self.loading = True
        self.form_error = ""
        return rx.call_script(post_json_script("/api/v1/auth/magic-link/consume", f"{{token: {json.dumps(token)}}}"),
                              callback=MagicLinkState.finished)

    @rx.event
    def finished(self, result: dict):
        if isinstance(result, dict) and result.get("ok"):
            role = ((result.get("data") or {}).get("me") or {}).get("user", {}).get("role")
            return go_to(home_for(role))
        self.loading = False
        self.form_error = api_error_message(result)
        return None


def magic_link_page() -> rx.Component:
    return layout(
        card(
            page_title("Sign in with your email link"),
            rx.cond(
                ~MagicLinkState.checked,
                rx.hstack(rx.spinner(), rx.text("Checking your link\u2026"), role="status"),
                rx.cond(
                    MagicLinkState.valid,
                    rx.vstack(
                        rx.text("Signing in as ", rx.text(MagicLinkState.email_hint, as_="span", weight="bold"),
                                ".", as_="p"),
                        message_box(MagicLinkState.form_error, id="magic-link-error"),
                        rx.button("Sign me in", id="magic-link-sign-in", size="3", width="100%",
                                  loading=MagicLinkState.loading, on_click=MagicLinkState.consume),
                        rx.text("The link works once. If you didn't ask for it, just close this page.",
                                size="2", color=rx.color("gray", 11), as_="p"),
                        spacing="3",
                        align="stretch",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.callout(MagicLinkState.problem, icon="circle-alert", color_scheme="red", role="alert"),
                        rx.link("Back to sign in", href="/sign-in"),
                        spacing="3",
                        width="100%",
                    ),
                ),
            ),
        ),
        active=ROUTE,
    )


ON_LOAD = [MagicLinkState.load]
