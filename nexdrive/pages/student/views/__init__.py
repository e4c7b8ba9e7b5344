"""Pieces of the learner's pages: the progress map, the hours chart, the shared plain-data helpers."""
from __future__ import annotations

import reflex as rx

# Every control on the learner's pages is at least 44x44 px on a phone (WCAG 2.5.5 / the check).
TAP_STYLE = {
    "& button, & a.rt-Button, & select, & .rt-TextFieldRoot, & .rt-SelectTrigger": {"minHeight": "44px",
                                                                                     "minWidth": "44px"},
    "& .rt-TextFieldInput": {"minHeight": "44px"},
    # Radix's red callout text on its tint is 4.49:1: one step darker for AA.
    "& .rt-CalloutRoot[data-accent-color='red'] .rt-CalloutText": {"color": "var(--red-12)"},
    "& a.manage-booking": {"display": "inline-flex", "alignItems": "center", "minHeight": "44px",
                           "minWidth": "44px"},
}


def tap_targets(*children: rx.Component, id: str = "portal-page") -> rx.Component:
    """A wrapper that makes every button, button-link and field inside it at least 44 px tall and wide."""
    return rx.box(*children, style=TAP_STYLE, width="100%", id=id)
