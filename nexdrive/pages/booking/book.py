"""The booking widget ``/book``: lesson type → day and time → your details → confirm.

Thin over ``nexdrive.services.scheduling.booking`` (the same ``book_lesson`` / ``confirm_booking`` the REST
API, SMS bot and voice agent use). The state is in ``book_state.py``, the steps in ``views/``.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import container, page_header
from nexdrive.pages.booking.book_state import BookingWidgetState
from nexdrive.pages.booking.views.book_review import booking_for_picker, booking_who, review_step
from nexdrive.pages.booking.views.book_steps import details_step, service_step, stepper, time_step

__all__ = ["BookingWidgetState", "DESCRIPTION", "ON_LOAD", "ROUTE", "TITLE", "book_page"]

ROUTE = brand.ROUTE_BOOK
TITLE = "Book a driving lesson online | NexDrive Academy"
DESCRIPTION = (
    "Book a driving lesson with NexDrive Academy in Canberra: choose a lesson, see real free times "
    "in Canberra time, and confirm in a couple of minutes."
)


def book_page() -> rx.Component:
    return layout(
        page_header(
            "Book a driving lesson",
            "Choose a lesson, pick a free time (Canberra time) and confirm. It takes a couple of minutes.",
            kicker="Online booking",
            icon="calendar-check",
        ),
        container(
            rx.card(
                rx.vstack(
                    stepper(),
                    booking_who(),
                    booking_for_picker(),
                    rx.match(
                        BookingWidgetState.step,
                        (0, service_step()),
                        (1, time_step()),
                        (2, details_step()),
                        (3, review_step()),
                        rx.center(
                            rx.spinner(size="3"),
                            rx.text("One moment: opening your confirmation…"),
                            padding="2rem",
                            role="status",
                        ),
                    ),
                    spacing="5",
                    width="100%",
                    align="stretch",
                ),
                size=rx.breakpoints(initial="2", sm="4"),
                width="100%",
                max_width="52rem",
                margin_x="auto",
            ),
            padding_top="1.5rem",
            padding_bottom="4rem",
        ),
        active=ROUTE,
    )


ON_LOAD = [BookingWidgetState.load]
