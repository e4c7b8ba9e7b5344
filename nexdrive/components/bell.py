"""The notification bell in the signed-in header: an unread badge and a small list with "mark as read".

Shown only to a signed-in person (``InboxState.active``). The button's accessible
name carries the count ("Notifications, 3 unread"); the visible badge is
decorative. The list opens in a popover and links on to ``/notifications``.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.ui import phone_tap
from nexdrive.state.inbox import InboxState, NoticeRow

NOTIFICATIONS_ROUTE = "/notifications"


def unread_badge(count: rx.Var, text: rx.Var, **props) -> rx.Component:
    return rx.cond(
        count > 0,
        rx.box(
            text,
            aria_hidden="true",
            position="absolute",
            top="0",
            right="0",
            min_width="1.15rem",
            height="1.15rem",
            padding_x="0.25rem",
            border_radius="999px",
            background=rx.color("red", 11),
            color="white",
            font_size="0.7rem",
            font_weight="700",
            line_height="1.15rem",
            text_align="center",
            box_shadow=f"0 0 0 2px {rx.color('gray', 1)}",
            pointer_events="none",
            **props,
        ),
    )


def notice_item(row: NoticeRow, on_mark_read, *, compact: bool) -> rx.Component:
    """One notice: unread ones are tinted and bold, with "Mark as read"; booking notices link to the lesson."""
    return rx.el.li(
        rx.flex(
            rx.box(
                width="0.5rem",
                height="0.5rem",
                border_radius="999px",
                margin_top="0.45rem",
                flex_shrink="0",
                background=rx.cond(row.read, "transparent", rx.color("accent", 9)),
                aria_hidden="true",
            ),
            rx.vstack(
                rx.text(
                    rx.cond(row.read, rx.fragment(), rx.el.span("Unread: ", class_name="sr-only",
                                                                  style=_SR_ONLY)),
                    row.subject,
                    as_="p",
                    size="2",
                    weight=rx.cond(row.read, "regular", "bold"),
                    color=rx.color("gray", 12),
                ),
                rx.text(row.body, as_="p", size="1" if compact else "2",
                        color=rx.color("gray", 11),
                        style=({"display": "-webkit-box", "-webkit-line-clamp": "3", "-webkit-box-orient": "vertical",
                                "overflow": "hidden"} if compact else {}),
                        overflow_wrap="anywhere"),
                rx.flex(
                    rx.text(row.when, as_="span", size="1", color=rx.color("gray", 10)),
                    rx.cond(
                        row.link != "",
                        rx.link("View lesson", href=row.link, size="1", weight="medium", class_name="notice-link",
                                display="inline-flex", align_items="center", **phone_tap()),
                    ),
                    rx.cond(
                        row.read,
                        rx.fragment(),
                        rx.button(
                            "Mark as read",
                            size="1",
                            variant="soft",
                            on_click=on_mark_read(row.id),
                            class_name="mark-read",
                            aria_label="Mark as read: " + row.subject,
                            **phone_tap(),
                        ),
                    ),
                    gap="0.75rem",
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                align="start",
                min_width="0",
                flex="1",
            ),
            gap="0.625rem",
            align="start",
        ),
        list_style="none",
        padding="0.625rem 0.75rem" if compact else "0.875rem 1rem",
        background=rx.cond(row.read, "transparent", rx.color("accent", 2)),
        border_left=rx.cond(row.read, "3px solid transparent", f"3px solid {rx.color('accent', 9)}"),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="notice-row",
        data_read=rx.cond(row.read, "true", "false"),
        data_id=row.id,
    )


_SR_ONLY = {"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden",
            "clip": "rect(0 0 0 0)", "white-space": "nowrap"}


def _bell_list() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.heading("Notifications", as_="h2", size="3"),
            rx.cond(
                InboxState.unread > 0,
                rx.button("Mark all as read", size="1", variant="ghost", on_click=InboxState.mark_all_read,
                          id="bell-mark-all", **phone_tap()),
            ),
            justify="between",
            align="center",
            width="100%",
            padding="0.75rem 0.75rem 0.5rem",
        ),
        rx.cond(InboxState.error != "",
                rx.text(InboxState.error, role="alert", size="2", color=rx.color("red", 11), padding_x="0.75rem")),
        rx.cond(
            InboxState.loading & (InboxState.items.length() == 0),
            rx.hstack(rx.spinner(size="2"), rx.text("Loading\u2026", size="2"), role="status", padding="0.75rem"),
            rx.cond(
                InboxState.items.length() > 0,
                rx.el.ul(
                    rx.foreach(InboxState.items, lambda row: notice_item(row, InboxState.mark_read, compact=True)),
                    margin="0",
                    padding="0",
                    width="100%",
                    max_height="min(24rem, 60vh)",
                    overflow_y="auto",
                    border_top=f"1px solid {rx.color('gray', 4)}",
                    id="bell-list",
                ),
                rx.text("No notifications yet.", as_="p", size="2", color=rx.color("gray", 11),
                        padding="0.75rem", id="bell-empty"),
            ),
        ),
        rx.box(
            rx.link("See all notifications", href=NOTIFICATIONS_ROUTE, size="2", weight="medium",
                    id="bell-see-all", display="inline-flex", align_items="center", **phone_tap()),
            padding="0.625rem 0.75rem",
            width="100%",
        ),
        spacing="0",
        width="100%",
        align="stretch",
    )


def notification_bell() -> rx.Component:
    """The bell button with its popover; nothing at all when signed out."""
    return rx.cond(
        InboxState.active,
        rx.popover.root(
            rx.popover.trigger(
                rx.icon_button(
                    rx.icon("bell", size=22, aria_hidden="true"),
                    unread_badge(InboxState.unread, InboxState.badge_text, id="bell-count"),
                    variant="ghost",
                    size="3",
                    color_scheme="gray",
                    position="relative",
                    aria_label=InboxState.bell_label,
                    title=InboxState.bell_label,
                    id="notification-bell",
                    **phone_tap(),
                ),
            ),
            rx.popover.content(
                _bell_list(),
                side="bottom",
                align="end",
                collision_padding=12,
                padding="0",
                width="min(24rem, calc(100vw - 1.5rem))",
                id="bell-popover",
                aria_label="Notifications",
            ),
            on_open_change=InboxState.opened,
        ),
    )
