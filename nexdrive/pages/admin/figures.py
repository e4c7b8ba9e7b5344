"""``/admin/figures?figure=lessons&period=week``: the list behind one figure of the dashboard.

The rows come from ``reporting.kpis.figure_rows``, the same query as the figure, so the count
here is the number on the dashboard.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.auth._forms import page_title
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.reporting import kpis
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/figures"
TITLE = "Dashboard figure | NexDrive Academy admin"
DESCRIPTION = "The list behind one figure of the NexDrive Academy dashboard."


class FigureListState(rx.State):
    loaded: bool = False
    error: str = ""
    title: str = ""
    what: str = ""
    period_label: str = ""
    columns: list[str] = []
    rows: list[dict[str, str | list[str]]] = []
    count: str = "0"
    total: str = ""
    truncated: bool = False
    figure: str = ""
    period: str = "today"

    @rx.event
    async def load(self):
        self.loaded, self.error = False, ""
        params = self.router.url.query_parameters
        figure = params.get("figure") or ""
        period = params.get("period") or "today"
        yield
        try:
            data = await run_as_actor(self, lambda s, a: kpis.figure_rows(s, a, figure, period))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        self.figure, self.period = data["figure"], data["period"]
        self.title, self.what, self.period_label = data["title"], data["what"], data["period_label"]
        self.columns = data["columns"]
        self.rows = [{"id": r["id"], "cells": [str(c) for c in r["cells"]], "href": r["href"]} for r in data["rows"]]
        self.count, self.total, self.truncated = str(data["count"]), data["total"], data["truncated"]
        self.loaded = True

    @rx.event
    def choose_period(self, period: str | list[str]):
        period = period if isinstance(period, str) and period in kpis.PERIODS else "today"
        return rx.redirect(f"{ROUTE}?figure={self.figure}&period={period}")


def _row(r: rx.Var) -> rx.Component:
    cells = r["cells"].to(list[str])
    return rx.table.row(
        rx.foreach(cells, lambda c, i: rx.cond(
            (i == 0) & (r["href"].to(str) != ""),
            rx.table.cell(rx.link(c, href=r["href"].to(str), underline="always")),
            rx.table.cell(c),
        )),
        class_name="figure-row",
    )


def figure_list_page() -> rx.Component:
    st = FigureListState
    return layout(container(
        rx.vstack(
            button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
            page_title("Dashboard figure"),
            rx.cond(st.error != "", rx.callout(st.error, icon="circle-alert", color_scheme="red", role="alert")),
            rx.cond(
                st.loaded & (st.error == ""),
                rx.vstack(
                    rx.heading(st.title, as_="h2", size="5", id="figure-title"),
                    rx.text(st.what, " \u00b7 ", st.period_label, size="2", color=rx.color("gray", 11)),
                    rx.segmented_control.root(
                        rx.segmented_control.item("Today", value="today"),
                        rx.segmented_control.item("This week", value="week"),
                        rx.segmented_control.item("This month", value="month"),
                        value=st.period, on_change=st.choose_period, aria_label="Period",
                    ),
                    rx.text(rx.text(st.count, as_="span", weight="bold", id="figure-count"), " rows",
                            rx.cond(st.total != "", rx.fragment(" \u00b7 total ",
                                                                rx.text(st.total, as_="span", weight="bold",
                                                                        id="figure-total"))),
                            size="3"),
                    rx.cond(st.truncated, rx.text("Showing the first 200.", size="2")),
                    rx.box(
                        rx.table.root(
                            rx.table.header(rx.table.row(rx.foreach(
                                st.columns, lambda c: rx.table.column_header_cell(c, scope="col")))),
                            rx.table.body(rx.foreach(st.rows, _row)),
                            variant="surface", size="1", width="100%", id="figure-table",
                        ),
                        overflow_x="auto", width="100%",
                    ),
                    spacing="3", width="100%",
                ),
                rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status")),
            ),
            spacing="4", width="100%",
        ),
        padding_y=["1.5rem", "2rem", "3rem"],
    ), active="/admin")


ON_LOAD = [*require_role("admin"), FigureListState.load]
