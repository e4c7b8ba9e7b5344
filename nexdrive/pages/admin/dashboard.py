"""Admin area ``/admin`` (placeholder until the admin panel is built)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.placeholder import coming_soon_page
from nexdrive.components.ui import Feature, button_link

ROUTE = brand.ROUTE_ADMIN
TITLE = "Admin | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy admin panel: KPIs, pricing, leads, invoices, the audit trail and "
    "the message outbox."
)

FEATURES = (
    Feature("chart-column", "KPIs", "Today's lessons, revenue, new leads and conversion, plus the week at a glance."),
    Feature("tag", "Pricing", "Lesson types, packages and vouchers, with GST-inclusive prices."),
    Feature("contact", "Leads and contacts", "Enquiries from the website, phone and SMS, with callbacks to make."),
    Feature("receipt", "Invoices and payments", "Sequentially numbered invoices, payments and refunds."),
    Feature(
        "history",
        "Audit trail",
        "A tamper-evident history of every change, with a check that reports the first broken link.",
    ),
    Feature("inbox", "Outbox", "Every SMS and email the system sends, with its delivery status and retries."),
)


def admin_dashboard_page() -> rx.Component:
    return coming_soon_page(
        route=ROUTE,
        kicker="Admin",
        icon="layout-dashboard",
        title="Admin panel",
        lead="Run the school: numbers, prices, leads and the records an auditor will ask for.",
        panel_heading="The admin panel is being built",
        panel_intro="Admin sign-in arrives with accounts. The panel will cover:",
        features=FEATURES,
        actions=[
            button_link("Go to sign in", brand.ROUTE_SIGN_IN, icon="log-in", variant="soft"),
            button_link("Back to home", brand.ROUTE_HOME, variant="outline"),
        ],
    )
