"""Parent / supervising-driver area ``/parent`` (placeholder until the parent portal is built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, button_link

ROUTE = brand.ROUTE_PARENT
TITLE = "Parent area | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy area for parents and supervising drivers: a learner's lessons and "
    "CBT&A progress (with their permission), lesson summaries and practice tips."
)

FEATURES = (
    Feature(
        "users",
        "Linked learners",
        "A learner invites you from their account; you only see the learners who have linked you.",
    ),
    Feature("calendar-days", "Upcoming lessons", "Lesson dates and times, so you can plan pick-ups and practice drives."),
    Feature(
        "list-checks",
        "Log-book progress",
        "Which CBT&A tasks and reviews are done, as far as the learner has chosen to share.",
    ),
    Feature(
        "lightbulb",
        "What to practise",
        "A short summary after each lesson with the skills to practise on your next supervised drive.",
    ),
    Feature(
        "book-open",
        "Supervising driver resources",
        "Practical guidance for supervised driving and logging hours, including night hours.",
    ),
    Feature(
        "bell",
        "Notifications you choose",
        "Lesson and progress updates by SMS or email. No marketing without your consent.",
    ),
)


def parent_dashboard_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Parents and supervising drivers",
        icon="heart-handshake",
        title="Parent and supervisor area",
        lead="Support your learner between lessons: see what they are working on and what to practise next.",
        panel_heading="Parent accounts are on the way",
        panel_intro="Parent access is always granted by the learner. Here is what it will include:",
        features=FEATURES,
        note="The instructor's private notes are never shown to learners or parents.",
        actions=[
            button_link("Go to sign in", brand.ROUTE_SIGN_IN, icon="log-in", variant="soft"),
            button_link("Back to home", brand.ROUTE_HOME, variant="outline"),
        ],
    )
