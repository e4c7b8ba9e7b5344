"""Questions and answers ``/faq`` for learner drivers and parents in the ACT (with FAQPage structured data).

The questions and answers (Markdown) are the owner's, read from ``faq_entries`` on each load
(``services.content.faq``) and edited at ``/admin/content``."""
from __future__ import annotations

import dataclasses
import json
import logging

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.services.content import faq as faq_content
from nexdrive.state.auth import run_anonymous
from nexdrive.state.policy import PolicyState

logger = logging.getLogger("nexdrive.public")

ROUTE = brand.ROUTE_FAQ
TITLE = "Learner driver FAQ: log book hours, CBT&A, lessons | NexDrive Academy"
DESCRIPTION = (
    "Answers for ACT learner drivers and parents: supervised log book hours, how instructor hours count, "
    "the 23 CBT&A tasks and two reviews, what to bring, payments, cancellations and pick-up areas."
)
SITEMAP = {"priority": 0.8, "changefreq": "monthly"}

CANCELLATION_QUESTION = "What if I need to cancel or move a lesson?"  # the migrated entry faq.CANCELLATION_KEY


@dataclasses.dataclass
class FaqItem:
    key: str
    question: str
    answer: str  # Markdown
    policy: bool  # completed with the live cancellation policy


@dataclasses.dataclass
class FaqGroup:
    title: str
    anchor: str
    questions: list[FaqItem]


class FaqState(rx.State):
    """The published questions and answers by category (``services.content.faq.public_groups``)."""

    groups: list[FaqGroup] = []
    structured_data: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        try:
            groups = await run_anonymous(faq_content.public_groups)
        except Exception:  # the page keeps its frame; the answers wait for the database
            logger.exception("could not load the FAQ")
            return
        self.groups = [FaqGroup(g["title"], g["anchor"],
                                [FaqItem(i["key"], i["question"], i["answer"], i["key"] == faq_content.CANCELLATION_KEY)
                                 for i in g["items"]]) for g in groups]
        self.structured_data = structured_data(groups)
        self.loaded = True


def structured_data(groups: list[dict]) -> str:
    """schema.org FAQPage JSON-LD for every published question and its answer."""
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": i["question"], "acceptedAnswer": {"@type": "Answer", "text": i["answer"]}}
            for g in groups for i in g["items"]
        ],
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _answer(item) -> rx.Component:
    markdown = rx.markdown(item.answer, use_raw=False)
    policy = rx.vstack(
        markdown,
        rx.skeleton(rx.text(PolicyState.cancellation, as_="p", size="3"), loading=~PolicyState.policy_loaded,
                    width="100%", min_height="1.5rem"),
        rx.cond(PolicyState.late_cancellation != "", rx.text(PolicyState.late_cancellation, as_="p", size="3")),
        rx.text("If we have to cancel, or a lesson can't go ahead safely, you can move it at no charge. ",
                rx.link("Read the full terms", href=brand.ROUTE_TERMS), ".", as_="p", size="3"),
        spacing="2",
        align="start",
    )
    return rx.cond(item.policy, policy, markdown)


def _item(item) -> rx.Component:
    return rx.accordion.item(
        header=rx.text(item.question, as_="span", size="3", weight="medium", text_align="left"),
        content=rx.box(_answer(item), color=rx.color("gray", 11), padding_bottom="0.5rem", class_name="faq-answer"),
        value=item.key,
    )


def _group(group) -> rx.Component:
    return rx.el.section(
        rx.heading(group.title, as_="h2", id=group.anchor, size=rx.breakpoints(initial="5", sm="6"),
                   color=rx.color("gray", 12), margin_bottom="0.75rem"),
        rx.accordion.root(
            rx.foreach(group.questions, _item),
            type="multiple",
            collapsible=True,
            variant="surface",
            width="100%",
            style={"& svg": {"flex_shrink": "0"}},  # the chevron keeps its size when a question wraps
        ),
        aria_labelledby=group.anchor,
        width="100%",
    )


def faq_page() -> rx.Component:
    return layout(
        page_header(
            "Questions and answers",
            "What ACT learner drivers and their parents ask us most: log book hours, the CBT&A scheme, lessons, "
            "bookings and payments.",
            kicker="FAQ",
            icon="circle-help",
        ),
        page_section(
            rx.vstack(
                rx.el.nav(
                    rx.el.ul(
                        rx.foreach(FaqState.groups, lambda g: rx.el.li(
                            rx.link(g.title, href="#" + g.anchor, size="2"), list_style="none")),
                        display="flex",
                        flex_wrap="wrap",
                        gap="0.5rem 1.25rem",
                        margin="0",
                        padding="0",
                    ),
                    aria_label="Topics on this page",
                ),
                rx.cond(FaqState.loaded, rx.foreach(FaqState.groups, _group),
                        rx.hstack(rx.spinner(), rx.text("Loading the questions\u2026"), role="status")),
                rx.card(
                    rx.flex(
                        rx.text("Didn't find your answer? We're happy to help.", as_="p", size="3",
                                weight="medium"),
                        rx.flex(
                            button_link("Contact us", brand.ROUTE_CONTACT, icon="mail"),
                            button_link("Call " + brand.phone_display(), brand.phone_href(), icon="phone",
                                        variant="outline"),
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
                spacing="7",
                width="100%",
                max_width="52rem",
            ),
        ),
        rx.el.script(FaqState.structured_data, type="application/ld+json", id="faq-structured-data"),
        active=ROUTE,
    )


ON_LOAD = [PolicyState.load_policy, FaqState.load]
