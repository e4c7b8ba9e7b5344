"""``/admin/settings``: the business settings (name, ABN, GST registration, contact details, cancellation
notice and fee, pay later, booking rules, CBT&A rules). ``/admin/reports`` is ``pages/admin/reports.py``.

The rules are ``services.admin.business`` (the administrator's alone).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.auth._forms import field, message_box, page_title
from nexdrive.services.admin import business
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/settings"
TITLE = "Business settings | NexDrive Academy admin"
DESCRIPTION = "NexDrive Academy business details, cancellation policy and booking rules."

TEXT_FIELDS = [("business_name", "Business name", True, None), ("abn", "ABN", False, "11 digits"),
               ("address", "Address", False, None), ("phone", "Phone", False, None),
               ("email", "Email", False, None), ("website", "Website", False, "https://…")]
NUMBER_FIELDS = [("cancellation_notice_hours", "Free cancellation up to (hours before)"),
                 ("late_cancellation_fee", "Late cancellation fee ($)"),
                 ("hold_minutes", "Hold a time while paying (minutes)"),
                 ("min_booking_notice_hours", "Online booking notice (hours)"),
                 ("booking_horizon_days", "Bookings open ahead (days)"),
                 ("default_buffer_minutes", "Travel time between lessons (minutes)"),
                 ("min_lesson_minutes", "Final drive minimum (minutes)"),
                 ("final_drive_notice_business_days", "Final drive notice (business days)"),
                 ("review_min_gap_hours", "Gap before a review (hours)")]
FLAGS = [("gst_registered", "Registered for GST (prices include GST; tax invoices)"),
         ("allow_pay_later", "Customers may confirm now and pay at the lesson")]


class SettingsState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    busy: bool = False
    version: int = 0  # remounts the form with the saved values

    def _take(self, data: dict):
        self.values = {k: ("on" if v is True else "" if v is False else str(v)) for k, v in data.items()}

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.errors = False, "", {}
        yield
        try:
            data = await run_as_actor(self, business.get_settings)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self._take(data)
        self.loaded = True

    @rx.event
    async def save(self, form: dict):
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        changes = {k: (form.get(k) or "").strip() for k, *_ in TEXT_FIELDS}
        changes.update({k: (form.get(k) or "").strip() for k, _ in NUMBER_FIELDS})
        changes.update({k: bool(form.get(k)) for k, _ in FLAGS})
        try:
            out = await run_as_actor(self, lambda s, a: business.update_settings(s, a, changes))
        except ServiceError as exc:
            self.busy, self.errors = False, {str(exc.details.get("field") or "form"): exc.message}
            return
        self._take(out["settings"])
        self.busy, self.version = False, self.version + 1
        self.notice = ("Saved: the website shows the new settings now." if out["changed"]
                       else "Nothing to change.")


def _err(key: str) -> rx.Var:
    return SettingsState.errors.get(key, "")


def settings_page() -> rx.Component:
    st, v = SettingsState, SettingsState.values
    form = rx.form(rx.vstack(
        rx.heading("The business", as_="h3", size="4"),
        rx.grid(*[field(label, id=key, required=req, hint=hint, default_value=v[key], error=_err(key))
                  for key, label, req, hint in TEXT_FIELDS],
                columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%"),
        *[rx.el.label(rx.el.input(type="checkbox", name=key, id=key, default_checked=v[key] == "on",
                                  style={"width": "1.1rem", "height": "1.1rem"}),
                      rx.text(label, as_="span", size="2"),
                      style={"display": "flex", "gap": "0.5rem", "alignItems": "center", "minHeight": "2rem"})
          for key, label in FLAGS],
        rx.heading("Cancellations and bookings", as_="h3", size="4"),
        rx.grid(*[field(label, id=key, default_value=v[key], error=_err(key), input_mode="decimal")
                  for key, label in NUMBER_FIELDS],
                columns=rx.breakpoints(initial="1", sm="2", lg="3"), gap="1rem", width="100%"),
        rx.text(_err("form"), role="alert", size="2", color=rx.color("red", 11)),
        rx.button("Save settings", type="submit", id="settings-save", loading=st.busy, size="3"),
        spacing="4", width="100%"), on_submit=st.save, reset_on_submit=False, width="100%", id="settings-form",
        key=st.version.to_string(), aria_label="Business settings")
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Business settings", "What the website, invoices and booking rules say. Every change is "
                                        "recorded in the audit log."),
        message_box(st.error),
        message_box(st.notice, tone="green", id="settings-notice", icon="circle-check"),
        rx.cond(st.loaded, panel("Settings", "settings-panel", form),
                rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%"), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), SettingsState.load]
