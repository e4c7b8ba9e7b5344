"""Lessons & pricing ``/lessons``: every lesson type and its price, read live from the services table."""
from __future__ import annotations

import dataclasses
import logging

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section, section_heading
from nexdrive.state.policy import PolicyState, policy_text
from nexdrive.services.scheduling import catalogue
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")

ROUTE = brand.ROUTE_LESSONS
TITLE = "Lessons & pricing | NexDrive Academy"
DESCRIPTION = (
    "Driving lesson prices at NexDrive Academy in Canberra: one-on-one lessons with an ACT-accredited "
    "instructor, CBT&A Review 1, Review 2 and final drive, and coaching for supervising drivers."
)
SITEMAP = {"priority": 0.9, "changefreq": "weekly"}

CATEGORY_INTROS = {
    "lesson": "One-on-one lessons in a dual-control car, with pick-up and drop-off in the areas we cover.",
    "assessment": "The CBT&A reviews and the final drive. Each one is bookable once your log book shows "
                  "you are ready for it.",
    "co_lesson": "For parents and supervising drivers: come along to a lesson and learn how to make your "
                 "practice drives count.",
}


@dataclasses.dataclass
class ServiceCard:
    slug: str = ""
    name: str = ""
    description: str = ""
    duration: str = ""
    price: str = ""
    eligibility_note: str = ""
    book_href: str = ""


@dataclasses.dataclass
class ServiceGroup:
    key: str = ""
    label: str = ""
    intro: str = ""
    services: list[ServiceCard] = dataclasses.field(default_factory=list)


def _duration(minutes: int) -> str:
    return f"{minutes} minutes"


def group_services(services: list[dict]) -> list[ServiceGroup]:
    """Group the catalogue by category, keeping the owner's order of first appearance."""
    groups: dict[str, ServiceGroup] = {}
    for s in services:
        group = groups.setdefault(s["category"], ServiceGroup(
            key=s["category"], label=s["category_label"], intro=CATEGORY_INTROS.get(s["category"], "")))
        group.services.append(
            ServiceCard(
                slug=s["slug"],
                name=s["name"],
                description=s["description"],
                duration=_duration(s["duration_minutes"]),
                price=s["price"],
                eligibility_note=s["eligibility_note"],
                book_href=f"{brand.ROUTE_BOOK}?service={s['slug']}",
            )
        )
    return list(groups.values())


class LessonsState(rx.State):
    groups: list[ServiceGroup] = []
    loaded: bool = False
    failed: bool = False

    @rx.event
    async def load(self):
        try:
            services = await run_anonymous(catalogue.list_services)
        except Exception:
            logger.exception("could not load the services")
            self.failed, self.loaded = True, True
            return
        self.groups = group_services(services)
        self.failed, self.loaded = False, True


ON_LOAD = [LessonsState.load, PolicyState.load_policy]


# ------------------------------------------------------------------ pieces


def _service_card(card: ServiceCard) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.flex(
                rx.heading(card.name, as_="h3", size="4", color=rx.color("gray", 12)),
                rx.flex(
                    rx.text(card.price, as_="span", size="7", weight="bold", color=rx.color("accent", 11),
                            class_name="service-price"),
                    rx.badge(rx.icon("clock", size=12, aria_hidden="true"), card.duration, variant="soft",
                             color_scheme="gray", size="2"),
                    align="center",
                    gap="0.75rem",
                    wrap="wrap",
                ),
                rx.text(card.description, as_="p", size="2", color=rx.color("gray", 11)),
                rx.cond(
                    card.eligibility_note != "",
                    rx.flex(
                        rx.icon("info", size=14, aria_hidden="true", flex_shrink="0", margin_top="0.2rem"),
                        rx.text(card.eligibility_note, as_="p", size="1"),
                        gap="0.375rem",
                        color=rx.color("amber", 11),
                    ),
                ),
                rx.spacer(),
                rx.button(
                    ReactRouterLink.create(
                        rx.icon("calendar-check", size=18, aria_hidden="true"),
                        "Book this lesson",
                        to=card.book_href,
                        aria_label="Book: " + card.name,
                        class_name="book-service",
                    ),
                    as_child=True,
                    size="3",
                    width="100%",
                ),
                direction="column",
                gap="0.75rem",
                height="100%",
            ),
            size="3",
            height="100%",
        ),
        list_style="none",
        class_name="service-card",
        data_slug=card.slug,
    )


def _group(group: ServiceGroup) -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.heading(group.label, as_="h2", size=rx.breakpoints(initial="5", sm="6"), id="group-" + group.key,
                       color=rx.color("gray", 12)),
            rx.cond(group.intro != "",
                    rx.text(group.intro, as_="p", size="3", color=rx.color("gray", 11), max_width="44rem")),
            rx.el.ul(
                rx.foreach(group.services, _service_card),
                display="grid",
                grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "repeat(3, minmax(0, 1fr))"],
                gap="1rem",
                margin="0",
                padding="0",
                width="100%",
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        aria_labelledby="group-" + group.key,
        width="100%",
    )


def _skeleton_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.skeleton(height="1.5rem", width="70%"),
            rx.skeleton(height="2.25rem", width="40%"),
            rx.skeleton(height="3rem", width="100%"),
            rx.skeleton(height="2.5rem", width="100%"),
            spacing="3",
        ),
        size="3",
    )


def _loading() -> rx.Component:
    return rx.box(
        rx.text("Loading prices\u2026", as_="p", size="2", color=rx.color("gray", 11), role="status"),
        rx.grid(
            _skeleton_card(), _skeleton_card(), _skeleton_card(),
            grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "repeat(3, minmax(0, 1fr))"],
            gap="1rem",
            padding_top="0.75rem",
        ),
        id="lessons-loading",
        aria_busy="true",
        width="100%",
    )


def _unavailable() -> rx.Component:
    return rx.callout(
        "We can't show our prices right now. Please call " + brand.phone_display()
        + " and we'll tell you straight away.",
        icon="triangle-alert",
        color_scheme="amber",
        role="alert",
        width="100%",
    )


def catalogue_section() -> rx.Component:
    return page_section(
        rx.cond(
            LessonsState.loaded,
            rx.cond(
                LessonsState.failed | (LessonsState.groups.length() == 0),
                _unavailable(),
                rx.vstack(rx.foreach(LessonsState.groups, _group), spacing="8", width="100%", id="lessons-catalogue"),
            ),
            _loading(),
        ),
        id="prices",
        aria_label="Lesson types and prices",
        pad_top=True,
    )


def _included(icon: str, title: str, text: str) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.center(rx.icon(icon, size=20, aria_hidden="true"), width="2.5rem", height="2.5rem",
                      min_width="2.5rem", border_radius="var(--radius-3)", background=rx.color("accent", 3),
                      color=rx.color("accent", 11)),
            rx.box(
                rx.heading(title, as_="h3", size="3", color=rx.color("gray", 12), margin_bottom="0.25rem"),
                rx.text(text, as_="p", size="2", color=rx.color("gray", 11)),
            ),
            gap="0.875rem",
            align="start",
        ),
        list_style="none",
    )


def policy_section() -> rx.Component:
    return page_section(
        rx.grid(
            rx.vstack(
                section_heading("Every lesson includes", id="included-title"),
                rx.el.ul(
                    _included(
                        "car",
                        "A dual-control car",
                        "A modern automatic car with a second brake for the instructor, so you can learn calmly.",
                    ),
                    _included(
                        "map-pin",
                        "Pick-up and drop-off",
                        "From home, school, uni or work in the Canberra districts we cover.",
                    ),
                    _included(
                        "notebook-pen",
                        "Your log book, kept up to date",
                        "CBT&A tasks taught and assessed are recorded and signed, and the lesson counts "
                        "towards your supervised hours.",
                    ),
                    _included(
                        "message-square-text",
                        "A short summary",
                        "What you covered and what to practise with your supervising driver before next time.",
                    ),
                    display="flex",
                    flex_direction="column",
                    gap="1.25rem",
                    margin="0",
                    padding="0",
                ),
                spacing="4",
                align="start",
            ),
            rx.card(
                rx.vstack(
                    rx.flex(
                        rx.icon("receipt-text", size=20, aria_hidden="true", color=rx.color("accent", 11)),
                        section_heading("Prices and cancellations", id="policy-title", size="5"),
                        gap="0.5rem",
                        align="center",
                    ),
                    rx.skeleton(
                        rx.text(
                            PolicyState.gst_note,
                            as_="p",
                            size="3",
                            weight="medium",
                            id="gst-note",
                            color=rx.color("gray", 12),
                        ),
                        loading=~PolicyState.policy_loaded,
                        min_height="1.5rem",
                        width="100%",
                    ),
                    rx.text(
                        "You pay by card when you book, and you get a receipt by email.",
                        as_="p",
                        size="3",
                        color=rx.color("gray", 11),
                    ),
                    policy_text(PolicyState.cancellation, id="cancellation-policy"),
                    rx.cond(
                        PolicyState.late_cancellation != "",
                        policy_text(PolicyState.late_cancellation, lines=2, id="late-cancellation"),
                    ),
                    rx.text(
                        "If the instructor has to cancel, or a lesson can't go ahead safely because of the "
                        "weather, you can move it to another time at no charge. ",
                        rx.link("Read the full terms", href=brand.ROUTE_TERMS),
                        ".",
                        as_="p",
                        size="2",
                        color=rx.color("gray", 11),
                    ),
                    spacing="3",
                    align="start",
                    width="100%",
                ),
                size="3",
                width="100%",
                background=rx.color("accent", 2),
            ),
            grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1fr) minmax(0, 1fr)"],
            gap=["2rem", "2rem", "2rem", "3rem"],
            align_items="start",
        ),
        id="policy",
        labelled_by="policy-title",
        tinted=True,
    )


def cta_section() -> rx.Component:
    return page_section(
        rx.flex(
            rx.vstack(
                section_heading("Not sure which lesson to book?", id="lessons-cta-title"),
                rx.text("Most learners start with a standard 60-minute lesson. Ask us anything first, or see what "
                        "other learners and parents ask.", as_="p", size="3", color=rx.color("gray", 11)),
                spacing="2",
                align="start",
            ),
            rx.flex(
                button_link("Ask a question", brand.ROUTE_CONTACT, icon="mail", variant="solid"),
                button_link("Read the FAQ", brand.ROUTE_FAQ, icon="circle-help", variant="outline"),
                gap="0.75rem",
                wrap="wrap",
                flex_shrink="0",
            ),
            direction=rx.breakpoints(initial="column", md="row"),
            justify="between",
            align=rx.breakpoints(initial="start", md="center"),
            gap="1.5rem",
        ),
        labelled_by="lessons-cta-title",
    )


def lessons_page() -> rx.Component:
    return layout(
        page_header(
            "Lessons & pricing",
            "One-on-one driving lessons for learner drivers in Canberra, from your first drive to the CBT&A "
            "final drive. Choose a lesson and book a time online.",
            kicker="Lessons & pricing",
            icon="tag",
        ),
        catalogue_section(),
        policy_section(),
        cta_section(),
        active=ROUTE,
    )
