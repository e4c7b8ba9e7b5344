"""The log-book page's body: hours, the drive timer, the add-a-drive form and the list of drives."""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link
from nexdrive.pages.account._display import stat
from nexdrive.pages.auth._forms import page_title
from nexdrive.pages.student.views import tap_targets
from nexdrive.services.compliance.logbook import ROAD_LABELS, WEATHER_LABELS

LABEL = {"font_weight": "600", "font_size": "var(--font-size-2)"}


def _error(S, key: str) -> rx.Component:
    return rx.text(S.field_errors.get(key, ""), id=f"drive-{key}-error", role="alert", size="2",
                   color=rx.color("red", 11))


def _input(S, key: str, label: str, value, on_change, *, type: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"drive-{key}", **LABEL),
        rx.input(id=f"drive-{key}", name=f"drive_{key}", type=type, value=value, on_change=on_change, size="3",
                 width="100%",
                 aria_invalid=rx.cond(S.field_errors.contains(key), "true", "false"),
                 aria_describedby=f"drive-{key}-error", **props),
        _error(S, key),
        spacing="1", width="100%",
    )


def _timer(S, start_js: str, stop_js: str) -> rx.Component:
    return rx.card(
        rx.cond(
            S.timer_start != "",
            rx.vstack(
                rx.hstack(rx.icon("timer", aria_hidden="true"), rx.heading("Drive in progress", as_="h2", size="4"),
                          align="center"),
                rx.text(S.timer_label, size="2", id="drive-timer-label"),
                rx.text("", id="drive-timer-elapsed", size="7", weight="bold", aria_live="off"),
                rx.text("The start is saved on this phone: you can close the page or lose signal.", size="1",
                        color=rx.color("gray", 11)),
                rx.hstack(
                    rx.button(rx.icon("square", aria_hidden="true"), "Stop the drive", size="4", color_scheme="red",
                              id="timer-stop", on_click=rx.call_script(stop_js, callback=S.timer_stopped)),
                    rx.button("Discard", size="3", variant="soft", color_scheme="gray", on_click=S.discard_timer,
                              id="timer-discard"),
                    spacing="3", wrap="wrap", align="center",
                ),
                spacing="2", align="start",
            ),
            rx.vstack(
                rx.heading("Log a supervised drive", as_="h2", size="4"),
                rx.text("Tap start as you drive off and stop when you park, or type the times in afterwards.",
                        size="2", color=rx.color("gray", 11)),
                rx.hstack(
                    rx.button(rx.icon("play", aria_hidden="true"), "Start a drive", size="4", id="timer-start",
                              on_click=rx.call_script(start_js, callback=S.timer_started)),
                    rx.button(rx.icon("pencil", aria_hidden="true"), "Type a drive in", size="3", variant="soft",
                              id="drive-add", on_click=S.open_form),
                    spacing="3", wrap="wrap", align="center",
                ),
                spacing="2", align="start",
            ),
        ),
        size="3", width="100%", id="drive-timer",
    )


def _form(S, other: str) -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(rx.cond(S.from_timer, "Save your drive", "Add a drive"), as_="h2", size="4"),
                rx.grid(
                    _input(S, "day", "Day", S.day, S.set_day, type="date"),
                    _input(S, "start", "Start", S.start, S.set_start, type="time"),
                    _input(S, "end", "Finish", S.end, S.set_end, type="time"),
                    columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
                ),
                rx.vstack(
                    rx.el.label("Supervising driver", html_for="drive-supervisor", **LABEL),
                    rx.el.select(
                        rx.foreach(S.supervisors, lambda p: rx.el.option(p["name"], value=p["id"])),
                        rx.el.option("Someone else (type their name)", value=other),
                        id="drive-supervisor", name="supervisor", value=S.supervisor, on_change=S.set_supervisor_choice,
                        style={"minHeight": "44px", "width": "100%", "fontSize": "16px", "padding": "0 0.5rem",
                               "borderRadius": "6px", "border": f"1px solid {rx.color('gray', 7)}",
                               "background": rx.color("gray", 1), "color": rx.color("gray", 12)},
                        aria_describedby="drive-supervisor-error",
                    ),
                    _error(S, "supervisor"),
                    spacing="1", width="100%",
                ),
                rx.cond(S.supervisor == other,
                        _input(S, "supervisor_name", "Supervisor's name", S.supervisor_name, S.set_supervisor_name,
                               auto_complete="off", max_length=200)),
                _input(S, "licence", "Supervisor's licence number", S.licence, S.set_licence, auto_complete="off",
                       max_length=30),
                rx.el.fieldset(
                    rx.el.legend("Roads (optional)", **LABEL),
                    rx.flex(*[rx.el.label(
                        rx.el.input(type="checkbox", name=f"road_{key}", id=f"road-{key}",
                                    style={"width": "20px", "height": "20px"}),
                        label, html_for=f"road-{key}",
                        style={"display": "inline-flex", "alignItems": "center", "gap": "0.4rem",
                               "minHeight": "44px", "paddingRight": "0.75rem"},
                    ) for key, label in ROAD_LABELS.items()], wrap="wrap"),
                    style={"border": "none", "padding": 0, "margin": 0},
                ),
                rx.vstack(
                    rx.el.label("Weather (optional)", html_for="drive-weather", **LABEL),
                    rx.el.select(
                        rx.el.option("Not recorded", value=""),
                        *[rx.el.option(label, value=key) for key, label in WEATHER_LABELS.items()],
                        id="drive-weather", name="weather",
                        style={"minHeight": "44px", "width": "100%", "fontSize": "16px", "padding": "0 0.5rem",
                               "borderRadius": "6px", "border": f"1px solid {rx.color('gray', 7)}",
                               "background": rx.color("gray", 1), "color": rx.color("gray", 12)},
                    ),
                    spacing="1", width="100%",
                ),
                rx.vstack(
                    rx.el.label("Notes (optional)", html_for="drive-notes", **LABEL),
                    rx.text_area(id="drive-notes", name="notes", rows="2", width="100%", max_length=2000),
                    spacing="1", width="100%",
                ),
                rx.cond(S.form_error != "", rx.callout(S.form_error, icon="circle-alert", color_scheme="red",
                                                       id="drive-form-error", role="alert")),
                rx.hstack(
                    rx.button("Save the drive", type="submit", size="4", loading=S.saving, id="drive-save"),
                    rx.button("Cancel", type="button", size="3", variant="soft", on_click=S.close_form),
                    spacing="3", align="center",
                ),
                rx.text("Night minutes are worked out from Canberra's sunset and sunrise when you save.", size="1",
                        color=rx.color("gray", 11)),
                spacing="3", width="100%",
            ),
            on_submit=S.save, reset_on_submit=False, width="100%",
        ),
        size="3", width="100%", id="drive-form",
    )


def _drive(S, row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.text(row["when"], weight="bold", size="2"),
            rx.text(row["total"], " · at night: ", row["night"], size="2", class_name="drive-minutes"),
            rx.text(row["supervisor"], size="2", color=rx.color("gray", 11)),
            rx.cond(row["roads"] != "", rx.text(row["roads"], size="1", color=rx.color("gray", 11))),
            rx.hstack(
                rx.badge(row["status"], color_scheme=rx.cond(row["confirmed"] != "", "green", "gray"),
                         variant="soft"),
                rx.cond(row["can_edit"] != "",
                        rx.button("Delete", size="2", variant="ghost", color_scheme="red", min_height="44px",
                                  on_click=S.delete(row["id"]), aria_label="Delete the drive on " + row["when"])),
                spacing="3", align="center", wrap="wrap",
            ),
            spacing="1", align="start",
        ),
        list_style="none", padding_y="0.6rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="drive-row",
    )


def logbook_page_body(S, *, start_js: str, stop_js: str, other: str) -> rx.Component:
    H = S.hours
    body = rx.vstack(
        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red")),
        rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green", id="logbook-message",
                                            role="status")),
        rx.grid(
            stat("Toward your target", H["total"] + " of " + H["target"] + " h", id="logbook-total"),
            stat("At night", H["night"] + " of " + H["night_target"] + " h", id="logbook-night"),
            stat("Supervised", H["supervised"] + " h (" + H["sup_night"] + " h at night)", id="logbook-supervised"),
            columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
        ),
        _timer(S, start_js, stop_js),
        rx.cond(S.form_open, _form(S, other)),
        rx.card(
            rx.el.section(
                rx.heading("Your drives", as_="h2", size="4", id="drives-heading"),
                rx.cond(S.drives.length() > 0,
                        rx.el.ul(rx.foreach(S.drives, lambda r: _drive(S, r)), id="drive-list",
                                 style={"padding": 0, "margin": 0}),
                        rx.text("No drives logged yet.", size="2", id="drive-list")),
                aria_labelledby="drives-heading",
            ),
            size="3", width="100%",
        ),
        rx.hstack(
            file_link("Log-book summary (PDF)", "/api/v1/students/" + S.student_id + "/logbook/pdf",
                      id="logbook-pdf", size="3"),
            button_link("Back to your dashboard", "/student", icon="arrow-left", variant="soft", size="3"),
            spacing="3", wrap="wrap",
        ),
        spacing="4", width="100%",
    )
    return layout(
        tap_targets(container(
            rx.vstack(
                page_title("Your log book", "Every supervised drive counts toward your licence test."),
                rx.cond(S.loaded, body, rx.hstack(rx.spinner(), rx.text("Loading your log book\u2026"),
                                                  role="status")),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        )),
        active="/student",
    )
