"""The first three steps of ``/book``: the lesson, the day and time (with the waitlist), your details."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.pages.auth._forms import field, message_box
from nexdrive.pages.booking.book_state import STEPS, BookingWidgetState


def stepper() -> rx.Component:
    def item(i: int, label: str) -> rx.Component:
        done = BookingWidgetState.step > i
        current = BookingWidgetState.step == i
        return rx.hstack(
            rx.box(
                rx.cond(done, rx.icon("check", size=14), rx.text(str(i + 1), size="1", weight="bold")),
                width="1.6rem", height="1.6rem", border_radius="999px", display="flex", align_items="center",
                justify_content="center",
                background=rx.cond(done | current, rx.color("accent", 9), rx.color("gray", 4)),
                color=rx.cond(done | current, "white", rx.color("gray", 11)),
            ),
            rx.text(label, size="2", weight=rx.cond(current, "bold", "regular"),
                    color=rx.cond(current, rx.color("gray", 12), rx.color("gray", 11))),
            spacing="2", align="center",
            aria_current=rx.cond(current, "step", "false"),
        )
    return rx.el.nav(
        rx.hstack(*[item(i, label) for i, label in enumerate(STEPS)], spacing="3", wrap="wrap", align="center",
                  row_gap="0.5rem"),
        aria_label="Booking steps", width="100%",
    )


def service_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Choose a lesson", as_="h2", size="5"),
        rx.cond(
            BookingWidgetState.loading,
            rx.vstack(*[rx.skeleton(height="5rem", width="100%") for _ in range(3)], width="100%"),
            rx.grid(
                rx.foreach(BookingWidgetState.services, lambda s: rx.el.button(
                    rx.vstack(
                        rx.hstack(rx.text(s["name"], weight="bold", size="3"), rx.spacer(),
                                  rx.badge(s["price"], size="2", color_scheme="green"), width="100%"),
                        rx.text(s["duration_minutes"] + " minutes · " + s["category_label"], size="2",
                                color=rx.color("gray", 11)),
                        rx.cond(s["gate"] != "",
                                rx.text(s["gate"], size="1", color=rx.color("amber", 11), class_name="service-gate"),
                                rx.cond(s["eligibility_note"] != "",
                                        rx.text(s["eligibility_note"], size="1", color=rx.color("amber", 11)))),
                        spacing="1", align="start", width="100%",
                    ),
                    id="service-" + s["slug"],
                    on_click=BookingWidgetState.choose_service(s["id"]),
                    type="button",
                    style={"text-align": "left", "padding": "1rem", "border-radius": "12px", "width": "100%",
                           "border": f"1px solid {rx.color('gray', 6)}", "background": rx.color("gray", 1),
                           "cursor": "pointer", "_hover": {"border-color": rx.color("accent", 8)}},
                )),
                columns=rx.breakpoints(initial="1", md="2"), gap="0.75rem", width="100%",
            ),
        ),
        spacing="3", width="100%", align="stretch",
    )


def _alternatives() -> rx.Component:
    return rx.cond(
        BookingWidgetState.conflict != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("calendar-x")),
            rx.vstack(
                rx.text(BookingWidgetState.conflict, weight="bold", id="slot-conflict"),
                rx.hstack(
                    rx.foreach(BookingWidgetState.alternatives, lambda a, i: rx.button(
                        a["day_label"] + ", " + a["label"], variant="surface", size="2",
                        id="alt-" + i.to_string(), on_click=BookingWidgetState.choose_alternative(a["start_at"]),
                    )),
                    wrap="wrap", spacing="2",
                ),
                spacing="2",
            ),
            color_scheme="amber", role="alert", width="100%",
        ),
    )


def time_step() -> rx.Component:
    """Day and time; a review or final drive the learner may not book yet shows only why (no times)."""
    return rx.cond(BookingWidgetState.gate_blocked, _gate_blocked_step(), _time_step_open())


def _gate_blocked_step() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=16), "Lessons", variant="ghost", on_click=BookingWidgetState.back,
                  id="back-to-services"),
        rx.text(BookingWidgetState.service_name, weight="bold"),
        rx.callout(BookingWidgetState.gate_reason, icon="lock", color_scheme="amber", id="booking-gate",
                   role="status"),
        rx.button(rx.link("See your log book", href="/student"), as_child=True, variant="soft", size="3",
                  id="booking-gate-link"),
        spacing="3", width="100%", align="start",
    )


def _time_step_open() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("arrow-left", size=16),
                "Lessons",
                variant="ghost",
                on_click=BookingWidgetState.back,
                id="back-to-services",
            ),
            rx.text(BookingWidgetState.service_name + " · " + BookingWidgetState.service_price, weight="bold"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        _alternatives(),
        rx.cond(BookingWidgetState.gate_reason != "",
                rx.callout(BookingWidgetState.gate_reason, icon="info", id="booking-gate", role="status")),
        instructor_choice(),
        rx.heading("Choose a day", as_="h2", size="5"),
        rx.text("All times are Canberra time.", size="2", color=rx.color("gray", 11)),
        rx.cond(
            BookingWidgetState.slots_loading,
            rx.hstack(*[rx.skeleton(height="4.5rem", width="3.8rem") for _ in range(6)], spacing="2"),
            rx.box(
                rx.hstack(
                    rx.foreach(
                        BookingWidgetState.days,
                        lambda d: rx.el.button(
                            rx.vstack(
                                rx.text(d["weekday"], size="1"),
                                rx.text(d["day"], size="5", weight="bold"),
                                rx.text(
                                    rx.cond(d["count"] == "0", "No times", d["count"] + " free"),
                                    size="1",
                                    white_space="nowrap",
                                ),
                                spacing="0",
                                align="center",
                            ),
                            id="day-" + d["date"],
                            type="button",
                            disabled=d["count"] == "0",
                            aria_pressed=rx.cond(BookingWidgetState.selected_date == d["date"], "true", "false"),
                            aria_label=d["label"]
                            + ", "
                            + rx.cond(d["count"] == "0", "no free times", d["count"] + " free times"),
                            on_click=BookingWidgetState.choose_date(d["date"]),
                            style={
                                "min-width": "4rem",
                                "padding": "0.5rem 0.25rem",
                                "border-radius": "10px",
                                "flex": "0 0 auto",
                                "border": rx.cond(
                                    BookingWidgetState.selected_date == d["date"],
                                    f"2px solid {rx.color('accent', 9)}",
                                    f"1px solid {rx.color('gray', 6)}",
                                ),
                                "background": rx.cond(
                                    BookingWidgetState.selected_date == d["date"],
                                    rx.color("accent", 3),
                                    rx.color("gray", 1),
                                ),
                                "opacity": rx.cond(d["count"] == "0", "0.45", "1"),
                                "cursor": rx.cond(d["count"] == "0", "not-allowed", "pointer"),
                            },
                        ),
                    ),
                    spacing="2",
                    padding_bottom="0.5rem",
                ),
                overflow_x="auto",
                width="100%",
                role="group",
                aria_label="Days",
            ),
        ),
        rx.heading(
            rx.cond(
                BookingWidgetState.selected_day_label != "",
                "Times on " + BookingWidgetState.selected_day_label,
                "Times",
            ),
            as_="h2",
            size="5",
        ),
        rx.cond(
            BookingWidgetState.times.length() > 0,
            rx.grid(
                rx.foreach(
                    BookingWidgetState.times,
                    lambda t: rx.button(
                        t["label"],
                        variant="surface",
                        size=rx.breakpoints(initial="2", sm="3"),
                        id="time-" + t["start"].replace(":", ""),
                        white_space="nowrap",
                        on_click=BookingWidgetState.choose_time(t["start_at"], t["label"]),
                        loading=BookingWidgetState.busy,
                        width="100%",
                    ),
                ),
                columns=rx.breakpoints(initial="3", sm="4", md="6"),
                gap="0.5rem",
                width="100%",
            ),
            rx.cond(
                ~BookingWidgetState.slots_loading,
                rx.text(
                    "No free times in the next four weeks for this lesson. Please call us on "
                    + brand.phone_display()
                    + " and we'll find a time.",
                    id="no-times",
                ),
            ),
        ),
        message_box(BookingWidgetState.form_error, id="booking-error"),
        waitlist_panel(),
        spacing="3",
        width="100%",
        align="stretch",
    )


WEEKDAYS = (("", "Any day"), ("1", "Monday"), ("2", "Tuesday"), ("3", "Wednesday"), ("4", "Thursday"),
            ("5", "Friday"), ("6", "Saturday"), ("0", "Sunday"))
HOURS = [f"{h:02d}:00" for h in range(7, 21)]


def instructor_choice() -> rx.Component:
    """"First available" or one instructor (shown when more than one teaches this lesson type)."""
    st = BookingWidgetState
    return rx.cond(st.instructor_options.length() > 1, rx.vstack(
        rx.el.label("Instructor", html_for="instructor-choice", font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(
            rx.el.option("First available", value=""),
            rx.foreach(st.instructor_options, lambda i: rx.el.option(i["name"], value=i["id"])),
            id="instructor-choice", value=st.instructor_id, on_change=st.choose_instructor,
            style={"padding": "0.5rem", "border-radius": "8px", "width": "100%", "max-width": "20rem",
                   "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)}),
        spacing="1", width="100%"))


def _select(label: str, id: str, options, default: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(*[rx.el.option(text, value=value) for value, text in options], id=id, name=id.replace("-", "_"),
                     default_value=default, style={"padding": "0.5rem", "border-radius": "8px", "width": "100%",
                                                   "border": f"1px solid {rx.color('gray', 7)}",
                                                   "background": rx.color("gray", 1)}),
        spacing="1", width="100%",
    )


def waitlist_panel() -> rx.Component:
    d = BookingWidgetState.details
    return rx.vstack(
        rx.divider(),
        message_box(BookingWidgetState.waitlist_done, tone="green", id="waitlist-done", icon="circle-check"),
        rx.button(rx.icon("bell-ring", size=16), "Can't find a time that suits? Join the waitlist", variant="ghost",
                  on_click=BookingWidgetState.toggle_waitlist, id="waitlist-toggle",
                  aria_expanded=rx.cond(BookingWidgetState.waitlist_open, "true", "false")),
        rx.cond(
            BookingWidgetState.waitlist_open,
            rx.form(
                rx.vstack(
                    rx.text("Tell us when suits you. When a lesson at that time is cancelled, we'll text you.",
                            size="2", color=rx.color("gray", 11)),
                    rx.grid(
                        _select("Day", "wl-day", WEEKDAYS, ""),
                        _select("From", "wl-from", [(h, h) for h in HOURS], "15:00"),
                        _select("To", "wl-to", [(h, h) for h in HOURS[1:]], "18:00"),
                        columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
                    ),
                    rx.cond(~BookingWidgetState.is_student, rx.grid(
                        field("Name", id="wl-name", name="wl_name", autocomplete="name", default_value=d["name"]),
                        field("Mobile", id="wl-phone", name="wl_phone", type="tel", autocomplete="tel",
                              default_value=d["phone"]),
                        field("Email", id="wl-email", name="wl_email", type="email", autocomplete="email",
                              required=False, default_value=d["email"]),
                        columns=rx.breakpoints(initial="1", sm="3"), gap="0.75rem", width="100%",
                    )),
                    message_box(BookingWidgetState.waitlist_error, id="waitlist-error"),
                    rx.button("Join the waitlist", type="submit", variant="soft", id="waitlist-submit"),
                    spacing="3", width="100%", align="stretch",
                ),
                on_submit=BookingWidgetState.join_waitlist, width="100%",
            ),
        ),
        spacing="2", width="100%", align="stretch",
    )


def details_step() -> rx.Component:
    d = BookingWidgetState.details
    return rx.vstack(
        rx.hstack(
            rx.button(rx.icon("arrow-left", size=16), "Change time", variant="ghost", on_click=BookingWidgetState.back,
                      id="back-to-times"),
            rx.text(BookingWidgetState.selected_label, weight="bold", id="chosen-time"),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.heading("Your details", as_="h2", size="5"),
        rx.form(
            rx.vstack(
                message_box(BookingWidgetState.form_error, id="details-error"),
                field("Learner's name", id="bk-name", name="name", autocomplete="name",
                      error=BookingWidgetState.name_error, default_value=d["name"]),
                rx.grid(
                    field("Mobile", id="bk-phone", name="phone", type="tel", autocomplete="tel",
                          hint="For your confirmation and reminder, e.g. 0412 345 678",
                          error=BookingWidgetState.phone_error, default_value=d["phone"]),
                    field("Email", id="bk-email", name="email", type="email", autocomplete="email",
                          error=BookingWidgetState.email_error, default_value=d["email"]),
                    columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%",
                ),
                field("Pick-up address", id="bk-pickup", name="pickup_address", autocomplete="street-address",
                      error=BookingWidgetState.pickup_address_error, default_value=d["pickup_address"]),
                field("Suburb", id="bk-suburb", name="suburb", autocomplete="address-level2",
                      error=BookingWidgetState.suburb_error, default_value=d["suburb"]),
                field("Anything we should know?", id="bk-notes", name="notes", required=False,
                      error=BookingWidgetState.notes_error, default_value=d["notes"]),
                rx.button(rx.cond(BookingWidgetState.busy, "Holding your time…", "Continue"), type="submit",
                          size="3", width="100%", id="details-continue", loading=BookingWidgetState.busy),
                spacing="4", width="100%", align="stretch",
            ),
            on_submit=BookingWidgetState.submit_details, width="100%",
        ),
        spacing="3", width="100%", align="stretch",
    )


