"""Small, reusable, static UI pieces shared by the pages.

None of these touch state or the database: they build plain components.
"""
from __future__ import annotations


import reflex as rx
from reflex_components_core.el.elements.inline import A as NativeAnchor
from reflex_components_core.react_router.dom import ReactRouterLink


# Phones (< 48em / 768px): every tap target at least 44x44 px (WCAG 2.5.5; Apple's HIG). From 768px the
# minimums fall away, so the desktop look is unchanged. ``min-height`` wins over Radix's fixed button heights.
PHONE_TAP = "44px"


def phone_tap(**props) -> dict:
    """Style props giving an element a 44x44 px minimum on phones only (merged under ``props``)."""
    return {"min_height": rx.breakpoints(initial=PHONE_TAP, sm="0px"),
            "min_width": rx.breakpoints(initial=PHONE_TAP, sm="0px"), **props}


def phone_field(**props) -> dict:
    """:func:`phone_tap` for a text field: its ``<input>`` sits inside the root's 1px border, so the root is
    46px tall for the input itself to be 44."""
    return phone_tap(min_height=rx.breakpoints(initial="46px", sm="0px"), **props)


# Content width used by header, footer and every page body.
CONTENT_MAX_WIDTH = "72rem"
GUTTER = ["1rem", "1.25rem", "2rem"]


def container(*children: rx.Component, **props) -> rx.Component:
    """Centre content at the site width with responsive side gutters."""
    props.setdefault("width", "100%")
    props.setdefault("max_width", CONTENT_MAX_WIDTH)
    props.setdefault("margin_x", "auto")
    props.setdefault("padding_x", GUTTER)
    return rx.box(*children, **props)


def _is_internal(href) -> bool:
    # A Var (e.g. the school's phone from the business settings) is a tel:/mailto: link: a plain anchor.
    return isinstance(href, str) and href.startswith("/") and not href.startswith("//")


def button_link(
    label: str,
    href: str,
    *,
    icon: str | None = None,
    icon_after: str | None = None,
    variant: str = "solid",
    size: str = "3",
    **props,
) -> rx.Component:
    """A link that looks like a button (one element: an ``<a>``, never a button in a link).

    Internal routes navigate client-side; ``tel:``/``mailto:``/external hrefs use a plain anchor.
    Extra props (``id``, ``aria_label``, ``width``...) land on the rendered ``<a>``. On a phone it is at
    least 44x44 px whatever its ``size`` (:func:`phone_tap`).
    """
    props = phone_tap(**props)
    children: list[rx.Component | str] = []
    if icon:
        children.append(rx.icon(icon, size=18, aria_hidden="true"))
    children.append(label)
    if icon_after:
        children.append(rx.icon(icon_after, size=18, aria_hidden="true"))
    anchor = (
        ReactRouterLink.create(*children, to=href)
        if _is_internal(href)
        else NativeAnchor.create(*children, href=href)
    )
    return rx.button(anchor, as_child=True, variant=variant, size=size, **props)


def eyebrow(text: str, icon: str | None = None) -> rx.Component:
    """A small label above a heading."""
    return rx.badge(
        *([rx.icon(icon, size=14, aria_hidden="true")] if icon else []),
        text,
        size="2",
        variant="soft",
        radius="full",
    )


def section_heading(text: str, *, id: str, level: str = "h2", size=None) -> rx.Component:
    """A section heading with an id so the section can be ``aria-labelledby`` it."""
    return rx.heading(
        text,
        as_=level,
        id=id,
        size=size or rx.breakpoints(initial="6", sm="7"),
        color=rx.color("gray", 12),
        letter_spacing="-0.01em",
    )


def page_section(
    *children: rx.Component,
    labelled_by: str | None = None,
    id: str | None = None,
    tinted: bool = False,
    pad_top: bool = True,
    **props,
) -> rx.Component:
    """A full-width ``<section>`` with the content centred inside.

    ``pad_top=False`` drops the top padding (for a section that continues the previous one).
    """
    attrs: dict = {}
    if labelled_by:
        attrs["aria_labelledby"] = labelled_by
    if id:
        attrs["id"] = id
    return rx.el.section(
        container(*children),
        padding_top=["2.5rem", "3rem", "4rem"] if pad_top else "0",
        padding_bottom=["2.5rem", "3rem", "4rem"],
        background=rx.color("gray", 2) if tinted else "transparent",
        border_top=f"1px solid {rx.color('gray', 4)}" if tinted else "none",
        border_bottom=f"1px solid {rx.color('gray', 4)}" if tinted else "none",
        width="100%",
        **attrs,
        **props,
    )


def page_header(
    title: str,
    lead: str,
    *,
    kicker: str | None = None,
    icon: str | None = None,
) -> rx.Component:
    """The top of an inner page: optional kicker, the page's single ``<h1>``, and a lead paragraph."""
    return rx.el.section(
        container(
            rx.vstack(
                *([eyebrow(kicker, icon)] if kicker else []),
                rx.heading(
                    title,
                    as_="h1",
                    id="page-title",
                    size=rx.breakpoints(initial="7", sm="8"),
                    color=rx.color("gray", 12),
                    letter_spacing="-0.02em",
                ),
                rx.text(
                    lead,
                    as_="p",
                    size=rx.breakpoints(initial="3", sm="4"),
                    color=rx.color("gray", 11),
                    max_width="44rem",
                ),
                spacing="3",
                align="start",
            ),
        ),
        aria_labelledby="page-title",
        padding_top=["2rem", "2.5rem", "3.5rem"],
        padding_bottom=["1.5rem", "2rem", "2.5rem"],
        background=f"linear-gradient(180deg, {rx.color('accent', 2)} 0%, transparent 100%)",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def file_link(label: str, href, *, icon: str = "file-down", variant: str = "soft", size: str = "3",
              download: bool = False, **props) -> rx.Component:
    """A button-looking plain ``<a>`` to a file served by the API (invoice PDF, .ics): a full browser
    request, never a client-side route. ``href`` may be a Var."""
    anchor = NativeAnchor.create(rx.icon(icon, size=16, aria_hidden="true"), label, href=href,
                                 **({"download": True} if download else {}))
    return rx.button(anchor, as_child=True, variant=variant, size=size, **props)


def route_link_button(label: str, href, *, icon: str | None = None, variant: str = "solid", size: str = "3",
                      **props) -> rx.Component:
    """Like :func:`button_link` for an internal route only known at run time (a Var)."""
    children: list = [rx.icon(icon, size=16, aria_hidden="true")] if icon else []
    return rx.button(ReactRouterLink.create(*children, label, to=href), as_child=True, variant=variant, size=size,
                     **props)
