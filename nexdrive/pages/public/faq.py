"""Questions and answers ``/faq`` for learner drivers and parents in the ACT (with FAQPage structured data)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.state.policy import PolicyState

ROUTE = brand.ROUTE_FAQ
TITLE = "Learner driver FAQ: log book hours, CBT&A, lessons | NexDrive Academy"
DESCRIPTION = (
    "Answers for ACT learner drivers and parents: supervised log book hours, how instructor hours count, "
    "the 23 CBT&A tasks and two reviews, what to bring, payments, cancellations and pick-up areas."
)
SITEMAP = {"priority": 0.8, "changefreq": "monthly"}

CANCELLATION_QUESTION = "What if I need to cancel or move a lesson?"


@dataclass(frozen=True)
class Faq:
    question: str
    answer: str  # plain text (also used in the structured data)


@dataclass(frozen=True)
class FaqGroup:
    key: str
    title: str
    items: tuple[Faq, ...]


GROUPS: tuple[FaqGroup, ...] = (
    FaqGroup("logbook", "Log book and supervised hours", (
        Faq("How many supervised hours do I need?",
            "If you are under 25, you need 100 hours of supervised driving recorded in your log book, including "
            "at least 10 hours at night. If you are 25 or older, you need 50 hours, including at least 5 at night."),
        Faq("Do lessons with an instructor count towards my hours?",
            "Yes. Your first 10 hours of lessons with an accredited driving instructor count three for one, so "
            "10 hours of lessons are credited as 30 hours in your log book. That bonus stops at 30 credited "
            "hours: after your first 10 hours, lessons count hour for hour like any other supervised driving."),
        Faq("Who can supervise my practice drives?",
            "Anyone with a full (open) driver licence for the type of car you are driving can supervise you. "
            "Most learners practise with a parent or another family member between lessons."),
        Faq("Where do the official rules live?",
            "Access Canberra publishes the current learner licence and log book requirements. Rules change from "
            "time to time, so check there before you plan, and ask us if anything is unclear."),
    )),
    FaqGroup("cbta", "The CBT&A scheme", (
        Faq("What is CBT&A?",
            "Competency-based training and assessment is how most ACT learners qualify for their provisional (P) "
            "licence. Instead of one test on one day, an accredited instructor teaches and assesses 23 driving "
            "tasks, one by one, and signs each one off in your log book when you can do it on your own."),
        Faq("What are the 23 tasks and the two reviews?",
            "Tasks 1 to 17 cover car control: the controls and cabin drill, starting, moving off, gears, "
            "steering, turns, speed control, slowing and stopping, hill starts, giving way, reversing, parking, "
            "U-turns and the three-point turn. Review 1 checks tasks 1 to 17 together. Tasks 18 to 22 cover lane "
            "changing and freeways, overtaking, hazard recognition, the system of vehicle control and vulnerable "
            "road users. Review 2 checks tasks 1 to 22 together. Task 23, the final drive, is a drive on busy and "
            "unfamiliar roads."),
        Faq("Can a task be taught and assessed in the same lesson?",
            "No. A task is taught first and assessed in a later lesson, so you show you can do it without "
            "having just practised it. Each review also comes at least 36 hours after you complete the last task "
            "it covers."),
        Faq("How is the final drive booked?",
            "Once Review 2 is signed off, we book the final drive with at least two business days' notice to the "
            "ACT government's audit unit. Final drives are not held on Sundays or ACT public holidays."),
        Faq("What happens if I'm not ready to be signed off?",
            "Nothing is lost. The task stays 'not yet competent' in your log book, we practise it again, and "
            "assess it in a later lesson. Everything you have already achieved stays signed off."),
    )),
    FaqGroup("lessons", "Lessons", (
        Faq("What do I need to bring?",
            "Your current ACT learner licence (we check it at every lesson), glasses or contact lenses if your "
            "licence says you need them, and comfortable flat shoes. You can't drive without your licence, so "
            "please don't forget it."),
        Faq("Where do lessons start and finish?",
            "We pick you up and drop you off at home, school, uni or work in " + ", ".join(brand.SERVICE_AREAS[:-1])
            + " and " + brand.SERVICE_AREAS[-1] + ". Just outside those areas? Ask us: we can often meet you "
            "nearby."),
        Faq("What car will I learn in?",
            "A modern automatic car with dual controls: the instructor has a second brake, so you can learn "
            "calmly and safely."),
        Faq("How many lessons will I need?",
            "It depends on your experience and how much you practise between lessons. After your first lesson we "
            "will give you an honest estimate, and you can see your progress through the 23 tasks at any time."),
        Faq("I'm a nervous driver. Is that okay?",
            "Absolutely. We start somewhere quiet, go at your pace and only move on to busier roads when you are "
            "ready."),
    )),
    FaqGroup("booking", "Bookings, payments and cancellations", (
        Faq("How do I book?",
            "Choose a lesson on our Lessons & pricing page and pick a time online, or call us and we'll book it "
            "for you."),
        Faq("How do I pay?",
            "You pay by card when you book online, and a receipt is emailed to you. Prices are shown on our "
            "Lessons & pricing page before you book."),
        Faq(CANCELLATION_QUESTION,
            "You can cancel or move a lesson free of charge with enough notice. The notice period and any late "
            "cancellation fee are set out on our Lessons & pricing page and in our terms."),
    )),
    FaqGroup("parents", "For parents and supervising drivers", (
        Faq("Can I see how my child is going?",
            "Yes, with their permission. A learner can invite a parent to a parent account, which shows upcoming "
            "lessons and log-book progress. The learner decides what you can see and can change it at any time."),
        Faq("Can I sit in on a lesson?",
            "Yes. Our coaching lesson for supervising drivers is designed for it: you learn what is being taught "
            "and how to make your practice drives at home count."),
    )),
)


def structured_data() -> str:
    """schema.org FAQPage JSON-LD for every question and its plain-text answer."""
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": f.question, "acceptedAnswer": {"@type": "Answer", "text": f.answer}}
            for g in GROUPS for f in g.items
        ],
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _answer(item: Faq) -> rx.Component:
    if item.question == CANCELLATION_QUESTION:
        return rx.vstack(
            rx.skeleton(rx.text(PolicyState.cancellation, as_="p", size="3"), loading=~PolicyState.policy_loaded,
                        width="100%", min_height="1.5rem"),
            rx.cond(PolicyState.late_cancellation != "", rx.text(PolicyState.late_cancellation, as_="p", size="3")),
            rx.text("If we have to cancel, or a lesson can't go ahead safely, you can move it at no charge. ",
                    rx.link("Read the full terms", href=brand.ROUTE_TERMS), ".", as_="p", size="3"),
            spacing="2",
            align="start",
        )
    return rx.text(item.answer, as_="p", size="3")


def _item(group: FaqGroup, index: int, item: Faq) -> rx.Component:
    return rx.accordion.item(
        header=rx.text(item.question, as_="span", size="3", weight="medium", text_align="left"),
        content=rx.box(_answer(item), color=rx.color("gray", 11), padding_bottom="0.5rem"),
        value=f"{group.key}-{index}",
    )


def _group(group: FaqGroup) -> rx.Component:
    heading_id = f"faq-{group.key}"
    return rx.el.section(
        rx.heading(group.title, as_="h2", id=heading_id, size=rx.breakpoints(initial="5", sm="6"),
                   color=rx.color("gray", 12), margin_bottom="0.75rem"),
        rx.accordion.root(
            *[_item(group, i, f) for i, f in enumerate(group.items)],
            type="multiple",
            collapsible=True,
            variant="surface",
            width="100%",
            style={"& svg": {"flex_shrink": "0"}},  # the chevron keeps its size when a question wraps
        ),
        aria_labelledby=heading_id,
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
                        *[rx.el.li(rx.link(g.title, href=f"#faq-{g.key}", size="2"), list_style="none")
                          for g in GROUPS],
                        display="flex",
                        flex_wrap="wrap",
                        gap="0.5rem 1.25rem",
                        margin="0",
                        padding="0",
                    ),
                    aria_label="Topics on this page",
                ),
                *[_group(g) for g in GROUPS],
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
        rx.el.script(structured_data(), type="application/ld+json", id="faq-structured-data"),
        active=ROUTE,
    )


ON_LOAD = [PolicyState.load_policy]
