"""The signature pad: react-signature-canvas (npm, 1.0.7) wrapped for Reflex, sized for a phone held in
portrait, with the signer's name and what they are signing shown above it and a Clear button.

The pad works with no connection: nothing here is a Reflex event (events wait for the websocket, see
/work/shared/notes/offline-and-signatures.md). The browser script (``assets/workstation.js``) reads the
canvas at save time, refuses a blank pad before anything is sent (the server's engine refuses one too)
and clears it. Touch, pen and mouse all draw (the library listens to pointer events).
"""
from __future__ import annotations

import reflex as rx
from reflex.vars.function import FunctionStringVar

WIDTH, HEIGHT = 340, 200  # CSS pixels: fits a 390 px wide phone with the card's padding


class SignatureCanvas(rx.NoSSRComponent):
    """``react-signature-canvas`` (a CommonJS package: rendered in the browser only)."""

    library = "react-signature-canvas@1.0.7"
    tag = "SignatureCanvas"
    is_default = True

    canvas_props: rx.Var[dict]
    pen_color: rx.Var[str]
    min_width: rx.Var[float]
    max_width: rx.Var[float]
    clear_on_resize: rx.Var[bool]


def js_call(expr: str) -> FunctionStringVar:
    """An event trigger that calls the workstation script directly (works offline)."""
    return FunctionStringVar.create(f"((e) => {{ if (window.ws) {{ {expr}; }} }})")


def signature_pad(pad_id: str, *, signer_id: str, what_id: str, signer: str = "", what: str = "") -> rx.Component:
    """A pad with the signer's name (``signer_id``) and what they sign (``what_id``) above it; the script
    fills both from the lesson on the phone."""
    return rx.card(
        rx.vstack(
            rx.text("Signing: ", rx.el.strong(signer, id=signer_id), as_="p", size="4"),
            rx.text(what, id=what_id, as_="p", size="2", color=rx.color("gray", 11)),
            rx.box(
                SignatureCanvas.create(
                    id=pad_id,
                    pen_color="#111827",
                    min_width=1.2,
                    max_width=3.0,
                    clear_on_resize=False,
                    canvas_props={"width": WIDTH, "height": HEIGHT, "className": "ws-sig-canvas",
                                  "aria-label": "Signature pad: sign with your finger", "role": "img"},
                ),
                class_name="ws-sig-box",
                custom_attrs={"data-pad": pad_id},
                border=f"2px dashed {rx.color('gray', 8)}",
                border_radius="var(--radius-3)",
                background="white",
                width=f"{WIDTH + 4}px",
                max_width="100%",
                height=f"{HEIGHT + 4}px",
                overflow="hidden",
                style={"touchAction": "none"},
            ),
            rx.text("", id=f"{pad_id}-error", role="alert", size="2", color=rx.color("red", 11)),
            rx.button(rx.icon("eraser", size=18), "Clear", type="button", variant="soft", color_scheme="gray",
                      size="3", min_height="44px", id=f"{pad_id}-clear",
                      on_click=js_call(f"window.ws.clearPad('{pad_id}')")),
            spacing="2",
            align="start",
            width="100%",
        ),
        width="100%",
        class_name="ws-sig-card",
    )
