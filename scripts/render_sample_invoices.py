#!/usr/bin/env python3
"""Render sample invoices to PDF and PNG, through the real issuing path, to look at them.

    .venv/bin/python scripts/render_sample_invoices.py [--out test-artifacts/invoices]
    python3 manage.py sample-invoices

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh
database, loads the reference data, and issues (``invoices.issue_invoice``, as
the payments service does) three invoices:

1. ``tax-invoice-lesson``: GST-registered business, a $85.00 lesson with a 10%
   voucher: total $76.50, GST $6.95;
2. ``tax-invoice-package``: GST-registered, a $1,234.56 package (from $1,000 the
   buyer must be named): GST $112.23;
3. ``invoice-no-gst-refund``: not registered for GST, a $127.50 lesson of which
   $42.50 was refunded: a plain "Invoice", no GST, no ABN, "Net paid $85.00".

Each PDF is downloaded as the admin would (``invoices.invoice_pdf``) and turned
into a PNG with ``pdftoppm`` (Debian package poppler-utils) when it is installed.
Everything it creates outside ``--out`` is deleted when it finishes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from nexdrive import adapters  # noqa: E402
from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.adapters.storage import LocalStorage  # noqa: E402
from nexdrive.models import (  # noqa: E402
    Booking,
    BusinessSettings,
    Instructor,
    Package,
    Payment,
    Profile,
    Service,
    Student,
    User,
    Voucher,
    VoucherRedemption,
)
from nexdrive.services.money import invoices  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.services.core.actors import SYSTEM  # noqa: E402
from nexdrive.formats import BUSINESS_TZ  # noqa: E402

UTC = timezone.utc
ATO_EXAMPLE_ABN = "51824753556"  # the ABN the ATO uses in its own examples


def person(s: Session, role: str, first: str, last: str, email: str, **address) -> tuple[User, Profile]:
    user = User(email=email, role=role)
    s.add(user)
    s.flush()
    profile = Profile(user_id=user.id, first_name=first, last_name=last, email=email, phone="+61412345678",
                      role=role, **address)
    s.add(profile)
    s.flush()
    return user, profile


def lesson(s: Session, instructor: Instructor, student: Student, service: Service, start_local: datetime) -> Booking:
    start = start_local.replace(tzinfo=BUSINESS_TZ).astimezone(UTC)
    booking = Booking(instructor_id=instructor.id, student_id=student.id, service_id=service.id,
                      scheduled_date=start_local.date(), start_time=start,
                      end_time=start + timedelta(minutes=service.duration_minutes),
                      duration_minutes=service.duration_minutes, status="confirmed", payment_status="paid",
                      amount_cents=service.price_cents, pickup_address="21 Sulwood Drive", suburb="Kambah")
    s.add(booking)
    s.flush()
    return booking


def business(s: Session, *, gst: bool) -> None:
    row = s.get(BusinessSettings, 1)
    row.gst_registered = gst
    row.abn = ATO_EXAMPLE_ABN if gst else None
    row.address = "Unit 4, 12 Lonsdale Street\nBraddon ACT 2612"
    row.phone = "(02) 6100 0000"
    row.email = "lessons@nexdriveacademy.com.au"
    row.website = "nexdriveacademy.com.au"
    s.add(row)
    s.flush()


def issue(s: Session, payment: Payment, when_local: datetime):
    return invoices.issue_invoice(s, payment.id, now=when_local.replace(tzinfo=BUSINESS_TZ))


def build(engine) -> dict[str, str]:
    """Issue the three sample invoices; returns name -> invoice id."""
    ids: dict[str, str] = {}
    with nxdb.session_scope(engine) as s:
        business(s, gst=True)
        _, ip = person(s, "instructor", "Rob", "Harris", "rob@example.com")
        instructor = Instructor(user_id=ip.user_id, profile_id=ip.id, adi_number="ADI0042",
                                adi_expiry=date(2030, 1, 1))
        s.add(instructor)
        s.flush()
        _, sp = person(s, "student", "Olivia", "Nguyen", "olivia.nguyen@example.com",
                       address_line1="21 Sulwood Drive", suburb="Kambah", state="ACT", postcode="2902")
        student = Student(user_id=sp.user_id, profile_id=sp.id, instructor_id=instructor.id)
        s.add(student)
        s.flush()
        standard = Service(slug="sample-standard", name="Standard driving lesson (60 min)", duration_minutes=60,
                           price_cents=8500, category="lesson")
        long = Service(slug="sample-extended", name="Extended driving lesson (90 min)", duration_minutes=90,
                       price_cents=12750, category="lesson")
        s.add_all([standard, long])
        s.flush()

        # 1. GST tax invoice: a lesson with a 10% voucher.
        booking = lesson(s, instructor, student, standard, datetime(2026, 11, 24, 9, 30))
        voucher = Voucher(code="WELCOME10", voucher_type="percentage", discount_percent=10)
        s.add(voucher)
        s.flush()
        pay = Payment(student_id=student.id, booking_id=booking.id, amount_cents=7650, payment_method="card",
                      gateway="stripe", gateway_payment_id="pi_sample_1", status="completed")
        s.add(pay)
        s.flush()
        s.add(VoucherRedemption(voucher_id=voucher.id, student_id=student.id, booking_id=booking.id,
                                payment_id=pay.id, discount_cents=850))
        s.flush()
        ids["tax-invoice-lesson"] = str(issue(s, pay, datetime(2026, 11, 22, 14, 5)).id)

        # 2. GST tax invoice from $1,000: a package, the buyer named.
        package = Package(name="Road-ready package", total_credits=15, price_cents=123456, valid_for_days=365)
        s.add(package)
        s.flush()
        pay = Payment(student_id=student.id, package_id=package.id, amount_cents=123456, payment_method="card",
                      gateway="stripe", gateway_payment_id="pi_sample_2", status="completed")
        s.add(pay)
        s.flush()
        ids["tax-invoice-package"] = str(issue(s, pay, datetime(2026, 11, 22, 14, 20)).id)

        # 3. Not registered for GST: a 90-minute lesson, then $42.50 refunded.
        business(s, gst=False)
        booking = lesson(s, instructor, student, long, datetime(2026, 11, 26, 15, 0))
        pay = Payment(student_id=student.id, booking_id=booking.id, amount_cents=12750, payment_method="card",
                      gateway="stripe", gateway_payment_id="pi_sample_3", status="completed")
        s.add(pay)
        s.flush()
        ids["invoice-no-gst-refund"] = str(issue(s, pay, datetime(2026, 11, 22, 16, 45)).id)
        pay.status = "partially_refunded"
        pay.refund_amount_cents = 4250
        pay.refunded_at = datetime(2026, 11, 27, 10, 15, tzinfo=BUSINESS_TZ)
        pay.refund_reason = "Lesson ended 30 minutes early (instructor's car fault)"
        s.add(pay)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "invoices"))
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="nxinv-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    try:
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_invoices")
        engine = nxdb.make_engine(url)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        adapters.override("storage", LocalStorage(root=tmp / "storage"))
        ids = build(engine)
        pdftoppm = shutil.which("pdftoppm")
        for name, invoice_id in ids.items():
            with nxdb.session_scope(engine) as s:
                filename, data = invoices.invoice_pdf(s, SYSTEM, invoice_id)
            pdf_path = out / f"{name}.pdf"
            pdf_path.write_bytes(data)
            line = f"{name}: {filename} -> {pdf_path}"
            if pdftoppm:
                subprocess.run([pdftoppm, "-png", "-r", str(args.dpi), "-singlefile", str(pdf_path),
                                str(out / name)], check=True)
                line += f", {out / name}.png"
            print(line)
        if not pdftoppm:
            print("pdftoppm not found (apt-get install poppler-utils): PDFs only.")
    finally:
        adapters.override("storage", None)
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
