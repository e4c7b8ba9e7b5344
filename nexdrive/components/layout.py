"""The shared page shell: skip link, header + navigation, ``<main>``, footer.

Usage in a page::

    from nexdrive.components import layout

    def lessons_page() -> rx.Component:
        return layout(page_header(...), ..., active="/lessons")

Static apart from the business's contact details, which the footer loads once
per visit from the business settings (a page still renders without a database).
"""
from __future__ import annotations

import datetime as _dt

import reflex as rx
from reflex_components_core.el.elements.inline import A as _NativeAnchor

from nexdrive.components import brand
from nexdrive.components.chat import chat_widget
from nexdrive.components.navigation import site_header
from nexdrive.components.ui import container, phone_tap
from nexdrive.state.auth import AuthState

MAIN_ID = "main-content"


def skip_link() -> rx.Component:
    """First focusable element: visually hidden until focused, then jumps to ``<main>``."""
    # A native <a> (rx.el.a is React Router's Link): the browser moves focus to #main-content.
    return _NativeAnchor.create(
        "Skip to main content",
        href=f"#{MAIN_ID}",
        id="skip-to-content",
        class_name="skip-link",
        position="absolute",
        left="0.75rem",
        top="0.75rem",
        z_index="100",
        padding="0.75rem 1rem",
        border_radius="var(--radius-3)",
        background=rx.color("accent", 9),
        color="white",
        font_weight="600",
        text_decoration="none",
        box_shadow="var(--shadow-4)",
        transform="translateY(-200%)",
        transition="transform 0.15s ease-out",
        _focus={"transform": "translateY(0)", "outline": f"3px solid {rx.color('accent', 7)}"},
    )


def _footer_heading(text: str, heading_id: str) -> rx.Component:
    return rx.heading(
        text,
        as_="h2",
        id=heading_id,
        size="2",
        weight="bold",
        color=rx.color("gray", 12),
        text_transform="uppercase",
        letter_spacing="0.06em",
        margin_bottom="0.75rem",
    )


def _footer_link(label: str, href: str) -> rx.Component:
    return rx.el.li(
        rx.link(
            label,
            href=href,
            size="2",
            color=rx.color("gray", 11),
            underline="hover",
            _hover={"color": rx.color("accent", 11)},
            display="inline-flex",
            align_items="center",
            padding_y="0.25rem",
            **phone_tap(),
        ),
        list_style="none",
    )


def _footer_list(*items: rx.Component) -> rx.Component:
    return rx.el.ul(*items, margin="0", padding="0")


def _contact_line(icon: str, *children) -> rx.Component:
    return rx.flex(
        rx.icon(icon, size=16, aria_hidden="true", flex_shrink="0", margin_top="0.2rem"),
        rx.box(*children),
        gap="0.5rem",
        align="start",
    )


def site_footer() -> rx.Component:
    """Business details, contact, site and legal links."""
    email = brand.contact_email()
    year = _dt.datetime.now(_dt.timezone.utc).year
    return rx.el.footer(
        container(
            rx.grid(
                # Brand + what we do
                rx.vstack(
                    rx.hstack(
                        brand.logo_mark(32, lazy=True),
                        rx.text(brand.BUSINESS_NAME, as_="p", weight="bold", size="4", color=rx.color("gray", 12)),
                        spacing="2",
                        align="center",
                    ),
                    rx.text(
                        "Driving lessons for learners in Canberra with an ACT-accredited "
                        "driving instructor, following the ACT competency-based training "
                        "and assessment (CBT&A) log book.",
                        as_="p",
                        size="2",
                        color=rx.color("gray", 11),
                        max_width="24rem",
                    ),
                    spacing="3",
                    align="start",
                ),
                # Contact details
                rx.box(
                    _footer_heading("Contact", "footer-contact"),
                    rx.el.address(
                        rx.vstack(
                            _contact_line(
                                "map-pin",
                                rx.text(brand.BUSINESS_NAME, as_="span", display="block"),
                                rx.text(brand.LOCALITY, as_="span", display="block"),
                            ),
                            _contact_line(
                                "phone",
                                rx.link(
                                    brand.phone_display(),
                                    href=brand.phone_href(),
                                    color=rx.color("gray", 12),
                                    underline="always",
                                    id="footer-phone",
                                    display="inline-flex",
                                    align_items="center",
                                    **phone_tap(),
                                ),
                                rx.cond(brand.phone_international() != "", rx.text(
                                    " (" + brand.phone_international() + " from outside Australia)",
                                    as_="span",
                                    size="1",
                                    color=rx.color("gray", 11),
                                    display="block",
                                )),
                            ),
                            _contact_line(
                                "mail",
                                rx.link(
                                    email,
                                    href="mailto:" + email,
                                    color=rx.color("gray", 12),
                                    underline="always",
                                    id="footer-email",
                                    word_break="break-all",
                                    display="inline-flex",
                                    align_items="center",
                                    **phone_tap(),
                                ),
                            ),
                            spacing="2",
                            align="start",
                        ),
                        font_style="normal",
                        font_size="var(--font-size-2)",
                        color=rx.color("gray", 11),
                    ),
                    aria_labelledby="footer-contact",
                    role="group",
                ),
                # Site links
                rx.el.nav(
                    _footer_heading("Learn with us", "footer-site"),
                    _footer_list(
                        _footer_link("Lessons & pricing", brand.ROUTE_LESSONS),
                        _footer_link("Online booking", brand.ROUTE_BOOK),
                        _footer_link("About the instructor", brand.ROUTE_ABOUT),
                        _footer_link("Testimonials", brand.ROUTE_TESTIMONIALS),
                        _footer_link("Questions and answers", brand.ROUTE_FAQ),
                        _footer_link("Competency Hub: the 23 tasks", brand.ROUTE_HUB),
                        _footer_link("Contact us", brand.ROUTE_CONTACT),
                        _footer_link("Sign in", brand.ROUTE_SIGN_IN),
                    ),
                    aria_labelledby="footer-site",
                ),
                # Legal links
                rx.el.nav(
                    _footer_heading("Legal", "footer-legal"),
                    _footer_list(
                        _footer_link("Terms and conditions", brand.ROUTE_TERMS),
                        _footer_link("Privacy policy", brand.ROUTE_PRIVACY),
                    ),
                    aria_labelledby="footer-legal",
                ),
                gap=["1.75rem", "2rem", "2.5rem"],
                width="100%",
                grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "1.6fr 1.4fr 1fr 1fr"],
            ),
            rx.separator(size="4", margin_y="1.5rem"),
            rx.flex(
                rx.text(
                    f"© {year} {brand.BUSINESS_NAME}. {brand.LOCALITY}, Australia.",
                    as_="p",
                    size="1",
                    color=rx.color("gray", 11),
                ),
                rx.text(
                    "Lesson times are shown in Canberra time (AEST/AEDT).",
                    as_="p",
                    size="1",
                    color=rx.color("gray", 11),
                ),
                justify="between",
                wrap="wrap",
                gap="0.5rem",
            ),
            padding_y=["2rem", "2.5rem", "3rem"],
        ),
        id="site-footer",
        on_mount=brand._policy().ensure_policy,  # the contact details come from the business settings
        background=rx.color("gray", 2),
        border_top=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        margin_top="auto",
    )


def area_notice() -> rx.Component:
    """Why the person landed here: they opened another role's area (set by the route guard)."""
    return rx.cond(
        AuthState.area_notice != "",
        container(
            rx.callout(AuthState.area_notice, icon="info", color_scheme="blue", role="status", id="area-notice",
                       width="100%"),
            padding_top="1rem",
        ),
    )


def layout(*children: rx.Component, active: str | None = None) -> rx.Component:
    """Wrap page content in the site shell.

    Args:
        *children: the page body (sections); the page supplies its own single ``<h1>``.
        active: the page's route (e.g. ``"/lessons"``): its navigation link gets
            ``aria-current="page"`` and the active style.
    """
    return rx.box(
        skip_link(),
        site_header(active),
        rx.el.main(
            area_notice(),
            *children,
            id=MAIN_ID,
            tab_index=-1,
            width="100%",
            flex="1",
            # At least a screen tall: on a signed-in page the shell paints before its data arrives, and a
            # footer painted in view was pushed out of it when the data came (layout shift 0.65-0.94 on
            # /student, /parent, /account). Below the fold from the first paint, it doesn't jump.
            min_height="100vh",
            outline="none",
        ),
        site_footer(),
        chat_widget(),
        display="flex",
        flex_direction="column",
        min_height="100vh",
        width="100%",
        position="relative",
        background=rx.color("gray", 1),
        color=rx.color("gray", 12),
    )
