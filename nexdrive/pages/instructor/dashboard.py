"""Instructor home ``/instructor``: the workstation's day sheet on a phone.

"To record" on top (the week's lessons that have started and are not recorded yet, oldest first, each
with its date: last night's lesson is still there after midnight), then today's lessons in order with the
next one first (learner, Canberra time, pickup address, lesson type, progress snapshot, call and SMS
buttons, Start lesson), and the week beside it as a tab. Rendered in the
browser by ``/workstation.js`` from the copy of the week kept on the phone, so it opens with no signal
(see ``workstation_shell``); lessons waiting in the phone's outbox are listed with "Send now".
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.signature_pad import js_call
from nexdrive.components.ui import button_link
from nexdrive.pages.instructor import workstation_shell as shell
from nexdrive.pages.instructor.accreditation import AccreditationBannerState, accreditation_banner
from nexdrive.state.auth import require_role

ROUTE = brand.ROUTE_INSTRUCTOR
BOOKINGS_ROUTE = f"{ROUTE}/bookings"
AVAILABILITY_ROUTE = f"{ROUTE}/availability"
LESSON_ROUTE = f"{ROUTE}/lesson/new"
TITLE = "Today | NexDrive Academy instructor"
DESCRIPTION = "The NexDrive Academy instructor workstation: today's lessons, the week, and lessons to send."


def instructor_dashboard_page() -> rx.Component:
    return layout(
        shell.style(),
        rx.box(
            rx.heading("Today", as_="h1", size="7", id="ws-title"),
            rx.text("", id="ws-date", as_="p", size="3"),
            accreditation_banner(),
            shell.connection_note(),
            shell.outbox_banner(),
            rx.box(
                rx.el.button("Today", type="button", id="ws-tab-today", class_name="ws-btn",
                             aria_pressed="true", on_click=js_call("window.ws.tab('today')")),
                rx.el.button("Week", type="button", id="ws-tab-week", class_name="ws-btn",
                             aria_pressed="false", on_click=js_call("window.ws.tab('week')")),
                class_name="ws-tabs",
                role="group",
                aria_label="Show",
            ),
            rx.el.section(rx.text("Loading today\u2019s lessons\u2026", class_name="ws-muted"), id="ws-today",
                          aria_label="Today's lessons"),
            rx.el.section(id="ws-week", aria_label="This week", hidden=True),
            rx.hstack(
                button_link("Record a lesson without a booking", LESSON_ROUTE, icon="notebook-pen", size="3",
                            variant="soft", id="ws-unbooked-link", min_height="44px"),
                button_link("Availability and time off", AVAILABILITY_ROUTE, icon="calendar-clock", size="3",
                            variant="soft", id="availability-link", min_height="44px"),
                button_link("All bookings", BOOKINGS_ROUTE, icon="list", size="3", variant="soft", id="bookings-link",
                            min_height="44px"),
                wrap="wrap",
                spacing="3",
                margin_top="1rem",
            ),
            id="ws-home",
            width="100%",
            max_width="40rem",
            margin="0 auto",
            padding="1rem 0.75rem 2rem",
        ),
        shell.script(),
        active=ROUTE,
    )


ON_LOAD = [*require_role("instructor"), AccreditationBannerState.load]
