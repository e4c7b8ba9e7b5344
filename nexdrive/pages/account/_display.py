"""Turning service-layer dicts into small plain rows for the role homes."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import reflex as rx

from nexdrive.formats import au_when

SYDNEY = ZoneInfo("Australia/Sydney")
UPCOMING_STATUSES = ("held", "pending", "confirmed", "in_progress")
STATUS_LABELS = {"held": "Held", "pending": "Pending", "confirmed": "Confirmed", "in_progress": "In progress",
                 "completed": "Completed", "cancelled": "Cancelled", "no_show": "No-show",
                 "rescheduled": "Rescheduled", "expired": "Expired"}


@dataclasses.dataclass
class BookingRow:
    booking_id: str = ""
    when: str = ""
    day: str = ""
    status: str = ""
    suburb: str = ""
    student: str = ""
    confirmed_by_sms: bool = False  # the learner replied "Y" to a reminder (bookings.attendance_confirmed_at)
    possible_match: str = ""  # staff: "possibly the same person as <name>" (a booking made without an account)


@dataclasses.dataclass
class LessonRow:
    lesson_id: str = ""
    number: str = ""
    when: str = ""
    minutes: str = ""
    comments: str = ""
    has_comments: bool = False


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(SYDNEY)


def fmt_when(start: datetime | None, end: datetime | None = None) -> str:
    if start is None:
        return ""
    return au_when(local(start), local(end) if end is not None else None)


def upcoming_bookings(bookings: list[dict], *, names: dict | None = None, limit: int = 10) -> list[BookingRow]:
    now = datetime.now(timezone.utc)
    rows = [b for b in bookings if b.get("status") in UPCOMING_STATUSES and b.get("end_time") and b["end_time"] > now]
    rows.sort(key=lambda b: b["start_time"])
    return [booking_row(b, names=names) for b in rows[:limit]]


def booking_row(b: dict, *, names: dict | None = None) -> BookingRow:
    s = local(b.get("start_time"))
    return BookingRow(
        booking_id=str(b.get("id")), when=fmt_when(b.get("start_time"), b.get("end_time")),
        day=s.date().isoformat() if s else "", status=STATUS_LABELS.get(b.get("status"), b.get("status") or ""),
        suburb=b.get("suburb") or "",
        student=(names or {}).get(str(b.get("student_id")), "") or (b.get("booker_name") or ""),
        confirmed_by_sms=bool(b.get("attendance_confirmed_at")), possible_match=b.get("possible_match") or "",
    )


def lesson_rows(lessons: list[dict], limit: int = 10) -> list[LessonRow]:
    """``comments`` is absent from a lesson dict when the viewer may not read it (access.py)."""
    out = []
    for ln in lessons[:limit]:
        comments = ln.get("comments") if "comments" in ln else None
        out.append(LessonRow(lesson_id=str(ln.get("id")), number=str(ln.get("lesson_number") or ""),
                             when=fmt_when(ln.get("start_time"), ln.get("end_time")),
                             minutes=str(ln.get("total_minutes") or ""), comments=comments or "",
                             has_comments=bool(comments)))
    return out


def competent_count(records: list[dict]) -> int:
    """Tasks whose latest recorded status is competent (records oldest first)."""
    latest: dict[str, str] = {}
    for r in records:
        latest[str(r.get("task_id"))] = r.get("status") or ""
    return sum(1 for status in latest.values() if status == "competent")


def booking_list(rows: rx.Var, *, empty: str, show_student: bool = False, list_id: str | None = None,
                 manage: bool = False) -> rx.Component:
    """``manage`` adds a "Change" link per row (the booking service decides who may change what)."""
    def item(row: rx.Var) -> rx.Component:
        return rx.el.li(
            rx.hstack(
                rx.vstack(
                    rx.text(row.when, weight="bold", size="2"),
                    rx.text(
                        *([row.student, " \u00b7 "] if show_student else []),
                        rx.cond(row.suburb != "", row.suburb, "Pick-up to be confirmed"),
                        size="1", color=rx.color("gray", 11),
                    ),
                    *([rx.cond(row.possible_match != "",
                               rx.text(row.possible_match, size="1", color=rx.color("amber", 11),
                                       class_name="possible-match"))] if show_student else []),
                    spacing="0",
                    align="start",
                ),
                rx.hstack(
                    rx.cond(row.confirmed_by_sms,
                            rx.badge("Confirmed by SMS", color_scheme="green", variant="soft",
                                     class_name="confirmed-by-sms")),
                    rx.badge(row.status, variant="soft"),
                    *([rx.link("Change", href="/booking/manage?id=" + row.booking_id, size="2",
                               class_name="manage-booking", aria_label="Change or cancel the lesson on " + row.when)]
                      if manage else []),
                    spacing="3", align="center",
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            list_style="none",
            padding_y="0.5rem",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            class_name="booking-row",
        )

    return rx.cond(
        rows.length() > 0,
        rx.el.ul(rx.foreach(rows, item), margin="0", padding="0", id=list_id, width="100%"),
        rx.text(empty, as_="p", size="2", color=rx.color("gray", 11)),
    )


def stat(label: str, value: rx.Var | str | int, *, id: str | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color=rx.color("gray", 11)),
            rx.text(value, size="7", weight="bold", id=id),
            spacing="1",
        ),
        size="2",
    )


def panel(title: str, panel_id: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.heading(title, as_="h2", size="5", id=f"{panel_id}-heading", margin_bottom="0.75rem"),
            *children,
            aria_labelledby=f"{panel_id}-heading",
        ),
        id=panel_id,
        size="3",
        width="100%",
    )


def role_home(title: str, loaded: rx.Var, *body: rx.Component, loading_text: str = "Loading\u2026",
              extra_actions: tuple[rx.Component, ...] = ()) -> rx.Component:
    """The frame every role's home shares: heading, a loading state until on_load has run, and account actions."""
    from nexdrive.components.ui import button_link, container
    from nexdrive.pages.auth._forms import page_title
    from nexdrive.pages.auth.sign_out import sign_out_button

    actions = rx.hstack(
        *extra_actions,
        button_link("Your account", "/account", icon="user-cog", variant="soft", size="2"),
        sign_out_button(size="2"),
        wrap="wrap",
        spacing="3",
    )
    return container(
        rx.vstack(
            page_title(title),
            rx.cond(
                loaded,
                rx.vstack(*body, actions, spacing="5", width="100%"),
                rx.hstack(rx.spinner(), rx.text(loading_text), role="status"),
            ),
            spacing="5",
            width="100%",
        ),
        padding_y=["1.5rem", "2rem", "3rem"],
    )
