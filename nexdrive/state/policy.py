"""The booking policy the public pages quote (lessons, terms), loaded from ``business_settings``."""
from __future__ import annotations

import logging

import reflex as rx

from nexdrive.services.scheduling import catalogue
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")


class PolicyState(rx.State):
    """Plain copies of :func:`nexdrive.services.scheduling.catalogue.booking_policy` (strings for display)."""

    policy_loaded: bool = False
    notice: str = "24 hours"
    late_fee: str = "$0.00"
    has_late_fee: bool = False
    gst_registered: bool = False
    gst_note: str = ""
    cancellation: str = ""
    late_cancellation: str = ""
    business_name: str = "NexDrive Academy"
    abn: str = ""
    # Contact details and payment rules: empty until loaded (nothing hard-coded to go stale).
    email: str = ""
    phone_display: str = ""
    phone_international: str = ""
    phone_href: str = ""
    allow_pay_later: bool = False
    payment_terms: str = ""
    confirmation_terms: str = ""
    price_suffix: str = ""

    @rx.event
    async def ensure_policy(self):
        """For the shared header and footer: load once per visit (pages that quote the numbers reload)."""
        if not self.policy_loaded:
            return PolicyState.load_policy

    @rx.event
    async def load_policy(self):
        try:
            policy = await run_anonymous(catalogue.booking_policy)
        except Exception:  # the page still renders its static text; the numbers wait for the database
            logger.exception("could not load the booking policy")
            return
        self.notice = policy["notice"]
        self.late_fee = policy["late_fee"]
        self.has_late_fee = policy["has_late_fee"]
        self.gst_registered = policy["gst_registered"]
        self.gst_note = policy["gst_note"]
        self.cancellation = policy["cancellation"]
        self.late_cancellation = policy["late_cancellation"]
        self.business_name = policy["business_name"]
        self.abn = policy["abn"]
        self.email = policy["email"]
        self.phone_display = policy["phone_display"]
        self.phone_international = policy["phone_international"]
        self.phone_href = policy["phone_href"]
        self.allow_pay_later = policy["allow_pay_later"]
        self.payment_terms = policy["payment_terms"]
        self.confirmation_terms = policy["confirmation_terms"]
        self.price_suffix = policy["price_suffix"]
        self.policy_loaded = True


def policy_text(text: rx.Var, *, lines: int = 1, **props) -> rx.Component:
    """A piece of policy text, shown as a skeleton until the numbers have loaded."""
    return rx.skeleton(
        rx.text(text, as_="p", size="3", color=rx.color("gray", 12), **props),
        loading=~PolicyState.policy_loaded,
        min_height=f"{1.5 * lines}rem",
        width="100%",
    )
