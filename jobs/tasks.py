"""The job bodies: thin calls into nexdrive.services, one transaction each.

Every body takes ``(engine, now)``; ``now`` is None in production (the services
then use the database clock) and a simulated instant in tests and by-hand runs.
Two bodies call services other branches provide (the outbox dispatcher and
package expiry); they are imported lazily so the scheduler runs without them,
saying once in the log that the job has nothing to call yet.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import socket
from datetime import datetime

from sqlalchemy.engine import Engine

from nexdrive.db import session_scope

log = logging.getLogger("nexdrive.jobs")
_missing_reported: set[str] = set()


def _optional(module: str, name: str):
    """``module.name`` if that module exists yet, else None (logged once per process)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise  # the module exists but something it needs is missing: a real error
        if module not in _missing_reported:
            _missing_reported.add(module)
            log.warning("scheduled job skipped: %s is not installed yet (%s() not available)", module, name)
        return None
    return getattr(mod, name)


def dispatch_outbox(engine: Engine, now: datetime | None) -> dict:
    """Send due outbox messages (the dispatcher claims rows with FOR UPDATE SKIP LOCKED)."""
    dispatch_due = _optional("nexdrive.services.messaging.dispatch", "dispatch_due")
    if dispatch_due is None:
        return {"skipped": "nexdrive.services.messaging.dispatch is not installed"}
    result = dispatch_due(engine, batch_size=50, now=now, worker_id=f"{socket.gethostname()}:{os.getpid()}")
    if dataclasses.is_dataclass(result):  # DispatchStats: keep its counts in job_runs.result
        return dataclasses.asdict(result)
    return result if isinstance(result, dict) else {"result": result}


def release_holds(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.identity import housekeeping

    from nexdrive.services.money import payments

    # Close open checkouts first: a session still open when its hold lapses could be paid for a
    # time someone else then takes (docs/decisions/0001-no-double-booking.md).
    with session_scope(engine) as session:
        expired = payments.expire_stale_checkouts(session, now)
    with session_scope(engine) as session:
        result = {"checkouts_expired": expired, "released": housekeeping.release_lapsed_holds(session, now)}
    # Refunds a crash (or a gateway error) left pending after their commit: sent again, same key.
    sent = payments.send_pending_refunds(engine, now)
    if sent:
        result["refunds_sent"] = sent
    return result


def reminders(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.scheduling import reminders as svc

    with session_scope(engine) as session:
        queued = svc.queue_due_reminders(session, now)
    return {"queued": len(queued),
            "day_before": sum(q.kind == svc.DAY_BEFORE for q in queued),
            "two_hours": sum(q.kind == svc.TWO_HOURS for q in queued)}


def package_expiry(engine: Engine, now: datetime | None) -> dict:
    expire_due_packages = _optional("nexdrive.services.money.packages", "expire_due_packages")
    if expire_due_packages is None:
        return {"skipped": "nexdrive.services.money.packages is not installed"}
    with session_scope(engine) as session:
        return {"expired": expire_due_packages(session, now=now)}


def callback_followup(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.crm import callbacks

    with session_scope(engine) as session:
        return callbacks.follow_up_callbacks(session, now)


def waitlist_matcher(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.scheduling import waitlist

    with session_scope(engine) as session:
        return waitlist.match_waitlist(session, now)


def daily_digest(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.reporting import digest

    with session_scope(engine) as session:
        d = digest.send_daily_digest(session, now=now)
    return {"day": d["day"], "lessons_taught": d["lessons"]["taught"], "takings_cents": d["takings"]["net_cents"],
            "today": len(d["today"]), "new_leads": len(d["new_leads"]),
            "failed_messages": d["failed_messages"]["count"], "messages_queued": d["messages_queued"]}


def integrity_check(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.compliance import integrity

    with session_scope(engine) as session:
        result = integrity.run_integrity_check(session, now)
    if not result.ok:
        log.error("integrity check: broken chains %s", [(b["chain"], b["broken_seq"]) for b in result.broken])
    return {"ok": result.ok, "chains": result.checked_chains, "records": result.records,
            "broken": [{"chain": b["chain"], "seq": b["broken_seq"], "reason": b["reason"]} for b in result.broken],
            "alerts_queued": result.alerts_queued}


def housekeeping(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.identity import housekeeping as svc

    with session_scope(engine) as session:
        return svc.nightly_tidy(session, now)


def accreditation_warnings(engine: Engine, now: datetime | None) -> dict:
    from nexdrive.services.admin import instructors

    with session_scope(engine) as session:
        return instructors.send_accreditation_warnings(session, now)
