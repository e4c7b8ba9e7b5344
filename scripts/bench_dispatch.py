#!/usr/bin/env python3
"""Outbox dispatcher benchmark: throughput through the offline adapters, and the delay from due to sent.

    .venv/bin/python scripts/bench_dispatch.py          # or: python3 manage.py bench-dispatch
    .venv/bin/python scripts/bench_dispatch.py --messages 5000 --workers 1 4 --rate 40 --seconds 15

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh
database and loads the reference data. Then:

* backlog: ``--messages`` messages (80 % SMS, 20 % email; a tenth of the
  emails are booking confirmations with a calendar file built at send time)
  all due at once, drained by 1 and by 4 dispatcher *processes* each calling
  ``dispatch_due`` in a loop, as the scheduler would in separate app workers —
  messages per second, and p50/p95 of (sent_at - due time), which here is
  mostly time spent waiting in the backlog;
* steady: messages arriving at ``--rate`` per second for ``--seconds`` while
  one dispatcher polls every ``--poll`` seconds — p50/p95 of the delay from due
  to sent. The production schedule runs the dispatcher every ~30 s, which adds
  up to that much (15 s on average) to the delay; replies to inbound SMS are
  dispatched at once instead.

Every message must end up sent exactly once (the offline deliveries table is
checked). A benchmark prints figures; it does not pass or fail (except that it
says so loudly if a message was lost or sent twice).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time as clock
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.data import seed  # noqa: E402


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def delays(engine, since: datetime) -> list[float]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text(
            "SELECT EXTRACT(EPOCH FROM sent_at - next_attempt_at) FROM outbox_messages "
            "WHERE status = 'sent' AND created_at >= :since"), {"since": since})]


def fmt_delay(values: list[float]) -> str:
    if not values:
        return "n/a"
    ms = [float(v) * 1000 for v in values]
    return f"p50 {pct(ms, 50):8.1f} ms   p95 {pct(ms, 95):8.1f} ms   max {max(ms):8.1f} ms"


def make_booking(engine) -> uuid.UUID:
    """One confirmed lesson, so confirmation emails carry a real .ics built at send time."""
    from nexdrive.models import Booking, Instructor, Profile, Service, User

    with nxdb.session_scope(engine) as s:
        user = User(email="bench-instructor@example.com", role="instructor")
        s.add(user)
        s.flush()
        profile = Profile(user_id=user.id, first_name="Bea", last_name="Bench", email=user.email, role="instructor")
        s.add(profile)
        s.flush()
        instructor = Instructor(user_id=user.id, profile_id=profile.id, adi_number="ADI-BENCH",
                                adi_expiry=date(2030, 1, 1))
        s.add(instructor)
        service = Service(slug="bench-lesson", name="Bench lesson", duration_minutes=60, price_cents=8500,
                          category="lesson")
        s.add(service)
        s.flush()
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
        booking = Booking(instructor_id=instructor.id, service_id=service.id, scheduled_date=start.date(),
                          start_time=start, end_time=start + timedelta(hours=1), duration_minutes=60,
                          status="confirmed")
        s.add(booking)
        s.flush()
        return booking.id


def queue_backlog(engine, n: int, booking_id: uuid.UUID, run: str) -> None:
    """n messages due now, inserted in bulk (the cost of queueing is not what we measure)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            """INSERT INTO outbox_messages (channel, recipient, subject, body, template, template_data, booking_id,
                                            idempotency_key, next_attempt_at)
               SELECT CASE WHEN g % 5 = 0 THEN 'email' ELSE 'sms' END,
                      CASE WHEN g % 5 = 0 THEN 'learner' || g || '@example.com'
                           ELSE '+614' || lpad((10000000 + g)::text, 8, '0') END,
                      CASE WHEN g % 5 = 0 THEN 'Lesson booked' END,
                      'NexDrive Academy: your lesson on Tue 3 March 2026, 9:30 am – 10:30 am is booked. Ref NXD-' || g,
                      CASE WHEN g % 50 = 0 THEN 'booking_confirmation' ELSE 'waitlist_available' END,
                      CASE WHEN g % 50 = 0 THEN jsonb_build_object('booking_id', CAST(:b AS text))
                           ELSE '{}'::jsonb END,
                      CASE WHEN g % 50 = 0 THEN CAST(:b AS uuid) END,
                      :run || ':' || g, now()
               FROM generate_series(1, :n) g"""), {"n": n, "b": str(booking_id), "run": run})


def _worker(url: str, name: str, batch: int, out) -> None:
    """One dispatcher process: dispatch until nothing is due."""
    from nexdrive.adapters.email import OutboxEmail
    from nexdrive.adapters.sms import OutboxSms
    from nexdrive.services.messaging.dispatch import dispatch_due
    from nexdrive.settings import get_settings

    engine = nxdb.make_engine(url, pool_size=2, max_overflow=2)
    nxdb.set_engine(engine)
    settings = get_settings()
    sms, email = OutboxSms(settings, engine=engine), OutboxEmail(settings, engine=engine)
    sent = 0
    while True:
        stats = dispatch_due(engine, batch_size=batch, worker_id=name, sms=sms, email=email, time_budget=None)
        sent += stats.sent
        if stats.claimed == 0 and stats.suppressed == 0:
            break
    engine.dispose()
    out.put(sent)


def run_backlog(url: str, engine, n: int, workers: int, batch: int, booking_id) -> dict:
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE offline_deliveries, notifications, outbox_messages CASCADE"))
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    queue_backlog(engine, n, booking_id, f"backlog{workers}")
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    t0 = clock.monotonic()
    procs = [ctx.Process(target=_worker, args=(url, f"bench{i}", batch, out)) for i in range(workers)]
    for p in procs:
        p.start()
    per_worker = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = clock.monotonic() - t0
    return {"elapsed": elapsed, "per_worker": per_worker, "delays": delays(engine, since), **check(engine, n)}


def check(engine, n: int) -> dict:
    with engine.connect() as conn:
        sent = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status = 'sent'")).scalar()
        delivered = conn.execute(
            sa.text("SELECT count(*), COALESCE(max(send_requests), 0) FROM offline_deliveries")
        ).one()
    return {"sent": sent, "delivered": delivered[0], "max_requests": delivered[1], "ok": sent == n == delivered[0]
            and delivered[1] == 1}


def run_steady(engine, rate: float, seconds: float, poll: float, booking_id) -> dict:
    from nexdrive.adapters.email import OutboxEmail
    from nexdrive.adapters.sms import OutboxSms
    from nexdrive.services.messaging import notify
    from nexdrive.services.messaging.dispatch import dispatch_due
    from nexdrive.settings import get_settings

    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE offline_deliveries, notifications, outbox_messages CASCADE"))
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    settings = get_settings()
    sms, email = OutboxSms(settings, engine=engine), OutboxEmail(settings, engine=engine)
    done = threading.Event()
    queued = [0]

    def producer():
        t0 = clock.monotonic()
        while clock.monotonic() - t0 < seconds:
            with nxdb.session_scope(engine) as s:
                notify.queue(s, channel="sms", recipient="+61412000000", template="waitlist_available",
                             body="NexDrive Academy: a lesson time has opened up.",
                             idempotency_key=f"steady:{uuid.uuid4()}")
            queued[0] += 1
            clock.sleep(max(0.0, t0 + queued[0] / rate - clock.monotonic()))
        done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    while not done.is_set():
        dispatch_due(engine, sms=sms, email=email, worker_id="steady", time_budget=None)
        clock.sleep(poll)
    thread.join()
    dispatch_due(engine, sms=sms, email=email, worker_id="steady", time_budget=None)
    return {"queued": queued[0], "delays": delays(engine, since), **check(engine, queued[0])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=5000, help="backlog size (default 5000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4], help="dispatcher processes (default 1 4)")
    ap.add_argument("--batch", type=int, default=50, help="dispatch_due batch_size (default 50)")
    ap.add_argument("--rate", type=float, default=40.0, help="steady arrivals per second (default 40)")
    ap.add_argument("--seconds", type=float, default=10.0, help="steady run length (default 10)")
    ap.add_argument("--poll", type=float, default=1.0, help="steady run: seconds between dispatcher runs (default 1)")
    args = ap.parse_args()
    began = clock.monotonic()

    tmp = Path(tempfile.mkdtemp(prefix="nxbd-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    try:
        print("[bench-dispatch] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        engine = nxdb.make_engine(url, pool_size=8, max_overflow=8)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        booking_id = make_booking(engine)

        rows, broken = [], False
        for workers in args.workers:
            print(f"[bench-dispatch] {args.messages} messages due at once, {workers} dispatcher process(es) ...",
                  flush=True)
            engine.dispose()  # no inherited connections in the forked workers
            res = run_backlog(url, engine, args.messages, workers, args.batch, booking_id)
            broken |= not res["ok"]
            rows.append((f"backlog, {workers} worker(s)",
                         f"{args.messages / res['elapsed']:7.0f} messages/s  ({res['elapsed']:.1f} s; per worker "
                         f"{res['per_worker']}; sent {res['sent']}, delivered {res['delivered']}, "
                         f"max requests per message {res['max_requests']})"))
            rows.append(("  due -> sent", fmt_delay(res["delays"])))
        print(f"[bench-dispatch] steady arrivals, {args.rate:g}/s for {args.seconds:g} s, dispatcher every "
              f"{args.poll:g} s ...", flush=True)
        steady = run_steady(engine, args.rate, args.seconds, args.poll, booking_id)
        broken |= not steady["ok"]
        rows.append((f"steady {args.rate:g}/s, poll every {args.poll:g} s",
                     f"{steady['queued']} queued, {steady['sent']} sent, delivered {steady['delivered']}"))
        rows.append(("  due -> sent", fmt_delay(steady["delays"])))

        width = max(len(k) for k, _ in rows)
        print(f"\nNexDrive dispatcher benchmark ({os.cpu_count()} cores, this machine; offline adapters, "
              f"batch {args.batch}; 80 % SMS, 20 % email, 2 % with a calendar file)")
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print(f"  {'total run time':<{width}}  {clock.monotonic() - began:.0f} s")
        if broken:
            print("\n!! A MESSAGE WAS LOST OR SENT TWICE")
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
