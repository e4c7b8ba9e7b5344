"""Sign-in ``/sign-in`` (placeholder until accounts are built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, button_link

ROUTE = brand.ROUTE_SIGN_IN
TITLE = "Sign in | NexDrive Academy"
DESCRIPTION = "Sign in to your NexDrive Academy account: students, parents, the instructor and the school admin."

FEATURES = (
    Feature("key-round", "Email and password", "Sign in with your email address and a password of your choosing."),
    Feature("link", "Email sign-in link", "Or get a one-time sign-in link by email, with no password to remember."),
    Feature(
        "users",
        "One account per person",
        "Students, parents, the instructor and the admin each see only what their role allows.",
    ),
    Feature(
        "lock-keyhole",
        "Kept secure",
        "Passwords are stored only as strong one-way hashes, and you can sign out of every device.",
    ),
)


def sign_in_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Accounts",
        icon="log-in",
        title="Sign in",
        lead="One sign-in for learners, parents and supervising drivers, the instructor and the admin.",
        panel_heading="Accounts are being set up",
        panel_intro="Sign-in isn't open yet. When it is, you'll be able to use:",
        features=FEATURES,
        note="No account is needed to get started: call or email us to book your first lesson.",
        actions=[
            button_link("Back to home", brand.ROUTE_HOME, icon="house", variant="soft"),
        ],
    )
