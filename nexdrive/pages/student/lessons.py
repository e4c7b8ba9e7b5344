"""The learner's lessons ``/student/lessons``: history with the instructor's comments, what was taught and
signed off, the practice guide (bridge form), both signatures, and disputing a lesson within 7 days.

Reads ``compliance.learner_home.lesson_list``; a dispute is ``compliance.lessons.dispute_lesson`` (which
checks the 7 days and who may dispute); signature images come from ``GET /api/v1/signatures/{id}/image``
(the engine's ``signature_image``, for whoever may see the lesson).
"""
from __future__ import annotations

import uuid

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link, route_link_button
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.pages.auth._forms import page_title
from nexdrive.pages.student.views import tap_targets
from nexdrive.services.compliance import learner_home, lessons
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/student/lessons"
TITLE = "Your lessons | NexDrive Academy"
DESCRIPTION = "Your driving lessons: your instructor's comments, what was signed off, practice guides and signatures."
STATUS = {"completed": "Signed", "disputed": "Disputed", "draft": "Being written",
          "pending_student_signature": "Waiting for your signature"}


def _row(ln: dict) -> dict:
    sigs = {s["signer_role"]: str(s["id"]) for s in ln.get("signatures") or []}
    bf = ln.get("bridge_form") or {}
    open_dispute = next((d for d in ln.get("disputes") or [] if not d.get("resolved_at")), None)
    return {
        "id": str(ln["id"]), "number": str(ln["lesson_number"]), "when": ln["when"],
        "status": STATUS.get(ln["status"], ln["status"]), "raw_status": ln["status"],
        "comments": ln.get("comments") or "", "taught": ", ".join(ln["taught"]),
        "achieved": ", ".join(ln["achieved"]), "not_yet": ", ".join(ln["not_yet"]),
        "suburb": ln.get("location_suburb") or "",
        "instructor_sig": sigs.get("instructor", ""), "student_sig": sigs.get("student", ""),
        "can_dispute": "1" if ln["can_dispute"] else "", "dispute_until": ln["dispute_until"],
        "dispute_reason": open_dispute["reason"] if open_dispute else "",
        "corrected": "" if ln.get("is_current", True) else "1",
        "bf_practice": bf.get("practice_instructions", ""), "bf_positives": bf.get("positives", ""),
        "bf_focus": bf.get("focus_areas", ""), "bf_next": bf.get("next_lesson_recommendation", ""),
        "bf_skills": ", ".join(bf.get("skills") or []), "has_bf": "1" if bf else "",
        "bf_page": bf.get("page_url", ""), "bf_pdf": bf.get("pdf_url", ""),
    }


class StudentLessonsState(rx.State):
    loaded: bool = False
    rows: list[dict[str, str]] = []
    error: str = ""
    message: str = ""
    disputing: str = ""  # the lesson id whose dispute form is open
    reason_error: str = ""
    dispute_error: str = ""
    busy: bool = False

    async def _reload(self) -> None:
        data = await run_as_actor(self, lambda s, a: learner_home.lesson_list(s, a, a.student_id))
        self.rows = [_row(ln) for ln in data]

    @rx.event
    async def load(self):
        self.loaded, self.error, self.message, self.disputing = False, "", "", ""
        try:
            await self._reload()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
        self.loaded = True

    @rx.event
    def open_dispute(self, lesson_id: str):
        self.disputing, self.reason_error, self.dispute_error, self.message = lesson_id, "", "", ""

    @rx.event
    def close_dispute(self):
        self.disputing, self.reason_error, self.dispute_error = "", "", ""

    @rx.event
    async def dispute(self, form_data: dict):
        self.reason_error = self.dispute_error = ""
        reason = (form_data.get("reason") or "").strip()
        if not reason:
            self.reason_error = "Please say what is wrong with this lesson record."
            return
        if len(reason) > lessons.LIMITS["reason"]:
            self.reason_error = f"Please keep it under {lessons.LIMITS['reason']} characters."
            return
        try:
            lesson_id = uuid.UUID(self.disputing)
        except ValueError:
            return
        self.busy = True
        yield
        try:
            await run_as_actor(self, lambda s, a: lessons.dispute_lesson(s, a, lesson_id, reason=reason))
            await self._reload()
        except ValidationFailed as exc:
            self.reason_error = exc.message
        except ServiceError as exc:
            self.dispute_error = exc.message
        else:
            self.disputing = ""
            self.message = ("Your dispute is recorded. The office and your instructor have been told; a corrected "
                            "record signed by you both will resolve it.")
        self.busy = False


def _signature(sig_id: rx.Var, who: str, number: rx.Var) -> rx.Component:
    return rx.cond(
        sig_id != "",
        rx.el.figure(
            rx.image(src="/api/v1/signatures/" + sig_id + "/image", alt=f"{who}'s signature, lesson " + number,
                     height="3.5rem", width="auto", max_width="100%", background="white",
                     border=f"1px solid {rx.color('gray', 5)}", border_radius="6px", loading="lazy"),
            rx.el.figcaption(rx.text(who, size="1", color=rx.color("gray", 11))),
            margin="0",
        ),
        rx.text(who + ": not signed yet", size="1", color=rx.color("gray", 11)),
    )


def _dispute_form(row: rx.Var) -> rx.Component:
    S = StudentLessonsState
    return rx.form(
        rx.vstack(
            rx.el.label("What is wrong with this record?", html_for="dispute-reason", font_weight="600"),
            rx.text_area(id="dispute-reason", name="reason", rows="3", width="100%", max_length=1000,
                         aria_invalid=rx.cond(S.reason_error != "", "true", "false"),
                         aria_describedby="dispute-reason-error"),
            rx.text(S.reason_error, id="dispute-reason-error", role="alert", size="2", color=rx.color("red", 11)),
            rx.cond(S.dispute_error != "", rx.callout(S.dispute_error, icon="circle-alert", color_scheme="red",
                                                      id="dispute-error")),
            rx.hstack(
                rx.button("Send dispute", type="submit", size="3", color_scheme="red", loading=S.busy,
                          id="dispute-submit"),
                rx.button("Cancel", type="button", size="3", variant="soft", on_click=S.close_dispute),
                spacing="3",
            ),
            spacing="2", width="100%",
        ),
        on_submit=S.dispute, reset_on_submit=False, width="100%",
    )


def _lesson(row: rx.Var) -> rx.Component:
    S = StudentLessonsState
    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Lesson " + row["number"], as_="h2", size="4"),
                    rx.badge(row["status"], color_scheme=rx.cond(row["raw_status"] == "disputed", "red", "gray"),
                             variant="soft"),
                    rx.cond(row["corrected"] != "", rx.badge("Replaced by a correction", color_scheme="amber")),
                    spacing="2", align="center", wrap="wrap",
                ),
                rx.text(row["when"], rx.cond(row["suburb"] != "", " · " + row["suburb"], ""), size="2",
                        color=rx.color("gray", 11)),
                rx.cond(row["taught"] != "", rx.text(rx.text("Taught: ", as_="span", weight="bold"), row["taught"],
                                                     size="2")),
                rx.cond(row["achieved"] != "", rx.text(rx.text("Signed off: ", as_="span", weight="bold"),
                                                       row["achieved"], size="2")),
                rx.cond(row["not_yet"] != "", rx.text(rx.text("Not yet: ", as_="span", weight="bold"),
                                                      row["not_yet"], size="2")),
                rx.cond(row["comments"] != "", rx.blockquote(row["comments"], size="2", class_name="lesson-comments")),
                rx.cond(row["has_bf"] != "", rx.box(
                    rx.heading("Practice guide", as_="h3", size="3"),
                    rx.cond(row["bf_skills"] != "", rx.text("Covered: ", row["bf_skills"], size="2")),
                    rx.cond(row["bf_positives"] != "", rx.text("Went well: ", row["bf_positives"], size="2")),
                    rx.cond(row["bf_practice"] != "", rx.text("Practise: ", row["bf_practice"], size="2")),
                    rx.cond(row["bf_focus"] != "", rx.text("Focus on: ", row["bf_focus"], size="2")),
                    rx.cond(row["bf_next"] != "", rx.text("Next lesson: ", row["bf_next"], size="2")),
                    rx.hstack(route_link_button("Open the guide", row["bf_page"], icon="file-text", size="2",
                                                aria_label="Open the guide for lesson " + row["number"]),
                              file_link("PDF", row["bf_pdf"], size="2",
                                        aria_label="PDF of the practice guide for lesson " + row["number"]),
                              spacing="2", margin_top="0.5rem"),
                    padding="0.75rem", border_radius="8px", background=rx.color("accent", 2), width="100%",
                    class_name="bridge-form",
                )),
                rx.hstack(_signature(row["instructor_sig"], "Instructor", row["number"]),
                          _signature(row["student_sig"], "Learner", row["number"]), spacing="4", wrap="wrap"),
                rx.cond(row["dispute_reason"] != "",
                        rx.callout("You disputed this lesson: " + row["dispute_reason"], icon="flag",
                                   color_scheme="red", size="1")),
                rx.cond(
                    S.disputing == row["id"],
                    _dispute_form(row),
                    rx.cond(row["can_dispute"] != "",
                            rx.button("Dispute this lesson", variant="soft", color_scheme="red", size="3",
                                      on_click=S.open_dispute(row["id"]), class_name="dispute-open",
                                      aria_label="Dispute this lesson (lesson " + row["number"] + ", until "
                                      + row["dispute_until"] + ")")),
                ),
                spacing="2", align="start", width="100%",
            ),
            size="2", width="100%",
        ),
        list_style="none", custom_attrs={"data-lesson": row["number"]}, class_name="lesson-item",
    )


def student_lessons_page() -> rx.Component:
    S = StudentLessonsState
    return layout(
        tap_targets(container(
            rx.vstack(
                page_title("Your lessons"),
                rx.cond(
                    S.loaded,
                    rx.vstack(
                        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red")),
                        rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green",
                                                            id="lessons-message", role="status")),
                        rx.text("If a lesson record is wrong, you can dispute it within 7 days of signing.",
                                size="2", color=rx.color("gray", 11)),
                        rx.cond(S.rows.length() > 0,
                                rx.el.ul(rx.foreach(S.rows, _lesson), id="lesson-list",
                                         style={"padding": 0, "margin": 0, "display": "grid", "gap": "0.75rem",
                                                "width": "100%"}),
                                rx.text("No lessons yet.", id="lesson-list")),
                        button_link("Back to your dashboard", "/student", icon="arrow-left", variant="soft", size="2"),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading your lessons\u2026"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        )),
        active="/student",
    )


ON_LOAD = [*require_role("student"), StudentLessonsState.load]
