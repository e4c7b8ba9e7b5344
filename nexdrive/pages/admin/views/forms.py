"""Form pieces for the office pages: labelled native selects (they post with the form) and small lists."""
from __future__ import annotations

import reflex as rx


def select_field(label: str, *, id: str, options: list[tuple[str, str]] | None = None,
                 dynamic: rx.Var | None = None, default_value: rx.Var | str = "", error: rx.Var | str = "",
                 first: tuple[str, str] | None = None, **props) -> rx.Component:
    """A ``<select name=id>`` with a visible label; ``options`` fixed (value, label) pairs, or ``dynamic`` a
    list of {"id", "name"} dicts from the state; ``first`` an option shown before them."""
    items: list[rx.Component] = []
    if first is not None:
        items.append(rx.el.option(first[1], value=first[0]))
    items += [rx.el.option(text, value=value) for value, text in options or ()]
    if dynamic is not None:
        items.append(rx.foreach(dynamic, lambda o: rx.el.option(o["name"], value=o["id"])))
    err = rx.Var.create(error) if isinstance(error, str) else error
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(*items, id=id, name=id, default_value=default_value,
                     aria_invalid=rx.cond(err != "", "true", "false"), aria_describedby=f"{id}-error",
                     style={"padding": "0.5rem", "borderRadius": "var(--radius-2)", "width": "100%",
                            "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                            "minHeight": "2.5rem"}, **props),
        rx.text(err, id=f"{id}-error", role="alert", size="2", color=rx.color("red", 11),
                display=rx.cond(err != "", "block", "none")),
        spacing="1", width="100%", align="stretch",
    )


def text_area(label: str, *, id: str, default_value: rx.Var | str = "", error: rx.Var | str = "") -> rx.Component:
    err = rx.Var.create(error) if isinstance(error, str) else error
    return rx.vstack(
        rx.el.label(label, rx.text(" (optional)", as_="span", color=rx.color("gray", 10)), html_for=id,
                    font_weight="600", font_size="var(--font-size-2)"),
        rx.text_area(id=id, name=id, default_value=default_value, width="100%", rows="3",
                     aria_describedby=f"{id}-error"),
        rx.text(err, id=f"{id}-error", role="alert", size="2", color=rx.color("red", 11),
                display=rx.cond(err != "", "block", "none")),
        spacing="1", width="100%", align="stretch",
    )


def kv(label: str, value: rx.Var, *, id: str | None = None) -> rx.Component:
    return rx.hstack(rx.text(label, size="2", color=rx.color("gray", 11), min_width="9rem"),
                     rx.text(value, size="2", weight="medium", id=id), wrap="wrap", width="100%")


def pager(offset: rx.Var, total: rx.Var, size: int, prev_event, next_event, *, id: str) -> rx.Component:
    return rx.hstack(
        rx.button("Previous", on_click=prev_event, disabled=offset <= 0, variant="soft", size="2"),
        rx.text(rx.cond(total > 0, (offset + 1).to_string() + "\u2013" + rx.cond(
            offset + size < total, (offset + size).to_string(), total.to_string()) + " of " + total.to_string(),
            "No results"), size="2", id=f"{id}-range"),
        rx.button("Next", on_click=next_event, disabled=offset + size >= total, variant="soft", size="2"),
        spacing="3", align="center", id=id,
    )
