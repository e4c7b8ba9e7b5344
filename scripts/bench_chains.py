#!/usr/bin/env python3
"""Hash-chain benchmark: how long verifying a chain of 100,000 records takes.

    .venv/bin/python scripts/bench_chains.py              # or: python3 manage.py bench-chains
    .venv/bin/python scripts/bench_chains.py --records 20000 --repeat 5

Starts its own embedded PostgreSQL in a temporary directory and migrates a fresh database.
The chain is built through the real insert path: ``INSERT ... SELECT generate_series`` into
``audit_log`` (``--batch`` rows per transaction), so the chain trigger (migration 0002) locks
the head, links and hashes every row exactly as it does for the app's own events. Then the
database's ``verify_chain`` walks it (``services.core.audit.verify_chain``, behind the nightly
check and the admin's "Verify all records"), ``--repeat`` times; and once more after one row
is altered behind the triggers' back, to show the break is found (and how long that takes).

A benchmark prints figures; it does not pass or fail (except that it says so loudly if the intact
chain does not verify or the altered one does).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402


def build_chain(engine, records: int, batch: int) -> float:
    """``batch`` rows per transaction: inside one transaction every row rewrites the same chain-head
    row, and each new row's ``SELECT ... FOR UPDATE`` walks all those versions (quadratic), so one
    100,000-row statement takes ~15 minutes while 1,000-row transactions take seconds."""
    start = time.perf_counter()
    done = 0
    while done < records:
        n = min(batch, records - done)
        with nxdb.session_scope(engine) as s:
            s.execute(sa.text(
                "INSERT INTO audit_log (event_type, severity, actor_role, subject_type, details) "
                "SELECT 'BENCH_EVENT', 'info', 'system', 'bench', jsonb_build_object('n', g, 'note', md5(g::text)) "
                "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS g"), {"a": done + 1, "b": done + n})
        done += n
    return time.perf_counter() - start


def verify(engine):
    from nexdrive.services.core import audit

    start = time.perf_counter()
    with nxdb.session_scope(engine) as s:
        report = audit.verify_chain(s, "audit_log", "audit_log")
    return time.perf_counter() - start, report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000, help="records in the chain (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="verifications of the intact chain (default 3)")
    ap.add_argument("--batch", type=int, default=1000, help="rows per insert transaction (default 1000)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="nxbc-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    ok = True
    try:
        print("[bench-chains] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        engine = nxdb.make_engine(url, pool_size=2, max_overflow=2)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)

        built = build_chain(engine, args.records, max(1, args.batch))
        print(f"build    {args.records:>9,} records through the chain trigger   {built:8.2f} s "
              f"({args.records / built:,.0f} records/s)", flush=True)

        times = []
        for _ in range(max(1, args.repeat)):
            seconds, report = verify(engine)
            times.append(seconds)
            if not report.ok or report.checked != args.records:
                ok = False
                print(f"!! the intact chain did not verify: {report}")
        print(f"verify   {args.records:>9,} records (intact)                    "
              f"median {statistics.median(times):6.2f} s   min {min(times):6.2f} s   max {max(times):6.2f} s "
              f"({args.records / statistics.median(times):,.0f} records/s)")

        middle = args.records // 2
        with nxdb.session_scope(engine) as s:
            s.execute(sa.text("SET LOCAL session_replication_role = replica"))
            s.execute(sa.text("UPDATE audit_log SET details = details || '{\"tampered\": true}' "
                              "WHERE chain = 'audit_log' AND seq = :q"), {"q": middle})
        seconds, report = verify(engine)
        if report.ok or report.broken_seq != middle:
            ok = False
            print(f"!! the altered record #{middle} was not named: {report}")
        print(f"verify   {args.records:>9,} records (record #{middle:,} altered)   {seconds:8.2f} s -> "
              f"{'found: ' + report.reason if not report.ok else 'NOT FOUND'}")
    finally:
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
