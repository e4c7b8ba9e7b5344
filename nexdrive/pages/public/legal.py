"""Terms ``/terms`` and privacy ``/privacy`` (placeholders until the final text is approved)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, contact_actions

TERMS_ROUTE = brand.ROUTE_TERMS
TERMS_TITLE = "Terms and conditions | NexDrive Academy"
TERMS_DESCRIPTION = "The terms for booking and taking driving lessons with NexDrive Academy in Canberra."

PRIVACY_ROUTE = brand.ROUTE_PRIVACY
PRIVACY_TITLE = "Privacy policy | NexDrive Academy"
PRIVACY_DESCRIPTION = (
    "How NexDrive Academy collects, uses, shares and protects the personal information of "
    "learner drivers, parents and supervising drivers."
)

TERMS_FEATURES = (
    Feature("calendar-check", "Bookings and payment", "When a booking is confirmed and when payment is due."),
    Feature("calendar-x", "Cancelling and rescheduling", "The notice we need, and what happens if a lesson is missed."),
    Feature(
        "id-card",
        "Before each lesson",
        "A current learner licence, fit to drive, and suitable shoes (and glasses, if your licence needs them).",
    ),
    Feature("package", "Packages and vouchers", "How long prepaid credits and vouchers last, and refunds."),
    Feature("shield-check", "Safety", "The instructor may end or change a lesson if continuing would not be safe."),
    Feature("message-square-warning", "Complaints", "How to raise a concern and how we respond."),
)

PRIVACY_FEATURES = (
    Feature(
        "database",
        "What we collect",
        "Contact details, licence details, lesson and log-book records, signatures and payment records.",
    ),
    Feature("lightbulb", "Why we collect it", "To deliver lessons, keep the records the ACT CBT&A scheme requires, and bill you."),
    Feature(
        "eye",
        "Who can see it",
        "Your instructor and the school. Parents only with the learner's permission. Private notes stay with the instructor.",
    ),
    Feature(
        "file-lock",
        "Compliance records",
        "Log-book records cannot be altered after signing; corrections are added as new entries.",
    ),
    Feature(
        "send",
        "Messages",
        "Reminders and confirmations name the sender. Marketing only with your consent; reply STOP to opt out.",
    ),
    Feature("user-cog", "Your choices", "How to see, correct or ask about the information we hold about you."),
)


def terms_page() -> rx.Component:
    return coming_soon_page(
        route=TERMS_ROUTE,
        kicker="Legal",
        icon="scale",
        title="Terms and conditions",
        lead=f"The terms that apply when you book and take lessons with {brand.BUSINESS_NAME}.",
        panel_heading="Our terms are being finalised",
        panel_intro="The published terms will explain, in plain English:",
        features=TERMS_FEATURES,
        note="Until they're published, ask us for the current terms before you book.",
        actions=contact_actions(),
    )


def privacy_page() -> rx.Component:
    return coming_soon_page(
        route=PRIVACY_ROUTE,
        kicker="Legal",
        icon="lock",
        title="Privacy policy",
        lead=f"How {brand.BUSINESS_NAME} looks after the personal information of learners, parents and supervisors.",
        panel_heading="Our privacy policy is being finalised",
        panel_intro="The published policy will explain:",
        features=PRIVACY_FEATURES,
        note="Questions about your information in the meantime? Call or email us.",
        actions=contact_actions(),
    )
