"""The "page not found" page (Reflex's 404 route), inside the site's layout with ways back."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_section
from nexdrive.state.auth import ROLE_HOMES, AuthState

ROUTE = "404"  # reflex.constants.Page404.SLUG: served for every unknown path
TITLE = "Page not found | NexDrive Academy"
DESCRIPTION = "That page doesn't exist on the NexDrive Academy website."
ON_LOAD = [AuthState.check]


def not_found_page() -> rx.Component:
    return layout(
        page_section(
            rx.vstack(
                rx.heading("We couldn't find that page", as_="h1", size=rx.breakpoints(initial="7", sm="8"),
                           id="not-found-title"),
                rx.text("The link may be old, or the address mistyped. These will take you somewhere useful:",
                        as_="p", size="3", color=rx.color("gray", 11)),
                rx.flex(
                    button_link("Home page", brand.ROUTE_HOME, icon="house", id="not-found-home"),
                    rx.match(AuthState.role,
                             *[(role, button_link("Your area", home, icon="layout-dashboard", variant="outline",
                                                  id="not-found-area")) for role, home in ROLE_HOMES.items()],
                             rx.fragment()),
                    button_link("Lessons & pricing", brand.ROUTE_LESSONS, icon="tag", variant="outline"),
                    button_link("Contact us", brand.ROUTE_CONTACT, icon="mail", variant="outline"),
                    gap="0.75rem",
                    wrap="wrap",
                ),
                spacing="4",
                align="start",
                padding_y=["2rem", "3rem"],
            ),
        ),
    )
