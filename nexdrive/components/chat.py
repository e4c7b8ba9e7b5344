"""The chat button (C04) on every public page and portal: the assistant in a panel, usable on a phone.

Thin over ``nexdrive.services.ai.conversation``: each handler is async and runs the use case off the event
loop (``run_as_visitor_or_user``: a signed-in learner chats as themselves, anyone else as a visitor).
The state holds plain strings only: the thread, the latest reply's action buttons ("Book this time",
"See prices", "Confirm") and, when a visitor picks a time, the small details form.
"""
from __future__ import annotations

import uuid

import reflex as rx

from nexdrive.components.ui import phone_field, phone_tap
from nexdrive.errors import ServiceError
from nexdrive.services.ai import conversation
from nexdrive.services.core.actors import VISITOR
from nexdrive.state.auth import run_as_visitor_or_user

WELCOME = ("Hi! I'm the NexDrive Academy assistant. Ask me about lessons, prices, ACT learner licence rules or "
           "CBT&A, or ask for a lesson time.")


def _sources_text(sources: list[dict]) -> str:
    titles = list(dict.fromkeys(s.get("title", "") for s in sources if s.get("title")))
    return ("Sources: " + "; ".join(titles)) if titles else ""


def _actions(actions: list[dict]) -> list[dict[str, str]]:
    return [{"kind": str(a.get("kind", "")), "label": str(a.get("label", "")), "url": str(a.get("url", "")),
             "start_at": str(a.get("start_at", "")), "service_id": str(a.get("service_id", "")),
             "text": str(a.get("text", "")), "booking_id": str(a.get("booking_id", "")), "index": str(i)}
            for i, a in enumerate(actions)]


class ChatState(rx.State):
    """The visitor's chat: plain data only; the thread itself is kept in ``conversations``/``messages``."""

    chat_open: bool = False
    thread: list[dict[str, str]] = []  # {"who": "you" | "assistant", "text", "sources"}
    actions: list[dict[str, str]] = []  # buttons under the latest reply
    draft: str = ""
    busy: bool = False
    details_start: str = ""  # a time the visitor chose, waiting for their details
    details_service: str = ""
    details_error: str = ""
    _chat_id: str = ""

    def _chat(self) -> str:
        if not self._chat_id:
            self._chat_id = "web-" + uuid.uuid4().hex
        return self._chat_id

    @staticmethod
    def _caller(chat_id: str, actor) -> conversation.Caller:
        return conversation.Caller("web_chat", chat_id, actor=VISITOR if actor.is_visitor else actor,
                                   ip=actor.ip_address)

    def _show(self, reply: conversation.Reply) -> None:
        if reply.text:
            self.thread.append({"who": "assistant", "text": reply.text, "sources": _sources_text(reply.sources)})
        details = next((a for a in reply.actions if a.get("kind") == "details"), None)
        if details:
            self.details_start, self.details_service = details["start_at"], details["service_id"]
            self.actions = []
        else:
            self.actions = _actions(reply.actions)

    @rx.event
    def toggle(self):
        self.chat_open = not self.chat_open
        if self.chat_open and not self.thread:
            self.thread = [{"who": "assistant", "text": WELCOME, "sources": ""}]

    @rx.event
    def set_draft(self, value: str):
        self.draft = value[: conversation.MAX_MESSAGE + 1]

    async def _run(self, fn):
        self.busy = True
        yield
        try:
            reply = await run_as_visitor_or_user(self, fn)
        except ServiceError as exc:
            self.thread.append({"who": "assistant", "text": exc.message, "sources": ""})
        else:
            self._show(reply)
        finally:
            self.busy = False

    @rx.event
    async def send(self, form: dict | None = None):
        text = " ".join(((form or {}).get("message") or self.draft or "").split())
        if not text or self.busy:
            return
        self.draft = ""
        self.details_start = ""
        self.thread.append({"who": "you", "text": text, "sources": ""})
        chat_id = self._chat()
        async for update in self._run(lambda session, actor: conversation.handle_message(
                session, self._caller(chat_id, actor), text)):
            yield update

    @rx.event
    async def act(self, index: str):
        """A button under the latest reply."""
        try:
            action = self.actions[int(index)]
        except (ValueError, IndexError):
            return
        kind = action["kind"]
        if kind == "ask":
            async for update in self.send({"message": action["text"]}):
                yield update
            return
        if kind == "hold":
            self.thread.append({"who": "you", "text": action["label"], "sources": ""})
            start, service, chat_id = action["start_at"], action["service_id"], self._chat()
            async for update in self._run(lambda session, actor: conversation.hold_time(
                    session, self._caller(chat_id, actor), start, service)):
                yield update
            return
        if kind == "confirm":
            self.thread.append({"who": "you", "text": action["label"], "sources": ""})
            chat_id = self._chat()
            async for update in self._run(lambda session, actor: conversation.confirm_held(
                    session, self._caller(chat_id, actor))):
                yield update
            return
        if kind == "link" and action["url"]:
            yield rx.redirect(action["url"])

    @rx.event
    async def submit_details(self, form: dict):
        details = {k: " ".join(str(form.get(k) or "").split()) for k in
                   ("name", "email", "phone", "pickup_address", "suburb")}
        if any(not v for v in details.values()):
            self.details_error = "Please fill in every field."
            return
        self.details_error = ""
        start, service, chat_id = self.details_start, self.details_service, self._chat()
        self.details_start = ""
        async for update in self._run(lambda session, actor: conversation.hold_time(
                session, self._caller(chat_id, actor), start, service, details=details)):
            yield update


def _bubble(item: rx.Var) -> rx.Component:
    mine = item["who"] == "you"
    return rx.box(
        rx.text(item["text"], size="2", white_space="pre-wrap"),
        rx.cond(item["sources"] != "", rx.text(item["sources"], size="1", color=rx.color("gray", 10),
                                                margin_top="0.25rem")),
        align_self=rx.cond(mine, "flex-end", "flex-start"),
        background=rx.cond(mine, rx.color("accent", 4), rx.color("gray", 3)),
        border_radius="12px",
        padding="0.5rem 0.75rem",
        max_width="85%",
        class_name="chat-message",
    )


def _action_button(action: rx.Var) -> rx.Component:
    return rx.button(action["label"], on_click=ChatState.act(action["index"]), size="2", variant="soft",
                     class_name="chat-action", id="chat-action-" + action["index"], disabled=ChatState.busy,
                     **phone_tap())


def _field(name: str, label: str, kind: str = "text", autocomplete: str = "") -> rx.Component:
    return rx.el.label(
        rx.text(label, size="1"),
        rx.input(name=name, id=f"chat-{name}", type=kind, auto_complete=autocomplete or None, required=True,
                 size="2", width="100%", **phone_field()),
        display="block", width="100%",
    )


def _details_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Your details to hold this time", size="2", weight="medium"),
            _field("name", "Name", autocomplete="name"),
            _field("email", "Email", "email", "email"),
            _field("phone", "Mobile", "tel", "tel"),
            _field("pickup_address", "Pick-up address", autocomplete="street-address"),
            _field("suburb", "Suburb"),
            rx.cond(ChatState.details_error != "", rx.text(ChatState.details_error, color=rx.color("red", 11),
                                                           size="1", role="alert")),
            rx.button("Hold this time", type="submit", id="chat-hold", loading=ChatState.busy, width="100%",
                      **phone_tap()),
            spacing="2", width="100%",
        ),
        on_submit=ChatState.submit_details,
        reset_on_submit=False,
        width="100%",
    )


def chat_panel() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text("Ask NexDrive Academy", weight="bold", size="3", id="chat-title"),
            rx.spacer(),
            rx.icon_button(rx.icon("x"), on_click=ChatState.toggle, variant="ghost", aria_label="Close the chat",
                           id="chat-close", **phone_tap()),
            width="100%", align="center",
        ),
        rx.vstack(
            rx.foreach(ChatState.thread, _bubble),
            rx.cond(ChatState.busy, rx.text("…", size="2", color=rx.color("gray", 10))),
            rx.flex(rx.foreach(ChatState.actions, _action_button), wrap="wrap", gap="0.5rem"),
            rx.cond(ChatState.details_start != "", _details_form()),
            spacing="2", width="100%", overflow_y="auto", flex="1", padding_y="0.5rem", id="chat-thread",
            aria_live="polite", role="log",
        ),
        rx.form(
            rx.hstack(
                rx.input(name="message", value=ChatState.draft, on_change=ChatState.set_draft,
                         placeholder="Type your question…", max_length=conversation.MAX_MESSAGE, id="chat-input",
                         aria_label="Your message", auto_complete="off", flex="1", size="3", **phone_field()),
                rx.button(rx.icon("send"), type="submit", aria_label="Send", id="chat-send", size="3",
                          disabled=ChatState.busy, **phone_tap()),
                width="100%",
            ),
            on_submit=ChatState.send,
            reset_on_submit=True,
            width="100%",
        ),
        display="flex", flex_direction="column", gap="0.5rem",
        position="fixed", bottom=rx.breakpoints(initial="0", sm="5.5rem"), right=rx.breakpoints(initial="0", sm="1rem"),
        width=rx.breakpoints(initial="100vw", sm="380px"), height=rx.breakpoints(initial="85dvh", sm="560px"),
        max_height="100dvh", padding="0.75rem", background=rx.color("gray", 1),
        border=f"1px solid {rx.color('gray', 6)}", border_radius=rx.breakpoints(initial="12px 12px 0 0", sm="12px"),
        box_shadow="0 8px 30px rgba(0,0,0,0.2)", z_index="1000", id="chat-panel", role="dialog",
        aria_labelledby="chat-title",
    )


def chat_widget() -> rx.Component:
    """The floating button and, when open, the panel."""
    return rx.fragment(
        rx.cond(ChatState.chat_open, chat_panel()),
        rx.cond(
            ~ChatState.chat_open,
            rx.button(rx.icon("message-circle"), rx.text("Chat", display=rx.breakpoints(initial="none", sm="inline")),
                      on_click=ChatState.toggle, id="chat-button", aria_label="Chat with us", size="3",
                      radius="full", position="fixed", bottom="1rem", right="1rem", z_index="999",
                      box_shadow="0 4px 14px rgba(0,0,0,0.25)", **phone_tap()),
        ),
    )
