"""The hash-chained audit trail and the verification of every chain.

Appending is done by the database (a trigger locks the chain head, links and
hashes the record), so no code path can write an unchained record; this module
records events and verifies chains, and exports the heads so a copy lives
outside the database (a rewritten tail is caught against that copy).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as _OrmSession
from sqlmodel import Session

from nexdrive.models import AuditLog
from nexdrive.services.core.actors import Actor
from nexdrive.errors import Forbidden

# table -> how its chains are named (see migration 0002)
CHAINED_TABLES = ("audit_log", "signatures", "student_competencies")


@dataclass(frozen=True)
class ChainReport:
    table: str
    chain: str
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def record_event(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    severity: str = "info",
) -> AuditLog:
    """Append one event to the audit chain, in the caller's transaction."""
    entry = AuditLog(
        event_type=event_type,
        severity=severity,
        actor_id=actor.user_id,
        actor_role=actor.role,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details or {},
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )
    session.add(entry)
    session.flush()
    return entry


_PENDING = "nexdrive.audit.pending"


def append_at_commit(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    severity: str = "info",
) -> None:
    """Append one event to the audit chain in the caller's transaction, as late as possible.

    The chain's head row is locked from the append until the commit (the trigger links each record to the
    one before it), so every append in the school queues behind the one before it. ``record_event`` appends
    at once; this one keeps the record in the session and appends it, with any others pending, in **one
    INSERT just before the commit** (or just before the session's next statement, so a read in the same
    transaction sees it). The same trigger links and hashes it: the chain is exactly as tamper-evident.
    A rollback drops it with everything else.
    """
    row = {"id": uuid.uuid4(), "event_type": event_type, "severity": severity, "actor_id": actor.user_id,
           "actor_role": actor.role, "subject_type": subject_type, "subject_id": subject_id,
           "details": details or {}, "ip_address": actor.ip_address, "user_agent": actor.user_agent}
    tx = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((tx, row))


def write_pending(session: _OrmSession) -> int:
    """Append the records ``append_at_commit`` kept (one INSERT); returns how many."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return 0
    rows = [row for _, row in pending]
    # A list of rows is sent as one INSERT (SQLAlchemy's insertmanyvalues), and the statement is compiled once.
    session.connection().execute(sa.insert(AuditLog.__table__), rows)
    return len(rows)


@event.listens_for(_OrmSession, "before_commit")
def _before_commit(session: _OrmSession) -> None:
    if session.info.get(_PENDING):
        write_pending(session)


@event.listens_for(_OrmSession, "do_orm_execute")
def _before_statement(state) -> None:
    if state.session.info.get(_PENDING):
        write_pending(state.session)


@event.listens_for(_OrmSession, "after_transaction_end")
def _after_transaction_end(session: _OrmSession, transaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)  # committed (written in before_commit), rolled back or closed


@event.listens_for(_OrmSession, "after_soft_rollback")
def _after_rollback(session: _OrmSession, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)  # the whole transaction is gone
        return
    session.info[_PENDING] = [(tx, row) for tx, row in pending if tx is not previous_transaction]


def _chains(session: Session, table: str) -> list[str]:
    return list(session.execute(sa.text(f"SELECT DISTINCT chain FROM {table}")).scalars())


def verify_chain(session: Session, table: str, chain: str) -> ChainReport:
    if table not in CHAINED_TABLES:
        raise ValueError(f"{table} is not a hash-chained table")
    row = session.execute(
        sa.text("SELECT ok, checked, broken_seq, reason FROM verify_chain(CAST(:t AS regclass), :c)"),
        {"t": table, "c": chain},
    ).one()
    return ChainReport(table, chain, row.ok, row.checked, row.broken_seq, row.reason)


def verify_all_chains(session: Session, actor: Actor) -> list[ChainReport]:
    """Every chain of every chained table, plus heads whose rows have vanished entirely."""
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can verify the audit trail.")
    reports = [verify_chain(session, t, c) for t in CHAINED_TABLES for c in _chains(session, t)]
    seen = {r.chain for r in reports}
    for head in session.execute(sa.text("SELECT chain, seq FROM chain_heads WHERE seq > 0")).all():
        if head.chain not in seen:
            reports.append(ChainReport("?", head.chain, False, 0, 1, "every record of this chain is missing"))
    return reports


def export_chain_heads(session: Session) -> list[dict[str, Any]]:
    """The heads to keep outside the database (the daily digest carries them)."""
    rows = session.execute(sa.text("SELECT chain, seq, head_hash FROM chain_heads ORDER BY chain")).all()
    return [{"chain": r.chain, "seq": r.seq, "hash": r.head_hash} for r in rows]


def check_exported_heads(session: Session, exported: list[dict[str, Any]]) -> list[ChainReport]:
    """Compare heads exported earlier with the records now in the database.

    A chain whose tail was rewritten and re-hashed (head row included) passes
    verify_chain, but the record at an exported seq no longer has the exported hash.
    """
    problems: list[ChainReport] = []
    for head in exported:
        chain, seq, expected = head["chain"], int(head["seq"]), head["hash"]
        table = next((t for t in CHAINED_TABLES if chain == t or chain.startswith(t + ":")), None)
        if table is None or seq == 0:
            continue
        found = session.execute(
            sa.text(f"SELECT record_hash FROM {table} WHERE chain = :c AND seq = :s"), {"c": chain, "s": seq}
        ).scalar()
        if found != expected:
            reason = "missing" if found is None else "rewritten"
            problems.append(ChainReport(table, chain, False, 0, seq,
                                        f"record {seq} is {reason}: it does not match the exported head"))
    return problems
