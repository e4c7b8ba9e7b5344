"""Operations figures for monitoring (C23): the Prometheus text exposition of ``/metrics``.

Two kinds of figures:

* in this process: HTTP request latency (a histogram per method and route template, status class) and
  request counts, recorded by the HTTP layer through :func:`observe_request`;
* from the database at scrape time (one cheap query each): bookings and payments by status, the outbox
  backlog (messages due and not sent, and the age of the oldest), and job runs by job and outcome.

Written by hand in the text format (version 0.0.4), so no client library is needed.
"""
from __future__ import annotations

import threading
from bisect import bisect_left
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.core import clock

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_lock = threading.Lock()
# (method, route, status class) -> [bucket counts..., +Inf count], sum
_hist: dict[tuple[str, str, str], list] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one HTTP request (route: the template, e.g. /api/v1/bookings/{booking_id}, never raw ids)."""
    key = (method.upper(), route, f"{int(status) // 100}xx")
    index = bisect_left(BUCKETS, seconds)
    with _lock:
        entry = _hist.get(key)
        if entry is None:
            entry = _hist[key] = [[0] * (len(BUCKETS) + 1), 0.0]
        entry[0][index] += 1
        entry[1] += seconds


def reset() -> None:
    with _lock:
        _hist.clear()


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**kv) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in kv.items()) + "}"


def _request_lines() -> list[str]:
    out = ["# HELP nexdrive_http_request_duration_seconds Time to answer an HTTP request.",
           "# TYPE nexdrive_http_request_duration_seconds histogram"]
    with _lock:
        snapshot = {k: ([*v[0]], v[1]) for k, v in _hist.items()}
    for (method, route, status), (counts, total) in sorted(snapshot.items()):
        running = 0
        for bound, n in zip((*BUCKETS, None), counts):
            running += n
            le = "+Inf" if bound is None else repr(bound)
            out.append("nexdrive_http_request_duration_seconds_bucket"
                       + _labels(method=method, route=route, status=status, le=le) + f" {running}")
        out.append("nexdrive_http_request_duration_seconds_sum"
                   + _labels(method=method, route=route, status=status) + f" {total:.6f}")
        out.append("nexdrive_http_request_duration_seconds_count"
                   + _labels(method=method, route=route, status=status) + f" {running}")
    return out


def _gauge(name: str, help_text: str, rows, label: str, kind: str = "gauge") -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for key, value in rows:
        out.append(f"{name}{_labels(**{label: key})} {value}")
    return out


def exposition(session: Session, now: datetime | None = None) -> str:
    """The whole ``/metrics`` body (no secrets, no personal data: counts only)."""
    now = now or clock.now(session)
    lines = _request_lines()
    bookings = session.execute(sa.text("SELECT status, count(*) FROM bookings GROUP BY 1 ORDER BY 1")).all()
    lines += _gauge("nexdrive_bookings", "Bookings by status.", bookings, "status")
    payments = session.execute(sa.text("SELECT status, count(*) FROM payments GROUP BY 1 ORDER BY 1")).all()
    lines += _gauge("nexdrive_payments", "Payments by status.", payments, "status")
    backlog = session.execute(sa.text("""
        SELECT count(*) AS n, min(next_attempt_at) AS oldest FROM outbox_messages
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= :now"""),
        {"now": now}).one()
    age = max(0.0, (now - backlog.oldest).total_seconds()) if backlog.oldest else 0.0
    lines += ["# HELP nexdrive_outbox_backlog Outbox messages due and not yet sent.",
              "# TYPE nexdrive_outbox_backlog gauge", f"nexdrive_outbox_backlog {int(backlog.n)}",
              "# HELP nexdrive_outbox_oldest_due_seconds Age of the oldest message due and not yet sent.",
              "# TYPE nexdrive_outbox_oldest_due_seconds gauge", f"nexdrive_outbox_oldest_due_seconds {age:.0f}"]
    failed = session.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status = 'failed'")).scalar_one()
    lines += ["# HELP nexdrive_outbox_failed Outbox messages given up on.", "# TYPE nexdrive_outbox_failed gauge",
              f"nexdrive_outbox_failed {int(failed)}"]
    runs = session.execute(sa.text(
        "SELECT job_name, status, count(*) AS n, max(finished_at) AS last FROM job_runs GROUP BY 1, 2 ORDER BY 1, 2"
    )).all()
    lines += ["# HELP nexdrive_job_runs_total Job runs by job and outcome (kept for the housekeeping window).",
              "# TYPE nexdrive_job_runs_total counter"]
    lines += [f"nexdrive_job_runs_total{_labels(job=r.job_name, status=r.status)} {int(r.n)}" for r in runs]
    lines += ["# HELP nexdrive_job_last_finished_timestamp_seconds When each job last finished.",
              "# TYPE nexdrive_job_last_finished_timestamp_seconds gauge"]
    last: dict[str, datetime] = {}
    for r in runs:
        if r.last is not None and (r.job_name not in last or r.last > last[r.job_name]):
            last[r.job_name] = r.last
    lines += [f"nexdrive_job_last_finished_timestamp_seconds{_labels(job=k)} {v.timestamp():.0f}"
              for k, v in sorted(last.items())]
    return "\n".join(lines) + "\n"


__all__ = ["BUCKETS", "exposition", "observe_request", "reset"]
