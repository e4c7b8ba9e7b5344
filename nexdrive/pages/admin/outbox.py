"""``/admin/outbox``: every SMS and email the school has queued, sent, failed or suppressed.

Administrators only (the route guard redirects others; ``services.outbox_admin``
refuses them). With the offline adapters this page is where messages end up, and
it says so. A failed message can be put back in the queue ("Retry").
"""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.adapters import adapter_status
from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.models.comms import OUTBOX_STATUSES
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.settings import get_settings
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/outbox"
TITLE = "Outbox | NexDrive Academy admin"
DESCRIPTION = "Messages NexDrive Academy has queued, sent or failed to send."
PAGE_SIZE = 30
STATUS_COLOURS = {"pending": "amber", "sending": "blue", "sent": "green", "failed": "red", "suppressed": "gray"}
STATUS_OPTIONS = [("", "Any status")] + [(s, outbox_admin.STATUS_LABELS[s]) for s in OUTBOX_STATUSES]
CHANNEL_OPTIONS = [("", "Any channel"), ("sms", "SMS"), ("email", "Email"), ("in_app", "In-app")]


@dataclasses.dataclass
class OutboxRow:
    id: str = ""
    when: str = ""
    channel: str = ""
    channel_label: str = ""
    recipient: str = ""
    recipient_display: str = ""
    template: str = ""
    subject: str = ""
    preview: str = ""
    status: str = ""
    status_label: str = ""
    colour: str = "gray"
    attempts: int = 0
    last_error: str = ""
    provider_message_id: str = ""
    next_attempt: str = ""
    sent: str = ""
    delivered: str = ""
    booking_id: str = ""
    can_retry: bool = False
    body: str = ""
    idempotency_key: str = ""


@dataclasses.dataclass
class StatusCount:
    status: str = ""
    label: str = ""
    count: int = 0
    colour: str = "gray"


def _row(m: dict) -> OutboxRow:
    fields = {f.name for f in dataclasses.fields(OutboxRow)}
    data = {k: ("" if v is None else v) for k, v in m.items() if k in fields}
    return OutboxRow(**data, colour=STATUS_COLOURS.get(m["status"], "gray"))


def offline_note() -> str:
    """The label the page shows when SMS or email run on the offline adapters."""
    ports = adapter_status(get_settings())
    offline = [name for port, name in (("sms", "SMS"), ("email", "email")) if ports[port]["mode"] == "offline"]
    if not offline:
        return ""
    which = "" if len(offline) == 2 else f" ({offline[0]} only)"
    return f"Offline mode: messages are stored here, not sent{which}."


class OutboxState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    offline: str = ""
    status_filter: str = ""
    channel_filter: str = ""
    search: str = ""
    counts: list[StatusCount] = []
    items: list[OutboxRow] = []
    next_cursor: str = ""
    loading: bool = False
    detail: OutboxRow = OutboxRow()
    detail_open: bool = False
    detail_error: str = ""
    retrying: bool = False

    async def _fetch(self, cursor: str | None = None) -> None:
        status, channel, search = self.status_filter or None, self.channel_filter or None, self.search or None

        def work(session, actor):
            page = outbox_admin.list_outbox(session, actor, status=status, channel=channel, search=search,
                                            limit=PAGE_SIZE, cursor=cursor)
            return page, outbox_admin.outbox_counts(session, actor)

        page, counts = await run_as_actor(self, work)
        rows = [_row(m) for m in page["items"]]
        self.items = (self.items + rows) if cursor else rows
        self.next_cursor = page["next_cursor"] or ""
        self.counts = [StatusCount(s, outbox_admin.STATUS_LABELS[s], counts[s], STATUS_COLOURS[s])
                       for s in OUTBOX_STATUSES]

    async def _run(self, cursor: str | None = None) -> None:
        self.error = ""
        try:
            await self._fetch(cursor)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message

    @rx.event
    async def load(self):
        self.loaded = False
        self.notice = ""
        self.detail_open = False
        self.offline = offline_note()
        params = self.router.url.query_parameters
        self.search = (params.get("recipient") or "").strip()
        status = params.get("status") or ""
        self.status_filter = status if status in OUTBOX_STATUSES else ""
        self.channel_filter = ""
        await self._run()
        self.loaded = True

    @rx.event
    async def apply_filters(self, form_data: dict):
        self.status_filter = form_data.get("status") or ""
        self.channel_filter = form_data.get("channel") or ""
        self.search = (form_data.get("search") or "").strip()
        self.notice = ""
        self.loading = True
        yield
        await self._run()
        self.loading = False

    @rx.event
    async def filter_status(self, status: str):
        """The count chips at the top filter by their status (again: show everything)."""
        self.status_filter = "" if self.status_filter == status else status
        self.notice = ""
        await self._run()

    @rx.event
    async def clear_filters(self):
        self.status_filter = self.channel_filter = self.search = ""
        self.notice = ""
        await self._run()

    @rx.event
    async def load_more(self):
        if not self.next_cursor:
            return
        self.loading = True
        yield
        await self._run(self.next_cursor)
        self.loading = False

    @rx.event
    async def open_detail(self, message_id: str):
        self.detail_error = ""
        try:
            m = await run_as_actor(self, lambda s, a: outbox_admin.get_outbox_message(s, a, message_id))
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.detail = _row(m)
        self.detail_open = True

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)

    @rx.event
    async def retry(self, message_id: str):
        self.detail_error = self.notice = ""
        self.retrying = True
        yield
        try:
            m = await run_as_actor(self, lambda s, a: outbox_admin.retry_outbox_message(s, a, message_id))
        except AuthRequired:
            self.retrying = False
            return
        except ServiceError as exc:
            self.retrying = False
            if self.detail_open:
                self.detail_error = exc.message
            else:
                self.error = exc.message
            return
        if self.detail.id == message_id:
            self.detail = _row(m)
        self.notice = f"The {m['channel_label']} to {m['recipient_display']} is queued again."
        await self._run()
        self.retrying = False


# ─────────────────────────────────────────────────────────────────────────────
# UI
# ─────────────────────────────────────────────────────────────────────────────

def _select(label: str, id: str, name: str, options, value: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"),
        rx.el.select(*[rx.el.option(text, value=v) for v, text in options], id=id, name=name,
                     default_value=value, key=value,
                     style={"padding": "0.5rem", "border-radius": "8px", "width": "100%", "height": "2.5rem",
                            "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)}),
        spacing="1", width="100%",
    )


_FULL_ROW_ON_PHONES = rx.breakpoints(initial="1 / -1", md="auto")


def _filters() -> rx.Component:
    return rx.form(
        rx.grid(
            _select("Status", "ob-status", "status", STATUS_OPTIONS, OutboxState.status_filter),
            _select("Channel", "ob-channel", "channel", CHANNEL_OPTIONS, OutboxState.channel_filter),
            rx.vstack(
                rx.el.label("Recipient", html_for="ob-search", font_weight="600", font_size="var(--font-size-2)"),
                rx.input(id="ob-search", name="search", placeholder="Mobile or email", default_value=OutboxState.search,
                         key=OutboxState.search, size="3", width="100%", type="search", auto_complete="off"),
                spacing="1", width="100%", grid_column=_FULL_ROW_ON_PHONES,
            ),
            rx.flex(
                rx.button("Filter", type="submit", size="3", id="ob-apply", loading=OutboxState.loading),
                rx.button("Clear", type="button", size="3", variant="soft", color_scheme="gray",
                          on_click=OutboxState.clear_filters, id="ob-clear"),
                gap="0.5rem", align="end", grid_column=_FULL_ROW_ON_PHONES,
            ),
            columns=rx.breakpoints(initial="2", md="4"),
            gap="0.75rem",
            width="100%",
            align_items="end",
        ),
        on_submit=OutboxState.apply_filters,
        reset_on_submit=False,
        width="100%",
        aria_label="Filter messages",
    )


def _count_chip(c: StatusCount) -> rx.Component:
    return rx.button(
        rx.text(c.count, weight="bold", size="4"),
        rx.text(c.label, size="2"),
        variant=rx.cond(OutboxState.status_filter == c.status, "solid", "soft"),
        color_scheme=c.colour,
        high_contrast=OutboxState.status_filter != c.status,  # soft chips: darkest text, 4.5:1 on their tint
        size="3",
        on_click=OutboxState.filter_status(c.status),
        aria_pressed=rx.cond(OutboxState.status_filter == c.status, "true", "false"),
        id="count-" + c.status,
        justify_content="start",
        width="100%",
    )


def _message_card(row: OutboxRow) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.flex(
                rx.badge(row.status_label, color_scheme=row.colour, variant="soft", size="2", class_name="ob-status"),
                rx.badge(row.channel_label, variant="outline", color_scheme="gray"),
                rx.text(row.template, as_="span", size="1", color=rx.color("gray", 11), font_family="monospace",
                        overflow_wrap="anywhere"),
                gap="0.5rem", align="center", wrap="wrap",
            ),
            rx.text(row.when, as_="span", size="1", color=rx.color("gray", 11)),
            justify="between", align="center", wrap="wrap", gap="0.5rem", width="100%",
        ),
        rx.text("To ", rx.text(row.recipient_display, as_="span", weight="bold"), as_="p", size="2",
                overflow_wrap="anywhere", class_name="ob-recipient"),
        rx.cond(row.subject != "", rx.text(row.subject, as_="p", size="2", weight="medium")),
        rx.text(row.preview, as_="p", size="2", color=rx.color("gray", 11), overflow_wrap="anywhere"),
        rx.cond(row.last_error != "",
                rx.text("Last error: ", row.last_error, as_="p", size="1", color=rx.color("red", 11),
                        overflow_wrap="anywhere")),
        rx.flex(
            rx.text(
                "Attempts: ", row.attempts.to_string(),
                rx.cond(row.sent != "", rx.fragment(" \u00b7 Sent ", row.sent)),
                rx.cond(row.next_attempt != "", rx.fragment(" \u00b7 Next try ", row.next_attempt)),
                as_="span", size="1", color=rx.color("gray", 11),
            ),
            rx.flex(
                rx.cond(row.can_retry,
                        rx.button("Retry", size="2", color_scheme="red", variant="soft",
                                  on_click=OutboxState.retry(row.id), disabled=OutboxState.retrying,
                                  aria_label="Retry the " + row.channel_label + " to " + row.recipient_display,
                                  class_name="ob-retry")),
                rx.button("View", size="2", variant="outline", on_click=OutboxState.open_detail(row.id),
                          aria_label="View the " + row.channel_label + " to " + row.recipient_display,
                          class_name="ob-view"),
                gap="0.5rem",
            ),
            justify="between", align="center", wrap="wrap", gap="0.5rem", width="100%",
        ),
        display="flex", flex_direction="column", gap="0.375rem",
        list_style="none",
        padding="0.875rem 1rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="ob-message",
        data_id=row.id,
        data_channel=row.channel,
        data_template=row.template,
    )


def _fact(label: str, value: rx.Var) -> rx.Component:
    return rx.cond(
        value != "",
        rx.fragment(
            rx.el.dt(label, font_weight="600", font_size="var(--font-size-2)", color=rx.color("gray", 11)),
            rx.el.dd(value, margin="0", font_size="var(--font-size-2)", overflow_wrap="anywhere"),
        ),
    )


def _detail_dialog() -> rx.Component:
    d = OutboxState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.flex(
                rx.dialog.title(rx.cond(d.subject != "", d.subject, d.channel_label + " message"), margin="0",
                                size="5"),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=18, aria_hidden="true"), variant="ghost",
                                               color_scheme="gray", aria_label="Close")),
                justify="between", align="start", gap="1rem",
            ),
            rx.dialog.description(
                rx.badge(d.status_label, color_scheme=d.colour, variant="soft", size="2"),
                " ", d.channel_label, " to ", d.recipient,
                size="2", margin_y="0.5rem",
            ),
            rx.el.dl(
                _fact("Template", d.template),
                _fact("Queued", d.when),
                _fact("Sent", d.sent),
                _fact("Delivered", d.delivered),
                _fact("Next try", d.next_attempt),
                _fact("Attempts", d.attempts.to_string()),
                _fact("Provider id", d.provider_message_id),
                _fact("Last error", d.last_error),
                _fact("Dedupe key", d.idempotency_key),
                display="grid", grid_template_columns="max-content 1fr", column_gap="1rem", row_gap="0.25rem",
                margin="0 0 0.75rem",
            ),
            rx.heading("Message", as_="h3", size="3", margin_bottom="0.375rem"),
            rx.box(
                d.body,
                white_space="pre-wrap",
                overflow_wrap="anywhere",
                font_size="var(--font-size-2)",
                padding="0.75rem",
                border_radius="var(--radius-3)",
                background=rx.color("gray", 2),
                border=f"1px solid {rx.color('gray', 5)}",
                max_height="50vh",
                overflow_y="auto",
                id="ob-detail-body",
            ),
            rx.cond(OutboxState.detail_error != "",
                    rx.callout(OutboxState.detail_error, icon="circle-alert", color_scheme="red", margin_top="0.75rem",
                               role="alert")),
            rx.flex(
                rx.cond(d.booking_id != "",
                        rx.link("Open the booking", href="/booking/manage?id=" + d.booking_id, size="2")),
                rx.spacer(),
                rx.cond(d.can_retry,
                        rx.button("Retry", color_scheme="red", on_click=OutboxState.retry(d.id),
                                  loading=OutboxState.retrying, id="ob-detail-retry")),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                gap="0.75rem", align="center", margin_top="1rem", wrap="wrap",
            ),
            max_width="40rem",
            id="ob-detail",
        ),
        open=OutboxState.detail_open,
        on_open_change=OutboxState.set_detail_open,
    )


def outbox_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                rx.flex(
                    page_title("Outbox", "Every SMS and email NexDrive Academy has queued, sent or failed to send."),
                    rx.link("\u2190 Admin dashboard", href="/admin", size="2"),
                    justify="between",
                    align="start",
                    wrap="wrap",
                    gap="0.5rem",
                    width="100%",
                ),
                rx.cond(
                    OutboxState.loaded,
                    rx.vstack(
                        rx.cond(
                            OutboxState.offline != "",
                            rx.callout(
                                OutboxState.offline,
                                icon="plug-zap",
                                color_scheme="amber",
                                id="offline-mode",
                                high_contrast=True,
                                width="100%",
                            ),
                        ),
                        rx.cond(
                            OutboxState.offline != "",
                            rx.link(
                                "Read them whole, links included, in the mailbox →",
                                href="/admin/mailbox",
                                size="2",
                                id="outbox-mailbox-link",
                            ),
                        ),
                        rx.grid(
                            rx.foreach(OutboxState.counts, _count_chip),
                            columns=rx.breakpoints(initial="2", sm="3", md="5"),
                            gap="0.5rem",
                            width="100%",
                            id="outbox-counts",
                            role="group",
                            aria_label="Messages by status",
                        ),
                        _filters(),
                        message_box(OutboxState.error),
                        message_box(OutboxState.notice, tone="green", icon="check", id="outbox-notice"),
                        rx.cond(
                            OutboxState.items.length() > 0,
                            rx.card(
                                rx.el.ul(
                                    rx.foreach(OutboxState.items, _message_card),
                                    margin="0",
                                    padding="0",
                                    id="outbox-list",
                                ),
                                size="1",
                                padding="0",
                                width="100%",
                                overflow="hidden",
                            ),
                            rx.text(
                                "No messages match.", as_="p", size="3", color=rx.color("gray", 11), id="outbox-empty"
                            ),
                        ),
                        rx.cond(
                            OutboxState.next_cursor != "",
                            rx.button(
                                "Show older messages",
                                variant="outline",
                                on_click=OutboxState.load_more,
                                loading=OutboxState.loading,
                                id="ob-more",
                            ),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                _detail_dialog(),
                spacing="5",
                width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), OutboxState.load]
