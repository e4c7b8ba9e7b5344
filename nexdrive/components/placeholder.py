"""A complete, static "coming soon" page: layout + page header + panel.

Used by the role areas and public pages that later issues will fill in. Each of
those pages keeps its own module, route, title and description; replacing one
means rewriting that module only.
"""
from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import Feature, coming_soon_panel, container, page_header


def coming_soon_page(
    *,
    route: str,
    title: str,
    lead: str,
    panel_heading: str,
    panel_intro: str,
    features: Sequence[Feature],
    kicker: str | None = None,
    icon: str | None = None,
    note: str | None = None,
    actions: Sequence[rx.Component] = (),
    extra: Sequence[rx.Component] = (),
) -> rx.Component:
    """Build a page whose body is a "coming soon" panel listing what will be there."""
    return layout(
        page_header(title, lead, kicker=kicker, icon=icon),
        rx.box(
            container(
                rx.vstack(
                    coming_soon_panel(
                        heading=panel_heading,
                        intro=panel_intro,
                        features=features,
                        note=note,
                        actions=actions,
                    ),
                    *extra,
                    spacing="6",
                    width="100%",
                ),
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
            width="100%",
        ),
        active=route,
    )
