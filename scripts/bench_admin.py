#!/usr/bin/env python3
"""Admin benchmark: the owner's dashboard, availability and every report for a school of 50 instructors with a
year of bookings behind it.

    python3 manage.py bench-admin                 # 50 instructors, a year, 20 runs of each case
    python3 manage.py bench-admin --runs 40 --instructors 20 --seed 7

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh database, loads the reference data
and builds a synthetic school (bulk inserts; nothing of it is kept):

* the next 8 weeks of 50 instructors' calendars exactly as ``bench_booking.py`` builds them (Mon-Sat 07:30-18:00,
  lunch blocks, days off, about two thirds booked, a few live holds), their weekly hours in force all year;
* a year of past lessons: 3-6 a working day per instructor (60/90/120 min), most completed, some cancelled
  (at various notice), no-shows and expired holds; 1,000 learners (some completed in the year), 3,000 leads
  from several sources (some booked, some deleted); payments for most lessons (card, cash, package credits)
  with partial and full refunds, some failed or pending; package purchases.

Then each case is timed ``--runs`` times (default 20, at least 20), each run in a fresh session as a request
would be, and p50/p95 printed as a table:

* the dashboard (``reporting.kpis.dashboard``: today, week and month, the queues, 12 weeks of trend and revenue
  by service);
* availability of a 60-minute lesson for all 50 instructors (``booking.availability_by_day``) over 2 weeks and
  over the 8 weeks;
* each report in ``services/admin/reports.py`` over the past year: listed in ``REPORTS`` below (add a line when a
  report is added).

``--profile`` adds one profiled run of each case (the functions taking the most time). A benchmark prints figures;
it does not pass or fail.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time as clock
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sqlalchemy as sa  # noqa: E402

from bench_booking import DAYS, LESSON_MIX, build_school, pct  # noqa: E402
from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.formats import BUSINESS_TZ  # noqa: E402
from nexdrive.models import Booking, Contact, Package, Payment, Profile, Refund, Student, User  # noqa: E402
from nexdrive.services.admin import report_tables, reports  # noqa: E402
from nexdrive.services.core.actors import Actor  # noqa: E402
from nexdrive.services.reporting import kpis  # noqa: E402
from nexdrive.services.scheduling import booking  # noqa: E402
from nexdrive.services.scheduling.holidays import is_act_public_holiday  # noqa: E402

# Every report over the past year: (name, function(session, actor, period)). Add new reports here.
REPORTS = [
    ("report: revenue (rows and total)", reports.revenue),
    ("report: revenue CSV", reports.revenue_csv),
    ("report: lessons CSV", reports.lessons_csv),
] + [  # the reports page's tables (chart, CSV and PDF are drawn from the same rows): each report, each grouping
    (f"report: {report} by {grouping}",
     lambda s, a, p, report=report, grouping=grouping: report_tables.build(s, a, report, p, grouping))
    for report, groupings in report_tables.GROUPINGS.items() for grouping in groupings
] + [
    ("report: revenue by month, PDF", lambda s, a, p: reports.report_pdf(s, a, "revenue", p, "month")),
]

UTC = timezone.utc
LEARNERS, LEADS = 1000, 3000
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kai", "Lily"]
SOURCES = ["website", "phone", "sms", "referral", "google_ads", "facebook"]


def _at(day: date, minutes: int) -> datetime:
    return (datetime.combine(day, time(0), tzinfo=BUSINESS_TZ) + timedelta(minutes=minutes)).astimezone(UTC)


def build_year(engine, rng: random.Random, instructors: list, first: date, today: date) -> dict:
    """A year of past lessons, learners, leads, payments and refunds for these instructors (bulk inserts)."""
    days = [first + timedelta(days=i) for i in range((today - first).days)]
    with nxdb.session_scope(engine) as s:
        s.execute(sa.text("UPDATE availability_rules SET effective_from = :d"), {"d": first})
        services = {m: s.execute(sa.text("SELECT id, price_cents FROM services WHERE duration_minutes = :m "
                                         "AND is_active AND eligibility_kind IS NULL ORDER BY slug LIMIT 1"),
                                 {"m": m}).one() for m, _ in LESSON_MIX}
        admin_user = User(email=f"owner-{uuid.uuid4().hex[:6]}@bench.invalid", role="admin")
        s.add(admin_user)
        package = Package(name="Bench ten lessons", total_credits=10, price_cents=80000)
        s.add(package)
        s.flush()

        users, profiles, students = [], [], []
        for n in range(LEARNERS):
            uid, pid, sid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            email = f"learner{n}-{uid.hex[:6]}@bench.invalid"
            users.append({"id": uid, "email": email, "role": "student"})
            profiles.append({"id": pid, "user_id": uid, "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
                             "last_name": f"Learner{n}", "email": email, "phone": f"+6141{n:07d}", "role": "student"})
            done = rng.random() < 0.08
            students.append({"id": sid, "user_id": uid, "profile_id": pid, "instructor_id": instructors[n % len(
                instructors)], "status": "completed" if done else "active",
                "completion_date": rng.choice(days) if done else None})
        s.execute(sa.insert(User), users)
        s.execute(sa.insert(Profile), profiles)
        s.execute(sa.insert(Student), students)

        contacts = []
        for n in range(LEADS):
            created = _at(rng.choice(days), rng.randrange(0, 1440))
            contacts.append({"id": uuid.uuid4(), "first_name": "Lead", "last_name": f"L{n}",
                             "phone": f"+6142{n:07d}", "source": rng.choice(SOURCES), "created_at": created,
                             "deleted_at": created if rng.random() < 0.05 else None})
        s.execute(sa.insert(Contact), contacts)

        rows, pays, refunds = [], [], []
        for iid in instructors:
            for day in days:
                if day.isoweekday() == 7 or is_act_public_holiday(day):
                    continue
                minute = 7 * 60 + 30
                for _ in range(rng.randint(3, 6)):
                    length = rng.choices([m for m, _ in LESSON_MIX], [w for _, w in LESSON_MIX])[0]
                    start = _at(day, minute)
                    minute += length + rng.choice((15, 30, 45, 75))
                    if minute > 18 * 60:
                        break
                    status = rng.choices(("completed", "cancelled", "no_show", "expired"), (84, 8, 3, 5))[0]
                    st = rng.choice(students)
                    contact = rng.choice(contacts) if rng.random() < 0.25 else None
                    svc_id, price = services[length]
                    bid = uuid.uuid4()
                    rows.append({"id": bid, "instructor_id": iid, "service_id": svc_id, "student_id": st["id"],
                                 "contact_id": contact["id"] if contact else None, "scheduled_date": day,
                                 "start_time": start, "end_time": start + timedelta(minutes=length),
                                 "duration_minutes": length, "buffer_minutes": 15, "status": status,
                                 "amount_cents": price, "booked_via": rng.choice(("website", "phone", "admin")),
                                 "payment_status": "paid" if status == "completed" else "unpaid",
                                 "cancelled_at": start - timedelta(hours=rng.choice((2, 20, 49, 170)))
                                 if status == "cancelled" else None})
                    if status == "expired" or rng.random() > 0.7:
                        continue
                    paid_at = start - timedelta(days=rng.choice((0, 1, 3)))
                    method = rng.choices(("card", "cash", "package_credit"), (80, 8, 12))[0]
                    pstatus = rng.choices(("completed", "partially_refunded", "refunded", "pending", "failed"),
                                          (85, 4, 5, 3, 3))[0]
                    pid = uuid.uuid4()
                    refund = price if pstatus == "refunded" else rng.choice((1000, 2500)) \
                        if pstatus == "partially_refunded" else None
                    when = paid_at + timedelta(hours=rng.choice((2, 30, 200))) if refund else None
                    pays.append({"id": pid, "student_id": st["id"], "contact_id": None, "booking_id": bid,
                                 "amount_cents": price, "payment_method": method, "status": pstatus,
                                 "completed_at": None if pstatus == "pending" else paid_at, "created_at": paid_at,
                                 "description": f"{length}-minute lesson", "refund_amount_cents": refund,
                                 "refunded_at": when})
                    if refund:
                        refunds.append({"id": uuid.uuid4(), "payment_id": pid, "amount_cents": refund,
                                        "reason": "cancelled in time", "kind": "cancellation",
                                        "idempotency_key": uuid.uuid4().hex,
                                        "status": rng.choice(("succeeded", "succeeded", "pending")),
                                        "created_at": when})
        for n, day in enumerate(days):
            if n % 2 == 0:
                pays.append({"id": uuid.uuid4(), "student_id": rng.choice(students)["id"], "contact_id": None,
                             "booking_id": None, "amount_cents": 80000, "payment_method": "card",
                             "status": "completed", "completed_at": _at(day, 19 * 60), "created_at": _at(day, 19 * 60),
                             "description": "Bench ten lessons", "refund_amount_cents": None, "refunded_at": None})
        for chunk in range(0, len(rows), 5000):
            s.execute(sa.insert(Booking), rows[chunk:chunk + 5000])
        for chunk in range(0, len(pays), 5000):
            s.execute(sa.insert(Payment), pays[chunk:chunk + 5000])
        s.execute(sa.insert(Refund), refunds)
        s.execute(sa.text("ANALYZE"))
        return {"admin": Actor(role="admin", user_id=admin_user.id), "bookings": len(rows), "payments": len(pays),
                "refunds": len(refunds)}


def _report(fn, admin: Actor, p):
    return lambda session: fn(session, admin, p)


def timed(engine, runs: int, fn) -> list[float]:
    """``runs`` timings of ``fn(session)``, each in a fresh session (one warm-up run first, not counted)."""
    out = []
    for n in range(runs + 1):
        with nxdb.session_scope(engine) as s:
            t0 = clock.perf_counter()
            fn(s)
            elapsed = clock.perf_counter() - t0
        if n:
            out.append(elapsed)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="timed runs per case (at least 20; default 20)")
    ap.add_argument("--instructors", type=int, default=50, help="instructors (default 50)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed for the school")
    ap.add_argument("--profile", action="store_true", help="after timing, profile one run of each case (cProfile)")
    args = ap.parse_args()
    runs = max(20, args.runs)
    rng = random.Random(args.seed)
    began = clock.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="nxba-", dir="/tmp"))  # short: the server's socket lives in it
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    try:
        print("[bench-admin] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        engine = nxdb.make_engine(url)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        today = datetime.now(BUSINESS_TZ).date()
        first, year_ago = today + timedelta(days=2), today - timedelta(days=365)
        last = first + timedelta(days=DAYS - 1)
        print(f"[bench-admin] building {args.instructors} instructors: 8 weeks ahead and a year behind ...",
              flush=True)
        t0 = clock.monotonic()
        school = build_school(engine, rng, first, args.instructors)
        year = build_year(engine, rng, school["instructors"], year_ago, today)
        built = clock.monotonic() - t0
        admin = year["admin"]
        svc = school["service"]
        with nxdb.session_scope(engine) as s:
            p = reports.period(s, date_from=year_ago, date_to=today - timedelta(days=1))

        cases = [
            ("dashboard (today, week, month, queues, trend, by service)", lambda s: kpis.dashboard(s, admin)),
            (f"availability, {args.instructors} instructors, 2 weeks",
             lambda s: booking.availability_by_day(s, service_ref=svc, date_from=first,
                                                   date_to=first + timedelta(days=13))),
            (f"availability, {args.instructors} instructors, 8 weeks",
             lambda s: booking.availability_by_day(s, service_ref=svc, date_from=first, date_to=last)),
        ] + [(f"{name}, {p.first} .. {p.end - timedelta(days=1)}", _report(fn, admin, p)) for name, fn in REPORTS]
        results = []
        for name, fn in cases:
            print(f"[bench-admin] {name} ...", flush=True)
            ms = [t * 1000 for t in timed(engine, runs, fn)]
            results.append((name, pct(ms, 50), pct(ms, 95), max(ms), len(ms)))

        if args.profile:
            import cProfile
            import pstats

            for name, fn in cases:
                prof = cProfile.Profile()
                with nxdb.session_scope(engine) as s:
                    prof.runcall(fn, s)
                print(f"\n[bench-admin] profile: {name}")
                pstats.Stats(prof).sort_stats("tottime").print_stats(8)
        with nxdb.session_scope(engine) as s:
            dash = kpis.dashboard(s, admin)
            month = dash["periods"]["month"]["figures"]
            csv_lines = reports.lessons_csv(s, admin, p)[1].count("\r\n")
        print(f"\nNexDrive admin benchmark ({os.cpu_count()} cores, this machine; seed {args.seed}; "
              f"{clock.monotonic() - began:.0f} s)")
        print(f"  school: {args.instructors} instructors; {school['bookings']} lessons booked in the next 8 weeks "
              f"({school['occupancy']:.0%} of working time); {year['bookings']} bookings in the past year, "
              f"{year['payments']} payments, {year['refunds']} refunds, {LEARNERS} learners, {LEADS} leads; "
              f"built in {built:.0f} s")
        print(f"  (this month so far: {month['lessons']['value']} lessons, revenue {month['revenue']['display']}, "
              f"utilisation {month['utilisation']['display']}; the year's lessons CSV has {csv_lines} lines)")
        width = max(len(r[0]) for r in results)
        print(f"\n  {'case':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  runs")
        print(f"  {'-' * width}  {'-' * 8}  {'-' * 8}  {'-' * 8}  ----")
        for name, p50, p95, worst, n in results:
            print(f"  {name:<{width}}  {p50:8.1f}  {p95:8.1f}  {worst:8.1f}  {n:4d}")
        return 0
    finally:
        nxdb.set_engine(None)
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
