"""Student home ``/student``: your name, upcoming bookings and CBT&A progress."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link
from nexdrive.pages.account._display import (
    role_home,
    BookingRow,
    booking_list,
    panel,
    stat,
    upcoming_bookings,
)
from nexdrive.services.compliance import competencies as cbta
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_STUDENT
TITLE = "Student area | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy student area: your upcoming driving lessons, CBT&A log-book "
    "progress, lesson summaries, logbook hours and invoices."
)
TOTAL_TASKS = 23


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    bookings = access.list_bookings(session, actor, limit=200)
    # Distinct tasks 1-23 competent in the learner's transmission (reviews are not tasks): never "24 of 23".
    progress = cbta.progress(session, actor, actor.student_id) if actor.student_id else {"competent": 0}
    return {"me": me, "bookings": bookings, "progress": progress}


class StudentHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    upcoming: list[BookingRow] = []
    competent: int = 0
    parents: int = 0
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded = False
        self.upcoming, self.first_name, self.error = [], "", ""
        self.competent = self.parents = 0
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return
        me = data["me"]
        self.first_name = (me.get("profile") or {}).get("first_name") or ""
        self.upcoming = upcoming_bookings(data["bookings"])
        self.competent = data["progress"]["competent"]
        self.parents = len((me.get("student") or {}).get("parent_links") or [])
        self.loaded = True


def student_dashboard_page() -> rx.Component:
    return layout(
        role_home(
            "Your learner dashboard",
            StudentHomeState.loaded,
            rx.text("Welcome back, ", rx.text(StudentHomeState.first_name, as_="span", weight="bold",
                                              id="student-name"), ".", as_="p", size="4"),
            rx.cond(StudentHomeState.error != "",
                    rx.callout(StudentHomeState.error, icon="circle-alert", color_scheme="red")),
            rx.grid(
                stat("CBT&A tasks competent", StudentHomeState.competent.to_string() + f" of {TOTAL_TASKS}",
                     id="progress-count"),
                stat("Upcoming lessons", StudentHomeState.upcoming.length(), id="upcoming-count"),
                stat("People following your lessons", StudentHomeState.parents, id="parent-count"),
                columns=rx.breakpoints(initial="1", sm="3"),
                gap="1rem",
                width="100%",
            ),
            panel("Upcoming lessons", "upcoming",
                  booking_list(StudentHomeState.upcoming, list_id="upcoming-list", manage=True,
                               empty="No lessons booked yet."),
                  rx.box(button_link("Book a lesson", brand.ROUTE_BOOK, icon="calendar-plus", size="2"),
                         margin_top="1rem")),
            loading_text="Loading your dashboard\u2026",
            extra_actions=(button_link("Payments and packages", "/student/payments", icon="receipt", variant="soft",
                                       size="2", id="payments-link"),
                           button_link("Family access", "/student/family", icon="users", variant="soft", size="2",
                                       id="family-link")),
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("student"), StudentHomeState.load]
