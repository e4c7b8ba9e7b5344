#!/usr/bin/env python3
"""Booking benchmark: availability and reservations, in-process and over HTTP, on realistic calendars.

    python3 manage.py bench-booking                       # everything (about 10-15 minutes on 2 cores)
    python3 manage.py bench-booking --phases demo,s10 --reps 200 --samples 200 --no-http

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh
database, loads the reference data, and measures three calendars:

* ``demo`` — the demo school exactly as ``manage.py serve --demo`` loads it
  (its real instructor, hours and lessons): availability of a 60-minute lesson
  for 8 weeks, and reserve + confirm by one client;
* ``s10`` — a synthetic school of 10 instructors working Monday-Saturday
  07:30-18:00 for the next 8 weeks (lunch blocks, days off, about two thirds of
  the time already booked, a few live holds) with ``--history`` past lessons
  (default 100,000; ten years of them) behind it: availability for 1 and for
  all 10 instructors, reserve + confirm by one client, ``--clients-one`` clients
  on one instructor, and ``--clients-many`` clients booking "any instructor";
* ``s50`` — the same school grown to 50 instructors (the past lessons stay):
  availability for all 50.

Availability is timed ``--reps`` times (default 200) per case, each in a fresh
session as a request would be; in-process through ``booking.availability_by_day``
(what the REST API and the widget call) and, unless ``--no-http``, through
``GET /api/v1/booking/availability`` served in a separate process as production
serves it (Granian, ASGI, ``--workers`` workers; ``--server uvicorn`` for the
earlier rounds' server), with the body's size on the wire and uncompressed.
Reservations are made as the widget does: a hold (``book_lesson`` /
``POST /booking/reserve``) then a confirmation in a second transaction, by
clients on plain keep-alive HTTP/1.1 connections (``http.client``; ``--client
httpx`` for the earlier rounds' client), on random offered times, until at least
``--samples`` attempts (default 200) and as many bookings are timed. The clients share the list of
free times as a list re-read after each booking would show it: a booking removes
every start it blocks (the lesson's duration plus buffer) and, when it fills the
instructor's day to their daily limit, the rest of that day; a refused client
tries one of the refusal's own alternatives next, as the widget offers them
(a new attempt). When the free times run out the benchmark's own bookings are
cancelled and another round starts (rounds are timed, the resets are not).
Every attempt is counted: booked, conflict (someone else got there first, or
the daily limit filled), hold expired, error, and attempts per booking are
printed; so is the CPU per booking of the API server, PostgreSQL and the
clients' own threads. p50/p95 are over
successful bookings (and over all reserve attempts). After every round
``booking.overlapping_pairs`` must be 0 for every instructor.

A benchmark prints figures; it does not pass or fail (except that it says so
loudly if it ever finds overlapping bookings). Everything it creates is deleted
when it finishes.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time as clock
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
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
DAYS = 56
DAY_START, DAY_END = time(7, 30), time(18, 0)
LESSON_MIX = [(60, 0.6), (90, 0.25), (120, 0.15)]  # what is already booked
BOOKED_SHARE = 0.55  # chance of booking each free half-hour: ~65% of working time ends up in lessons
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kai", "Lily"]
BENCH_EMAIL = "@bench.invalid"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a non-empty list."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def summary_ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ms = [v * 1000 for v in values]
    return f"p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   max {max(ms):7.1f} ms   (n={len(ms)})"


# ─────────────────────────────────────────────────────────────────────────────
# Calendars
# ─────────────────────────────────────────────────────────────────────────────

def build_school(engine, rng: random.Random, first: date, count: int) -> dict:
    """``count`` instructors, their hours, days off, lunch blocks and ~2/3 of their time booked (bulk SQL)."""
    days = [first + timedelta(days=i) for i in range(DAYS)]
    with nxdb.session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET booking_horizon_days = :h, min_booking_notice_hours = 24 "
                          "WHERE id = 1"), {"h": DAYS + 4})
        services = {m: s.execute(sa.text("SELECT id FROM services WHERE duration_minutes = :m AND is_active "
                                         "AND eligibility_kind IS NULL ORDER BY slug LIMIT 1"), {"m": m}).scalar()
                    for m, _ in LESSON_MIX}
        bench_service = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
        instructors = []
        for n in range(count):
            email = f"instructor{n}-{uuid.uuid4().hex[:6]}@bench.invalid"
            user = User(email=email, role="instructor")
            s.add(user)
            s.flush()
            profile = Profile(user_id=user.id, first_name=FIRST_NAMES[n % len(FIRST_NAMES)], last_name=f"Bench{n}",
                              email=email, phone=f"+6140000{n:04d}", role="instructor")
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
        lunches = {(o["i"], o["d"]) for o in overrides if o["s"] is not None}
        days_off = {(o["i"], o["d"]) for o in overrides if o["s"] is None}
        working = sum(630 - (30 if (iid, day) in lunches else 0)
                      for iid in instructors for day in days
                      if day.isoweekday() != 7 and not is_act_public_holiday(day) and (iid, day) not in days_off)
    return {"occupancy": sum(r["m"] for r in rows) / working, "instructors": instructors,
            "service": bench_service, "bookings": len(rows),
            "holds": sum(r["status"] == "held" for r in rows), "overrides": len(overrides), "days": days}


def add_history(engine, instructors: list, count: int, before: date) -> None:
    """``count`` completed lessons in the past, shared by these instructors, about ten years of them (bulk SQL)."""
    if count <= 0:
        return
    with nxdb.session_scope(engine) as s:
        svc = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
        per = max(1, count // len(instructors))
        gap_minutes = max(60 + 15, int(10 * 365 * 24 * 60 / per))  # spread each one's lessons over ten years
        t0 = datetime.combine(before - timedelta(days=3), time(9), tzinfo=BUSINESS_TZ).astimezone(UTC)
        s.execute(sa.text("""
            INSERT INTO bookings (id, instructor_id, service_id, scheduled_date, start_time, end_time,
                                  duration_minutes, buffer_minutes, status, amount_cents, booked_via, payment_status)
            SELECT gen_random_uuid(), (:ids)[1 + g % :n], :svc, (t AT TIME ZONE 'Australia/Sydney')::date,
                   t, t + interval '60 minutes', 60, 15, 'completed', 8500, 'phone', 'paid'
            FROM generate_series(0, :count - 1) AS g,
                 LATERAL (SELECT :t0 - make_interval(mins => (g / :n) * :gap) AS t) AS x
        """), {"ids": list(instructors), "n": len(instructors), "svc": svc, "count": count, "t0": t0,
               "gap": gap_minutes})
        s.execute(sa.text("ANALYZE bookings"))


def set_active(engine, instructors: list) -> None:
    """Only these instructors take bookings (the others are made inactive)."""
    with nxdb.session_scope(engine) as s:
        s.execute(sa.text("UPDATE instructors SET status = CASE WHEN id = ANY(:ids) THEN 'active' "
                          "ELSE 'inactive' END"), {"ids": list(instructors)})


def cancel_bench_bookings(engine) -> int:
    """Free the times the benchmark's clients took, for another round."""
    with nxdb.session_scope(engine) as s:
        return s.execute(sa.text(
            "UPDATE bookings SET status = 'cancelled', hold_expires_at = NULL, cancelled_at = now() "
            "WHERE status IN ('held', 'confirmed') AND booker_email LIKE :e"), {"e": "%" + BENCH_EMAIL}).rowcount


def overlaps(engine) -> int:
    with nxdb.session_scope(engine) as s:
        ids = s.execute(sa.text("SELECT id FROM instructors")).scalars().all()
        return sum(booking.overlapping_pairs(s, iid) for iid in ids)


# ─────────────────────────────────────────────────────────────────────────────
# The API in its own process
# ─────────────────────────────────────────────────────────────────────────────

TICK = 1.0 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (0 if it is gone)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) * TICK if fields else 0.0


def children_cpu(parent: int) -> float:
    """utime + stime of every child of ``parent`` (PostgreSQL's backends and workers), in seconds."""
    total = 0.0
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(name)
            if fields and int(fields[1]) == parent:
                total += (int(fields[11]) + int(fields[12])) * TICK
    return total


def tree_cpu(root: int) -> float:
    """utime + stime of ``root`` and all its descendants (the API server and its worker processes), in seconds."""
    parents, cpu = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(name)
            if fields:
                parents[int(name)] = int(fields[1])
                cpu[int(name)] = (int(fields[11]) + int(fields[12])) * TICK
    wanted = {root}
    changed = True
    while changed:  # descendants, whatever the order /proc lists them in
        changed = False
        for pid, ppid in parents.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    return sum(cpu.get(pid, 0.0) for pid in wanted)


# uvicorn with --workers binds the listening socket itself with proto 0, so the accepted sockets never get
# TCP_NODELAY from asyncio and every keep-alive response waits ~40 ms for the client's delayed ACK
# (Kludex/uvicorn#3149). The benchmark's uvicorn gets the socket marked as TCP so one and two workers are
# compared fairly. (Only for ``--server uvicorn``; the default is Granian, as in production.)
_UVICORN_NODELAY = """
import socket, sys
import uvicorn.config
_bind = uvicorn.config.Config.bind_socket
def _bind_tcp(self):
    sock = _bind(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock
uvicorn.config.Config.bind_socket = _bind_tcp
from uvicorn.main import main
sys.argv[0] = "uvicorn"
main()
"""


def _event_loop() -> str:
    """The event loop the API server runs on: Granian's and uvicorn's ``auto`` take uvloop when it is installed."""
    import importlib.util
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


class ApiServer:
    """The app's HTTP API in a separate process, served as production serves it: Granian, ASGI interface (how
    Reflex 0.10's ``run_granian_backend_prod`` starts the backend), ``workers`` worker processes (production runs
    one, or two when ``REDIS_URL`` is set), Granian's ``auto`` event loop as production leaves it (uvloop, installed
    from requirements.txt since the eighth round; the plain asyncio loop before). ``server=
    "uvicorn"`` serves it with uvicorn instead (h11, no httptools: the earlier rounds' figures)."""

    def __init__(self, url: str, data_dir: Path, workers: int = 1, server: str = "granian"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.kind = server
        env = {**os.environ, "DATABASE_URL": url, "NEXDRIVE_DATA_DIR": str(data_dir),
               "NEXDRIVE_RATE_LIMITS": "reserve=off,confirm=off"}
        if server == "granian":
            cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(workers), "--loop", "auto",
                   "--log-level", "warning", "--no-access-log", "nexdrive.http_app:build_api"]
        elif server == "uvicorn":
            cmd = [sys.executable, "-c", _UVICORN_NODELAY, "nexdrive.http_app:build_api", "--factory", "--host",
                   "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
                   *(["--workers", str(workers)] if workers > 1 else [])]
        else:
            raise ValueError(f"unknown server {server!r}")
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env)
        for _ in range(300):
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the API server exited")
            clock.sleep(0.1)
        else:
            raise RuntimeError("the API server did not start")
        if workers > 1:  # every worker answers before anything is measured
            for _ in range(4 * workers):
                httpx.get(self.base + "/api/v1/health", timeout=30)

    def cpu(self) -> float:
        """CPU seconds used so far by the server and its workers."""
        return tree_cpu(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ─────────────────────────────────────────────────────────────────────────────
# Measurements
# ─────────────────────────────────────────────────────────────────────────────

def time_availability(engine, service_id, first: date, last: date, instructor_id, reps: int
                      ) -> tuple[list[float], int]:
    timings, n = [], 0
    for _ in range(reps):
        t0 = clock.perf_counter()
        with nxdb.session_scope(engine) as s:
            view = booking.availability_by_day(s, service_ref=service_id, date_from=first, date_to=last,
                                               instructor_id=instructor_id)
        timings.append(clock.perf_counter() - t0)
        n = sum(len(d["times"]) for d in view["slots"])
    return timings, n


def http_availability(base: str, service_id, first: date, last: date, reps: int) -> dict:
    """GET /booking/availability as a browser would (gzip accepted): timings, failures, body sizes."""
    params = {"service_id": str(service_id), "date_from": first.isoformat(), "date_to": last.isoformat()}
    timings, failures, wire, raw = [], 0, 0, 0
    with httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"}) as client:
        client.get("/api/v1/booking/availability", params=params)  # warm
        for _ in range(reps):
            t0 = clock.perf_counter()
            r = client.get("/api/v1/booking/availability", params=params)
            body = r.content
            timings.append(clock.perf_counter() - t0)
            if r.status_code != 200:
                failures += 1
                continue
            wire, raw = r.num_bytes_downloaded, len(body)
    return {"timings": timings, "failures": failures, "wire": wire, "raw": raw,
            "gzip_would_be": len(gzip.compress(body, 6))}


def free_pool(engine, service_id, first: date, last: date, instructor_id=None) -> list[tuple[datetime, uuid.UUID]]:
    with nxdb.session_scope(engine) as s:
        return sorted((sl.start, sl.instructor_id) for sl in booking.find_slots(
            s, service=s.get(Service, service_id), date_from=first, date_to=last, instructor_id=instructor_id))


def blocked_spans(engine, service_id) -> dict:
    """How long a new lesson of this service keeps each instructor from starting another one: its duration plus
    its buffer (the lesson type's, else the instructor's default), as the slot engine and the exclusion
    constraint count it. A start ``t`` is taken by a booking at ``s`` when ``|t - s|`` is less than that."""
    with nxdb.session_scope(engine) as s:
        svc = s.get(Service, service_id)
        rows = s.execute(sa.text("SELECT id, default_buffer_minutes FROM instructors")).all()
    return {iid: timedelta(minutes=svc.duration_minutes + (svc.buffer_minutes if svc.buffer_minutes is not None
                                                           else default)) for iid, default in rows}


def day_counts(engine, first: date, last: date) -> tuple[dict, dict]:
    """Each instructor's daily limit, and the lessons that count towards it per (instructor, day) in the range,
    as the slot engine counts them: a booking that fills a day takes the rest of that day off the list."""
    with nxdb.session_scope(engine) as s:
        limits = dict(s.execute(sa.text("SELECT id, max_lessons_per_day FROM instructors")).all())
        rows = s.execute(sa.text(
            "SELECT instructor_id, scheduled_date, count(*) FROM bookings WHERE scheduled_date BETWEEN :a AND :b "
            "AND (status IN ('confirmed','in_progress','completed') OR (status = 'held' AND hold_expires_at > now())) "
            "GROUP BY 1, 2"), {"a": first, "b": last}).all()
    return limits, {(iid, day): n for iid, day, n in rows}


def _alternatives(items: list[dict]) -> list[tuple[datetime, uuid.UUID]]:
    """A refusal's ``suggested_alternatives`` as (start, instructor) pairs."""
    out = []
    for a in items or ():
        start = datetime.fromisoformat(a["start_at"].replace("Z", "+00:00"))
        out.append((start, uuid.UUID(a["instructor_id"])))
    return out


class InProcess:
    """book_lesson then confirm_booking, each in its own transaction, as the widget does. ``book`` returns the
    outcome and, when booked, the instructor who got it; when refused, the refusal's alternatives."""

    def __init__(self, engine):
        self.engine = engine

    def book(self, _k, service_id, start: datetime, instructor_id, n: int) -> tuple[str, object]:
        try:
            with nxdb.session_scope(self.engine) as s:
                r = booking.book_lesson(
                    s, VISITOR, service_id=service_id, start_time=start, instructor_id=instructor_id,
                    name=f"{FIRST_NAMES[n % len(FIRST_NAMES)]} Bench{n}", phone=f"04{n % 10**8:08d}",
                    email=f"client{n}{BENCH_EMAIL}", pickup_address=f"{n % 200 + 1} Bench St", suburb="Belconnen")
                bid, token, who = r.booking.id, r.manage_token, r.booking.instructor_id
            with nxdb.session_scope(self.engine) as s:
                booking.confirm_booking(s, VISITOR, bid, manage_token=token)
            return "booked", who
        except SlotUnavailable as exc:
            return "conflict", _alternatives(exc.details.get("suggested_alternatives"))
        except HoldExpired:
            return "expired", None

    def close(self) -> None:
        pass


class _RawClient:
    """One keep-alive HTTP/1.1 connection (``http.client``), JSON by ``json``: the cheapest real client the
    standard library offers, so the clients take as little CPU from the server's two cores as they can."""

    def __init__(self, base: str):
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, payload: dict) -> tuple[int, dict]:
        body = json.dumps(payload).encode()
        for retry in (False, True):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request("POST", path, body, {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if retry:
                    raise
        return r.status, (json.loads(data) if data else {})

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _HttpxClient:
    """The same through httpx (the earlier rounds' client; ``--client httpx``)."""

    def __init__(self, base: str):
        self.client = httpx.Client(base_url=base, timeout=60)

    def post(self, path: str, payload: dict) -> tuple[int, dict]:
        r = self.client.post(path, json=payload)
        return r.status_code, (r.json() if r.content else {})

    def close(self) -> None:
        self.client.close()


class OverHttp:
    """POST /booking/reserve then POST /booking/confirm, one keep-alive connection per benchmark client."""

    def __init__(self, base: str, client: str = "raw"):
        self.base = base
        self.kind = _RawClient if client == "raw" else _HttpxClient
        self.clients: dict[int, _RawClient | _HttpxClient] = {}

    def book(self, k, service_id, start: datetime, instructor_id, n: int) -> tuple[str, object]:
        client = self.clients.get(k)
        if client is None:
            client = self.clients[k] = self.kind(self.base)
        local = start.astimezone(BUSINESS_TZ)
        body = {"service_id": str(service_id), "date": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
                "contact": {"name": f"{FIRST_NAMES[n % len(FIRST_NAMES)]} Bench{n}", "phone": f"04{n % 10**8:08d}",
                            "email": f"client{n}{BENCH_EMAIL}"},
                "pickup_address": f"{n % 200 + 1} Bench St", "suburb": "Belconnen"}
        if instructor_id is not None:
            body["instructor_id"] = str(instructor_id)
        status, doc = client.post("/api/v1/booking/reserve", body)
        if status == 409:
            details = (doc.get("error") or {}).get("details") or {}
            return "conflict", _alternatives(details.get("suggested_alternatives"))
        if status != 201:
            raise RuntimeError(f"reserve: HTTP {status} {str(doc)[:200]}")
        data = doc["data"]
        status, doc = client.post("/api/v1/booking/confirm", {"reservation_id": data["reservation_id"],
                                                              "manage_token": data["manage_token"]})
        if status == 409:
            return "expired", None
        if status != 200:
            raise RuntimeError(f"confirm: HTTP {status} {str(doc)[:200]}")
        return "booked", uuid.UUID(data["booking_summary"]["instructor_id"])

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def run_clients(engine, way, service_id, first: date, last: date, clients: int, samples: int, seed_: int,
                *, instructor_id=None, any_instructor: bool = True, max_seconds: float = 120.0,
                server: ApiServer | None = None, postmaster: int | None = None) -> dict:
    """``clients`` threads booking offered times until ``samples`` attempts and ``samples`` bookings are timed
    (in rounds).

    Each client picks a random time from the round's list of free times, shared by the clients as a list
    re-read after every booking would be: a booking removes every start it blocks for its instructor (the
    lesson's duration plus its buffer either side) and, when it fills that instructor's day (their daily limit),
    the rest of that day; a refusal removes the refused time. A refused client then
    tries one of the refusal's own alternatives, as the booking widget offers them (a new attempt, counted and
    timed like any other). CPU is counted for the clients' own threads and, when given, the API server's
    processes and PostgreSQL's."""
    stats = {"booked": 0, "conflicts": 0, "expired": 0, "errors": 0, "reserve": [], "total": [], "elapsed": 0.0,
             "rounds": 0, "overlaps": 0, "client_cpu": 0.0, "app_cpu": None, "db_cpu": None}
    counter = iter(range(10**9))
    lock = threading.Lock()
    began = clock.monotonic()
    spans = blocked_spans(engine, service_id)
    def attempts() -> int:
        return stats["booked"] + stats["conflicts"] + stats["expired"] + stats["errors"]

    # Until both ``samples`` attempts and ``samples`` bookings are timed: p50/p95 of each from that many.
    while attempts() < samples or stats["booked"] < samples:
        if clock.monotonic() - began > max_seconds:
            break
        pool = free_pool(engine, service_id, first, last, instructor_id)
        if not pool:
            if stats["rounds"] and cancel_bench_bookings(engine):
                continue
            break
        stats["rounds"] += 1
        limits, per_day = day_counts(engine, first, last)
        barrier = threading.Barrier(clients)
        bookings_left = [samples - stats["booked"]]  # a round stops when both are used up
        attempts_left = [samples - attempts()]

        def client(k: int, pool: list, barrier: threading.Barrier, attempts_left: list, bookings_left: list,
                   limits: dict, per_day: dict) -> None:
            rng = random.Random(seed_ * 1000 + k + 7919 * stats["rounds"])
            barrier.wait()
            cpu0 = clock.thread_time()
            offered: list = []  # the last refusal's alternatives
            try:
                while True:
                    with lock:
                        if not pool or (attempts_left[0] <= 0 and bookings_left[0] <= 0):
                            return
                        attempts_left[0] -= 1
                        n = next(counter)
                        if offered:
                            start, iid = rng.choice(offered)
                        else:
                            start, iid = rng.choice(pool)
                    t0 = clock.perf_counter()
                    info = None
                    try:
                        outcome, info = way.book(k, service_id, start, None if any_instructor else iid, n)
                    except Exception as exc:  # report, keep going
                        outcome = "error"
                        if stats["errors"] < 3:
                            print(f"  ! client error: {exc.__class__.__name__}: {exc}", flush=True)
                    took = clock.perf_counter() - t0
                    offered = []
                    with lock:
                        if outcome == "booked":
                            stats["booked"] += 1
                            bookings_left[0] -= 1
                            stats["total"].append(took)
                            span = spans.get(info, timedelta(minutes=75))
                            pool[:] = [p for p in pool if p[1] != info or abs(p[0] - start) >= span]
                            day = start.astimezone(BUSINESS_TZ).date()
                            per_day[(info, day)] = per_day.get((info, day), 0) + 1
                            if limits.get(info) and per_day[(info, day)] >= limits[info]:  # the day is full
                                pool[:] = [p for p in pool if p[1] != info
                                           or p[0].astimezone(BUSINESS_TZ).date() != day]
                        elif outcome == "conflict":
                            stats["conflicts"] += 1
                            pool[:] = [p for p in pool if p[0] != start]
                            offered = info or []
                        elif outcome == "expired":
                            stats["expired"] += 1
                        else:
                            stats["errors"] += 1
                        stats["reserve"].append(took)
            finally:
                with lock:
                    stats["client_cpu"] += clock.thread_time() - cpu0

        threads = [threading.Thread(target=client, daemon=True,
                                    args=(k, pool, barrier, attempts_left, bookings_left, limits, per_day))
                   for k in range(clients)]
        app0 = server.cpu() if server is not None else None
        db0 = children_cpu(postmaster) if postmaster is not None else None
        t0 = clock.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats["elapsed"] += clock.monotonic() - t0
        if app0 is not None:
            stats["app_cpu"] = (stats["app_cpu"] or 0.0) + server.cpu() - app0
        if db0 is not None:
            stats["db_cpu"] = (stats["db_cpu"] or 0.0) + children_cpu(postmaster) - db0
        stats["overlaps"] += overlaps(engine)
        cancel_bench_bookings(engine)
    return stats


class StatementCounter:
    """The statements the app sends (a SQLAlchemy event listener): each is one round trip to the database."""

    def __init__(self, engine):
        self.engine, self.sent = engine, []

    def _listen(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.sent.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        sa.event.listen(self.engine, "before_cursor_execute", self._listen)
        return self.sent

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._listen)


def round_trips(engine, service_id, first: date, last: date, instructor_id) -> str:
    """Statements sent by one availability request, one reserve (and how many of them while the instructor's
    lock is held) and one confirm; BEGIN/COMMIT come on top of each transaction."""
    with StatementCounter(engine) as sent, nxdb.session_scope(engine) as s:
        booking.availability_by_day(s, service_ref=service_id, date_from=first, date_to=last)
    availability_n = len(sent)
    pool = free_pool(engine, service_id, first, last, instructor_id)
    if not pool:
        return f"availability {availability_n} (no free time left to reserve)"
    start, iid = pool[len(pool) // 2]
    with StatementCounter(engine) as sent, nxdb.session_scope(engine) as s:
        r = booking.book_lesson(s, VISITOR, service_id=service_id, start_time=start, instructor_id=iid,
                                name="Round Trips", phone="0499000111", email=f"trips{BENCH_EMAIL}",
                                pickup_address="1 Bench St", suburb="Belconnen")
        bid, token = r.booking.id, r.manage_token
    reserve = list(sent)
    locked = next((i for i, q in enumerate(reserve)
                   if q.startswith("SELECT pg_advisory_xact_lock(%(k)s)") or "reserve_lock" in q), None)
    with StatementCounter(engine) as sent, nxdb.session_scope(engine) as s:
        booking.confirm_booking(s, VISITOR, bid, manage_token=token)
    cancel_bench_bookings(engine)
    under = f", {len(reserve) - locked} of them under the instructor's lock" if locked is not None else ""
    return f"availability {availability_n}; reserve {len(reserve)}{under}; confirm {len(sent)}"


def clients_line(res: dict) -> str:
    attempts = res["booked"] + res["conflicts"] + res["expired"] + res["errors"]
    rate = res["booked"] / res["elapsed"] if res["elapsed"] else 0.0
    per = f"{attempts / res['booked']:.2f}" if res["booked"] else "n/a"
    return (f"{rate:6.1f} bookings/s   {res['booked']} booked, {res['conflicts']} conflicts, {res['expired']} "
            f"expired, {res['errors']} errors of {attempts} attempts ({per} attempts per booking) in "
            f"{res['elapsed']:.1f} s ({res['rounds']} rounds); overlaps {res['overlaps']}")


def cpu_line(res: dict) -> str:
    """CPU per booking during the timed rounds: the API server's processes, PostgreSQL's, the clients' threads."""
    if not res["booked"]:
        return "n/a"
    parts = []
    for key, label in (("app_cpu", "app"), ("db_cpu", "PostgreSQL"), ("client_cpu", "client")):
        if res[key] is not None:
            parts.append(f"{label} {res[key] / res['booked'] * 1000:.1f} ms")
    total = sum(res[k] for k in ("app_cpu", "db_cpu", "client_cpu") if res[k] is not None)
    return ", ".join(parts) + f"; all {total / res['booked'] * 1000:.1f} ms"


# ─────────────────────────────────────────────────────────────────────────────

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phases", default="demo,s10,s50", help="which calendars (default demo,s10,s50)")
    ap.add_argument("--reps", type=int, default=200, help="availability requests per case (default 200)")
    ap.add_argument("--samples", type=int, default=200, help="reservation attempts (and bookings) per case")
    ap.add_argument("--history", type=int, default=100_000, help="past lessons behind the synthetic school")
    ap.add_argument("--clients-one", type=int, default=10, help="clients booking one instructor (default 10)")
    ap.add_argument("--clients-many", type=int, default=50, help="clients booking any of 10 (default 50)")
    ap.add_argument("--no-http", action="store_true", help="in-process only")
    ap.add_argument("--workers", type=int, default=1,
                    help="API worker processes for the HTTP phases (default 1; production runs 2 with REDIS_URL)")
    ap.add_argument("--server", choices=("granian", "uvicorn"), default="granian",
                    help="what serves the API (default granian, as in production)")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="the reserving clients' HTTP library (default raw: http.client, keep-alive)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed for the calendar and the clients")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    rng = random.Random(args.seed)
    began = clock.monotonic()
    rows: list[tuple[str, str]] = []

    def say(key: str, value: str) -> None:
        rows.append((key, value))
        print(f"  {key:<58} {value}", flush=True)

    # Short path: the server's unix socket lives in the data dir (108-byte limit).
    tmp = Path(tempfile.mkdtemp(prefix="nxbb-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = server = None
    try:
        print("[bench-booking] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        engine = nxdb.make_engine(url, pool_size=max(args.clients_one, args.clients_many) + 4, max_overflow=10)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        if not args.no_http:
            server = ApiServer(url, tmp / "app", args.workers, args.server)
        today = datetime.now(BUSINESS_TZ).date()

        if "demo" in phases:
            print("[bench-booking] demo school ...", flush=True)
            with nxdb.session_scope(engine) as s:
                seed.load_demo_data(s)
                svc = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar()
                s.execute(sa.text("ANALYZE"))
            first, last = today, today + timedelta(days=DAYS - 1)
            t, n = time_availability(engine, svc, first, last, None, args.reps)
            say(f"demo: free 60-min starts, {first} .. {last}", str(n))
            say("demo: SQL statements (round trips) per request", round_trips(engine, svc, first, last, None))
            say("demo: availability in-process", summary_ms(t))
            if server:
                h = http_availability(server.base, svc, first, last, args.reps)
                say("demo: availability over HTTP", summary_ms(h["timings"]) + f", {h['failures']} failed")
                say("demo: availability body", f"{h['raw'] / 1024:.1f} KB JSON, {h['wire'] / 1024:.1f} KB on the "
                                               f"wire (gzip would be {h['gzip_would_be'] / 1024:.1f} KB)")
                way = OverHttp(server.base, args.client)
                res = run_clients(engine, way, svc, first, last, 1, args.samples, args.seed, server=server,
                                  postmaster=postmaster)
                way.close()
                say("demo: reserve+confirm over HTTP, 1 client", clients_line(res))
                say("  successful bookings", summary_ms(res["total"]))
                say("  CPU per booking", cpu_line(res))

        if phases & {"s10", "s50"}:
            first = today + timedelta(days=2)  # clear of the 24-hour notice
            last = first + timedelta(days=DAYS - 1)
            count = 50 if "s50" in phases else 10
            print(f"[bench-booking] building {count} instructors x 8 weeks of calendar, {args.history} past "
                  "lessons ...", flush=True)
            t0 = clock.monotonic()
            school = build_school(engine, rng, first, count)
            ten = school["instructors"][:10]
            add_history(engine, ten, args.history, first)
            svc = school["service"]
            say("synthetic school", f"{count} instructors, {DAYS} days ({first} .. {last}), Mon-Sat 07:30-18:00; "
                                    f"{school['bookings']} lessons booked ({school['holds']} live holds, "
                                    f"{school['occupancy']:.0%} of working time); {args.history} past lessons "
                                    f"(on the first 10); built in {clock.monotonic() - t0:.0f} s")

            if "s10" in phases:
                print("[bench-booking] 10 instructors ...", flush=True)
                set_active(engine, ten)
                t, n = time_availability(engine, svc, first, last, ten[0], args.reps)
                say(f"s10: availability in-process, 1 instructor ({n} times)", summary_ms(t))
                t, n = time_availability(engine, svc, first, last, None, args.reps)
                say(f"s10: availability in-process, 10 instructors ({n} times)", summary_ms(t))
                if server:
                    h = http_availability(server.base, svc, first, last, args.reps)
                    say("s10: availability over HTTP, 10 instructors",
                        summary_ms(h["timings"]) + f", {h['failures']} failed")
                    say("s10: availability body", f"{h['raw'] / 1024:.1f} KB JSON, {h['wire'] / 1024:.1f} KB on "
                                                  "the wire")
                say("s10: SQL statements (round trips) per request", round_trips(engine, svc, first, last, ten[0]))
                res = run_clients(engine, InProcess(engine), svc, first, last, 1, args.samples, args.seed,
                                  instructor_id=ten[0], any_instructor=False, postmaster=postmaster)
                say("s10: reserve+confirm in-process, 1 client, 1 instructor", clients_line(res))
                say("  reserve (book_lesson, every attempt)", summary_ms(res["reserve"]))
                say("  reserve + confirm, successful bookings", summary_ms(res["total"]))
                if server:
                    way = OverHttp(server.base, args.client)
                    res = run_clients(engine, way, svc, first, last, 1, args.samples, args.seed,
                                      instructor_id=ten[0], any_instructor=False, server=server, postmaster=postmaster)
                    say("s10: reserve+confirm over HTTP, 1 client", clients_line(res))
                    say("  reserve + confirm, successful bookings", summary_ms(res["total"]))
                    say("  CPU per booking", cpu_line(res))
                    res = run_clients(engine, way, svc, first, last, args.clients_one, args.samples, args.seed,
                                      instructor_id=ten[0], any_instructor=False, server=server, postmaster=postmaster)
                    say(f"s10: over HTTP, {args.clients_one} clients on one instructor", clients_line(res))
                    say("  reserve (every attempt)", summary_ms(res["reserve"]))
                    say("  reserve + confirm, successful bookings", summary_ms(res["total"]))
                    say("  CPU per booking (client CPU per booking: the clients' threads)", cpu_line(res))
                    res = run_clients(engine, way, svc, first, last, args.clients_many, max(args.samples, 400),
                                      args.seed, server=server, postmaster=postmaster)
                    say(f"s10: over HTTP, {args.clients_many} clients, any of 10 instructors", clients_line(res))
                    say("  reserve (every attempt)", summary_ms(res["reserve"]))
                    say("  reserve + confirm, successful bookings", summary_ms(res["total"]))
                    say("  CPU per booking (client CPU per booking: the clients' threads)", cpu_line(res))
                    way.close()

            if "s50" in phases:
                print("[bench-booking] 50 instructors ...", flush=True)
                set_active(engine, school["instructors"])
                t, n = time_availability(engine, svc, first, last, None, args.reps)
                say(f"s50: availability in-process, 50 instructors ({n} times)", summary_ms(t))
                if server:
                    h = http_availability(server.base, svc, first, last, args.reps)
                    say("s50: availability over HTTP, 50 instructors",
                        summary_ms(h["timings"]) + f", {h['failures']} failed")
                    say("s50: availability body", f"{h['raw'] / 1024:.1f} KB JSON, {h['wire'] / 1024:.1f} KB on "
                                                  "the wire")

        total_overlaps = overlaps(engine)
        print(f"\nNexDrive booking benchmark ({os.cpu_count()} cores, this machine; seed {args.seed}; "
              f"{args.workers} {args.server} API worker{'s' if args.workers > 1 else ''} ({_event_loop()} loop); "
              f"{args.client} HTTP clients; "
              f"{clock.monotonic() - began:.0f} s)")
        width = max(len(k) for k, _ in rows) if rows else 10
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print("  (conflicts = SlotUnavailable: another client took that time, or an overlapping one, or the "
              "day's limit filled, after the free times were listed)")
        if total_overlaps or any("overlaps 0" not in v for k, v in rows if "bookings/s" in v):
            print("\n!! OVERLAPPING BOOKINGS FOUND: the double-booking guarantee is broken")
            return 1
        return 0
    finally:
        if server is not None:
            server.stop()
        nxdb.set_engine(None)
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
