"""``/lessons/bridge?id=<form>``: a lesson's bridge form, for the learner, a parent with "Practice guides",
the instructor and the office: the skills covered with their status, the instructor's words, what the
supervising driver can practise per task (each linked to its Competency Hub page) and the PDF.

Who may see it is ``compliance.bridge_forms``' rule; this page only shows the answer.
"""
from __future__ import annotations

import uuid

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container, file_link
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.auth._forms import page_title
from nexdrive.services.compliance import bridge_forms
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/lessons/bridge"
TITLE = "Notes for your supervising driver | NexDrive Academy"
DESCRIPTION = "After a lesson: what was covered, what went well and what to practise with the supervising driver."
TEXTS = (("What went well", "went_well"), ("What to practise", "practise"), ("Focus areas", "focus"),
         ("Next lesson", "next_lesson"))


class BridgeFormState(rx.State):
    loaded: bool = False
    error: str = ""
    form: dict[str, str] = {}
    skills: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        self.loaded, self.error, self.form, self.skills = False, "", {}, []
        raw = (self.router.url.query_parameters.get("id") or "").strip()
        try:
            form_id = uuid.UUID(raw)
        except ValueError:
            self.error, self.loaded = "That bridge form link is not complete.", True
            return
        try:
            view = await run_as_actor(self, lambda s, a: bridge_forms.get_bridge_form(s, a, form_id))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        self.skills = [{k: str(v) for k, v in s.items()} for s in view.pop("skills")]
        self.form = {k: "" if v is None else str(v) for k, v in view.items()}
        self.loaded = True


def _skill(s: rx.Var) -> rx.Component:
    return rx.box(
        rx.heading(s["task_name"], as_="h3", size="4"),
        rx.text(rx.badge(s["status"], size="2"), " ", s["status_text"], as_="p", size="2"),
        rx.text(rx.el.strong("Practise: "), s["practice"], as_="p", size="3"),
        rx.link("How to practise this task (Competency Hub)", href=s["hub_url"], size="3",
                class_name="bf-hub-link", min_height="44px", display="inline-flex", align_items="center"),
        class_name="bf-skill",
        padding_y="0.75rem",
        border_top=f"1px solid {rx.color('gray', 5)}",
        width="100%",
    )


def bridge_form_page() -> rx.Component:
    f = BridgeFormState.form
    return layout(
        container(
            rx.vstack(
                page_title("Notes for the supervising driver"),
                rx.cond(
                    BridgeFormState.loaded,
                    rx.cond(
                        BridgeFormState.error != "",
                        rx.callout(BridgeFormState.error, icon="circle-alert", color_scheme="red", id="bf-error"),
                        rx.vstack(
                            rx.text(rx.el.strong(f["learner_name"]), " \u00b7 lesson ", f["lesson_number"], " \u00b7 ",
                                    f["when"], as_="p", size="4", id="bf-when"),
                            rx.text("Instructor: ", f["instructor_name"], as_="p", size="3"),
                            *[rx.cond(f[key] != "", panel(title, f"bf-{key.replace('_', '-')}",
                                                          rx.text(f[key], as_="p", white_space="pre-line")))
                              for title, key in TEXTS],
                            panel("Skills covered and how to practise them", "bf-skills",
                                  rx.cond(BridgeFormState.skills.length() > 0,
                                          rx.foreach(BridgeFormState.skills, _skill),
                                          rx.text("No tasks were marked in this lesson."))),
                            file_link("Download the PDF", f["pdf_url"], id="bf-pdf", download=True),
                            rx.text("Practise only with a fully licensed supervising driver, L plates displayed, "
                                    "and record every drive in the log book.", size="2",
                                    color=rx.color("gray", 11)),
                            spacing="4",
                            width="100%",
                        ),
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading the notes\u2026"), role="status"),
                ),
                spacing="5",
                width="100%",
                max_width="44rem",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
    )


ON_LOAD = [*require_role("student", "parent", "instructor", "admin"), BridgeFormState.load]
