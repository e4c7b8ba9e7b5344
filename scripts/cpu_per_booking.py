#!/usr/bin/env python3
"""CPU per booking: the app's and PostgreSQL's CPU time per reserve, per confirm and per refused attempt.

    .venv/bin/python scripts/cpu_per_booking.py                 # in-process and over HTTP, 60 of each
    .venv/bin/python scripts/cpu_per_booking.py --n 100 --no-http

Wall time on a shared machine measures the neighbours; CPU time does not (much). On the benchmark's own ``s10``
school (``scripts/bench_booking.py``: 10 instructors, 8 weeks ~2/3 booked, ``--history`` past lessons), one client
books one instructor, one attempt at a time:

* **in-process**: ``book_lesson`` then ``confirm_booking`` (each its own transaction, as the widget does) on one
  pooled connection; app CPU = this process's ``time.process_time()`` around each call, DB CPU = that connection's
  backend (``pg_backend_pid()``) utime + stime from ``/proc/<pid>/stat``;
* **over HTTP**: ``POST /booking/reserve`` / ``POST /booking/confirm`` to the API served as production serves it
  (Granian, one worker; ``--server uvicorn`` for the earlier rounds' server) in its own process; app CPU = the
  server's processes' ``/proc`` utime + stime, DB CPU = every PostgreSQL process's, the client's = this process's
  around the request alone (``http.client``; ``--client httpx`` for the earlier rounds' client).

A *refused* attempt asks for a time that was just booked (the common case under load: a stale pick list), so it
is refused with alternatives. ``/proc`` counts in clock ticks (10 ms): the figures are totals over ``--n`` calls
divided by ``--n``, so use n ≥ 50. Prints figures; asserts nothing. Everything runs in a temporary database.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time as clock
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sqlalchemy as sa  # noqa: E402

import bench_booking as bb  # noqa: E402
from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.errors import SlotUnavailable  # noqa: E402
from nexdrive.formats import BUSINESS_TZ  # noqa: E402
from nexdrive.services.core.actors import VISITOR  # noqa: E402
from nexdrive.services.scheduling import booking  # noqa: E402

proc_cpu, children_cpu, tree_cpu = bb.proc_cpu, bb.children_cpu, bb.tree_cpu


class Tally:
    def __init__(self):
        self.app, self.db, self.client, self.n = 0.0, 0.0, 0.0, 0

    def line(self, label: str, with_client: bool = False) -> str:
        if not self.n:
            return f"  {label:<22} n/a"
        extra = f"   client {self.client / self.n * 1000:5.1f} ms" if with_client else ""
        return (f"  {label:<22} app {self.app / self.n * 1000:5.1f} ms   DB {self.db / self.n * 1000:5.1f} ms{extra}"
                f"   (n={self.n})")


def in_process(engine, svc, pool, n: int, rng: random.Random) -> dict[str, Tally]:
    with engine.connect() as c:
        backend = c.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    out = {"reserve": Tally(), "confirm": Tally(), "refused": Tally()}
    picks = list(pool)
    rng.shuffle(picks)
    made: list[tuple] = []
    k = 0

    def measured(kind: str, fn, *args):
        """Run fn; add its CPU to ``kind`` (or to "refused" when it is refused)."""
        a0, d0 = clock.process_time(), proc_cpu(backend)
        try:
            result, outcome = fn(*args), kind
        except SlotUnavailable:
            result, outcome = None, "refused"
        t = out[outcome]
        t.app += clock.process_time() - a0
        t.db += proc_cpu(backend) - d0
        t.n += 1
        return result

    def reserve(start, iid, k):
        with nxdb.session_scope(engine) as s:
            r = booking.book_lesson(
                s, VISITOR, service_id=svc, start_time=start, instructor_id=iid, name=f"Cpu Bench{k}",
                phone=f"04{k % 10**8:08d}", email=f"cpu{k}{bb.BENCH_EMAIL}", pickup_address="1 Bench St",
                suburb="Belconnen")
            return r.booking.id, r.manage_token

    def confirm(bid, token):
        with nxdb.session_scope(engine) as s:
            booking.confirm_booking(s, VISITOR, bid, manage_token=token)

    for warm in range(5):  # warm the caches, the plans, the imports
        start, who = picks.pop()
        try:
            confirm(*reserve(start, who, 900000 + warm))
        except SlotUnavailable:
            pass
    while out["reserve"].n < n and picks:
        start, who = picks.pop()
        k += 1
        held = measured("reserve", reserve, start, who, k)
        if held is None:
            continue
        measured("confirm", confirm, *held)
        made.append((start, who))
    for start, who in made:  # a time just booked: refused, with alternatives
        k += 1
        measured("refused", reserve, start, who, k)
    return out


def over_http(server: bb.ApiServer, postmaster: int, svc, pool, n: int, rng: random.Random, client_kind: str
              ) -> dict[str, Tally]:
    out = {"reserve": Tally(), "confirm": Tally(), "refused": Tally()}
    picks = list(pool)
    rng.shuffle(picks)
    made = []
    client = (bb._RawClient if client_kind == "raw" else bb._HttpxClient)(server.base)

    def body(start, iid, k):
        local = start.astimezone(BUSINESS_TZ)
        return {"service_id": str(svc), "instructor_id": str(iid), "date": local.date().isoformat(),
                "start_time": local.strftime("%H:%M"),
                "contact": {"name": f"Cpu Bench{k}", "phone": f"04{k % 10**8:08d}",
                            "email": f"cpuh{k}{bb.BENCH_EMAIL}"},
                "pickup_address": "1 Bench St", "suburb": "Belconnen"}

    def measured(kind, path, payload):
        a0, d0 = server.cpu(), children_cpu(postmaster)
        c0 = clock.process_time()
        status, doc = client.post(path, payload)
        c1 = clock.process_time()
        t = out["refused" if status == 409 else kind]
        t.app += server.cpu() - a0
        t.db += children_cpu(postmaster) - d0
        t.client += c1 - c0
        t.n += 1
        return status, doc

    k = 0
    for _ in range(5):
        start, who = picks.pop()
        k += 1
        status, doc = client.post("/api/v1/booking/reserve", body(start, who, k))
        if status == 201:
            d = doc["data"]
            client.post("/api/v1/booking/confirm", {"reservation_id": d["reservation_id"],
                                                    "manage_token": d["manage_token"]})
    while out["reserve"].n < n and picks:
        start, who = picks.pop()
        k += 1
        status, doc = measured("reserve", "/api/v1/booking/reserve", body(start, who, k))
        if status != 201:
            continue
        d = doc["data"]
        status, doc = measured("confirm", "/api/v1/booking/confirm", {
            "reservation_id": d["reservation_id"], "manage_token": d["manage_token"]})
        assert status == 200, str(doc)[:200]
        made.append((start, who))
    for start, who in made:
        k += 1
        status, doc = measured("refused", "/api/v1/booking/reserve", body(start, who, k))
        assert status == 409, str(doc)[:200]
    client.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=60, help="measured reserves (and confirms, refusals) per way")
    ap.add_argument("--history", type=int, default=100_000, help="past lessons behind the school")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--server", choices=("granian", "uvicorn"), default="granian",
                    help="what serves the API (default granian, as in production)")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="the client's HTTP library (default raw: http.client, keep-alive)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="nxcpu-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = server = None
    try:
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_cpu")
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        engine = nxdb.make_engine(url, pool_size=1, max_overflow=0)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        today = datetime.now(BUSINESS_TZ).date()
        first = today + timedelta(days=2)
        last = first + timedelta(days=bb.DAYS - 1)
        school = bb.build_school(engine, rng, first, 10)
        ten = school["instructors"]
        bb.add_history(engine, ten, args.history, first)
        bb.set_active(engine, ten)
        svc = school["service"]
        print(f"[cpu-per-booking] load {os.getloadavg()[0]:.1f}; {args.n} of each, one client, 10 instructors",
              flush=True)
        pool = bb.free_pool(engine, svc, first, last)
        res = in_process(engine, svc, pool, args.n, rng)
        print("in-process (app = this process; DB = its backend):")
        for kind, t in res.items():
            print(t.line(kind))
        bb.cancel_bench_bookings(engine)
        if not args.no_http:
            server = bb.ApiServer(url, tmp / "app", 1, args.server)
            idle0 = server.cpu()
            clock.sleep(3)
            print(f"  the server idle: {(server.cpu() - idle0) / 3 * 1000:.0f} ms of CPU per second")
            pool = bb.free_pool(engine, svc, first, last)
            res = over_http(server, postmaster, svc, pool, args.n, rng, args.client)
            print(f"over HTTP (app = the {args.server} server, all its processes; DB = all of PostgreSQL; "
                  f"client = this process, {args.client}):")
            for kind, t in res.items():
                print(t.line(kind, with_client=True))
        print(f"[cpu-per-booking] load {os.getloadavg()[0]:.1f} at the end")
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
