"""Invoices and receipts (docs/decisions/0008-time-and-money-formats.md): gap-free numbers, GST, PDF through
the storage adapter.

Contract used by the payments service: ``issue_invoice(session, payment_id)`` is
called in the same transaction that marks a payment completed, and is idempotent
(one invoice per payment). Call it as the last database step of that
transaction: it holds the year's counter row until commit, and every other
global lock (the audit chain head, say) should be taken before it, never after,
so two completions cannot deadlock.

Numbers are ``NXD-<year>-<seq:04d>``; the year is the Canberra year of issue.
The sequence comes from the ``invoice_counters`` row of that year, incremented
with an upsert that locks the row until commit: a rolled-back payment rolls its
number back too, so numbers are gap-free and unique however many payments
complete at once.

Prices are GST-inclusive. A GST-registered business issues a "Tax invoice" with
its ABN and the GST (1/11 of the total, rounded to the cent); otherwise a plain
"Invoice" with no GST. The invoice row is immutable once issued; refunds (kept
on the payment by the payments service) are shown on the PDF a download renders.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from fpdf.enums import XPos, YPos
from sqlmodel import Session, select

from nexdrive.models import (
    Booking,
    BusinessSettings,
    Contact,
    Invoice,
    Package,
    Payment,
    Profile,
    Refund,
    Service,
    Student,
    Voucher,
    VoucherRedemption,
)
from nexdrive.services.core import access
from nexdrive.services.core.pdf_layout import BRAND, INK, MUTED, RULE, SHADE, LayoutPdf, logo
from nexdrive.services.identity.accounts import AuthRequired, hash_token
from nexdrive.services.core.actors import Actor
from nexdrive.services.crm.contacts import format_au_phone
from nexdrive.errors import Forbidden, NotFound
from nexdrive.formats import au_date, au_when, aud, local

logger = logging.getLogger("nexdrive.invoices")

PREFIX = "NXD"
# A payment that was completed at some point gets an invoice; pending/failed ones don't.
INVOICEABLE_STATUSES = ("completed", "partially_refunded", "refunded")
BUYER_REQUIRED_FROM_CENTS = 100_000  # ATO: a tax invoice of $1,000 or more must identify the buyer
PDF_TYPE = "application/pdf"
METHOD_LABELS = {
    "card": "card", "direct_debit": "direct debit", "afterpay": "Afterpay", "paypal": "PayPal",
    "package_credit": "package credit", "voucher": "voucher", "cash": "cash", "other": "other means",
}


# ─────────────────────────────────────────────────────────────────────────────
# GST, to the cent
# ─────────────────────────────────────────────────────────────────────────────


def gst_of(inclusive_cents: int) -> int:
    """GST inside a GST-inclusive amount: 1/11, rounded half up to the cent (sign kept for credits)."""
    cents = int(inclusive_cents)
    magnitude = (abs(cents) * 2 + 11) // 22  # round(|c| / 11), halves up, integer maths only
    return magnitude if cents >= 0 else -magnitude


def allocate_gst(line_totals: list[int], gst_total: int) -> list[int]:
    """Each line's GST so that the lines add up exactly to ``gst_total`` (the GST of the invoice total).

    Rounding each line on its own can miss the total by a few cents, so this
    starts every line at the cent below its exact 1/11 and hands the missing
    cents to the lines with the largest remainders (largest remainder method):
    every line ends within a cent of its exact GST and the sum is exact.
    """
    if not line_totals:
        return []
    floors = [t // 11 for t in line_totals]  # floor, also for credits (negative lines)
    missing = gst_total - sum(floors)
    order = sorted(range(len(line_totals)), key=lambda i: (-(line_totals[i] - 11 * floors[i]), -line_totals[i], i))
    if not 0 <= missing <= len(line_totals):
        raise ValueError("gst_total is not the GST of these lines")
    for i in order[:missing]:
        floors[i] += 1
    return floors


def format_abn(abn: str | None) -> str:
    """'12345678901' -> '12 345 678 901' (how an ABN is written)."""
    digits = re.sub(r"\D", "", abn or "")
    if len(digits) != 11:
        return (abn or "").strip()
    return f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"


# ─────────────────────────────────────────────────────────────────────────────
# What the invoice says: lines and the two parties, as at issue
# ─────────────────────────────────────────────────────────────────────────────


def _line(kind: str, description: str, total_cents: int, detail: str = "") -> dict[str, Any]:
    return {"kind": kind, "description": description, "detail": detail, "quantity": 1,
            "unit_cents": total_cents, "total_cents": total_cents, "gst_cents": 0}


def _redemptions(session: Session, payment: Payment) -> list[tuple[VoucherRedemption, Voucher | None]]:
    """Voucher discounts taken off this payment (linked to it, or to its booking before it existed)."""
    condition = VoucherRedemption.payment_id == payment.id
    if payment.booking_id is not None:
        condition = sa.or_(condition, sa.and_(VoucherRedemption.booking_id == payment.booking_id,
                                              VoucherRedemption.payment_id.is_(None)))
    rows = session.exec(select(VoucherRedemption).where(condition).order_by(VoucherRedemption.created_at)).all()
    return [(r, session.get(Voucher, r.voucher_id)) for r in rows if r.discount_cents > 0]


def build_line_items(session: Session, payment: Payment) -> list[dict[str, Any]]:
    """The invoice lines for a payment; they always add up to exactly what was paid.

    A lesson shows the service, its Canberra date and time and its length; a
    package its name and credits; a voucher is a negative line. The main line is
    what was paid plus the discounts, so the lines sum to the payment however
    the price was made up (a deposit or a fee carries the payment's description).
    """
    discounts = _redemptions(session, payment)
    discount_total = sum(r.discount_cents for r, _ in discounts)
    gross = payment.amount_cents + discount_total
    lines: list[dict[str, Any]] = []
    booking = session.get(Booking, payment.booking_id) if payment.booking_id else None
    package = session.get(Package, payment.package_id) if payment.package_id else None
    if booking is not None:
        service = session.get(Service, booking.service_id)
        name = service.name if service else "Driving lesson"
        detail = f"{au_when(booking.start_time, booking.end_time)} ({booking.duration_minutes} min)"
        if gross != booking.amount_cents and payment.description:
            name, detail = payment.description, f"{name}, {detail}"
        lines.append(_line("lesson", name, gross, detail))
    elif package is not None:
        detail = f"{package.total_credits} lesson credit{'s' if package.total_credits != 1 else ''}"
        if package.valid_for_days:
            detail += f", valid for {package.valid_for_days} days"
        lines.append(_line("package", package.name, gross, detail))
    else:
        lines.append(_line("other", payment.description or "Driving school services", gross))
    for redemption, voucher in discounts:
        label = f"Voucher {voucher.code}" if voucher else "Voucher"
        detail = f"{voucher.discount_percent}% off" if voucher and voucher.voucher_type == "percentage" else "Discount"
        lines.append(_line("discount", label, -redemption.discount_cents, detail))
    return lines


def business_snapshot(session: Session) -> dict[str, Any]:
    row = session.get(BusinessSettings, 1) or BusinessSettings()
    return {"name": row.business_name, "abn": format_abn(row.abn) or None, "gst_registered": bool(row.gst_registered),
            "address": row.address, "email": row.email, "phone": row.phone, "website": row.website}


def _profile_buyer(profile: Profile) -> dict[str, Any]:
    street = ", ".join(p for p in (profile.address_line1, profile.address_line2) if p)
    town = " ".join(p for p in (profile.suburb, profile.state, profile.postcode) if p) if (
        profile.suburb or profile.postcode) else ""
    address = "\n".join(p for p in (street, town) if p) or None
    return {"name": f"{profile.first_name} {profile.last_name}".strip(), "email": profile.email,
            "phone": format_au_phone(profile.phone) or None, "address": address}


def buyer_snapshot(session: Session, payment: Payment, booking: Booking | None) -> dict[str, Any]:
    """Who paid, as at issue: the student (profile), else the contact who booked."""
    student_id = payment.student_id or (booking.student_id if booking else None)
    contact_id = payment.contact_id or (booking.contact_id if booking else None)
    if student_id is not None:
        student = session.get(Student, student_id)
        profile = session.get(Profile, student.profile_id) if student else None
        if profile is not None:
            return _profile_buyer(profile)
    if booking is not None and booking.student_id is None and (booking.booker_phone or booking.booker_email):
        return {"name": booking.booker_name, "email": booking.booker_email,  # as typed in the booking
                "phone": format_au_phone(booking.booker_phone) or None, "address": None}
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is not None:
            return {"name": contact.full_name, "email": contact.email,
                    "phone": format_au_phone(contact.phone) or None, "address": None}
    return {"name": None, "email": None, "phone": None, "address": None}


def invoice_number(year: int, seq: int) -> str:
    return f"{PREFIX}-{year}-{seq:04d}"


def storage_key(invoice: Invoice) -> str:
    return f"invoices/{invoice.year}/{invoice.invoice_number}.pdf"


def refunds_for(payment: Payment) -> list[dict[str, Any]]:
    """Each refund to show on the invoice: the ``refunds`` rows the gateway accepted (pending ones
    count, as the payments service already takes them off the totals), else the payment's totals."""
    if not payment.refund_amount_cents:
        return []
    session = Session.object_session(payment)
    if session is not None:
        rows = session.exec(select(Refund).where(Refund.payment_id == payment.id,
                                                 Refund.status.in_(("pending", "succeeded")))
                            .order_by(Refund.created_at, Refund.id)).all()
        if rows and sum(r.amount_cents for r in rows) == payment.refund_amount_cents:
            return [{"amount_cents": r.amount_cents, "refunded_at": r.created_at, "reason": r.reason}
                    for r in rows]
    return [{"amount_cents": payment.refund_amount_cents, "refunded_at": payment.refunded_at,
             "reason": payment.refund_reason}]


# ─────────────────────────────────────────────────────────────────────────────
# Issuing
# ─────────────────────────────────────────────────────────────────────────────


def _storage():
    from nexdrive.adapters import get_adapter
    return get_adapter("storage")


def _next_seq(session: Session, year: int) -> int:
    """Take the next number of ``year``; the counter row stays locked until this transaction ends."""
    return session.execute(sa.text(
        "INSERT INTO invoice_counters (year, last_seq) VALUES (:year, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_seq = invoice_counters.last_seq + 1 RETURNING last_seq"
    ), {"year": year}).scalar_one()


def issue_invoice(session: Session, payment_id: uuid.UUID, *, now: datetime | None = None) -> Invoice | None:
    """Issue (or return the existing) invoice for a completed payment, in the caller's transaction.

    Returns None for a payment that isn't completed, or that was paid with
    package credit (the package's own invoice covers it). The PDF is stored
    before commit under a key named by the number: a rolled-back issue can leave
    a file behind, but its number is reissued by the next commit, which stores
    its own PDF over it; ``pdf_storage_key`` is only set when that store worked
    (otherwise downloads render the PDF on the fly), so a stale file is never served.
    """
    payment = session.exec(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if payment is None or payment.status not in INVOICEABLE_STATUSES or payment.payment_method == "package_credit":
        return None
    existing = session.exec(select(Invoice).where(Invoice.payment_id == payment.id)).first()
    if existing is not None:
        return existing

    booking = session.get(Booking, payment.booking_id) if payment.booking_id else None
    business = business_snapshot(session)
    buyer = buyer_snapshot(session, payment, booking)
    buyer["required"] = payment.amount_cents >= BUYER_REQUIRED_FROM_CENTS
    lines = build_line_items(session, payment)
    total = payment.amount_cents
    taxed = business["gst_registered"]
    gst = gst_of(total) if taxed else 0
    for line, share in zip(lines, allocate_gst([ln["total_cents"] for ln in lines], gst) if taxed else []):
        line["gst_cents"] = share
    if taxed and not business["abn"]:
        logger.warning("Tax invoice for payment %s issued without an ABN: set it in the business settings.", payment.id)

    issued_at = now or session.execute(sa.text("SELECT now()")).scalar_one()
    year = local(issued_at).year
    seq = _next_seq(session, year)
    invoice = Invoice(
        invoice_number=invoice_number(year, seq), year=year, seq=seq, payment_id=payment.id,
        student_id=payment.student_id or (booking.student_id if booking else None),
        contact_id=payment.contact_id or (booking.contact_id if booking else None),
        issued_at=issued_at, subtotal_cents=total - gst, gst_cents=gst, total_cents=total, is_tax_invoice=taxed,
        line_items=lines, business_snapshot=business, buyer_snapshot=buyer,
    )
    try:
        pdf = render_invoice_pdf(invoice, refunds=refunds_for(payment), **_payment_facts(payment))
        invoice.pdf_storage_key = _storage().put(storage_key(invoice), pdf, PDF_TYPE)
    except Exception:  # a storage outage must not undo the payment; downloads render on demand
        logger.exception("Could not store the PDF of %s; it will be rendered on download.", invoice.invoice_number)
    session.add(invoice)
    session.flush()
    return invoice


def _payment_facts(payment: Payment) -> dict[str, Any]:
    return {"payment_method": payment.payment_method, "test_mode": payment.gateway == "local"}


# ─────────────────────────────────────────────────────────────────────────────
# The PDF (fpdf2)
# ─────────────────────────────────────────────────────────────────────────────

class _InvoicePdf(LayoutPdf):
    """The shared page with the invoice's wider margins and room for its footer."""

    def __init__(self, footer_text: str):
        super().__init__(footer_text, bottom=24)
        self.set_margins(18, 16, 18)


def _block(pdf: _InvoicePdf, x: float, y: float, w: float, title: str, rows: list[tuple[str, bool]]) -> float:
    """A titled block of lines (text, bold?) at (x, y); returns the y below it."""
    pdf.set_xy(x, y)
    pdf.font(7.5, bold=True, color=MUTED)
    pdf.cell(w, 4.5, title.upper(), new_x=XPos.LEFT, new_y=YPos.NEXT)
    for text, bold in rows:
        for part in str(text).split("\n"):
            if not part.strip():
                continue
            pdf.set_x(x)
            pdf.font(9, bold=bold)
            pdf.multi_cell(w, 4.6, pdf.t(part), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _pairs(pdf: _InvoicePdf, x: float, y: float, w: float, title: str, rows: list[tuple[str, str]]) -> float:
    label_w = 30.0
    pdf.set_xy(x, y)
    pdf.font(7.5, bold=True, color=MUTED)
    pdf.cell(w, 4.5, title.upper(), new_x=XPos.LEFT, new_y=YPos.NEXT)
    for label, value in rows:
        pdf.set_x(x)
        pdf.font(9, color=MUTED)
        pdf.cell(label_w, 4.6, pdf.t(label))
        pdf.font(9, bold=True)
        pdf.cell(w - label_w, 4.6, pdf.t(value), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_x(x)
    return pdf.get_y()


def _total_row(pdf: _InvoicePdf, label: str, value: str, *, bold: bool = False, size: float = 9.5,
               rule_above: bool = False, color=INK) -> None:
    x, label_w, value_w = 100.0, 62.0, 28.0  # the value's right edge lines up with the items' amounts
    if rule_above:
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.3)
        pdf.line(x, pdf.get_y() + 0.8, x + label_w + value_w, pdf.get_y() + 0.8)
        pdf.set_line_width(0.2)
        pdf.set_y(pdf.get_y() + 1.6)
    pdf.set_x(x)
    pdf.font(size, bold=bold, color=color)
    pdf.cell(label_w, size * 0.56, pdf.t(label), align="L")
    pdf.cell(value_w, size * 0.56, pdf.t(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(pdf.get_y() + 0.8)


def render_invoice_pdf(invoice: Invoice, *, refunds: Iterable[dict[str, Any]] = (),
                       payment_method: str | None = None, test_mode: bool = False) -> bytes:
    """The invoice as an A4 PDF: "Tax invoice" (ABN, GST) or "Invoice", items, totals, payment and refunds.

    Deterministic for the same inputs (the creation date is the issue time), so
    re-rendering an invoice reproduces the document that was issued.
    """
    refunds = [r for r in refunds if r.get("amount_cents")]
    business = dict(invoice.business_snapshot or {})
    buyer = dict(invoice.buyer_snapshot or {})
    name = business.get("name") or "NexDrive Academy"
    taxed = bool(invoice.is_tax_invoice)
    abn = business.get("abn") if taxed else None
    title = "Tax invoice" if taxed else "Invoice"
    issued = au_date(invoice.issued_at, weekday=False)
    refunded = sum(int(r["amount_cents"]) for r in refunds)
    net = invoice.total_cents - refunded

    footer = " · ".join(p for p in (name, f"ABN {abn}" if abn else "", business.get("email") or "",
                                    business.get("phone") or "") if p)
    pdf = _InvoicePdf(footer)
    pdf.set_title(f"{title} {invoice.invoice_number}")
    pdf.set_author(name)
    pdf.set_subject(f"{title} {invoice.invoice_number} from {name}")
    pdf.set_creator(name)
    pdf.set_creation_date(invoice.issued_at)
    pdf.continued = f"{title} {invoice.invoice_number} (continued)"
    pdf.add_page()
    left, right = pdf.l_margin, pdf.w - pdf.r_margin
    width = right - left

    # Heading: the mark and the business on the left, the document title and number on the right.
    logo(pdf, left, 16, 15)
    pdf.set_xy(left + 19, 16)
    pdf.font(16, bold=True)
    pdf.cell(100, 7.5, pdf.t(name), new_x=XPos.LEFT, new_y=YPos.NEXT)
    if abn:
        pdf.font(9.5, bold=True)
        pdf.cell(100, 5, pdf.t(f"ABN {abn}"), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.font(8.5, color=MUTED)
    for part in (business.get("address") or "").split("\n"):
        if part.strip():
            pdf.cell(100, 4.2, pdf.t(part.strip()), new_x=XPos.LEFT, new_y=YPos.NEXT)
    reach = "  |  ".join(p for p in (business.get("phone"), business.get("email")) if p)
    for part in (reach, business.get("website")):
        if part:
            pdf.cell(100, 4.2, pdf.t(part), new_x=XPos.LEFT, new_y=YPos.NEXT)
    head_bottom = pdf.get_y()
    pdf.set_xy(right - 70, 15.5)
    pdf.font(22, bold=True, color=BRAND)
    pdf.cell(70, 10, pdf.t(title.upper()), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(right - 70)
    pdf.font(10.5, bold=True)
    pdf.cell(70, 5.5, pdf.t(invoice.invoice_number), align="R")
    rule_y = max(head_bottom, 33) + 3
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(0.6)
    pdf.line(left, rule_y, right, rule_y)
    pdf.set_line_width(0.2)

    # Bill to / Invoice details.
    details_w = 72.0
    bill_rows = [(buyer.get("name") or "Customer", True)]
    for key in ("address", "email", "phone"):
        if buyer.get(key):
            bill_rows.append((buyer[key], False))
    status = "Refunded" if net <= 0 and refunded else ("Part refunded" if refunded else "Paid")
    detail_rows = [("Invoice number", invoice.invoice_number), ("Date of issue", issued), ("Status", status)]
    if payment_method:
        label = METHOD_LABELS.get(payment_method, payment_method)
        detail_rows.append(("Paid by", label[:1].upper() + label[1:]))
    y = max(_block(pdf, left, rule_y + 5, width - details_w - 10, "Bill to", bill_rows),
            _pairs(pdf, right - details_w, rule_y + 5, details_w, "Invoice details", detail_rows))

    # Items.
    cols = (width - 80, 14, 30, 36)
    amount_head = "Amount (incl. GST)" if taxed else "Amount"

    def header_row(top: float) -> float:
        pdf.set_fill_color(*SHADE)
        pdf.rect(left, top, width, 7, style="F")
        pdf.set_xy(left + 2, top)
        pdf.font(8, bold=True, color=MUTED)
        for text, w, align in zip(("Description", "Qty", "Unit price", amount_head),
                                  (cols[0] - 2, cols[1], cols[2], cols[3] - 2), "LRRR"):
            pdf.cell(w, 7, pdf.t(text), align=align)
        return top + 7

    y = header_row(y + 7)
    for item in invoice.line_items or []:
        pdf.font(9.5)
        desc_h = pdf.multi_cell(cols[0] - 3, 4.8, pdf.t(item.get("description")), dry_run=True, output="HEIGHT")
        detail = item.get("detail") or ""
        pdf.font(8.5)
        detail_h = pdf.multi_cell(cols[0] - 3, 4.2, pdf.t(detail), dry_run=True, output="HEIGHT") if detail else 0
        row_h = desc_h + detail_h + 4
        if y + row_h > pdf.page_break_trigger:
            pdf.add_page()
            y = header_row(pdf.t_margin)
        pdf.set_xy(left + 2, y + 2)
        pdf.font(9.5, bold=True)
        pdf.multi_cell(cols[0] - 3, 4.8, pdf.t(item.get("description")), align="L", new_x=XPos.LEFT,
                       new_y=YPos.NEXT)
        if detail:
            pdf.set_x(left + 2)
            pdf.font(8.5, color=MUTED)
            pdf.multi_cell(cols[0] - 3, 4.2, pdf.t(detail), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_xy(left + cols[0], y + 2)
        pdf.font(9.5)
        pdf.cell(cols[1], 4.8, str(item.get("quantity", 1)), align="R")
        pdf.cell(cols[2], 4.8, pdf.t(aud(item.get("unit_cents"))), align="R")
        pdf.cell(cols[3] - 2, 4.8, pdf.t(aud(item.get("total_cents"))), align="R")
        y += row_h
        pdf.set_draw_color(*RULE)
        pdf.line(left, y, right, y)

    # Totals.
    pdf.set_y(y + 4)
    if pdf.get_y() + 60 > pdf.page_break_trigger:
        pdf.add_page()
    if taxed:
        _total_row(pdf, "Subtotal (excl. GST)", aud(invoice.subtotal_cents), color=MUTED)
        _total_row(pdf, "GST (10%)", aud(invoice.gst_cents), color=MUTED)
        _total_row(pdf, "Total (incl. GST)", aud(invoice.total_cents), bold=True, size=11.5, rule_above=True)
    else:
        _total_row(pdf, "Total", aud(invoice.total_cents), bold=True, size=11.5, rule_above=True)
    _total_row(pdf, f"Amount paid {issued}", aud(invoice.total_cents))
    if not refunded:
        _total_row(pdf, "Balance due", aud(0), bold=True)
    if taxed:
        pdf.set_y(pdf.get_y() + 1)
        pdf.set_x(100)
        pdf.font(9.5, bold=True, color=BRAND)
        pdf.cell(90, 5, pdf.t(f"Total includes GST of {aud(invoice.gst_cents)}"), align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Refunds.
    if refunds:
        pdf.set_y(pdf.get_y() + 6)
        pdf.font(10.5, bold=True)
        pdf.cell(0, 6, "Refunds", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        gst_w = 30 if taxed else 0
        widths = (38, width - 38 - gst_w - 36, gst_w, 36)
        top = pdf.get_y()
        pdf.set_fill_color(*SHADE)
        pdf.rect(left, top, width, 7, style="F")
        pdf.set_xy(left + 2, top)
        pdf.font(8, bold=True, color=MUTED)
        heads = ("Date", "Reason", "GST included" if taxed else "", "Amount")
        for text, w, align in zip(heads, (widths[0] - 2, widths[1], widths[2], widths[3] - 2), "LLRR"):
            if w:
                pdf.cell(w, 7, pdf.t(text), align=align)
        y = top + 7
        for refund in refunds:
            when = refund.get("refunded_at")
            reason = pdf.t(refund.get("reason") or "Refund")
            pdf.font(9.5)
            row_h = pdf.multi_cell(widths[1] - 2, 4.8, reason, dry_run=True, output="HEIGHT") + 4
            if y + row_h > pdf.page_break_trigger:
                pdf.add_page()
                y = pdf.t_margin
            pdf.set_xy(left + 2, y + 2)
            pdf.cell(widths[0] - 2, 4.8, pdf.t(au_date(when, weekday=False) if when else ""))
            pdf.multi_cell(widths[1] - 2, 4.8, reason, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_xy(left + widths[0] + widths[1], y + 2)
            if taxed:  # (a zero-width cell would stretch to the margin)
                pdf.cell(widths[2], 4.8, pdf.t("-" + aud(gst_of(refund["amount_cents"]))), align="R")
            pdf.cell(widths[3] - 2, 4.8, pdf.t("-" + aud(refund["amount_cents"])), align="R")
            y += row_h
            pdf.set_draw_color(*RULE)
            pdf.line(left, y, right, y)
        pdf.set_y(y)
        pdf.set_y(pdf.get_y() + 2)
        if taxed:
            gst_back = sum(gst_of(r["amount_cents"]) for r in refunds)
            _total_row(pdf, "Amount refunded (incl. GST)", aud(refunded))
            _total_row(pdf, "GST refunded", aud(gst_back), color=MUTED)
            _total_row(pdf, "Net paid (incl. GST)", aud(net), bold=True, rule_above=True)
            _total_row(pdf, "GST on net paid", aud(invoice.gst_cents - gst_back), color=MUTED)
        else:
            _total_row(pdf, "Amount refunded", aud(refunded))
            _total_row(pdf, "Net paid", aud(net), bold=True, rule_above=True)

    # Payment and notes.
    pdf.set_y(pdf.get_y() + 6)
    notes = []
    if payment_method:
        how = METHOD_LABELS.get(payment_method, payment_method)
        notes.append(f"Paid in full by {how} on {issued}. Thank you.")
    if test_mode:
        notes.append("Test mode: this payment was recorded by the offline test gateway; no money changed hands.")
    if taxed:
        notes.append("All prices include GST.")
    else:
        notes.append(f"No GST has been charged: {name} is not registered for GST.")
    if buyer.get("required") and not buyer.get("name"):
        notes.append("Buyer not identified: please contact us to have your name added to this invoice.")
    pdf.font(9, color=MUTED)
    for note in notes:
        pdf.multi_cell(0, 4.8, pdf.t(note), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    contact = " or ".join(p for p in (business.get("email"), business.get("phone")) if p)
    if contact:
        pdf.multi_cell(0, 4.8, pdf.t(f"Questions about this invoice: {contact}."), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# ─────────────────────────────────────────────────────────────────────────────
# Reading and downloading, with access control
# ─────────────────────────────────────────────────────────────────────────────


def _token_matches(session: Session, booking_id: uuid.UUID | None, manage_token: str | None) -> bool:
    """The secret "manage your booking" link also opens the invoices of that booking."""
    if not manage_token or booking_id is None:
        return False
    booking = session.get(Booking, booking_id)
    return bool(booking and booking.manage_token_hash and booking.manage_token_hash == hash_token(manage_token))


def _may_see(session: Session, actor: Actor, student_id: uuid.UUID | None, booking_id: uuid.UUID | None,
             manage_token: str | None) -> bool:
    """Admin: all; the student; a parent the student lets see payments; the holder of the booking's link."""
    if _token_matches(session, booking_id, manage_token):
        return True
    if actor.sees_everything:
        return True
    if actor.is_family and actor.user_id is not None and student_id is not None:
        return access.can_access_student(session, actor, student_id, "payments")
    return False


def _refuse(actor: Actor, exists: bool, manage_token: str | None, what: str = "invoice"):
    """AuthRequired for the signed-out (NotFound with a wrong link), NotFound for the admin, else Forbidden."""
    if actor.is_visitor or (actor.user_id is None and not actor.is_system):
        if manage_token:
            raise NotFound(f"No such {what}.")  # a wrong link reveals nothing
        raise AuthRequired("Please sign in to download your invoice.")
    if not exists and actor.sees_everything:
        raise NotFound(f"No such {what}.")
    raise Forbidden(f"You don't have access to this {what}.")


NO_INVOICE_YET = "There is no invoice for this payment yet: it is issued when the payment completes."


def invoice_dict(invoice: Invoice, payment: Payment | None) -> dict[str, Any]:
    refunded = payment.refund_amount_cents if payment else 0
    return {
        "id": str(invoice.id), "invoice_number": invoice.invoice_number, "payment_id": str(invoice.payment_id),
        "student_id": str(invoice.student_id) if invoice.student_id else None,
        "issued_at": invoice.issued_at.isoformat(), "issued": au_date(invoice.issued_at, weekday=False),
        "is_tax_invoice": invoice.is_tax_invoice, "title": "Tax invoice" if invoice.is_tax_invoice else "Invoice",
        "total_cents": invoice.total_cents, "gst_cents": invoice.gst_cents, "subtotal_cents": invoice.subtotal_cents,
        "total": aud(invoice.total_cents), "gst": aud(invoice.gst_cents),
        "refunded_cents": refunded, "net_cents": invoice.total_cents - refunded,
        "description": "; ".join(ln["description"] for ln in invoice.line_items if ln.get("kind") != "discount"),
        "buyer_name": (invoice.buyer_snapshot or {}).get("name"),
        "download_url": f"/api/v1/invoices/{invoice.id}/pdf",
    }


def list_invoices(session: Session, actor: Actor, *, student_id: uuid.UUID | None = None,
                  limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Newest first. Admin: all; student: own; parent: students who let them see payments; instructors: none."""
    access.require_signed_in(actor)
    if actor.is_instructor:
        raise Forbidden("Invoices are visible to the administrator and the student only.")
    limit, offset = max(1, min(int(limit), access.MAX_PAGE)), max(0, int(offset))
    query = select(Invoice).order_by(Invoice.issued_at.desc(), Invoice.seq.desc())
    if student_id is not None:
        access.require_student(session, actor, student_id, "payments")
        query = query.where(Invoice.student_id == student_id)
    query = access.scope(session, actor, query, student_col=Invoice.student_id, resource="payments", what="invoices")
    rows = session.exec(query.limit(limit).offset(offset)).all()
    payments = {p.id: p for p in session.exec(select(Payment).where(Payment.id.in_([r.payment_id for r in rows])))}
    return [invoice_dict(r, payments.get(r.payment_id)) for r in rows]


def _pdf_bytes(invoice: Invoice, payment: Payment) -> bytes:
    """The issued PDF, or (after refunds) a version that shows them; rendered and stored when missing."""
    from nexdrive.adapters.storage import StorageError

    refunds = refunds_for(payment)
    storage = _storage()
    if refunds:
        digest = hashlib.sha256(json.dumps(refunds, default=str, sort_keys=True).encode()).hexdigest()[:12]
        key = f"invoices/{invoice.year}/{invoice.invoice_number}-refunds-{digest}.pdf"
    else:
        key = invoice.pdf_storage_key  # only ever set when the issuing transaction stored it
    if key:
        try:
            return storage.get(key)
        except StorageError:
            pass
    data = render_invoice_pdf(invoice, refunds=refunds, **_payment_facts(payment))
    if refunds:
        try:
            storage.put(key, data, PDF_TYPE)
        except StorageError:
            logger.warning("Could not store %s; served it without storing.", key)
    return data


def _serve(invoice: Invoice, payment: Payment) -> tuple[str, bytes]:
    return f"{invoice.invoice_number}.pdf", _pdf_bytes(invoice, payment)


def invoice_pdf(session: Session, actor: Actor, invoice_id: uuid.UUID, *,
                manage_token: str | None = None) -> tuple[str, bytes]:
    """(file name, PDF bytes) of one invoice, for whoever may see it."""
    invoice = session.get(Invoice, invoice_id)
    payment = session.get(Payment, invoice.payment_id) if invoice is not None else None
    if invoice is None or not _may_see(session, actor, invoice.student_id, payment.booking_id, manage_token):
        _refuse(actor, invoice is not None, manage_token)
    return _serve(invoice, payment)


def invoice_pdf_for_payment(session: Session, actor: Actor, payment_id: uuid.UUID, *,
                            manage_token: str | None = None) -> tuple[str, bytes]:
    """The invoice of a payment (the spec's ``GET /payments/{id}/invoice``)."""
    payment = session.get(Payment, payment_id)
    invoice = session.exec(select(Invoice).where(Invoice.payment_id == payment_id)).first() if payment else None
    student_id = (invoice.student_id if invoice else payment.student_id) if payment else None
    if payment is None or not _may_see(session, actor, student_id, payment.booking_id, manage_token):
        _refuse(actor, payment is not None, manage_token, "payment")
    if invoice is None:
        raise NotFound(NO_INVOICE_YET)
    return _serve(invoice, payment)


def invoice_pdf_for_booking(session: Session, actor: Actor, booking_id: uuid.UUID, *,
                            manage_token: str | None = None) -> tuple[str, bytes]:
    """The latest invoice of a booking: what the "manage your booking" page links to."""
    booking = session.get(Booking, booking_id)
    if booking is None or not _may_see(session, actor, booking.student_id, booking.id, manage_token):
        _refuse(actor, booking is not None, manage_token, "booking")
    invoice = session.exec(
        select(Invoice).join(Payment, Payment.id == Invoice.payment_id)
        .where(Payment.booking_id == booking_id).order_by(Invoice.issued_at.desc(), Invoice.seq.desc())
    ).first()
    if invoice is None:
        raise NotFound(NO_INVOICE_YET)
    return _serve(invoice, session.get(Payment, invoice.payment_id))


def invoice_pdf_for_booking_token(session: Session, booking_id: uuid.UUID, manage_token: str) -> tuple[str, bytes]:
    """For a visitor who booked without an account and holds the booking's manage link."""
    return invoice_pdf_for_booking(session, Actor(role="visitor"), booking_id, manage_token=manage_token)


__all__ = [
    "allocate_gst", "build_line_items", "business_snapshot", "buyer_snapshot", "format_abn", "gst_of",
    "invoice_dict", "invoice_number", "invoice_pdf", "invoice_pdf_for_booking", "invoice_pdf_for_booking_token",
    "invoice_pdf_for_payment", "issue_invoice", "list_invoices", "refunds_for", "render_invoice_pdf", "storage_key",
]
