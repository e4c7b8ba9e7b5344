"""Public home page ``/``: a pure static component (renders without a database)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, page_section, section_heading
from nexdrive.pages.public.testimonials import testimonial_grid

ROUTE = "/"
SITEMAP = {"priority": 1.0, "changefreq": "weekly"}
TITLE = "NexDrive Academy | Driving lessons in Canberra, ACT"
DESCRIPTION = (
    "Learn to drive in Canberra with NexDrive Academy: one-on-one lessons with an "
    "ACT-accredited driving instructor, working through the ACT CBT&A log book from "
    "your learner licence to the final drive."
)


# ------------------------------------------------------------------ hero


def _tick(text: str) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.icon("circle-check", size=18, color=rx.color("accent", 11), aria_hidden="true", flex_shrink="0"),
            rx.text(text, as_="span", size="3", color=rx.color("gray", 12)),
            gap="0.5rem",
            align="center",
        ),
        list_style="none",
    )


def _logbook_stage(label: str, detail: str, kind: str) -> rx.Component:
    """One stop on the "log book at a glance" route graphic."""
    is_review = kind == "review"
    is_final = kind == "final"
    return rx.el.li(
        rx.flex(
            rx.center(
                rx.icon(
                    "flag" if is_final else ("badge-check" if is_review else "list-checks"),
                    size=16,
                    aria_hidden="true",
                ),
                width="2rem",
                height="2rem",
                min_width="2rem",
                border_radius="9999px",
                background=rx.color("accent", 9) if (is_review or is_final) else rx.color("accent", 3),
                color="white" if (is_review or is_final) else rx.color("accent", 11),
                border=f"2px solid {rx.color('accent', 9)}",
                z_index="1",
            ),
            rx.box(
                rx.text(label, as_="p", weight="bold", size="2", color=rx.color("gray", 12)),
                rx.text(detail, as_="p", size="1", color=rx.color("gray", 11)),
            ),
            gap="0.75rem",
            align="center",
        ),
        list_style="none",
        position="relative",
    )


def _logbook_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.icon("notebook-pen", size=18, aria_hidden="true", color=rx.color("accent", 11)),
                rx.text("The ACT CBT&A log book at a glance", as_="p", weight="bold", size="3"),
                gap="0.5rem",
                align="center",
            ),
            rx.box(
                # The vertical "road" behind the stops.
                rx.box(
                    position="absolute",
                    left="calc(1rem - 1px)",
                    top="1rem",
                    bottom="1rem",
                    width="2px",
                    background=rx.color("accent", 6),
                    aria_hidden="true",
                ),
                rx.el.ol(
                    _logbook_stage("Tasks 1–17", "Car control, turns, parking, U-turns, 3-point turn", "task"),
                    _logbook_stage("Review 1", "Checks tasks 1–17 together", "review"),
                    _logbook_stage("Tasks 18–22", "Freeways, overtaking, hazards, vulnerable road users", "task"),
                    _logbook_stage("Review 2", "Checks tasks 1–22 together", "review"),
                    _logbook_stage("Task 23: final drive", "Busy and unfamiliar roads", "final"),
                    display="flex",
                    flex_direction="column",
                    gap="1rem",
                    margin="0",
                    padding="0",
                    aria_label="CBT&A stages in order",
                ),
                position="relative",
                width="100%",
            ),
            spacing="4",
            align="start",
        ),
        size="3",
        width="100%",
        max_width="26rem",
        justify_self=["stretch", "stretch", "stretch", "end"],
        box_shadow="var(--shadow-3)",
    )


def hero() -> rx.Component:
    return rx.el.section(
        container(
            rx.grid(
                rx.vstack(
                    rx.badge(
                        rx.icon("map-pin", size=14, aria_hidden="true"),
                        "Driving school in Canberra, ACT",
                        size="2",
                        variant="soft",
                        radius="full",
                    ),
                    rx.heading(
                        "Learn to drive in Canberra with NexDrive Academy",
                        as_="h1",
                        id="home-title",
                        size="8",
                        font_size=["2.125rem", "2.5rem", "2.875rem", "3.25rem"],
                        color=rx.color("gray", 12),
                        letter_spacing="-0.025em",
                        line_height="1.1",
                        text_wrap="balance",
                    ),
                    rx.text(
                        "One-on-one driving lessons with an ACT-accredited driving instructor. "
                        "We teach and assess the ACT competency-based training and assessment "
                        "(CBT&A) log book task by task, from your first drive to the final drive "
                        "for your P licence.",
                        as_="p",
                        size=rx.breakpoints(initial="3", sm="4"),
                        color=rx.color("gray", 11),
                        max_width="38rem",
                    ),
                    rx.flex(
                        button_link(
                            "Book a lesson",
                            brand.ROUTE_BOOK,
                            id="hero-book",
                            icon="calendar-check",
                            size="4",
                        ),
                        button_link(
                            "See lessons & pricing",
                            brand.ROUTE_LESSONS,
                            id="hero-lessons",
                            icon_after="arrow-right",
                            variant="outline",
                            size="4",
                        ),
                        gap="0.75rem",
                        wrap="wrap",
                        padding_top="0.5rem",
                    ),
                    rx.el.ul(
                        _tick("Lessons with an ACT-accredited driving instructor"),
                        _tick("Each CBT&A task taught first, then assessed in a later lesson"),
                        _tick("Every lesson recorded and signed in your log book"),
                        display="flex",
                        flex_direction="column",
                        gap="0.5rem",
                        margin="0",
                        padding="0",
                        padding_top="0.5rem",
                    ),
                    spacing="4",
                    align="start",
                ),
                _logbook_card(),
                grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1.25fr) minmax(0, 1fr)"],
                gap=["2rem", "2rem", "2.5rem", "3rem"],
                align_items="center",
            ),
        ),
        id="home-hero",
        aria_labelledby="home-title",
        padding_top=["2.5rem", "3rem", "4rem", "5rem"],
        padding_bottom=["2.5rem", "3rem", "4rem", "5rem"],
        background=(
            f"radial-gradient(ellipse at top right, {rx.color('accent', 3)} 0%, transparent 55%), "
            f"linear-gradient(180deg, {rx.color('accent', 2)} 0%, {rx.color('gray', 1)} 100%)"
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


# ------------------------------------------------------------------ CBT&A journey

JOURNEY_STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "Get your learner licence",
        "You need a current ACT learner licence before your first lesson on the road. "
        "Bring it to every lesson.",
        "id-card",
    ),
    (
        "Competencies 1–17, then Review 1",
        "Controls and cabin drill, starting up and moving off, gears, steering, turns, speed "
        "control, slowing and stopping, hill starts, give way, reversing, right-angle and reverse "
        "parallel parking, U-turns and the three-point turn. Review 1 checks tasks 1–17 together, "
        "at least 36 hours after you complete them.",
        "list-checks",
    ),
    (
        "Competencies 18–22, then Review 2",
        "Lane changing, merging and freeways, overtaking, observation and hazard recognition, the "
        "system of vehicle control, and sharing the road with vulnerable road users. Review 2 "
        "checks tasks 1–22 together.",
        "route",
    ),
    (
        "Task 23: the final drive",
        "A drive on busy and unfamiliar roads. We book it with the required notice to the ACT "
        "government's audit unit, never on a Sunday or an ACT public holiday. Complete it and you "
        "are ready to apply for your provisional (P) licence.",
        "flag",
    ),
)


def _journey_step(number: int, title: str, text: str, icon: str) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.center(
                        rx.text(str(number), as_="span", weight="bold", size="3"),
                        width="2.25rem",
                        height="2.25rem",
                        min_width="2.25rem",
                        border_radius="9999px",
                        background=rx.color("accent", 9),
                        color="white",
                        aria_hidden="true",
                    ),
                    rx.icon(icon, size=22, color=rx.color("accent", 11), aria_hidden="true"),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                rx.heading(
                    title,
                    as_="h3",
                    size="4",
                    color=rx.color("gray", 12),
                ),
                rx.text(text, as_="p", size="2", color=rx.color("gray", 11)),
                spacing="3",
                align="start",
            ),
            size="3",
            height="100%",
        ),
        list_style="none",
    )


def journey() -> rx.Component:
    return page_section(
        rx.vstack(
            section_heading("Your CBT&A log-book journey", id="journey-title"),
            rx.text(
                "In the ACT you can qualify for your provisional licence through competency-based "
                "training and assessment (CBT&A) with an accredited driving instructor. There are "
                "23 tasks and two reviews, completed in order. A task is never taught and assessed "
                "in the same lesson, and every result is signed in your log book.",
                as_="p",
                size="3",
                color=rx.color("gray", 11),
                max_width="48rem",
            ),
            rx.el.ol(
                *[
                    _journey_step(i, title, text, icon)
                    for i, (title, text, icon) in enumerate(JOURNEY_STEPS, start=1)
                ],
                display="grid",
                grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))", "repeat(4, minmax(0, 1fr))"],
                gap="1rem",
                margin="0",
                padding="0",
                width="100%",
                padding_top="0.5rem",
            ),
            spacing="4",
            align="start",
        ),
        id="cbta-journey",
        labelled_by="journey-title",
    )


# ------------------------------------------------------------------ parents


def _parent_point(icon: str, title: str, text: str) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.center(
                rx.icon(icon, size=20, aria_hidden="true"),
                width="2.5rem",
                height="2.5rem",
                min_width="2.5rem",
                border_radius="var(--radius-3)",
                background=rx.color("accent", 3),
                color=rx.color("accent", 11),
            ),
            rx.box(
                rx.heading(title, as_="h3", size="3", color=rx.color("gray", 12), margin_bottom="0.25rem"),
                rx.text(text, as_="p", size="2", color=rx.color("gray", 11)),
            ),
            gap="0.875rem",
            align="start",
        ),
        list_style="none",
    )


def parents() -> rx.Component:
    return page_section(
        rx.grid(
            rx.vstack(
                rx.badge(
                    rx.icon("heart-handshake", size=14, aria_hidden="true"),
                    "Parents and supervisors",
                    size="2",
                    variant="soft",
                    radius="full",
                ),
                section_heading("For parents and supervising drivers", id="parents-title"),
                rx.text(
                    "Most of a learner's driving happens with you. Lessons are planned so the "
                    "practice you do between them counts: you know what was covered, what to "
                    "practise next, and how the log book is tracking.",
                    as_="p",
                    size="3",
                    color=rx.color("gray", 11),
                ),
                rx.text(
                    "Logbook hours differ by age, so check the current requirements with Access "
                    "Canberra before you plan.",
                    as_="p",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                rx.link(
                    "Visit the parent area",
                    rx.icon("arrow-right", size=16, aria_hidden="true"),
                    href=brand.ROUTE_PARENT,
                    weight="medium",
                    display="inline-flex",
                    align_items="center",
                    gap="0.25rem",
                ),
                spacing="3",
                align="start",
            ),
            rx.el.ul(
                _parent_point(
                    "clock",
                    "Supervised hours",
                    "Learners under 25 log 100 hours of supervised driving, including 10 at night; "
                    "learners 25 and over log 50, including 5 at night. The first 10 hours with an "
                    "accredited instructor count three for one (up to 30 hours credited).",
                ),
                _parent_point(
                    "clipboard-check",
                    "Know what to practise",
                    "After each lesson you get a short summary of what was covered and what to "
                    "practise before the next one.",
                ),
                _parent_point(
                    "eye",
                    "Follow progress, with permission",
                    "A learner can invite a parent or supervising driver to a parent account. With the learner's "
                    "permission you see upcoming lessons and log-book progress. The instructor's private notes "
                    "stay private.",
                ),
                display="flex",
                flex_direction="column",
                gap="1.25rem",
                margin="0",
                padding="0",
            ),
            grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1fr) minmax(0, 1.2fr)"],
            gap=["2rem", "2rem", "2rem", "3rem"],
            align_items="start",
        ),
        id="for-parents",
        labelled_by="parents-title",
        tinted=True,
    )


# ------------------------------------------------------------------ FAQ

FAQ_TEASER: tuple[tuple[str, str], ...] = (
    (
        "Do I need my learner licence before the first lesson?",
        "Yes. You need a current ACT learner licence to drive on the road, and the instructor "
        "will check it at your first lesson.",
    ),
    (
        "Do lessons count towards my logbook hours?",
        "Yes. The first 10 hours of lessons with an accredited instructor count three for one "
        "(up to 30 hours credited); after that, lessons count hour for hour.",
    ),
    (
        "Can a task be taught and assessed in the same lesson?",
        "No. Under the CBT&A rules a task is taught first and assessed in a later lesson. The "
        "two reviews also come at least 36 hours after the tasks they cover.",
    ),
    (
        "How many lessons will I need?",
        "It depends on your experience and how much supervised practice you do between lessons. "
        "After your first lesson you will get an honest estimate, not a sales pitch.",
    ),
)


def _faq_item(question: str, answer: str) -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            rx.text(question, as_="span", weight="medium", size="3", color=rx.color("gray", 12)),
            rx.icon("chevron-down", size=18, aria_hidden="true", class_name="faq-chevron", flex_shrink="0"),
            display="flex",
            justify_content="space-between",
            align_items="center",
            gap="1rem",
            cursor="pointer",
            padding="1rem",
            list_style="none",
            min_height="3rem",
            border_radius="var(--radius-3)",
            _hover={"background": rx.color("gray", 3)},
            _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}", "outline_offset": "2px"},
            style={"&::-webkit-details-marker": {"display": "none"}},
        ),
        rx.text(answer, as_="p", size="2", color=rx.color("gray", 11), padding_x="1rem", padding_bottom="1rem"),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        background=rx.color("gray", 1),
        width="100%",
        style={"&[open] .faq-chevron": {"transform": "rotate(180deg)"}},
    )


def faq_teaser() -> rx.Component:
    return page_section(
        rx.vstack(
            section_heading("Common questions", id="faq-title"),
            rx.vstack(
                *[_faq_item(q, a) for q, a in FAQ_TEASER],
                spacing="2",
                width="100%",
                max_width="48rem",
            ),
            rx.text(
                rx.link("See all questions and answers", href=brand.ROUTE_FAQ, weight="medium", id="home-faq-link"),
                ". Something else? ",
                rx.link("Call us", href=brand.phone_href(), weight="medium"),
                " or ",
                rx.link("send us a message", href=brand.ROUTE_CONTACT, weight="medium"),
                ".",
                as_="p",
                size="2",
                color=rx.color("gray", 11),
            ),
            spacing="4",
            align="start",
        ),
        id="faq",
        labelled_by="faq-title",
    )


# ------------------------------------------------------------------ testimonials


def testimonials() -> rx.Component:
    return page_section(
        rx.vstack(
            rx.flex(
                section_heading("What learners and parents say", id="testimonials-title"),
                rx.link(
                    "Read more testimonials",
                    rx.icon("arrow-right", size=16, aria_hidden="true"),
                    href=brand.ROUTE_TESTIMONIALS,
                    weight="medium",
                    display="inline-flex",
                    align_items="center",
                    gap="0.25rem",
                ),
                justify="between",
                align="end",
                wrap="wrap",
                gap="0.5rem 1.5rem",
                width="100%",
            ),
            testimonial_grid(home=True, aria_label="Testimonials"),
            spacing="4",
            align="start",
            width="100%",
        ),
        id="testimonials",
        labelled_by="testimonials-title",
    )


# ------------------------------------------------------------------ contact


def contact() -> rx.Component:
    email = brand.contact_email()
    return page_section(
        rx.card(
            rx.grid(
                rx.vstack(
                    section_heading("Get in touch", id="contact-title"),
                    rx.text(
                        "Questions before you book? Call, or send us a message and we'll help you "
                        "find a lesson time that suits you.",
                        as_="p",
                        size="3",
                        color=rx.color("gray", 11),
                    ),
                    rx.flex(
                        button_link(
                            "Call " + brand.phone_display(), brand.phone_href(), icon="phone", id="contact-call"
                        ),
                        button_link(
                            "Send a message",
                            brand.ROUTE_CONTACT,
                            icon="message-square-text",
                            variant="outline",
                            id="contact-message",
                        ),
                        gap="0.75rem",
                        wrap="wrap",
                    ),
                    spacing="4",
                    align="start",
                ),
                rx.el.dl(
                    _contact_row("Driving school", brand.BUSINESS_NAME),
                    _contact_row("Where", f"{brand.REGION_LONG}"),
                    _contact_row(
                        "Phone",
                        rx.link(brand.phone_display(), href=brand.phone_href(), color=rx.color("gray", 12)),
                    ),
                    _contact_row(
                        "Email",
                        rx.link(email, href="mailto:" + email, color=rx.color("gray", 12), word_break="break-all"),
                    ),
                    display="grid",
                    grid_template_columns="auto 1fr",
                    column_gap="1.25rem",
                    row_gap="0.75rem",
                    margin="0",
                    align_self="center",
                ),
                grid_template_columns=["1fr", "1fr", "minmax(0, 1.2fr) minmax(0, 1fr)"],
                gap="2rem",
            ),
            size=rx.breakpoints(initial="3", sm="4"),
            width="100%",
            background=rx.color("accent", 2),
        ),
        id="contact",
        labelled_by="contact-title",
        pad_top=False,
    )


def _contact_row(label: str, value) -> rx.Component:
    return rx.fragment(
        rx.el.dt(rx.text(label, as_="span", size="2", weight="bold", color=rx.color("gray", 11))),
        rx.el.dd(
            value if not isinstance(value, str) else rx.text(value, as_="span", size="2", color=rx.color("gray", 12)),
            margin="0",
            font_size="var(--font-size-2)",
        ),
    )


# ------------------------------------------------------------------ page


def home_page() -> rx.Component:
    """The public landing page."""
    return layout(
        hero(),
        journey(),
        parents(),
        testimonials(),
        faq_teaser(),
        contact(),
        active=ROUTE,
    )
