"""Testimonials ``/testimonials``: what learners and parents say (first name and suburb only).

Read from the database (``services.content.testimonials.published``): only testimonials published with the
person's consent recorded; the owner edits them at ``/admin/content``."""
from __future__ import annotations

import logging

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.services.content import testimonials
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")

ROUTE = brand.ROUTE_TESTIMONIALS
TITLE = "Testimonials from learners and parents | NexDrive Academy, Canberra"
DESCRIPTION = (
    "What Canberra learner drivers and their parents say about lessons with NexDrive Academy: patient "
    "teaching, clear CBT&A progress and confident P-platers."
)
SITEMAP = {"priority": 0.6, "changefreq": "monthly"}


class TestimonialsState(rx.State):
    """The published testimonials (with consent), from ``services.content.testimonials``: plain dicts."""

    items: list[dict[str, str]] = []
    loaded: bool = False

    async def _load(self, limit: int | None):
        try:
            rows = await run_anonymous(lambda s: testimonials.published(s, limit))
        except Exception:  # the page keeps its frame; the quotes wait for the database
            logger.exception("could not load the testimonials")
            return
        self.items = [{"id": r["id"], "quote": r["quote"], "name": r["name"], "suburb": r["suburb"],
                       "role": r["role"], "highlight": r["highlight"], "initial": r["name"][:1],
                       "who": ", ".join(x for x in (r["name"], r["suburb"]) if x),
                       "sample": "1" if r["sample"] else ""} for r in rows]
        self.loaded = True

    @rx.event
    async def load(self):
        await self._load(None)

    @rx.event
    async def load_home(self):
        await self._load(3)

    @rx.var
    def any_sample(self) -> bool:
        return any(t.get("sample") for t in self.items)


def testimonial_card(t) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.el.figure(
                rx.flex(
                    rx.icon("quote", size=24, aria_hidden="true", color=rx.color("accent", 9)),
                    rx.cond(t["highlight"] != "", rx.badge(t["highlight"], variant="soft", size="1", radius="full")),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                rx.el.blockquote(
                    rx.text(t["quote"], as_="p", size="3", color=rx.color("gray", 12), line_height="1.6"),
                    margin="0.75rem 0 1rem 0",
                ),
                rx.el.figcaption(
                    rx.flex(
                        rx.center(
                            rx.text(t["initial"], as_="span", weight="bold", size="3"),
                            width="2.5rem", height="2.5rem", min_width="2.5rem", border_radius="9999px",
                            background=rx.color("accent", 3), color=rx.color("accent", 11), aria_hidden="true",
                        ),
                        rx.box(
                            rx.text(t["who"], as_="p", weight="bold", size="2",
                                    color=rx.color("gray", 12)),
                            rx.text(t["role"], as_="p", size="1", color=rx.color("gray", 11)),
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


# The sample quotes (``is_sample``) were written for the demo school, not by real people: say so wherever they show.
SAMPLE_NOTE = ("Sample testimonials: these show how reviews from our learners and parents will appear. They are "
               "examples, not quotes from real people.")


def sample_notice() -> rx.Component:
    return rx.callout(SAMPLE_NOTE, icon="info", color_scheme="gray", variant="surface", size="1",
                      class_name="testimonials-sample-note", width="100%")


def testimonial_grid(*, home: bool = False, **props) -> rx.Component:
    """The published testimonials (the first three on the home page), loaded when the grid mounts."""
    st = TestimonialsState
    return rx.vstack(rx.cond(st.any_sample, sample_notice()), rx.el.ul(
        rx.foreach(st.items, testimonial_card),
        on_mount=st.load_home if home else st.load,
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
                testimonial_grid(aria_label="Testimonials"),
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
