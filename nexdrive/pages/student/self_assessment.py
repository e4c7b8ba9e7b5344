"""Self-assessment ``/student/self-assessment`` (C24): before Review 1, Review 2 and the final drive the
learner rates their confidence in each task the checkpoint covers (1–5) with a note. Every submission is
kept; the instructor sees them and marks them reviewed (``/instructor/self-assessments``).

Thin over ``compliance.self_assessment`` (which tasks, the checks, who may read).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.pages.auth._forms import page_title
from nexdrive.pages.student.views import tap_targets
from nexdrive.services.compliance import self_assessment
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/student/self-assessment"
TITLE = "Self-assessment | NexDrive Academy"
DESCRIPTION = "Before each review and the final drive, rate how confident you feel in each task."
CHECKPOINTS = (("review_1", "Review 1"), ("review_2", "Review 2"), ("final_drive", "Final drive"))
SCALE = [(str(n), label) for n, label in self_assessment.CONFIDENCE.items()]
STATUS = {"competent": "signed off", "taught": "taught", "assessed": "assessed", "not_yet_competent": "not yet",
          "not_started": "not started"}


def _history_row(h: dict) -> dict[str, str]:
    low = [a for a in h["responses"] if a["confidence"] <= 2]
    return {"id": str(h["id"]), "title": h["title"], "when": h["completed_label"],
            "reviewed": "Reviewed by your instructor" + (f" on {h['reviewed_label']}" if h["reviewed_label"] else "")
            if h["reviewed"] else "Not reviewed yet",
            "is_reviewed": "1" if h["reviewed"] else "",
            "low": ", ".join(f"{a['task_number']}. {a['name']}" for a in low) or "none"}


class SelfAssessmentState(rx.State):
    loaded: bool = False
    checkpoint: str = ""
    title: str = ""
    tasks: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    task_errors: dict[str, str] = {}
    form_error: str = ""
    message: str = ""
    error: str = ""
    saving: bool = False
    version: int = 0  # bumps to re-mount the form with the last answers

    async def _reload(self, kind: str | None) -> None:
        def work(s, a):
            return {"form": self_assessment.form(s, a, a.student_id, kind),
                    "history": self_assessment.list_for_student(s, a, a.student_id, limit=20)}
        data = await run_as_actor(self, work)
        f = data["form"]
        self.checkpoint, self.title = f["checkpoint"], f["title"]
        self.tasks = [{"n": str(t["task_number"]), "name": t["name"], "status": STATUS.get(t["status"], t["status"]),
                       "confidence": str(t["confidence"] or ""), "note": t["note"]} for t in f["tasks"]]
        self.history = [_history_row(h) for h in data["history"]]
        self.version += 1

    @rx.event
    async def load(self):
        self.loaded, self.error, self.message, self.form_error, self.task_errors = False, "", "", "", {}
        wanted = self.router.url.query_parameters.get("checkpoint") or None
        if wanted not in {k for k, _ in CHECKPOINTS}:
            wanted = None
        try:
            await self._reload(wanted)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
        self.loaded = True

    @rx.event
    async def choose(self, kind: str):
        self.message, self.form_error, self.task_errors = "", "", {}
        try:
            await self._reload(kind)
        except ServiceError as exc:
            self.error = exc.message

    @rx.event
    async def submit(self, form_data: dict):
        self.form_error, self.task_errors, self.message = "", {}, ""
        answers, missing = [], []
        for t in self.tasks:
            value = form_data.get(f"conf_{t['n']}") or ""
            if not value.isdigit():
                missing.append(t["n"])
                continue
            answers.append({"task_number": int(t["n"]), "confidence": int(value),
                            "note": (form_data.get(f"note_{t['n']}") or "").strip()})
        if missing:
            self.task_errors = {n: "Choose how confident you feel." for n in missing}
            self.form_error = f"Rate every task: {len(missing)} still to go (task {', '.join(missing[:6])}" + \
                ("…)" if len(missing) > 6 else ")")
            return
        kind = self.checkpoint
        self.saving = True
        yield
        try:
            await run_as_actor(self, lambda s, a: self_assessment.submit(s, a, a.student_id, kind, answers))
            await self._reload(kind)
        except ValidationFailed as exc:
            self.form_error = exc.message
            self.task_errors = {str(n): exc.message for n in exc.details.get("tasks") or []}
        except ServiceError as exc:
            self.form_error = exc.message
        else:
            self.message = "Saved. Your instructor will go through it with you before the " + \
                ("final drive." if kind == "final_drive" else "review.")
        self.saving = False


def _task(row: rx.Var) -> rx.Component:
    S = SelfAssessmentState
    err = S.task_errors.get(row["n"], "")
    return rx.el.li(
        rx.el.fieldset(
            rx.el.legend(rx.text(row["n"] + ". " + row["name"], weight="bold", size="3"),
                         rx.text(" (" + row["status"] + ")", as_="span", size="2", color=rx.color("gray", 11))),
            rx.flex(
                *[rx.el.label(
                    rx.el.input(type="radio", name="conf_" + row["n"], value=value, id="conf-" + row["n"] + "-" + value,
                                default_checked=row["confidence"] == value,
                                style={"width": "20px", "height": "20px", "margin": 0}),
                    rx.text(value, weight="bold", as_="span"), rx.text(" " + label, as_="span", size="1"),
                    html_for="conf-" + row["n"] + "-" + value,
                    style={"display": "inline-flex", "alignItems": "center", "gap": "0.3rem", "minHeight": "44px",
                           "minWidth": "44px", "padding": "0 0.6rem", "borderRadius": "8px",
                           "border": f"1px solid {rx.color('gray', 6)}"},
                ) for value, label in SCALE],
                wrap="wrap", gap="0.4rem", role="radiogroup",
                aria_describedby="conf-" + row["n"] + "-error",
            ),
            rx.text(err, id="conf-" + row["n"] + "-error", role="alert", size="2", color=rx.color("red", 11)),
            rx.el.label("Note (optional)", html_for="note-" + row["n"], style={"fontSize": "var(--font-size-2)"}),
            rx.input(id="note-" + row["n"], name="note_" + row["n"], default_value=row["note"], max_length=500,
                     size="3", width="100%"),
            style={"border": "none", "padding": 0, "margin": 0, "display": "grid", "gap": "0.4rem"},
        ),
        list_style="none", padding_y="0.75rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="sa-task", custom_attrs={"data-task": row["n"]},
    )


def self_assessment_page() -> rx.Component:
    S = SelfAssessmentState
    switcher = rx.hstack(
        *[rx.button(label, size="3", variant=rx.cond(S.checkpoint == key, "solid", "soft"),
                    on_click=S.choose(key), id=f"sa-choose-{key}",
                    aria_pressed=rx.cond(S.checkpoint == key, "true", "false")) for key, label in CHECKPOINTS],
        spacing="2", wrap="wrap",
    )
    form = rx.form(
        rx.el.ol(rx.foreach(S.tasks, _task), style={"padding": 0, "margin": 0}, id="sa-tasks"),
        rx.cond(S.form_error != "", rx.callout(S.form_error, icon="circle-alert", color_scheme="red",
                                               id="sa-error", role="alert", margin_top="0.75rem")),
        rx.button("Save my self-assessment", type="submit", size="4", loading=S.saving, id="sa-submit",
                  margin_top="1rem"),
        on_submit=S.submit, reset_on_submit=False, width="100%", key=S.version.to_string(),
    )
    history = rx.card(
        rx.el.section(
            rx.heading("Earlier self-assessments", as_="h2", size="4", id="sa-history-heading"),
            rx.cond(S.history.length() > 0,
                    rx.el.ul(rx.foreach(S.history, lambda h: rx.el.li(
                        rx.text(h["title"], " · ", h["when"], weight="bold", size="2"),
                        rx.text("Least confident: ", h["low"], size="2"),
                        rx.badge(h["reviewed"], color_scheme=rx.cond(h["is_reviewed"] != "", "green", "gray"),
                                 variant="soft"),
                        list_style="none", padding_y="0.5rem", class_name="sa-history-row")),
                        id="sa-history", style={"padding": 0, "margin": 0}),
                    rx.text("None yet.", size="2", id="sa-history")),
            aria_labelledby="sa-history-heading",
        ),
        size="3", width="100%",
    )
    return layout(
        tap_targets(container(
            rx.vstack(
                page_title("Self-assessment", "Before each review and the final drive, rate how confident you "
                           "feel in each task: 1 means not yet, 5 means confident. Your instructor reads it."),
                rx.cond(
                    S.loaded,
                    rx.vstack(
                        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red")),
                        rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green",
                                                            id="sa-message", role="status")),
                        switcher,
                        rx.heading(S.title, as_="h2", size="5", id="sa-title"),
                        form,
                        history,
                        button_link("Back to your dashboard", "/student", icon="arrow-left", variant="soft",
                                    size="3"),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        )),
        active="/student",
    )


ON_LOAD = [*require_role("student"), SelfAssessmentState.load]
