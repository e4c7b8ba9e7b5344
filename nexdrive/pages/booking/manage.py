"""After booking: the confirmation ``/book/confirmed`` and managing a booking ``/booking/manage``.

A visitor opens these with the secret link from the widget or the confirmation
message (``?token=``); a signed-in student, or a parent allowed to book, opens
``/booking/manage?id=<booking id>`` from their dashboard. Every change goes
through ``booking.reschedule_booking`` / ``booking.cancel_booking``, which apply
the policy and check who is asking.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.components.ui import file_link
from nexdrive.pages.auth._forms import go_to, message_box
from nexdrive.services.scheduling import booking
from nexdrive.services.money import payments
from nexdrive.errors import NotFound, ServiceError, SlotUnavailable
from nexdrive.formats import BUSINESS_TZ, aud
from nexdrive.state.auth import run_anonymous, run_as_visitor_or_user

CONFIRMED_ROUTE = "/book/confirmed"
CONFIRMED_TITLE = "Your lesson is booked | NexDrive Academy"
CONFIRMED_DESCRIPTION = (
    "Your NexDrive Academy driving lesson booking: the details, add it to your calendar, or change it."
)
MANAGE_ROUTE = "/booking/manage"
MANAGE_TITLE = "Manage your booking | NexDrive Academy"
MANAGE_DESCRIPTION = "Reschedule or cancel your NexDrive Academy driving lesson."
DAYS_SHOWN = 28


def _flat(summary: dict) -> dict[str, str]:
    out = {k: ("" if v is None else str(v)) for k, v in summary.items() if not isinstance(v, dict)}
    terms = summary.get("cancellation_terms") or {}
    out.update({f"terms_{k}": str(v) for k, v in terms.items()})
    fee = (summary.get("cancellation_fee") or {}).get("amount", 0)
    out["fee_cents"], out["fee_display"] = str(fee), aud(fee)
    out["payment_label"] = PAYMENT_LABELS.get(summary.get("payment_status") or "", "")
    if summary.get("payment_status") == "unpaid":
        out["payment_label"] = f"{summary.get('price_display', '')} to pay, at or before the lesson"
    return out


def _chip_day(iso: str) -> str:
    """Mon 7 Dec: a reschedule day chip short enough for three or four a row on a phone."""
    d = datetime.fromisoformat(iso)
    return f"{d:%a} {d.day} {d:%b}"


PAYMENT_LABELS = {"paid": "Paid", "package_credit": "Paid with a package credit", "refunded": "Refunded",
                  "partially_refunded": "Partly refunded", "deposit_paid": "Deposit paid", "waived": "No charge"}
INVOICED = ("paid", "partially_refunded", "refunded")


class ManageBookingState(rx.State):
    loading: bool = True
    error: str = ""
    notice: str = ""
    booking: dict[str, str] = {}
    calendar_url: str = ""
    manage_url: str = ""
    invoice_url: str = ""
    mode: str = ""  # "", "reschedule", "cancel"
    busy: bool = False
    reason: str = ""
    is_staff: bool = False
    waive_fee: bool = False
    days: list[dict[str, str]] = []
    selected_date: str = ""
    times: list[dict[str, str]] = []
    alternatives: list[dict[str, str]] = []
    _token: str = ""
    _slots: dict[str, list[dict[str, str]]] = {}

    def _ids(self) -> tuple[uuid.UUID | None, str | None]:
        params = self.router.url.query_parameters
        token = params.get("token") or self._token or None
        raw = params.get("id") or self.booking.get("id", "")
        try:
            return (uuid.UUID(raw) if raw else None), token
        except ValueError:
            return None, token

    @rx.event
    async def load(self):
        self.loading, self.error, self.notice, self.mode = True, "", "", ""
        params = self.router.url.query_parameters
        self._token = params.get("token", "")
        booking_id, token = self._ids()

        def work(session, actor):
            staff = actor.is_staff
            if token and booking_id is None:
                found = booking.booking_by_token(session, token)
                return booking.get_booking(session, actor, found.id, manage_token=token), staff
            if booking_id is None:
                raise NotFound("This booking link is not complete. Please use the link from your confirmation.")
            return booking.get_booking(session, actor, booking_id, manage_token=token), staff
        try:
            summary, self.is_staff = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.error, self.loading = exc.message, False
            return
        self._show(summary)
        self.loading = False

    def _show(self, summary: dict):
        self.booking = _flat(summary)
        suffix = f"?token={self._token}" if self._token else ""
        self.calendar_url = f"/api/v1/bookings/{summary['id']}/calendar.ics{suffix}"
        self.manage_url = f"{MANAGE_ROUTE}?token={self._token}" if self._token else f"{MANAGE_ROUTE}?id={summary['id']}"
        self.invoice_url = (f"/api/v1/bookings/{summary['id']}/invoice{suffix}"
                            if summary.get("payment_status") in INVOICED else "")

    @rx.event
    async def pay_now(self):
        """A confirmed lesson still unpaid (pay later, or a card payment that failed): pay by card now."""
        if self.busy:
            return
        self.busy, self.error = True, ""
        yield
        booking_id, token = self._ids()

        def work(session, actor):
            return payments.start_booking_checkout(session, actor, booking_id=booking_id,
                                                   manage_token=token).redirect_url
        try:
            url = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        yield go_to(url)

    @rx.event
    def show(self, mode: str):
        self.mode = mode if mode in ("reschedule", "cancel") else ""
        self.error = self.notice = ""
        if self.mode == "reschedule":
            return ManageBookingState.load_times
        return None

    @rx.event
    async def load_times(self):
        booking_id, _ = self._ids()
        service_id = self.booking.get("service_id", "")
        today = datetime.now(BUSINESS_TZ).date()

        def work(session, actor):
            return booking.availability_by_day(session, service_ref=service_id, date_from=today,
                                               date_to=today + timedelta(days=DAYS_SHOWN - 1),
                                               ignore_booking_id=booking_id)
        result = await run_as_visitor_or_user(self, work)
        self._slots = {d["date"]: [{"start": t["start"], "label": t["label"], "start_at": t["start_at"]}
                                   for t in d["times"]] for d in result["slots"]}
        self.days = [{"date": d["date"], "label": d["label"], "short": _chip_day(d["date"]),
                      "count": str(len(d["times"]))} for d in result["slots"]]
        first = self.booking.get("date") if self.booking.get("date") in self._slots else next(iter(self._slots), "")
        self._select(first)

    def _select(self, day: str):
        self.selected_date = day
        self.times = list(self._slots.get(day, []))

    @rx.event
    def choose_date(self, day: str):
        self._select(day)

    @rx.event
    def set_reason(self, value: str):
        self.reason = value[:300]

    @rx.event
    async def move_to(self, start_at: str):
        if self.busy:
            return
        self.busy, self.error, self.alternatives = True, "", []
        yield
        booking_id, token = self._ids()
        new_start = datetime.fromisoformat(start_at.replace("Z", "+00:00"))

        def work(session, actor):
            moved = booking.reschedule_booking(session, actor, booking_id, new_start, manage_token=token)
            return booking.booking_summary(session, moved)
        try:
            summary = await run_as_visitor_or_user(self, work)
        except SlotUnavailable as exc:
            # Its alternatives completed in a transaction of its own, now that the instructor's lock is released.
            if exc.alternatives_wanted is not None:
                await run_anonymous(lambda session, refusal=exc: booking.complete_alternatives(session, refusal))
            self.busy = False
            self.error = exc.message
            self.alternatives = [
                {k: str(v) for k, v in a.items()} for a in exc.details.get("suggested_alternatives", [])
            ]
            yield ManageBookingState.load_times
            return
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self._show(summary)
        self.busy, self.mode = False, ""
        self.notice = f"Done. Your lesson is now on {summary['when']}."

    @rx.event
    def set_waive_fee(self, value: bool):
        self.waive_fee = bool(value)

    async def _staff_action(self, action, done: str):
        """No-show or waive: the service checks the caller is the school."""
        if self.busy:
            return
        self.busy, self.error = True, ""
        booking_id, _ = self._ids()

        def work(session, actor):
            return booking.booking_summary(session, action(session, actor, booking_id))
        try:
            summary = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self._show(summary)
        self.busy, self.notice = False, done

    @rx.event
    async def mark_no_show(self):
        await self._staff_action(booking.mark_no_show, "Recorded as a no-show. The lesson fee is kept.")

    @rx.event
    async def waive(self):
        await self._staff_action(booking.waive_cancellation_fee, "The late-cancellation fee is waived.")

    @rx.event
    async def cancel(self):
        if self.busy:
            return
        self.busy, self.error = True, ""
        yield
        booking_id, token = self._ids()
        reason, waive = self.reason, self.waive_fee

        def work(session, actor):
            outcome = booking.cancel_booking(session, actor, booking_id, reason=reason or None, manage_token=token,
                                             waive_fee=waive)
            return outcome.message, booking.booking_summary(session, outcome.booking)
        try:
            message, summary = await run_as_visitor_or_user(self, work)
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self._show(summary)
        self.busy, self.mode, self.notice = False, "", message


def _row(label: str, value, id: str | None = None) -> rx.Component:
    return rx.hstack(rx.text(label, color=rx.color("gray", 11), min_width="7rem"),
                     rx.text(value, weight="medium", id=id), align="start", width="100%")


def details_card() -> rx.Component:
    b = ManageBookingState.booking
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(b["service_name"], as_="h2", size="5"), rx.spacer(),
                      rx.badge(rx.match(b["status"], ("confirmed", "Confirmed"), ("held", "Held"),
                                        ("cancelled", "Cancelled"), ("completed", "Completed"), b["status"]),
                               id="booking-status", size="2",
                               color_scheme=rx.match(b["status"], ("confirmed", "green"), ("cancelled", "red"),
                                                     "gray")),
                      width="100%", align="center"),
            _row("When", b["when"], id="booking-when"),
            _row("Instructor", b["instructor_name"]),
            _row("Pick-up", b["pickup_address"] + ", " + b["suburb"]),
            _row("Price", b["price_label"]),
            _row("Reference", b["reference"], id="booking-ref"),
            rx.cond(b["payment_label"] != "", _row("Payment", b["payment_label"], id="booking-payment")),
            rx.cond(b["fee_cents"] != "0", _row("Cancellation fee", b["fee_display"], id="booking-fee")),
            spacing="2", width="100%",
        ),
        width="100%", id="booking-details",
    )


def reschedule_panel() -> rx.Component:
    return rx.vstack(
        rx.heading("Choose a new time", as_="h3", size="4"),
        rx.text("Canberra time. Your current time stays booked until you choose a new one.", size="2",
                color=rx.color("gray", 11)),
        rx.cond(ManageBookingState.alternatives.length() > 0,
                rx.hstack(rx.foreach(ManageBookingState.alternatives, lambda a: rx.button(
                    a["day_label"] + ", " + a["label"], variant="surface",
                    on_click=ManageBookingState.move_to(a["start_at"]))), wrap="wrap")),
        rx.box(
            rx.hstack(rx.foreach(ManageBookingState.days, lambda d: rx.button(
                d["short"], variant=rx.cond(ManageBookingState.selected_date == d["date"], "solid", "surface"),
                size="2", id="mday-" + d["date"], on_click=ManageBookingState.choose_date(d["date"]),
                title=d["label"], aria_pressed=rx.cond(ManageBookingState.selected_date == d["date"], "true", "false"),
                flex="0 0 auto", min_height="44px")), spacing="2", padding_bottom="0.5rem", flex_wrap="wrap"),
            width="100%",  # the day chips wrap onto a second line on a phone instead of running off the edge
        ),
        rx.grid(rx.foreach(ManageBookingState.times, lambda t: rx.button(
            t["label"], variant="soft", size="3", id="mtime-" + t["start"].replace(":", ""),
            loading=ManageBookingState.busy, on_click=ManageBookingState.move_to(t["start_at"]))),
            columns=rx.breakpoints(initial="3", sm="5"), gap="0.5rem", width="100%"),
        spacing="3", width="100%", align="stretch", id="reschedule-panel",
    )


def cancel_panel() -> rx.Component:
    b = ManageBookingState.booking
    return rx.vstack(
        rx.heading("Cancel this lesson", as_="h3", size="4"),
        rx.cond(
            b["terms_free"] == "True",
            rx.callout(
                "Free cancellation: you're cancelling more than "
                + b["terms_notice_hours"]
                + " hours before the lesson, so there is no charge.",
                icon="circle-check",
                color_scheme="green",
                id="cancel-terms",
            ),
            rx.callout(
                "Late cancellation: it's less than "
                + b["terms_notice_hours"]
                + " hours before the lesson, so "
                + rx.cond(
                    b["terms_fee_cents"] == "0",
                    "the lesson can't be rebooked online, but there is no fee.",
                    "a fee of " + b["terms_fee"] + " applies.",
                ),
                icon="triangle-alert",
                color_scheme="amber",
                id="cancel-terms",
            ),
        ),
        rx.cond(
            ManageBookingState.is_staff & (b["terms_free"] != "True") & (b["terms_fee_cents"] != "0"),
            rx.checkbox(
                "Waive the late-cancellation fee",
                checked=ManageBookingState.waive_fee,
                on_change=ManageBookingState.set_waive_fee,
                id="waive-fee",
            ),
        ),
        rx.el.label("Reason (optional)", html_for="cancel-reason", font_weight="600", font_size="var(--font-size-2)"),
        rx.text_area(
            id="cancel-reason",
            value=ManageBookingState.reason,
            on_change=ManageBookingState.set_reason,
            placeholder="e.g. sick, exams",
            width="100%",
        ),
        rx.hstack(
            rx.button("Keep my lesson", variant="soft", on_click=ManageBookingState.show(""), size="3"),
            rx.button(
                rx.cond(ManageBookingState.busy, "Cancelling…", "Cancel lesson"),
                color_scheme="red",
                size="3",
                on_click=ManageBookingState.cancel,
                loading=ManageBookingState.busy,
                id="confirm-cancel",
            ),
            spacing="3",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
        align="stretch",
        id="cancel-panel",
    )


def actions() -> rx.Component:
    b = ManageBookingState.booking
    live = (b["status"] == "confirmed") | (b["status"] == "held")
    return rx.cond(
        live,
        rx.vstack(
            rx.hstack(
                rx.cond((b["status"] == "confirmed") & (b["payment_status"] == "unpaid"),
                        rx.button(rx.icon("credit-card", size=16), "Pay now by card", size="3",
                                  on_click=ManageBookingState.pay_now, loading=ManageBookingState.busy,
                                  id="pay-now")),
                rx.link(rx.button(rx.icon("calendar-plus", size=16), "Add to calendar", variant="surface", size="3"),
                        href=ManageBookingState.calendar_url, id="add-to-calendar", is_external=True),
                rx.cond(ManageBookingState.invoice_url != "",
                        file_link("Invoice (PDF)", ManageBookingState.invoice_url, variant="surface",
                                  id="booking-invoice")),
                rx.cond((b["terms_can_reschedule"] == "True") | ManageBookingState.is_staff,
                        rx.button(rx.icon("calendar-clock", size=16), "Reschedule", variant="surface", size="3",
                                  on_click=ManageBookingState.show("reschedule"), id="start-reschedule")),
                rx.button(rx.icon("calendar-x", size=16), "Cancel", variant="surface", color_scheme="red", size="3",
                          on_click=ManageBookingState.show("cancel"), id="start-cancel"),
                wrap="wrap", spacing="3",
            ),
            rx.cond(b["terms_can_reschedule"] == "True",
                    rx.text("Free changes until " + b["terms_free_until"] + ".", size="2", color=rx.color("gray", 11),
                            id="free-until"),
                    rx.text("It's less than " + b["terms_notice_hours"] + " hours before the lesson, so it can't "
                            "be moved online. Call us to change it; cancelling now has a fee.", size="2",
                            color=rx.color("amber", 11), id="late-note")),
            rx.match(ManageBookingState.mode, ("reschedule", reschedule_panel()), ("cancel", cancel_panel()),
                     rx.fragment()),
            spacing="3", width="100%", align="stretch",
        ),
    )


def staff_actions() -> rx.Component:
    """For the instructor and the owner: record a no-show, waive a late fee."""
    b = ManageBookingState.booking
    return rx.cond(
        ManageBookingState.is_staff,
        rx.hstack(
            rx.cond(b["status"] == "confirmed",
                    rx.button(rx.icon("user-x", size=16), "Mark as no-show", variant="soft", color_scheme="gray",
                              on_click=ManageBookingState.mark_no_show, id="mark-no-show",
                              loading=ManageBookingState.busy)),
            rx.cond((b["status"] == "cancelled") & (b["fee_cents"] != "0"),
                    rx.button(rx.icon("badge-percent", size=16), "Waive the " + b["fee_display"] + " fee",
                              variant="soft", on_click=ManageBookingState.waive, id="waive-existing-fee",
                              loading=ManageBookingState.busy)),
            wrap="wrap", spacing="3",
        ),
    )


def _page(heading: rx.Component, lead: rx.Component) -> rx.Component:
    return layout(
        container(
            rx.vstack(
                heading, lead,
                rx.cond(
                    ManageBookingState.loading,
                    rx.vstack(rx.skeleton(height="12rem", width="100%"), width="100%"),
                    rx.cond(
                        ManageBookingState.booking.contains("id"),
                        rx.vstack(
                            message_box(ManageBookingState.notice, tone="green", id="manage-notice",
                                        icon="circle-check"),
                            details_card(),
                            message_box(ManageBookingState.error, id="manage-error"),
                            actions(),
                            staff_actions(),
                            spacing="4", width="100%", align="stretch",
                        ),
                        message_box(ManageBookingState.error, id="manage-error"),
                    ),
                ),
                spacing="4", width="100%", max_width="44rem", margin_x="auto", align="stretch",
            ),
            padding_top="2rem", padding_bottom="4rem",
        ),
    )


def confirmed_page() -> rx.Component:
    return _page(
        rx.hstack(rx.icon("circle-check", size=32, color=rx.color("green", 9)),
                  rx.heading("You're booked", as_="h1", id="page-title", size="8"), align="center", spacing="3"),
        rx.vstack(
            rx.text("We've sent the details by SMS and email. Bring your learner licence to the lesson.", size="3",
                    color=rx.color("gray", 11)),
            rx.link("Manage this booking later", href=ManageBookingState.manage_url, id="manage-link", size="2"),
            spacing="1", align="start",
        ),
    )


def manage_page() -> rx.Component:
    return _page(
        rx.heading("Your booking", as_="h1", id="page-title", size="8"),
        rx.text("Reschedule or cancel your lesson. Times are Canberra time.", size="3", color=rx.color("gray", 11)),
    )


ON_LOAD = [ManageBookingState.load]
