"""Instructor home ``/instructor``: today's and upcoming bookings for your students."""
from __future__ import annotations

from datetime import datetime

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link
from nexdrive.pages.account._display import role_home, SYDNEY, BookingRow, booking_list, panel, stat, upcoming_bookings
from nexdrive.services.admin import instructors as instructor_admin
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_INSTRUCTOR
AVAILABILITY_ROUTE = f"{ROUTE}/availability"
TITLE = "Instructor area | NexDrive Academy"
DESCRIPTION = "The NexDrive Academy instructor area: today's lessons, upcoming bookings and your students."


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    students = access.list_students(session, actor, limit=200)
    bookings = access.list_bookings(session, actor, limit=200)
    banner = instructor_admin.accreditation_banner(session, actor)
    return {"me": me, "students": students, "bookings": bookings, "banner": banner}


class InstructorHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    today: list[BookingRow] = []
    later: list[BookingRow] = []
    student_count: int = 0
    error: str = ""
    banner: str = ""  # the accreditation warning (60 days before it lapses, or lapsed)
    banner_tone: str = "amber"

    @rx.event
    async def load(self):
        self.loaded = False
        self.today, self.later, self.first_name, self.error = [], [], "", ""
        self.student_count = 0
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return
        names = {str(s["id"]): f"{s.get('first_name') or ''} {s.get('last_name') or ''}".strip()
                 for s in data["students"]}
        rows = upcoming_bookings(data["bookings"], names=names, limit=50)
        today = datetime.now(SYDNEY).date().isoformat()
        self.today = [r for r in rows if r.day == today]
        self.later = [r for r in rows if r.day != today][:15]
        self.student_count = len(data["students"])
        self.first_name = (data["me"].get("profile") or {}).get("first_name") or ""
        banner = data.get("banner") or {}
        self.banner, self.banner_tone = banner.get("text", ""), banner.get("tone", "amber")
        self.loaded = True


def instructor_dashboard_page() -> rx.Component:
    return layout(
        role_home(
            "Instructor dashboard",
            InstructorHomeState.loaded,
            rx.text("G'day, ", rx.text(InstructorHomeState.first_name, as_="span", weight="bold"), ".",
                    as_="p", size="4"),
            rx.cond(InstructorHomeState.banner != "",
                    rx.callout(InstructorHomeState.banner, icon="triangle-alert", id="accreditation-banner",
                               color_scheme=rx.cond(InstructorHomeState.banner_tone == "red", "red", "amber"))),
            rx.cond(InstructorHomeState.error != "",
                    rx.callout(InstructorHomeState.error, icon="circle-alert", color_scheme="red")),
            rx.grid(
                stat("Lessons today", InstructorHomeState.today.length(), id="today-count"),
                stat("Upcoming", InstructorHomeState.later.length()),
                stat("Your students", InstructorHomeState.student_count, id="student-count"),
                columns=rx.breakpoints(initial="1", sm="3"),
                gap="1rem",
                width="100%",
            ),
            rx.hstack(
                button_link("Availability and time off", AVAILABILITY_ROUTE, icon="calendar-clock", size="3",
                            id="availability-link"),
                wrap="wrap",
                spacing="3",
            ),
            panel("Today", "today",
                  booking_list(InstructorHomeState.today, show_student=True, manage=True,
                               empty="No lessons today.")),
            panel("Coming up", "coming-up",
                  booking_list(InstructorHomeState.later, show_student=True, manage=True,
                               empty="Nothing booked yet.")),
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("instructor"), InstructorHomeState.load]
