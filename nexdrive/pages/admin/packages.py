"""``/admin/packages``: the owner defines lesson packages (credits, price, validity, which lessons).

``packages.save_package`` validates and stores; the page shows its message next to
the field it names. Taking a package off sale (inactive) leaves the credits
learners already bought untouched.
"""
from __future__ import annotations

import dataclasses
import uuid

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.pages.admin.payments import dollars_to_cents
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.scheduling import catalogue
from nexdrive.services.money import packages
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.formats import aud
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/packages"
TITLE = "Lesson packages | NexDrive Academy admin"
DESCRIPTION = "Define NexDrive Academy lesson packages: credits, price, validity and the lessons they cover."
FORM_FIELDS = ("name", "description", "total_credits", "price", "valid_for_days")


@dataclasses.dataclass
class PackageDef:
    package_id: str = ""
    name: str = ""
    description: str = ""
    credits: str = ""
    price: str = ""
    price_dollars: str = ""
    per_lesson: str = ""
    validity: str = ""
    valid_for_days: str = ""
    covers: str = ""
    service_ids: list[str] = dataclasses.field(default_factory=list)
    is_active: bool = True


def package_def(p: dict) -> PackageDef:
    """A ``packages.package_view`` dict as a card (and the form's starting values)."""
    credits = int(p.get("total_credits") or 0)
    price = int(p.get("price_cents") or 0)
    services = [str(s) for s in (p.get("service_ids") or [])]
    days = p.get("valid_for_days")
    return PackageDef(
        package_id=str(p["id"]), name=str(p.get("name") or ""), description=str(p.get("description") or ""),
        credits=str(credits), price=aud(price), price_dollars=f"{price // 100}.{price % 100:02d}",
        per_lesson=aud(price // credits) if credits else "", validity=f"{days} days" if days else "No expiry",
        valid_for_days=str(days or ""), covers=", ".join(p.get("service_names") or []) or "Any lesson",
        service_ids=services, is_active=bool(p.get("is_active", True)),
    )


class AdminPackagesState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    items: list[PackageDef] = []
    services: list[dict[str, str]] = []
    # The form (new or editing)
    form_open: bool = False
    editing_id: str = ""
    form: dict[str, str] = {k: "" for k in FORM_FIELDS}
    chosen_services: list[str] = []
    active: bool = True
    errors: dict[str, str] = {}
    saving: bool = False

    @rx.event
    async def load(self):
        self.loaded, self.error = False, ""
        yield

        def work(session, actor):
            return {"packages": packages.list_packages(session, actor, include_inactive=True),
                    "services": catalogue.list_services(session, online_only=False)}
        try:
            data = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        self.services = [{"id": s["id"], "name": s["name"], "price": s["price"]} for s in data["services"]]
        self.items = [package_def(p) for p in data["packages"]]
        self.loaded = True

    @rx.event
    def new_package(self):
        self.editing_id = ""
        self.form = {"name": "", "description": "", "total_credits": "10", "price": "", "valid_for_days": "365"}
        self.chosen_services, self.active, self.errors, self.notice = [], True, {}, ""
        self.form_open = True

    @rx.event
    def edit_package(self, package_id: str):
        p = next((x for x in self.items if x.package_id == package_id), None)
        if p is None:
            return
        self.editing_id = package_id
        self.form = {"name": p.name, "description": p.description, "total_credits": p.credits,
                     "price": p.price_dollars, "valid_for_days": p.valid_for_days}
        self.chosen_services, self.active, self.errors, self.notice = list(p.service_ids), p.is_active, {}, ""
        self.form_open = True

    @rx.event
    def set_form_open(self, value: bool):
        if not self.saving:
            self.form_open = bool(value)

    @rx.event
    def set_field(self, name: str, value: str):
        if name in FORM_FIELDS:
            self.form = {**self.form, name: value[:500]}
            self.errors = {k: v for k, v in self.errors.items() if k != name}

    @rx.event
    def toggle_service(self, service_id: str, checked: bool):
        chosen = [s for s in self.chosen_services if s != service_id]
        self.chosen_services = chosen + [service_id] if checked else chosen

    @rx.event
    def set_active(self, value: bool):
        self.active = bool(value)

    def _validate(self) -> dict | None:
        errors: dict[str, str] = {}
        f = self.form
        if not f["name"].strip():
            errors["name"] = "Give the package a name, e.g. 10-lesson package."
        credits = f["total_credits"].strip()
        if not credits.isdigit() or int(credits) <= 0:
            errors["total_credits"] = "Enter a whole number of lessons (1 or more)."
        price = dollars_to_cents(f["price"])
        if price is None or price < 0:
            errors["price"] = "Enter the price in dollars, e.g. 800.00."
        days = f["valid_for_days"].strip()
        if days and (not days.isdigit() or int(days) <= 0):
            errors["valid_for_days"] = "Enter a number of days, or leave it empty for no expiry."
        self.errors = errors
        if errors:
            return None
        return {"name": f["name"].strip(), "description": f["description"].strip() or None,
                "total_credits": int(credits), "price_cents": price, "valid_for_days": int(days) if days else None}

    @rx.event
    async def save(self):
        if self.saving:
            return
        values = self._validate()
        if values is None:
            return
        self.saving = True
        yield
        package_id = uuid.UUID(self.editing_id) if self.editing_id else None
        service_ids = [uuid.UUID(s) for s in self.chosen_services]
        active = self.active

        def work(session, actor):
            return packages.save_package(session, actor, package_id=package_id, service_ids=service_ids,
                                         is_active=active, **values)
        try:
            await run_as_actor(self, work)
        except AuthRequired:
            self.saving = False
            return
        except ServiceError as exc:
            self.saving = False
            field = str(exc.details.get("field") or "")
            field = "price" if field == "price_cents" else field
            if field in FORM_FIELDS:
                self.errors = {**self.errors, field: exc.message}
            else:
                self.errors = {**self.errors, "form": exc.message}
            return
        self.saving, self.form_open = False, False
        self.notice = f"Saved {values['name']}."
        yield AdminPackagesState.load


# ─────────────────────────────────────────────────────────────────────────────
# View
# ─────────────────────────────────────────────────────────────────────────────

def _input(label: str, name: str, *, hint: str = "", slot: str = "", input_mode: str = "text",
           required: bool = True, **limits) -> rx.Component:
    st = AdminPackagesState
    error = st.errors.get(name, "")
    return rx.vstack(
        rx.el.label(label, *([] if required else [rx.text(" (optional)", as_="span", color=rx.color("gray", 10),
                                                          weight="regular")]),
                    html_for=f"pkg-{name}", font_weight="600", font_size="var(--font-size-2)"),
        *([rx.text(hint, size="1", color=rx.color("gray", 11), id=f"pkg-{name}-hint")] if hint else []),
        rx.input(*([rx.input.slot(slot)] if slot else []), id=f"pkg-{name}", value=st.form[name],
                 on_change=lambda v: st.set_field(name, v), input_mode=input_mode, size="3", width="100%",
                 aria_invalid=rx.cond(error != "", "true", "false"),
                 aria_describedby=f"pkg-{name}-error" + (f" pkg-{name}-hint" if hint else ""),
                 color_scheme=rx.cond(error != "", "red", "gray"), **limits),
        rx.text(error, id=f"pkg-{name}-error", role="alert", size="2", color=rx.color("red", 11),
                display=rx.cond(error != "", "block", "none")),
        spacing="1", width="100%",
    )


def package_form() -> rx.Component:
    st = AdminPackagesState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(st.editing_id != "", "Edit package", "New package")),
            rx.dialog.description("Learners buy a package once and use one credit per lesson.", size="2"),
            rx.vstack(
                # The same limits as services/packages.save_package, which checks them again.
                _input("Name", "name", max_length=100, hint="Up to 100 characters."),
                _input("Description", "description", required=False, max_length=500),
                rx.grid(
                    _input("Lessons (credits)", "total_credits", input_mode="numeric", max_length=3),
                    _input("Price (AUD)", "price", slot="$", input_mode="decimal"),
                    columns=rx.breakpoints(initial="1", sm="2"), gap="0.75rem", width="100%",
                ),
                _input("Valid for (days)", "valid_for_days", input_mode="numeric", required=False, max_length=4,
                       hint=f"1 to {packages.MAX_VALID_DAYS} days, counted from the purchase. Empty: no expiry."),
                rx.el.fieldset(
                    rx.el.legend("Lessons it covers", style={"font-weight": "600", "font-size": "var(--font-size-2)"}),
                    rx.text("None ticked: any lesson.", size="1", color=rx.color("gray", 11)),
                    rx.vstack(
                        rx.foreach(st.services, lambda s: rx.el.label(
                            rx.hstack(
                                rx.checkbox(checked=st.chosen_services.contains(s["id"]),
                                            on_change=lambda c: st.toggle_service(s["id"], c),
                                            id="pkg-svc-" + s["id"]),
                                rx.text(s["name"], " (", s["price"], ")", size="2"),
                                spacing="2", align="center",
                            ),
                            html_for="pkg-svc-" + s["id"],
                        )),
                        spacing="2", margin_top="0.35rem",
                    ),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.el.label(rx.hstack(rx.switch(checked=st.active, on_change=st.set_active, id="pkg-active"),
                                      rx.text("On sale (learners can buy it)", size="2"), spacing="2",
                                      align="center"), html_for="pkg-active"),
                message_box(st.errors.get("form", ""), id="pkg-form-error"),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", size="3",
                                              disabled=st.saving)),
                    rx.button(rx.cond(st.saving, "Saving…", "Save package"), size="3", on_click=st.save,
                              loading=st.saving, id="save-package"),
                    gap="0.75rem", justify="end", wrap="wrap", width="100%",
                ),
                spacing="4", width="100%", margin_top="1rem",
            ),
            max_width="34rem", id="package-dialog",
        ),
        open=st.form_open, on_open_change=st.set_form_open,
    )


def _package_card(p: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(p.name, as_="h2", size="4"), rx.spacer(),
                      rx.badge(rx.cond(p.is_active, "On sale", "Not on sale"),
                               color_scheme=rx.cond(p.is_active, "green", "gray")),
                      width="100%", align="center", wrap="wrap"),
            rx.cond(p.description != "", rx.text(p.description, size="2", color=rx.color("gray", 11))),
            rx.text(p.credits + " lessons for " + p.price + " (" + p.per_lesson + " each)", weight="medium"),
            rx.text("Valid: " + p.validity, size="2"),
            rx.text("Covers: " + p.covers, size="2", color=rx.color("gray", 11)),
            rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", size="2",
                      on_click=AdminPackagesState.edit_package(p.package_id), class_name="edit-package",
                      aria_label="Edit " + p.name),
            spacing="2", width="100%", align="start",
        ),
        width="100%", class_name="package-def",
    )


def admin_packages_page() -> rx.Component:
    st = AdminPackagesState
    return layout(
        container(
            rx.vstack(
                page_title("Lesson packages", "Prepaid bundles of lessons: how many, the price, how long they "
                                              "last and which lessons they cover."),
                rx.hstack(
                    rx.button(rx.icon("plus", size=16), "New package", on_click=st.new_package, size="2",
                              id="new-package"),
                    button_link("Payments", "/admin/payments", icon="receipt", variant="soft", size="2"),
                    button_link("Admin home", "/admin", icon="arrow-left", variant="soft", size="2"),
                    wrap="wrap", spacing="3",
                ),
                message_box(st.notice, tone="green", id="package-notice", icon="circle-check"),
                rx.cond(
                    st.loaded,
                    rx.vstack(
                        message_box(st.error, id="packages-error"),
                        rx.cond(st.items.length() > 0,
                                rx.grid(rx.foreach(st.items, _package_card),
                                        columns=rx.breakpoints(initial="1", sm="2", lg="3"), gap="0.75rem",
                                        width="100%", id="package-list"),
                                rx.text("No packages yet.", color=rx.color("gray", 11))),
                        width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading packages…"), role="status"),
                ),
                package_form(),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), AdminPackagesState.load]
