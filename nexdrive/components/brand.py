"""Business identity used across the public site: name, contact details, logo.

Everything here is static. The contact e-mail follows ``EMAIL_FROM`` (settings)
so one environment variable changes both the sender and the address shown on
the site; the phone number is the school's published number.
"""
from __future__ import annotations

from email.utils import parseaddr

import reflex as rx

from nexdrive.settings import get_settings

BUSINESS_NAME = "NexDrive Academy"
LOCALITY = "Canberra ACT"
REGION_LONG = "Canberra, Australian Capital Territory"

# +61 2 6100 0000: shown the way Australians dial it, linked in E.164.
PHONE_E164 = "+61261000000"
PHONE_INTERNATIONAL = "+61 2 6100 0000"
PHONE_DISPLAY = "(02) 6100 0000"
PHONE_HREF = f"tel:{PHONE_E164}"

# Pages shown in the primary navigation, the role areas and the footer.
ROUTE_HOME = "/"
ROUTE_LESSONS = "/lessons"
ROUTE_BOOK = "/book"
ROUTE_STUDENT = "/student"
ROUTE_PARENT = "/parent"
ROUTE_INSTRUCTOR = "/instructor"
ROUTE_ADMIN = "/admin"
ROUTE_SIGN_IN = "/sign-in"
ROUTE_TERMS = "/terms"
ROUTE_PRIVACY = "/privacy"
ROUTE_ABOUT = "/about"
ROUTE_FAQ = "/faq"
ROUTE_CONTACT = "/contact"
ROUTE_TESTIMONIALS = "/testimonials"

# Where lessons start and finish (pick-up from home, school or work in these districts).
SERVICE_AREAS: tuple[str, ...] = (
    "Belconnen", "Gungahlin", "Inner North", "Inner South", "Woden Valley", "Weston Creek", "Molonglo Valley",
    "Tuggeranong",
)

LOGO_SRC = "/logo.svg"


def contact_email() -> str:
    """The public contact address (the address part of ``EMAIL_FROM``)."""
    _, address = parseaddr(get_settings().email_from)
    return address or "hello@nexdrive.local"


def logo_mark(size_px: int = 36) -> rx.Component:
    """The square logo mark. Decorative: the wordmark next to it names the link."""
    return rx.image(
        src=LOGO_SRC,
        alt="",
        width=f"{size_px}px",
        height=f"{size_px}px",
        flex_shrink="0",
        aria_hidden="true",
    )


def wordmark_link() -> rx.Component:
    """Logo + "NexDrive Academy", linking home. Not a heading: pages own their h1."""
    return rx.link(
        rx.hstack(
            logo_mark(),
            rx.text(
                "NexDrive",
                rx.el.span(" Academy", color=rx.color("accent", 11)),
                as_="span",
                size="5",
                weight="bold",
                color=rx.color("gray", 12),
                white_space="nowrap",
                letter_spacing="-0.01em",
            ),
            spacing="2",
            align="center",
        ),
        href=ROUTE_HOME,
        underline="none",
        id="site-logo",
        aria_label=f"{BUSINESS_NAME} home",
        _hover={"opacity": "0.85"},
    )
