"""``/instructor/self-assessments``: the learners' self-assessments (C24) not yet reviewed, for the
instructor's own learners (the office sees every learner's), each with "Mark reviewed".

Thin over ``compliance.self_assessment.to_review`` / ``mark_reviewed`` (which decide who may see and mark).
"""
from __future__ import annotations

import uuid

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.auth._forms import page_title
from nexdrive.pages.student.views import tap_targets
from nexdrive.services.compliance import self_assessment
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/instructor/self-assessments"
TITLE = "Self-assessments to review | NexDrive Academy"
DESCRIPTION = "Your learners' self-assessments before their reviews and final drive, to go through and mark reviewed."


def _row(h: dict) -> dict:
    return {"id": str(h["id"]), "learner": h["student_name"], "title": h["title"], "when": h["completed_label"],
            "answers": [{"task": f"{a['task_number']}. {a['name']}", "score": str(a["confidence"]),
                         "label": a["confidence_label"], "note": a["note"],
                         "low": "1" if a["confidence"] <= 2 else ""} for a in h["responses"]],
            "low": str(len(h["low_confidence_tasks"]))}


class InstructorSelfAssessmentsState(rx.State):
    loaded: bool = False
    rows: list[dict] = []
    error: str = ""
    message: str = ""

    async def _reload(self) -> None:
        data = await run_as_actor(self, lambda s, a: self_assessment.to_review(s, a))
        self.rows = [_row(h) for h in data]

    @rx.event
    async def load(self):
        self.loaded, self.error, self.message = False, "", ""
        try:
            await self._reload()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
        self.loaded = True

    @rx.event
    async def mark(self, assessment_id: str):
        self.error = self.message = ""
        try:
            aid = uuid.UUID(assessment_id)
            done = await run_as_actor(self, lambda s, a: self_assessment.mark_reviewed(s, a, aid))
            await self._reload()
        except ValueError:
            return
        except ServiceError as exc:
            self.error = exc.message
        else:
            self.message = f"Marked reviewed: {done['student_name']}, {done['title'].lower()}."


def _answer(a: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.badge(a["score"] + "/5", color_scheme=rx.cond(a["low"] != "", "amber", "green"), variant="solid"),
            rx.vstack(rx.text(a["task"], size="2", weight="bold"),
                      rx.text(a["label"], rx.cond(a["note"] != "", " · \u201c" + a["note"] + "\u201d", ""), size="1",
                              color=rx.color("gray", 11)),
                      spacing="0", align="start"),
            spacing="2", align="start",
        ),
        list_style="none", padding_y="0.25rem",
    )


def _card(row: rx.Var) -> rx.Component:
    def f(key: str) -> rx.Var:
        return row[key].to(str)

    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading(row["learner"], as_="h2", size="4"), rx.badge(row["title"], variant="soft"),
                          spacing="2", align="center", wrap="wrap"),
                rx.text("Completed ", row["when"], " · ", row["low"], " task(s) rated 1 or 2", size="2",
                        color=rx.color("gray", 11)),
                rx.el.ul(rx.foreach(row["answers"].to(list[dict[str, str]]), _answer),
                         style={"padding": 0, "margin": 0, "columns": "16rem", "width": "100%"}),
                rx.button(rx.icon("check", aria_hidden="true"), "Mark reviewed", size="3",
                          on_click=InstructorSelfAssessmentsState.mark(f("id")), class_name="sa-mark",
                          aria_label="Mark reviewed: " + f("learner") + "'s self-assessment"),
                spacing="2", align="start", width="100%",
            ),
            size="2", width="100%",
        ),
        list_style="none", class_name="sa-review", custom_attrs={"data-learner": f("learner")},
    )


def self_assessments_page() -> rx.Component:
    S = InstructorSelfAssessmentsState
    return layout(
        tap_targets(container(
            rx.vstack(
                page_title("Self-assessments to review",
                           "Before Review 1, Review 2 and the final drive your learners rate their confidence in "
                           "each task. Go through the low ones with them, then mark it reviewed."),
                rx.cond(
                    S.loaded,
                    rx.vstack(
                        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red")),
                        rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green",
                                                            id="sa-review-message", role="status")),
                        rx.cond(S.rows.length() > 0,
                                rx.el.ul(rx.foreach(S.rows, _card), id="sa-review-list",
                                         style={"padding": 0, "margin": 0, "display": "grid", "gap": "0.75rem",
                                                "width": "100%"}),
                                rx.text("Nothing to review.", id="sa-review-list")),
                        button_link("Back to today", "/instructor", icon="arrow-left", variant="soft", size="3"),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        )),
        active="/instructor",
    )


ON_LOAD = [*require_role("instructor", "admin"), InstructorSelfAssessmentsState.load]
