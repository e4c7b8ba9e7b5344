"""Site navigation: desktop bars (>= 48em / 768px) and a mobile drawer (< 768px).

The current page is passed in by the page (``active=``) and marked with
``aria-current="page"``. Who is signed in (``AuthState``) decides which areas are
offered: only the signed-in person's own area, and "My account / Sign out". The drawer (Vaul, built on the
Radix dialog) manages its own open/closed state on the client.
"""
from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.bell import notification_bell
from nexdrive.components.ui import button_link, container, phone_tap
from nexdrive.state.auth import AuthState

# Responsive display values, indexed by Reflex breakpoints [0, 30em, 48em, ...].
SHOW_DESKTOP = ["none", "none", "flex"]
SHOW_MOBILE = ["flex", "flex", "none"]

# The utility bar scrolls away; the sticky header then pins the main bar at the top. On a phone it is 44px
# tall so its phone link is a full tap target.
UTILITY_BAR_HEIGHT = "2.25rem"
UTILITY_BAR_HEIGHTS = rx.breakpoints(initial="2.75rem", md=UTILITY_BAR_HEIGHT)
HEADER_TOPS = rx.breakpoints(initial="-2.75rem", md=f"-{UTILITY_BAR_HEIGHT}")


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    icon: str


MAIN_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", brand.ROUTE_HOME, "house"),
    NavItem("Lessons & pricing", brand.ROUTE_LESSONS, "tag"),
    NavItem("Book a lesson", brand.ROUTE_BOOK, "calendar-check"),
)

ACCOUNT_ITEMS: tuple[NavItem, ...] = (
    NavItem("Student", brand.ROUTE_STUDENT, "graduation-cap"),
    NavItem("Parent", brand.ROUTE_PARENT, "users"),
    NavItem("Instructor", brand.ROUTE_INSTRUCTOR, "car"),
    NavItem("Admin", brand.ROUTE_ADMIN, "layout-dashboard"),
)
# The one area each role may open (the route guards send anyone else away): only that one is offered.
AREA_FOR_ROLE: dict[str, tuple[NavItem, ...]] = {
    "student": (ACCOUNT_ITEMS[0],),
    "parent": (ACCOUNT_ITEMS[1],),
    "instructor": (ACCOUNT_ITEMS[2],),
    "admin": (ACCOUNT_ITEMS[3], NavItem("Availability", "/instructor/availability", "calendar-clock")),
}

# About the school: in the desktop bar (About, FAQ, Contact) and the drawer (all four).
ABOUT_ITEMS: tuple[NavItem, ...] = (
    NavItem("About", brand.ROUTE_ABOUT, "user-round-check"),
    NavItem("FAQ", brand.ROUTE_FAQ, "circle-help"),
    NavItem("Testimonials", brand.ROUTE_TESTIMONIALS, "quote"),
    NavItem("Blog", "/blog", "newspaper"),
    NavItem("Contact", brand.ROUTE_CONTACT, "mail"),
)
DESKTOP_ABOUT_ITEMS: tuple[NavItem, ...] = tuple(i for i in ABOUT_ITEMS
                                                 if i.href not in (brand.ROUTE_TESTIMONIALS, "/blog"))

# Shortcuts for the signed-in user's role (money pages), shown next to the portals and in the drawer.
ROLE_ITEMS: dict[str, tuple[NavItem, ...]] = {
    "admin": (NavItem("Payments", "/admin/payments", "receipt"), NavItem("Packages", "/admin/packages", "package"),
              NavItem("Website content", "/admin/content", "file-pen-line"),
              NavItem("Audit trail", "/admin/audit", "shield-check")),
    "student": (NavItem("Payments", "/student/payments", "receipt"),),
    "parent": (NavItem("Payments", "/student/payments", "receipt"),),
}

SIGN_IN_ITEM = NavItem("Sign in", brand.ROUTE_SIGN_IN, "log-in")
MY_ACCOUNT_ITEM = NavItem("My account", "/account", "user-round")
SIGN_OUT_ITEM = NavItem("Sign out", "/sign-out", "log-out")
OUTBOX_ITEM = NavItem("Outbox", "/admin/outbox", "send")  # administrators only

# In the desktop header the booking call-to-action reads "Book now" so that, on
# the home page, the hero's "Book a lesson" stays the one link with that name.
DESKTOP_BOOK_LABEL = "Book now"


def _is_active(item: NavItem, active: str | None) -> bool:
    if active is None:
        return False
    if item.href == "/":
        return active == "/"
    return active == item.href or active.startswith(item.href + "/")


def _current_attrs(item: NavItem, active: str | None) -> dict:
    return {"aria_current": "page"} if _is_active(item, active) else {}


# ---------------------------------------------------------------- desktop


def _desktop_link(item: NavItem, active: str | None, *, size="3", **li_props) -> rx.Component:
    current = _is_active(item, active)
    return rx.el.li(
        rx.link(
            item.label,
            href=item.href,
            size=size,
            weight="medium",
            underline="none",
            color=rx.color("accent", 11) if current else rx.color("gray", 12),
            padding_y="0.375rem",
            padding_x=rx.breakpoints(initial="0.375rem", lg="0.5rem"),
            border_radius="var(--radius-2)",
            background=rx.color("accent", 3) if current else "transparent",
            white_space="nowrap",
            _hover={"background": rx.color("accent", 3), "color": rx.color("accent", 11)},
            **_current_attrs(item, active),
        ),
        list_style="none",
        **li_props,
    )


def _nav_list(*items: rx.Component, gap: str = "0.25rem") -> rx.Component:
    return rx.el.ul(
        *items,
        display="flex",
        align_items="center",
        gap=gap,
        margin="0",
        padding="0",
    )


def utility_bar(active: str | None) -> rx.Component:
    """Thin top bar: location + phone (all sizes); role areas and sign-in (desktop)."""
    return rx.box(
        container(
            rx.flex(
                rx.flex(
                    rx.icon("map-pin", size=14, aria_hidden="true"),
                    rx.text(brand.LOCALITY, as_="span", size="1"),
                    rx.text("·", as_="span", size="1", aria_hidden="true"),
                    rx.link(
                        rx.icon("phone", size=14, aria_hidden="true"),
                        brand.phone_display(),
                        href=brand.phone_href(),
                        size="1",
                        weight="medium",
                        underline="hover",
                        color=rx.color("gray", 12),
                        display="inline-flex",
                        align_items="center",
                        gap="0.25rem",
                        **phone_tap(),
                    ),
                    align="center",
                    gap="0.375rem",
                    color=rx.color("gray", 11),
                ),
                rx.el.nav(
                    _nav_list(
                        rx.match(
                            AuthState.role,
                            *[(role, rx.fragment(
                                rx.el.li(rx.text("Your area:", as_="span", size="1", color=rx.color("gray", 11)),
                                         list_style="none", aria_hidden="true"),
                                *[_desktop_link(i, active, size="1") for i in items]))
                              for role, items in AREA_FOR_ROLE.items()],
                            rx.fragment(),
                        ),
                        rx.match(
                            AuthState.role,
                            # From 1024px only: between 768 and 1023px the bar has no room (dashboards link them).
                            *[(role, rx.fragment(*[_desktop_link(i, active, size="1",
                                                                 display=["none", "none", "none", "list-item"])
                                                   for i in items]))
                              for role, items in ROLE_ITEMS.items()],
                            rx.fragment(),
                        ),
                        rx.el.li(
                            rx.separator(orientation="vertical", size="1"),
                            list_style="none",
                            aria_hidden="true",
                            display="flex",
                            align_items="center",
                            height="1rem",
                        ),
                        rx.cond(
                            AuthState.signed_in,
                            rx.fragment(
                                rx.cond(AuthState.role == "admin", _desktop_link(OUTBOX_ITEM, active, size="1")),
                                _desktop_link(MY_ACCOUNT_ITEM, active, size="1"),
                                _desktop_link(SIGN_OUT_ITEM, active, size="1"),
                            ),
                            _desktop_link(SIGN_IN_ITEM, active, size="1"),
                        ),
                        gap="0.125rem",
                    ),
                    aria_label="Account areas",
                    display=SHOW_DESKTOP,
                ),
                justify="between",
                align="center",
                height="100%",
                gap="1rem",
            ),
        ),
        height=UTILITY_BAR_HEIGHTS,
        box_sizing="border-box",
        overflow="hidden",
        background=rx.color("gray", 2),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def desktop_main_nav(active: str | None) -> rx.Component:
    home, lessons, book = MAIN_ITEMS
    # 768–1023px: smaller links and no "Home" (the logo links home) so the bar fits.
    size = rx.breakpoints(initial="2", lg="3")
    return rx.el.nav(
        _nav_list(
            _desktop_link(home, active, size=size, display=["none", "none", "none", "list-item"]),
            _desktop_link(lessons, active, size=size),
            *[_desktop_link(i, active, size=size) for i in DESKTOP_ABOUT_ITEMS],
            rx.el.li(
                button_link(
                    DESKTOP_BOOK_LABEL,
                    book.href,
                    icon="calendar-check",
                    size="2",
                    margin_left="0.5rem",
                    white_space="nowrap",
                    **_current_attrs(book, active),
                ),
                list_style="none",
            ),
        ),
        aria_label="Main",
        display=SHOW_DESKTOP,
    )


# ---------------------------------------------------------------- mobile


def _drawer_link(item: NavItem, active: str | None) -> rx.Component:
    current = _is_active(item, active)
    return rx.el.li(
        rx.drawer.close(
            rx.link(
                rx.icon(item.icon, size=18, aria_hidden="true"),
                item.label,
                href=item.href,
                size="3",
                weight="medium",
                underline="none",
                display="flex",
                align_items="center",
                gap="0.75rem",
                min_height="2.75rem",
                padding_x="0.75rem",
                border_radius="var(--radius-3)",
                color=rx.color("accent", 11) if current else rx.color("gray", 12),
                background=rx.color("accent", 3) if current else "transparent",
                _hover={"background": rx.color("accent", 3), "color": rx.color("accent", 11)},
                **_current_attrs(item, active),
            ),
        ),
        list_style="none",
    )


def _drawer_group(title: str, group_id: str, items, active: str | None) -> rx.Component:
    return rx.box(
        rx.text(
            title,
            as_="p",
            id=group_id,
            size="1",
            weight="bold",
            color=rx.color("gray", 11),
            text_transform="uppercase",
            letter_spacing="0.06em",
            padding_x="0.75rem",
            padding_bottom="0.25rem",
        ),
        rx.el.ul(
            *[_drawer_link(i, active) for i in items],
            aria_labelledby=group_id,
            margin="0",
            padding="0",
            display="flex",
            flex_direction="column",
            gap="0.125rem",
        ),
        width="100%",
    )


def mobile_menu(active: str | None) -> rx.Component:
    """Hamburger button + right-hand drawer with every navigation link (< 768px)."""
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(
                    rx.icon("menu", size=22, aria_hidden="true"),
                    variant="ghost",
                    size="3",
                    color_scheme="gray",
                    aria_label="Open menu",
                    id="mobile-menu-button",
                    **phone_tap(),
                ),
            ),
            rx.drawer.portal(
                rx.drawer.overlay(),
                rx.drawer.content(
                    rx.flex(
                        rx.flex(
                            rx.drawer.title(
                                "Menu",
                                color=rx.color("gray", 12),
                                font_size="1.125rem",
                            ),
                            rx.drawer.close(
                                rx.icon_button(
                                    rx.icon("x", size=20, aria_hidden="true"),
                                    variant="ghost",
                                    size="3",
                                    color_scheme="gray",
                                    aria_label="Close menu",
                                    **phone_tap(),
                                ),
                            ),
                            justify="between",
                            align="center",
                            width="100%",
                        ),
                        rx.drawer.description(
                            f"Pages of the {brand.BUSINESS_NAME} website",
                            position="absolute",
                            width="1px",
                            height="1px",
                            overflow="hidden",
                            clip="rect(0 0 0 0)",
                            white_space="nowrap",
                        ),
                        rx.el.nav(
                            rx.flex(
                                _drawer_group("Learn to drive", "drawer-main", MAIN_ITEMS, active),
                                _drawer_group("About us", "drawer-about", ABOUT_ITEMS, active),
                                rx.match(
                                    AuthState.role,
                                    *[(role, _drawer_group("Your area", "drawer-accounts", items, active))
                                      for role, items in AREA_FOR_ROLE.items()],
                                    rx.fragment(),
                                ),
                                rx.match(
                                    AuthState.role,
                                    *[(role, _drawer_group("Money", f"drawer-money-{role}", items, active))
                                      for role, items in ROLE_ITEMS.items()],
                                    rx.fragment(),
                                ),
                                rx.cond(
                                    AuthState.signed_in,
                                    rx.cond(
                                        AuthState.role == "admin",
                                        _drawer_group("Signed in", "drawer-session",
                                                      (OUTBOX_ITEM, MY_ACCOUNT_ITEM, SIGN_OUT_ITEM), active),
                                        _drawer_group("Signed in", "drawer-session", (MY_ACCOUNT_ITEM, SIGN_OUT_ITEM),
                                                      active),
                                    ),
                                    _drawer_group("Account", "drawer-session", (SIGN_IN_ITEM,), active),
                                ),
                                direction="column",
                                gap="1.25rem",
                                width="100%",
                            ),
                            aria_label="Main",
                            width="100%",
                        ),
                        rx.spacer(),
                        rx.box(
                            rx.separator(size="4"),
                            rx.link(
                                rx.icon("phone", size=16, aria_hidden="true"),
                                "Call " + brand.phone_display(),
                                href=brand.phone_href(),
                                size="2",
                                weight="medium",
                                display="flex",
                                align_items="center",
                                gap="0.5rem",
                                min_height="2.75rem",
                                padding_x="0.75rem",
                                padding_top="0.5rem",
                            ),
                            width="100%",
                        ),
                        direction="column",
                        gap="1rem",
                        width="100%",
                        height="100%",
                        padding="1rem",
                        overflow_y="auto",
                    ),
                    top="0",
                    right="0",
                    bottom="0",
                    left="auto",
                    width="min(20rem, 86vw)",
                    height="100%",
                    background=rx.color("gray", 1),
                    border_left=f"1px solid {rx.color('gray', 5)}",
                    box_shadow="var(--shadow-5)",
                    outline="none",
                ),
            ),
            direction="right",
        ),
        display=SHOW_MOBILE,
    )


# ---------------------------------------------------------------- header


def site_header(active: str | None = None) -> rx.Component:
    """The page banner: utility bar, wordmark, desktop nav / mobile menu button."""
    return rx.el.header(
        utility_bar(active),
        container(
            rx.flex(
                brand.wordmark_link(),
                desktop_main_nav(active),
                rx.flex(
                    notification_bell(),
                    mobile_menu(active),
                    align="center",
                    gap="0.75rem",
                ),
                justify="between",
                align="center",
                min_height=["3.5rem", "3.5rem", "4rem"],
                gap="1rem",
            ),
        ),
        on_mount=AuthState.check_once,  # public pages too: "My account / Sign out" once signed in
        position="sticky",
        top=HEADER_TOPS,
        z_index="30",
        width="100%",
        background=rx.color("gray", 1),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        box_shadow="0 1px 2px rgba(0, 0, 0, 0.04)",
    )
