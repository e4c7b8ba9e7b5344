"""Parent home ``/parent``: the learners who linked you and, per their permissions,
their bookings and lessons. Lesson comments appear only when the learner shares
lesson notes (``access.list_lessons`` leaves them out otherwise)."""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.pages.account._display import (
    role_home,
    BookingRow,
    LessonRow,
    booking_list,
    lesson_rows,
    upcoming_bookings,
)
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import Forbidden, ServiceError
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_PARENT
TITLE = "Parent area | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy area for parents and supervising drivers: a learner's lessons and "
    "CBT&A progress (with their permission), lesson summaries and practice tips."
)




@dataclasses.dataclass
class ChildRow:
    student_id: str = ""
    name: str = ""
    relationship: str = ""
    can_bookings: bool = False
    can_lessons: bool = False
    can_notes: bool = False
    can_payments: bool = False
    bookings: list[BookingRow] = dataclasses.field(default_factory=list)
    lessons: list[LessonRow] = dataclasses.field(default_factory=list)


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    children = []
    for st in (me.get("parent") or {}).get("students", []):
        perms = st["permissions"]
        child = {"student": st, "bookings": None, "lessons": None}
        try:
            if perms.get("can_view_bookings"):
                child["bookings"] = access.list_bookings(session, actor, student_id=st["student_id"], limit=200)
            if perms.get("can_view_progress") or perms.get("can_view_lesson_notes"):
                child["lessons"] = access.list_lessons(session, actor, student_id=st["student_id"], limit=10)
        except Forbidden:
            pass  # the learner hid everything from parents
        children.append(child)
    return {"me": me, "children": children}


class ParentHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    children: list[ChildRow] = []
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded = False
        self.children, self.first_name, self.error = [], "", ""
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return
        self.first_name = (data["me"].get("profile") or {}).get("first_name") or ""
        rows = []
        for c in data["children"]:
            st = c["student"]
            rows.append(ChildRow(
                student_id=str(st["student_id"]), name=st["name"], relationship=st["relationship"],
                can_bookings=c["bookings"] is not None, can_lessons=c["lessons"] is not None,
                can_notes=bool(st["permissions"].get("can_view_lesson_notes")),
                can_payments=bool(st["permissions"].get("can_view_payments")),
                bookings=upcoming_bookings(c["bookings"] or []),
                lessons=lesson_rows(c["lessons"] or []),
            ))
        self.children = rows
        self.loaded = True


def _lesson_item(lesson: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.text("Lesson ", lesson.number, " \u00b7 ", lesson.when, weight="bold", size="2", as_="p"),
        rx.cond(lesson.has_comments,
                rx.text(lesson.comments, size="2", as_="p", class_name="lesson-comments",
                        color=rx.color("gray", 12))),
        list_style="none",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="lesson-row",
    )


def _child_card(child: rx.Var) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.heading(child.name, as_="h2", size="5"),
            rx.text("You're linked as their ", child.relationship, ".", size="2", color=rx.color("gray", 11),
                    as_="p", margin_bottom="0.75rem"),
            rx.heading("Upcoming lessons", as_="h3", size="3", margin_top="0.5rem"),
            rx.cond(child.can_bookings,
                    booking_list(child.bookings, empty="No lessons booked at the moment."),
                    rx.text("Not shared with you.", size="2", color=rx.color("gray", 11), as_="p")),
            rx.heading("Recent lessons", as_="h3", size="3", margin_top="1rem"),
            rx.cond(
                child.can_lessons,
                rx.vstack(
                    rx.cond(~child.can_notes,
                            rx.text("Lesson notes aren't shared with you, so only dates are shown.", size="1",
                                    color=rx.color("gray", 11), as_="p", class_name="notes-hidden")),
                    rx.cond(child.lessons.length() > 0,
                            rx.el.ul(rx.foreach(child.lessons, _lesson_item), margin="0", padding="0",
                                     width="100%"),
                            rx.text("No lessons yet.", size="2", color=rx.color("gray", 11), as_="p")),
                    spacing="1",
                    width="100%",
                ),
                rx.text("Not shared with you.", size="2", color=rx.color("gray", 11), as_="p"),
            ),
            rx.cond(child.can_payments,
                    rx.link("Payments and invoices", href="/student/payments?student=" + child.student_id, size="2",
                            class_name="child-payments", margin_top="0.75rem", display="inline-block")),
        ),
        class_name="linked-student",
        size="3",
        width="100%",
    )


def parent_dashboard_page() -> rx.Component:
    return layout(
        role_home(
            "Parent and supervisor area",
            ParentHomeState.loaded,
            rx.text("Hello, ", rx.text(ParentHomeState.first_name, as_="span", weight="bold"), ".",
                    as_="p", size="4"),
            rx.cond(ParentHomeState.error != "",
                    rx.callout(ParentHomeState.error, icon="circle-alert", color_scheme="red")),
            rx.cond(
                ParentHomeState.children.length() > 0,
                rx.grid(rx.foreach(ParentHomeState.children, _child_card),
                        columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
                rx.text("No learner has linked you yet. Ask your learner to invite you from their "
                        "Family access page.", as_="p", color=rx.color("gray", 11)),
            ),
            rx.text("The instructor's private notes are never shown to learners or parents.",
                    size="1", color=rx.color("gray", 11), as_="p"),
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("parent"), ParentHomeState.load]
