"""The owner's inbox (``pages/admin/inbox.py``): the conversation list, one thread with the reply form, the call
log and the callback queue. ``st`` is the page's state class."""
from __future__ import annotations

import reflex as rx

from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import select_field

CHANNELS = [("web_chat", "Web chat"), ("sms", "SMS"), ("voice", "Phone")]


def _conversation_row(c: rx.Var, route: str) -> rx.Component:
    return rx.el.li(
        rx.link(
            rx.flex(
                rx.text(c["who"], as_="span", weight="bold", size="3", class_name="inbox-who"),
                rx.badge(c["channel_label"], variant="outline", color_scheme="gray"),
                rx.cond(c["waiting"] == "1", rx.badge("Needs a reply", color_scheme="red", class_name="inbox-waiting"),
                        rx.badge(c["status_label"], color_scheme="gray", variant="soft")),
                gap="0.5rem", align="center", wrap="wrap"),
            rx.cond(c["reason"] != "", rx.text(c["reason"], size="2", color=rx.color("red", 11))),
            rx.text(c["preview"], size="2", color=rx.color("gray", 11), overflow_wrap="anywhere"),
            rx.text(c["when"], " \u00b7 ", c["messages"], " messages", size="1", color=rx.color("gray", 10)),
            href=route + "?c=" + c["id"], display="flex", flex_direction="column", gap="0.25rem",
            padding="0.875rem 1rem", color="inherit", underline="none"),
        list_style="none", border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="inbox-conversation",
        data_id=c["id"], data_waiting=c["waiting"],
    )


def conversation_list(st, route: str) -> rx.Component:
    filters = rx.form(
        rx.flex(
            rx.box(select_field("Channel", id="channel", options=CHANNELS, first=("", "Every channel")),
                   min_width="12rem"),
            rx.el.label(rx.el.input(type="checkbox", name="closed", id="closed"), " Show closed",
                        html_for="closed", display="flex", gap="0.4rem", align_items="center"),
            rx.button("Show", type="submit", size="2", id="inbox-filter"),
            gap="1rem", align="end", wrap="wrap"),
        on_submit=st.filter, aria_label="Filter conversations", width="100%")
    return rx.vstack(
        filters,
        rx.text(rx.text(st.waiting, as_="span", weight="bold", id="inbox-waiting-count"),
                " waiting for a reply \u00b7 ", st.total, " conversations", size="2"),
        rx.cond(st.items.length() > 0,
                rx.card(rx.el.ul(rx.foreach(st.items, lambda c: _conversation_row(c, route)), margin="0",
                                 padding="0", id="inbox-list"),
                        size="1", padding="0", width="100%", overflow="hidden"),
                rx.text("No conversations yet.", id="inbox-empty", color=rx.color("gray", 11))),
        spacing="3", width="100%")


def _message(m: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(m["from_label"], " \u00b7 ", m["when"], size="1", color=rx.color("gray", 10)),
        rx.text(m["text"], size="2", white_space="pre-wrap", overflow_wrap="anywhere", class_name="inbox-text"),
        rx.cond(m["sources"] != "", rx.text("Sources: ", m["sources"], size="1", color=rx.color("gray", 10))),
        align_self=rx.cond(m["inbound"] == "1", "flex-start", "flex-end"),
        max_width="85%", padding="0.5rem 0.75rem", border_radius="var(--radius-3)",
        background=rx.cond(m["inbound"] == "1", rx.color("gray", 3),
                           rx.cond(m["from"] == "staff", rx.color("green", 3), rx.color("blue", 3))),
        class_name="inbox-message", data_from=m["from"],
    )


def _call_card(c: rx.Var, with_action: bool, st) -> rx.Component:
    return rx.card(rx.vstack(
        rx.flex(rx.text(c["who"], weight="bold"), rx.text(c["phone"], size="2"),
                rx.text(c["when"], size="2", color=rx.color("gray", 11)),
                rx.cond(c["duration"] != "", rx.badge(c["duration"], variant="soft")),
                rx.cond(c["resolution"] != "", rx.badge(c["resolution"], variant="outline")),
                rx.cond(c["callback"] == "1",
                        rx.cond(c["called_back"] == "1", rx.badge("Called back", color_scheme="green"),
                                rx.badge("Wants a call back", color_scheme="orange"))),
                gap="0.5rem", wrap="wrap", align="center"),
        rx.cond(c["reason"] != "", rx.text("Reason: ", c["reason"], size="2", overflow_wrap="anywhere")),
        rx.cond(c["summary"] != "", rx.text("Summary: ", c["summary"], size="2", overflow_wrap="anywhere")),
        rx.cond(c["transcript"] != "", rx.el.details(
            rx.el.summary("Transcript"),
            rx.text(c["transcript"], size="2", white_space="pre-wrap", overflow_wrap="anywhere",
                    class_name="call-transcript"))),
        rx.flex(
            rx.cond(c["conversation_id"] != "", rx.link("Open the conversation", href="/admin/inbox?c="
                                                        + c["conversation_id"], size="2")),
            *([rx.button("Called back", on_click=st.called_back(c["id"]), size="2", class_name="called-back")]
              if with_action else []),
            gap="1rem", align="center", wrap="wrap"),
        spacing="2", width="100%"), width="100%", class_name="call-card", data_id=c["id"])


def calls_panel(st) -> rx.Component:
    return rx.vstack(
        rx.cond(st.calls.length() > 0, rx.foreach(st.calls, lambda c: _call_card(c, False, st)),
                rx.text("No calls yet.", color=rx.color("gray", 11))),
        spacing="3", width="100%", id="inbox-calls")


def callbacks_panel(st) -> rx.Component:
    return rx.vstack(
        rx.cond(st.callbacks.length() > 0, rx.foreach(st.callbacks, lambda c: _call_card(c, True, st)),
                rx.text("Nobody is waiting for a call back.", color=rx.color("gray", 11), id="callbacks-empty")),
        spacing="3", width="100%", id="inbox-callbacks")


def _reply_form(st) -> rx.Component:
    c = st.conv
    return rx.form(
        rx.vstack(
            rx.el.label("Your reply", html_for="reply", font_weight="600"),
            rx.text_area(id="reply", name="reply", rows="4", width="100%", max_length=1000, required=True,
                         aria_describedby="reply-error"),
            rx.el.fieldset(
                rx.el.legend("Send by", font_weight="600", font_size="var(--font-size-2)"),
                rx.flex(
                    rx.el.label(rx.el.input(type="radio", name="reply_channel", value="sms", id="reply-sms",
                                            default_checked=c["phone"] != "", disabled=c["phone"] == ""),
                                " SMS to ", rx.cond(c["phone_display"] != "", c["phone_display"], "(no mobile)"),
                                html_for="reply-sms", display="flex", gap="0.4rem", align_items="center"),
                    rx.el.label(rx.el.input(type="radio", name="reply_channel", value="email", id="reply-email",
                                            default_checked=c["phone"] == "", disabled=c["email"] == ""),
                                " Email to ", rx.cond(c["email"] != "", c["email"], "(no email)"),
                                html_for="reply-email", display="flex", gap="0.4rem", align_items="center"),
                    gap="1.25rem", wrap="wrap"),
                border="none", padding="0", margin="0"),
            rx.text(st.reply_error, id="reply-error", role="alert", size="2", color=rx.color("red", 11),
                    display=rx.cond(st.reply_error != "", "block", "none")),
            rx.flex(
                rx.button(rx.cond(st.busy, "Sending\u2026", "Send reply"), type="submit", disabled=st.busy,
                          id="send-reply"),
                rx.button("Close conversation", type="button", variant="soft", color_scheme="gray",
                          on_click=st.close, id="close-conversation"),
                gap="0.75rem", wrap="wrap"),
            spacing="2", width="100%", align="stretch"),
        key=st.form_key.to_string(), on_submit=st.send_reply, reset_on_submit=False, aria_label="Reply",
        width="100%", id="reply-form")


def thread_view(st) -> rx.Component:
    c = st.conv
    return rx.vstack(
        rx.link("\u2190 All conversations", href="/admin/inbox", size="2", id="inbox-back"),
        rx.flex(
            rx.heading(c["who"], as_="h2", size="5", id="thread-who"),
            rx.badge(c["channel_label"], variant="outline"),
            rx.cond(c["waiting"] == "1", rx.badge("Needs a reply", color_scheme="red"),
                    rx.badge(c["status_label"], variant="soft", color_scheme="gray")),
            gap="0.5rem", align="center", wrap="wrap"),
        rx.cond(c["reason"] != "", rx.text(c["reason"], size="2", color=rx.color("red", 11), id="thread-reason")),
        rx.text("Started ", c["started"], size="1", color=rx.color("gray", 10)),
        rx.flex(rx.foreach(st.messages, _message), direction="column", gap="0.5rem", width="100%",
                id="thread-messages"),
        panel("Reply", "reply-panel", _reply_form(st)),
        spacing="3", width="100%", id="inbox-thread")
