"""Prices and policies (business settings, lesson types and prices, vouchers) and the CSV reports (revenue
agreeing with the dashboard to the cent, lessons). Administrator only; bad input is refused and changes
nothing; every change is audited and the public catalogue reads the new price at once."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, NotFound, ValidationFailed
from nexdrive.models import AuditLog, BusinessSettings, Payment, Refund, Service, Voucher
from nexdrive.services.admin import business, reports
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.money import vouchers
from nexdrive.services.reporting import kpis
from nexdrive.services.scheduling import catalogue
from tests.factories import make_instructor, make_service, make_student, make_user
from tests.jobs_helpers import lesson

NOW = datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc)  # Wed 18 Nov 2026, 12:00 in Canberra


@pytest.fixture
def office(engine):
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin", "Rob", "Owner")
        ian = make_instructor(s)
        svc = make_service(s)
        ava = make_student(s, ian)
        b1 = lesson(s, ian, svc, NOW - timedelta(days=2), student=ava, status="completed")
        p1 = Payment(student_id=ava.id, booking_id=b1.id, amount_cents=8500, payment_method="card",
                     status="partially_refunded", completed_at=NOW - timedelta(days=3), description="Lesson")
        p2 = Payment(student_id=ava.id, amount_cents=40001, payment_method="cash", status="completed",
                     completed_at=NOW - timedelta(days=1), description="Package, 5 lessons")
        p3 = Payment(student_id=ava.id, amount_cents=9999, payment_method="card", status="completed",
                     completed_at=datetime(2026, 10, 31, 13, 59, tzinfo=timezone.utc),  # 1 Nov 00:59 Canberra (AEDT)
                     description="Lesson on the first")
        p4 = Payment(student_id=ava.id, amount_cents=7777, payment_method="package_credit", status="completed",
                     completed_at=NOW - timedelta(days=1), description="Credit")  # not money received
        s.add_all([p1, p2, p3, p4])
        s.flush()
        s.add(Refund(payment_id=p1.id, amount_cents=2533, reason="Late start", status="succeeded", idempotency_key="r1",
                     created_at=NOW - timedelta(hours=5)))
        instructor = Actor(role="instructor", user_id=ian.user_id, instructor_id=ian.id)
        return {"admin": Actor(role="admin", user_id=admin_user.id), "ian": instructor, "service": svc.id,
                "learner": Actor(role="student", user_id=ava.user_id, student_id=ava.id)}


def _audit(engine, event: str) -> list[AuditLog]:
    with session_scope(engine) as s:
        return s.exec(select(AuditLog).where(AuditLog.event_type == event)).all()


def _snapshot(engine) -> dict:
    with session_scope(engine) as s:
        return {t: s.execute(sa.text(f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {t} t")).scalar()
                for t in ("business_settings", "services", "vouchers", "audit_log")}


def test_settings_change_is_audited_and_the_public_policy_reads_it(engine, office):
    with session_scope(engine) as s:
        out = business.update_settings(s, office["admin"], {
            "business_name": "NexDrive Academy", "abn": "51 824 753 556", "gst_registered": "on",
            "cancellation_notice_hours": "48", "late_cancellation_fee": "40", "min_lesson_minutes": "60",
            "phone": "0412 345 678"})
        assert {"abn", "gst_registered", "cancellation_notice_hours", "late_cancellation_fee_cents",
                "min_lesson_minutes", "phone"} <= set(out["changed"])
    with session_scope(engine) as s:
        policy = catalogue.booking_policy(s)
        assert policy["gst_registered"] and policy["notice_hours"] == 48 and policy["late_fee"] == "$40.00"
        assert "include GST" in policy["gst_note"] and policy["abn"] == "51 824 753 556"
        assert s.get(BusinessSettings, 1).min_lesson_minutes == 60
    [event] = _audit(engine, "SETTINGS_CHANGED")
    assert event.details["after"]["cancellation_notice_hours"] == 48
    with session_scope(engine) as s:
        assert business.update_settings(s, office["admin"], {"cancellation_notice_hours": 48})["changed"] == []
    assert len(_audit(engine, "SETTINGS_CHANGED")) == 1


@pytest.mark.parametrize("changes, field", [
    ({"abn": "12 345 678 901"}, "abn"),  # fails the ATO checksum
    ({"cancellation_notice_hours": "-1"}, "cancellation_notice_hours"),
    ({"cancellation_notice_hours": "two"}, "cancellation_notice_hours"),
    ({"late_cancellation_fee": "12.345"}, "late_cancellation_fee"),
    ({"late_cancellation_fee": "-5"}, "late_cancellation_fee"),
    ({"hold_minutes": "10"}, "hold_minutes"),
    ({"business_name": "  "}, "business_name"),
    ({"email": "nope"}, "email"),
    ({"gst_registered": True, "abn": ""}, "abn"),
    ({"timezone": "UTC"}, "timezone"),
])
def test_bad_settings_are_refused_and_change_nothing(engine, office, changes, field):
    before = _snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        business.update_settings(s, office["admin"], changes)
    assert err.value.details["field"] == field
    assert _snapshot(engine) == before


def test_price_change_shows_at_once_and_is_audited(engine, office):
    sid = str(office["service"])
    with session_scope(engine) as s:
        out = business.update_service(s, office["admin"], sid, {"price": "92.50", "duration_minutes": "60"})
        assert out["changed"] == ["price_cents"]
    with session_scope(engine) as s:
        [shown] = [x for x in catalogue.list_services(s) if x["id"] == sid]
        assert (shown["price_cents"], shown["price"]) == (9250, "$92.50")
    [event] = _audit(engine, "SERVICE_UPDATED")
    assert event.details == {"before": {"price_cents": 8500}, "after": {"price_cents": 9250}}
    with session_scope(engine) as s:
        business.update_service(s, office["admin"], sid, {"is_active": False})
    with session_scope(engine) as s:
        assert sid not in [x["id"] for x in catalogue.list_services(s)]
        assert sid in [x["id"] for x in business.list_services(s, office["admin"])]


def test_create_service(engine, office):
    with session_scope(engine) as s:
        made = business.create_service(s, office["admin"], {
            "name": "Highway confidence", "slug": "highway-confidence", "duration_minutes": "90", "price": "130",
            "category": "lesson", "is_bookable_online": True, "eligibility_kind": ""})
    assert made["price_cents"] == 13000
    with session_scope(engine) as s:
        assert "highway-confidence" in [x["slug"] for x in catalogue.list_services(s)]
    assert _audit(engine, "SERVICE_CREATED")


@pytest.mark.parametrize("data, field", [
    ({"price": "abc"}, "price"),
    ({"price": "-1"}, "price"),
    ({"price": "99999"}, "price"),
    ({"duration_minutes": "5"}, "duration_minutes"),
    ({"category": "karaoke"}, "category"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"name": ""}, "name"),
    ({"eligibility_kind": "review_9"}, "eligibility_kind"),
    ({"colour": "red"}, "colour"),
])
def test_bad_service_changes_are_refused_and_change_nothing(engine, office, data, field):
    before = _snapshot(engine)
    with session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
        business.update_service(s, office["admin"], str(office["service"]), data)
    assert err.value.details["field"] == field
    with session_scope(engine) as s, pytest.raises(ValidationFailed):
        business.create_service(s, office["admin"], {"name": "X", "slug": "x-lesson", "duration_minutes": 60,
                                                     "category": "lesson", "price": "10", **data})
    assert _snapshot(engine) == before
    with session_scope(engine) as s, pytest.raises(NotFound):
        business.update_service(s, office["admin"], "not-an-id", {"price": "10"})


def test_vouchers_create_list_and_use(engine, office):
    with clock.pinned(NOW), session_scope(engine) as s:
        made = business.create_voucher(s, office["admin"], code=" spring 10 ", voucher_type="percentage", value="10",
                                       max_uses="50", valid_until="2026-12-31", service_ids=[str(office["service"])])
        assert made["code"] == "SPRING10" and made["value"] == "10% off"
        check = vouchers.check_voucher(s, "spring10", service_id=office["service"])
        assert check.discount_cents == 850
        listed = business.list_vouchers(s, office["admin"])
        assert [v["code"] for v in listed] == ["SPRING10"]
        with pytest.raises(ValidationFailed) as err:
            business.create_voucher(s, office["admin"], code="SPRING10", voucher_type="fixed_amount", value="5")
        assert err.value.details["field"] == "code"
    before = _snapshot(engine)
    for kwargs, field in [({"voucher_type": "percentage", "value": "150"}, "value"),
                          ({"voucher_type": "fixed_amount", "value": "0"}, "value"),
                          ({"voucher_type": "bogof"}, "voucher_type"),
                          ({"voucher_type": "free_lesson", "valid_until": "2026-01-01"}, "valid_until"),
                          ({"voucher_type": "free_lesson", "max_uses": "0"}, "max_uses")]:
        with clock.pinned(NOW), session_scope(engine) as s, pytest.raises(ValidationFailed) as err:
            business.create_voucher(s, office["admin"], code="NEW-ONE", **kwargs)
        assert err.value.details["field"] == field
    assert _snapshot(engine) == before
    with session_scope(engine) as s:
        business.set_voucher_active(s, office["admin"], made["id"], False)
        assert s.exec(select(Voucher)).one().is_active is False
    assert _audit(engine, "VOUCHER_CREATED") and _audit(engine, "VOUCHER_DISABLED")


def test_revenue_csv_total_matches_the_dashboard_to_the_cent(engine, office):
    with clock.pinned(NOW), session_scope(engine) as s:
        dash = kpis.dashboard(s, office["admin"])
        for key in ("today", "week", "month"):
            p = reports.period(s, preset=key)
            name, text = reports.revenue_csv(s, office["admin"], p)
            rows = list(csv.reader(io.StringIO(text)))
            total = rows[-1]
            assert total[2] == "Total (net of refunds)"
            cents = round(float(total[3]) * 100)
            assert cents == dash["periods"][key]["figures"]["revenue"]["value"], key
            assert sum(round(float(r[3]) * 100) for r in rows[1:-1]) == cents
        month = reports.revenue_csv(s, office["admin"], reports.period(s, preset="month"))[1]
    # November: 85.00 + 400.01 + 99.99 (1 Nov, 00:59 in Canberra) - 25.33; the package credit is not money
    assert month.splitlines()[-1].split(",")[3] == "559.67"
    assert "package_credit" not in month and "Lesson on the first" in month
    with clock.pinned(NOW), session_scope(engine) as s:
        p = reports.period(s, date_from="2026-11-01", date_to="2026-11-30")
        name, text = reports.revenue_csv(s, office["admin"], p)
        assert name == "revenue-2026-11-01-to-2026-11-30.csv" and text.splitlines()[-1].split(",")[3] == "559.67"
        october = reports.revenue_csv(s, office["admin"], reports.period(s, date_from="2026-10-01",
                                                                          date_to="2026-10-31"))[1]
        assert october.splitlines()[-1].split(",")[3] == "0.00"


def test_revenue_csv_shows_gst_for_a_registered_business(engine, office):
    with session_scope(engine) as s:
        business.update_settings(s, office["admin"], {"abn": "51824753556", "gst_registered": True})
    with clock.pinned(NOW), session_scope(engine) as s:
        text = reports.revenue_csv(s, office["admin"], reports.period(s, preset="month"))[1]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][4] == "GST (AUD)"
    line = next(r for r in rows if r[6] == "Lesson")
    assert (line[3], line[4]) == ("85.00", "7.73")


def test_lessons_csv(engine, office):
    with clock.pinned(NOW), session_scope(engine) as s:
        name, text = reports.lessons_csv(s, office["admin"], reports.period(s, preset="month"))
    rows = list(csv.reader(io.StringIO(text)))
    assert name.startswith("lessons-2026-11-01") and len(rows) == 2
    assert rows[1][8] == "completed" and rows[1][10] == "85.00"


@pytest.mark.parametrize("bad", [{"date_from": "2026-11-30", "date_to": "2026-11-01"},
                                 {"date_from": "yesterday", "date_to": "2026-11-01"},
                                 {"date_from": "2025-01-01", "date_to": "2026-11-01"},
                                 {"preset": "year"}])
def test_report_periods_are_checked(engine, office, bad):
    with session_scope(engine) as s, pytest.raises(ValidationFailed):
        reports.period(s, **bad)


@pytest.mark.parametrize("who", ["ian", "learner", "visitor"])
def test_only_the_administrator_reaches_prices_policies_and_reports(engine, office, who):
    actor = VISITOR if who == "visitor" else office[who]
    expected = AuthRequired if who == "visitor" else Forbidden
    before = _snapshot(engine)
    p = kpis.Period("custom", date(2026, 11, 1), date(2026, 12, 1))
    for call in (lambda s: business.get_settings(s, actor),
                 lambda s: business.update_settings(s, actor, {"cancellation_notice_hours": 1}),
                 lambda s: business.list_services(s, actor),
                 lambda s: business.update_service(s, actor, str(office["service"]), {"price": "1"}),
                 lambda s: business.create_service(s, actor, {"name": "X"}),
                 lambda s: business.list_vouchers(s, actor),
                 lambda s: business.create_voucher(s, actor, code="FREE", voucher_type="free_lesson"),
                 lambda s: reports.revenue_csv(s, actor, p),
                 lambda s: reports.lessons_csv(s, actor, p)):
        with session_scope(engine) as s, pytest.raises(expected):
            call(s)
    assert _snapshot(engine) == before
    with session_scope(engine) as s:
        assert s.exec(select(Service).where(Service.id == office["service"])).one().price_cents == 8500
