"""Booking page ``/book`` (placeholder until the booking widget is built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, contact_actions

ROUTE = brand.ROUTE_BOOK
TITLE = "Book a driving lesson | NexDrive Academy"
DESCRIPTION = (
    "Book a driving lesson with NexDrive Academy in Canberra. Online booking is coming soon; "
    "until then, call or email to book."
)

FEATURES = (
    Feature("car", "Choose a lesson", "Pick the lesson type and length that suits where you are in your log book."),
    Feature(
        "calendar-range",
        "See real availability",
        "Open times shown in Canberra time, with travel time between lessons already allowed for.",
    ),
    Feature("timer", "Hold your time", "Your chosen time is held for you while you enter your details and pay."),
    Feature("credit-card", "Pay online or use credits", "Pay by card, or use a prepaid package or voucher."),
    Feature("mail-check", "Confirmation and reminders", "Confirmation by SMS and email, and a reminder before the lesson."),
    Feature("repeat", "Change of plans", "Reschedule or cancel online within the cancellation policy."),
)


def book_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Booking",
        icon="calendar-check",
        title="Book a driving lesson",
        lead="Online booking is almost here. Until it opens, call or email and we'll find a time that works for you.",
        panel_heading="Online booking is coming soon",
        panel_intro="You will be able to book a lesson here in a few steps:",
        features=FEATURES,
        note=f"To book now, call {brand.PHONE_DISPLAY} or email {brand.contact_email()}.",
        actions=contact_actions(),
    )
