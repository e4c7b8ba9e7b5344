"""Business identity used across the public site: name, logo, routes.

The contact details (phone, e-mail) are facts the owner keeps in the business
settings (``business_settings``): :func:`phone_display`, :func:`phone_href` and
:func:`contact_email` give the page state's copies of them (loaded by the
shared footer and by the public pages), never a number typed in here.
"""
from __future__ import annotations

import reflex as rx

BUSINESS_NAME = "NexDrive Academy"
LOCALITY = "Canberra ACT"
REGION_LONG = "Canberra, Australian Capital Territory"

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
ROUTE_HUB = "/hub"

# Where lessons start and finish (pick-up from home, school or work in these districts).
SERVICE_AREAS: tuple[str, ...] = (
    "Belconnen", "Gungahlin", "Inner North", "Inner South", "Woden Valley", "Weston Creek", "Molonglo Valley",
    "Tuggeranong",
)

LOGO_SRC = "/logo.svg"


def _policy():
    from nexdrive.state.policy import PolicyState  # state lives with the pages; import on use

    return PolicyState


def contact_email() -> rx.Var:
    """The public contact address, from the business settings."""
    return _policy().email


def phone_display() -> rx.Var:
    """The school's phone as Australians write it, e.g. (02) 6100 0000, from the business settings."""
    return _policy().phone_display


def phone_international() -> rx.Var:
    """The landline as dialled from abroad (+61 2 ...); '' for a mobile."""
    return _policy().phone_international


def phone_href() -> rx.Var:
    """``tel:`` link (E.164) for the school's phone."""
    return _policy().phone_href


def has_phone() -> rx.Var:
    return _policy().phone_display != ""


def has_email() -> rx.Var:
    return _policy().email != ""


def logo_mark(size_px: int = 36, *, lazy: bool = False) -> rx.Component:
    """The square logo mark. Decorative: the wordmark next to it names the link.

    Sized in the HTML itself (width/height attributes: the browser reserves its box before any CSS or the
    file arrives); ``lazy`` for copies below the fold (the footer's)."""
    return rx.el.img(
        src=LOGO_SRC,
        alt="",
        loading="lazy" if lazy else "eager",
        decoding="async",
        aria_hidden="true",
        custom_attrs={"width": str(size_px), "height": str(size_px)},  # attributes, not styles
        style={"flexShrink": "0", "width": f"{size_px}px", "height": f"{size_px}px"},
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
        display="inline-flex",
        align_items="center",
        min_height="44px",
        _hover={"opacity": "0.85"},
    )
