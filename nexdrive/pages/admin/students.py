"""``/admin/students``: every learner, with search (name, email, phone) and filters (instructor,
status, last lesson), a page at a time; ``/admin/students/view?id=…``: one learner for the office
(profile, bookings, payments, family links, progress) with archive and transfer.

The rules are in ``services.admin.learners`` (administrator only for the record and the changes).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link
from nexdrive.errors import ServiceError
from nexdrive.models.users import STUDENT_STATUSES
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import kv, pager, select_field
from nexdrive.pages.auth._forms import field, message_box, page_title
from nexdrive.services.admin import learners
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/students"
VIEW_ROUTE = "/admin/students/view"
TITLE = "Learners | NexDrive Academy admin"
VIEW_TITLE = "Learner | NexDrive Academy admin"
DESCRIPTION = "Every NexDrive Academy learner: search, filter and open a learner's record."
VIEW_DESCRIPTION = "One learner's record for the office: bookings, payments, family and progress."
PAGE = learners.PAGE


class LearnersState(rx.State):
    loaded: bool = False
    error: str = ""
    q: str = ""
    instructor: str = ""
    status: str = ""
    last_lesson: str = ""
    offset: int = 0
    total: int = 0
    rows: list[dict[str, str]] = []
    instructors: list[dict[str, str]] = []

    async def _search(self):
        q, ins, status, last, offset = self.q, self.instructor, self.status, self.last_lesson, self.offset

        def work(session, actor):
            choices = learners.instructor_choices(session, actor, active_only=False)  # the office's page
            return (learners.search_learners(session, actor, q=q, instructor_id=ins or None, status=status,
                                             last_lesson=last, limit=PAGE, offset=offset), choices)
        try:
            found, choices = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.total = found["total"]
        self.rows = [{k: str(v) for k, v in r.items()} for r in found["items"]]
        self.instructors = [{"id": c["id"], "name": c["name"]} for c in choices]

    @rx.event
    async def load(self):
        self.loaded = False
        self.q = (self.router.url.query_parameters.get("q") or "").strip()
        self.offset = 0
        yield
        await self._search()
        self.loaded = True

    @rx.event
    async def apply(self, form: dict):
        self.q = (form.get("q") or "").strip()
        self.instructor = form.get("instructor") or ""
        self.status = form.get("status") or ""
        self.last_lesson = form.get("last_lesson") or ""
        self.offset = 0
        await self._search()

    @rx.event
    async def prev_page(self):
        self.offset = max(0, self.offset - PAGE)
        await self._search()

    @rx.event
    async def next_page(self):
        if self.offset + PAGE < self.total:
            self.offset += PAGE
            await self._search()


def _learner_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(r["name"], href=VIEW_ROUTE + "?id=" + r["id"], class_name="learner-link")),
        rx.table.cell(rx.vstack(rx.text(r["email"], size="1"), rx.text(r["phone"], size="1"), spacing="0")),
        rx.table.cell(r["instructor"]),
        rx.table.cell(rx.badge(r["status"], color_scheme=rx.cond(r["status"] == "active", "green", "gray"))),
        rx.table.cell(rx.cond(r["last_lesson"] != "", r["last_lesson"], "\u2014")),
        rx.table.cell(r["competent"] + " / 23", text_align="right"),
        class_name="learner-row",
    )


def students_page() -> rx.Component:
    st = LearnersState
    filters = rx.form(
        rx.grid(
            field("Search", id="q", name="q", required=False, default_value=st.q, type="search",
                  hint="Name, email or phone", placeholder="e.g. Ava or 0412 345 678"),
            select_field("Instructor", id="instructor", dynamic=st.instructors, first=("", "All instructors")),
            select_field("Status", id="status", options=[(s, s.capitalize()) for s in STUDENT_STATUSES],
                         first=("", "Any status")),
            select_field("Last lesson", id="last_lesson", options=list(learners.LAST_LESSON_FILTERS.items())),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"), gap="1rem", width="100%", align="end",
        ),
        rx.button("Search", type="submit", id="learner-search", size="2", margin_top="0.75rem"),
        on_submit=st.apply, width="100%", aria_label="Search learners",
    )
    table = rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
            "Learner", "Contact", "Instructor", "Status", "Last lesson", "Competent")])),
        rx.table.body(rx.foreach(st.rows, _learner_row)),
        variant="surface", size="1", width="100%", id="learner-table",
    ), overflow_x="auto", width="100%")
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Learners", "Search by name, email or phone; filter by instructor, status or last lesson."),
        message_box(st.error),
        panel("Find learners", "learner-filters", filters),
        rx.cond(st.loaded & (st.error == ""), rx.vstack(
            rx.text(rx.text(st.total, as_="span", weight="bold", id="learner-total"), " learners", size="2"),
            table, pager(st.offset, st.total, PAGE, st.prev_page, st.next_page, id="learner-pager"),
            width="100%", spacing="3"),
            rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status")),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


class LearnerState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    learner_id: str = ""
    rec: dict[str, str] = {}
    progress: dict[str, str] = {}
    bookings: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    family: list[dict[str, str]] = []
    instructors: list[dict[str, str]] = []
    transfer_error: str = ""
    busy: bool = False

    async def _fetch(self):
        sid = self.learner_id

        def work(session, actor):
            return (learners.learner_record(session, actor, sid), learners.instructor_choices(session, actor))
        try:
            rec, choices = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.rec = {k: str(v) for k, v in rec.items() if not isinstance(v, (list, dict))}
        self.rec.update({f"hours_{k}": v for k, v in rec["hours"].items()})
        self.progress = {k: str(v) for k, v in rec["progress"].items()}
        self.bookings, self.payments, self.family = rec["bookings"], rec["payments"], rec["family"]
        self.instructors = [c for c in choices if c["id"] != rec["instructor_id"]]

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.transfer_error = False, "", ""
        self.learner_id = self.router.url.query_parameters.get("id") or ""
        yield
        await self._fetch()
        self.loaded = True

    async def _change(self, fn, notice: str):
        self.busy, self.notice = True, ""
        yield
        try:
            await run_as_actor(self, fn)
        except ServiceError as exc:
            self.busy = False
            if exc.details.get("field") == "instructor_id":
                self.transfer_error = exc.message
            else:
                self.error = exc.message
            return
        self.busy, self.notice, self.transfer_error = False, notice, ""
        await self._fetch()

    @rx.event
    async def archive(self):
        sid = self.learner_id
        async for _ in self._change(lambda s, a: learners.archive_learner(s, a, sid), "Learner archived."):
            yield

    @rx.event
    async def restore(self):
        sid = self.learner_id
        async for _ in self._change(lambda s, a: learners.restore_learner(s, a, sid), "Learner restored."):
            yield

    @rx.event
    async def transfer(self, form: dict):
        sid, ins, reason = self.learner_id, form.get("to_instructor") or "", form.get("reason") or ""
        if not ins:
            self.transfer_error = "Please choose an instructor."
            return
        async for _ in self._change(lambda s, a: learners.transfer_learner(s, a, sid, instructor_id=ins,
                                                                           reason=reason),
                                    "Learner transferred. Lessons already booked stay in the previous "
                                    "instructor's diary until you move them."):
            yield


def _list(items: rx.Var, render, empty: str, list_id: str) -> rx.Component:
    return rx.cond(items.length() > 0,
                   rx.el.ul(rx.foreach(items, lambda i: rx.el.li(render(i), style={"padding": "0.4rem 0"})),
                            id=list_id, style={"listStyle": "none", "padding": 0, "margin": 0}),
                   rx.text(empty, size="2", color=rx.color("gray", 11)))


def learner_page() -> rx.Component:
    st, r = LearnerState, LearnerState.rec
    profile = panel("Profile", "learner-profile", rx.vstack(
        kv("Email", r["email"]), kv("Phone", r["phone"]), kv("Instructor", r["instructor"], id="learner-instructor"),
        kv("Status", r["status"], id="learner-status"), kv("Transmission", r["transmission"]),
        kv("Enrolled", r["enrolled"]), kv("Completed", r["completed"]), kv("Referral", r["referral"]),
        kv("Logbook hours", r["hours_total"] + " (night " + r["hours_night"] + ", with an instructor "
           + r["hours_professional"] + ")"), spacing="1", width="100%"))
    progress = panel("Progress", "learner-progress", rx.text(
        rx.text(st.progress["competent"], as_="span", weight="bold", id="learner-competent"), " of ",
        st.progress["tasks"], " tasks competent (", st.progress["started"], " started).", size="3"))
    bookings = panel("Bookings", "learner-bookings", _list(st.bookings, lambda b: rx.vstack(
        rx.text(b["when"], weight="bold", size="2"),
        rx.text(b["service"], " \u00b7 ", b["instructor"], " \u00b7 ", b["status"], " \u00b7 ", b["amount"],
                " (", b["payment_status"], ")", size="1"), spacing="0"), "No bookings.", "learner-booking-list"))
    payments = panel("Payments", "learner-payments", _list(st.payments, lambda p: rx.hstack(
        rx.text(p["when"], size="2"), rx.text(p["description"], size="2"), rx.spacer(),
        rx.text(p["amount"], weight="bold", size="2"), rx.badge(p["status"]), wrap="wrap", width="100%"),
        "No payments.", "learner-payment-list"))
    family = panel("Family", "learner-family", _list(st.family, lambda f: rx.vstack(
        rx.text(f["name"], " (", f["relationship"], ", ", f["status"], ")", weight="bold", size="2"),
        rx.text(f["email"], " \u00b7 ", f["phone"], " \u00b7 sees: ", f["permissions"], size="1"), spacing="0"),
        "No family links.", "learner-family-list"))
    records = panel("CBT&A records", "learner-records", rx.vstack(
        rx.text("The auditor's pack: every lesson with both signatures and their hashes, the competency history, "
                "log-book totals, the certificate, and the verification result now.", size="2"),
        rx.hstack(
            file_link("Auditor's pack (PDF)", "/api/v1/students/" + st.learner_id + "/auditors-pack.pdf",
                      id="learner-pack-pdf", size="2", download=True),
            file_link("Auditor's pack (ZIP: JSON + PNGs)", "/api/v1/students/" + st.learner_id
                      + "/auditors-pack.zip", id="learner-pack-zip", size="2", icon="file-archive", download=True),
            rx.cond(r["status"] == "completed",
                    file_link("Completion statement (PDF)", "/api/v1/students/" + st.learner_id + "/certificate.pdf",
                              id="learner-certificate-pdf", size="2", variant="outline")),
            wrap="wrap", spacing="2"),
        spacing="2", width="100%"))
    actions = panel("Archive or transfer", "learner-actions", rx.vstack(
        rx.form(
            select_field("Transfer to", id="to_instructor", dynamic=st.instructors, first=("", "Choose an instructor"),
                         error=st.transfer_error),
            field("Reason", id="reason", required=False),
            rx.button("Transfer", type="submit", id="learner-transfer", size="2", loading=st.busy, margin_top="0.5rem"),
            on_submit=st.transfer, width="100%", aria_label="Transfer to another instructor",
        ),
        rx.cond(r["status"] == "archived",
                rx.button("Restore to active", on_click=st.restore, variant="soft", id="learner-restore"),
                rx.button("Archive this learner", on_click=st.archive, color_scheme="red", variant="soft",
                          id="learner-archive")),
        spacing="4", width="100%"))
    return layout(container(rx.vstack(
        button_link("All learners", ROUTE, icon="arrow-left", variant="ghost", size="2"),
        page_title("Learner"),
        message_box(st.error),
        message_box(st.notice, tone="green", id="learner-notice", icon="circle-check"),
        rx.cond(st.loaded & (st.error == ""), rx.vstack(
            rx.heading(r["name"], as_="h2", size="6", id="learner-name"),
            rx.grid(profile, progress, columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
            bookings, payments, family, records, actions, spacing="4", width="100%"),
            rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), LearnersState.load]
VIEW_ON_LOAD = [*require_role("admin"), LearnerState.load]
