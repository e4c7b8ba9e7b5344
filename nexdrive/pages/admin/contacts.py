"""``/admin/contacts``: the CRM — contacts (stage, source, UTM) as a list or a pipeline, and a new
contact; ``/admin/contacts/view?id=…``: one contact's interactions, edit, convert to a learner, and
"possibly the same person as …" with an explicit merge. Rules: ``services.admin.contacts``.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.contact_views import contact_form, contact_view, pipeline_board
from nexdrive.pages.admin.views.forms import pager, select_field
from nexdrive.pages.auth._forms import field, message_box, page_title
from nexdrive.services.admin import contacts as crm
from nexdrive.services.admin import learners
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/contacts"
VIEW_ROUTE = "/admin/contacts/view"
TITLE = "Contacts | NexDrive Academy admin"
VIEW_TITLE = "Contact | NexDrive Academy admin"
DESCRIPTION = "NexDrive Academy contacts and leads: lifecycle stage, source and campaign, and the pipeline."
VIEW_DESCRIPTION = "One contact: every enquiry, call, message and booking; convert or merge."
PAGE = crm.PAGE
STAGES = [(s, label) for s, label in crm.STAGE_LABELS.items()]


def _str(d: dict) -> dict[str, str]:
    return {k: str(v) for k, v in d.items() if not isinstance(v, (list, dict))}


def _field_errors(exc: ServiceError) -> dict[str, str]:
    return {str(exc.details.get("field") or "form"): exc.message}


class ContactsState(rx.State):
    loaded: bool = False
    error: str = ""
    view: str = "list"
    q: str = ""
    stage: str = ""
    offset: int = 0
    total: int = 0
    rows: list[dict[str, str]] = []
    columns: list[dict[str, str | list[dict[str, str]]]] = []
    creating: bool = False
    errors: dict[str, str] = {}
    busy: bool = False

    async def _fetch(self):
        q, stage, offset = self.q, self.stage, self.offset

        def work(session, actor):
            return crm.list_contacts(session, actor, q=q, stage=stage, limit=PAGE, offset=offset), \
                crm.pipeline(session, actor)
        try:
            found, board = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error, self.total = "", found["total"]
        self.rows = [_str(c) for c in found["items"]]
        self.columns = [{"stage": c["stage"], "label": c["label"], "count": str(c["count"]),
                         "contacts": [_str(x) for x in c["contacts"]]} for c in board]

    @rx.event
    async def load(self):
        self.loaded, self.offset, self.creating, self.errors = False, 0, False, {}
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    async def apply(self, form: dict):
        self.q, self.stage, self.offset = (form.get("q") or "").strip(), form.get("stage") or "", 0
        await self._fetch()

    @rx.event
    def set_view(self, value: str | list[str]):
        self.view = "pipeline" if value == "pipeline" else "list"

    @rx.event
    def toggle_create(self):
        self.creating, self.errors = not self.creating, {}

    @rx.event
    async def prev_page(self):
        self.offset = max(0, self.offset - PAGE)
        await self._fetch()

    @rx.event
    async def next_page(self):
        if self.offset + PAGE < self.total:
            self.offset += PAGE
            await self._fetch()

    @rx.event
    async def create(self, form: dict):
        self.busy, self.errors = True, {}
        yield
        data = {k: form.get(k, "") for k in crm.EDITABLE}
        try:
            made = await run_as_actor(self, lambda s, a: crm.create_contact(s, a, data))
        except ServiceError as exc:
            self.busy, self.errors = False, _field_errors(exc)
            return
        self.busy = False
        yield rx.redirect(f"{VIEW_ROUTE}?id={made['id']}")


def _row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(c["name"], href=VIEW_ROUTE + "?id=" + c["id"], class_name="contact-link")),
        rx.table.cell(rx.badge(c["stage_label"])),
        rx.table.cell(rx.vstack(rx.text(c["phone"], size="1"), rx.text(c["email"], size="1"), spacing="0")),
        rx.table.cell(c["source"]),
        rx.table.cell(rx.text(c["utm_source"], " ", c["utm_medium"], " ", c["utm_campaign"], size="1")),
        rx.table.cell(c["last_contact"]),
        class_name="contact-row",
    )


def contacts_page() -> rx.Component:
    st = ContactsState
    search = rx.form(
        rx.grid(
            field("Search", id="q", name="q", required=False, type="search", hint="Name, email or phone"),
            select_field("Stage", id="stage", options=STAGES, first=("", "Every stage")),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%", align="end"),
        rx.button("Search", type="submit", size="2", id="contact-search", margin_top="0.75rem"),
        on_submit=st.apply, width="100%", aria_label="Search contacts")
    table = rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
            "Name", "Stage", "Phone / email", "Source", "Campaign (UTM)", "Last contact")])),
        rx.table.body(rx.foreach(st.rows, _row)), variant="surface", size="1", width="100%", id="contact-table",
    ), overflow_x="auto", width="100%")
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Contacts", "Everyone who enquired, called, texted or booked."),
        message_box(st.error),
        rx.hstack(
            rx.segmented_control.root(rx.segmented_control.item("List", value="list"),
                                      rx.segmented_control.item("Pipeline", value="pipeline"),
                                      value=st.view, on_change=st.set_view, aria_label="View"),
            rx.button(rx.icon("user-plus", size=16), "New contact", on_click=st.toggle_create, size="2",
                      id="new-contact"),
            wrap="wrap", spacing="3"),
        rx.cond(st.creating, panel("New contact", "new-contact-panel",
                                   contact_form(st.errors, st.busy, st.create, submit="Save contact",
                                                form_id="new-contact-form"))),
        rx.cond(st.loaded & (st.error == ""), rx.cond(
            st.view == "pipeline", pipeline_board(st.columns, VIEW_ROUTE),
            rx.vstack(panel("Find contacts", "contact-filters", search),
                      rx.text(rx.text(st.total, as_="span", weight="bold", id="contact-total"), " contacts", size="2"),
                      table, pager(st.offset, st.total, PAGE, st.prev_page, st.next_page, id="contact-pager"),
                      width="100%", spacing="3")),
            rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status")),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


class ContactState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    contact_id: str = ""
    c: dict[str, str] = {}
    interactions: list[dict[str, str]] = []
    candidates: list[dict[str, str]] = []
    possibly_same: list[str] = []
    instructors: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    convert_errors: dict[str, str] = {}
    busy: bool = False
    form_key: int = 0

    async def _fetch(self):
        cid = self.contact_id

        def work(session, actor):
            return crm.contact_record(session, actor, cid), learners.instructor_choices(session, actor)
        try:
            rec, choices = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error, self.c = "", _str(rec)
        self.interactions, self.candidates = rec["interactions"], rec["candidates"]
        self.possibly_same, self.instructors = rec["possibly_same"], choices
        self.form_key += 1  # the edit form shows the saved values

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.errors, self.convert_errors = False, "", {}, {}
        self.contact_id = self.router.url.query_parameters.get("id") or ""
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    async def save(self, form: dict):
        cid, data = self.contact_id, {k: form.get(k, "") for k in crm.EDITABLE}
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        try:
            await run_as_actor(self, lambda s, a: crm.update_contact(s, a, cid, data))
        except ServiceError as exc:
            self.busy, self.errors = False, _field_errors(exc)
            return
        self.busy, self.notice = False, "Saved."
        await self._fetch()

    @rx.event
    async def convert(self, form: dict):
        cid, ins = self.contact_id, form.get("convert_instructor") or None
        self.busy, self.convert_errors, self.notice = True, {}, ""
        yield
        try:
            out = await run_as_actor(self, lambda s, a: crm.convert_to_learner(s, a, cid, instructor_id=ins))
        except ServiceError as exc:
            self.busy, self.convert_errors = False, _field_errors(exc)
            return
        self.busy = False
        self.notice = "Enrolled: the learner account is ready and the invitation email is on its way."
        self.c["student_id"] = out["student_id"]
        await self._fetch()

    @rx.event
    async def merge(self, other_id: str):
        cid = self.contact_id
        self.busy, self.notice = True, ""
        yield
        try:
            await run_as_actor(self, lambda s, a: crm.merge_contacts(s, a, keep_id=cid, merge_id=other_id))
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self.busy, self.notice = False, "Merged: everything of the other contact is now on this one."
        await self._fetch()


def contact_page() -> rx.Component:
    st = ContactState
    return layout(container(rx.vstack(
        button_link("All contacts", ROUTE, icon="arrow-left", variant="ghost", size="2"),
        page_title("Contact"),
        message_box(st.error),
        message_box(st.notice, tone="green", id="contact-notice", icon="circle-check"),
        rx.cond(st.loaded & (st.error == ""), contact_view(st),
                rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), ContactsState.load]
VIEW_ON_LOAD = [*require_role("admin"), ContactState.load]
