"""The owner's daily digest for a seeded day: numbers to the cent, Canberra day boundaries.

The day reported on is Sunday 4 October 2026, when the clocks go forward: a
23-hour Canberra day, from 2026-10-03 14:00 UTC to 2026-10-04 13:00 UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import Contact, OutboxMessage, Payment
from nexdrive.services.core import audit
from nexdrive.services.reporting import digest
from nexdrive.services.core.actors import SYSTEM
from tests.factories import make_instructor, make_service, make_student
from tests.jobs_helpers import CANBERRA, UTC, lesson, local, make_admin

DAY = date(2026, 10, 5)  # the digest sent on Monday morning...
YESTERDAY = date(2026, 10, 4)  # ...reports on Sunday, the 23-hour day


def at(day: date, hhmmss: str) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmmss, "%H:%M:%S.%f" if "." in hhmmss else "%H:%M:%S").time(),
                            tzinfo=CANBERRA).astimezone(UTC)


@pytest.fixture
def seeded(engine):
    with session_scope(engine) as s:
        admin = make_admin(s)
        instructor = make_instructor(s)
        service = make_service(s, minutes=60, price_cents=8500)
        student = make_student(s, instructor)

        def book(day, hhmm, status, **kw):
            return lesson(s, instructor, service, local(day, hhmm), student=student, status=status, **kw)

        book(YESTERDAY, "09:00", "confirmed")
        book(YESTERDAY, "10:30", "completed")
        book(YESTERDAY, "12:00", "no_show")
        book(YESTERDAY, "13:30", "cancelled")
        book(YESTERDAY, "15:00", "expired")
        book(YESTERDAY, "16:30", "held", hold_expires_at=local(YESTERDAY, "16:00"))
        book(date(2026, 10, 3), "23:00", "confirmed")  # the evening before: not yesterday
        book(DAY, "08:00", "confirmed")
        book(DAY, "09:30", "confirmed")
        book(DAY, "11:00", "cancelled")
        book(DAY + timedelta(days=1), "09:00", "confirmed")  # tomorrow

        def pay(cents, when, status="completed", method="card", **kw):
            s.add(Payment(amount_cents=cents, payment_method=method, status=status, created_at=when,
                          student_id=student.id, **kw))

        pay(8500, at(YESTERDAY, "00:00:00"))  # the first instant of the day counts
        pay(6000, at(date(2026, 10, 3), "23:59:59"))  # the day before
        pay(12345, at(YESTERDAY, "23:59:59.999"))  # the last instant counts
        pay(9900, at(DAY, "00:00:00"))  # today
        pay(10000, at(YESTERDAY, "08:15:00"), status="partially_refunded", refund_amount_cents=2500,
            refunded_at=at(YESTERDAY, "14:00:00"))
        pay(7000, at(YESTERDAY, "09:00:00"), status="pending")
        pay(4000, at(YESTERDAY, "09:05:00"), status="failed")
        pay(8500, at(YESTERDAY, "10:00:00"), method="package_credit")  # paid for when the package was bought
        pay(5000, at(date(2026, 10, 2), "10:00:00"), status="refunded", refund_amount_cents=5000,
            refunded_at=at(YESTERDAY, "10:00:00"))  # an older payment refunded yesterday
        pay(3000, at(YESTERDAY, "11:00:00"), status="refunded", refund_amount_cents=3000,
            refunded_at=at(DAY, "00:00:00"))  # taken yesterday, refunded today

        for i, (first, last, when, deleted) in enumerate((("Lee", "Lead", at(YESTERDAY, "00:00:00"), False),
                                           ("Max", "Late", at(YESTERDAY, "23:59:59"), False),
                                           ("Early", "Bird", at(date(2026, 10, 3), "23:59:59"), False),
                                           ("Gone", "Away", at(YESTERDAY, "12:00:00"), True))):
            s.add(Contact(first_name=first, last_name=last, phone=f"+6143333333{i}", source="website",
                          created_at=when, deleted_at=when if deleted else None))

        for status, updated in (("failed", at(YESTERDAY, "10:00:00")),
                                ("failed", at(date(2026, 10, 2), "10:00:00")), ("sent", at(YESTERDAY, "11:00:00"))):
            s.add(OutboxMessage(channel="sms", recipient="+61444444444", body="x", template="booking_confirmation",
                                status=status, last_error="carrier rejected" if status == "failed" else None,
                                created_at=updated - timedelta(minutes=5), updated_at=updated))
        audit.record_event(s, SYSTEM, "TEST_EVENT")
        audit.record_event(s, SYSTEM, "TEST_EVENT")
    return admin


def test_day_bounds_are_canberra_midnights():
    assert digest.day_bounds(YESTERDAY) == (
        datetime(2026, 10, 3, 14, tzinfo=UTC),
        datetime(2026, 10, 4, 13, tzinfo=UTC),
    )
    assert digest.day_bounds(date(2027, 4, 4)) == (datetime(2027, 4, 3, 13, tzinfo=UTC),
                                                  datetime(2027, 4, 4, 14, tzinfo=UTC))  # 25 hours


def test_the_digest_reports_the_seeded_day_to_the_cent(engine, seeded):
    with session_scope(engine) as s:
        d = digest.build_daily_digest(s, DAY)
        heads = s.execute(sa.text("SELECT chain, seq, head_hash FROM chain_heads ORDER BY chain")).all()

    assert (d["day"], d["yesterday"], d["yesterday_label"]) == ("2026-10-05", "2026-10-04", "Sun 4 October 2026")
    lessons = d["lessons"]
    assert (lessons["taught"], lessons["taught_minutes"], lessons["no_shows"], lessons["cancelled"]) == (2, 120, 1, 1)
    assert [(r["time"], r["status"], r["learner"]) for r in lessons["items"]] == [
        ("9:00 am – 10:00 am", "confirmed", "Sam Student"),
        ("10:30 am – 11:30 am", "completed", "Sam Student"),
        ("12:00 pm – 1:00 pm", "no_show", "Sam Student"),
        ("1:30 pm – 2:30 pm", "cancelled", "Sam Student"),
    ]
    assert d["takings"] == {"payments": 4, "received_cents": 8500 + 12345 + 10000 + 3000, "refunds": 2,
                            "refunded_cents": 2500 + 5000, "net_cents": 26345, "received": "$338.45",
                            "refunded": "$75.00", "net": "$263.45"}
    assert [(r["time"], r["instructor"], r["suburb"]) for r in d["today"]] == [
        ("8:00 am – 9:00 am", "Ian Instructor", "Belconnen"), ("9:30 am – 10:30 am", "Ian Instructor", "Belconnen")]
    assert [lead["name"] for lead in d["new_leads"]] == ["Lee Lead", "Max Late"]
    assert (d["failed_messages"]["count"], d["failed_messages"]["total_failed"]) == (1, 2)
    assert d["failed_messages"]["items"][0]["error"] == "carrier rejected"
    assert d["chain_heads"] == [{"chain": h.chain, "seq": h.seq, "hash": h.head_hash} for h in heads]
    assert d["chain_heads"][0]["seq"] == 2


def test_the_digest_goes_to_the_admins_once_by_email_and_in_app(engine, seeded):
    admin = seeded
    for _ in range(2):
        with session_scope(engine) as s:
            digest.send_daily_digest(s, DAY)
    with session_scope(engine) as s:
        emails = s.execute(sa.text("SELECT recipient, subject, body, template_data FROM outbox_messages "
                                   "WHERE template = 'daily_digest'")).all()
        bells = s.execute(sa.text("SELECT recipient_id, subject, body FROM notifications "
                                  "WHERE channel = 'in_app' AND notification_type = 'daily_digest'")).all()
        head = s.execute(sa.text("SELECT head_hash FROM chain_heads WHERE chain = 'audit_log'")).scalar()
    assert len(emails) == 1 and len(bells) == 1
    email = emails[0]
    assert email.recipient == admin.email and email.subject == "Daily summary for Mon 5 October 2026"
    for text in ("Lessons taught: 2 (2 h); no-shows: 1; cancelled: 1", "Takings: $338.45 from 4 payment(s); "
                 "refunds $75.00; net $263.45", "TODAY (Mon 5 October 2026): 2 lesson(s)", "NEW LEADS: 2",
                 "MESSAGES NOT SENT: 1 yesterday, 2 failed in all", f"audit_log  #2  {head}", "NexDrive Academy"):
        assert text in email.body, text
    assert email.template_data["chain_heads"] == [{"chain": "audit_log", "seq": 2, "hash": head}]
    assert bells[0].recipient_id == admin.id and "net $263.45" in bells[0].body
