"""The owner's dashboard over a generated year: every figure checked against independent SQL, to the cent.

The data: a year and a bit of bookings for three instructors (one has Sunday hours across the
02:00–03:00 daylight-saving hour), payments, partial and full refunds (some failed: not counted),
package purchases, package-credit payments (not takings), leads (some deleted, some that booked),
learners who completed, cancellations, no-shows, open callbacks and handoffs, failed messages.
Instants land on Canberra midnights and on both DST Sundays. The checks are written in SQL that
derives Canberra dates and period bounds in PostgreSQL itself (``AT TIME ZONE``,
``date_trunc('week')``), not from the service's Python bounds.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden
from nexdrive.models import (
    AvailabilityOverride,
    AvailabilityRule,
    Booking,
    CallLog,
    Contact,
    Conversation,
    OutboxMessage,
    Package,
    Payment,
    Refund,
)
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.reporting import kpis
from tests.factories import make_instructor, make_service, make_student, make_user
from tests.jobs_helpers import CANBERRA, UTC

# Sun 4 Oct 2026: clocks go forward (a 23-hour day); Sun 5 Apr 2026: clocks go back (25 hours);
# Wed 18 Nov 2026: an ordinary day.
PINS = (date(2026, 10, 4), date(2026, 4, 5), date(2026, 11, 18))
FIRST_DAY, LAST_DAY = date(2025, 10, 1), date(2026, 12, 31)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=CANBERRA).astimezone(UTC)


def _days():
    d = FIRST_DAY
    while d <= LAST_DAY:
        yield d
        d += timedelta(days=1)


@pytest.fixture
def year(engine):
    rng = random.Random(20261004)
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin", "Rob", "Owner")
        instructors = [make_instructor(s, buffer_minutes=0) for _ in range(3)]
        services = [make_service(s, minutes=60, price_cents=8500), make_service(s, minutes=90, price_cents=12750),
                    make_service(s, minutes=120, price_cents=16999)]
        students = [make_student(s, instructors[i % 3]) for i in range(18)]
        for i, st in enumerate(students[:6]):
            st.completion_date = [date(2026, 10, 4), date(2026, 4, 5), date(2026, 11, 18), date(2026, 9, 28),
                                  date(2026, 11, 1), date(2025, 12, 31)][i]
            st.status = "completed"
            s.add(st)
        package = Package(name="Five lessons", total_credits=5, price_cents=40000)
        s.add(package)
        s.flush()

        # Weekly hours: Mon–Fri 09:00–17:00, Sat 08:00–12:00; instructor 0 also Sunday 01:00–04:00 (the DST hour).
        for k, ins in enumerate(instructors):
            for dow in range(1, 6):
                s.add(AvailabilityRule(instructor_id=ins.id, day_of_week=dow, start_time=time(9), end_time=time(17),
                                       effective_from=FIRST_DAY))
            s.add(AvailabilityRule(instructor_id=ins.id, day_of_week=6, start_time=time(8), end_time=time(12),
                                   effective_from=FIRST_DAY, effective_until=date(2026, 11, 10) if k == 2 else None))
        s.add(AvailabilityRule(instructor_id=instructors[0].id, day_of_week=0, start_time=time(1), end_time=time(4),
                               effective_from=FIRST_DAY))
        s.add(AvailabilityRule(instructor_id=instructors[1].id, day_of_week=0, start_time=time(10), end_time=time(12),
                               effective_from=FIRST_DAY, is_active=False))
        for day in (date(2026, 9, 30), date(2026, 11, 17), date(2026, 4, 1)):
            s.add(AvailabilityOverride(instructor_id=instructors[1].id, date=day, override_type="blocked"))
        s.add(AvailabilityOverride(instructor_id=instructors[2].id, date=date(2026, 11, 16), override_type="blocked",
                                   start_time=time(9), end_time=time(10)))  # part of a day: still offered

        contacts = []
        for n, day in enumerate(_days()):
            # Leads: some at the first instant of the day, some in the last second.
            for j in range(rng.choice((0, 0, 1, 2))):
                created = rng.choice((_at(day, 0), _at(day, 23, 59) + timedelta(seconds=59.999),
                                      _at(day, 11, 30)))
                c = Contact(first_name="Lead", last_name=f"{n}-{j}", phone=f"+614{n:04d}{j:04d}",
                            source=rng.choice(("website", "phone", "sms")), created_at=created,
                            deleted_at=created if rng.random() < 0.08 else None)
                s.add(c)
                contacts.append(c)
        s.flush()

        bookings = []
        for day in _days():
            for ins in instructors:
                hours = rng.sample([1, 7, 10, 13, 16, 19, 23], rng.choice((0, 1, 2, 3)))
                if day in (date(2026, 10, 4), date(2026, 4, 5)):
                    hours = sorted(set(hours) | {1, 23})
                for h in hours:
                    start = _at(day, h, 30 if h in (1, 23) else 0)
                    service = rng.choice(services)
                    status = rng.choices(("confirmed", "completed", "cancelled", "no_show", "expired", "in_progress"),
                                         (30, 40, 12, 6, 8, 4))[0]
                    who = rng.choice(students + [None])
                    contact = rng.choice(contacts) if who is None or rng.random() < 0.2 else None
                    b = Booking(instructor_id=ins.id, service_id=service.id, student_id=who.id if who else None,
                                contact_id=contact.id if contact else None,
                                scheduled_date=start.astimezone(CANBERRA).date(), start_time=start,
                                end_time=start + timedelta(minutes=service.duration_minutes),
                                duration_minutes=service.duration_minutes, buffer_minutes=0, status=status,
                                amount_cents=service.price_cents, booker_name=None if who else "Walk In",
                                cancelled_at=(start - timedelta(hours=rng.choice((1, 20, 49, 170))))
                                if status == "cancelled" else None)
                    s.add(b)
                    bookings.append((b, who, service))
        s.flush()

        for b, who, service in bookings:
            if rng.random() < 0.55 and b.status != "expired":
                paid_at = b.start_time - timedelta(days=rng.choice((0, 1, 3)), hours=rng.choice((0, 5)))
                if rng.random() < 0.1:
                    paid_at = kpis.midnight(paid_at.astimezone(CANBERRA).date())  # exactly midnight
                method = rng.choices(("card", "cash", "package_credit"), (80, 10, 10))[0]
                status = rng.choices(("completed", "partially_refunded", "refunded", "pending", "failed"),
                                     (75, 8, 7, 5, 5))[0]
                p = Payment(student_id=who.id if who else None, contact_id=b.contact_id, booking_id=b.id,
                            amount_cents=service.price_cents, payment_method=method, status=status,
                            completed_at=paid_at if status not in ("pending",) else None, created_at=paid_at,
                            description=f"{service.name} lesson")
                s.add(p)
                s.flush()
                if status in ("partially_refunded", "refunded"):
                    amount = service.price_cents if status == "refunded" else rng.choice((1, 2500, 3333))
                    p.refund_amount_cents = amount
                    when = paid_at + timedelta(hours=rng.choice((2, 30, 200)))
                    p.refunded_at = when
                    s.add(Refund(payment_id=p.id, amount_cents=amount, reason="cancelled in time",
                                 kind="cancellation", idempotency_key=uuid.uuid4().hex,
                                 status=rng.choice(("succeeded", "succeeded", "pending")), created_at=when))
                    if rng.random() < 0.3:  # a failed refund attempt: no money went back
                        s.add(Refund(payment_id=p.id, amount_cents=1000, reason="tried", kind="admin",
                                     idempotency_key=uuid.uuid4().hex, status="failed", created_at=when))
        for i, day in enumerate(_days()):
            if i % 9 == 0:
                s.add(Payment(student_id=students[i % 18].id, package_id=package.id, amount_cents=40000,
                              payment_method="card", status="completed", completed_at=_at(day, 19),
                              created_at=_at(day, 19), description="Five lessons"))
        s.flush()

        for i in range(5):
            s.add(CallLog(caller_phone=f"+6140000111{i}", started_at=_at(date(2026, 10, 1), 9 + i),
                          caller_name=f"Caller {i}", requires_callback=i != 4,
                          callback_completed_at=_at(date(2026, 10, 2), 9) if i == 0 else None))
        for i, status in enumerate(("handoff_requested", "handoff_requested", "active", "closed")):
            s.add(Conversation(channel="sms", channel_identifier=f"+6140000222{i}", status=status,
                               handoff_reason="asked for a person"))
        for i, day in enumerate(_days()):
            if i % 5 == 0:
                for status in ("failed", "sent"):
                    s.add(OutboxMessage(channel="sms", recipient="+61444444444", body="x", template="booking_reminder",
                                        status=status, last_error="carrier rejected" if status == "failed" else None,
                                        created_at=_at(day, 0), updated_at=_at(day, 0) if i % 2 else _at(day, 23)))
        admin_id = admin_user.id
        ins_actor = Actor(role="instructor", user_id=instructors[0].user_id, instructor_id=instructors[0].id)
        stu_actor = Actor(role="student", user_id=students[0].user_id, student_id=students[0].id)
    return {"admin": Actor(role="admin", user_id=admin_id), "instructor": ins_actor, "student": stu_actor}


# ─────────────────────────────────────────────────────────────────────────────
# Independent SQL: Canberra dates and period bounds computed by PostgreSQL
# ─────────────────────────────────────────────────────────────────────────────

_BOUNDS = {
    "today": "SELECT CAST(:t AS date) AS d0, CAST(:t AS date) + 1 AS d1",
    "week": "SELECT date_trunc('week', CAST(:t AS timestamp))::date AS d0,"
            " (date_trunc('week', CAST(:t AS timestamp)) + interval '7 days')::date AS d1",
    "month": "SELECT date_trunc('month', CAST(:t AS timestamp))::date AS d0,"
             " (date_trunc('month', CAST(:t AS timestamp)) + interval '1 month')::date AS d1",
}
LOCAL = "(({col}) AT TIME ZONE 'Australia/Sydney')::date"


def _in(col: str) -> str:
    return f"{LOCAL.format(col=col)} >= :d0 AND {LOCAL.format(col=col)} < :d1"


EXPECTED = {
    "lessons": f"""SELECT count(*) FROM bookings WHERE {_in('start_time')}
                   AND status IN ('confirmed','in_progress','completed')""",
    "revenue": f"""SELECT (SELECT COALESCE(sum(amount_cents), 0) FROM payments WHERE {_in('completed_at')}
                           AND status IN ('completed','partially_refunded','refunded')
                           AND payment_method <> 'package_credit')
                        - (SELECT COALESCE(sum(r.amount_cents), 0) FROM refunds r JOIN payments p ON p.id = r.payment_id
                           WHERE {_in('r.created_at')} AND r.status IN ('succeeded','pending')
                           AND p.payment_method <> 'package_credit')""",
    "leads": f"SELECT count(*) FROM contacts WHERE deleted_at IS NULL AND {_in('created_at')}",
    "conversion": f"""SELECT count(DISTINCT c.id) FROM contacts c JOIN bookings b ON b.contact_id = c.id
                      WHERE c.deleted_at IS NULL AND {_in('c.created_at')} AND b.status NOT IN ('held','expired')""",
    "active_learners": f"""SELECT count(DISTINCT student_id) FROM bookings WHERE {_in('start_time')}
                           AND status IN ('confirmed','in_progress','completed')""",
    "completed_learners": "SELECT count(*) FROM students WHERE completion_date >= :d0 AND completion_date < :d1",
    "cancellations": f"SELECT count(*) FROM bookings WHERE status = 'cancelled' AND {_in('cancelled_at')}",
    "no_shows": f"SELECT count(*) FROM bookings WHERE status = 'no_show' AND {_in('start_time')}",
    "failed_messages": f"SELECT count(*) FROM outbox_messages WHERE status = 'failed' AND {_in('updated_at')}",
}
BOOKED = f"""SELECT COALESCE(sum(duration_minutes), 0) FROM bookings WHERE {_in('start_time')}
             AND status IN ('confirmed','in_progress','completed','no_show')"""
OFFERED = """
    SELECT COALESCE(sum(EXTRACT(epoch FROM ((d + r.end_time) AT TIME ZONE 'Australia/Sydney')
                                      - ((d + r.start_time) AT TIME ZONE 'Australia/Sydney')) / 60), 0)::bigint
    FROM generate_series(CAST(:d0 AS timestamp), CAST(:d1 AS timestamp) - interval '1 day', interval '1 day') AS g(d)
    JOIN availability_rules r ON r.day_of_week = EXTRACT(dow FROM g.d) AND r.is_active
         AND r.effective_from <= g.d::date AND (r.effective_until IS NULL OR r.effective_until >= g.d::date)
    JOIN instructors i ON i.id = r.instructor_id AND i.status = 'active'
    WHERE NOT EXISTS (SELECT 1 FROM availability_overrides o WHERE o.instructor_id = r.instructor_id
                      AND o.date = g.d::date AND o.override_type = 'blocked' AND o.start_time IS NULL)"""


def _expected(conn, pin: date, period: str) -> dict:
    bounds = dict(conn.execute(sa.text(_BOUNDS[period]), {"t": pin}).one()._mapping)
    out = {k: int(conn.execute(sa.text(q), bounds).scalar_one()) for k, q in EXPECTED.items()}
    out["booked"] = int(conn.execute(sa.text(BOOKED), bounds).scalar_one())
    out["offered"] = int(conn.execute(sa.text(OFFERED), bounds).scalar_one())
    out["bounds"] = bounds
    return out


def test_every_figure_matches_independent_sql_to_the_cent(engine, year):
    admin = year["admin"]
    for pin in PINS:
        with clock.pinned(_at(pin, 12)), session_scope(engine) as s:
            board = kpis.dashboard(s, admin)
        assert board["today"] == pin.isoformat()
        with engine.connect() as conn:
            for period in kpis.PERIODS:
                want = _expected(conn, pin, period)
                got = board["periods"][period]["figures"]
                where = f"{pin} {period} {want['bounds']}"
                for key in EXPECTED:
                    assert got[key]["value"] == want[key], f"{key} on {where}"
                assert got["revenue"]["display"] == kpis.aud(want["revenue"])
                assert got["conversion"]["leads"] == want["leads"]
                assert got["utilisation"]["value"] == want["booked"], where
                assert got["utilisation"]["offered_minutes"] == want["offered"], where
                assert want["lessons"] > 0 or period == "today"
            # the data really exercises the figures in the month
            month = board["periods"]["month"]["figures"]
            assert month["revenue"]["refunded_cents"] > 0 and month["cancellations"]["value"] > 0
            assert month["no_shows"]["value"] > 0 and month["conversion"]["value"] > 0
            assert board["queues"]["callbacks"]["value"] == 3
            assert board["queues"]["handoffs"]["value"] == 2


def test_dst_days_have_their_real_lengths(engine, year):
    """Sunday hours 01:00–04:00 are 2 hours on 4 Oct 2026 and 4 hours on 5 Apr 2026."""
    for pin, hours in ((date(2026, 10, 4), 2), (date(2026, 4, 5), 4), (date(2026, 10, 11), 3)):
        with clock.pinned(_at(pin, 12)), session_scope(engine) as s:
            rows = kpis.figure_rows(s, year["admin"], "utilisation", "today")
        offered = sorted(r["cells"][2] for r in rows["rows"])
        assert offered == ["0", "0", str(hours)], (pin, offered)
    today = kpis.period_for("today", date(2026, 10, 4))
    assert today.end_utc - today.start_utc == timedelta(hours=23)
    assert (kpis.period_for("today", date(2026, 4, 5)).end_utc
            - kpis.period_for("today", date(2026, 4, 5)).start_utc) == timedelta(hours=25)


def test_each_list_agrees_with_its_figure(engine, year):
    pin = PINS[0]
    with clock.pinned(_at(pin, 12)), session_scope(engine) as s:
        board = kpis.dashboard(s, year["admin"])
        for period in kpis.PERIODS:
            for key, fig in board["periods"][period]["figures"].items():
                listed = kpis.figure_rows(s, year["admin"], key, period)
                assert fig["href"] == f"/admin/figures?figure={key}&period={period}"
                if key == "revenue":
                    assert listed["total"] == fig["display"]
                elif key == "utilisation":
                    assert listed["total"] == fig["display"].split(" ")[0]
                else:
                    assert listed["count"] == fig["value"], (key, period)
        assert kpis.figure_rows(s, year["admin"], "callbacks", "today")["count"] == 3


def test_weekly_trend_and_revenue_by_service_match_sql(engine, year):
    pin = PINS[2]
    with clock.pinned(_at(pin, 12)), session_scope(engine) as s:
        board = kpis.dashboard(s, year["admin"])
    trend = board["trend"]
    assert len(trend) == 12 and trend[-1]["first"] == "2026-11-16" and trend[0]["first"] == "2026-08-31"
    with engine.connect() as conn:
        for week in trend:
            d0 = date.fromisoformat(week["first"])
            bounds = {"d0": d0, "d1": d0 + timedelta(days=7)}
            assert week["lessons"] == conn.execute(sa.text(EXPECTED["lessons"]), bounds).scalar_one()
            assert week["net_cents"] == conn.execute(sa.text(EXPECTED["revenue"]), bounds).scalar_one()
            assert week["leads"] == conn.execute(sa.text(EXPECTED["leads"]), bounds).scalar_one()
        bounds = {"d0": date(2026, 8, 31), "d1": date(2026, 11, 23)}
        by_service = dict(conn.execute(sa.text(f"""
            SELECT COALESCE(sv.name, CASE WHEN p.package_id IS NOT NULL THEN 'Lesson packages' ELSE 'Other' END),
                   sum(x.cents)
            FROM (SELECT id AS pid, amount_cents AS cents FROM payments WHERE {_in('completed_at')}
                    AND status IN ('completed','partially_refunded','refunded') AND payment_method <> 'package_credit'
                  UNION ALL
                  SELECT r.payment_id, -r.amount_cents FROM refunds r JOIN payments p2 ON p2.id = r.payment_id
                  WHERE {_in('r.created_at')} AND r.status IN ('succeeded','pending')
                    AND p2.payment_method <> 'package_credit') x
            JOIN payments p ON p.id = x.pid LEFT JOIN bookings b ON b.id = p.booking_id
            LEFT JOIN services sv ON sv.id = b.service_id GROUP BY 1"""), bounds).all())
    assert {r["service"]: r["net_cents"] for r in board["by_service"]} == {k: int(v) for k, v in by_service.items()}
    assert sum(r["net_cents"] for r in board["by_service"]) == sum(w["net_cents"] for w in trend)
    assert "Lesson packages" in by_service


def test_only_the_administrator_gets_the_figures(engine, year):
    with session_scope(engine) as s:
        for who in ("instructor", "student"):
            with pytest.raises(Forbidden):
                kpis.dashboard(s, year[who])
            with pytest.raises(Forbidden):
                kpis.figure_rows(s, year[who], "revenue", "month")
        with pytest.raises(AuthRequired):
            kpis.dashboard(s, VISITOR)
