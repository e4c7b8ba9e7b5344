"""``/admin/services``: the lesson types and their prices (list, create, edit price / duration / active)
and the vouchers (list, create, switch off). The public lessons page and the booking widget read the new
price on their next load. Rules: ``services.admin.business`` (the administrator's alone, audited).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.models.catalogue import SERVICE_CATEGORIES
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import select_field
from nexdrive.pages.auth._forms import field, message_box, page_title
from nexdrive.services.admin import business
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/services"
TITLE = "Lesson types, prices and vouchers | NexDrive Academy admin"
DESCRIPTION = "NexDrive Academy lesson types and prices, and vouchers."
ELIGIBILITY = [("", "Anyone"), ("review_1", "Review 1 (tasks 1-17 done)"), ("review_2", "Review 2"),
               ("final_drive", "Final drive")]
VOUCHER_TYPES = [("percentage", "Percentage off"), ("fixed_amount", "Amount off ($)"), ("free_lesson", "Free lesson")]


def _errors(exc: ServiceError) -> dict[str, str]:
    return {str(exc.details.get("field") or "form"): exc.message}


class ServicesState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    rows: list[dict[str, str]] = []
    vouchers: list[dict[str, str]] = []
    editing: str = ""  # a service id, "new", or ""
    current: dict[str, str] = {}
    errors: dict[str, str] = {}
    voucher_errors: dict[str, str] = {}
    busy: bool = False

    async def _fetch(self):
        try:
            rows, vouchers = await run_as_actor(self, lambda s, a: (business.list_services(s, a),
                                                                    business.list_vouchers(s, a)))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.rows = [{k: str(v) for k, v in r.items()} for r in rows]
        self.vouchers = [{k: str(v) for k, v in r.items()} for r in vouchers]

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.editing, self.errors = False, "", "", {}
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    def edit(self, service_id: str):
        self.errors, self.notice = {}, ""
        self.editing = service_id
        self.current = next((r for r in self.rows if r["id"] == service_id), {
            "name": "", "slug": "", "duration_minutes": "60", "price_dollars": "", "category": "lesson",
            "is_bookable_online": "True", "is_active": "True", "eligibility_kind": "", "description": "",
            "sort_order": "0", "min_notice_hours": "24", "buffer_minutes": ""})

    @rx.event
    def cancel(self):
        self.editing, self.errors = "", {}

    @rx.event
    async def save(self, form: dict):
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        data = {k: (form.get(k) or "").strip() for k in ("name", "slug", "description", "duration_minutes", "price",
                                                          "category", "eligibility_kind", "sort_order",
                                                          "min_notice_hours", "buffer_minutes")}
        data["is_bookable_online"] = bool(form.get("is_bookable_online"))
        data["is_active"] = bool(form.get("is_active"))
        editing = self.editing
        try:
            if editing == "new":
                await run_as_actor(self, lambda s, a: business.create_service(s, a, data))
                self.notice = f"{data['name']} added."
            else:
                out = await run_as_actor(self, lambda s, a: business.update_service(s, a, editing, data))
                self.notice = (f"Saved: {out['name']} is {out['price']}." if out["changed"]
                               else "Nothing to change.")
        except ServiceError as exc:
            self.busy, self.errors = False, _errors(exc)
            return
        self.busy, self.editing = False, ""
        await self._fetch()

    @rx.event
    async def create_voucher(self, form: dict):
        self.busy, self.voucher_errors, self.notice = True, {}, ""
        yield
        args = {k: (form.get(k) or "").strip() for k in ("code", "voucher_type", "value", "max_uses", "valid_until")}
        try:
            made = await run_as_actor(self, lambda s, a: business.create_voucher(s, a, **args))
        except ServiceError as exc:
            self.busy, self.voucher_errors = False, _errors(exc)
            return
        self.busy, self.notice = False, f"Voucher {made['code']} created ({made['value']})."
        await self._fetch()

    @rx.event
    async def switch_voucher(self, voucher_id: str, active: bool):
        try:
            await run_as_actor(self, lambda s, a: business.set_voucher_active(s, a, voucher_id, active))
        except ServiceError as exc:
            self.error = exc.message
            return
        await self._fetch()


def _service_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r["name"]),
        rx.table.cell(r["duration_minutes"] + " min", text_align="right"),
        rx.table.cell(r["price"], text_align="right", class_name="service-price"),
        rx.table.cell(rx.cond(r["is_bookable_online"] == "True", "Yes", "No")),
        rx.table.cell(rx.badge(rx.cond(r["is_active"] == "True", "active", "off"),
                               color_scheme=rx.cond(r["is_active"] == "True", "green", "gray"))),
        rx.table.cell(rx.button("Edit", size="1", variant="soft", on_click=ServicesState.edit(r["id"]),
                                id="edit-" + r["slug"])),
        class_name="service-row",
    )


def _check(name: str, label: str, checked) -> rx.Component:
    return rx.el.label(rx.el.input(type="checkbox", name=name, id=name, default_checked=checked,
                                   style={"width": "1.1rem", "height": "1.1rem"}),
                       rx.text(label, as_="span", size="2"),
                       style={"display": "flex", "gap": "0.5rem", "alignItems": "center", "minHeight": "2rem"})


def service_form() -> rx.Component:
    st, c = ServicesState, ServicesState.current

    def err(k):
        return st.errors.get(k, "")
    return rx.form(rx.vstack(
        rx.grid(
            field("Name", id="name", default_value=c["name"], error=err("name")),
            field("Web address part", id="slug", default_value=c["slug"], error=err("slug"), hint="e.g. lesson-60"),
            field("Price ($, GST included if registered)", id="price", default_value=c["price_dollars"],
                  error=err("price"), input_mode="decimal"),
            field("Duration (minutes)", id="duration_minutes", default_value=c["duration_minutes"],
                  error=err("duration_minutes"), input_mode="numeric"),
            select_field("Category", id="category", options=[(x, x.replace("_", " ")) for x in SERVICE_CATEGORIES],
                         default_value=c["category"], error=err("category")),
            select_field("Who may book it", id="eligibility_kind", options=ELIGIBILITY,
                         default_value=c["eligibility_kind"], error=err("eligibility_kind")),
            field("Notice (hours)", id="min_notice_hours", default_value=c["min_notice_hours"],
                  error=err("min_notice_hours"), input_mode="numeric"),
            field("Travel time after it (minutes)", id="buffer_minutes", required=False,
                  default_value=c["buffer_minutes"], error=err("buffer_minutes"), hint="Empty: the instructor's"),
            field("Order on the website", id="sort_order", default_value=c["sort_order"], error=err("sort_order")),
            field("Description", id="description", required=False, default_value=c["description"],
                  error=err("description")),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%"),
        _check("is_bookable_online", "Bookable online", c["is_bookable_online"] == "True"),
        _check("is_active", "Active (shown and sold)", c["is_active"] == "True"),
        rx.text(err("form"), role="alert", size="2", color=rx.color("red", 11)),
        rx.hstack(rx.button("Save", type="submit", id="service-save", loading=st.busy),
                  rx.button("Cancel", type="button", variant="soft", on_click=st.cancel)),
        spacing="3", width="100%"), on_submit=st.save, reset_on_submit=False, width="100%", key=st.editing,
        id="service-form", aria_label="Lesson type")


def voucher_form() -> rx.Component:
    st = ServicesState

    def err(k):
        return st.voucher_errors.get(k, "")
    return rx.form(rx.vstack(
        rx.grid(
            field("Code", id="code", error=err("code")),
            select_field("Kind", id="voucher_type", options=VOUCHER_TYPES, error=err("voucher_type")),
            field("Value (% or $)", id="value", required=False, error=err("value"), input_mode="decimal"),
            field("Uses in all", id="max_uses", required=False, error=err("max_uses"), hint="Empty: no limit"),
            field("Valid until", id="valid_until", type="date", required=False, error=err("valid_until")),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"), gap="1rem", width="100%"),
        rx.text(err("form"), role="alert", size="2", color=rx.color("red", 11)),
        rx.button("Create voucher", type="submit", id="voucher-create", loading=st.busy),
        spacing="3", width="100%"), on_submit=st.create_voucher, width="100%", id="voucher-form",
        aria_label="New voucher")


def _voucher_row(v: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(v["code"]), rx.table.cell(v["value"]),
        rx.table.cell(v["used"] + rx.cond(v["max_uses"] != "", " of " + v["max_uses"], "")),
        rx.table.cell(rx.cond(v["valid_until"] != "", v["valid_until"], "\u2014")),
        rx.table.cell(v["services"]),
        rx.table.cell(rx.cond(v["is_active"] == "True",
                              rx.button("Switch off", size="1", variant="soft", color_scheme="red",
                                        on_click=ServicesState.switch_voucher(v["id"], False)),
                              rx.button("Switch on", size="1", variant="soft",
                                        on_click=ServicesState.switch_voucher(v["id"], True)))),
        class_name="voucher-row")


def _table(headers: tuple[str, ...], rows: rx.Var, render, table_id: str) -> rx.Component:
    return rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in headers])),
        rx.table.body(rx.foreach(rows, render)), variant="surface", size="1", width="100%", id=table_id),
        overflow_x="auto", width="100%")


def services_page() -> rx.Component:
    st = ServicesState
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Lesson types, prices and vouchers", "A new price shows on the website and in the booking "
                                                        "widget at once; lessons already booked keep theirs."),
        message_box(st.error),
        message_box(st.notice, tone="green", id="services-notice", icon="circle-check"),
        rx.cond(st.loaded, rx.vstack(
            panel("Lesson types", "services-panel", rx.vstack(
                _table(("Lesson type", "Length", "Price", "Online", "Status", ""), st.rows, _service_row,
                       "service-table"),
                rx.button(rx.icon("plus"), "New lesson type", on_click=st.edit("new"), variant="soft",
                          id="service-new"),
                spacing="3", width="100%")),
            rx.cond(st.editing != "", panel("Lesson type", "service-edit", service_form())),
            panel("Vouchers", "vouchers-panel", rx.vstack(
                _table(("Code", "Value", "Used", "Until", "For", ""), st.vouchers, _voucher_row, "voucher-table"),
                voucher_form(), spacing="4", width="100%")),
            spacing="4", width="100%"),
            rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%"), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), ServicesState.load]
