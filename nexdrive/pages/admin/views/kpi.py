"""The dashboard's figures table and charts (``/admin``)."""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.components.ui import button_link


@dataclasses.dataclass
class FigureRow:
    """One figure, for today / this week / this month; each value links to the list behind it."""
    key: str = ""
    label: str = ""
    today: str = ""
    week: str = ""
    month: str = ""
    today_href: str = ""
    week_href: str = ""
    month_href: str = ""


@dataclasses.dataclass
class QueueCard:
    key: str = ""
    label: str = ""
    value: str = "0"
    href: str = ""
    alert: bool = False


def figure_rows(periods: dict) -> list[FigureRow]:
    """``kpis.dashboard(...)["periods"]`` as table rows (a row per figure, a column per period)."""
    today, week, month = (periods[k]["figures"] for k in ("today", "week", "month"))
    return [FigureRow(key=k, label=today[k]["label"], today=today[k]["display"], week=week[k]["display"],
                      month=month[k]["display"], today_href=today[k]["href"], week_href=week[k]["href"],
                      month_href=month[k]["href"]) for k in today]


def _cell(value: rx.Var, href: rx.Var, cell_id: rx.Var) -> rx.Component:
    return rx.table.cell(rx.link(value, href=href, id=cell_id, weight="bold", underline="hover"),
                         text_align="right", white_space="nowrap")


def figures_table(rows: rx.Var, labels: rx.Var) -> rx.Component:
    """``labels``: {"today": "Mon 7 December", "week": ..., "month": ...} for the column headers' titles."""
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(r.label),
            _cell(r.today, r.today_href, "fig-" + r.key + "-today"),
            _cell(r.week, r.week_href, "fig-" + r.key + "-week"),
            _cell(r.month, r.month_href, "fig-" + r.key + "-month"),
        )

    def head(text: str, key: str) -> rx.Component:
        return rx.table.column_header_cell(text, title=labels[key], text_align="right", scope="col")

    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Figure", scope="col"),
                                         head("Today", "today"), head("This week", "week"),
                                         head("This month", "month"))),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface", size="2", width="100%", id="admin-figures",
        ),
        overflow_x="auto", width="100%",
    )


def queue_cards(cards: rx.Var) -> rx.Component:
    def card(c: rx.Var) -> rx.Component:
        return rx.card(
            rx.link(
                rx.vstack(
                    rx.text(c.label, size="2", color=rx.color("gray", 11)),
                    rx.text(c.value, size="7", weight="bold", id="queue-" + c.key,
                            color=rx.cond(c.alert, rx.color("red", 11), rx.color("gray", 12))),
                    spacing="1",
                ),
                href=c.href, underline="none",
            ),
            size="2",
        )
    return rx.grid(rx.foreach(cards, card), columns=rx.breakpoints(initial="1", sm="3"), gap="1rem", width="100%")


def _chart_box(chart: rx.Component, *, box_id: str, label: str) -> rx.Component:
    return rx.box(chart, width="100%", id=box_id, role="img", aria_label=label)


def trend_charts(trend: rx.Var) -> rx.Component:
    lessons = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="week", tick_line=False, font_size=11, interval="preserveStartEnd"),
        rx.recharts.y_axis(tick_line=False, font_size=11, width=40, allow_decimals=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="lessons", name="Lessons", fill=rx.color("accent", 9), radius=[4, 4, 0, 0]),
        rx.recharts.bar(data_key="leads", name="New leads", fill=rx.color("amber", 9), radius=[4, 4, 0, 0]),
        rx.recharts.legend(),
        data=trend, width="100%", height=240,
    )
    revenue = rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="week", tick_line=False, font_size=11, interval="preserveStartEnd"),
        rx.recharts.y_axis(tick_line=False, font_size=11, width=60, tick_formatter="(value) => '$' + value"),
        rx.recharts.graphing_tooltip(),
        rx.recharts.line(data_key="revenue", name="Net revenue (AUD)", stroke=rx.color("accent", 9),
                         stroke_width=2, type_="monotone"),
        data=trend, width="100%", height=240,
    )
    return rx.grid(
        rx.vstack(rx.heading("Lessons and new leads per week", as_="h3", size="3"),
                  _chart_box(lessons, box_id="trend-lessons-chart",
                             label="Lessons and new leads per week over the last 12 weeks"), width="100%"),
        rx.vstack(rx.heading("Net revenue per week", as_="h3", size="3"),
                  _chart_box(revenue, box_id="trend-revenue-chart",
                             label="Net revenue per week over the last 12 weeks, in Australian dollars"),
                  width="100%"),
        columns=rx.breakpoints(initial="1", md="2"), gap="1.5rem", width="100%",
    )


def service_chart(by_service: rx.Var) -> rx.Component:
    chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", tick_line=False, font_size=11, tick_formatter="(value) => '$' + value"),
        rx.recharts.y_axis(data_key="service", type_="category", tick_line=False, font_size=11, width=130),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="revenue", name="Net revenue (AUD)", fill=rx.color("accent", 9),
                        radius=[0, 4, 4, 0]),
        data=by_service, layout="vertical", width="100%", height=260,
    )
    listing = rx.el.ul(
        rx.foreach(by_service, lambda s: rx.el.li(
            rx.hstack(rx.text(s["service"]), rx.spacer(), rx.text(s["display"], weight="bold"), width="100%"))),
        id="revenue-by-service", style={"listStyle": "none", "padding": 0, "margin": 0, "width": "100%"},
    )
    return rx.vstack(
        _chart_box(chart, box_id="service-chart", label="Net revenue by service over the last 12 weeks"),
        listing, width="100%",
    )


def admin_links() -> tuple[rx.Component, ...]:
    return (
        button_link("Learners", "/admin/students", icon="graduation-cap", variant="soft", size="2",
                    id="admin-students-link"),
        button_link("Contacts", "/admin/contacts", icon="contact", variant="soft", size="2", id="admin-contacts-link"),
        button_link("Payments and refunds", "/admin/payments", icon="receipt", variant="soft", size="2",
                    id="admin-payments-link"),
        button_link("Lesson packages", "/admin/packages", icon="package", variant="soft", size="2",
                    id="admin-packages-link"),
        button_link("Instructors", "/admin/instructors", icon="car", variant="soft", size="2",
                    id="admin-instructors-link"),
        button_link("Prices and vouchers", "/admin/services", icon="tag", variant="soft", size="2",
                    id="admin-services-link"),
        button_link("Settings", "/admin/settings", icon="settings", variant="soft", size="2",
                    id="admin-settings-link"),
        button_link("Reports", "/admin/reports", icon="file-spreadsheet", variant="soft", size="2",
                    id="admin-reports-link"),
        button_link("Website content", "/admin/content", icon="file-pen-line", variant="soft", size="2",
                    id="admin-content-link"),
    )
