"""Invoices on the real database: gap-free numbers under concurrency, the Canberra year, GST to the cent,
idempotent issue, what is stored, refunds on download, and who may download what (service and REST)."""
from __future__ import annotations

import io
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, select

from nexdrive import adapters
from nexdrive.adapters.storage import LocalStorage, StorageError
from nexdrive.db import session_scope
from nexdrive.models import (
    Booking,
    BusinessSettings,
    Contact,
    Invoice,
    InvoiceCounter,
    Package,
    Parent,
    ParentStudentLink,
    Payment,
    Student,
    User,
    Voucher,
    VoucherRedemption,
)
from nexdrive.services.money import invoices
from nexdrive.services.identity.accounts import (
    PARENT_PERMISSIONS,
    AuthRequired,
    _issue_session,
    actor_for_user,
    hash_token,
)
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.errors import Forbidden, NotFound
from nexdrive.formats import BUSINESS_TZ, aud
from tests.factories import make_instructor, make_service, make_student, make_user
from nexdrive.http_app import build_api

UTC = timezone.utc
ABN = "51824753556"
ISSUE_DAY = datetime(2026, 11, 22, 14, 5, tzinfo=BUSINESS_TZ)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def store(tmp_path):
    storage = LocalStorage(root=tmp_path / "storage")
    adapters.override("storage", storage)
    yield storage
    adapters.override("storage", None)


def set_business(s: Session, *, gst: bool, abn: str | None = ABN) -> None:
    row = s.get(BusinessSettings, 1)
    row.gst_registered, row.abn = gst, abn
    row.address, row.phone, row.email = "12 Lonsdale Street\nBraddon ACT 2612", "(02) 6100 0000", "hi@nexdrive.example"
    s.add(row)
    s.flush()


_slot = iter(range(10_000))


def lesson(s: Session, instructor, service, *, student=None, contact=None, start: datetime | None = None) -> Booking:
    """A confirmed lesson; each call gets its own hour so the instructor's bookings never overlap."""
    start = start or datetime(2026, 12, 1, 9, 30, tzinfo=BUSINESS_TZ) + timedelta(hours=2 * next(_slot))
    booking = Booking(instructor_id=instructor.id, student_id=student.id if student else None,
                      contact_id=contact.id if contact else None, service_id=service.id,
                      scheduled_date=start.astimezone(BUSINESS_TZ).date(), start_time=start.astimezone(UTC),
                      end_time=start.astimezone(UTC) + timedelta(minutes=service.duration_minutes),
                      duration_minutes=service.duration_minutes, status="confirmed", amount_cents=service.price_cents)
    s.add(booking)
    s.flush()
    return booking


def pay(s: Session, amount: int, *, student=None, booking=None, package=None, contact=None, status="completed",
        method="card", gateway="stripe") -> Payment:
    payment = Payment(student_id=student.id if student else None, booking_id=booking.id if booking else None,
                      package_id=package.id if package else None, contact_id=contact.id if contact else None,
                      amount_cents=amount, payment_method=method, gateway=gateway, status=status)
    s.add(payment)
    s.flush()
    return payment


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        set_business(s, gst=True)
        instructor = make_instructor(s)
        student = make_student(s, instructor)
        service = make_service(s, minutes=60, price_cents=6500)
        return {"instructor": instructor, "student": student, "service": service}


def counters(engine) -> dict[int, int]:
    with session_scope(engine) as s:
        return {c.year: c.last_seq for c in s.exec(select(InvoiceCounter)).all()}


# ─────────────────────────────────────────────────────────────────────────────
# Numbers
# ─────────────────────────────────────────────────────────────────────────────


class RollBackOnPurpose(Exception):
    pass


def test_numbers_are_gap_free_and_unique_under_concurrent_payments(engine, store, school):
    """20 payments complete at once, each in its own transaction; every 4th rolls back after taking a number."""
    n = 20
    with session_scope(engine) as s:
        ids = [pay(s, 1000 + 100 * i, student=school["student"], status="pending").id for i in range(n)]
    barrier = threading.Barrier(n)

    def complete(i: int) -> str | None:
        try:
            with session_scope(engine) as s:
                s.execute(sa.text("UPDATE payments SET status = 'completed' WHERE id = :id"), {"id": ids[i]})
                barrier.wait(timeout=60)  # everyone races for the counter together
                number = invoices.issue_invoice(s, ids[i], now=ISSUE_DAY).invoice_number
                if i % 4 == 1:
                    raise RollBackOnPurpose(number)
                return number
        except RollBackOnPurpose:
            return None

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(complete, range(n)))

    committed = [r for r in results if r]
    assert len(committed) == 15
    with session_scope(engine) as s:
        rows = s.exec(select(Invoice).order_by(Invoice.seq)).all()
        assert [r.seq for r in rows] == list(range(1, 16))  # no gaps, no duplicates
        assert sorted(r.invoice_number for r in rows) == sorted(committed)
        assert [r.invoice_number for r in rows] == [f"NXD-2026-{k:04d}" for k in range(1, 16)]
        rolled_back = {ids[i] for i in range(n) if i % 4 == 1}
        assert not {r.payment_id for r in rows} & rolled_back
        assert s.exec(select(sa.func.count()).select_from(Payment).where(Payment.status == "pending")).one() == 5
        # Each stored PDF is the committed invoice's own (a rolled-back issue's file was replaced by its reissue).
        for row in rows:
            text = pdf_text(store.get(row.pdf_storage_key))
            assert row.invoice_number in text and aud(row.total_cents) in text
    assert counters(engine) == {2026: 15}


def test_the_same_payment_completed_twice_at_once_gets_one_invoice(engine, store, school):
    with session_scope(engine) as s:
        pid = pay(s, 6500, student=school["student"]).id
    barrier = threading.Barrier(2)

    def issue(_):
        with session_scope(engine) as s:
            barrier.wait(timeout=30)
            return invoices.issue_invoice(s, pid, now=ISSUE_DAY).invoice_number

    with ThreadPoolExecutor(2) as pool:
        numbers = list(pool.map(issue, range(2)))
    assert numbers == ["NXD-2026-0001", "NXD-2026-0001"]
    with session_scope(engine) as s:
        assert s.exec(select(sa.func.count()).select_from(Invoice)).one() == 1
    assert counters(engine) == {2026: 1}


def test_issue_is_idempotent_and_only_for_completed_payments(engine, store, school):
    with session_scope(engine) as s:
        done = pay(s, 6500, student=school["student"])
        first = invoices.issue_invoice(s, done.id, now=ISSUE_DAY)
        again = invoices.issue_invoice(s, done.id, now=ISSUE_DAY + timedelta(days=40))
        assert again.id == first.id and again.invoice_number == "NXD-2026-0001"
        assert invoices.issue_invoice(s, pay(s, 6500, student=school["student"], status="pending").id) is None
        assert invoices.issue_invoice(s, pay(s, 6500, student=school["student"], status="failed").id) is None
        credit = pay(s, 0, student=school["student"], method="package_credit")
        assert invoices.issue_invoice(s, credit.id) is None  # the package's own invoice covers it
        assert invoices.issue_invoice(s, uuid.uuid4()) is None
    with session_scope(engine) as s:
        assert invoices.issue_invoice(s, done.id).id == first.id  # and in a later transaction
    assert counters(engine) == {2026: 1}


def test_the_year_is_the_canberra_year_and_numbering_restarts_each_year(engine, store, school):
    new_year_canberra = datetime(2027, 1, 1, 0, 30, tzinfo=BUSINESS_TZ)  # still 31 Dec 2026 13:30 in UTC
    with session_scope(engine) as s:
        p = [pay(s, 6500, student=school["student"]) for _ in range(4)]
        a = invoices.issue_invoice(s, p[0].id, now=datetime(2026, 12, 31, 23, 30, tzinfo=BUSINESS_TZ))
        b = invoices.issue_invoice(s, p[1].id, now=new_year_canberra)
        c = invoices.issue_invoice(s, p[2].id, now=new_year_canberra + timedelta(hours=1))
        d = invoices.issue_invoice(s, p[3].id, now=datetime(2026, 12, 31, 23, 59, tzinfo=BUSINESS_TZ))
        assert [a.invoice_number, b.invoice_number, c.invoice_number, d.invoice_number] == [
            "NXD-2026-0001", "NXD-2027-0001", "NXD-2027-0002", "NXD-2026-0002"]
        assert b.issued_at.astimezone(UTC).year == 2026 and b.year == 2027
        assert b.pdf_storage_key == "invoices/2027/NXD-2027-0001.pdf"
    assert counters(engine) == {2026: 2, 2027: 2}


def test_a_rolled_back_issue_never_leaves_its_pdf_behind_for_the_reissued_number(engine, store, school):
    with session_scope(engine) as s:
        first, second = pay(s, 11100, student=school["student"]), pay(s, 22200, student=school["student"])
    with pytest.raises(RollBackOnPurpose):
        with session_scope(engine) as s:
            invoices.issue_invoice(s, first.id, now=ISSUE_DAY)
            raise RollBackOnPurpose()
    assert "$111.00" in pdf_text(store.get("invoices/2026/NXD-2026-0001.pdf"))  # left behind, unreferenced
    with session_scope(engine) as s:
        invoice = invoices.issue_invoice(s, second.id, now=ISSUE_DAY)
    assert invoice.invoice_number == "NXD-2026-0001"
    text = pdf_text(store.get(invoice.pdf_storage_key))
    assert "$222.00" in text and "$111.00" not in text


class PutFails(LocalStorage):
    def put(self, key, data, content_type="application/octet-stream"):
        raise StorageError("bucket unreachable")


def test_a_storage_outage_does_not_undo_the_payment_and_the_download_renders(engine, tmp_path, school):
    # A file from an earlier rolled-back issue of the same number sits in storage: it must not be served.
    broken = PutFails(root=tmp_path / "s")
    LocalStorage(root=tmp_path / "s").put("invoices/2026/NXD-2026-0001.pdf", b"%PDF- stale")
    adapters.override("storage", broken)
    try:
        with session_scope(engine) as s:
            payment = pay(s, 6500, student=school["student"])
            invoice = invoices.issue_invoice(s, payment.id, now=ISSUE_DAY)
            assert invoice.invoice_number == "NXD-2026-0001" and invoice.pdf_storage_key is None
        with session_scope(engine) as s:
            name, data = invoices.invoice_pdf(s, SYSTEM, invoice.id)
        assert name == "NXD-2026-0001.pdf" and data != b"%PDF- stale"
        assert "NXD-2026-0001" in pdf_text(data) and "$65.00" in pdf_text(data)
    finally:
        adapters.override("storage", None)


# ─────────────────────────────────────────────────────────────────────────────
# What the invoice says
# ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("price, gst", [(6500, 591), (4250, 386), (123456, 11223), (8995, 818), (1, 0)])
def test_gst_tax_invoice_to_the_cent(engine, store, school, price, gst):
    with session_scope(engine) as s:
        service = make_service(s, minutes=60, price_cents=price)
        booking = lesson(s, school["instructor"], service, student=school["student"])
        invoice = invoices.issue_invoice(s, pay(s, price, student=school["student"], booking=booking).id,
                                         now=ISSUE_DAY)
        s.refresh(invoice)
        assert invoice.is_tax_invoice and invoice.total_cents == price and invoice.gst_cents == gst
        assert invoice.subtotal_cents == price - gst
        assert sum(ln["total_cents"] for ln in invoice.line_items) == price
        assert sum(ln["gst_cents"] for ln in invoice.line_items) == gst
        assert invoice.business_snapshot["abn"] == "51 824 753 556"
        assert invoice.buyer_snapshot["required"] is (price >= 100_000)
    text = pdf_text(store.get(invoice.pdf_storage_key))
    for expected in ("TAX INVOICE", "ABN 51 824 753 556", invoice.invoice_number, "22 November 2026",
                     f"Total includes GST of {aud(gst)}", aud(price), aud(price - gst), "Sam Student"):
        assert expected in text, expected


def test_lesson_line_says_what_when_and_how_long_in_canberra_time(engine, store, school):
    with session_scope(engine) as s:
        start = datetime(2026, 11, 24, 9, 30, tzinfo=BUSINESS_TZ)
        booking = lesson(s, school["instructor"], school["service"], student=school["student"], start=start)
        invoice = invoices.issue_invoice(s, pay(s, 6500, student=school["student"], booking=booking).id)
        (line,) = invoice.line_items
        assert line["description"] == school["service"].name
        assert line["detail"] == "Tue 24 November 2026, 9:30 am \u2013 10:30 am (60 min)"
        assert (line["quantity"], line["unit_cents"], line["total_cents"], line["gst_cents"]) == (1, 6500, 6500, 591)


def test_a_voucher_discount_is_its_own_line_and_the_gst_still_adds_up(engine, store, school):
    with session_scope(engine) as s:
        service = make_service(s, minutes=60, price_cents=8500)
        booking = lesson(s, school["instructor"], service, student=school["student"])
        voucher = Voucher(code="WELCOME10", voucher_type="percentage", discount_percent=10)
        s.add(voucher)
        s.flush()
        # Redeemed when the booking was made, before the payment existed (payment_id empty).
        s.add(VoucherRedemption(voucher_id=voucher.id, student_id=school["student"].id, booking_id=booking.id,
                                discount_cents=850))
        invoice = invoices.issue_invoice(s, pay(s, 7650, student=school["student"], booking=booking).id)
        lesson_line, discount = invoice.line_items
        assert (lesson_line["total_cents"], discount["total_cents"]) == (8500, -850)
        assert discount["description"] == "Voucher WELCOME10" and discount["detail"] == "10% off"
        assert invoice.total_cents == 7650 and invoice.gst_cents == 695 and invoice.subtotal_cents == 6955
        assert lesson_line["gst_cents"] + discount["gst_cents"] == 695
        assert abs(lesson_line["gst_cents"] * 11 - 8500) < 11 and abs(discount["gst_cents"] * 11 + 850) < 11
    text = pdf_text(store.get(invoice.pdf_storage_key))
    assert "Voucher WELCOME10" in text and "-$8.50" in text and "$76.50" in text and "GST of $6.95" in text


def test_a_package_invoice_names_the_package_and_from_1000_dollars_the_buyer(engine, store, school):
    with session_scope(engine) as s:
        package = Package(name="Road-ready package", total_credits=15, price_cents=123456, valid_for_days=365)
        s.add(package)
        s.flush()
        invoice = invoices.issue_invoice(s, pay(s, 123456, student=school["student"], package=package).id)
        (line,) = invoice.line_items
        assert line["description"] == "Road-ready package"
        assert line["detail"] == "15 lesson credits, valid for 365 days"
        assert invoice.gst_cents == 11223 and invoice.buyer_snapshot["required"] is True
        assert invoice.buyer_snapshot["name"] == "Sam Student"
    text = pdf_text(store.get(invoice.pdf_storage_key))
    assert "Sam Student" in text and "$1,234.56" in text and "Total includes GST of $112.23" in text


def test_not_registered_for_gst_gives_a_plain_invoice(engine, store, school):
    with session_scope(engine) as s:
        set_business(s, gst=False, abn=ABN)  # an ABN but no GST registration: no tax invoice, no ABN shown
        booking = lesson(s, school["instructor"], school["service"], student=school["student"])
        invoice = invoices.issue_invoice(s, pay(s, 6500, student=school["student"], booking=booking).id)
        assert not invoice.is_tax_invoice and invoice.gst_cents == 0 and invoice.subtotal_cents == 6500
        assert all(ln["gst_cents"] == 0 for ln in invoice.line_items)
    text = pdf_text(store.get(invoice.pdf_storage_key))
    assert "INVOICE" in text and "TAX INVOICE" not in text and "ABN" not in text and "GST of" not in text
    assert "not registered for GST" in text and "$65.00" in text


def test_a_visitor_booking_bills_the_contact(engine, store, school):
    with session_scope(engine) as s:
        contact = Contact(first_name="Vera", last_name="Visitor", email="vera@example.com", phone="+61411222333")
        s.add(contact)
        s.flush()
        booking = lesson(s, school["instructor"], school["service"], contact=contact)
        invoice = invoices.issue_invoice(s, pay(s, 6500, booking=booking, contact=contact).id)
        assert invoice.student_id is None and invoice.contact_id == contact.id
        assert invoice.buyer_snapshot["name"] == "Vera Visitor"
        assert invoice.buyer_snapshot["phone"] == "0411 222 333"


def test_the_offline_gateway_is_labelled_test_mode(engine, store, school):
    with session_scope(engine) as s:
        invoice = invoices.issue_invoice(s, pay(s, 6500, student=school["student"], gateway="local").id)
    assert "Test mode" in pdf_text(store.get(invoice.pdf_storage_key))


def test_refunds_show_on_the_download_and_the_issued_invoice_stays_as_issued(engine, store, school):
    with session_scope(engine) as s:
        booking = lesson(s, school["instructor"], school["service"], student=school["student"])
        payment = pay(s, 6500, student=school["student"], booking=booking)
        invoice = invoices.issue_invoice(s, payment.id, now=ISSUE_DAY)
    original = store.get(invoice.pdf_storage_key)
    with session_scope(engine) as s:
        row = s.get(Payment, payment.id)
        row.status, row.refund_amount_cents = "partially_refunded", 2000
        row.refunded_at, row.refund_reason = datetime(2026, 11, 25, 10, 0, tzinfo=BUSINESS_TZ), "Lesson cut short"
        s.add(row)
    with session_scope(engine) as s:
        name, data = invoices.invoice_pdf(s, SYSTEM, invoice.id)
        again = invoices.invoice_pdf(s, SYSTEM, invoice.id)[1]
        row = s.get(Invoice, invoice.id)
        assert (row.invoice_number, row.total_cents, row.gst_cents) == ("NXD-2026-0001", 6500, 591)
    text = pdf_text(data)
    for expected in ("Refunds", "25 November 2026", "Lesson cut short", "-$20.00", "Amount refunded (incl. GST)",
                     "GST refunded", "$1.82", "Net paid (incl. GST)", "$45.00", "Part refunded",
                     "Total includes GST of $5.91"):
        assert expected in text, expected
    assert again == data  # the refunded version is stored once and reused
    assert store.get(invoice.pdf_storage_key) == original and "Refunds" not in pdf_text(original)
    stored = sorted(p.name for p in (store.root / "invoices" / "2026").iterdir())
    assert stored[0] == "NXD-2026-0001-refunds-" + stored[0].split("-refunds-")[1] and len(stored) == 2


# ─────────────────────────────────────────────────────────────────────────────
# Who may download what
# ─────────────────────────────────────────────────────────────────────────────


def _parent(s: Session, student: Student, **flags) -> Actor:
    user, profile = make_user(s, "parent", "Pat")
    parent = Parent(user_id=user.id, profile_id=profile.id)
    s.add(parent)
    s.flush()
    s.add(ParentStudentLink(parent_id=parent.id, student_id=student.id, status="active",
                            accepted_at=datetime.now(UTC), **{p: flags.get(p, True) for p in PARENT_PERMISSIONS}))
    s.flush()
    return actor_for_user(s, user.id)


@pytest.fixture
def world(engine, store):
    with session_scope(engine) as s:
        set_business(s, gst=True)
        service = make_service(s, minutes=60, price_cents=6500)
        instructor = make_instructor(s)
        student, other, hidden = (make_student(s, instructor) for _ in range(3))
        hidden.parent_visibility = False  # this student hides everything from every parent
        s.add(hidden)
        contact = Contact(first_name="Vera", last_name="Visitor", email="vera@example.com")
        s.add(contact)
        s.flush()
        admin_user, _ = make_user(s, "admin")
        actors = {"admin": actor_for_user(s, admin_user.id), "instructor": actor_for_user(s, instructor.user_id),
                  "student": actor_for_user(s, student.user_id), "other_student": actor_for_user(s, other.user_id),
                  "parent": _parent(s, student), "parent_no_payments": _parent(s, student, can_view_payments=False),
                  "parent_of_hidden": _parent(s, hidden), "visitor": VISITOR}
        ids = {}
        for key, who in (("s", student), ("t", other), ("h", hidden)):
            booking = lesson(s, instructor, service, student=who)
            payment = pay(s, 6500, student=who, booking=booking)
            invoice = invoices.issue_invoice(s, payment.id, now=ISSUE_DAY)
            ids.update({f"{key}_invoice": invoice.id, f"{key}_payment": payment.id, f"{key}_booking": booking.id})
        visitor_booking = lesson(s, instructor, service, contact=contact)
        visitor_booking.manage_token_hash = hash_token("secret-manage-token")
        s.add(visitor_booking)
        v_payment = pay(s, 6500, booking=visitor_booking, contact=contact)
        ids.update(v_invoice=invoices.issue_invoice(s, v_payment.id, now=ISSUE_DAY).id, v_payment=v_payment.id,
                   v_booking=visitor_booking.id, pending_payment=pay(s, 6500, student=student, status="pending").id,
                   student=student.id, other=other.id)
        users = {"student": s.get(User, student.user_id), "other_student": s.get(User, other.user_id),
                 "admin": s.get(User, admin_user.id)}
        tokens = {k: _issue_session(s, u, None, None).token for k, u in users.items()}
    return actors, ids, tokens


OWNERS = {"s": {"admin", "student", "parent"}, "t": {"admin", "other_student"}, "h": {"admin"}, "v": {"admin"}}
ACTORS = ["admin", "instructor", "student", "other_student", "parent", "parent_no_payments", "parent_of_hidden",
          "visitor"]


def _expect(allowed: bool, actor_key: str, call):
    if allowed:
        name, data = call()
        assert name.startswith("NXD-2026-") and name.endswith(".pdf") and data.startswith(b"%PDF-")
    elif actor_key == "visitor":
        with pytest.raises(AuthRequired):
            call()
    else:
        with pytest.raises(Forbidden):
            call()


@pytest.mark.parametrize("owner", list(OWNERS))
def test_access_matrix_for_downloads(engine, world, owner):
    actors, ids, _ = world
    with Session(engine) as s:
        for actor_key in ACTORS:
            allowed = actor_key in OWNERS[owner]
            actor = actors[actor_key]
            _expect(allowed, actor_key, lambda actor=actor: invoices.invoice_pdf(s, actor, ids[f"{owner}_invoice"]))
            _expect(allowed, actor_key,
                    lambda actor=actor: invoices.invoice_pdf_for_payment(s, actor, ids[f"{owner}_payment"]))
            _expect(allowed, actor_key,
                    lambda actor=actor: invoices.invoice_pdf_for_booking(s, actor, ids[f"{owner}_booking"]))


def test_the_manage_link_opens_the_invoice_of_its_booking_only(engine, world):
    actors, ids, _ = world
    with Session(engine) as s:
        name, data = invoices.invoice_pdf_for_booking_token(s, ids["v_booking"], "secret-manage-token")
        assert name.endswith(".pdf") and "Vera Visitor" in pdf_text(data)
        assert invoices.invoice_pdf(s, VISITOR, ids["v_invoice"], manage_token="secret-manage-token")[0] == name
        with pytest.raises(NotFound):
            invoices.invoice_pdf_for_booking_token(s, ids["v_booking"], "wrong-token")
        with pytest.raises(NotFound):  # the right token does not open another booking's invoice
            invoices.invoice_pdf(s, VISITOR, ids["s_invoice"], manage_token="secret-manage-token")
        with pytest.raises(NotFound):
            invoices.invoice_pdf_for_booking_token(s, ids["s_booking"], "secret-manage-token")
        with pytest.raises(Forbidden):  # a signed-in stranger with a wrong token
            invoices.invoice_pdf(s, actors["other_student"], ids["v_invoice"], manage_token="wrong-token")


def test_unknown_ids_and_payments_without_an_invoice(engine, world):
    actors, ids, _ = world
    with Session(engine) as s:
        with pytest.raises(NotFound):
            invoices.invoice_pdf(s, actors["admin"], uuid.uuid4())
        with pytest.raises(Forbidden):  # probing ids reveals nothing
            invoices.invoice_pdf(s, actors["student"], uuid.uuid4())
        with pytest.raises(NotFound) as not_yet:
            invoices.invoice_pdf_for_payment(s, actors["student"], ids["pending_payment"])
        assert "no invoice" in not_yet.value.message.lower()
        with pytest.raises(Forbidden):
            invoices.invoice_pdf_for_payment(s, actors["other_student"], ids["pending_payment"])


def test_lists_are_scoped_to_who_is_asking(engine, world):
    actors, ids, _ = world
    with Session(engine) as s:
        def numbers(actor_key, **kw):
            return {r["id"] for r in invoices.list_invoices(s, actors[actor_key], **kw)}

        every = {str(ids[k]) for k in ("s_invoice", "t_invoice", "h_invoice", "v_invoice")}
        assert numbers("admin") == every
        assert numbers("admin", student_id=ids["other"]) == {str(ids["t_invoice"])}
        assert numbers("student") == {str(ids["s_invoice"])}
        assert numbers("other_student") == {str(ids["t_invoice"])}
        assert numbers("parent") == {str(ids["s_invoice"])}
        assert numbers("parent", student_id=ids["student"]) == {str(ids["s_invoice"])}
        assert numbers("parent_no_payments") == set() and numbers("parent_of_hidden") == set()
        with pytest.raises(Forbidden):
            numbers("student", student_id=ids["other"])
        with pytest.raises(Forbidden):
            numbers("parent_no_payments", student_id=ids["student"])
        with pytest.raises(Forbidden):
            numbers("instructor")
        with pytest.raises(AuthRequired):
            numbers("visitor")
        row = invoices.list_invoices(s, actors["student"])[0]
        assert row["total"] == "$65.00" and row["gst"] == "$5.91" and row["title"] == "Tax invoice"
        assert row["download_url"] == f"/api/v1/invoices/{ids['s_invoice']}/pdf"


# ─────────────────────────────────────────────────────────────────────────────
# REST
# ─────────────────────────────────────────────────────────────────────────────


def test_rest_downloads(engine, world):
    _, ids, tokens = world
    auth = {k: {"Authorization": f"Bearer {t}"} for k, t in tokens.items()}
    with TestClient(build_api()) as client:
        r = client.get(f"/api/v1/payments/{ids['s_payment']}/invoice", headers=auth["student"])
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == 'attachment; filename="NXD-2026-0001.pdf"'
        assert "no-store" in r.headers["cache-control"] and r.content.startswith(b"%PDF-")

        r = client.get(f"/api/v1/invoices/{ids['s_invoice']}/pdf", headers=auth["admin"])
        assert r.status_code == 200 and "NXD-2026-0001" in pdf_text(r.content)

        r = client.get(f"/api/v1/invoices/{ids['s_invoice']}/pdf")
        assert r.status_code == 401 and r.json()["error"]["code"] == "AUTH_REQUIRED"
        r = client.get(f"/api/v1/invoices/{ids['s_invoice']}/pdf", headers=auth["other_student"])
        assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
        r = client.get(f"/api/v1/payments/{ids['pending_payment']}/invoice", headers=auth["student"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"

        r = client.get(f"/api/v1/bookings/{ids['v_booking']}/invoice", params={"token": "secret-manage-token"})
        assert r.status_code == 200 and "Vera Visitor" in pdf_text(r.content)
        r = client.get(f"/api/v1/bookings/{ids['v_booking']}/invoice", params={"token": "nope"})
        assert r.status_code == 404

        r = client.get("/api/v1/invoices", headers=auth["student"])
        assert r.status_code == 200 and [x["id"] for x in r.json()["data"]] == [str(ids["s_invoice"])]
        assert client.get("/api/v1/invoices").status_code == 401
