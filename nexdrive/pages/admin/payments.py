"""``/admin/payments``: the owner's money view — revenue for the last 30 days, every payment, refunds.

The summary and the list come from ``payments.revenue_summary`` / ``payments.list_payments``;
a refund goes through ``payments.refund_payment``, which checks the amount against
what is still refundable and talks to the gateway. The page only checks the
obvious (a positive amount, not more than refundable, a reason) so the owner
sees the problem next to the field before anything is sent.
"""
from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.pages.student.payments import METHOD_LABELS, STATUS_COLOURS, STATUS_LABELS
from nexdrive.services.money import payments
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.formats import au_date, au_time, aud
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/payments"
TITLE = "Payments | NexDrive Academy admin"
DESCRIPTION = "NexDrive Academy payments: revenue for the last 30 days, every payment, refunds and invoices."
DAYS = 30
PAGE_SIZE = 25
STATUS_FILTERS = (("", "All payments"), ("completed", "Paid"), ("partially_refunded", "Partly refunded"),
                  ("refunded", "Refunded"), ("pending", "Pending"), ("failed", "Failed"))


@dataclasses.dataclass
class AdminPaymentRow:
    payment_id: str = ""
    date: str = ""
    time: str = ""
    who: str = ""
    what: str = ""
    amount: str = ""
    amount_cents: int = 0
    refunded: str = ""
    refundable_cents: int = 0
    refundable: str = ""
    method: str = ""
    status: str = ""
    status_label: str = ""
    colour: str = "gray"
    test_mode: bool = False
    invoice_url: str = ""


def dollars_to_cents(text: str) -> int | None:
    """'12.50', '$12.5', '1,200' -> cents; None when it isn't an amount of dollars and cents."""
    cleaned = (text or "").replace("$", "").replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value != value.quantize(Decimal("0.01")) or not value.is_finite():
        return None
    return int(value * 100)


def admin_row(p: dict) -> AdminPaymentRow:
    """A ``payments.payment_view`` dict (admin shape) as a list row."""
    status = str(p.get("status") or "")
    when = p.get("completed_at") or p.get("created_at")
    method = str(p.get("method") or "")
    refundable = int(p.get("refundable_cents") or 0)
    return AdminPaymentRow(
        payment_id=str(p.get("id")), date=au_date(when, weekday=False) if when else "",
        time=au_time(when) if when else "", who=str(p.get("payer_name") or ""),
        what=str(p.get("description") or "Payment"),
        amount=str(p.get("amount_display") or aud(p.get("amount_cents"))), amount_cents=int(p.get("amount_cents") or 0),
        refunded=str(p.get("refunded_display") or ""), refundable_cents=refundable, refundable=aud(refundable),
        method=METHOD_LABELS.get(method, method.replace("_", " ").capitalize()),
        status=status, status_label=str(p.get("status_label") or STATUS_LABELS.get(status, status)),
        colour=STATUS_COLOURS.get(status, "gray"), test_mode=bool(p.get("test_mode")),
        invoice_url=f"/api/v1/invoices/{p['invoice_id']}/pdf" if p.get("invoice_id") else "",
    )


def _short_day(iso: str) -> str:
    """'2026-11-03' -> '3 Nov' (chart ticks)."""
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return ""
    return f"{d.day} {d.strftime('%b')}"


def summary_view(s: dict) -> dict:
    """``payments.revenue_summary``: totals as text, the by-day series in dollars for the chart, by method."""
    days = [
        {
            "day": _short_day(str(d.get("date") or "")) or str(d.get("label") or ""),
            "net": round(int(d.get("net_cents") or 0) / 100, 2),
            "gross": round(int(d.get("gross_cents") or 0) / 100, 2),
            "refunds": round(int(d.get("refunded_cents") or 0) / 100, 2),
        }
        for d in s.get("by_day") or []
    ]
    methods = [{"method": METHOD_LABELS.get(str(m.get("method")), str(m.get("method") or "")),
                "amount": str(m.get("gross_display") or aud(m.get("gross_cents"))), "count": str(m.get("count", ""))}
               for m in s.get("by_method") or []]
    test = int(s.get("test_mode_cents") or 0)
    return {"gross": aud(s.get("gross_cents")), "refunds": aud(s.get("refunded_cents")),
            "net": aud(s.get("net_cents")), "count": str(s.get("count") or 0), "days": days, "methods": methods,
            "test_note": (f"{aud(test)} of this was taken in test mode (no real money)." if test else "")}


class AdminPaymentsState(rx.State):
    loaded: bool = False
    error: str = ""
    status_filter: str = ""
    rows: list[AdminPaymentRow] = []
    next_cursor: str = ""
    more_loading: bool = False
    gross: str = "$0.00"
    refunds: str = "$0.00"
    net: str = "$0.00"
    count: str = "0"
    test_note: str = ""
    by_day: list[dict[str, str | float]] = []
    by_method: list[dict[str, str]] = []
    # Refund dialog
    refund_open: bool = False
    refund_row: dict[str, str] = {}
    refund_refundable_cents: int = 0
    refund_mode: str = "full"  # full | part
    refund_amount: str = ""
    refund_reason: str = ""
    amount_error: str = ""
    reason_error: str = ""
    refund_error: str = ""
    refund_busy: bool = False
    notice: str = ""

    def _show_summary(self, view: dict):
        self.gross, self.refunds, self.net, self.count = view["gross"], view["refunds"], view["net"], view["count"]
        self.by_day, self.by_method, self.test_note = view["days"], view["methods"], view["test_note"]

    async def _list(self, cursor: str | None):
        status = self.status_filter or None

        def work(session, actor):
            return payments.list_payments(session, actor, status=status, limit=PAGE_SIZE, cursor=cursor)
        return await run_as_actor(self, work)

    @rx.event
    async def load(self):
        self.loaded, self.error = False, ""
        yield  # show the loading state, not the previous visit's numbers
        try:
            summary = await run_as_actor(self, lambda session, actor: payments.revenue_summary(session, actor,
                                                                                               days=DAYS))
            listed = await self._list(None)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        view = summary_view(summary)
        self._show_summary(view)
        self.rows = [admin_row(p) for p in listed["items"]]
        self.next_cursor = listed.get("next_cursor") or ""
        self.loaded = True

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in dict(STATUS_FILTERS) else ""
        self.more_loading = True
        yield
        try:
            listed = await self._list(None)
        except ServiceError as exc:
            self.error, self.more_loading = exc.message, False
            return
        self.rows = [admin_row(p) for p in listed["items"]]
        self.next_cursor = listed.get("next_cursor") or ""
        self.more_loading = False

    @rx.event
    async def load_more(self):
        if not self.next_cursor or self.more_loading:
            return
        self.more_loading = True
        yield
        try:
            listed = await self._list(self.next_cursor)
        except ServiceError as exc:
            self.error, self.more_loading = exc.message, False
            return
        self.rows = self.rows + [admin_row(p) for p in listed["items"]]
        self.next_cursor = listed.get("next_cursor") or ""
        self.more_loading = False

    # ── refund ───────────────────────────────────────────────────────────────
    @rx.event
    def open_refund(self, payment_id: str):
        row = next((r for r in self.rows if r.payment_id == payment_id), None)
        if row is None:
            return
        self.refund_row = {"payment_id": row.payment_id, "what": row.what, "who": row.who, "amount": row.amount,
                           "refundable": row.refundable, "date": row.date}
        self.refund_refundable_cents = row.refundable_cents
        self.refund_mode, self.refund_amount, self.refund_reason = "full", "", ""
        self.amount_error = self.reason_error = self.refund_error = self.notice = ""
        self.refund_open = True

    @rx.event
    def set_refund_open(self, value: bool):
        if not self.refund_busy:
            self.refund_open = bool(value)

    @rx.event
    def set_refund_mode(self, value: str):
        self.refund_mode = "part" if value == "part" else "full"
        self.amount_error = ""

    @rx.event
    def set_refund_amount(self, value: str):
        self.refund_amount = value[:20]
        self.amount_error = ""

    @rx.event
    def set_refund_reason(self, value: str):
        self.refund_reason = value[:500]
        self.reason_error = ""

    @rx.event
    async def refund(self):
        if self.refund_busy:
            return
        self.amount_error = self.reason_error = self.refund_error = ""
        amount: int | None = None
        if self.refund_mode == "part":
            amount = dollars_to_cents(self.refund_amount)
            if amount is None:
                self.amount_error = "Enter an amount in dollars and cents, e.g. 20.00."
            elif amount <= 0:
                self.amount_error = "The amount must be more than $0.00."
            elif amount > self.refund_refundable_cents:
                self.amount_error = f"At most {aud(self.refund_refundable_cents)} can be refunded."
        if not self.refund_reason.strip():
            self.reason_error = "Please give a reason; it is kept with the payment."
        if self.amount_error or self.reason_error:
            return
        self.refund_busy = True
        yield
        payment_id, reason = self.refund_row["payment_id"], self.refund_reason.strip()

        def work(session, actor):
            return payments.refund_payment(session, actor, payment_id=uuid.UUID(payment_id), amount_cents=amount,
                                           reason=reason)
        try:
            updated = await run_as_actor(self, work)
        except AuthRequired:
            self.refund_busy = False
            return
        except ServiceError as exc:
            self.refund_busy = False
            field = exc.details.get("field")
            if field == "amount_cents" and self.refund_mode == "part":
                self.amount_error = exc.message
            elif field == "reason":
                self.reason_error = exc.message
            else:
                self.refund_error = exc.message  # e.g. the provider declined: shown in the dialog
            return
        new = admin_row(updated)
        self.rows = [new if r.payment_id == payment_id else r for r in self.rows]
        self.refund_busy, self.refund_open = False, False
        self.notice = f"Refunded {aud(amount) if amount else self.refund_row['refundable']} for {new.what}."
        yield AdminPaymentsState.reload_summary

    @rx.event
    async def reload_summary(self):
        try:
            summary = await run_as_actor(self, lambda session, actor: payments.revenue_summary(session, actor,
                                                                                               days=DAYS))
        except ServiceError:
            return
        view = summary_view(summary)
        self._show_summary(view)


# ─────────────────────────────────────────────────────────────────────────────
# View
# ─────────────────────────────────────────────────────────────────────────────

def _stat(label: str, value, id: str, tone: str = "gray") -> rx.Component:
    return rx.card(
        rx.vstack(rx.text(label, size="2", color=rx.color("gray", 11)),
                  rx.text(value, size=rx.breakpoints(initial="5", sm="7"), weight="bold", id=id,
                          color=rx.color(tone, 11) if tone != "gray" else None),
                  spacing="1"),
        size="2",
    )


def revenue_section() -> rx.Component:
    st = AdminPaymentsState
    return rx.card(
        rx.el.section(
            rx.heading(f"Last {DAYS} days", as_="h2", size="5", id="revenue-heading", margin_bottom="0.75rem"),
            rx.grid(
                _stat("Gross", st.gross, "revenue-gross"),
                _stat("Refunds", st.refunds, "revenue-refunds", tone="red"),
                _stat("Net", st.net, "revenue-net", tone="green"),
                columns="3", gap="0.5rem", width="100%",
            ),
            rx.cond(st.test_note != "", rx.text(st.test_note, size="1", color=rx.color("amber", 11),
                                                  margin_top="0.5rem", id="revenue-test-note")),
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                    rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
                    rx.recharts.y_axis(tick_line=False, font_size=11, width=52,
                                       tick_formatter="(value) => '$' + value"),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.bar(data_key="net", name="Net (AUD)", fill=rx.color("accent", 9),
                                    radius=[4, 4, 0, 0]),
                    data=st.by_day, width="100%", height=220,
                ),
                width="100%", margin_top="1rem", id="revenue-chart",
                role="img", aria_label="Net revenue per day for the last 30 days, in Australian dollars",
            ),
            rx.heading("By payment method", as_="h3", size="3", margin_top="1rem"),
            rx.cond(
                st.by_method.length() > 0,
                rx.el.ul(
                    rx.foreach(st.by_method, lambda m: rx.el.li(
                        rx.hstack(rx.text(m["method"]), rx.spacer(),
                                  rx.text(m["amount"], weight="bold"), width="100%"),
                        list_style="none", padding_y="0.35rem", border_bottom=f"1px solid {rx.color('gray', 4)}")),
                    margin="0", padding="0", width="100%", id="revenue-by-method"),
                rx.text("No payments in this period.", size="2", color=rx.color("gray", 11)),
            ),
            aria_labelledby="revenue-heading",
        ),
        size=rx.breakpoints(initial="2", sm="3"), width="100%",
    )


def _payment_item(row: rx.Var) -> rx.Component:
    st = AdminPaymentsState
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.text(row.what, weight="bold", size="2"),
                rx.text(rx.cond(row.who != "", row.who + " · ", ""), row.date, " ", row.time, " · ", row.method,
                        size="1", color=rx.color("gray", 11)),
                rx.cond(row.refunded != "", rx.text(row.refunded + " refunded", size="1",
                                                    color=rx.color("amber", 11))),
                spacing="0", align="start", flex="1", min_width="0",
            ),
            rx.vstack(
                rx.text(row.amount, weight="bold"),
                rx.hstack(
                    rx.cond(row.test_mode, rx.badge("Test", color_scheme="amber", variant="outline")),
                    rx.badge(row.status_label, color_scheme=row.colour, variant="soft", class_name="payment-status"),
                    spacing="1",
                ),
                spacing="1", align="end",
            ),
            justify="between", align="start", gap="0.75rem", width="100%",
        ),
        rx.hstack(
            rx.cond(row.refundable_cents > 0,
                    rx.button(rx.icon("undo-2", size=14), "Refund", size="1", variant="soft", color_scheme="red",
                              on_click=st.open_refund(row.payment_id), class_name="refund-button",
                              aria_label="Refund " + row.what + " (" + row.amount + ")")),
            rx.cond(row.invoice_url != "",
                    file_link("Invoice", row.invoice_url, variant="ghost", size="1", class_name="invoice-link")),
            spacing="3", margin_top="0.35rem",
        ),
        list_style="none", padding_y="0.65rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="payment-row", data_payment=row.payment_id,
    )


def payments_section() -> rx.Component:
    st = AdminPaymentsState
    return rx.card(
        rx.el.section(
            rx.flex(
                rx.heading("Payments", as_="h2", size="5", id="payments-heading"),
                rx.vstack(
                    rx.el.label("Show", html_for="status-filter", font_size="var(--font-size-1)", font_weight="600"),
                    rx.el.select(*[rx.el.option(label, value=value) for value, label in STATUS_FILTERS],
                                 id="status-filter", value=st.status_filter, on_change=st.set_status_filter,
                                 style={"padding": "0.4rem", "border-radius": "8px",
                                        "border": f"1px solid {rx.color('gray', 7)}",
                                        "background": rx.color("gray", 1)}),
                    spacing="1",
                ),
                justify="between", align="end", wrap="wrap", gap="0.75rem", margin_bottom="0.5rem",
            ),
            message_box(st.notice, tone="green", id="refund-notice", icon="circle-check"),
            rx.cond(st.more_loading & (st.rows.length() == 0), rx.spinner()),
            rx.cond(st.rows.length() > 0,
                    rx.el.ul(rx.foreach(st.rows, _payment_item), margin="0", padding="0", width="100%",
                             id="admin-payment-list"),
                    rx.text("No payments match.", size="2", color=rx.color("gray", 11), as_="p")),
            rx.cond(st.next_cursor != "",
                    rx.button("Show more", variant="soft", on_click=st.load_more, loading=st.more_loading,
                              margin_top="0.75rem", id="load-more")),
            aria_labelledby="payments-heading",
        ),
        size=rx.breakpoints(initial="2", sm="3"), width="100%",
    )


def refund_dialog() -> rx.Component:
    st = AdminPaymentsState
    r = st.refund_row
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Refund a payment"),
            rx.dialog.description(r["what"] + rx.cond(r["who"] != "", " for " + r["who"], "") + ", paid "
                                  + r["date"] + ": " + r["amount"] + ". Up to " + r["refundable"]
                                  + " can be refunded.", size="2"),
            rx.vstack(
                rx.radio_group.root(
                    rx.vstack(
                        rx.el.label(rx.hstack(rx.radio_group.item(value="full", id="refund-full"),
                                              rx.text("Refund the full " + r["refundable"]), spacing="2",
                                              align="center"), html_for="refund-full"),
                        rx.el.label(rx.hstack(rx.radio_group.item(value="part", id="refund-part"),
                                              rx.text("Refund part of it"), spacing="2", align="center"),
                                    html_for="refund-part"),
                        spacing="2",
                    ),
                    value=st.refund_mode, on_change=st.set_refund_mode, aria_label="How much to refund",
                ),
                rx.cond(
                    st.refund_mode == "part",
                    rx.vstack(
                        rx.el.label("Amount to refund (AUD)", html_for="refund-amount", font_weight="600",
                                    font_size="var(--font-size-2)"),
                        rx.input(rx.input.slot("$"), id="refund-amount", value=st.refund_amount,
                                 on_change=st.set_refund_amount, input_mode="decimal", placeholder="0.00", size="3",
                                 aria_invalid=rx.cond(st.amount_error != "", "true", "false"),
                                 aria_describedby="refund-amount-error", width="100%",
                                 color_scheme=rx.cond(st.amount_error != "", "red", "gray")),
                        rx.cond(st.amount_error != "",
                                rx.text(st.amount_error, id="refund-amount-error", role="alert", size="2",
                                        color=rx.color("red", 11))),
                        spacing="1", width="100%",
                    ),
                ),
                rx.vstack(
                    rx.el.label("Reason", html_for="refund-reason", font_weight="600",
                                font_size="var(--font-size-2)"),
                    rx.text_area(id="refund-reason", value=st.refund_reason, on_change=st.set_refund_reason,
                                 placeholder="e.g. lesson cut short by the weather", width="100%",
                                 aria_invalid=rx.cond(st.reason_error != "", "true", "false"),
                                 aria_describedby="refund-reason-error"),
                    rx.cond(st.reason_error != "",
                            rx.text(st.reason_error, id="refund-reason-error", role="alert", size="2",
                                    color=rx.color("red", 11))),
                    spacing="1", width="100%",
                ),
                message_box(st.refund_error, id="refund-error"),
                rx.flex(
                    rx.dialog.close(rx.button("Keep the payment", variant="soft", color_scheme="gray", size="3",
                                              disabled=st.refund_busy)),
                    rx.button(rx.cond(st.refund_busy, "Refunding…", "Refund"), color_scheme="red", size="3",
                              on_click=st.refund, loading=st.refund_busy, id="confirm-refund"),
                    gap="0.75rem", justify="end", wrap="wrap", width="100%",
                ),
                spacing="4", width="100%", margin_top="1rem",
            ),
            max_width="30rem", id="refund-dialog",
        ),
        open=st.refund_open, on_open_change=st.set_refund_open,
    )


def admin_payments_page() -> rx.Component:
    st = AdminPaymentsState
    return layout(
        container(
            rx.vstack(
                page_title("Payments", "Revenue, payments and refunds. Amounts in AUD, GST inclusive; "
                                       "dates in Canberra time."),
                rx.hstack(button_link("Packages", "/admin/packages", icon="package", variant="soft", size="2"),
                          button_link("Admin home", "/admin", icon="arrow-left", variant="soft", size="2"),
                          wrap="wrap", spacing="3"),
                rx.cond(
                    st.loaded,
                    rx.vstack(message_box(st.error, id="admin-payments-error"), revenue_section(),
                              payments_section(), spacing="4", width="100%"),
                    rx.vstack(rx.hstack(rx.spinner(), rx.text("Loading payments…"), role="status"),
                              rx.skeleton(height="16rem", width="100%"), width="100%"),
                ),
                refund_dialog(),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), AdminPaymentsState.load]
