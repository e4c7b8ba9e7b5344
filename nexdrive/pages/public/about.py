"""About the instructor ``/about``: the owner-instructor, the car, the CBT&A approach, the areas we cover."""
from __future__ import annotations

import logging

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section, section_heading
from nexdrive.services.scheduling import catalogue
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")

ROUTE = brand.ROUTE_ABOUT
TITLE = "About your instructor | NexDrive Academy, Canberra"
DESCRIPTION = (
    "Meet the owner-instructor of NexDrive Academy: an ACT-accredited driving instructor teaching the "
    "CBT&A log book in a dual-control car, with pick-ups across Canberra's suburbs."
)
SITEMAP = {"priority": 0.7, "changefreq": "monthly"}

FALLBACK_BIO = (
    "NexDrive Academy is run by its owner, an accredited ACT driving instructor who teaches every lesson. "
    "Lessons are calm and patient: we start in quiet streets and build up to the parkways, at your pace."
)


class AboutState(rx.State):
    instructor_name: str = ""
    bio: str = ""
    vehicle: str = ""
    transmission: str = ""
    territory: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        try:
            owner = await run_anonymous(catalogue.owner_instructor)
        except Exception:
            logger.exception("could not load the owner-instructor")
            owner = None
        owner = owner or {}
        self.instructor_name = owner.get("first_name", "")
        self.bio = owner.get("bio", "")
        self.vehicle = owner.get("vehicle", "")
        self.transmission = owner.get("transmission", "")
        self.territory = owner.get("territory", "")
        self.loaded = True


ON_LOAD = [AboutState.load]


def _fact(icon: str, label: str, value) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.center(rx.icon(icon, size=18, aria_hidden="true"), width="2.25rem", height="2.25rem",
                      min_width="2.25rem", border_radius="var(--radius-3)", background=rx.color("accent", 3),
                      color=rx.color("accent", 11)),
            rx.box(
                rx.text(label, as_="p", size="1", weight="bold", color=rx.color("gray", 11),
                        text_transform="uppercase", letter_spacing="0.04em"),
                rx.text(value, as_="p", size="3", color=rx.color("gray", 12)),
            ),
            gap="0.75rem",
            align="center",
        ),
        list_style="none",
    )


def instructor_section() -> rx.Component:
    heading = rx.cond(AboutState.instructor_name != "", "Hi, I'm " + AboutState.instructor_name,
                      "Your instructor")
    vehicle = rx.cond(
        AboutState.vehicle != "",
        AboutState.vehicle + rx.cond(AboutState.transmission != "", " (" + AboutState.transmission + ")", ""),
        "A modern automatic car",
    )
    return page_section(
        rx.grid(
            rx.vstack(
                rx.skeleton(
                    rx.heading(heading, as_="h2", id="instructor-title", size=rx.breakpoints(initial="6", sm="7"),
                               color=rx.color("gray", 12)),
                    loading=~AboutState.loaded,
                ),
                rx.skeleton(
                    rx.text(rx.cond(AboutState.bio != "", AboutState.bio, FALLBACK_BIO), as_="p", size="4",
                            color=rx.color("gray", 12), id="instructor-bio"),
                    loading=~AboutState.loaded,
                    min_height="4rem",
                    width="100%",
                ),
                rx.text(
                    "I run NexDrive Academy myself, so you learn with the same instructor from your first "
                    "lesson to your final drive. I know where you're up to in your log book, what you find "
                    "tricky, and what to practise next. Nervous drivers, learners who have had a break, and "
                    "parents who want to help at home are all welcome.",
                    as_="p", size="3", color=rx.color("gray", 11),
                ),
                spacing="4",
                align="start",
            ),
            rx.card(
                rx.el.ul(
                    _fact("badge-check", "Accreditation", "ACT-accredited driving instructor (CBT&A)"),
                    _fact("car", "Lesson car", rx.skeleton(rx.text(vehicle, as_="span"), loading=~AboutState.loaded)),
                    _fact("shield-check", "Safety", "Dual controls: a second brake on the instructor's side"),
                    _fact("map-pin", "Pick-up", "From home, school, uni or work across Canberra"),
                    display="flex",
                    flex_direction="column",
                    gap="1rem",
                    margin="0",
                    padding="0",
                ),
                size="3",
                width="100%",
                box_shadow="var(--shadow-3)",
            ),
            grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1.3fr) minmax(0, 1fr)"],
            gap=["2rem", "2rem", "2rem", "3rem"],
            align_items="start",
        ),
        labelled_by="instructor-title",
    )


def _approach(icon: str, title: str, text: str) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.icon(icon, size=22, aria_hidden="true", color=rx.color("accent", 11)),
                rx.heading(title, as_="h3", size="4", color=rx.color("gray", 12)),
                rx.text(text, as_="p", size="2", color=rx.color("gray", 11)),
                spacing="2",
                align="start",
            ),
            size="3",
            height="100%",
        ),
        list_style="none",
    )


def approach_section() -> rx.Component:
    return page_section(
        rx.vstack(
            section_heading("How lessons work", id="approach-title"),
            rx.text(
                "In the ACT you can earn your provisional licence through competency-based training and "
                "assessment (CBT&A) with an accredited instructor: 23 tasks and two reviews, signed off one by "
                "one in your log book.",
                as_="p", size="3", color=rx.color("gray", 11), max_width="48rem",
            ),
            rx.el.ul(
                _approach("book-open-check", "Taught, then assessed",
                          "Each task is taught in one lesson and assessed in a later one, never both in the same "
                          "lesson, so you show you can do it on your own."),
                _approach("clipboard-list", "A plan for every lesson",
                          "We start where your log book is up to and finish with what to practise next with "
                          "your supervising driver."),
                _approach("heart-handshake", "Parents in the loop",
                          "With the learner's permission, parents can see upcoming lessons and log-book progress "
                          "in their own account."),
                _approach("flag", "Ready for the final drive",
                          "Review 1 after tasks 1–17, Review 2 after tasks 1–22, then task 23: a drive on busy "
                          "and unfamiliar roads."),
                display="grid",
                grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "repeat(4, minmax(0, 1fr))"],
                gap="1rem",
                margin="0",
                padding="0",
                width="100%",
            ),
            spacing="4",
            align="start",
        ),
        labelled_by="approach-title",
        tinted=True,
    )


def areas_section() -> rx.Component:
    return page_section(
        rx.grid(
            rx.vstack(
                section_heading("Where we teach", id="areas-title"),
                rx.text(
                    "Lessons start and finish at your home, school, uni or workplace anywhere in these parts of "
                    "Canberra. Live just outside them? Ask us: we can often meet you nearby.",
                    as_="p", size="3", color=rx.color("gray", 11),
                ),
                rx.cond(AboutState.territory != "",
                        rx.text("Currently: ", AboutState.territory, as_="p", size="2", color=rx.color("gray", 11))),
                spacing="3",
                align="start",
            ),
            rx.el.ul(
                *[
                    rx.el.li(
                        rx.badge(rx.icon("map-pin", size=14, aria_hidden="true"), area, size="3", variant="surface",
                                 radius="full"),
                        list_style="none",
                    )
                    for area in brand.SERVICE_AREAS
                ],
                display="flex",
                flex_wrap="wrap",
                gap="0.5rem",
                margin="0",
                padding="0",
                aria_label="Canberra districts we cover",
            ),
            grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1fr) minmax(0, 1fr)"],
            gap="2rem",
            align_items="center",
        ),
        labelled_by="areas-title",
    )


def cta_section() -> rx.Component:
    return page_section(
        rx.card(
            rx.flex(
                rx.vstack(
                    section_heading("Ready when you are", id="about-cta-title"),
                    rx.text("Book your first lesson online, or get in touch with any questions first.", as_="p",
                            size="3", color=rx.color("gray", 11)),
                    spacing="2",
                    align="start",
                ),
                rx.flex(
                    button_link("Book a lesson", brand.ROUTE_BOOK, icon="calendar-check"),
                    button_link("Contact us", brand.ROUTE_CONTACT, icon="mail", variant="outline"),
                    gap="0.75rem",
                    wrap="wrap",
                    flex_shrink="0",
                ),
                direction=rx.breakpoints(initial="column", md="row"),
                justify="between",
                align=rx.breakpoints(initial="start", md="center"),
                gap="1.25rem",
            ),
            size="4",
            width="100%",
            background=rx.color("accent", 2),
        ),
        labelled_by="about-cta-title",
        pad_top=False,
    )


def about_page() -> rx.Component:
    return layout(
        page_header(
            "About your instructor",
            "A local, owner-run driving school in Canberra. One accredited instructor, one dual-control car, "
            "and a clear path through the ACT CBT&A log book.",
            kicker="About NexDrive Academy",
            icon="user-round-check",
        ),
        instructor_section(),
        approach_section(),
        areas_section(),
        cta_section(),
        active=ROUTE,
    )
