"""``/student/payments``: a learner's payments, invoices and lesson packages, and buying a package.

A parent whose learner shares payments (``can_view_payments``) sees the same
history and invoices for that learner (``?student=<id>`` picks one), but buys
nothing here. Every read goes through the payments, invoices and packages
services, which check who is asking.
"""
from __future__ import annotations

import dataclasses
import uuid

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container, file_link, route_link_button
from nexdrive.pages.auth._forms import go_to, message_box, page_title
from nexdrive.services.identity import accounts
from nexdrive.services.scheduling import catalogue
from nexdrive.services.money import packages
from nexdrive.services.money import payments
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError
from nexdrive.formats import au_date, aud
from nexdrive.state.auth import AuthState, require_role, run_as_actor

ROUTE = "/student/payments"
TITLE = "Payments and packages | NexDrive Academy"
DESCRIPTION = "Your NexDrive Academy payments, tax invoices and lesson packages; buy a package of lessons."

STATUS_LABELS = payments.STATUS_LABELS
STATUS_COLOURS = {"completed": "green", "refunded": "gray", "partially_refunded": "amber", "failed": "red",
                  "disputed": "red", "pending": "blue", "processing": "blue", "expired": "gray"}
METHOD_LABELS = {"card": "Card", "package_credit": "Package credit", "voucher": "Voucher", "cash": "Cash",
                 "direct_debit": "Direct debit", "afterpay": "Afterpay", "paypal": "PayPal", "other": "Other"}
PACKAGE_STATUS_LABELS = {"active": "Active", "exhausted": "Used up", "expired": "Expired", "cancelled": "Cancelled"}


@dataclasses.dataclass
class PaymentRow:
    payment_id: str = ""
    date: str = ""
    what: str = ""
    amount: str = ""
    method: str = ""
    status: str = ""
    status_label: str = ""
    colour: str = "gray"
    refund_note: str = ""
    invoice_number: str = ""
    invoice_url: str = ""


@dataclasses.dataclass
class PackageRow:
    name: str = ""
    credits_left: int = 0
    credits_total: int = 0
    percent_left: int = 0
    expires: str = ""
    status: str = ""
    status_label: str = ""


@dataclasses.dataclass
class OfferRow:
    package_id: str = ""
    name: str = ""
    description: str = ""
    price: str = ""
    credits: int = 0
    per_lesson: str = ""
    saving: str = ""
    validity: str = ""
    covers: str = ""


def payment_rows(items: list[dict]) -> list[PaymentRow]:
    """``payments.payment_view`` dicts as history rows (newest first, as listed)."""
    rows = []
    for p in items:
        status = str(p.get("status") or "")
        when = p.get("completed_at") or p.get("created_at")
        method = str(p.get("method") or "")
        rows.append(PaymentRow(
            payment_id=str(p.get("id")), date=au_date(when, weekday=False) if when else "",
            what=str(p.get("description") or "Payment"),
            amount=str(p.get("amount_display") or aud(p.get("amount_cents"))),
            method=METHOD_LABELS.get(method, method.replace("_", " ").capitalize()),
            status=status, status_label=str(p.get("status_label") or STATUS_LABELS.get(status, status)),
            colour=STATUS_COLOURS.get(status, "gray"),
            refund_note=f"{p['refunded_display']} refunded" if p.get("refunded_display") else "",
            invoice_number=str(p.get("invoice_number") or ""),
            invoice_url=f"/api/v1/invoices/{p['invoice_id']}/pdf" if p.get("invoice_id") else "",
        ))
    return rows


def package_rows(mine: list[dict]) -> list[PackageRow]:
    """``packages.my_packages`` dicts: credits left as a share for the progress bar."""
    rows = []
    for sp in mine:
        total = int(sp.get("credits_total") or 0)
        left = int(sp.get("credits_left") or 0)
        status = str(sp.get("status") or "active")
        expires = sp.get("expires_at")
        rows.append(PackageRow(
            name=str(sp.get("name") or "Lesson package"), credits_left=left, credits_total=total,
            percent_left=round(100 * left / total) if total else 0,
            expires=au_date(expires, weekday=False) if expires else "", status=status,
            status_label=str(sp.get("status_label") or PACKAGE_STATUS_LABELS.get(status, status.title())),
        ))
    return rows


def offer_rows(offers: list[dict], services: list[dict]) -> list[OfferRow]:
    """Price per lesson, and the saving against paying for the cheapest covered lesson one by one."""
    prices = {s["id"]: int(s["price_cents"]) for s in services}
    rows = []
    for p in offers:
        credits = int(p.get("total_credits") or 0)
        price = int(p.get("price_cents") or 0)
        covered = [str(x) for x in (p.get("service_ids") or [])]
        single = [prices[s] for s in (covered or prices) if s in prices]
        saving = min(single) * credits - price if single and credits else 0
        days = p.get("valid_for_days")
        rows.append(OfferRow(
            package_id=str(p["id"]), name=str(p.get("name") or ""), description=str(p.get("description") or ""),
            price=aud(price), credits=credits, per_lesson=aud(price // credits) if credits else "",
            saving=aud(saving) if saving > 0 else "",
            validity=f"Use within {days} days" if days else "No expiry",
            covers=", ".join(p.get("service_names") or []) or "Any lesson",
        ))
    return rows


def _load(session, actor, wanted: str) -> dict:
    me = accounts.get_me(session, actor)
    learners: list[dict] = []
    student_id = actor.student_id
    if actor.is_parent:
        learners = [{"id": str(s["student_id"]), "name": s["name"]}
                    for s in (me.get("parent") or {}).get("students", [])
                    if (s.get("permissions") or {}).get("can_view_payments")]
        chosen = next((x for x in learners if x["id"] == wanted), learners[0] if learners else None)
        student_id = uuid.UUID(chosen["id"]) if chosen else None
        if student_id is None:
            return {"learners": [], "student_id": "", "payments": [], "mine": [], "offers": [], "services": []}
    listed = payments.list_payments(session, actor, student_id=student_id, limit=100)
    return {
        "learners": learners, "student_id": str(student_id or ""),
        "payments": listed["items"],
        "mine": packages.my_packages(session, actor, student_id=student_id),
        "offers": packages.list_packages(session, actor) if actor.is_student else [],
        "services": catalogue.list_services(session, online_only=False),
    }


class StudentPaymentsState(rx.State):
    loaded: bool = False
    error: str = ""
    is_parent: bool = False
    learners: list[dict[str, str]] = []
    student_id: str = ""
    history: list[PaymentRow] = []
    my_packages: list[PackageRow] = []
    offers: list[OfferRow] = []
    buying: str = ""  # package id being bought
    buy_error: str = ""

    @rx.event
    async def load(self):
        self.loaded, self.error, self.buy_error, self.buying = False, "", "", ""
        yield  # show the loading state, not the previous visit's numbers
        wanted = self.router.url.query_parameters.get("student", "")
        try:
            data = await run_as_actor(self, lambda session, actor: {**_load(session, actor, wanted),
                                                                    "role": actor.role})
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return
        self.is_parent = data["role"] == "parent"
        self.learners, self.student_id = data["learners"], data["student_id"]
        self.history = payment_rows(data["payments"])
        self.my_packages = package_rows(data["mine"])
        self.offers = offer_rows(data["offers"], data["services"])
        self.loaded = True

    @rx.event
    def to_payments(self):
        """``/packages`` (the link in package messages) opens this page at the packages on sale."""
        return rx.redirect(ROUTE, replace=True)

    @rx.event
    def choose_learner(self, student_id: str):
        return rx.redirect(f"{ROUTE}?student={student_id}")

    @rx.event
    async def buy(self, package_id: str):
        if self.buying:
            return
        self.buying, self.buy_error = package_id, ""
        yield

        def work(session, actor):
            return payments.start_package_checkout(session, actor, package_id=uuid.UUID(package_id)).redirect_url
        try:
            url = await run_as_actor(self, work)
        except AuthRequired:
            self.buying = ""
            return
        except ServiceError as exc:
            self.buying, self.buy_error = "", exc.message
            return
        yield go_to(url)


# ─────────────────────────────────────────────────────────────────────────────
# View
# ─────────────────────────────────────────────────────────────────────────────

def _section(title, section_id: str, *children) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.heading(title, as_="h2", size="5", id=f"{section_id}-heading", margin_bottom="0.75rem"),
            *children,
            aria_labelledby=f"{section_id}-heading",
        ),
        id=section_id, size=rx.breakpoints(initial="2", sm="3"), width="100%",
    )


def _payment_item(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.text(row.what, weight="bold", size="2"),
                rx.text(row.date, " · ", row.method, size="1", color=rx.color("gray", 11)),
                rx.cond(row.refund_note != "", rx.text(row.refund_note, size="1", color=rx.color("amber", 11))),
                spacing="0", align="start", flex="1", min_width="0",
            ),
            rx.vstack(
                rx.text(row.amount, weight="bold", size="3"),
                rx.badge(row.status_label, color_scheme=row.colour, variant="soft", class_name="payment-status"),
                spacing="1", align="end",
            ),
            justify="between", align="start", gap="0.75rem", width="100%",
        ),
        rx.cond(row.invoice_url != "",
                rx.box(file_link("Invoice " + row.invoice_number, row.invoice_url, variant="ghost", size="1",
                                 class_name="invoice-link"), margin_top="0.25rem")),
        list_style="none", padding_y="0.65rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="payment-row",
    )


def history_section() -> rx.Component:
    st = StudentPaymentsState
    return _section(
        "Payment history", "payment-history",
        rx.cond(st.history.length() > 0,
                rx.el.ul(rx.foreach(st.history, _payment_item), margin="0", padding="0", width="100%",
                         id="payment-list"),
                rx.text("No payments yet.", size="2", color=rx.color("gray", 11), as_="p")),
        rx.text("Amounts are in Australian dollars and include GST where it applies. Invoices open as PDF files.",
                size="1", color=rx.color("gray", 11), as_="p", margin_top="0.75rem"),
    )


def _package_item(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(row.name, weight="bold"), rx.spacer(),
                      rx.badge(row.status_label, color_scheme=rx.cond(row.status == "active", "green", "gray")),
                      width="100%", align="center"),
            rx.text(row.credits_left.to_string() + " of " + row.credits_total.to_string() + " lessons left",
                    size="2", class_name="credits-left"),
            rx.progress(value=row.percent_left, max=100, width="100%",
                        aria_label=row.name + ": " + row.credits_left.to_string() + " of "
                        + row.credits_total.to_string() + " lessons left"),
            rx.text(rx.cond(row.expires != "", "Use by " + row.expires, "No expiry"), size="1",
                    color=rx.color("gray", 11)),
            spacing="2", width="100%",
        ),
        width="100%", class_name="my-package",
    )


def packages_section() -> rx.Component:
    st = StudentPaymentsState
    return _section(
        rx.cond(StudentPaymentsState.is_parent, "Packages", "Your packages"), "my-packages",
        rx.cond(st.my_packages.length() > 0,
                rx.grid(rx.foreach(st.my_packages, _package_item), columns=rx.breakpoints(initial="1", sm="2"),
                        gap="0.75rem", width="100%"),
                rx.text("No packages yet. A package gives you lessons at a lower price; use a credit when you book.",
                        size="2", color=rx.color("gray", 11), as_="p")),
    )


def _offer_card(row: rx.Var) -> rx.Component:
    st = StudentPaymentsState
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(row.name, as_="h3", size="4"), rx.spacer(),
                      rx.cond(row.saving != "", rx.badge("Save " + row.saving, color_scheme="green", size="2")),
                      width="100%", align="center", wrap="wrap"),
            rx.cond(row.description != "", rx.text(row.description, size="2", color=rx.color("gray", 11))),
            rx.hstack(rx.text(row.price, size="7", weight="bold"),
                      rx.text(row.credits.to_string() + " lessons", size="2", color=rx.color("gray", 11)),
                      align="baseline", spacing="2"),
            rx.text(row.per_lesson + " per lesson · " + row.validity, size="2"),
            rx.text("For: " + row.covers, size="1", color=rx.color("gray", 11)),
            rx.button(rx.cond(st.buying == row.package_id, "Opening payment…", "Buy for " + row.price),
                      on_click=st.buy(row.package_id), loading=st.buying == row.package_id,
                      disabled=st.buying != "", size="3", width="100%", id="buy-" + row.package_id,
                      class_name="buy-package"),
            spacing="2", width="100%", align="start",
        ),
        width="100%", class_name="package-offer",
    )


def offers_section() -> rx.Component:
    st = StudentPaymentsState
    return rx.cond(
        ~st.is_parent,
        _section(
            "Buy a package", "buy-package",
            message_box(st.buy_error, id="buy-error"),
            rx.cond(st.offers.length() > 0,
                    rx.grid(rx.foreach(st.offers, _offer_card), columns=rx.breakpoints(initial="1", sm="2", md="3"),
                            gap="0.75rem", width="100%"),
                    rx.text("No packages are on offer at the moment.", size="2", color=rx.color("gray", 11),
                            as_="p")),
        ),
    )


def learner_picker() -> rx.Component:
    st = StudentPaymentsState
    return rx.cond(
        st.is_parent,
        rx.cond(
            st.learners.length() > 0,
            rx.vstack(
                rx.el.label("Learner", html_for="learner-select", font_weight="600",
                            font_size="var(--font-size-2)"),
                rx.el.select(
                    rx.foreach(st.learners, lambda s: rx.el.option(s["name"], value=s["id"])),
                    id="learner-select", value=st.student_id,
                    on_change=st.choose_learner,
                    style={"padding": "0.5rem", "border-radius": "8px", "min-width": "14rem",
                           "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)},
                ),
                spacing="1",
            ),
            rx.callout("No learner shares their payments with you. A learner can turn this on in their Family "
                       "access settings.", icon="info", color_scheme="gray", id="no-learners"),
        ),
    )


def student_payments_page() -> rx.Component:
    st = StudentPaymentsState
    return layout(
        container(
            rx.vstack(
                page_title("Payments and packages",
                           rx.cond(st.is_parent, "Your learner's payments, invoices and lesson packages.",
                                   "Your payments, invoices and lesson packages.")
                           + " All amounts in Australian dollars."),
                rx.cond(
                    st.loaded,
                    rx.vstack(
                        message_box(st.error, id="payments-error"),
                        learner_picker(),
                        rx.cond(~st.is_parent | (st.student_id != ""),
                                rx.vstack(packages_section(), offers_section(), history_section(),
                                          spacing="4", width="100%")),
                        rx.hstack(button_link("Book a lesson", "/book", icon="calendar-plus", size="2"),
                                  route_link_button("Back to your dashboard", AuthState.home_route, variant="soft",
                                                    size="2", icon="arrow-left"),
                                  wrap="wrap", spacing="3"),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading your payments…"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("student", "parent"), StudentPaymentsState.load]

PACKAGES_ROUTE = "/packages"
PACKAGES_TITLE = "Lesson packages | NexDrive Academy"
PACKAGES_DESCRIPTION = "Buy a NexDrive Academy lesson package from your learner account."


def packages_redirect_page() -> rx.Component:
    return layout(container(rx.hstack(rx.spinner(), rx.text("Opening lesson packages…"), role="status"),
                            padding_y="3rem"))


PACKAGES_ON_LOAD = [StudentPaymentsState.to_payments]
