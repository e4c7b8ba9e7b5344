"""``/instructor/learner?id=<student>``: one learner for their instructor (or the office).

The competency matrix (the engine's, with why a locked task is locked), lessons with both signatures,
log-book hours, bridge forms, the instructor's private notes (write one here; only the author and the
office ever see them), the learner's self-assessments and upcoming bookings. The data and the rule that
an instructor sees only their own learners are ``scheduling.workstation.learner_page``'s.
"""
from __future__ import annotations

import uuid

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel, stat
from nexdrive.pages.auth._forms import page_title
from nexdrive.services.compliance import private_notes
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.scheduling import workstation
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = f"{brand.ROUTE_INSTRUCTOR}/learner"
TITLE = "Learner | NexDrive Academy instructor"
DESCRIPTION = "One learner for their instructor: progress, lessons, hours, bridge forms, notes and bookings."
LINK = {"min_height": "44px", "display": "inline-flex", "align_items": "center"}


def _strs(rows: list[dict]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in r.items() if not isinstance(v, list)} for r in rows]


class LearnerPageState(rx.State):
    loaded: bool = False
    error: str = ""
    note_error: str = ""
    note_saved: str = ""
    student_id: str = ""
    head: dict[str, str] = {}
    hours: dict[str, str] = {}
    tasks: list[dict[str, str]] = []
    lessons: list[dict[str, str]] = []
    signatures: list[dict[str, str]] = []
    forms: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    self_assessments: list[dict[str, str]] = []
    upcoming: list[dict[str, str]] = []

    def _fill(self, data: dict) -> None:
        self.head = {k: str(data[k]) for k in ("name", "phone", "phone_label", "transmission", "competent", "total")}
        self.hours = {k: str(v) for k, v in data["hours"].items()}
        self.tasks = _strs(data["tasks"])
        self.lessons = _strs(data["lessons"])
        self.signatures = [{**s, "lesson_id": x["id"]} for x in data["lessons"] for s in x["signatures"]]
        self.forms = _strs(data["bridge_forms"])
        self.notes = _strs(data["notes"])
        self.self_assessments = _strs(data["self_assessments"])
        self.upcoming = _strs(data["upcoming"])

    async def _reload(self) -> None:
        sid = uuid.UUID(self.student_id)
        try:
            data = await run_as_actor(self, lambda s, a: workstation.learner_page(s, a, sid))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self._fill(data)

    @rx.event
    async def load(self):
        self.loaded, self.error, self.note_error, self.note_saved = False, "", "", ""
        raw = (self.router.url.query_parameters.get("id") or "").strip()
        try:
            self.student_id = str(uuid.UUID(raw))
        except ValueError:
            self.error, self.loaded = "Choose a learner from Today or the week.", True
            return
        await self._reload()
        self.loaded = True

    @rx.event
    async def add_note(self, form: dict):
        self.note_error, self.note_saved = "", ""
        sid, text, kind = uuid.UUID(self.student_id), form.get("note") or "", form.get("note_type") or "general"
        try:
            await run_as_actor(self, lambda s, a: private_notes.add_note(s, a, student_id=sid, note=text,
                                                                          note_type=kind))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.note_error = exc.message
            return
        self.note_saved = "Note saved. Only you and the office can see it."
        await self._reload()


def _task(t: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(rx.el.strong(t["n"], ". ", t["name"]), " ", rx.badge(t["status_label"], size="1"), as_="p"),
        rx.cond(t["locked"] != "", rx.text("Locked: ", t["locked"], as_="p", size="1", color=rx.color("amber", 12))),
        class_name="lp-task", padding_y="0.4rem", border_top=f"1px solid {rx.color('gray', 4)}",
    )


def _signature(s: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(s["role"], " signed ", s["when"], as_="p", size="1"),
        rx.image(src=s["image_url"], alt=s["role"] + " signature", height="48px", width="auto",
                 background="white", border=f"1px solid {rx.color('gray', 5)}"),
        display="inline-block", margin_right="0.75rem", class_name="lp-signature",
    )


def _lesson(x: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(rx.el.strong("Lesson ", x["number"]), " \u00b7 ", x["when"], " \u00b7 ", x["minutes"], " min \u00b7 ",
                rx.badge(x["status"], size="1"), as_="p"),
        rx.cond(x["taught"] != "", rx.text("Taught: tasks ", x["taught"], as_="p", size="2")),
        rx.cond(x["assessed"] != "", rx.text("Assessed: tasks ", x["assessed"], as_="p", size="2")),
        rx.cond(x["comments"] != "", rx.text(x["comments"], as_="p", size="2", color=rx.color("gray", 11))),
        rx.foreach(LearnerPageState.signatures, lambda s: rx.cond(s["lesson_id"] == x["id"], _signature(s))),
        id="lesson-" + x["id"], class_name="lp-lesson", padding_y="0.6rem",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def _note(n: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(rx.badge(n["note_type_label"], size="1"), " ", n["created_label"], as_="p", size="1"),
        rx.text(n["note"], as_="p", white_space="pre-line"),
        class_name="lp-note", padding_y="0.5rem", border_top=f"1px solid {rx.color('gray', 4)}",
    )


def _note_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("New private note", html_for="lp-note-text", font_weight="600"),
            rx.text_area(id="lp-note-text", name="note", rows="3", width="100%", max_length=4000,
                         placeholder="Only you and the office will see this."),
            rx.el.label("Type", html_for="lp-note-type", font_weight="600"),
            rx.el.select(*[rx.el.option(label, value=value) for value, label in private_notes.NOTE_TYPE_LABELS.items()],
                         id="lp-note-type", name="note_type", min_height="44px", font_size="16px"),
            rx.button("Save note", type="submit", size="3", min_height="44px", id="lp-note-save"),
            rx.cond(LearnerPageState.note_error != "",
                    rx.text(LearnerPageState.note_error, role="alert", color=rx.color("red", 11))),
            rx.cond(LearnerPageState.note_saved != "",
                    rx.text(LearnerPageState.note_saved, role="status", id="lp-note-saved")),
            width="100%",
        ),
        on_submit=LearnerPageState.add_note,
        reset_on_submit=True,
    )


def _body() -> rx.Component:
    h, hours = LearnerPageState.head, LearnerPageState.hours
    return rx.vstack(
        rx.heading(h["name"], as_="h2", size="6", id="lp-name"),
        rx.cond(h["phone"] != "", rx.hstack(
            rx.link("Call " + h["phone_label"], href="tel:" + h["phone"], **LINK),
            rx.link("SMS", href="sms:" + h["phone"], **LINK), spacing="4")),
        rx.grid(
            stat("Tasks achieved", h["competent"] + " of " + h["total"], id="lp-competent"),
            stat("Log-book hours", hours["total"] + " of " + hours["target"], id="lp-hours"),
            stat("Night hours", hours["night"] + " of " + hours["target_night"]),
            columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
        ),
        panel("Upcoming bookings", "lp-upcoming", rx.cond(
            LearnerPageState.upcoming.length() > 0,
            rx.foreach(LearnerPageState.upcoming, lambda b: rx.box(
                rx.text(b["when"], " \u00b7 ", b["service"], as_="p"),
                rx.link("Record this lesson", href=b["record_url"], **LINK), class_name="lp-booking")),
            rx.text("No upcoming bookings."))),
        panel("Competencies", "lp-matrix", rx.foreach(LearnerPageState.tasks, _task)),
        panel("Lessons", "lp-lessons", rx.cond(LearnerPageState.lessons.length() > 0,
                                               rx.foreach(LearnerPageState.lessons, _lesson),
                                               rx.text("No lessons recorded yet."))),
        panel("Hours", "lp-hours-panel", rx.text(
            "With instructors: ", hours["lessons"], " lessons, credited ", hours["credited"], " h. Supervised: ",
            hours["supervised"], " h over ", hours["drives"], " drives. Still to go: ", hours["remaining"], " h.",
            as_="p")),
        panel("Bridge forms", "lp-forms", rx.cond(
            LearnerPageState.forms.length() > 0,
            rx.foreach(LearnerPageState.forms, lambda f: rx.hstack(
                rx.link(f["when"], href=f["url"], **LINK), rx.text(f["focus"], size="2"),
                rx.el.a("PDF", href=f["pdf_url"], style=LINK), spacing="3", class_name="lp-form")),
            rx.text("No bridge forms yet."))),
        panel("Private notes (only you and the office)", "lp-notes", _note_form(),
              rx.foreach(LearnerPageState.notes, _note)),
        panel("Self-assessments", "lp-self", rx.cond(
            LearnerPageState.self_assessments.length() > 0,
            rx.foreach(LearnerPageState.self_assessments, lambda a: rx.text(
                a["kind"], " \u00b7 ", a["when"], " \u00b7 least confident: ", a["least_confident"], as_="p")),
            rx.text("No self-assessments yet."))),
        spacing="4", width="100%",
    )


def learner_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                page_title("Learner"),
                rx.link("\u2190 Today", href=brand.ROUTE_INSTRUCTOR, **LINK),
                rx.cond(
                    LearnerPageState.loaded,
                    rx.cond(LearnerPageState.error != "",
                            rx.callout(LearnerPageState.error, icon="circle-alert", color_scheme="red",
                                       id="lp-error"),
                            _body()),
                    rx.hstack(rx.spinner(), rx.text("Loading the learner\u2026"), role="status"),
                ),
                spacing="4", width="100%", max_width="44rem",
            ),
            padding_y=["1rem", "2rem"],
        ),
        active=brand.ROUTE_INSTRUCTOR,
    )


ON_LOAD = [*require_role("instructor", "admin"), LearnerPageState.load]
