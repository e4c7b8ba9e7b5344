"""``/notifications``: everything in the signed-in person's inbox, newest first, unread highlighted.

Any signed-in role. Reads and marks go through ``services.inbox`` as that
person (their own notices only); after a mark the header bell is refreshed too.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.bell import NOTIFICATIONS_ROUTE, notice_item
from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.messaging import inbox
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor
from nexdrive.state.inbox import InboxState, NoticeRow, notice_rows

ROUTE = NOTIFICATIONS_ROUTE
TITLE = "Notifications | NexDrive Academy"
DESCRIPTION = "Your NexDrive Academy notifications: bookings, changes and reminders."
PAGE_SIZE = 20


class NotificationsState(rx.State):
    loaded: bool = False
    items: list[NoticeRow] = []
    unread: int = 0
    unread_only: bool = False
    next_cursor: str = ""
    loading_more: bool = False
    error: str = ""
    message: str = ""

    async def _fetch(self, cursor: str | None = None) -> None:
        unread_only = self.unread_only

        def work(session, actor):
            page = inbox.list_notifications(session, actor, unread_only=unread_only, limit=PAGE_SIZE,
                                            cursor=cursor)
            return page, inbox.unread_count(session, actor)

        page, self.unread = await run_as_actor(self, work)
        rows = notice_rows(page["items"])
        self.items = (self.items + rows) if cursor else rows
        self.next_cursor = page["next_cursor"] or ""

    @rx.event
    async def load(self):
        self.loaded = False
        self.error = self.message = ""
        try:
            await self._fetch()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
        self.loaded = True

    @rx.event
    async def load_more(self):
        if not self.next_cursor:
            return
        self.loading_more = True
        yield
        try:
            await self._fetch(self.next_cursor)
        except AuthRequired:
            pass
        except ServiceError as exc:
            self.error = exc.message
        self.loading_more = False

    @rx.event
    async def show_unread_only(self, value: bool):
        self.unread_only = bool(value)
        self.error = self.message = ""
        try:
            await self._fetch()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message

    async def _reload_shown(self) -> None:
        """Reload as many as are shown (so marking never loses the rows already paged in)."""
        shown, unread_only = max(PAGE_SIZE, len(self.items)), self.unread_only

        def work(session, actor):
            page = inbox.list_notifications(session, actor, unread_only=unread_only, limit=shown)
            return page, inbox.unread_count(session, actor)

        page, self.unread = await run_as_actor(self, work)
        self.items = notice_rows(page["items"])
        self.next_cursor = page["next_cursor"] or ""

    @rx.event
    async def mark_read(self, notification_id: str):
        self.error = self.message = ""
        try:
            await run_as_actor(self, lambda s, a: inbox.mark_read(s, a, notification_id))
            await self._reload_shown()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        return InboxState.refresh

    @rx.event
    async def mark_all_read(self):
        self.error = self.message = ""
        try:
            changed = await run_as_actor(self, inbox.mark_all_read)
            await self._reload_shown()
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.message = ("Marked 1 notification as read." if changed == 1
                        else f"Marked {changed} notifications as read.")
        return InboxState.refresh


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.text(
            rx.cond(NotificationsState.unread == 0, "Nothing unread.",
                    rx.cond(NotificationsState.unread == 1, "1 unread notification.",
                            NotificationsState.unread.to_string() + " unread notifications.")),
            as_="p", size="2", color=rx.color("gray", 11), id="unread-summary", role="status",
        ),
        rx.flex(
            rx.el.label(
                rx.checkbox(checked=NotificationsState.unread_only, on_change=NotificationsState.show_unread_only,
                            id="unread-only"),
                rx.text("Unread only", as_="span", size="2"),
                display="flex", align_items="center", gap="0.5rem", cursor="pointer",
            ),
            rx.button("Mark all as read", size="2", variant="soft", on_click=NotificationsState.mark_all_read,
                      disabled=NotificationsState.unread == 0, id="mark-all-read"),
            gap="1rem", align="center", wrap="wrap",
        ),
        justify="between", align="center", wrap="wrap", gap="0.75rem", width="100%",
    )


def notifications_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                page_title("Notifications", "Bookings, changes and reminders from NexDrive Academy."),
                rx.cond(
                    NotificationsState.loaded,
                    rx.vstack(
                        _toolbar(),
                        message_box(NotificationsState.error),
                        message_box(NotificationsState.message, tone="green", icon="check", id="notifications-notice"),
                        rx.cond(
                            NotificationsState.items.length() > 0,
                            rx.card(
                                rx.el.ul(
                                    rx.foreach(NotificationsState.items,
                                               lambda row: notice_item(row, NotificationsState.mark_read,
                                                                       compact=False)),
                                    margin="0", padding="0", width="100%", id="notifications-list",
                                ),
                                size="1", width="100%", padding="0", overflow="hidden",
                            ),
                            rx.text(rx.cond(NotificationsState.unread_only, "No unread notifications.",
                                            "No notifications yet. Booking confirmations and changes will "
                                            "appear here."),
                                    as_="p", size="3", color=rx.color("gray", 11), id="notifications-empty"),
                        ),
                        rx.cond(
                            NotificationsState.next_cursor != "",
                            rx.button("Show older notifications", variant="outline", size="2",
                                      on_click=NotificationsState.load_more, loading=NotificationsState.loading_more,
                                      id="load-more"),
                        ),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="5", width="100%", max_width="48rem",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role(), NotificationsState.load]
