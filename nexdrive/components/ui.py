"""Small, reusable, static UI pieces shared by the pages.

None of these touch state or the database: they build plain components.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import reflex as rx
from reflex_components_core.el.elements.inline import A as NativeAnchor
from reflex_components_core.react_router.dom import ReactRouterLink

from nexdrive.components import brand

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


def _is_internal(href: str) -> bool:
    return href.startswith("/") and not href.startswith("//")


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
    Extra props (``id``, ``aria_label``, ``width``...) land on the rendered ``<a>``.
    """
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


@dataclass(frozen=True)
class Feature:
    """One planned capability shown on a "coming soon" panel."""

    icon: str
    title: str
    text: str


def feature_item(feature: Feature) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.center(
                rx.icon(feature.icon, size=20, aria_hidden="true"),
                width="2.5rem",
                height="2.5rem",
                min_width="2.5rem",
                border_radius="var(--radius-3)",
                background=rx.color("accent", 3),
                color=rx.color("accent", 11),
            ),
            rx.vstack(
                rx.text(feature.title, as_="p", weight="bold", size="3", color=rx.color("gray", 12)),
                rx.text(feature.text, as_="p", size="2", color=rx.color("gray", 11)),
                spacing="1",
                align="start",
            ),
            spacing="3",
            align="start",
        ),
        list_style="none",
    )


def coming_soon_panel(
    *,
    heading: str,
    intro: str,
    features: Sequence[Feature],
    note: str | None = None,
    actions: Sequence[rx.Component] = (),
    panel_id: str = "coming-soon",
) -> rx.Component:
    """A clear, honest "this part is being built" panel that lists what will be here."""
    heading_id = f"{panel_id}-heading"
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.badge(
                        rx.icon("construction", size=14, aria_hidden="true"),
                        "Coming soon",
                        color_scheme="amber",
                        high_contrast=True,
                        variant="soft",
                        size="2",
                        radius="full",
                    ),
                    spacing="2",
                ),
                rx.heading(heading, as_="h2", id=heading_id, size="6", color=rx.color("gray", 12)),
                rx.text(intro, as_="p", size="3", color=rx.color("gray", 11), max_width="44rem"),
                rx.el.ul(
                    *[feature_item(f) for f in features],
                    display="grid",
                    grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))"],
                    gap="1.25rem",
                    width="100%",
                    padding="0",
                    margin="0",
                ),
                *(
                    [
                        rx.callout(
                            note,
                            icon="info",
                            color_scheme="gray",
                            variant="surface",
                            size="1",
                            width="100%",
                        )
                    ]
                    if note
                    else []
                ),
                *(
                    [rx.flex(*actions, gap="0.75rem", wrap="wrap", padding_top="0.5rem")]
                    if actions
                    else []
                ),
                spacing="4",
                align="start",
                width="100%",
            ),
            size=rx.breakpoints(initial="2", xs="3", sm="4"),
            width="100%",
        ),
        id=panel_id,
        aria_labelledby=heading_id,
        width="100%",
    )


def contact_actions() -> list[rx.Component]:
    """Call / e-mail buttons (used on coming-soon panels)."""
    email = brand.contact_email()
    return [
        button_link(
            f"Call {brand.PHONE_DISPLAY}",
            brand.PHONE_HREF,
            icon="phone",
            variant="soft",
        ),
        button_link(
            "Email us",
            f"mailto:{email}",
            icon="mail",
            variant="outline",
        ),
    ]
