"""Small accessible form pieces shared by the account pages.

Each field has a visible ``<label for>``, ``aria-invalid`` and ``aria-describedby``
pointing at its hint / error text, and the error is announced (``role="alert"``).
"""
from __future__ import annotations

import json

import reflex as rx

from nexdrive.components.ui import container


def field(
    label: str,
    *,
    id: str,
    name: str | None = None,
    type: str = "text",
    error: rx.Var | str = "",
    hint: str | None = None,
    autocomplete: str | None = None,
    required: bool = True,
    default_value: rx.Var | str | None = None,
    **input_props,
) -> rx.Component:
    error_id = f"{id}-error"
    hint_id = f"{id}-hint"
    described = " ".join(x for x in (hint_id if hint else None, error_id) if x)
    props = dict(input_props)
    if autocomplete:
        props["auto_complete"] = autocomplete
    if default_value is not None:
        props["default_value"] = default_value
    err = rx.Var.create(error) if isinstance(error, str) else error
    return rx.vstack(
        rx.el.label(
            label,
            rx.cond(required, rx.fragment(), rx.text(" (optional)", as_="span", color=rx.color("gray", 10),
                                                   weight="regular")),
            html_for=id,
            font_weight="600",
            font_size="var(--font-size-2)",
            color=rx.color("gray", 12),
        ),
        *([rx.text(hint, id=hint_id, size="1", color=rx.color("gray", 11), as_="p")] if hint else []),
        rx.input(
            id=id,
            name=name or id,
            type=type,
            required=required,
            aria_invalid=rx.cond(err != "", "true", "false"),
            aria_describedby=described,
            size="3",
            width="100%",
            color_scheme=rx.cond(err != "", "red", "gray"),
            **props,
        ),
        rx.text(
            err,
            id=error_id,
            role="alert",
            as_="p",
            size="2",
            color=rx.color("red", 11),
            display=rx.cond(err != "", "block", "none"),
        ),
        spacing="1",
        align="stretch",
        width="100%",
    )


def message_box(text: rx.Var, *, tone: str = "red", id: str | None = None, icon: str = "circle-alert") -> rx.Component:
    """A callout shown only while ``text`` is not empty (announced politely), in high-contrast text."""
    return rx.cond(
        text != "",
        rx.callout(
            text,
            icon=icon,
            color_scheme=tone,
            high_contrast=True,  # Radix's green-11 on green-a3 is 4.2:1; step 12 text clears 4.5:1 in every tone
            role="alert" if tone == "red" else "status",
            id=id,
            width="100%",
        ),
    )


def card(*children: rx.Component, max_width: str = "28rem", **props) -> rx.Component:
    return container(
        rx.card(
            rx.vstack(*children, spacing="4", align="stretch", width="100%"),
            size="3",
            width="100%",
            max_width=max_width,
            margin_x="auto",
            **props,
        ),
        padding_top=["1.5rem", "2rem", "3rem"],
        padding_bottom=["2.5rem", "3rem", "4rem"],
    )


def page_title(text: str, lead: str | rx.Var | None = None) -> rx.Component:
    return rx.vstack(
        rx.heading(text, as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8"),
                   color=rx.color("gray", 12)),
        *([rx.text(lead, as_="p", size="3", color=rx.color("gray", 11))] if lead is not None else []),
        spacing="2",
        align="start",
    )


def go_to(url: str) -> rx.event.EventSpec:
    """A full page load (so the new websocket carries the freshly set cookie)."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def submit_button(label: str, *, loading: rx.Var, id: str, loading_label: str | None = None) -> rx.Component:
    return rx.button(
        rx.cond(loading, loading_label or "Please wait\u2026", label),
        type="submit",
        id=id,
        size="3",
        width="100%",
        loading=loading,
        disabled=loading,
        aria_busy=rx.cond(loading, "true", "false"),
    )
