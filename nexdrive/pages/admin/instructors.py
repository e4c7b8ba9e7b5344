"""``/admin/instructors``: every instructor with their month (lessons, utilisation, learners, revenue) and
onboarding a contractor; ``/admin/instructors/view?id=…``: one instructor — details, lesson types, weekly
hours, learners, lessons still booked — with edit, deactivate and reactivate.

The rules are in ``services.admin.instructors`` (the administrator's alone).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import kv
from nexdrive.pages.admin.views.instructor_views import edit_form, form_days, form_services, onboard_form
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.admin import instructors
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.scheduling import catalogue
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/instructors"
VIEW_ROUTE = "/admin/instructors/view"
TITLE = "Instructors | NexDrive Academy admin"
VIEW_TITLE = "Instructor | NexDrive Academy admin"
DESCRIPTION = "NexDrive Academy instructors: each one's month, accreditation, and onboarding a new instructor."
VIEW_DESCRIPTION = "One instructor: accreditation, vehicle, lesson types, hours, learners and lessons booked."
DETAIL_KEYS = ("adi_number", "adi_expiry", "accreditation_number", "accreditation_expiry", "vehicle_rego",
               "vehicle_make", "vehicle_model", "vehicle_year", "transmission", "max_lessons_per_day")


def _errors(exc: ServiceError) -> dict[str, str]:
    return {str(exc.details.get("field") or "form").split(".")[0]: exc.message}


def _services(session, actor) -> list[dict[str, str]]:
    return [{"id": s["id"], "name": s["name"], "offered": "no"}
            for s in catalogue.list_services(session, online_only=False)]


class InstructorsState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    month: str = ""
    month_label: str = ""
    rows: list[dict[str, str]] = []
    unassigned: str = ""
    services: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    busy: bool = False
    onboarding: bool = False

    async def _fetch(self):
        month = self.month

        def work(session, actor):
            return instructors.list_instructors(session, actor, month=month or None), _services(session, actor)
        try:
            found, services = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.month, self.month_label = found["month"], found["label"]
        self.rows = [{k: str(v) for k, v in r.items()} for r in found["items"]]
        self.unassigned = found["unassigned_revenue"]
        self.services = services

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.errors = False, "", {}
        self.month = (self.router.url.query_parameters.get("month") or "").strip()[:7]
        self.onboarding = self.router.url.query_parameters.get("new") == "1"
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    def toggle_onboarding(self):
        self.onboarding = not self.onboarding
        self.errors = {}

    @rx.event
    async def onboard(self, form: dict):
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        data = {k: (form.get(k) or "").strip() for k in ("first_name", "last_name", "email", "phone", *DETAIL_KEYS)}
        services, days = form_services(form), form_days(form)
        start, end = (form.get("hours_start") or "").strip(), (form.get("hours_end") or "").strip()

        def work(session, actor):
            hours = instructors.hours_from_days(days, start, end)
            return instructors.onboard_instructor(session, actor, service_ids=services, hours=hours, **data)
        try:
            made = await run_as_actor(self, work)
        except ServiceError as exc:
            self.busy, self.errors = False, _errors(exc)
            return
        self.busy, self.onboarding = False, False
        self.notice = (f"{data['first_name']} {data['last_name']} is onboarded: an invitation to set a password "
                       f"has gone to {data['email']}.")
        await self._fetch()
        yield rx.redirect(f"{VIEW_ROUTE}?id={made['id']}&new=1")


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r["name"], href=VIEW_ROUTE + "?id=" + r["id"], class_name="instructor-link")),
        rx.table.cell(rx.badge(r["status"], color_scheme=rx.cond(r["status"] == "active", "green", "gray"))),
        rx.table.cell(r["lessons"], text_align="right", class_name="instructor-lessons"),
        rx.table.cell(r["utilisation"], text_align="right"),
        rx.table.cell(r["learners"], text_align="right"),
        rx.table.cell(r["revenue"], text_align="right", class_name="instructor-revenue"),
        rx.table.cell(rx.text(r["accreditation"], size="1", color=rx.match(
            r["accreditation_state"], ("lapsed", rx.color("red", 11)), ("warning", rx.color("amber", 11)),
            rx.color("gray", 12)))),
        class_name="instructor-row",
    )


def instructors_page() -> rx.Component:
    st = InstructorsState
    table = rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
            "Instructor", "Status", "Lessons", "Utilisation", "Learners", "Revenue", "Accreditation")])),
        rx.table.body(rx.foreach(st.rows, _row)),
        variant="surface", size="1", width="100%", id="instructor-table",
    ), overflow_x="auto", width="100%")
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Instructors", "Each instructor's month: lessons, utilisation of their weekly hours, active "
                                  "learners and revenue net of refunds (lessons they taught)."),
        message_box(st.error),
        message_box(st.notice, tone="green", id="instructor-notice", icon="circle-check"),
        rx.hstack(
            rx.button(rx.icon("user-plus"), "Onboard an instructor", on_click=st.toggle_onboarding,
                      id="instructor-new", size="2"),
            rx.spacer(),
            rx.text(st.month_label, weight="bold", size="3", id="instructor-month"),
            width="100%", align="center", wrap="wrap",
        ),
        rx.cond(st.onboarding, panel("Onboard an instructor", "instructor-onboarding",
                                     onboard_form(st.errors, st.services, st.onboard, st.busy))),
        rx.cond(st.loaded & (st.error == ""), rx.vstack(
            table,
            rx.text("Payments not for one lesson (packages): ", st.unassigned, size="2", color=rx.color("gray", 11)),
            width="100%", spacing="3"),
            rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status")),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


class InstructorState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    instructor_id: str = ""
    rec: dict[str, str] = {}
    services: list[dict[str, str]] = []
    hours: list[dict[str, str]] = []
    learners: list[dict[str, str]] = []
    future: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    busy: bool = False

    async def _fetch(self):
        iid = self.instructor_id
        try:
            rec = await run_as_actor(self, lambda s, a: instructors.instructor_record(s, a, iid))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.rec = {k: str(v) for k, v in rec.items() if not isinstance(v, (list, dict))}
        self.services = [{"id": s["id"], "name": s["name"], "offered": "yes" if s["offered"] and not
                          rec["all_services"] else "no"} for s in rec["services"]]
        self.hours = [{k: str(v) for k, v in h.items()} for h in rec["hours"]]
        self.learners, self.future = rec["learners"], rec["future_bookings"]

    @rx.event
    async def load(self):
        self.loaded, self.errors = False, {}
        params = self.router.url.query_parameters
        self.instructor_id = params.get("id") or ""
        self.notice = ("Onboarded: the invitation to set a password has been sent." if params.get("new") == "1"
                       else "")
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    async def save(self, form: dict):
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        iid, changes = self.instructor_id, {k: (form.get(k) or "").strip() for k in DETAIL_KEYS}
        services = form_services(form)
        try:
            out = await run_as_actor(self, lambda s, a: instructors.update_instructor(
                s, a, iid, changes=changes, service_ids=services))
        except ServiceError as exc:
            self.busy, self.errors = False, _errors(exc)
            return
        self.busy = False
        self.notice = "Saved." if out["changed"] else "Nothing to change."
        await self._fetch()

    @rx.event
    async def deactivate(self):
        self.busy, self.notice = True, ""
        yield
        iid = self.instructor_id
        try:
            out = await run_as_actor(self, lambda s, a: instructors.deactivate_instructor(s, a, iid))
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        n = len(out["future_bookings"])
        self.busy = False
        self.notice = ("Deactivated: no more times are offered and their sign-in is suspended. "
                       + (f"{n} lesson{'s are' if n != 1 else ' is'} still booked with them (listed below): move or "
                          "cancel each one." if n else "No lessons were booked with them."))
        await self._fetch()

    @rx.event
    async def reactivate(self):
        self.busy, self.notice = True, ""
        yield
        iid = self.instructor_id
        try:
            await run_as_actor(self, lambda s, a: instructors.reactivate_instructor(s, a, iid))
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self.busy, self.notice = False, "Reactivated."
        await self._fetch()


def _list(items: rx.Var, render, empty: str, list_id: str) -> rx.Component:
    return rx.cond(items.length() > 0,
                   rx.el.ul(rx.foreach(items, lambda i: rx.el.li(render(i), style={"padding": "0.3rem 0"})),
                            id=list_id, style={"listStyle": "none", "padding": 0, "margin": 0}),
                   rx.text(empty, size="2", color=rx.color("gray", 11)))


def instructor_page() -> rx.Component:
    st, r = InstructorState, InstructorState.rec
    summary = panel("Details", "instructor-details", rx.vstack(
        kv("Email", r["email"]), kv("Phone", r["phone"]), kv("Status", r["status"], id="instructor-status"),
        kv("Sign-in", rx.cond(r["password_set"] == "True", "Password set", "Invitation not yet accepted")),
        kv("Accreditation", r["accreditation_number"] + " \u00b7 " + r["accreditation"], id="instructor-accreditation"),
        kv("Vehicle", r["vehicle_year"] + " " + r["vehicle_make"] + " " + r["vehicle_model"] + " (" + r["vehicle_rego"]
           + ")"),
        kv("Transmissions", r["transmission_label"]),
        spacing="1", width="100%"))
    hours = panel("Weekly hours", "instructor-hours-list", _list(
        st.hours, lambda h: rx.text(h["day_name"], ": ", h["label"], size="2"), "No weekly hours yet: the "
        "instructor sets them on their own page, and is offered to learners once they have some.", "hours-list"))
    learners = panel("Learners", "instructor-learners", _list(
        st.learners, lambda s: rx.link(s["name"], href="/admin/students/view?id=" + s["id"].to(str), size="2"),
        "No learners yet.", "instructor-learner-list"))
    future = panel("Lessons still booked", "instructor-future", _list(
        st.future, lambda b: rx.text(b["when"], " \u00b7 ", b["service"], " \u00b7 ", b["who"], " (", b["status"], ")",
                                     size="2"), "Nothing booked ahead.", "instructor-future-list"))
    actions = panel("Deactivate", "instructor-actions", rx.cond(
        r["status"] == "inactive",
        rx.button("Reactivate", on_click=st.reactivate, variant="soft", id="instructor-reactivate", loading=st.busy),
        rx.vstack(rx.text("No more times are offered and their sign-in is suspended. Lessons already booked are "
                          "not cancelled: they are listed so you can move or cancel each one.", size="2"),
                  rx.button("Deactivate this instructor", on_click=st.deactivate, color_scheme="red", variant="soft",
                            id="instructor-deactivate", loading=st.busy))))
    return layout(container(rx.vstack(
        button_link("All instructors", ROUTE, icon="arrow-left", variant="ghost", size="2"),
        page_title("Instructor"),
        message_box(st.error),
        message_box(st.notice, tone="green", id="instructor-notice", icon="circle-check"),
        rx.cond(st.loaded & (st.error == ""), rx.vstack(
            rx.heading(r["name"], as_="h2", size="6", id="instructor-name"),
            rx.grid(summary, hours, columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
            panel("Edit", "instructor-edit", edit_form(st.errors, r, st.services, st.save, st.busy)),
            learners, future, actions, spacing="4", width="100%"),
            rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), InstructorsState.load]
VIEW_ON_LOAD = [*require_role("admin"), InstructorState.load]
