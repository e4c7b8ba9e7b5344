"""Testimonials ``/testimonials``: what learners and parents say (first name and suburb only)."""
from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section

ROUTE = brand.ROUTE_TESTIMONIALS
TITLE = "Testimonials from learners and parents | NexDrive Academy, Canberra"
DESCRIPTION = (
    "What Canberra learner drivers and their parents say about lessons with NexDrive Academy: patient "
    "teaching, clear CBT&A progress and confident P-platers."
)
SITEMAP = {"priority": 0.6, "changefreq": "monthly"}


@dataclass(frozen=True)
class Testimonial:
    quote: str
    name: str
    suburb: str
    role: str  # "Learner" / "Parent" / ...
    highlight: str  # a short label: what the review is about


TESTIMONIALS: tuple[Testimonial, ...] = (
    Testimonial(
        "I was so nervous I didn't want to drive on Northbourne Avenue. My instructor started me in quiet streets in "
        "Watson and by Review 2 I was merging onto the Majura Parkway without thinking about it.",
        "Mia", "Watson", "Learner, P-plater since March", "Nervous driver"),
    Testimonial(
        "The summary after each lesson was gold. I knew exactly what to practise with my son on the weekend, so "
        "our drives weren't just laps around the block any more.",
        "Karen", "Kambah", "Parent", "For parents"),
    Testimonial(
        "Clear, calm and honest. When I wasn't ready for a task I was told straight, and we worked on it until I was. "
        "I passed my final drive first go.",
        "Arjun", "Gungahlin", "Learner", "Final drive"),
    Testimonial(
        "Being able to see my daughter's log book progress without nagging her about it was a relief for both "
        "of us. Booking lessons online around netball was easy too.",
        "Sophie", "Belconnen", "Parent", "Parent account"),
    Testimonial(
        "I moved to Canberra at 27 and needed my ACT licence. Lessons were planned around work, pick-up was from "
        "my office in Barton, and the roundabouts finally make sense.",
        "Daniel", "Kingston", "Learner", "Adult learner"),
    Testimonial(
        "Reverse parallel parking was my nemesis. One lesson with a proper method and it clicked. Highly "
        "recommend for anyone doing CBT&A.",
        "Chloe", "Weston", "Learner", "Parking"),
    Testimonial(
        "We did the coaching lesson for supervising drivers. I learnt more about what the CBT&A tasks actually "
        "ask for in an hour than from months of reading.",
        "Tran", "Tuggeranong", "Parent", "Supervisor coaching"),
    Testimonial(
        "Always on time, the car was spotless, and I never felt rushed. Ten lessons counted as thirty hours in "
        "my log book, which helped a lot.",
        "Ella", "Coombs", "Learner", "Log book hours"),
)

HOME_PICKS: tuple[Testimonial, ...] = (TESTIMONIALS[0], TESTIMONIALS[1], TESTIMONIALS[2])


def testimonial_card(t: Testimonial, *, heading_level: str = "h3") -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.el.figure(
                rx.flex(
                    rx.icon("quote", size=24, aria_hidden="true", color=rx.color("accent", 9)),
                    rx.badge(t.highlight, variant="soft", size="1", radius="full"),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                rx.el.blockquote(
                    rx.text(t.quote, as_="p", size="3", color=rx.color("gray", 12), line_height="1.6"),
                    margin="0.75rem 0 1rem 0",
                ),
                rx.el.figcaption(
                    rx.flex(
                        rx.center(
                            rx.text(t.name[0], as_="span", weight="bold", size="3"),
                            width="2.5rem", height="2.5rem", min_width="2.5rem", border_radius="9999px",
                            background=rx.color("accent", 3), color=rx.color("accent", 11), aria_hidden="true",
                        ),
                        rx.box(
                            rx.text(f"{t.name}, {t.suburb}", as_="p", weight="bold", size="2",
                                    color=rx.color("gray", 12)),
                            rx.text(t.role, as_="p", size="1", color=rx.color("gray", 11)),
                        ),
                        gap="0.75rem",
                        align="center",
                    ),
                ),
                margin="0",
                height="100%",
                display="flex",
                flex_direction="column",
            ),
            size="3",
            height="100%",
        ),
        list_style="none",
        class_name="testimonial",
    )


# The quotes above are examples written for the demo school, not reviews from real people: say so wherever they show.
SAMPLE_NOTE = ("Sample testimonials: these show how reviews from our learners and parents will appear. They are "
               "examples, not quotes from real people.")


def sample_notice() -> rx.Component:
    return rx.callout(SAMPLE_NOTE, icon="info", color_scheme="gray", variant="surface", size="1",
                      class_name="testimonials-sample-note", width="100%")


def testimonial_grid(items, **props) -> rx.Component:
    return rx.vstack(sample_notice(), rx.el.ul(
        *[testimonial_card(t) for t in items],
        display="grid",
        grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "repeat(3, minmax(0, 1fr))"],
        gap="1rem",
        margin="0",
        padding="0",
        width="100%",
        **props,
    ), spacing="3", width="100%")


def testimonials_page() -> rx.Component:
    return layout(
        page_header(
            "What learners and parents say",
            "Canberra learner drivers and their families on learning with NexDrive Academy. When we share a "
            "review, it is with permission and shows a first name and suburb only.",
            kicker="Testimonials",
            icon="quote",
        ),
        page_section(
            rx.vstack(
                testimonial_grid(TESTIMONIALS, aria_label="Testimonials"),
                rx.card(
                    rx.flex(
                        rx.vstack(
                            rx.heading("Start your own story", as_="h2", id="testimonials-cta-title", size="5",
                                       color=rx.color("gray", 12)),
                            rx.text("Book a first lesson, or ask us anything before you do.", as_="p", size="3",
                                    color=rx.color("gray", 11)),
                            spacing="1",
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
                        gap="1rem",
                    ),
                    size="3",
                    width="100%",
                    background=rx.color("accent", 2),
                ),
                spacing="6",
                width="100%",
            ),
        ),
        active=ROUTE,
    )
