#!/usr/bin/env python3
"""Booking benchmark: availability time and reservation throughput on a realistic calendar.

    .venv/bin/python scripts/bench_booking.py          # or: python3 manage.py bench-booking
    .venv/bin/python scripts/bench_booking.py --clients 16 --seconds 10 --reps 30

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh
database, loads the reference data, and builds a school of 10 instructors
working Monday-Saturday 07:30-18:00 for the next 8 weeks: a 12:00-12:30 lunch
block on some days, a day off most weeks, about two thirds of the lesson time
already booked, and a few live holds. Then it measures:

* availability: ``booking.availability_by_day`` (what the REST API and the
  booking widget call) for 1 instructor and for all 10 over 56 days — p50, p95,
  max of ``--reps`` runs, each in a fresh session as a request would be;
* reservations: first one client alone (the cost of a booking without
  queueing), then ``--clients`` threads, each a visitor doing book_lesson (hold)
  then confirm_booking in two transactions, as the widget does, on random
  offered times for ``--seconds`` seconds — completed bookings per second,
  conflicts (someone else got there first: SlotUnavailable), p50/p95 latency;
  afterwards ``booking.overlapping_pairs`` must be 0 for every instructor.

A benchmark prints figures; it does not pass or fail (except that it says so
loudly if it ever finds overlapping bookings). Everything it creates is deleted
when it finishes.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time as clock
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.models import AvailabilityRule, Instructor, Profile, Service, User  # noqa: E402
from nexdrive.services.scheduling import booking  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.services.core.actors import VISITOR  # noqa: E402
from nexdrive.errors import HoldExpired, SlotUnavailable  # noqa: E402
from nexdrive.formats import BUSINESS_TZ  # noqa: E402
from nexdrive.services.scheduling.holidays import is_act_public_holiday  # noqa: E402

UTC = timezone.utc
INSTRUCTORS = 10
DAYS = 56
DAY_START, DAY_END = time(7, 30), time(18, 0)
LESSON_MIX = [(60, 0.6), (90, 0.25), (120, 0.15)]  # what is already booked
BOOKED_SHARE = 0.55  # chance of booking each free half-hour: ~65% of working time ends up in lessons
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kai", "Lily"]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a non-empty list."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   max {max(ms):7.1f} ms"


# ─────────────────────────────────────────────────────────────────────────────
# A realistic school
# ─────────────────────────────────────────────────────────────────────────────

def build_school(engine, rng: random.Random, first: date) -> dict:
    """10 instructors, their hours, days off, lunch blocks and ~2/3 of their time booked (bulk SQL)."""
    days = [first + timedelta(days=i) for i in range(DAYS)]
    with nxdb.session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = :h, min_booking_notice_hours = 24 "
                          "WHERE id = 1"), {"h": DAYS + 4})
        services = {m: s.execute(sa.text("SELECT id FROM services WHERE duration_minutes = :m AND is_active "
                                         "AND eligibility_kind IS NULL ORDER BY slug LIMIT 1"), {"m": m}).scalar()
                    for m, _ in LESSON_MIX}
        bench_service = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
        instructors = []
        for n in range(INSTRUCTORS):
            email = f"instructor{n}-{uuid.uuid4().hex[:6]}@bench.invalid"
            user = User(email=email, role="instructor")
            s.add(user)
            s.flush()
            profile = Profile(user_id=user.id, first_name=FIRST_NAMES[n % len(FIRST_NAMES)], last_name=f"Bench{n}",
                              email=email, phone=f"+614000000{n:02d}", role="instructor")
            s.add(profile)
            s.flush()
            inst = Instructor(user_id=user.id, profile_id=profile.id, adi_number=f"ADI{n:05d}",
                              adi_expiry=date(2035, 1, 1), accreditation_number=f"ACT-{n:05d}",
                              accreditation_expiry=date(2035, 1, 1), default_buffer_minutes=15,
                              max_lessons_per_day=8)
            s.add(inst)
            s.flush()
            instructors.append(inst.id)
            for dow in range(1, 7):  # Monday (1) to Saturday (6)
                s.add(AvailabilityRule(instructor_id=inst.id, day_of_week=dow, start_time=DAY_START,
                                       end_time=DAY_END, effective_from=first - timedelta(days=1)))
        s.flush()

        overrides, rows = [], []
        for iid in instructors:
            for week in range(DAYS // 7):
                if rng.random() < 0.8:  # a day off most weeks
                    off = days[week * 7 + rng.randrange(7)]
                    overrides.append(dict(i=iid, d=off, t="blocked", s=None, e=None))
            for day in days:
                if day.isoweekday() == 7 or is_act_public_holiday(day):
                    continue
                lunch = rng.random() < 0.5
                if lunch:
                    overrides.append(dict(i=iid, d=day, t="blocked", s=time(12), e=time(12, 30)))
                # Walk the day placing lessons on the half-hour grid; keep ~2/3 of the time booked.
                cursor = datetime.combine(day, DAY_START, tzinfo=BUSINESS_TZ)
                end_of_day = datetime.combine(day, DAY_END, tzinfo=BUSINESS_TZ)
                count = 0
                while count < 7:
                    minutes = rng.choices([m for m, _ in LESSON_MIX], [w for _, w in LESSON_MIX])[0]
                    start, end = cursor, cursor + timedelta(minutes=minutes)
                    if end > end_of_day:
                        break
                    in_lunch = lunch and start.time() < time(12, 30) and end.time() > time(12)
                    if not in_lunch and rng.random() < BOOKED_SHARE:
                        rows.append(dict(id=uuid.uuid4(), i=iid, svc=services[minutes], d=day,
                                         s=start.astimezone(UTC), e=end.astimezone(UTC), m=minutes))
                        count += 1
                        cursor = end + timedelta(minutes=30)  # 15-min buffer, rounded up to the grid
                    else:
                        cursor += timedelta(minutes=30)
        if overrides:
            s.execute(sa.text("INSERT INTO availability_overrides (id, instructor_id, date, start_time, end_time, "
                              "override_type, reason) VALUES (gen_random_uuid(), :i, :d, :s, :e, :t, 'bench')"),
                      overrides)
        # A few of them are still live holds (someone is paying right now); the rest are confirmed.
        for r in rows:
            held = rng.random() < 0.01
            r.update(status="held" if held else "confirmed",
                     exp=datetime.now(UTC) + timedelta(minutes=35) if held else None)
        s.execute(sa.text(
            "INSERT INTO bookings (id, instructor_id, service_id, scheduled_date, start_time, end_time, "
            "duration_minutes, buffer_minutes, status, hold_expires_at, amount_cents, booked_via, payment_status) "
            "VALUES (:id, :i, :svc, :d, :s, :e, :m, 15, :status, :exp, 8500, 'phone', 'unpaid')"), rows)
        s.execute(sa.text("ANALYZE"))
        working = sum(
            (630 - (30 if any(o["d"] == day and o["i"] == iid and o["s"] for o in overrides) else 0))
            for iid in instructors for day in days
            if day.isoweekday() != 7 and not is_act_public_holiday(day)
            and not any(o["d"] == day and o["i"] == iid and o["s"] is None for o in overrides))
    return {"occupancy": sum(r["m"] for r in rows) / working, "instructors": instructors,
            "service": bench_service, "bookings": len(rows),
            "holds": sum(r["status"] == "held" for r in rows), "overrides": len(overrides), "days": days}


# ─────────────────────────────────────────────────────────────────────────────
# Measurements
# ─────────────────────────────────────────────────────────────────────────────

def time_availability(engine, service_id, first: date, last: date, instructor_id, reps: int) -> tuple[list[float], int]:
    timings, n = [], 0
    for _ in range(reps):
        t0 = clock.perf_counter()
        with nxdb.session_scope(engine) as s:
            view = booking.availability_by_day(s, service_ref=service_id, date_from=first, date_to=last,
                                               instructor_id=instructor_id)
        timings.append(clock.perf_counter() - t0)
        n = sum(len(d["times"]) for d in view["slots"])
    return timings, n


def run_clients(engine, service_id, first: date, last: date, clients: int, seconds: float, seed_: int) -> dict:
    with nxdb.session_scope(engine) as s:
        svc = s.get(Service, service_id)
        pool = [sl.start for sl in booking.find_slots(s, service=svc, date_from=first, date_to=last)]
    # One entry per free instructor at each time; the widget books "any instructor". Clients share what
    # they learn (a booked time loses an entry, a refused one is dropped), as fresh availability would.
    pool.sort()
    lock = threading.Lock()
    stats = {"booked": 0, "conflicts": 0, "expired": 0, "errors": 0, "reserve": [], "confirm": [], "total": []}
    counter = iter(range(10**9))
    deadline = clock.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        rng = random.Random(seed_ * 1000 + k)
        barrier.wait()
        while clock.monotonic() < deadline:
            with lock:
                if not pool:
                    break
                n = next(counter)
                start = rng.choice(pool)
            t0 = clock.perf_counter()
            try:
                with nxdb.session_scope(engine) as s:
                    r = booking.book_lesson(
                        s, VISITOR, service_id=service_id, start_time=start,
                        name=f"{FIRST_NAMES[n % len(FIRST_NAMES)]} Bench{n}", phone=f"04{n % 10**8:08d}",
                        email=f"client{n}@bench.invalid", pickup_address=f"{n % 200 + 1} Bench St",
                        suburb="Belconnen")
                    bid, token = r.booking.id, r.manage_token
                t1 = clock.perf_counter()
                with nxdb.session_scope(engine) as s:
                    booking.confirm_booking(s, VISITOR, bid, manage_token=token)
                t2 = clock.perf_counter()
                with lock:
                    if start in pool:
                        pool.remove(start)
                    stats["booked"] += 1
                    stats["reserve"].append(t1 - t0)
                    stats["confirm"].append(t2 - t1)
                    stats["total"].append(t2 - t0)
            except SlotUnavailable:
                with lock:
                    pool[:] = [p for p in pool if p != start]
                    stats["conflicts"] += 1
                    stats["reserve"].append(clock.perf_counter() - t0)
            except HoldExpired:
                with lock:
                    stats["expired"] += 1
            except Exception as exc:  # report, keep going
                with lock:
                    stats["errors"] += 1
                    if stats["errors"] <= 3:
                        print(f"  ! client error: {exc.__class__.__name__}: {exc}", flush=True)

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    t0 = clock.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats["elapsed"] = clock.monotonic() - t0
    stats["pool"] = len(set(pool))
    return stats


# ─────────────────────────────────────────────────────────────────────────────

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=30, help="availability runs per case (default 30)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent booking clients (default 16)")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long the clients book (default 10)")
    ap.add_argument("--baseline-seconds", type=float, default=3.0,
                    help="a single client first, for the cost of one booking without queueing (default 3; 0 = skip)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed for the calendar and the clients")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    began = clock.monotonic()

    # Short path: the server's unix socket lives in the data dir (108-byte limit).
    tmp = Path(tempfile.mkdtemp(prefix="nxbb-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    try:
        print("[bench-booking] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        engine = nxdb.make_engine(url, pool_size=args.clients + 4, max_overflow=args.clients)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)

        today = datetime.now(BUSINESS_TZ).date()
        first = today + timedelta(days=2)  # clear of the 24-hour notice
        last = first + timedelta(days=DAYS - 1)
        print("[bench-booking] building 10 instructors x 8 weeks of calendar ...", flush=True)
        t0 = clock.monotonic()
        school = build_school(engine, rng, first)
        build_secs = clock.monotonic() - t0
        one = school["instructors"][0]

        print(f"[bench-booking] availability, {args.reps} runs each ...", flush=True)
        time_availability(engine, school["service"], first, last, None, 2)  # warm caches and the pool
        avail_one, n_one = time_availability(engine, school["service"], first, last, one, args.reps)
        avail_all, n_all = time_availability(engine, school["service"], first, last, None, args.reps)
        with nxdb.session_scope(engine) as s:
            n_slots_all = len(booking.find_slots(s, service=s.get(Service, school["service"]),
                                                 date_from=first, date_to=last))

        base = None
        if args.baseline_seconds > 0:
            print(f"[bench-booking] 1 client booking for {args.baseline_seconds:.0f} s ...", flush=True)
            base = run_clients(engine, school["service"], first, last, 1, args.baseline_seconds, args.seed + 1)
        print(f"[bench-booking] {args.clients} clients booking for {args.seconds:.0f} s ...", flush=True)
        res = run_clients(engine, school["service"], first, last, args.clients, args.seconds, args.seed)

        with nxdb.session_scope(engine) as s:
            overlaps = {iid: booking.overlapping_pairs(s, iid) for iid in school["instructors"]}
            live = s.execute(sa.text("SELECT count(*) FROM bookings WHERE status IN ('held','confirmed')")).scalar()
            over_limit = s.execute(sa.text(
                "SELECT count(*) FROM (SELECT instructor_id, scheduled_date FROM bookings "
                "WHERE status IN ('held','confirmed') AND booked_via = 'website' "
                "GROUP BY 1, 2) w JOIN LATERAL (SELECT count(*) AS n FROM bookings b WHERE "
                "b.instructor_id = w.instructor_id AND b.scheduled_date = w.scheduled_date AND "
                "b.status IN ('held','confirmed')) c ON true JOIN instructors i ON i.id = w.instructor_id "
                "WHERE c.n > i.max_lessons_per_day")).scalar()

        # ── report ──────────────────────────────────────────────────────────
        attempts = res["booked"] + res["conflicts"] + res["expired"] + res["errors"]
        note = ("conflicts = SlotUnavailable: another client took that time, or an overlapping one, "
                "after the free times were listed")
        rows = [
            ("calendar", f"{INSTRUCTORS} instructors, {DAYS} days ({first} .. {last}), Mon-Sat 07:30-18:00"),
            ("", f"{school['bookings']} lessons already booked ({school['holds']} live holds): "
                 f"{school['occupancy']:.0%} of working time, plus 15-min buffers"),
            ("", f"{school['overrides']} blocks (days off, lunch breaks); built in {build_secs:.1f} s"),
            ("", f"free 60-min starts: {n_one} for instructor 1, {n_slots_all} slots across all 10 "
                 f"({n_all} distinct times)"),
            ("availability_by_day, 1 instructor, 56 days", summary_ms(avail_one)),
            ("availability_by_day, 10 instructors, 56 days", summary_ms(avail_all)),
            *([] if base is None else [
                (f"reserve+confirm, 1 client, {base['elapsed']:.1f} s",
                 f"{base['booked'] / base['elapsed']:.1f} bookings/s  ({base['booked']} booked, "
                 f"{base['conflicts']} conflicts)"),
                ("  reserve + confirm, successful bookings",
                 summary_ms(base["total"]) if base["total"] else "n/a")]),
            (f"reserve+confirm, {args.clients} clients, {res['elapsed']:.1f} s",
             f"{res['booked'] / res['elapsed']:.1f} bookings/s  ({res['booked']} booked, {res['conflicts']} conflicts, "
             f"{res['expired']} expired, {res['errors']} errors of {attempts} attempts; "
             f"{res['pool']} free times left)"),
            ("  reserve latency (book_lesson, incl. conflicts)",
             summary_ms(res["reserve"]) if res["reserve"] else "n/a"),
            ("  confirm latency (confirm_booking)", summary_ms(res["confirm"]) if res["confirm"] else "n/a"),
            ("  reserve + confirm, successful bookings", summary_ms(res["total"]) if res["total"] else "n/a"),
            ("overlapping live bookings afterwards", f"{sum(overlaps.values())} (per instructor: "
                                                     f"{sorted(set(overlaps.values()))}); live bookings {live}"),
            ("instructor-days over the daily limit via the website", str(over_limit)),
        ]
        width = max(len(k) for k, _ in rows)
        print(f"\nNexDrive booking benchmark ({os.cpu_count()} cores, this machine; seed {args.seed})")
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print(f"  {'total run time':<{width}}  {clock.monotonic() - began:.0f} s")
        print(f"  ({note})")
        if any(overlaps.values()):
            print("\n!! OVERLAPPING BOOKINGS FOUND: the double-booking guarantee is broken")
            return 1
        return 0
    finally:
        nxdb.set_engine(None)
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
