"""A dispatcher killed mid-batch (SIGKILL, no clean-up) loses nothing and, through the offline adapters,
delivers every message exactly once after a restart."""
from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from nexdrive.services.messaging.dispatch import STALE_AFTER, dispatch_due
from tests.notify_helpers import deliveries, later, offline, outbox, queue_many

ROOT = Path(__file__).resolve().parents[2]


def _run_killed_dispatcher(db_url: str, kill_at: int, when: str, now, batch_size: int = 10) -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.dispatch_crash_worker", db_url, str(kill_at), when, now.isoformat(),
         str(batch_size)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    return proc.returncode


def test_killed_mid_batch_then_restarted_delivers_every_message_exactly_once(engine, db_url):
    ids = queue_many(engine, 30) + queue_many(engine, 10, channel="email")
    clock = later(0)
    # Three crashes: after the provider took the 4th message, before it took the 3rd, after it took the 9th.
    for kill_at, when in ((4, "after"), (3, "before"), (9, "after")):
        code = _run_killed_dispatcher(db_url, kill_at, when, clock)
        assert code == -signal.SIGKILL
        rows = outbox(engine, ids)
        assert any(r.status == "sending" for r in rows.values())  # it really died holding claims
        clock += STALE_AFTER + timedelta(minutes=1)  # the restart comes after those claims went stale

    sms, email = offline(engine)
    stats = dispatch_due(engine, sms=sms, email=email, now=clock)
    assert stats.requeued_stale > 0

    rows, sent = outbox(engine, ids), deliveries(engine)
    assert {r.status for r in rows.values()} == {"sent"}
    assert sorted(sent) == sorted(ids)  # every message delivered, one delivery each (UNIQUE per outbox id)
    assert all(rows[i].provider_message_id == sent[i].provider_message_id for i in ids)
    # The two sends that the provider accepted just before a crash were asked for again and absorbed;
    # nothing else was sent more than once.
    repeats = sorted(d.send_requests for d in sent.values() if d.send_requests > 1)
    assert repeats == [2, 2]


def test_a_crash_before_anything_was_sent_loses_nothing(engine, db_url):
    ids = queue_many(engine, 5)
    code = _run_killed_dispatcher(db_url, 1, "before", later(0))
    assert code == -signal.SIGKILL and not deliveries(engine)
    sms, email = offline(engine)
    dispatch_due(engine, sms=sms, email=email, now=later(0) + STALE_AFTER + timedelta(minutes=1))
    sent = deliveries(engine)
    assert sorted(sent) == sorted(ids) and {d.send_requests for d in sent.values()} == {1}
