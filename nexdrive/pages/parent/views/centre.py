"""The parents' centre's sections (learner switcher, progress map, how to supervise, lessons, practice guides,
bookings, payments, log book). Each section shows "not shared" when the learner's switch is off."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import route_link_button
from nexdrive.pages.account._display import booking_list, role_home
from nexdrive.pages.auth._forms import message_box
from nexdrive.pages.parent.centre_state import ParentCentreState as S

GREY = rx.color("gray", 11)
STATUS_COLOURS = {"competent": "green", "taught": "blue", "assessed": "blue", "not_yet_competent": "amber",
                  "not_started": "gray"}
TAP = {"min_height": "44px", "display": "inline-flex", "align_items": "center"}


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="2", color=GREY, as_="p", **props)


def _not_shared(what: str, cls: str) -> rx.Component:
    return _muted(f"{what} isn't shared with you. The learner can change this on their Family access page.",
                  class_name=f"not-shared {cls}")


def _section(title: str, sid: str, *body: rx.Component) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.heading(title, as_="h2", size="5", id=sid, margin_bottom="0.5rem"),
            rx.vstack(*body, spacing="2", width="100%", align="stretch"),
            aria_labelledby=sid,
        ),
        size="3", width="100%", class_name=f"parent-section {sid}",
    )


def _switcher() -> rx.Component:
    def option(learner: rx.Var) -> rx.Component:
        chosen = learner["student_id"] == S.selected
        return rx.button(
            learner["name"],
            variant=rx.cond(chosen, "solid", "outline"),
            size="3",
            aria_pressed=rx.cond(chosen, "true", "false"),
            on_click=S.choose(learner["student_id"]),
            class_name="learner-switch",
            min_height="44px",
        )
    return rx.cond(
        S.learners.length() > 1,
        rx.el.nav(
            rx.text("Choose a learner", size="2", color=GREY, as_="p", margin_bottom="0.25rem"),
            rx.flex(rx.foreach(S.learners, option), gap="0.5rem", wrap="wrap"),
            aria_label="Your learners",
        ),
    )


def _map_item(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.link(row["label"], ": ", row["name"], href=row["path"], size="2", weight="medium", **TAP),
                rx.cond(row["detail"] != "", rx.text(row["detail"], size="1", color=GREY)),
                spacing="0", align="start",
            ),
            rx.hstack(
                rx.cond(row["next"] != "", rx.badge("Next", variant="outline", color_scheme="indigo")),
                rx.badge(row["status_label"], variant="soft",
                         color_scheme=rx.match(row["status"], *STATUS_COLOURS.items(), "gray")),
                spacing="2",
            ),
            justify="between", align="center", width="100%", padding_y="0.35rem",
        ),
        list_style="none", border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="map-row",
    )


def progress_section() -> rx.Component:
    return _section(
        "Progress", "parent-progress",
        rx.cond(
            S.has_progress,
            rx.vstack(
                rx.text(S.progress_summary, weight="bold", as_="p", id="progress-summary"),
                rx.el.ul(rx.foreach(S.progress_rows, _map_item), margin="0", padding="0", width="100%"),
                width="100%", spacing="2",
            ),
            _not_shared("Progress", "progress-hidden"),
        ),
    )


def _guide_item(item: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.heading(rx.link(item.label, ": ", item.name, href=item.path, **TAP), as_="h3", size="3"),
        rx.text(item.status_label, rx.cond(item.detail != "", " \u00b7 " + item.detail, ""), size="1", color=GREY,
                as_="p"),
        rx.el.ul(rx.foreach(item.tips, lambda t: rx.el.li(rx.text(t, size="2"))), padding_left="1.25rem",
                 margin_top="0.25rem", list_style_type="disc"),
        list_style="none", padding_y="0.5rem", class_name="guide-item",
    )


def guide_section() -> rx.Component:
    return _section(
        "How to supervise: what to practise next", "parent-guide",
        rx.cond(
            S.has_progress,
            rx.cond(
                S.guide.length() > 0,
                rx.vstack(
                    _muted("Drawn from the tasks your learner is working on now. Each links to its Competency "
                           "Hub page."),
                    rx.el.ul(rx.foreach(S.guide, _guide_item), margin="0", padding="0"),
                    width="100%",
                ),
                _muted("Nothing to practise right now: every task is signed off."),
            ),
            _not_shared("Progress", "guide-hidden"),
        ),
        rx.link("All tasks in the Competency Hub", href=brand.ROUTE_HUB, size="2", **TAP),
    )


def _lesson_item(lesson: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.text("Lesson ", lesson.number, " \u00b7 ", lesson.when, weight="bold", size="2", as_="p"),
        rx.cond(lesson.has_comments, rx.text(lesson.comments, size="2", as_="p", class_name="lesson-comments")),
        list_style="none", padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="lesson-row",
    )


def lessons_section() -> rx.Component:
    return _section(
        "Lessons", "parent-lessons",
        rx.cond(
            S.has_lessons,
            rx.vstack(
                rx.cond(~S.notes_shared, _muted("Lesson notes aren't shared with you, so only dates are shown.",
                                                class_name="notes-hidden")),
                rx.cond(S.lessons.length() > 0,
                        rx.el.ul(rx.foreach(S.lessons, _lesson_item), margin="0", padding="0", width="100%"),
                        _muted("No lessons yet.")),
                width="100%", spacing="1",
            ),
            _not_shared("Lessons", "lessons-hidden"),
        ),
    )


def _bridge_item(form: rx.Var) -> rx.Component:
    def part(label: str, value: rx.Var) -> rx.Component:
        return rx.cond(value != "", rx.text(rx.text(label, weight="bold", as_="span"), value, size="2", as_="p"))
    return rx.el.li(
        rx.text("After the lesson on ", form.date, weight="bold", size="2", as_="p"),
        part("Covered: ", form.skills),
        part("Went well: ", form.positives),
        part("Practise: ", form.practice),
        part("Focus on: ", form.focus),
        part("Next lesson: ", form.next_lesson),
        rx.hstack(
            rx.link("Open the practice guide", href=form.page_url, size="2", **TAP),
            rx.el.a("PDF", href=form.pdf_url, font_size="var(--font-size-2)", color=rx.color("accent", 11),
                    min_height="44px", min_width="44px", display="inline-flex", align_items="center"),
            spacing="4", wrap="wrap",
        ),
        list_style="none", padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="bridge-row",
    )


def bridge_section() -> rx.Component:
    return _section(
        "Practice guides", "parent-bridge",
        rx.cond(
            S.has_bridge,
            rx.cond(S.bridge.length() > 0,
                    rx.el.ul(rx.foreach(S.bridge, _bridge_item), margin="0", padding="0", width="100%"),
                    _muted("No practice guides yet: the instructor writes one after each lesson.")),
            _not_shared("Practice guides", "bridge-hidden"),
        ),
    )


def bookings_section() -> rx.Component:
    return _section(
        "Bookings", "parent-bookings",
        rx.cond(S.has_bookings, booking_list(S.bookings, empty="No lessons booked at the moment."),
                _not_shared("Bookings", "bookings-hidden")),
        rx.cond(S.can_book,
                route_link_button("Book a lesson for " + S.selected_name, "/book?learner=" + S.selected,
                                  icon="calendar-plus", size="3", id="parent-book", min_height="44px")),
    )


def _payment_item(p: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(rx.text(p["date"], " \u00b7 ", p["description"], size="2"),
                  rx.text(p["amount"], " ", p["status"], size="2", weight="bold"), justify="between", width="100%"),
        list_style="none", padding_y="0.35rem",
    )


def payments_section() -> rx.Component:
    return _section(
        "Payments", "parent-payments",
        rx.cond(
            S.has_payments,
            rx.vstack(
                rx.cond(S.payments.length() > 0,
                        rx.el.ul(rx.foreach(S.payments, _payment_item), margin="0", padding="0", width="100%"),
                        _muted("No payments yet.")),
                rx.link("Payments and invoices", href="/student/payments?student=" + S.selected, size="2",
                        class_name="child-payments", **TAP),
                width="100%",
            ),
            _not_shared("Payments", "payments-hidden"),
        ),
    )


def _drive_item(d: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(rx.text(d.when, weight="bold", size="2"),
                      rx.text(d.duration, " \u00b7 supervised by ", d.supervisor, size="1", color=GREY),
                      spacing="0", align="start"),
            rx.cond(d.confirmed, rx.badge("Confirmed", color_scheme="green", variant="soft"),
                    rx.cond(d.can_confirm,
                            rx.button("Confirm", size="3", on_click=S.confirm_drive(d.drive_id), min_height="44px",
                                      class_name="confirm-drive", aria_label="Confirm the drive on " + d.when),
                            rx.badge("Awaiting confirmation", variant="soft"))),
            justify="between", align="center", width="100%", wrap="wrap", gap="0.5rem",
        ),
        list_style="none", padding_y="0.5rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="drive-row",
    )


def drives_section() -> rx.Component:
    return _section(
        "Log book", "parent-logbook",
        rx.cond(
            S.has_drives,
            rx.vstack(
                rx.cond(S.hours != "", rx.text(S.hours, weight="bold", as_="p", id="logbook-hours")),
                _muted("Confirm the drives you supervised; a confirmed drive can no longer be changed."),
                rx.cond(S.drives.length() > 0,
                        rx.el.ul(rx.foreach(S.drives, _drive_item), margin="0", padding="0", width="100%"),
                        _muted("No supervised drives logged yet.")),
                width="100%",
            ),
            _not_shared("The log book", "logbook-hidden"),
        ),
    )


def parent_centre_page() -> rx.Component:
    return layout(
        role_home(
            "Parent and supervisor area",
            S.loaded,
            rx.text("Hello, ", rx.text(S.first_name, as_="span", weight="bold"), ".", as_="p", size="4"),
            message_box(S.error, id="parent-error"),
            message_box(S.notice, tone="green", id="parent-notice", icon="check"),
            rx.cond(
                S.learners.length() > 0,
                rx.vstack(
                    _switcher(),
                    rx.heading(S.selected_name, as_="h2", size="6", id="selected-learner"),
                    rx.grid(progress_section(), guide_section(), lessons_section(), bridge_section(),
                            bookings_section(), drives_section(), payments_section(),
                            columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
                    spacing="4", width="100%", class_name="linked-student",
                ),
                _muted("No learner has linked you yet. Ask your learner to invite you from their Family access "
                       "page."),
            ),
            _muted("The instructor's private notes are never shown to learners or parents."),
        ),
        active=brand.ROUTE_PARENT,
    )
