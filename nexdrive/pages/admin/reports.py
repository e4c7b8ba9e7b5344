"""``/admin/reports``: the owner's reports — revenue (by day, week, month, lesson type, instructor or payment
method, with GST for a registered business), competency progress, instructor utilisation, leads and
conversion — as a chart and a table with totals, and as CSV and PDF downloads; plus the lessons CSV.

Every figure comes from ``services.admin.report_tables`` / ``services.admin.reports`` (the administrator's
alone, the dashboard's own rules); this page only picks the report, the range and the grouping.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.admin import report_tables, reports
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/reports"
TITLE = "Reports | NexDrive Academy admin"
DESCRIPTION = "Revenue, competency progress, instructor utilisation and leads for any period: chart, CSV and PDF."

PRESET_OPTIONS = [("month", "This month"), ("last_month", "Last month"), ("week", "This week"),
                  ("today", "Today"), ("fy", "This financial year"), ("", "The dates below")]
REPORT_OPTIONS = list(report_tables.REPORTS.items())
GROUPINGS = {k: [{"id": g, "name": label} for g, label in v.items()] for k, v in report_tables.GROUPINGS.items()}
_SELECT_STYLE = {"padding": "0.5rem", "borderRadius": "var(--radius-2)", "width": "100%",
                 "border": "1px solid var(--gray-7)", "background": "var(--color-surface)", "minHeight": "2.5rem"}


def _table(data: dict) -> tuple[list[dict], list[list[dict]], list[dict]]:
    cols = data["columns"]

    def cells(row: dict) -> list[dict]:
        return [{"t": reports.cell(c, row.get(c["key"]), for_csv=False),
                 "a": "left" if c["kind"] == "text" else "right"} for c in cols]
    head = [{"t": c["title"], "a": "left" if c["kind"] == "text" else "right"} for c in cols]
    return head, [cells(r) for r in data["rows"]], cells(data["totals"])


class ReportsState(rx.State):
    report: str = "revenue"
    grouping: str = "month"
    preset: str = "month"
    date_from: str = ""
    date_to: str = ""
    groupings: list[dict[str, str]] = GROUPINGS["revenue"]
    busy: bool = False
    loaded: bool = False
    error: str = ""
    summary: str = ""
    title: str = ""
    range_label: str = ""
    head: list[dict[str, str]] = []
    rows: list[list[dict[str, str]]] = []
    totals: list[dict[str, str]] = []
    notes: list[str] = []
    chart: list[dict[str, str | float | int]] = []
    series_a: str = ""
    series_b: str = ""
    money_chart: bool = False

    @rx.event
    def set_report(self, value: str):
        if value in report_tables.REPORTS:
            self.report = value
            self.groupings = GROUPINGS[value]
            self.grouping = report_tables.DEFAULT_GROUPING[value]

    @rx.event
    def set_grouping(self, value: str):
        self.grouping = value

    @rx.event
    def set_preset(self, value: str):
        self.preset = value

    @rx.event
    def set_date_from(self, value: str):
        self.date_from, self.preset = value, ""

    @rx.event
    def set_date_to(self, value: str):
        self.date_to, self.preset = value, ""

    def _args(self) -> tuple[str, str, str, str, str]:
        return self.report, self.grouping, self.preset, self.date_from.strip(), self.date_to.strip()

    @rx.event
    async def run(self):
        """Show the chosen report (chart and table)."""
        self.busy, self.error, self.summary = True, "", ""
        yield
        report, grouping, preset, d0, d1 = self._args()

        def work(session, actor):
            p = reports.period(session, preset=preset or None, date_from=d0, date_to=d1)
            data = report_tables.build(session, actor, report, p, grouping)
            data["chart_rows"] = report_tables.chart_rows(data)
            return data
        try:
            data = await run_as_actor(self, work)
        except AuthRequired:
            self.busy = False
            return
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self.head, self.rows, self.totals = _table(data)
        series = data["chart"]["series"]
        self.series_a = series[0]["title"]
        self.series_b = series[1]["title"] if len(series) > 1 else ""
        self.money_chart = series[0]["kind"] == "money"
        self.chart = [{"label": pt["label"], "a": pt[series[0]["key"]],
                       "b": pt[series[1]["key"]] if len(series) > 1 else 0} for pt in data["chart_rows"]]
        self.title, self.range_label, self.notes = data["title"], data["range_label"], data["notes"]
        self.busy, self.loaded = False, True

    async def _download(self, kind: str):
        self.busy, self.error, self.summary = True, "", ""
        yield
        report, grouping, preset, d0, d1 = self._args()

        def work(session, actor):
            p = reports.period(session, preset=preset or None, date_from=d0, date_to=d1)
            if kind == "lessons":
                return reports.lessons_csv(session, actor, p)
            if kind == "pdf":
                return reports.report_pdf(session, actor, report, p, grouping)
            return reports.report_csv(session, actor, report, p, grouping)
        try:
            name, body = await run_as_actor(self, work)
        except AuthRequired:
            self.busy = False
            return
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self.busy, self.summary = False, f"Downloaded {name}"
        mime = "application/pdf" if kind == "pdf" else "text/csv"
        yield rx.download(data=body, filename=name, mime_type=mime)

    @rx.event
    async def download_csv(self):
        async for step in self._download("csv"):
            yield step

    @rx.event
    async def download_pdf(self):
        async for step in self._download("pdf"):
            yield step

    @rx.event
    async def download_lessons(self):
        async for step in self._download("lessons"):
            yield step


def _labelled(label: str, control_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=control_id, font_weight="600", font_size="var(--font-size-2)"),
                     control, spacing="1", width="100%", align="stretch")


def _controls() -> rx.Component:
    st = ReportsState
    return rx.vstack(
        rx.grid(
            _labelled("Report", "report", rx.el.select(
                *[rx.el.option(label, value=key) for key, label in REPORT_OPTIONS], id="report", name="report",
                value=st.report, on_change=st.set_report, style=_SELECT_STYLE)),
            _labelled("Group", "grouping", rx.el.select(
                rx.foreach(st.groupings, lambda o: rx.el.option(o["name"], value=o["id"])), id="grouping",
                name="grouping", value=st.grouping, on_change=st.set_grouping, style=_SELECT_STYLE)),
            _labelled("Period", "period", rx.el.select(
                *[rx.el.option(label, value=key) for key, label in PRESET_OPTIONS], id="period", name="period",
                value=st.preset, on_change=st.set_preset, style=_SELECT_STYLE)),
            rx.grid(
                _labelled("From", "date_from", rx.el.input(type="date", id="date_from", name="date_from",
                                                           value=st.date_from, on_change=st.set_date_from,
                                                           style=_SELECT_STYLE)),
                _labelled("To", "date_to", rx.el.input(type="date", id="date_to", name="date_to", value=st.date_to,
                                                       on_change=st.set_date_to, style=_SELECT_STYLE)),
                columns="2", gap="0.75rem", width="100%"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"), gap="1rem", width="100%"),
        rx.flex(
            rx.button(rx.icon("chart-column"), "Show report", id="report-run", on_click=st.run, loading=st.busy,
                      size="3"),
            rx.button(rx.icon("file-spreadsheet"), "Download CSV", id="report-download", on_click=st.download_csv,
                      disabled=st.busy, variant="soft", size="3"),
            rx.button(rx.icon("file-text"), "Download PDF", id="report-pdf", on_click=st.download_pdf,
                      disabled=st.busy, variant="soft", size="3"),
            rx.button(rx.icon("calendar"), "Lessons CSV", id="report-lessons", on_click=st.download_lessons,
                      disabled=st.busy, variant="ghost", size="3"),
            gap="0.75rem", wrap="wrap"),
        rx.text("Canberra days; weeks start on Monday. Revenue counts money received less refunds made, as the "
                "dashboard does, so the totals agree to the cent.", size="2", color=rx.color("gray", 11)),
        spacing="4", width="100%")


def _chart() -> rx.Component:
    st = ReportsState
    chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="label", tick_line=False, font_size=11, interval="preserveStartEnd"),
        rx.recharts.y_axis(tick_line=False, font_size=11, width=64),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="a", name=st.series_a, fill=rx.color("accent", 9), radius=[4, 4, 0, 0],
                        is_animation_active=False),
        rx.cond(st.series_b != "", rx.recharts.bar(data_key="b", name=st.series_b, fill=rx.color("amber", 9),
                                                   radius=[4, 4, 0, 0], is_animation_active=False)),
        rx.recharts.legend(),
        data=st.chart, height=280, width="100%")
    return rx.box(chart, width="100%", id="report-chart", role="img",
                  aria_label=st.title + " (" + st.range_label + "), chart; the table below has the figures")


def _cell(c: rx.Var, tag) -> rx.Component:
    return tag(c["t"], style={"textAlign": c["a"], "padding": "0.35rem 0.6rem", "whiteSpace": "nowrap"})


def _results() -> rx.Component:
    st = ReportsState
    table = rx.box(rx.el.table(
        rx.el.thead(rx.el.tr(rx.foreach(st.head, lambda c: rx.el.th(
            c["t"], scope="col", style={"textAlign": c["a"], "padding": "0.35rem 0.6rem",
                                        "borderBottom": "1px solid var(--gray-7)"})))),
        rx.el.tbody(rx.foreach(st.rows, lambda row: rx.el.tr(rx.foreach(row, lambda c: _cell(c, rx.el.td))))),
        rx.el.tfoot(rx.el.tr(rx.foreach(st.totals, lambda c: rx.el.td(
            c["t"], style={"textAlign": c["a"], "padding": "0.35rem 0.6rem", "fontWeight": "700",
                           "borderTop": "2px solid var(--gray-12)"})), id="report-totals")),
        id="report-table", style={"borderCollapse": "collapse", "width": "100%", "fontSize": "var(--font-size-2)"}),
        overflow_x="auto", width="100%", tab_index=0, role="region", aria_label="Report table")
    return rx.vstack(
        rx.heading(st.title, as_="h3", size="4", id="report-title"),
        rx.text(st.range_label, " (Canberra time)", size="2", color=rx.color("gray", 11)),
        _chart(), table,
        rx.foreach(st.notes, lambda n: rx.text(n, size="2", color=rx.color("gray", 11))),
        spacing="3", width="100%")


def reports_page() -> rx.Component:
    st = ReportsState
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Reports", "Revenue, competency progress, instructor utilisation, and leads and conversion "
                              "for any period, as a chart and a table, and as CSV and PDF files."),
        message_box(st.error),
        message_box(st.summary, tone="green", id="report-summary", icon="circle-check"),
        panel("Choose a report", "report-panel", _controls()),
        rx.cond(st.busy, rx.hstack(rx.spinner(), rx.text("Working\u2026"), role="status", id="report-busy")),
        rx.cond(st.loaded, panel("The report", "report-result", _results())),
        spacing="4", width="100%"), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), ReportsState.run]
