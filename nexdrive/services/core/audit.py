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
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as _OrmSession
from sqlmodel import Session

from nexdrive import db
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
    INSERT sent with the COMMIT, in the same round trip** (``_before_commit``; or just before the session's next
    statement, so a read in the same transaction sees it). The same trigger links and hashes it: the chain is
    exactly as tamper-evident. A rollback drops it with everything else.
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


# The INSERT sent with the COMMIT, in psycopg's terms (it goes to the driver directly, not through SQLAlchemy):
# the columns ``append_at_commit`` fills, the casts SQLAlchemy's types would send (JSONB, INET).
_COLUMNS = ("id", "event_type", "severity", "actor_id", "actor_role", "subject_type", "subject_id", "details",
            "ip_address", "user_agent")
_CASTS = {"details": "::jsonb", "ip_address": "::inet"}
_ROW_SQL = "(" + ", ".join("%s" + _CASTS.get(c, "") for c in _COLUMNS) + ")"


def _driver_insert(rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """The pending rows as one multi-row INSERT for psycopg (what ``write_pending`` sends through SQLAlchemy)."""
    from psycopg.types.json import Jsonb

    params: list[Any] = []
    for row in rows:
        for column in _COLUMNS:
            value = row[column]
            if column == "details":
                value = Jsonb(value)
            elif column == "ip_address" and value is not None:
                value = str(value)
            params.append(value)
    sql = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES " + ", ".join([_ROW_SQL] * len(rows))
    return sql, params


def _take_pending_for_commit(session: _OrmSession) -> list[tuple[str, list[Any]]]:
    """Called at the COMMIT: what is still pending then (a statement in between may have written it already)."""
    pending = session.info.pop(_PENDING, None)
    return [_driver_insert([row for _, row in pending])] if pending else []


@event.listens_for(_OrmSession, "before_commit")
def _before_commit(session: _OrmSession) -> None:
    """Send the pending records with the COMMIT itself, in one round trip, where the engine can (issue 17).

    The chain head is locked from the INSERT to the COMMIT, for every append in the school. Sent with the COMMIT
    (``db.with_commit``: the INSERT and ``COMMIT`` in one psycopg pipeline, from the dialect's ``do_commit``), it
    is held for the server's own work only, not across a round trip back to a busy worker.

    * **Still last**: this runs before SQLAlchemy's final flush, so the records stay pending here and are taken
      from the session only at the COMMIT, after that flush. A session statement in between (``do_orm_execute``,
      e.g. from a flush hook) writes them first, as before, so it sees them; the COMMIT then has none to send.
    * **Only the root transaction's own COMMIT**: the session must be bound to an engine (so its commit commits
      the connection's transaction) and no savepoint may be open. Releasing a savepoint, a session joined to an
      outer transaction or a connection, an engine not built by ``make_engine`` (tests, scripts): the records are
      written now, as before, and a savepoint rolled back later drops them with its work.
    * **Failure**: the INSERT or the COMMIT failing raises from the commit like any commit error; the transaction
      is rolled back whole (the server skips the COMMIT after a failed INSERT) and the connection is reusable.
    * The rows are the rows ``write_pending`` would insert (same columns, same casts; the trigger links and hashes
      them), so the chain verifies as before.
    """
    if not session.info.get(_PENDING):
        return
    if session.get_nested_transaction() is None and isinstance(session.bind, Engine):
        if db.with_commit(session.connection(), lambda: _take_pending_for_commit(session)):
            return
    write_pending(session)


@event.listens_for(_OrmSession, "do_orm_execute")
def _before_statement(state) -> None:
    if state.session.info.get(_PENDING):
        write_pending(state.session)


@db.before_driver_statements
def _before_driver_statement(session: _OrmSession) -> None:
    """The same for a statement sent on the driver's cursor (``db.AppSession``), which no ORM event sees."""
    if session.info.get(_PENDING):
        write_pending(session)


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
