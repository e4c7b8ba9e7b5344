"""Instructor availability ``/instructor/availability``: weekly hours, time off and extra hours,
and the next four weeks as learners will see them.

Made for a phone in a parked car: one column, big touch targets, native date and
time pickers; on a wide screen the two forms sit side by side above the calendar.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.pages.instructor.availability_state import AvailabilityState as S
from nexdrive.pages.instructor.availability_state import Bar, CalDay, DayRow, LessonRow, OverrideRow, WindowRow
from nexdrive.state.auth import require_role

ROUTE = f"{brand.ROUTE_INSTRUCTOR}/availability"
TITLE = "Your availability | NexDrive Academy"
DESCRIPTION = "Set your weekly teaching hours, add days off or extra hours, and see the next four weeks."

MUTED = rx.color("gray", 11)
WORK_BG = rx.color("grass", 5)
WORK_EDGE = rx.color("grass", 8)
LESSON_BG = rx.color("accent", 9)


def _section(title: str, section_id: str, lead: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.heading(title, as_="h2", size="5", id=f"{section_id}-heading"),
                rx.text(lead, as_="p", size="2", color=MUTED),
                *children,
                spacing="3",
                width="100%",
                align="stretch",
            ),
            aria_labelledby=f"{section_id}-heading",
        ),
        id=section_id,
        size=rx.breakpoints(initial="2", sm="3"),
        width="100%",
    )


def _label(text: str, html_for, **props) -> rx.Component:
    return rx.el.label(text, html_for=html_for, font_weight="600", font_size="var(--font-size-2)",
                       color=rx.color("gray", 12), **props)


def _live_input(**props) -> rx.Component:
    """A controlled input whose value reaches the state on blur at the latest, so tapping Save
    straight after typing never saves the previous value."""
    return rx.debounce_input(rx.input(**props), debounce_timeout=150, force_notify_on_blur=True)


def _error(text, error_id) -> rx.Component:
    return rx.text(text, id=error_id, role="alert", as_="p", size="1", color=rx.color("red", 11),
                   display=rx.cond(text != "", "block", "none"))


def _lesson_list(rows, list_id: str) -> rx.Component:
    def item(row: LessonRow) -> rx.Component:
        return rx.el.li(
            rx.text(row.when, weight="bold", size="2", as_="span"),
            rx.text(" \u00b7 ", row.learner, " \u00b7 ", row.service, size="2", as_="span"),
            class_name="affected-lesson",
        )

    return rx.el.ul(rx.foreach(rows, item), id=list_id, margin="0.25rem 0 0 1.1rem", padding="0")


# ─────────────────────────────────────────────────────────────────────────────
# Weekly hours
# ─────────────────────────────────────────────────────────────────────────────

def _time_input(value, error, *, input_id, label: str, on_change) -> rx.Component:
    return rx.vstack(
        _label(label, input_id),
        _live_input(type="time", id=input_id, value=value, step=900, on_change=on_change, size="3",
                 width="100%", required=True, aria_invalid=rx.cond(error != "", "true", "false"),
                 aria_describedby=f"{input_id}-error", color_scheme=rx.cond(error != "", "red", "gray")),
        _error(error, f"{input_id}-error"),
        spacing="1",
        flex="1",
        min_width="0",
    )


def _window(day: DayRow, window: WindowRow, index) -> rx.Component:
    base = f"hours-{day.day}-{index}"
    return rx.hstack(
        _time_input(window.start, window.start_error, input_id=f"{base}-start", label="From",
                    on_change=lambda v: S.set_window_start(day.day, index, v)),
        _time_input(window.end, window.end_error, input_id=f"{base}-end", label="To",
                    on_change=lambda v: S.set_window_end(day.day, index, v)),
        rx.icon_button(
            rx.icon("trash-2", size=18),
            type="button",
            variant="soft",
            color_scheme="gray",
            size="3",
            margin_top="1.6rem",
            aria_label=f"Remove {day.name} hours, block {index + 1}",
            on_click=S.remove_window(day.day, index),
        ),
        spacing="2",
        align="start",
        width="100%",
        class_name="hours-window",
    )


def _day(day: DayRow) -> rx.Component:
    return rx.el.fieldset(
        rx.hstack(
            rx.el.legend(day.name, font_weight="700", font_size="var(--font-size-3)", padding="0", float="left"),
            rx.cond(
                day.windows.length() == 0,
                rx.badge("Not working", variant="soft", color_scheme="gray"),
                rx.fragment(),
            ),
            rx.spacer(),
            rx.cond(
                day.windows.length() < 3,
                rx.button(rx.icon("plus", size=16), "Add hours", type="button", variant="ghost", size="2",
                          aria_label=f"Add hours on {day.name}", on_click=S.add_window(day.day)),
                rx.fragment(),
            ),
            align="center",
            width="100%",
        ),
        rx.vstack(rx.foreach(day.windows, lambda w, i: _window(day, w, i)), spacing="2", width="100%"),
        class_name="day-hours",
        data_day=day.day,
        border="none",
        border_top=f"1px solid {rx.color('gray', 4)}",
        margin="0",
        padding="0.75rem 0 0.25rem",
        width="100%",
        min_width="0",
    )


def weekly_hours_panel() -> rx.Component:
    return _section(
        "Weekly hours", "weekly-hours",
        "The hours you usually teach. Changes apply from today; lessons already booked stay booked.",
        rx.vstack(rx.foreach(S.week, _day), spacing="1", width="100%"),
        message_box(S.hours_error, id="hours-error"),
        message_box(S.hours_message, tone="green", id="hours-message", icon="circle-check"),
        rx.cond(
            S.outside_hours.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.box(
                    rx.text("These lessons are now outside your weekly hours. They are still booked; "
                            "move them if you can't take them:", as_="p", size="2", weight="medium"),
                    _lesson_list(S.outside_hours, "outside-hours-list"),
                    font_size="var(--font-size-2)",
                ),
                color_scheme="amber",
                role="status",
                id="outside-hours",
            ),
        ),
        rx.button(
            rx.cond(S.hours_saving, "Saving\u2026", "Save weekly hours"),
            type="button",
            id="save-hours",
            size="3",
            width="100%",
            loading=S.hours_saving,
            disabled=S.hours_saving,
            on_click=S.save_hours,
        ),
    )


# ─────────────────────────────────────────────────────────────────────────────
# Time off and extra hours
# ─────────────────────────────────────────────────────────────────────────────

def _field_input(label: str, input_id: str, value, on_change, error_key: str, *, type: str = "text",
                 optional: bool = False, **props) -> rx.Component:
    error = S.off_errors.get(error_key, "")
    return rx.vstack(
        _label(label + (" (optional)" if optional else ""), input_id),
        _live_input(id=input_id, type=type, value=value, on_change=on_change, size="3", width="100%",
                 aria_invalid=rx.cond(error != "", "true", "false"), aria_describedby=f"{input_id}-error",
                 color_scheme=rx.cond(error != "", "red", "gray"), **props),
        _error(error, f"{input_id}-error"),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _override_row(o: OverrideRow) -> rx.Component:
    extra = o.kind == "available"
    return rx.el.li(
        rx.hstack(
            rx.center(
                rx.icon(rx.cond(extra, "circle-plus", "circle-minus"), size=20),
                color=rx.cond(extra, rx.color("grass", 11), rx.color("tomato", 11)),
                padding_top="2px",
            ),
            rx.vstack(
                rx.text(o.label, weight="bold", size="3"),
                rx.text(o.kind_label, " \u00b7 ", o.time_label, size="2", color=MUTED),
                rx.cond(o.holiday != "", rx.text(o.holiday, size="1", color=rx.color("amber", 11))),
                rx.cond(o.reason != "", rx.text(o.reason, size="1", color=MUTED)),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            rx.button(
                "Remove",
                type="button",
                variant="soft",
                color_scheme="gray",
                size="2",
                loading=S.removing == o.override_id,
                aria_label=f"Remove {o.kind_label} on {o.label}",
                on_click=S.remove_override(o.override_id),
            ),
            align="start",
            width="100%",
            spacing="3",
        ),
        class_name="override-row",
        data_date=o.date,
        data_kind=o.kind,
        list_style="none",
        padding_y="0.6rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def time_off_panel() -> rx.Component:
    extra = S.off_kind == "Extra hours"
    show_times = extra | ~S.off_whole_day
    return _section(
        "Time off and extra hours", "time-off",
        "Block out a day or a few hours, or open extra hours \u2014 including a public holiday.",
        rx.vstack(
            _label("What are you adding?", "off-kind", id="off-kind-label"),
            rx.radio(["Time off", "Extra hours"], value=S.off_kind, on_change=S.set_off_kind, direction="row",
                     size="3", spacing="5", id="off-kind", aria_labelledby="off-kind-label"),
            spacing="1",
        ),
        # A text field, not type=date: a browser set to US English would show (and read) mm/dd/yyyy.
        _field_input("Date (dd/mm/yyyy)", "off-date", S.off_date, S.set_off_date, "date", placeholder="dd/mm/yyyy",
                     input_mode="numeric", pattern=r"\d{1,2}/\d{1,2}/\d{4}", max_length=10, autocomplete="off"),
        rx.cond(
            extra,
            rx.fragment(),
            rx.el.label(
                rx.checkbox(checked=S.off_whole_day, on_change=S.set_off_whole_day, size="3", id="off-whole-day"),
                rx.text("The whole day", size="3", as_="span"),
                display="flex",
                align_items="center",
                gap="0.6rem",
                min_height="2.5rem",
                cursor="pointer",
            ),
        ),
        rx.cond(
            show_times,
            rx.hstack(
                _field_input("From", "off-start", S.off_start, S.set_off_start, "time.start", type="time",
                             step=900),
                _field_input("To", "off-end", S.off_end, S.set_off_end, "time.end", type="time", step=900),
                spacing="2",
                width="100%",
            ),
        ),
        _field_input("Reason", "off-reason", S.off_reason, S.set_off_reason, "reason", optional=True,
                     placeholder=rx.cond(extra, "e.g. Catch-up lessons", "e.g. Car service"), max_length=200),
        message_box(S.off_error, id="off-error"),
        rx.button(
            rx.cond(S.off_saving, "Adding\u2026", rx.cond(extra, "Add extra hours", "Add time off")),
            type="button",
            id="add-override",
            size="3",
            width="100%",
            loading=S.off_saving,
            disabled=S.off_saving,
            on_click=S.add_override,
        ),
        message_box(S.off_message, tone="green", id="off-message", icon="circle-check"),
        rx.cond(
            S.affected.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.box(
                    rx.text("You already have ", S.affected.length(),
                            rx.cond(S.affected.length() == 1, " lesson", " lessons"),
                            " booked then. Nothing has been cancelled \u2014 please move ",
                            rx.cond(S.affected.length() == 1, "it", "them"), ":", as_="p", size="2", weight="medium"),
                    _lesson_list(S.affected, "affected-list"),
                    font_size="var(--font-size-2)",
                ),
                color_scheme="amber",
                role="alert",
                id="overlap-warning",
            ),
        ),
        rx.heading("Coming up", as_="h3", size="3", margin_top="0.5rem"),
        rx.cond(
            S.overrides.length() > 0,
            rx.el.ul(rx.foreach(S.overrides, _override_row), id="override-list", margin="0", padding="0",
                     width="100%"),
            rx.text("No time off or extra hours coming up.", size="2", color=MUTED, id="override-list-empty"),
        ),
    )


# ─────────────────────────────────────────────────────────────────────────────
# The calendar
# ─────────────────────────────────────────────────────────────────────────────

def _bar(bar: Bar, *, bg, z: str, title_prefix: str = "", **props) -> rx.Component:
    props.setdefault("top", "0")
    props.setdefault("bottom", "0")
    return rx.box(position="absolute", left=bar.left, width=bar.width, background=bg,
                  z_index=z, title=title_prefix + bar.label, **props)


def _timeline(day: CalDay) -> rx.Component:
    return rx.box(
        rx.foreach(day.windows, lambda b: _bar(b, bg=WORK_BG, z="1", border_radius="4px",
                                              box_shadow=f"inset 0 0 0 1px {WORK_EDGE}", title_prefix="Working ")),
        rx.foreach(day.lessons, lambda b: _bar(b, bg=LESSON_BG, z="2", border_radius="3px", top="3px",
                                              bottom="3px", class_name="lesson-bar", title_prefix="Lesson ")),
        position="relative",
        height="1.4rem",
        width="100%",
        border_radius="5px",
        background=rx.match(day.status, ("holiday", rx.color("amber", 3)), ("off", rx.color("tomato", 2)),
                            rx.color("gray", 3)),
        background_image=rx.cond(
            (day.status == "off") | (day.status == "holiday"),
            "repeating-linear-gradient(135deg, transparent 0 6px, rgba(0,0,0,0.05) 6px 12px)",
            "none",
        ),
        aria_hidden="true",
        overflow="hidden",
    )


def _status_badge(day: CalDay) -> rx.Component:
    return rx.match(
        day.status,
        ("holiday", rx.badge("Public holiday", color_scheme="amber", variant="soft")),
        ("off", rx.fragment()),
        ("closed", rx.fragment()),
        rx.cond(day.opened, rx.badge("Holiday \u2014 opened", color_scheme="amber", variant="outline"),
                rx.cond(day.extra_hours, rx.badge("Extra hours", color_scheme="grass", variant="soft"),
                        rx.cond(day.time_off, rx.badge("Some time off", color_scheme="tomato", variant="soft"),
                                rx.fragment()))),
    )


def _cal_day(day: CalDay) -> rx.Component:
    return rx.fragment(
        rx.cond(day.week_title != "",
                rx.heading(day.week_title, as_="h3", size="2", color=MUTED, text_transform="uppercase",
                           letter_spacing="0.05em", padding_top="0.9rem", padding_bottom="0.2rem")),
        rx.el.li(
            rx.flex(
                rx.vstack(
                    rx.hstack(
                        rx.text(day.label, weight="bold", size="3", class_name="cal-label", white_space="nowrap"),
                        rx.cond(day.is_today, rx.badge("Today", variant="solid", size="1")),
                        spacing="2",
                        align="center",
                    ),
                    spacing="0",
                    width=rx.breakpoints(initial="100%", sm="10rem"),
                    flex_shrink="0",
                ),
                rx.vstack(
                    _timeline(day),
                    rx.flex(
                        rx.text(
                            rx.cond(day.status == "holiday",
                                    rx.text(day.holiday, " \u2014 closed", as_="span"),
                                    day.hours_label),
                            size="2", color=rx.cond(day.status == "working", rx.color("gray", 12), MUTED),
                            class_name="cal-hours",
                        ),
                        _status_badge(day),
                        rx.spacer(),
                        rx.cond(day.lesson_count > 0,
                                rx.badge(day.lesson_count, rx.cond(day.lesson_count == 1, " lesson", " lessons"),
                                         color_scheme="indigo", variant="solid", class_name="cal-lessons")),
                        rx.cond(day.status == "working",
                                rx.badge(day.free_slots, " free", color_scheme="grass",
                                         variant=rx.cond(day.free_slots > 0, "soft", "outline"),
                                         class_name="cal-free")),
                        gap="0.4rem",
                        align="center",
                        wrap="wrap",
                        width="100%",
                    ),
                    spacing="1",
                    flex="1",
                    min_width="0",
                    width="100%",
                ),
                direction=rx.breakpoints(initial="column", sm="row"),
                gap=rx.breakpoints(initial="0.35rem", sm="1rem"),
                width="100%",
            ),
            class_name="cal-day",
            data_date=day.date,
            data_status=day.status,
            data_free=day.free_slots,
            data_lessons=day.lesson_count,
            list_style="none",
            padding="0.55rem 0.6rem",
            margin_x="-0.6rem",
            border_radius="var(--radius-3)",
            background=rx.cond(day.is_today, rx.color("accent", 2), "transparent"),
            border_bottom=f"1px solid {rx.color('gray', 3)}",
        ),
    )


def _legend_item(colour, text: str, **props) -> rx.Component:
    return rx.hstack(rx.box(width="1.1rem", height="0.8rem", border_radius="3px", background=colour, **props),
                     rx.text(text, size="1", color=MUTED), spacing="1", align="center")


def _axis() -> rx.Component:
    return rx.flex(
        rx.box(width="10rem", flex_shrink="0", display=rx.breakpoints(initial="none", sm="block")),
        rx.box(
            rx.foreach(S.ticks, lambda t: rx.text(t.label, size="1", color=MUTED, position="absolute", left=t.left,
                                                  transform="translateX(-50%)", white_space="nowrap")),
            position="relative",
            height="1.1rem",
            flex="1",
            margin_x="0.6rem",
        ),
        gap="1rem",
        width="100%",
        aria_hidden="true",
    )


def _total(value, label: str, colour: str, total_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(value, size="6", weight="bold", color=rx.color(colour, 11), id=total_id),
        rx.text(label, size="1", color=MUTED),
        spacing="0",
        align="center",
        padding="0.5rem",
        border_radius="var(--radius-3)",
        background=rx.color(colour, 2),
        flex="1",
    )


def calendar_panel() -> rx.Component:
    return _section(
        "Your calendar", "calendar",
        "The next four weeks as learners see them: your working hours, lessons booked, and how many more "
        "one-hour lessons still fit.",
        rx.hstack(
            _total(S.total_hours, "hours working", "grass", "total-hours"),
            _total(S.total_lessons, "lessons booked", "indigo", "total-lessons"),
            _total(S.total_free, "free lessons", "teal", "total-free"),
            spacing="2",
            width="100%",
        ),
        rx.flex(
            _legend_item(WORK_BG, "Working hours", box_shadow=f"inset 0 0 0 1px {WORK_EDGE}"),
            _legend_item(LESSON_BG, "Lesson booked"),
            _legend_item(rx.color("amber", 4), "Public holiday"),
            _legend_item(rx.color("tomato", 3), "Day off"),
            gap="0.9rem",
            wrap="wrap",
        ),
        _axis(),
        rx.el.ul(rx.foreach(S.calendar, _cal_day), id="calendar-days", margin="0", padding="0", width="100%"),
    )


def availability_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Instructor dashboard"), spacing="1",
                                  align="center"),
                        href=brand.ROUTE_INSTRUCTOR, size="2", id="back-to-dashboard"),
                page_title("Your availability"),
                rx.cond(S.is_admin & (S.instructor_name != ""),
                        rx.text("Showing the hours of ", rx.text(S.instructor_name, as_="span", weight="bold"), ".",
                                size="2", color=MUTED)),
                rx.cond(
                    S.loaded,
                    rx.cond(
                        S.load_error != "",
                        rx.callout(S.load_error, icon="circle-alert", color_scheme="red", id="load-error"),
                        rx.vstack(
                            rx.grid(
                                weekly_hours_panel(),
                                time_off_panel(),
                                columns=rx.breakpoints(initial="1", md="2"),
                                gap="1rem",
                                width="100%",
                                align_items="start",
                            ),
                            calendar_panel(),
                            spacing="4",
                            width="100%",
                        ),
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading your hours\u2026"), role="status"),
                ),
                spacing="4",
                width="100%",
            ),
            padding_y=["1rem", "1.5rem", "2.5rem"],
            padding_x=["0.75rem", "1.25rem", "2rem"],
        ),
        active=brand.ROUTE_INSTRUCTOR,
    )


ON_LOAD = [*require_role("instructor", "admin"), S.load]

__all__ = ["DESCRIPTION", "ON_LOAD", "ROUTE", "TITLE", "availability_page"]
