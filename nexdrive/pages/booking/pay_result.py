"""``/pay/result``: where Stripe Checkout (or the offline test gateway) sends the payer back.

Success shows the confirmed lesson (or the package bought), the invoice link and,
in test mode, a plain banner that no real money was taken. A payment still being
processed (the Stripe webhook has not arrived yet) is polled a few times. A
cancelled or failed payment keeps the hold until its expiry: the payer can try
again, or pay later when the school allows it.

Thin over ``payments.payment_result`` / ``payments.start_booking_checkout``; the
``token`` in the link is the booking's manage token (a visitor has no account).
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link, route_link_button
from nexdrive.pages.auth._forms import go_to, message_box
from nexdrive.services.money import payments
from nexdrive.services.money import vouchers
from nexdrive.errors import ServiceError
from nexdrive.formats import au_date, au_time, aud
from nexdrive.state.auth import run_as_visitor_or_user

ROUTE = "/pay/result"
TITLE = "Payment | NexDrive Academy"
DESCRIPTION = "The result of your NexDrive Academy payment: your booking, your invoice and what happens next."
POLLS = 8  # × POLL_SECONDS: how long we wait for the payment provider before asking the payer to check later
POLL_SECONDS = 2.0
WAITING = ("pending", "processing")


def screen_for(status: str, kind: str, booking_status: str) -> str:
    """Which of the page's screens fits: success, waiting, failed, or refunded (paid too late)."""
    if status in WAITING:
        return "waiting"
    if status in ("completed", "partially_refunded"):
        return "success"
    if status == "refunded":
        return "refunded" if kind == "booking" and booking_status != "confirmed" else "success"
    return "failed"  # failed, expired, cancelled


def result_view(result: dict, *, token: str, cancelled: bool, allow_pay_later: bool = False) -> dict[str, str]:
    """``payments.payment_result`` as the flat strings the page shows."""
    status = str(result.get("status") or "pending")
    if cancelled and status in ("pending", "processing"):
        status = "cancelled"  # back from the gateway's cancel link: the checkout is abandoned
    booking = result.get("booking") or {}
    package = result.get("package") or {}
    payment_id = str(result.get("payment_id") or "")
    suffix = f"?token={token}" if token else ""
    hold = booking.get("hold_expires_at")
    hold_at = datetime.fromisoformat(hold.replace("Z", "+00:00")) if isinstance(hold, str) and hold else None
    booking_id = str(booking.get("id") or "")
    kind = "package" if package else "booking"
    return {
        "status": status,
        "screen": screen_for(status, kind, str(booking.get("status") or "")),
        "kind": kind,
        "test_mode": "1" if result.get("test_mode") else "",
        "message": str(result.get("message") or ""),
        "payment_id": payment_id,
        "amount": str(result.get("amount_display") or aud(result.get("amount_cents"))),
        "discount": str(result.get("discount_display") or ""),
        "refunded": str(result.get("refunded_display") or ""),
        "description": str(result.get("description") or ""),
        "invoice_url": f"/api/v1/payments/{payment_id}/invoice{suffix}" if result.get("invoice_id") else "",
        "booking_id": booking_id,
        "service_name": str(booking.get("service_name") or ""),
        "when": str(booking.get("when") or ""),
        "instructor_name": str(booking.get("instructor_name") or ""),
        "pickup": ", ".join(p for p in (booking.get("pickup_address"), booking.get("suburb")) if p),
        "reference": str(booking.get("reference") or ""),
        "booking_status": str(booking.get("status") or ""),
        "hold_until": (f"{au_time(hold_at)} on {au_date(hold_at, year=False)}"
                       if hold_at and booking.get("status") == "held" else ""),
        "calendar_url": f"/api/v1/bookings/{booking_id}/calendar.ics{suffix}" if booking_id else "",
        "manage_url": ((f"/booking/manage?token={token}" if token else f"/booking/manage?id={booking_id}")
                       if booking_id else ""),
        "package_name": str(package.get("name") or ""),
        "package_credits": str(package.get("credits_total") or ""),
        "package_expires": str(package.get("expires_display") or ""),
        "allow_pay_later": "1" if allow_pay_later else "",
        # A held time (until the hold lapses) or a confirmed lesson still unpaid can be paid again.
        "can_retry": "1" if booking_id and ((booking.get("status") == "held" and hold_at)
                                            or (booking.get("status") == "confirmed"
                                                and booking.get("payment_status") == "unpaid")) else "",
    }


class PayResultState(rx.State):
    loading: bool = True
    polling: bool = False
    gave_up: bool = False
    busy: bool = False
    error: str = ""
    r: dict[str, str] = {}
    _checkout: str = ""
    _token: str = ""
    _cancelled: bool = False

    async def _fetch(self) -> dict[str, str]:
        checkout, token, cancelled = self._checkout, self._token, self._cancelled

        def work(session, actor):
            result = payments.payment_result(session, actor, checkout_id=checkout, manage_token=token or None)
            later = False
            booking = result.get("booking") or {}
            if booking.get("status") == "held" and not result.get("paid"):
                try:  # may this lesson be confirmed now and paid later?
                    later = bool(payments.payment_options(session, actor, booking_id=uuid.UUID(booking["id"]),
                                                          manage_token=token or None)["allow_pay_later"])
                except ServiceError:
                    later = False
            return result, later
        result, later = await run_as_visitor_or_user(self, work)
        return result_view(result, token=token, cancelled=cancelled, allow_pay_later=later)

    @rx.event
    async def load(self):
        self.loading, self.error, self.gave_up, self.busy = True, "", False, False
        params = self.router.url.query_parameters
        self._checkout = (params.get("checkout") or "")[:200]
        self._token = (params.get("token") or "")[:200]
        self._cancelled = params.get("cancelled") in ("1", "true")
        self.r = {}
        yield
        if not self._checkout:
            self.error = "This payment link is not complete. Please use the link from your booking."
            self.loading = False
            return
        try:
            self.r = await self._fetch()
        except ServiceError as exc:
            self.error, self.loading = exc.message, False
            return
        self.loading = False
        if self.r["screen"] == "waiting":
            self.polling = True
            yield PayResultState.poll

    @rx.event(background=True)
    async def poll(self):
        """The provider confirms by webhook, usually within seconds: ask again a few times."""
        for _ in range(POLLS):
            await asyncio.sleep(POLL_SECONDS)
            try:
                view = await self._fetch()
            except ServiceError:
                continue
            async with self:
                self.r = view
                if view["screen"] != "waiting":
                    self.polling = False
                    return
        async with self:
            self.polling, self.gave_up = False, True

    @rx.event
    def check_again(self):
        self.gave_up = False
        self.polling = True
        return PayResultState.poll

    async def _restart(self, *, pay_later: bool):
        if self.busy or not self.r.get("booking_id"):
            return
        self.busy, self.error = True, ""
        yield
        booking_id, token = self.r["booking_id"], self._token

        def work(session, actor):
            # Trying the card again keeps the voucher already taken off this lesson (paying later can't use one).
            found = None if pay_later else vouchers.redemption_for_booking(session, uuid.UUID(booking_id))
            return payments.start_booking_checkout(session, actor, booking_id=uuid.UUID(booking_id),
                                                   manage_token=token or None, pay_later=pay_later,
                                                   voucher_code=found[1].code if found else None).redirect_url
        try:
            url = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        yield go_to(url or (f"/book/confirmed?token={token}" if token else f"/booking/manage?id={booking_id}"))

    @rx.event
    async def try_again(self):
        async for event in self._restart(pay_later=False):
            yield event

    @rx.event
    async def pay_later(self):
        async for event in self._restart(pay_later=True):
            yield event


# ─────────────────────────────────────────────────────────────────────────────
# View
# ─────────────────────────────────────────────────────────────────────────────

def _row(label: str, value, id: str | None = None) -> rx.Component:
    return rx.hstack(rx.text(label, color=rx.color("gray", 11), min_width="8.5rem"),
                     rx.text(value, weight="medium", id=id), align="start", width="100%")


def test_banner(done: bool = True) -> rx.Component:
    text = ("Test mode — no real money was taken. The school has not connected a card payment account yet, "
            "so this payment was recorded for testing only." if done else
            "Test mode — no real money will be taken: the school has not connected a card payment account yet.")
    return rx.cond(
        PayResultState.r["test_mode"] == "1",
        rx.callout(text, icon="flask-conical", color_scheme="amber", id="test-mode-banner", width="100%"),
    )


def booking_card() -> rx.Component:
    r = PayResultState.r
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(r["service_name"], as_="h2", size="5"), rx.spacer(),
                      rx.badge(rx.match(r["booking_status"], ("confirmed", "Confirmed"), ("held", "Held"),
                                        ("cancelled", "Cancelled"), ("completed", "Completed"), r["booking_status"]),
                               id="booking-status", size="2",
                               color_scheme=rx.match(r["booking_status"], ("confirmed", "green"), ("held", "amber"),
                                                     ("cancelled", "red"), "gray")),
                      width="100%", align="center", wrap="wrap"),
            _row("When", r["when"], id="booking-when"),
            _row("Instructor", r["instructor_name"]),
            _row("Pick-up", r["pickup"]),
            _row("Reference", r["reference"], id="booking-ref"),
            spacing="2", width="100%",
        ),
        width="100%", id="booking-details",
    )


def payment_card() -> rx.Component:
    r = PayResultState.r
    return rx.card(
        rx.vstack(
            rx.heading("Payment", as_="h2", size="4"),
            _row("Paid", r["amount"] + " AUD", id="paid-amount"),
            rx.cond(r["discount"] != "", _row("Voucher discount", r["discount"], id="paid-discount")),
            rx.cond(r["refunded"] != "", _row("Refunded", r["refunded"], id="paid-refunded")),
            rx.cond(r["description"] != "", _row("For", r["description"])),
            rx.cond(
                r["invoice_url"] != "",
                file_link("Download invoice (PDF)", r["invoice_url"], id="download-invoice"),
                rx.text("Your invoice is being prepared and will be emailed to you.", size="2",
                        color=rx.color("gray", 11)),
            ),
            spacing="2", width="100%", align="start",
        ),
        width="100%", id="payment-details",
    )


def success_view() -> rx.Component:
    r = PayResultState.r
    return rx.vstack(
        rx.hstack(rx.icon("circle-check", size=32, color=rx.color("green", 9)),
                  rx.heading(rx.cond(r["kind"] == "package", "Package bought", "You're booked"), as_="h1",
                             id="page-title", size=rx.breakpoints(initial="7", sm="8")),
                  align="center", spacing="3"),
        test_banner(),
        rx.cond(
            r["kind"] == "package",
            rx.vstack(
                rx.text("Thank you. Your ", rx.text(r["package_name"], as_="span", weight="bold"),
                        " is ready to use: choose \"Use a package credit\" when you book.", size="3"),
                rx.card(rx.vstack(
                    _row("Package", r["package_name"], id="package-name"),
                    _row("Lesson credits", r["package_credits"], id="package-credits"),
                    rx.cond(r["package_expires"] != "", _row("Use them by", r["package_expires"])),
                    spacing="2", width="100%"), width="100%"),
                payment_card(),
                rx.hstack(button_link("Book a lesson", "/book", icon="calendar-plus", size="3"),
                          button_link("Your payments", "/student/payments", icon="receipt", variant="soft", size="3"),
                          wrap="wrap", spacing="3"),
                spacing="4", width="100%", align="stretch",
            ),
            rx.vstack(
                rx.text("Your lesson is confirmed. We've sent the details by SMS and email. Bring your learner "
                        "licence to the lesson.", size="3", color=rx.color("gray", 11)),
                booking_card(),
                payment_card(),
                rx.flex(
                    file_link("Add to calendar", r["calendar_url"], icon="calendar-plus", variant="surface",
                              id="add-to-calendar"),
                    route_link_button("Manage this booking", r["manage_url"], icon="calendar-cog", variant="surface",
                                      id="manage-link"),
                    gap="0.75rem", wrap="wrap", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                spacing="4", width="100%", align="stretch",
            ),
        ),
        spacing="4", width="100%", align="stretch", id="pay-success",
    )


def pending_view() -> rx.Component:
    return rx.vstack(
        rx.heading("Checking your payment…", as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8")),
        test_banner(done=False),
        rx.cond(
            PayResultState.gave_up,
            rx.vstack(
                rx.callout("Your payment is still being processed by the card provider. Your time stays held; "
                           "we'll text and email you as soon as it's through. You don't need to pay again.",
                           icon="hourglass", color_scheme="blue", id="pay-still-pending", width="100%"),
                rx.button(rx.icon("refresh-cw", size=16), "Check again", on_click=PayResultState.check_again,
                          variant="soft", size="3", id="check-again"),
                spacing="3", width="100%", align="start",
            ),
            rx.hstack(rx.spinner(size="3"),
                      rx.text("Waiting for the card provider to confirm your payment. This usually takes a few "
                              "seconds; please keep this page open.", size="3"),
                      spacing="3", align="center", role="status", id="pay-pending"),
        ),
        spacing="4", width="100%", align="stretch",
    )


def failed_view() -> rx.Component:
    r = PayResultState.r
    return rx.vstack(
        rx.hstack(rx.icon("circle-x", size=32, color=rx.color("red", 9)),
                  rx.heading(rx.match(r["status"], ("cancelled", "Payment cancelled"), ("expired", "Checkout closed"),
                                      "Payment didn't go through"),
                             as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8")),
                  align="center", spacing="3"),
        rx.text(rx.cond(r["status"] == "cancelled", "You left the payment page, so no money was taken.",
                        r["message"]),
                size="3", color=rx.color("gray", 11), id="pay-failed-message"),
        rx.cond(
            r["kind"] == "booking",
            rx.vstack(
                rx.cond(r["hold_until"] != "",
                        rx.callout(rx.text("We're still holding your lesson until ",
                                           rx.text(r["hold_until"], as_="span", weight="bold"), "."),
                                   icon="timer", color_scheme="blue", id="hold-kept", width="100%"),
                        rx.cond(r["can_retry"] != "1",
                                rx.callout("The hold on this time has ended. Please choose a time again.",
                                           icon="timer-off", color_scheme="amber", width="100%"))),
                booking_card(),
                message_box(PayResultState.error, id="retry-error"),
                rx.flex(
                    rx.cond(r["can_retry"] == "1",
                            rx.button(rx.icon("credit-card", size=16), "Try again", size="3",
                                      on_click=PayResultState.try_again, loading=PayResultState.busy,
                                      id="try-again")),
                    rx.cond((r["hold_until"] != "") & (r["allow_pay_later"] == "1"),  # only a held time
                            rx.button(rx.icon("clock", size=16), "Book now, pay later", variant="soft", size="3",
                                      on_click=PayResultState.pay_later, loading=PayResultState.busy,
                                      id="pay-later")),
                    button_link("Choose another time", "/book", variant="surface", size="3"),
                    gap="0.75rem", wrap="wrap", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                spacing="4", width="100%", align="stretch",
            ),
            rx.hstack(button_link("Back to packages", "/student/payments", icon="arrow-left", size="3"),
                      wrap="wrap"),
        ),
        spacing="4", width="100%", align="stretch", id="pay-failed",
    )


def refunded_view() -> rx.Component:
    """The payment arrived after the hold lapsed and the time had gone: refunded in full."""
    r = PayResultState.r
    return rx.vstack(
        rx.hstack(
            rx.icon("undo-2", size=32, color=rx.color("amber", 9)),
            rx.heading("Payment refunded", as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8")),
            align="center",
            spacing="3",
        ),
        test_banner(),
        rx.callout(r["message"], icon="info", color_scheme="amber", id="pay-refunded", width="100%"),
        payment_card(),
        button_link("Choose another time", "/book", icon="calendar-plus", size="3"),
        spacing="4",
        width="100%",
        align="stretch",
    )


def pay_result_page() -> rx.Component:
    r = PayResultState.r
    return layout(
        container(
            rx.vstack(
                rx.cond(
                    PayResultState.loading,
                    rx.vstack(
                        rx.hstack(rx.spinner(), rx.text("Loading your payment…"), role="status"),
                        rx.skeleton(height="12rem", width="100%"),
                        width="100%",
                    ),
                    rx.cond(
                        r.contains("screen"),
                        rx.match(
                            r["screen"],
                            ("success", success_view()),
                            ("waiting", pending_view()),
                            ("refunded", refunded_view()),
                            failed_view(),
                        ),
                        rx.vstack(
                            rx.heading("Payment", as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8")),
                            message_box(PayResultState.error, id="pay-error"),
                            button_link("Book a lesson", "/book", size="3"),
                            spacing="4",
                            align="start",
                        ),
                    ),
                ),
                spacing="4",
                width="100%",
                max_width="44rem",
                margin_x="auto",
                align="stretch",
            ),
            padding_top="2rem",
            padding_bottom="4rem",
        ),
    )


ON_LOAD = [PayResultState.load]
