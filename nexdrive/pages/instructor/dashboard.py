"""Instructor workstation ``/instructor`` (placeholder until lesson recording is built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, button_link

ROUTE = brand.ROUTE_INSTRUCTOR
TITLE = "Instructor workstation | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy instructor workstation: today's schedule, lesson recording with "
    "CBT&A competencies and signatures, private notes and availability."
)

FEATURES = (
    Feature("calendar-check", "Today's schedule", "Today's lessons in order, with the learner, pick-up point and lesson type."),
    Feature(
        "notebook-pen",
        "Record a lesson",
        "Log the lesson in the car in under two minutes, even with patchy mobile reception.",
    ),
    Feature(
        "list-checks",
        "Competencies taught and assessed",
        "Mark CBT&A tasks taught or assessed. The rules are checked for you: no teaching and "
        "assessing in the same lesson, 36 hours before a review.",
    ),
    Feature(
        "pen-tool",
        "Signatures",
        "Instructor and learner sign on the device; each signed record is chained so any later change shows.",
    ),
    Feature("sticky-note", "Private notes", "Notes about a learner that only you can read, never shown to students or parents."),
    Feature(
        "calendar-cog",
        "Availability and accreditation",
        "Working hours, time off and buffers between lessons, plus a reminder before your ACT accreditation expires.",
    ),
)


def instructor_dashboard_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Instructor",
        icon="car",
        title="Instructor workstation",
        lead="Built for a phone in the car: run the day, record each lesson and keep the CBT&A record audit-ready.",
        panel_heading="The workstation is being built",
        panel_intro="Sign-in for instructors comes first; then these tools:",
        features=FEATURES,
        actions=[
            button_link("Go to sign in", brand.ROUTE_SIGN_IN, icon="log-in", variant="soft"),
            button_link("Back to home", brand.ROUTE_HOME, variant="outline"),
        ],
    )
