"""Student area ``/student`` (placeholder until accounts and the student portal are built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, button_link

ROUTE = brand.ROUTE_STUDENT
TITLE = "Student area | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy student area: your upcoming driving lessons, CBT&A log-book "
    "progress, lesson summaries, logbook hours and invoices."
)

FEATURES = (
    Feature("calendar-days", "Upcoming lessons", "See, reschedule or cancel your booked lessons, in Canberra time."),
    Feature(
        "list-checks",
        "CBT&A progress",
        "All 23 tasks and both reviews: what has been taught, what has been assessed and what is still to come.",
    ),
    Feature(
        "notebook-text",
        "Lesson summaries",
        "What you covered in each lesson and what to practise with your supervising driver before the next one.",
    ),
    Feature("clock", "Logbook hours", "Your supervised and instructor hours, including night hours, as they add up."),
    Feature("receipt", "Payments and invoices", "Lesson packages, remaining credits, receipts and invoices to download."),
    Feature(
        "user-plus",
        "Parent access",
        "Invite a parent or supervising driver and choose what they can see.",
    ),
)


def student_dashboard_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Student area",
        icon="graduation-cap",
        title="Your learner dashboard",
        lead="Everything about your lessons and your ACT CBT&A log book in one place, on your phone or computer.",
        panel_heading="Student accounts are being set up",
        panel_intro=(
            "Once student accounts open you will sign in here to follow your progress. "
            "This is what you will find:"
        ),
        features=FEATURES,
        note="Nothing to do yet: your log-book record is kept by your instructor in the meantime.",
        actions=[
            button_link("Go to sign in", brand.ROUTE_SIGN_IN, icon="log-in", variant="soft"),
            button_link("Back to home", brand.ROUTE_HOME, variant="outline"),
        ],
    )
