"""The last step of ``/book``: the hold's summary, how to pay, a voucher; and a parent's learner picker."""
from __future__ import annotations

import reflex as rx

from nexdrive.components import brand

from nexdrive.pages.auth._forms import message_box
from nexdrive.pages.booking.book_state import BookingWidgetState
from nexdrive.state.policy import PolicyState


def _row(label: str, value) -> rx.Component:
    return rx.hstack(rx.text(label, color=rx.color("gray", 11), min_width="7rem"), rx.text(value, weight="medium"),
                     align="start", width="100%")


def _pay_option(value: str, title: str, description, icon: str, disabled=False) -> rx.Component:
    """One labelled radio card; the whole card is the label of its radio."""
    chosen = BookingWidgetState.pay_choice == value
    return rx.el.label(
        rx.hstack(
            rx.radio_group.item(value=value, id=f"pay-{value}", disabled=disabled, margin_top="0.2rem"),
            rx.icon(icon, size=20, color=rx.color("accent", 11), aria_hidden="true", flex_shrink="0"),
            rx.vstack(
                rx.text(title, weight="bold", size="3"),
                rx.text(description, size="2", color=rx.color("gray", 11)),
                spacing="0", align="start",
            ),
            spacing="3", align="start", width="100%",
        ),
        html_for=f"pay-{value}",
        id=f"pay-option-{value}",
        style={"display": "block", "padding": "0.85rem 1rem", "border-radius": "12px", "cursor": "pointer",
               "border": rx.cond(chosen, f"2px solid {rx.color('accent', 9)}", f"1px solid {rx.color('gray', 6)}"),
               "background": rx.cond(chosen, rx.color("accent", 2), rx.color("gray", 1))},
    )


def payment_choice() -> rx.Component:
    st = BookingWidgetState
    return rx.vstack(
        rx.heading("How would you like to pay?", as_="h3", size="4", id="pay-choice-heading"),
        rx.radio_group.root(
            rx.vstack(
                _pay_option("card", "Pay now by card",
                            rx.cond(st.test_mode, "Test mode: no real card is charged.",
                                    "Secure card payment with Stripe. Your tax invoice is emailed."),
                            "credit-card"),
                rx.cond(st.package_credits > 0, _pay_option(
                    "package", "Use a package credit",
                    st.package_name + ": " + st.package_credits.to_string() + " credit"
                    + rx.cond(st.package_credits == 1, "", "s") + " left"
                    + rx.cond(st.package_expires != "", ", valid until " + st.package_expires, "") + ".",
                    "ticket")),
                rx.cond(st.allow_pay_later, _pay_option(
                    "later", "Pay later", "Pay at or before your lesson. Vouchers come off online payments only.",
                    "clock")),
                spacing="2", width="100%", align="stretch",
            ),
            value=st.pay_choice, on_change=st.set_pay_choice, name="pay_choice",
            aria_labelledby="pay-choice-heading", width="100%",
        ),
        spacing="2", width="100%", align="stretch",
    )


def amount_panel() -> rx.Component:
    st = BookingWidgetState
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Lesson price"), rx.spacer(), rx.text(st.price_text, id="amount-price"), width="100%"),
            rx.cond(st.discount_text != "",
                    rx.hstack(rx.text("Voucher " + st.voucher_applied, color=rx.color("green", 11)), rx.spacer(),
                              rx.text(st.discount_text, id="amount-discount", color=rx.color("green", 11)),
                              width="100%")),
            rx.cond(st.pay_choice == "package",
                    rx.hstack(rx.text("Package credit", color=rx.color("green", 11)), rx.spacer(),
                              rx.text("1 credit", color=rx.color("green", 11)), width="100%")),
            rx.divider(),
            rx.hstack(rx.text(rx.cond(st.pay_choice == "later", "To pay later", "To pay now"), weight="bold"),
                      rx.spacer(),
                      rx.text(st.amount_due_text + " AUD", weight="bold", size="4", id="amount-due"), width="100%",
                      align="center"),
            rx.text(PolicyState.gst_note, size="1", color=rx.color("gray", 11), id="amount-gst-note"),
            spacing="2", width="100%",
        ),
        width="100%", id="amount-panel", variant="surface",
    )


def voucher_box() -> rx.Component:
    st = BookingWidgetState
    return rx.cond(
        st.pay_choice == "card",  # a voucher comes off an online payment
        rx.vstack(
            rx.el.label("Voucher code", html_for="bk-voucher", font_weight="600", font_size="var(--font-size-2)"),
            rx.hstack(
                rx.input(id="bk-voucher", value=st.voucher_code, on_change=st.set_voucher_code,
                         placeholder="Optional", size="3", aria_describedby="voucher-message", flex="1",
                         auto_complete="off"),
                rx.button("Apply", variant="soft", size="3", on_click=st.check_voucher, id="voucher-apply",
                          type="button"),
                width="100%",
            ),
            rx.cond(st.voucher_message != "",
                    rx.text(st.voucher_message, id="voucher-message", size="2", role="status",
                            color=rx.cond(st.voucher_ok, rx.color("green", 11), rx.color("red", 11)))),
            spacing="1", width="100%", align="stretch",
        ),
    )


def review_step() -> rx.Component:
    s = BookingWidgetState.summary
    return rx.vstack(
        rx.heading("Check, pay and confirm", as_="h2", size="5"),
        rx.callout(
            rx.text(
                "We're holding this time for you until ",
                rx.text(BookingWidgetState.hold_until, as_="span", weight="bold"),
                ".",
            ),
            icon="timer",
            color_scheme="blue",
            id="hold-note",
        ),
        rx.card(
            rx.vstack(
                _row("Lesson", s["service_name"]),
                _row("When", s["when"]),
                _row("Instructor", s["instructor_name"]),
                _row("Pick-up", s["pickup_address"] + ", " + s["suburb"]),
                _row("Price", s["price_label"]),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="booking-summary",
        ),
        payment_choice(),
        voucher_box(),
        amount_panel(),
        rx.text(
            "Free cancellation up to the notice period; see the ",
            rx.link("terms", href="/terms", underline="always"),
            ".",
            size="2",
            color=rx.color("gray", 11),
        ),
        message_box(BookingWidgetState.form_error, id="confirm-error"),
        rx.flex(
            rx.button("Change time", variant="soft", size="3", on_click=BookingWidgetState.back, id="review-back"),
            rx.button(
                rx.cond(BookingWidgetState.busy, "One moment…", BookingWidgetState.confirm_label),
                size="3",
                flex="1",
                min_height="44px",
                on_click=BookingWidgetState.confirm,
                id="confirm-booking",
                loading=BookingWidgetState.busy,
            ),
            width="100%",
            gap="0.75rem",
            direction=rx.breakpoints(initial="column-reverse", sm="row"),
        ),
        spacing="4",
        width="100%",
        align="stretch",
    )


def booking_for_picker() -> rx.Component:
    """A parent allowed to book for their learners chooses whose lesson this is (before a time is held)."""
    return rx.cond(
        BookingWidgetState.book_for.length() > 0,
        rx.vstack(
            rx.el.label("Booking for", html_for="booking-for", font_weight="bold", font_size="var(--font-size-2)"),
            rx.el.select(
                rx.foreach(BookingWidgetState.book_for,
                           lambda x: rx.el.option(x["name"], value=x["student_id"])),
                id="booking-for",
                value=BookingWidgetState.for_student_id,
                on_change=BookingWidgetState.choose_learner,
                disabled=BookingWidgetState.reservation_id != "",
                min_height="44px", padding_x="0.75rem", border_radius="var(--radius-2)",
                border=f"1px solid {rx.color('gray', 7)}", background=rx.color("gray", 1),
                font_size="var(--font-size-3)", width="100%", max_width="24rem",
            ),
            rx.text("The lesson is booked in your learner's name.", size="1", color=rx.color("gray", 11)),
            spacing="1", width="100%", id="booking-for-panel",
        ),
    )



SIGN_IN_HERE = f"{brand.ROUTE_SIGN_IN}?next={brand.ROUTE_BOOK}"


def booking_who() -> rx.Component:
    """Who the lesson is booked for, in a line kept the same height before and after the load state arrives
    (a learner's "Booking as …" used to push the lesson list down by a line once it came)."""
    return rx.box(
        rx.cond(
            BookingWidgetState.loading,
            rx.fragment(),
            rx.cond(
                BookingWidgetState.is_student,
                rx.text("Booking as ", rx.text(BookingWidgetState.student_name, as_="span", weight="bold"), ".",
                        size="2", id="booking-as"),
                rx.cond(
                    BookingWidgetState.signed_in,
                    rx.fragment(),
                    rx.text("Have an account? ", rx.link("Sign in", href=SIGN_IN_HERE, underline="always"),
                            " and your details are filled in for you.", size="2", color=rx.color("gray", 11),
                            id="booking-sign-in"),
                ),
            ),
        ),
        min_height="var(--line-height-2)", width="100%",
    )
