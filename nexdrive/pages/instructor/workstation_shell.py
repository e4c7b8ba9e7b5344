"""Shared pieces of the instructor's workstation pages (``/instructor`` and ``/instructor/lesson/new``).

The workstation must keep working in a parked car with no signal, so these pages are shells: the
browser script ``/workstation.js`` renders the day sheet and the lesson form from the copy of the week
kept on the phone (fetched from ``/api/v1/workstation/snapshot`` when online), keeps recorded lessons in
an outbox (IndexedDB) and sends them when the connection returns. Reflex events are not used for any of
this: they wait for the websocket and are lost on a silent drop (see the offline notes).
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.signature_pad import js_call

SCRIPT_SRC = "/workstation.js"

STYLE = """
.ws-btn{min-height:44px;min-width:44px;padding:0 14px;border-radius:8px;border:1px solid var(--gray-7);
 background:var(--gray-2);color:var(--gray-12);font-size:16px;font-weight:600;cursor:pointer}
.ws-btn[aria-pressed=true]{background:var(--accent-9);color:white;border-color:var(--accent-9)}
.ws-btn.primary{background:var(--accent-9);color:white;border-color:var(--accent-9)}
.ws-btn:disabled{opacity:.45;cursor:not-allowed}
.ws-card{border:1px solid var(--gray-5);border-radius:12px;padding:12px;margin:0 0 12px;
 background:var(--color-panel-solid)}
.ws-card.next{border:2px solid var(--accent-9)}
.ws-row{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.ws-muted{color:var(--gray-11);font-size:14px}
.ws-task{border-top:1px solid var(--gray-4);padding:8px 0}
.ws-task .ws-btn{flex:1}
.ws-lock{color:var(--amber-12);font-size:13px}
.ws-field{display:flex;flex-direction:column;gap:4px;margin:0 0 10px}
.ws-field input,.ws-field textarea{font-size:16px;min-height:44px;padding:8px;border:1px solid var(--gray-7);
 border-radius:8px}
.ws-field label{font-weight:600}
.ws-banner{border-radius:10px;padding:10px;margin:0 0 12px;background:var(--amber-3);border:1px solid var(--amber-7)}
.ws-error{color:var(--red-11)}
.ws-tabs{display:flex;gap:8px;margin:0 0 12px}
#ws-home .rt-Button,#ws-record .rt-Button{min-height:44px;height:auto}
.ws-learner-link{color:inherit;text-decoration:underline;text-underline-offset:3px}
.ws-tabs .ws-btn{flex:1}
#ws-record [data-step-panel]{display:none}
#ws-record[data-step=details] [data-step-panel=details],#ws-record:not([data-step]) [data-step-panel=details],
#ws-record[data-step=bridge] [data-step-panel=bridge],#ws-record[data-step=sign-i] [data-step-panel=sign-i],
#ws-record[data-step=sign-l] [data-step-panel=sign-l],#ws-record[data-step=done] [data-step-panel=done]{display:block}
"""


def style() -> rx.Component:
    return rx.el.style(STYLE)


def script() -> rx.Component:
    # async: React 19 hoists it into <head> and loads it on client-side navigation too.
    return rx.el.script(src=SCRIPT_SRC, custom_attrs={"async": True})


def outbox_banner() -> rx.Component:
    """'2 lessons not yet sent' with Send now; the script fills and shows it."""
    return rx.box(
        rx.box(id="ws-outbox-list"),
        rx.el.button("Send now", type="button", id="ws-send-now", class_name="ws-btn primary",
                     on_click=js_call("window.ws.syncNow()")),
        id="ws-outbox",
        class_name="ws-banner",
        role="status",
        display="none",
    )


def connection_note() -> rx.Component:
    return rx.text("", id="ws-connection", as_="p", class_name="ws-muted", aria_live="polite")
