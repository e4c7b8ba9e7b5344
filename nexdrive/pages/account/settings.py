"""Account settings ``/account``: profile, messages we send you, set or change password, sign out of all devices.

Profile changes go through ``accounts.update_me`` as the signed-in user. Changing
the password and signing out everywhere go through the API, because both
replace the session cookie.
"""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.pages.auth._forms import field, go_to, message_box, page_title, submit_button
from nexdrive.pages.auth.sign_out import sign_out_button
from nexdrive.services.identity import accounts
from nexdrive.services.messaging import preferences
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.state.auth import (
    api_error_message,
    api_field_errors,
    dom_value,
    post_json_script,
    require_role,
    run_as_actor,
)

ROUTE = "/account"
TITLE = "Your account | NexDrive Academy"
DESCRIPTION = "Your NexDrive Academy account: profile, password and signed-in devices."


def _profile_of(me: dict) -> dict:
    p = me.get("profile") or {}
    return {"first_name": p.get("first_name") or "", "last_name": p.get("last_name") or "",
            "phone": p.get("phone") or "", "email": (me.get("user") or {}).get("email") or ""}


class AccountState(rx.State):
    loaded: bool = False
    profile: dict[str, str] = {}
    profile_errors: dict[str, str] = {}
    profile_message: str = ""
    profile_error: str = ""
    saving: bool = False
    # password
    current_password_error: str = ""
    new_password_error: str = ""
    password_message: str = ""
    password_error: str = ""
    changing: bool = False
    has_password: bool = True  # False: the account signs in by link only; it sets a first password
    # everywhere
    everywhere_error: str = ""
    signing_out_all: bool = False

    @rx.event
    async def load(self):
        self.loaded = False
        self.profile_errors = {}
        self.profile_message = self.profile_error = self.password_message = self.password_error = ""
        self.current_password_error = self.new_password_error = self.everywhere_error = ""
        self.saving = self.changing = self.signing_out_all = False
        try:
            me = await run_as_actor(self, accounts.get_me)
        except AuthRequired:
            return
        self.profile = _profile_of(me)
        self.has_password = bool((me.get("user") or {}).get("has_password", True))
        self.loaded = True

    @rx.event
    async def save_profile(self, form_data: dict):
        self.profile_errors = {}
        self.profile_message = self.profile_error = ""
        changes = {k: (form_data.get(k) or "").strip() for k in ("first_name", "last_name", "phone")}
        errors = {}
        if not changes["first_name"]:
            errors["first_name"] = "Enter your first name."
        if not changes["last_name"]:
            errors["last_name"] = "Enter your last name."
        if errors:
            self.profile_errors = errors
            return
        changes["phone"] = changes["phone"] or None
        self.saving = True
        yield
        try:
            me = await run_as_actor(self, lambda s, a: accounts.update_me(s, a, changes))
        except AuthRequired:
            self.saving = False
            yield go_to("/sign-in?next=/account")
            return
        except ValidationFailed as exc:
            field_name = exc.details.get("field")
            if field_name:
                self.profile_errors = {field_name: exc.message}
            else:
                self.profile_error = exc.message
        except ServiceError as exc:
            self.profile_error = exc.message
        else:
            self.profile = _profile_of(me)
            self.profile_message = "Your details are saved."
        self.saving = False

    @rx.event
    def change_password(self, form_data: dict):
        self.current_password_error = self.new_password_error = self.password_message = self.password_error = ""
        if self.has_password and not form_data.get("current_password"):
            self.current_password_error = "Enter your current password."
        if len(form_data.get("new_password") or "") < 8:
            self.new_password_error = "Use at least 8 characters."
        if self.current_password_error or self.new_password_error:
            return None
        self.changing = True
        current = f"current_password: {dom_value('acc-current-password')}, " if self.has_password else ""
        body = f"{{{current}new_password: {dom_value('acc-new-password')}}}"
        return rx.call_script(post_json_script("/api/v1/auth/password/change", body),
                              callback=AccountState.password_changed)

    @rx.event
    def password_changed(self, result: dict):
        self.changing = False
        if isinstance(result, dict) and result.get("ok"):
            first = not self.has_password
            self.has_password = True
            self.password_message = ("Your password is set: from now on you can sign in with your email and "
                                     "this password (sign-in links still work)." if first else
                                     "Your password is changed. You've been signed out on every other device; "
                                     "this one stays signed in.")
            return rx.call_script(
                "['acc-current-password','acc-new-password'].forEach(i => {const e = document.getElementById(i);"
                " if (e) e.value = '';})")
        fields = api_field_errors(result)
        if "current_password" in fields:
            self.current_password_error = fields["current_password"]
        elif "new_password" in fields or "password" in fields:
            self.new_password_error = fields.get("new_password") or fields.get("password")
        else:
            self.password_error = api_error_message(result)
        return None

    @rx.event
    def sign_out_everywhere(self):
        self.signing_out_all = True
        self.everywhere_error = ""
        return rx.call_script(post_json_script("/api/v1/auth/sign-out-all", "{}"),
                              callback=AccountState.signed_out_everywhere)

    @rx.event
    def signed_out_everywhere(self, result: dict):
        if isinstance(result, dict) and (result.get("ok") or result.get("status") == 401):
            return go_to("/sign-in?signed_out=1")
        self.signing_out_all = False
        self.everywhere_error = api_error_message(result)
        return None


CHANNEL_NAMES = {"sms": "SMS", "email": "Email"}


@dataclasses.dataclass
class PrefRow:
    key: str = ""  # "<type>:<channel>"
    label: str = ""
    enabled: bool = True


def _pref_rows(prefs: list[dict]) -> tuple[list[PrefRow], str]:
    rows = [PrefRow(f"{p['type']}:{ch}", f"{p['label']} ({CHANNEL_NAMES.get(ch, ch)})", on)
            for p in prefs if p["optional"] for ch, on in p["channels"].items()]
    always = ", ".join(p["label"].lower() for p in prefs if not p["optional"])
    return rows, always


class NotificationPrefsState(rx.State):
    """The optional messages a person can turn off (services/preferences.py decides which)."""

    rows: list[PrefRow] = []
    always: str = ""
    message: str = ""
    error: str = ""

    @rx.event
    async def load(self):
        self.message = self.error = ""
        try:
            prefs = await run_as_actor(self, preferences.get_preferences)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.rows, self.always = _pref_rows(prefs)

    @rx.event
    async def toggle(self, key: str, enabled: bool):
        self.message = self.error = ""
        kind, _, channel = key.partition(":")
        try:
            await run_as_actor(self, lambda s, a: preferences.set_preference(
                s, a, notification_type=kind, channel=channel, enabled=bool(enabled)))
            prefs = await run_as_actor(self, preferences.get_preferences)
        except AuthRequired:
            yield go_to("/sign-in?next=/account")
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.rows, self.always = _pref_rows(prefs)
        self.message = "Saved."


def _pref_switch(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.label(
            rx.hstack(
                rx.switch(checked=row.enabled, on_change=lambda on: NotificationPrefsState.toggle(row.key, on),
                          id="pref-" + row.key),
                rx.text(row.label, size="2"),
                spacing="3",
                align="center",
            ),
        ),
        list_style="none",
        padding_y="0.35rem",
    )


def _section(title: str, section_id: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, as_="h2", size="5", id=f"{section_id}-heading"),
            *children,
            spacing="4",
            align="stretch",
            width="100%",
        ),
        id=section_id,
        aria_labelledby=f"{section_id}-heading",
        size="3",
        width="100%",
        as_child=False,
    )


def account_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                page_title("Your account", "Your details, your password and where you're signed in."),
                rx.cond(
                    AccountState.loaded,
                    rx.vstack(
                        _section(
                            "Your details", "profile",
                            rx.text("Email: ", rx.text(AccountState.profile["email"], as_="span", weight="bold"),
                                    size="2", as_="p"),
                            rx.form(
                                rx.vstack(
                                    message_box(AccountState.profile_error),
                                    message_box(AccountState.profile_message, tone="green", icon="check"),
                                    rx.grid(
                                        field("First name", id="acc-first-name", name="first_name",
                                              autocomplete="given-name",
                                              default_value=AccountState.profile["first_name"],
                                              error=AccountState.profile_errors.get("first_name", "")),
                                        field("Last name", id="acc-last-name", name="last_name",
                                              autocomplete="family-name",
                                              default_value=AccountState.profile["last_name"],
                                              error=AccountState.profile_errors.get("last_name", "")),
                                        columns=rx.breakpoints(initial="1", sm="2"),
                                        gap="1rem",
                                        width="100%",
                                    ),
                                    field("Mobile number", id="acc-phone", name="phone", type="tel",
                                          autocomplete="tel", required=False,
                                          default_value=AccountState.profile["phone"],
                                          error=AccountState.profile_errors.get("phone", "")),
                                    rx.box(submit_button("Save details", loading=AccountState.saving,
                                                         id="save-profile", loading_label="Saving\u2026"),
                                           max_width="16rem"),
                                    spacing="3",
                                    width="100%",
                                ),
                                on_submit=AccountState.save_profile,
                                no_validate=True,
        method="post",
                                aria_label="Your details",
                            ),
                        ),
                        _section(
                            "Messages we send you", "notifications",
                            rx.text("Turn off the messages you don't want. ", "Always sent: ",
                                    NotificationPrefsState.always, ".", size="2", as_="p",
                                    color=rx.color("gray", 11)),
                            message_box(NotificationPrefsState.error),
                            rx.cond(NotificationPrefsState.message != "",
                                    rx.text(NotificationPrefsState.message, size="2", role="status",
                                            color=rx.color("green", 11))),
                            rx.el.ul(rx.foreach(NotificationPrefsState.rows, _pref_switch), margin="0",
                                     padding="0"),
                        ),
                        _section(
                            rx.cond(AccountState.has_password, "Change your password", "Set a password"),
                            "password",
                            rx.form(
                                rx.vstack(
                                    message_box(AccountState.password_error),
                                    message_box(AccountState.password_message, tone="green", icon="check"),
                                    rx.cond(
                                        AccountState.has_password,
                                        field("Current password", id="acc-current-password",
                                              name="current_password", type="password",
                                              autocomplete="current-password",
                                              error=AccountState.current_password_error),
                                        rx.text("You sign in with emailed links. Set a password to sign in with "
                                                "your email and password as well.", size="2", as_="p",
                                                id="acc-no-password"),
                                    ),
                                    field("New password", id="acc-new-password", name="new_password",
                                          type="password", autocomplete="new-password",
                                          hint="At least 8 characters. A few unrelated words make a strong password.",
                                          error=AccountState.new_password_error),
                                    rx.box(submit_button(rx.cond(AccountState.has_password, "Change password",
                                                                 "Set password"),
                                                         loading=AccountState.changing,
                                                         id="change-password", loading_label="Saving\u2026"),
                                           max_width="16rem"),
                                    spacing="3",
                                    width="100%",
                                ),
                                on_submit=AccountState.change_password,
                                no_validate=True,
        method="post",
                                aria_label="Change your password",
                            ),
                        ),
                        _section(
                            "Signed-in devices", "security",
                            rx.text("Lost a phone or used a shared computer? Sign out everywhere, including "
                                    "here. You'll need to sign in again.", size="2", as_="p"),
                            message_box(AccountState.everywhere_error),
                            rx.hstack(
                                sign_out_button(id="sign-out-here"),
                                rx.button(rx.icon("monitor-smartphone", size=18, aria_hidden="true"),
                                          "Sign out of all devices", type="button", color_scheme="red",
                                          variant="soft", id="sign-out-everywhere",
                                          loading=AccountState.signing_out_all,
                                          on_click=AccountState.sign_out_everywhere),
                                wrap="wrap",
                                spacing="3",
                            ),
                        ),
                        spacing="5",
                        width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading your account\u2026"), role="status"),
                ),
                spacing="5",
                width="100%",
                max_width="44rem",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role(), AccountState.load, NotificationPrefsState.load]
