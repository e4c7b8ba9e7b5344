"""The bell in the signed-in header: the unread count and the latest notifications.

Cross-cutting (it sits in every page's header), so it lives beside the auth
state. The count is loaded by an async handler that every page runs on load
(``pages.register_pages`` appends :meth:`InboxState.refresh`); the latest
notices load when the bell is opened. Everything goes through
``services.inbox`` as the signed-in user, so the bell only ever shows the
person's own notices.
"""
from __future__ import annotations

import dataclasses
import logging

import reflex as rx
from sqlalchemy.exc import SQLAlchemyError

from nexdrive.services.messaging import inbox
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import run_as_actor

logger = logging.getLogger("nexdrive.inbox")
BELL_ITEMS = 6


@dataclasses.dataclass
class NoticeRow:
    id: str = ""
    subject: str = ""
    body: str = ""
    when: str = ""
    read: bool = False
    link: str = ""


def notice_rows(items: list[dict]) -> list[NoticeRow]:
    return [NoticeRow(id=i["id"], subject=i["subject"] or "Notice", body=i["body"], when=i["when"],
                      read=bool(i["read"]), link=i["link"] or "") for i in items]


def count_label(unread: int) -> str:
    """What a screen reader hears for the bell."""
    if unread <= 0:
        return "Notifications, none unread"
    return f"Notifications, {unread} unread"


class InboxState(rx.State):
    active: bool = False  # signed in (the bell shows only then)
    unread: int = 0
    items: list[NoticeRow] = []
    loading: bool = False
    error: str = ""

    @rx.var
    def bell_label(self) -> str:
        return count_label(self.unread)

    @rx.var
    def badge_text(self) -> str:
        return "99+" if self.unread > 99 else str(self.unread)

    def _signed_out(self) -> None:
        self.active = False
        self.unread = 0
        self.items = []

    @rx.event
    async def refresh(self):
        """on_load of every page: is someone signed in, and how many notices are unread."""
        try:
            self.unread = await run_as_actor(self, inbox.unread_count)
            self.active = True
        except AuthRequired:
            self._signed_out()
        except (ServiceError, SQLAlchemyError):  # the bell must never break the page it sits on
            logger.exception("could not load the unread count")

    async def _load_items(self):
        def work(session, actor):
            return (inbox.list_notifications(session, actor, limit=BELL_ITEMS)["items"],
                    inbox.unread_count(session, actor))
        items, self.unread = await run_as_actor(self, work)
        self.items = notice_rows(items)

    @rx.event
    async def opened(self, is_open: bool):
        if not is_open:
            return
        self.loading = True
        self.error = ""
        yield
        try:
            await self._load_items()
        except AuthRequired:
            self._signed_out()
        except ServiceError as exc:
            self.error = exc.message
        self.loading = False

    @rx.event
    async def mark_read(self, notification_id: str):
        self.error = ""
        try:
            await run_as_actor(self, lambda s, a: inbox.mark_read(s, a, notification_id))
            await self._load_items()
        except AuthRequired:
            self._signed_out()
        except ServiceError as exc:
            self.error = exc.message

    @rx.event
    async def mark_all_read(self):
        self.error = ""
        try:
            await run_as_actor(self, inbox.mark_all_read)
            await self._load_items()
        except AuthRequired:
            self._signed_out()
        except ServiceError as exc:
            self.error = exc.message
