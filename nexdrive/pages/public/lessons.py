"""Lessons & pricing ``/lessons`` (placeholder until services and prices are managed in the admin panel)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, contact_actions

ROUTE = brand.ROUTE_LESSONS
TITLE = "Lessons & pricing | NexDrive Academy"
DESCRIPTION = (
    "Driving lesson types and prices at NexDrive Academy, Canberra: lessons for learner drivers "
    "under the ACT CBT&A scheme, packages and gift vouchers."
)

FEATURES = (
    Feature("car", "Lesson types", "Standard lessons, longer lessons, and reviews and the final drive under the CBT&A scheme."),
    Feature("circle-dollar-sign", "Prices", "Clear prices, GST included, shown before you book."),
    Feature("package", "Packages", "Prepaid lesson packages, with the credits left shown in your account."),
    Feature("gift", "Gift vouchers", "Vouchers for a learner driver in your family."),
    Feature("calendar-x", "Cancellation policy", "How much notice we need to move or cancel a lesson, in plain words."),
    Feature("circle-help", "What to expect", "What happens in a first lesson and what to bring."),
)


def lessons_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Lessons & pricing",
        icon="tag",
        title="Lessons & pricing",
        lead="One-on-one lessons for learner drivers in Canberra, from your first drive to the CBT&A final drive.",
        panel_heading="Prices are being published",
        panel_intro="This page will list every lesson type and its price. It will cover:",
        features=FEATURES,
        note="For current prices, call or email us. We don't publish numbers until they're confirmed.",
        actions=contact_actions(),
    )
