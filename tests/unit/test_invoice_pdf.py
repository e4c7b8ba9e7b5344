"""GST to the cent, and what the invoice PDF says (text read back with pypdf)."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from nexdrive.models import Invoice
from nexdrive.services.core import pdf_layout
from nexdrive.services.money import invoices

ISSUED = datetime(2026, 11, 21, 22, 30, tzinfo=timezone.utc)  # 22 November 2026, 9:30 am in Canberra
BUSINESS = {"name": "NexDrive Academy", "abn": "51 824 753 556", "gst_registered": True,
            "address": "Unit 4, 12 Lonsdale Street\nBraddon ACT 2612", "email": "lessons@nexdrive.example",
            "phone": "(02) 6100 0000", "website": None}
BUYER = {"name": "Olivia Nguyen", "email": "olivia@example.com", "phone": "0412 345 678",
         "address": "21 Sulwood Drive\nKambah ACT 2902"}


def pdf_text(data: bytes) -> str:
    """The text of every page; also checks that nothing is drawn outside the page's margins."""
    reader = PdfReader(io.BytesIO(data))
    pages = []
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        placed: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, _font, _size, placed=placed):
            if text.strip():
                placed.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], text))

        pages.append(page.extract_text(visitor_text=visit))
        margin = 18 * 72 / 25.4  # 18 mm in points
        for x, y, text in placed:
            assert margin - 1 <= x < width - margin and 0 < y < height, f"{text!r} drawn at ({x:.0f}, {y:.0f})"
    return "\n".join(pages)


def make_invoice(lines: list[tuple[str, int]], *, taxed: bool, number: str = "NXD-2026-0007") -> Invoice:
    items = [invoices._line("discount" if cents < 0 else "lesson", text, cents) for text, cents in lines]
    total = sum(cents for _, cents in lines)
    gst = invoices.gst_of(total) if taxed else 0
    if taxed:
        for item, share in zip(items, invoices.allocate_gst([c for _, c in lines], gst)):
            item["gst_cents"] = share
    return Invoice(invoice_number=number, year=2026, seq=7, payment_id=uuid.uuid4(), issued_at=ISSUED,
                   subtotal_cents=total - gst, gst_cents=gst, total_cents=total, is_tax_invoice=taxed,
                   line_items=items, business_snapshot={**BUSINESS, "gst_registered": taxed},
                   buyer_snapshot=dict(BUYER))


@pytest.mark.parametrize("cents, gst", [
    (6500, 591),       # $65.00 -> $5.91 (590.9)
    (4250, 386),       # $42.50 -> $3.86 (386.36)
    (123456, 11223),   # $1,234.56 -> $112.23 (11223.27)
    (8500, 773),       # $85.00 -> $7.73 (772.73)
    (7650, 695),       # $76.50 -> $6.95 (695.45)
    (11, 1), (5, 0), (6, 1), (0, 0), (-850, -77),
])
def test_gst_is_one_eleventh_to_the_nearest_cent(cents, gst):
    assert invoices.gst_of(cents) == gst


@given(st.lists(st.integers(min_value=-20_000, max_value=500_000), min_size=1, max_size=12))
def test_line_gst_adds_up_exactly_and_each_line_is_within_a_cent(lines):
    total = sum(lines)
    if total < 0:
        return
    shares = invoices.allocate_gst(lines, invoices.gst_of(total))
    assert sum(shares) == invoices.gst_of(total)
    for amount, share in zip(lines, shares):
        assert abs(share * 11 - amount) < 11  # |share - amount/11| < 1 cent


def test_a_discounted_lesson_splits_its_gst_exactly():
    shares = invoices.allocate_gst([8500, -850], invoices.gst_of(7650))
    assert sum(shares) == 695 and shares[0] in (772, 773) and shares[1] in (-77, -78)


def test_abn_is_written_in_groups():
    assert invoices.format_abn("51824753556") == "51 824 753 556"
    assert invoices.format_abn(" 51 824 753 556 ") == "51 824 753 556"
    assert invoices.format_abn(None) == ""


def test_tax_invoice_pdf_says_tax_invoice_abn_and_gst():
    invoice = make_invoice([("Standard driving lesson (60 min)", 6500)], taxed=True)
    data = invoices.render_invoice_pdf(invoice, refunds=[], payment_method="card")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in ("TAX INVOICE", "NXD-2026-0007", "ABN 51 824 753 556", "22 November 2026", "Olivia Nguyen",
                     "Standard driving lesson (60 min)", "$65.00", "Subtotal (excl. GST)", "$59.09", "$5.91",
                     "Total includes GST of $5.91", "Paid in full by card on 22 November 2026"):
        assert expected in text, expected
    assert "Refund" not in text and "not registered for GST" not in text


def test_plain_invoice_pdf_has_no_gst_and_no_abn():
    invoice = make_invoice([("Extended driving lesson (90 min)", 123456)], taxed=False)
    text = pdf_text(invoices.render_invoice_pdf(invoice, refunds=[], payment_method="cash"))
    assert "INVOICE" in text and "TAX INVOICE" not in text
    assert "ABN" not in text and "GST of" not in text and "excl. GST" not in text
    assert "$1,234.56" in text and "not registered for GST" in text


def test_refunds_show_amount_refunded_and_net_paid():
    invoice = make_invoice([("Extended driving lesson (90 min)", 12750)], taxed=False)
    refunds = [{"amount_cents": 4250, "refunded_at": datetime(2026, 11, 26, 23, 15, tzinfo=timezone.utc),
                "reason": "Lesson ended early"}]
    text = pdf_text(invoices.render_invoice_pdf(invoice, refunds=refunds, payment_method="card"))
    for expected in ("Refunds", "27 November 2026", "Lesson ended early", "-$42.50", "Amount refunded",
                     "Net paid", "$85.00", "Part refunded"):
        assert expected in text, expected


def test_refund_on_a_tax_invoice_shows_the_gst_given_back():
    invoice = make_invoice([("Standard driving lesson (60 min)", 6500)], taxed=True)
    refunds = [{"amount_cents": 6500, "refunded_at": ISSUED, "reason": "Cancelled by the school"}]
    text = pdf_text(invoices.render_invoice_pdf(invoice, refunds=refunds))
    assert "GST refunded" in text and "-$5.91" in text and "Net paid (incl. GST)" in text
    assert "Refunded" in text  # status: refunded in full


def test_the_pdf_is_reproducible():
    invoice = make_invoice([("Lesson", 8500), ("Voucher WELCOME10", -850)], taxed=True)
    assert invoices.render_invoice_pdf(invoice) == invoices.render_invoice_pdf(invoice)


def test_without_a_unicode_font_names_still_print(monkeypatch):
    monkeypatch.setattr(pdf_layout, "font_files", lambda: None)  # the shared page finds the fonts
    invoice = make_invoice([("Lesson \u2013 60 min", 8500)], taxed=True)
    invoice.buyer_snapshot = {**BUYER, "name": "Zo\u00eb Nguy\u1ec5n"}
    text = pdf_text(invoices.render_invoice_pdf(invoice))
    assert "Zo\u00eb Nguyen" in text and "Lesson - 60 min" in text


def test_many_lines_flow_onto_more_pages_with_the_totals_intact():
    invoice = make_invoice([(f"Lesson {i} with a long description that wraps in the table", 6500)
                            for i in range(30)], taxed=True)
    data = invoices.render_invoice_pdf(invoice)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = pdf_text(data)
    assert "Lesson 29" in text and "$1,950.00" in text and "(continued)" in text
    assert f"Total includes GST of {invoices.aud(invoices.gst_of(195000))}" in text
