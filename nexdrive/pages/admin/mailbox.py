"""``/admin/mailbox``: the offline mailbox, a development mail catcher.

With no SMTP / Twilio credentials the app "sends" email and SMS through the offline
adapters; the messages stay here whole (in development, links included), so a
sign-in link or a password reset can be followed on a fresh machine. Administrators
only, and only while those adapters are offline (``services.outbox_admin`` refuses
otherwise; the route guard only redirects). ``?id=`` opens one message.
"""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.messaging import outbox_admin
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/mailbox"
TITLE = "Mailbox | NexDrive Academy admin"
DESCRIPTION = "Offline mode: the emails and SMS NexDrive Academy would have sent, kept whole."
PAGE_SIZE = 50


@dataclasses.dataclass
class Mail:
    id: str = ""
    channel: str = ""
    channel_label: str = ""
    recipient: str = ""  # the service's "to" (a Var has a .to() method)
    subject: str = ""
    when: str = ""
    status_label: str = ""
    redacted: bool = False


@dataclasses.dataclass
class Part:
    text: str = ""
    href: str = ""


def _mail(m: dict) -> Mail:
    data = {**m, "recipient": m.get("to", "")}
    return Mail(**{f.name: data.get(f.name, f.default) for f in dataclasses.fields(Mail)})


class MailboxState(rx.State):
    loaded: bool = False
    error: str = ""
    items: list[Mail] = []
    open: bool = False
    current: Mail = Mail()
    parts: list[Part] = []

    @rx.event
    async def load(self):
        self.loaded = self.open = False
        self.error = ""
        self.parts = []
        message_id = self.router.url.query_parameters.get("id", "")

        def work(session, actor):
            page = outbox_admin.list_mailbox(session, actor, limit=PAGE_SIZE)
            full = outbox_admin.get_mailbox_message(session, actor, message_id) if message_id else None
            return page, full

        try:
            page, full = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.items = []
            self.error = exc.message
            self.loaded = True
            return
        self.items = [_mail(m) for m in page["items"]]
        if full is not None:
            self.current = _mail(full)
            self.parts = [Part(p["text"], p["href"]) for p in full["parts"]]
            self.open = True
        self.loaded = True


def _row(m: Mail) -> rx.Component:
    return rx.el.li(
        rx.link(
            rx.text(m.subject, as_="span", size="3", weight="bold", overflow_wrap="anywhere",
                    class_name="mb-subject"),
            rx.flex(
                rx.badge(m.channel_label, variant="outline", color_scheme="gray"),
                rx.text("To ", m.recipient, as_="span", size="2", overflow_wrap="anywhere", class_name="mb-to"),
                gap="0.5rem", align="center", wrap="wrap",
            ),
            rx.text(m.when, " \u00b7 ", m.status_label, as_="span", size="1", color=rx.color("gray", 11)),
            href="/admin/mailbox?id=" + m.id,
            display="flex", flex_direction="column", gap="0.25rem",
            padding="0.875rem 1rem", color="inherit", underline="none",
        ),
        list_style="none",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="mb-message",
        data_id=m.id,
    )


def _part(p: Part) -> rx.Component:
    # underlined: a link inside the message's text must not rely on colour alone (axe link-in-text-block)
    return rx.cond(p.href != "", rx.link(p.text, href=p.href, underline="always", class_name="mb-link"),
                   rx.text(p.text, as_="span"))


def _reader() -> rx.Component:
    m = MailboxState.current
    return rx.vstack(
        rx.link("\u2190 All messages", href=ROUTE, size="2", id="mb-back"),
        rx.heading(m.subject, as_="h2", size="5", id="mb-open-subject", overflow_wrap="anywhere"),
        rx.text(m.channel_label, " to ", rx.text(m.recipient, as_="span", weight="bold"), " \u00b7 ", m.when,
                " \u00b7 ", m.status_label, as_="p", size="2", color=rx.color("gray", 11),
                overflow_wrap="anywhere"),
        rx.cond(m.redacted,
                rx.callout("Secret links were removed from this copy after it was sent.", icon="eye-off",
                           color_scheme="gray", size="1")),
        rx.box(
            rx.foreach(MailboxState.parts, _part),
            white_space="pre-wrap",
            overflow_wrap="anywhere",
            font_size="var(--font-size-3)",
            line_height="1.6",
            padding="1rem",
            border_radius="var(--radius-3)",
            background=rx.color("gray", 2),
            border=f"1px solid {rx.color('gray', 5)}",
            width="100%",
            id="mb-body",
        ),
        spacing="3",
        width="100%",
        id="mb-reader",
    )


def mailbox_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                rx.flex(
                    page_title("Mailbox", "Offline mode: the emails and SMS NexDrive Academy would have sent. "
                               "Nothing left this computer; open a message to read it whole and follow its links."),
                    rx.link("\u2190 Admin dashboard", href="/admin", size="2"),
                    justify="between", align="start", wrap="wrap", gap="0.5rem", width="100%",
                ),
                rx.cond(
                    MailboxState.loaded,
                    rx.vstack(
                        message_box(MailboxState.error, id="mb-error"),
                        rx.cond(
                            MailboxState.open,
                            _reader(),
                            rx.cond(
                                MailboxState.items.length() > 0,
                                rx.card(rx.el.ul(rx.foreach(MailboxState.items, _row), margin="0", padding="0",
                                                 id="mb-list"),
                                        size="1", padding="0", width="100%", overflow="hidden"),
                                rx.cond(MailboxState.error == "",
                                        rx.text("No messages yet.", as_="p", size="3", color=rx.color("gray", 11),
                                                id="mb-empty")),
                            ),
                        ),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), MailboxState.load]
