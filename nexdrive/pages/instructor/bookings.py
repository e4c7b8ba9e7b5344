"""``/instructor/bookings``: every booking of your learners, today's and coming up, each with its manage page
(cancel, waive a late fee, mark a no-show) and whether the learner confirmed by SMS. The day sheet for the car
is ``/instructor`` (the workstation); this is the desk view."""
from __future__ import annotations

from datetime import datetime

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link
from nexdrive.pages.account._display import role_home, SYDNEY, BookingRow, booking_list, panel, stat, upcoming_bookings
from nexdrive.pages.instructor.accreditation import AccreditationBannerState, accreditation_banner
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor

HOME_ROUTE = brand.ROUTE_INSTRUCTOR
ROUTE = f"{HOME_ROUTE}/bookings"
AVAILABILITY_ROUTE = f"{HOME_ROUTE}/availability"
TITLE = "Bookings | NexDrive Academy instructor"
DESCRIPTION = "Your learners' bookings at NexDrive Academy: today and coming up, with cancel and no-show."


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    students = access.list_students(session, actor, limit=200)
    bookings = access.list_bookings(session, actor, limit=200)
    return {"me": me, "students": students, "bookings": bookings}


class InstructorBookingsState(rx.State):
    loaded: bool = False
    first_name: str = ""
    today: list[BookingRow] = []
    later: list[BookingRow] = []
    student_count: int = 0
    error: str = ""

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
        self.loaded = True


def instructor_bookings_page() -> rx.Component:
    return layout(
        role_home(
            "Bookings",
            InstructorBookingsState.loaded,
            rx.text("G'day, ", rx.text(InstructorBookingsState.first_name, as_="span", weight="bold"), ".",
                    as_="p", size="4"),
            accreditation_banner(),
            rx.cond(InstructorBookingsState.error != "",
                    rx.callout(InstructorBookingsState.error, icon="circle-alert", color_scheme="red")),
            rx.grid(
                stat("Lessons today", InstructorBookingsState.today.length(), id="today-count"),
                stat("Upcoming", InstructorBookingsState.later.length()),
                stat("Your students", InstructorBookingsState.student_count, id="student-count"),
                columns=rx.breakpoints(initial="1", sm="3"),
                gap="1rem",
                width="100%",
            ),
            rx.hstack(
                button_link("Today's day sheet", HOME_ROUTE, icon="car", size="3", id="day-sheet-link"),
                button_link("Availability and time off", AVAILABILITY_ROUTE, icon="calendar-clock", size="3",
                            variant="soft"),
                wrap="wrap",
                spacing="3",
            ),
            panel("Today", "today",
                  booking_list(InstructorBookingsState.today, show_student=True, manage=True,
                               empty="No lessons today.")),
            panel("Coming up", "coming-up",
                  booking_list(InstructorBookingsState.later, show_student=True, manage=True,
                               empty="Nothing booked yet.")),
        ),
        active=HOME_ROUTE,
    )


ON_LOAD = [*require_role("instructor"), InstructorBookingsState.load, AccreditationBannerState.load]
