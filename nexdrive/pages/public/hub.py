"""The Competency Hub: ``/hub`` and one public page per CBT&A task and review (``/hub/<slug>``).

The words come from ``nexdrive/data/hub/*.md`` through ``compliance.hub`` and are built into each page
(plain HTML for search engines), each page with its own title, description, schema.org JSON-LD and a
sitemap entry. A signed-in learner also sees their own status on each page (``HubState``, from the
engine's matrix); everyone else sees the same public page.
"""
from __future__ import annotations

import json

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.services.compliance import hub
from nexdrive.settings import get_settings
from nexdrive.state.auth import request_context, run_as_visitor_or_user

ROUTE = brand.ROUTE_HUB
TITLE = "Competency Hub: the 23 CBT&A tasks and 2 reviews | NexDrive Academy"
DESCRIPTION = (
    "A plain-English guide to every ACT CBT&A task and review for learner drivers and supervising parents: "
    "what it is, how it is assessed, common mistakes and how to practise."
)
SITEMAP = {"priority": 0.7, "changefreq": "monthly"}
PAGE_SITEMAP = {"priority": 0.6, "changefreq": "monthly"}
SITE = f"{brand.BUSINESS_NAME}"

STATUS_COLOURS = {"competent": "green", "taught": "blue", "assessed": "blue", "not_yet_competent": "amber",
                  "not_started": "gray"}


class HubState(rx.State):
    """A signed-in learner's status on each Hub page (slug -> status, label, detail); empty for visitors."""

    statuses: dict[str, dict[str, str]] = {}

    @rx.event
    async def load(self):
        token, _, _ = request_context(self)
        if not token:  # visitors: nothing to look up
            self.statuses = {}
            return
        self.statuses = await run_as_visitor_or_user(self, hub.learner_statuses)


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _url(path: str) -> str:
    return get_settings().public_url + path


def page_structured_data(page: hub.HubPage) -> str:
    """schema.org LearningResource (an Article) plus its breadcrumb trail."""
    return _json({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": ["Article", "LearningResource"], "@id": _url(page.route) + "#article",
             "headline": f"{page.label}: {page.name}", "name": page.title, "description": page.description,
             "url": _url(page.route), "inLanguage": "en-AU", "learningResourceType": "Guide",
             "educationalLevel": "Learner driver", "audience": {"@type": "Audience",
                                                                 "audienceType": "Learner drivers and supervisors"},
             "about": {"@type": "Thing", "name": f"ACT CBT&A {page.label}: {page.name}"},
             "publisher": {"@type": "Organization", "name": brand.BUSINESS_NAME, "url": _url("/")}},
            {"@type": "BreadcrumbList", "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home", "item": _url("/")},
                {"@type": "ListItem", "position": 2, "name": "Competency Hub", "item": _url(ROUTE)},
                {"@type": "ListItem", "position": 3, "name": f"{page.label}: {page.name}",
                 "item": _url(page.route)},
            ]},
        ],
    })


def index_structured_data() -> str:
    return _json({
        "@context": "https://schema.org", "@type": "ItemList", "name": "Competency Hub",
        "itemListElement": [{"@type": "ListItem", "position": i + 1, "name": f"{p.label}: {p.name}",
                             "url": _url(p.route)} for i, p in enumerate(hub.hub_pages())],
    })


def _status_badge(slug: str) -> rx.Component:
    status = HubState.statuses[slug]
    return rx.cond(
        HubState.statuses.contains(slug),
        rx.badge(status["label"], color_scheme=rx.match(status["status"], *STATUS_COLOURS.items(), "gray"),
                 variant="soft", size="2", class_name="hub-status-badge"),
    )


def _blocks(blocks: tuple[hub.Block, ...]) -> list[rx.Component]:
    out: list[rx.Component] = []
    for block in blocks:
        if block.kind == "ul":
            out.append(rx.el.ul(*[rx.el.li(rx.text(item, size="3", as_="span")) for item in block.items],
                                padding_left="1.25rem", margin="0", display="grid", gap="0.4rem",
                                list_style_type="disc"))
        else:
            out.append(rx.text(block.items[0], as_="p", size="3"))
    return out


def _section(page: hub.HubPage, key: str, heading: str) -> rx.Component:
    hid = f"hub-{key}"
    return rx.el.section(
        rx.heading(heading, as_="h2", size="6", id=hid, margin_bottom="0.5rem"),
        rx.vstack(*_blocks(page.sections[key]), spacing="3", align="stretch"),
        aria_labelledby=hid,
        class_name=f"hub-section hub-section-{key}",
    )


def _my_status(page: hub.HubPage) -> rx.Component:
    status = HubState.statuses[page.slug]
    return rx.cond(
        HubState.statuses.contains(page.slug),
        rx.callout.root(
            rx.callout.icon(rx.icon("user-check", aria_hidden="true")),
            rx.callout.text(rx.text("Your progress: ", weight="bold", as_="span"), status["label"], ". ",
                            status["detail"]),
            color_scheme=rx.match(status["status"], *STATUS_COLOURS.items(), "gray"),
            id="hub-my-status",
            role="status",
        ),
    )


def _related(page: hub.HubPage) -> rx.Component:
    items = hub.related_pages(page)
    if not items:
        return rx.fragment()
    return rx.el.nav(
        rx.heading("Related tasks", as_="h2", size="5", id="hub-related", margin_bottom="0.5rem"),
        rx.el.ul(
            *[rx.el.li(rx.link(f"{r.label}: {r.name}", href=r.route, size="3", display="inline-flex",
                               align_items="center", min_height="44px"), list_style="none") for r in items],
            margin="0", padding="0",
        ),
        aria_labelledby="hub-related",
    )


def _task_page(page: hub.HubPage):
    def component() -> rx.Component:
        return layout(
            page_header(f"{page.label}: {page.name}", page.description, kicker="Competency Hub", icon="book-open"),
            page_section(
                rx.vstack(
                    rx.el.nav(
                        rx.link("Competency Hub", href=ROUTE, size="2", display="inline-flex", align_items="center",
                                min_height="44px"),
                        rx.text(" \u203a ", as_="span", size="2", color=rx.color("gray", 11), aria_hidden="true"),
                        rx.text(page.label, as_="span", size="2", color=rx.color("gray", 11)),
                        aria_label="Breadcrumb",
                    ),
                    _my_status(page),
                    *[_section(page, key, heading) for key, heading in hub.SECTIONS if page.sections.get(key)],
                    _related(page),
                    rx.card(
                        rx.flex(
                            rx.text("Want this task taught and assessed by an accredited instructor?", as_="p",
                                    size="3", weight="medium"),
                            button_link("Book a lesson", brand.ROUTE_BOOK, icon="calendar-check", min_height="44px"),
                            direction=rx.breakpoints(initial="column", sm="row"), gap="1rem",
                            justify="between", align=rx.breakpoints(initial="start", sm="center"),
                        ),
                        size="3", width="100%", background=rx.color("accent", 2),
                    ),
                    rx.text("A guide written by NexDrive Academy, not an official government document. Your "
                            "instructor teaches and assesses each task to the current ACT standard.",
                            size="1", color=rx.color("gray", 11), as_="p"),
                    spacing="6", width="100%", max_width="48rem", align="stretch",
                ),
                pad_top=False,
            ),
            rx.el.script(page_structured_data(page), type="application/ld+json", id="hub-structured-data"),
            active=ROUTE,
        )
    component.__name__ = "hub_" + page.slug.replace("-", "_")
    return component


def _index_item(page: hub.HubPage) -> rx.Component:
    return rx.el.li(
        rx.link(
            rx.card(
                rx.vstack(
                    rx.hstack(rx.text(page.label, size="2", weight="bold", color=rx.color("accent", 11)),
                              _status_badge(page.slug), justify="between", width="100%", align="center"),
                    rx.text(page.name, size="4", weight="medium", color=rx.color("gray", 12)),
                    rx.text(page.description, size="2", color=rx.color("gray", 11)),
                    spacing="1", align="start",
                ),
                width="100%", height="100%",
            ),
            href=page.route, underline="none", display="block", height="100%",
            class_name="hub-index-link",
        ),
        list_style="none",
    )


_GROUPS = (
    ("Stage 1: car control (tasks 1 to 17) and Review 1", lambda p: p.task_number <= 17 or p.task_number == 101),
    ("Stage 2: traffic (tasks 18 to 22) and Review 2", lambda p: 18 <= p.task_number <= 22 or p.task_number == 102),
    ("Stage 3: the final drive (task 23)", lambda p: p.task_number == 23),
)


def hub_index_page() -> rx.Component:
    groups = []
    for i, (title, keep) in enumerate(_GROUPS):
        hid = f"hub-stage-{i + 1}"
        groups.append(rx.el.section(
            rx.heading(title, as_="h2", size="6", id=hid, margin_bottom="0.75rem"),
            rx.el.ul(*[_index_item(p) for p in hub.hub_pages() if keep(p)],
                     display="grid",
                     grid_template_columns=rx.breakpoints(initial="1fr", sm="1fr 1fr", lg="1fr 1fr 1fr"),
                     gap="0.75rem", margin="0", padding="0"),
            aria_labelledby=hid,
        ))
    return layout(
        page_header("Competency Hub", "Every task and review of the ACT CBT&A scheme in plain English: what it "
                    "is, how it is assessed, the usual mistakes and how a supervising driver can help.",
                    kicker="For learners and parents", icon="book-open"),
        page_section(rx.vstack(*groups, spacing="7", width="100%", align="stretch"), pad_top=False),
        rx.el.script(index_structured_data(), type="application/ld+json", id="hub-structured-data"),
        active=ROUTE,
    )


def page_specs() -> list[tuple[str, object, str, str]]:
    """(route, component, title, description) of every task and review page."""
    return [(p.route, _task_page(p), f"{p.title} | {brand.BUSINESS_NAME}", p.description) for p in hub.hub_pages()]


ON_LOAD = [HubState.load]
