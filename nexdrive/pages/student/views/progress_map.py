"""The learner's map: the 23 tasks and 2 reviews as tiles, and the hours chart.

Plain rows only (all strings): the words come from ``compliance.learner_home`` (the engine's matrix in
words); this module only draws them.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

STATUS_COLOURS = {"competent": "green", "taught": "blue", "assessed": "indigo", "not_yet_competent": "amber",
                  "not_started": "gray"}


def map_rows(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for m in items:
        state = "locked" if m["locked"] else "open" if m["open_now"] else "next" if m["is_next"] else m["status"]
        badge = {"locked": "Locked", "open": "Open to book", "next": "Next"}.get(state, m["status_label"])
        if state == "next" and m["status"] != "not_started":
            badge = f"Next · {m['status_label'].lower()}"
        if m["status"] == "competent":
            state, badge = "competent", m["status_label"]
        when = m["date_label"]
        if when and m["lesson_number"]:
            when += f" · lesson {m['lesson_number']}"
        short = "R" + m["name"][-1] if m["kind"] == "review" else str(m["task_number"])
        colour = "gray" if state == "locked" else "violet" if state in ("next", "open") and \
            m["status"] == "not_started" else STATUS_COLOURS.get(m["status"], "gray")
        rows.append({
            "number": str(m["task_number"]), "short": short, "label": m["label"], "name": m["name"],
            "kind": m["kind"], "status": m["status"], "state": state, "badge": badge,
            "colour": colour, "bg": f"var(--{colour}-4)", "fg": f"var(--{colour}-11)",
            "when": when, "reason": m["lock_reason"],
            "title": m["name"] if m["kind"] == "review" else f"{m['task_number']}. {m['name']}",
        })
    return rows


def _tile(row: rx.Var) -> rx.Component:
    is_review = (row["kind"] == "review") | (row["kind"] == "final_drive")
    return rx.el.li(
        rx.hstack(
            rx.box(
                rx.cond(row["state"] == "locked", rx.icon("lock", size=16, aria_hidden="true"),
                        rx.cond(row["state"] == "competent", rx.icon("check", size=18, aria_hidden="true"),
                                rx.text(row["short"], size="2", weight="bold"))),
                width="2.25rem", height="2.25rem", min_width="2.25rem", border_radius="999px", display="flex",
                align_items="center", justify_content="center",
                background=row["bg"], color=row["fg"],
                aria_hidden="true",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(row["title"], weight="bold", size="2", class_name="map-title"),
                    rx.badge(row["badge"], color_scheme=row["colour"], variant="soft", size="1",
                             class_name="map-badge"),
                    spacing="2", align="center", wrap="wrap",
                ),
                rx.cond(row["when"] != "", rx.text(row["when"], size="1", color=rx.color("gray", 11))),
                rx.cond(row["reason"] != "", rx.text(row["reason"], size="1", color=rx.color("gray", 12),
                                                     class_name="map-reason")),
                spacing="1", align="start", min_width="0",
            ),
            spacing="3", align="start", width="100%",
        ),
        padding="0.65rem 0.75rem",
        border_radius="10px",
        border=rx.cond(row["state"] == "next", f"2px solid {rx.color('violet', 8)}",
                       f"1px solid {rx.color('gray', 5)}"),
        background=rx.cond(is_review, rx.color("accent", 2), rx.color("gray", 1)),
        grid_column=rx.cond(is_review, "1 / -1", "auto"),
        list_style="none",
        class_name="map-tile",
        custom_attrs={"data-task": row["number"], "data-state": row["state"]},
    )


def progress_map(rows: rx.Var) -> rx.Component:
    return rx.el.ol(
        rx.foreach(rows, _tile),
        id="progress-map",
        aria_label="Your 23 tasks and 2 reviews",
        style={"display": "grid", "gridTemplateColumns": "repeat(auto-fill, minmax(15rem, 1fr))", "gap": "0.5rem",
               "padding": 0, "margin": 0, "width": "100%"},
    )


def hours_chart(weekly: rx.Var, target: rx.Var, label: rx.Var) -> rx.Component:
    chart = rx.recharts.area_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="label", tick_line=False, font_size=11, interval="preserveStartEnd"),
        rx.recharts.y_axis(tick_line=False, font_size=11, width=36, allow_decimals=False, domain=[0, target]),
        rx.recharts.graphing_tooltip(),
        rx.recharts.reference_line(y=target, stroke=rx.color("green", 9), stroke_dasharray="4 4"),
        rx.recharts.area(data_key="cumulative_hours", name="Hours toward your target", type_="monotone",
                         stroke=rx.color("accent", 9), fill=rx.color("accent", 5), stroke_width=2,
                         is_animation_active=False),
        data=weekly, width="100%", height=220,
    )
    return rx.box(chart, width="100%", id="hours-chart", role="img", aria_label=label)
