"""Admin home ``/admin``: the business at a glance — today, this week and this month in Canberra.

Every figure comes from ``reporting.kpis.dashboard`` (admin only) and links to the list behind it
(``/admin/figures``); the charts show the last 12 weeks and net revenue by service.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import BookingRow, booking_list, panel, role_home, upcoming_bookings
from nexdrive.pages.admin.views.kpi import (
    FigureRow,
    QueueCard,
    admin_links,
    figure_rows,
    figures_table,
    queue_cards,
    service_chart,
    trend_charts,
)
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.reporting import kpis
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_ADMIN
TITLE = "Admin | NexDrive Academy"
DESCRIPTION = "The NexDrive Academy admin area: the business at a glance, learners, contacts and payments."
UPCOMING = 200


def _load(session, actor) -> dict:
    board = kpis.dashboard(session, actor)  # refuses anyone but the administrator
    me = accounts.get_me(session, actor)
    students = access.list_students(session, actor, limit=UPCOMING)
    return {
        "me": me,
        "board": board,
        "names": {str(s["id"]): f"{s.get('first_name') or ''} {s.get('last_name') or ''}".strip() for s in students},
        "bookings": access.list_bookings(session, actor, limit=UPCOMING),
        "outbox": outbox_admin.outbox_counts(session, actor),
        "mailbox": outbox_admin.mailbox_available(),
    }


class AdminHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    figures: list[FigureRow] = []
    period_labels: dict[str, str] = {}
    queues: list[QueueCard] = []
    trend: list[dict[str, str | float | int]] = []
    by_service: list[dict[str, str | float | int]] = []
    upcoming: list[BookingRow] = []
    messages_waiting: str = "0"
    messages_failed: str = "0"
    mailbox: bool = False  # email or SMS runs offline: the offline mailbox exists
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded = False
        self.error = ""
        yield
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return
        board = data["board"]
        self.figures = figure_rows(board["periods"])
        self.period_labels = {k: v["label"] for k, v in board["periods"].items()}
        self.queues = [QueueCard(key=q["key"], label=q["label"], value=q["display"], href=q["href"],
                                 alert=q["value"] > 0) for q in board["queues"].values()]
        self.trend = [{"week": w["week"], "lessons": w["lessons"], "leads": w["leads"], "revenue": w["revenue"]}
                      for w in board["trend"]]
        self.by_service = [{"service": s["service"], "revenue": s["revenue"], "display": s["display"]}
                           for s in board["by_service"]]
        self.upcoming = upcoming_bookings(data["bookings"], names=data["names"], limit=10)
        self.messages_waiting = str(data["outbox"]["pending"] + data["outbox"]["sending"])
        self.messages_failed = str(data["outbox"]["failed"])
        self.mailbox = data["mailbox"]
        self.first_name = (data["me"].get("profile") or {}).get("first_name") or ""
        self.loaded = True


def admin_dashboard_page() -> rx.Component:
    st = AdminHomeState
    return layout(
        role_home(
            "Admin dashboard",
            st.loaded,
            rx.text("Signed in as ", rx.text(st.first_name, as_="span", weight="bold"), " (administrator). "
                    "Figures are for Canberra days; weeks start on Monday. Select a figure to see the list behind it.",
                    as_="p", size="3"),
            rx.cond(st.error != "", rx.callout(st.error, icon="circle-alert", color_scheme="red", role="alert")),
            panel("The business", "figures", figures_table(st.figures, st.period_labels)),
            panel("Waiting for you", "queues", queue_cards(st.queues)),
            panel("The last 12 weeks", "trends", trend_charts(st.trend)),
            panel("Revenue by service (last 12 weeks)", "by-service", service_chart(st.by_service)),
            panel("Next bookings", "next-bookings",
                  booking_list(st.upcoming, show_student=True, manage=True, empty="Nothing booked.")),
            panel(
                "Messages",
                "messages",
                rx.text(
                    rx.text(st.messages_waiting, as_="span", weight="bold", id="admin-messages-waiting"),
                    " waiting to send, ",
                    rx.text(st.messages_failed, as_="span", weight="bold", id="admin-messages-failed",
                            color=rx.cond(st.messages_failed != "0", rx.color("red", 11), "inherit")),
                    " failed.",
                    as_="p", size="3", margin_bottom="0.75rem",
                ),
                rx.flex(
                    button_link("Open the outbox", "/admin/outbox", icon="send", variant="soft", size="2",
                                id="admin-outbox-link"),
                    rx.cond(st.mailbox, button_link("Offline mailbox", "/admin/mailbox", icon="inbox",
                                                    variant="soft", size="2", id="admin-mailbox-link")),
                    button_link("Conversations and calls", "/admin/inbox", icon="messages-square", variant="soft",
                                size="2", id="admin-inbox-link"),
                    button_link("Assistant knowledge", "/admin/knowledge", icon="book-open", variant="soft",
                                size="2", id="admin-knowledge-link"),
                    gap="0.5rem", wrap="wrap",
                ),
                button_link(
                    "Audit trail",
                    "/admin/audit",
                    icon="shield-check",
                    variant="soft",
                    size="2",
                    id="admin-audit-link",
                ),
            ),
            extra_actions=admin_links(),
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), AdminHomeState.load]
