"""Admin home ``/admin``: headline counts, read through the access layer as the admin."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.pages.account._display import role_home, BookingRow, booking_list, panel, stat, upcoming_bookings
from nexdrive.components.ui import button_link
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = brand.ROUTE_ADMIN
TITLE = "Admin | NexDrive Academy"
DESCRIPTION = "The NexDrive Academy admin area: students, bookings, payments and the audit log."

CAP = 200  # access.MAX_PAGE: counts above it show as "200+"


def _load(session, actor) -> dict:
    me = accounts.get_me(session, actor)
    return {
        "me": me,
        "students": access.list_students(session, actor, limit=CAP),
        "bookings": access.list_bookings(session, actor, limit=CAP),
        "lessons": access.list_lessons(session, actor, limit=CAP),
        "payments": access.list_payments(session, actor, limit=CAP),
        "outbox": outbox_admin.outbox_counts(session, actor),
        "mailbox": outbox_admin.mailbox_available(),
    }


def _count(items: list) -> str:
    return f"{CAP}+" if len(items) >= CAP else str(len(items))


class AdminHomeState(rx.State):
    loaded: bool = False
    first_name: str = ""
    students: str = "0"
    upcoming_count: str = "0"
    lessons: str = "0"
    payments: str = "0"
    upcoming: list[BookingRow] = []
    messages_waiting: str = "0"
    messages_failed: str = "0"
    mailbox: bool = False  # email or SMS runs offline: the offline mailbox exists
    error: str = ""

    @rx.event
    async def load(self):
        self.loaded = False
        self.error = ""
        self.upcoming = []
        try:
            data = await run_as_actor(self, _load)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return
        names = {str(s["id"]): f"{s.get('first_name') or ''} {s.get('last_name') or ''}".strip()
                 for s in data["students"]}
        upcoming = upcoming_bookings(data["bookings"], names=names, limit=CAP)
        self.students = _count(data["students"])
        self.upcoming_count = str(len(upcoming))
        self.lessons = _count(data["lessons"])
        self.payments = _count(data["payments"])
        self.upcoming = upcoming[:10]
        self.messages_waiting = str(data["outbox"]["pending"] + data["outbox"]["sending"])
        self.messages_failed = str(data["outbox"]["failed"])
        self.mailbox = data["mailbox"]
        self.first_name = (data["me"].get("profile") or {}).get("first_name") or ""
        self.loaded = True


def admin_dashboard_page() -> rx.Component:
    return layout(
        role_home(
            "Admin dashboard",
            AdminHomeState.loaded,
            rx.text(
                "Signed in as ",
                rx.text(AdminHomeState.first_name, as_="span", weight="bold"),
                " (administrator).",
                as_="p",
                size="4",
            ),
            rx.cond(
                AdminHomeState.error != "", rx.callout(AdminHomeState.error, icon="circle-alert", color_scheme="red")
            ),
            rx.grid(
                stat("Students", AdminHomeState.students, id="admin-students"),
                stat("Upcoming bookings", AdminHomeState.upcoming_count, id="admin-upcoming"),
                stat("Lessons recorded", AdminHomeState.lessons, id="admin-lessons"),
                stat("Payments", AdminHomeState.payments, id="admin-payments"),
                columns=rx.breakpoints(initial="2", md="4"),
                gap="1rem",
                width="100%",
            ),
            panel(
                "Next bookings",
                "next-bookings",
                booking_list(AdminHomeState.upcoming, show_student=True, manage=True, empty="Nothing booked."),
            ),
            panel(
                "Messages",
                "messages",
                rx.text(
                    rx.text(AdminHomeState.messages_waiting, as_="span", weight="bold", id="admin-messages-waiting"),
                    " waiting to send, ",
                    rx.text(
                        AdminHomeState.messages_failed,
                        as_="span",
                        weight="bold",
                        id="admin-messages-failed",
                        color=rx.cond(AdminHomeState.messages_failed != "0", rx.color("red", 11), "inherit"),
                    ),
                    " failed.",
                    as_="p",
                    size="3",
                    margin_bottom="0.75rem",
                ),
                rx.flex(
                    button_link(
                        "Open the outbox",
                        "/admin/outbox",
                        icon="send",
                        variant="soft",
                        size="2",
                        id="admin-outbox-link",
                    ),
                    rx.cond(
                        AdminHomeState.mailbox,
                        button_link(
                            "Offline mailbox",
                            "/admin/mailbox",
                            icon="inbox",
                            variant="soft",
                            size="2",
                            id="admin-mailbox-link",
                        ),
                    ),
                    gap="0.5rem",
                    wrap="wrap",
                ),
            ),
            extra_actions=(
                button_link(
                    "Payments and refunds",
                    "/admin/payments",
                    icon="receipt",
                    variant="soft",
                    size="2",
                    id="admin-payments-link",
                ),
                button_link(
                    "Lesson packages",
                    "/admin/packages",
                    icon="package",
                    variant="soft",
                    size="2",
                    id="admin-packages-link",
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
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), AdminHomeState.load]
