"""``/admin/inbox``: the owner's inbox — every conversation with the public (web chat, SMS, phone), the ones
waiting for a person first; open one (``?c=<id>``) to read it and reply by SMS or email; the call log with
transcripts and the callback queue ("Called back" closes one). Rules: ``services.ai.owner_inbox``.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.admin.views.inbox_views import calls_panel, callbacks_panel, conversation_list, thread_view
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.ai import owner_inbox
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/inbox"
TITLE = "Inbox | NexDrive Academy admin"
DESCRIPTION = "Every conversation with NexDrive Academy by web chat, SMS and phone; replies, calls and callbacks."
TABS = ("conversations", "calls", "callbacks")


def _flat(d: dict) -> dict[str, str]:
    """Plain strings for the page (booleans as '1' / '')."""
    return {k: ("1" if v else "") if isinstance(v, bool) else str(v) for k, v in d.items()
            if not isinstance(v, (list, dict))}


class OwnerInboxState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    tab: str = "conversations"
    channel: str = ""
    show_closed: bool = False
    items: list[dict[str, str]] = []
    total: int = 0
    waiting: int = 0
    conversation_id: str = ""
    conv: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    calls: list[dict[str, str]] = []
    callbacks: list[dict[str, str]] = []
    reply_error: str = ""
    busy: bool = False
    form_key: int = 0

    async def _fetch(self):
        channel, closed, cid = self.channel, self.show_closed, self.conversation_id

        def work(session, actor):
            found = owner_inbox.list_conversations(session, actor, channel=channel, include_closed=closed)
            one = owner_inbox.get_conversation(session, actor, cid) if cid else None
            return found, one, owner_inbox.list_calls(session, actor), owner_inbox.callback_queue(session, actor)
        try:
            found, one, calls, queue = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.items, self.total, self.waiting = [_flat(i) for i in found["items"]], found["total"], found["waiting"]
        self.calls, self.callbacks = [_flat(c) for c in calls], [_flat(c) for c in queue]
        if one is not None:
            self.conv = _flat(one)
            self.messages = [_flat(m) for m in one["messages"]]
        else:
            self.conv, self.messages = {}, []

    @rx.event
    async def load(self):
        query = self.router.url.query_parameters
        self.loaded, self.notice, self.reply_error, self.busy = False, "", "", False
        self.conversation_id = (query.get("c") or "")[:64]
        tab = query.get("tab") or "conversations"
        self.tab = tab if tab in TABS else "conversations"
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    def set_tab(self, value: str | list[str]):
        self.tab = value if value in TABS else "conversations"

    @rx.event
    async def filter(self, form: dict):
        channel = form.get("channel") or ""
        self.channel = channel if channel in owner_inbox.CHANNEL_LABELS else ""
        self.show_closed = bool(form.get("closed"))
        await self._fetch()

    @rx.event
    async def send_reply(self, form: dict):
        cid, text, channel = self.conversation_id, form.get("reply") or "", form.get("reply_channel") or "sms"
        self.busy, self.reply_error, self.notice = True, "", ""
        yield
        try:
            sent = await run_as_actor(self, lambda s, a: owner_inbox.reply(s, a, cid, text=text, channel=channel))
        except AuthRequired:
            self.busy = False
            return
        except ServiceError as exc:
            self.busy, self.reply_error = False, exc.message
            return
        how = "SMS" if sent["channel"] == "sms" else "email"
        self.busy, self.notice = False, f"Reply queued by {how} to {sent['to_display']}."
        self.form_key += 1  # an empty reply box
        await self._fetch()

    @rx.event
    async def close(self):
        cid = self.conversation_id
        try:
            await run_as_actor(self, lambda s, a: owner_inbox.close_conversation(s, a, cid))
        except ServiceError as exc:
            self.error = exc.message
            return
        self.notice = "Conversation closed."
        await self._fetch()

    @rx.event
    async def called_back(self, call_id: str):
        try:
            done = await run_as_actor(self, lambda s, a: owner_inbox.mark_called_back(s, a, call_id))
        except ServiceError as exc:
            self.error = exc.message
            return
        self.notice = "Marked as called back." if done else "That callback was already closed."
        await self._fetch()


def inbox_page() -> rx.Component:
    st = OwnerInboxState
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Inbox", "Web chat, SMS and phone conversations. Those waiting for you come first."),
        message_box(st.error, id="inbox-error"),
        message_box(st.notice, tone="green", id="inbox-notice", icon="circle-check"),
        rx.cond(
            st.loaded,
            rx.cond(
                st.conversation_id != "",
                rx.cond(st.conv.contains("id"), thread_view(st),
                        rx.text("That conversation is not in the inbox.", id="inbox-missing")),
                rx.vstack(
                    rx.segmented_control.root(
                        rx.segmented_control.item("Messages", value="conversations"),
                        rx.segmented_control.item("Calls", value="calls"),
                        rx.segmented_control.item(rx.text("Callbacks (", st.callbacks.length(), ")", as_="span"),
                                                  value="callbacks"),
                        value=st.tab, on_change=st.set_tab, aria_label="Show", id="inbox-tabs", size="1",
                        width="100%", max_width="26rem"),
                    rx.match(st.tab,
                             ("calls", calls_panel(st)),
                             ("callbacks", callbacks_panel(st)),
                             conversation_list(st, ROUTE)),
                    spacing="4", width="100%"),
            ),
            rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
        ),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), OwnerInboxState.load]
