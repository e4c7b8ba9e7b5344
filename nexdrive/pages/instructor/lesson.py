"""Record a lesson ``/instructor/lesson/new?booking=<id>`` (or ``?student=<id>`` with no booking).

One screen per step, made for a phone in portrait: the lesson (times and suburb prefilled, odometer
with the numeric keypad, competency chips grouped by stage with each task's status and why a locked
task is locked, taught / assessed / achieved one tap each, comments with quick phrases), then the
bridge form for the supervising driver (prefilled from the chosen tasks), then the instructor signs,
hands the phone over, the learner signs, and the done screen.

The form is drawn and kept by ``/workstation.js`` from the phone's copy of the week, so it works with
no signal; the finished lesson goes to the phone's outbox and is sent once, by its phone-made id. Every
rule is the compliance engine's: what it refuses is shown with its reason.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.signature_pad import js_call, signature_pad
from nexdrive.pages.instructor import workstation_shell as shell
from nexdrive.state.auth import require_role

ROUTE = f"{brand.ROUTE_INSTRUCTOR}/lesson/new"
TITLE = "Record a lesson | NexDrive Academy instructor"
DESCRIPTION = "Record a lesson, fill the bridge form and sign it with the learner, online or offline."


def _button(label: str, button_id: str, expr: str, *, primary: bool = True) -> rx.Component:
    return rx.el.button(label, type="button", id=button_id, class_name="ws-btn primary" if primary else "ws-btn",
                        on_click=js_call(expr), width="100%", margin_top="0.75rem")


def _step(name: str, *children: rx.Component) -> rx.Component:
    return rx.box(*children, custom_attrs={"data-step-panel": name}, width="100%")


def lesson_page() -> rx.Component:
    return layout(
        shell.style(),
        rx.box(
            rx.heading("Record a lesson", as_="h1", size="6", id="ws-record-title"),
            shell.connection_note(),
            rx.text("", id="ws-record-error", role="alert", as_="p", class_name="ws-error"),
            _step(
                "details",
                rx.box(rx.text("Loading the lesson\u2026", class_name="ws-muted"), id="ws-details"),
                _button("Next: bridge form", "ws-to-bridge", "window.ws.go('bridge')"),
            ),
            _step(
                "bridge",
                rx.box(id="ws-bridge"),
                _button("Next: instructor signs", "ws-to-sign-i", "window.ws.go('sign-i')"),
                _button("Back", "ws-back-details", "window.ws.go('details')", primary=False),
            ),
            _step(
                "sign-i",
                rx.box(id="ws-summary-i"),
                signature_pad("sig-instructor", signer_id="ws-signer-i", what_id="ws-what-i"),
                _button("Signed \u2014 hand the phone to the learner", "ws-to-sign-l", "window.ws.go('sign-l')"),
                _button("Back", "ws-back-bridge", "window.ws.go('bridge')", primary=False),
            ),
            _step(
                "sign-l",
                rx.box(id="ws-summary-l"),
                signature_pad("sig-learner", signer_id="ws-signer-l", what_id="ws-what-l"),
                _button("Sign and finish", "ws-finish", "window.ws.finish()"),
                _button("Back", "ws-back-sign-i", "window.ws.go('sign-i')", primary=False),
            ),
            _step("done", rx.box(id="ws-done")),
            id="ws-record",
            width="100%",
            max_width="40rem",
            margin="0 auto",
            padding="1rem 0.75rem 2rem",
        ),
        shell.script(),
        active=brand.ROUTE_INSTRUCTOR,
    )


ON_LOAD = [*require_role("instructor")]
