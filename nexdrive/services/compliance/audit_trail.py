"""The audit trail viewer's use cases (administrator only): list the audit log with filters and
pages, newest first, in Canberra time; and verify every hash chain on demand ("Verify all records").

Verification is the nightly integrity check's (``integrity.verify_all_chains``: the database's
``verify_chain`` over the audit log, the signatures and each learner's competency records, plus
the heads exported in the last daily digest), shown per chain: ok, or the first broken record.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_time
from nexdrive.models import AuditLog, Profile, Student, User
from nexdrive.services.compliance import integrity
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import ROLES, Actor

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
DETAILS_PREVIEW = 240
MAX_FILTER_TEXT = 200


@dataclass
class AuditFilters:
    """``actor``: a user id, a role (``system`` = the app itself) or part of a name or email.
    ``subject``: a subject id or a subject type (``booking``, ``supervised_drive`` ...).
    Dates are Canberra calendar days, both inclusive."""

    event_type: str | None = None
    actor: str | None = None
    subject: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)


def _clean(value: str | None, name: str) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_FILTER_TEXT:
        raise ValidationFailed(f"The {name} filter is too long.", field=name)
    return value or None


def _where(filters: AuditFilters) -> list[Any]:
    conds: list[Any] = []
    event_type = _clean(filters.event_type, "event_type")
    if event_type:
        conds.append(AuditLog.event_type == event_type)
    who = _clean(filters.actor, "actor")
    if who:
        as_id = _uuid(who)
        if as_id is not None:
            conds.append(AuditLog.actor_id == as_id)
        elif who.lower() == "system":
            conds.append(AuditLog.actor_id.is_(None))
        elif who.lower() in ROLES:
            conds.append(AuditLog.actor_role == who.lower())
        else:
            pattern = _like(who)
            conds.append(sa.or_(User.email.ilike(pattern, escape="\\"),
                                (Profile.first_name + " " + Profile.last_name).ilike(pattern, escape="\\")))
    subject = _clean(filters.subject, "subject")
    if subject:
        as_id = _uuid(subject)
        conds.append(AuditLog.subject_id == as_id if as_id is not None else AuditLog.subject_type == subject)
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ValidationFailed("The end date is before the start date.", field="date_to")
    if filters.date_from:
        conds.append(AuditLog.created_at >= _local_midnight(filters.date_from))
    if filters.date_to:
        conds.append(AuditLog.created_at < _local_midnight(filters.date_to + timedelta(days=1)))
    return conds


def _when(dt: datetime) -> str:
    local = dt.astimezone(BUSINESS_TZ)
    return f"{au_date(local)}, {au_time(local)} ({local.strftime('%H:%M:%S %Z')})"


def _details(details: dict | None) -> str:
    text = json.dumps(details or {}, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= DETAILS_PREVIEW else text[:DETAILS_PREVIEW - 1] + "\u2026"


def _row(entry: AuditLog, email: str | None, first: str | None, last: str | None) -> dict[str, Any]:
    name = f"{first or ''} {last or ''}".strip()
    if entry.actor_id is None:
        who = "NexDrive Academy (system)" if entry.actor_role in (None, "system") else entry.actor_role
    else:
        who = name or email or str(entry.actor_id)
    return {
        "id": str(entry.id), "seq": entry.seq, "created_at": entry.created_at, "when": _when(entry.created_at),
        "event_type": entry.event_type, "severity": entry.severity,
        "actor_id": str(entry.actor_id) if entry.actor_id else "", "actor_role": entry.actor_role or "",
        "actor": who, "actor_email": email or "",
        "subject_type": entry.subject_type or "", "subject_id": str(entry.subject_id) if entry.subject_id else "",
        "details": _details(entry.details), "ip_address": entry.ip_address or "",
        "record_hash": entry.record_hash or "",
    }


def event_types(session: Session, actor: Actor) -> list[str]:
    """Every event type recorded so far (for the filter's choices)."""
    access.require_audit_reader(actor)
    return list(session.execute(sa.select(AuditLog.event_type).distinct().order_by(AuditLog.event_type)).scalars())


def list_audit_events(session: Session, actor: Actor, filters: AuditFilters | None = None, page: int = 1,
                      page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the audit log, newest first (by chain sequence), with the total that matches."""
    access.require_audit_reader(actor)
    filters = filters or AuditFilters()
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    conds = _where(filters)
    base = (sa.select(AuditLog, User.email, Profile.first_name, Profile.last_name)
            .select_from(AuditLog)
            .outerjoin(User, User.id == AuditLog.actor_id)
            .outerjoin(Profile, Profile.user_id == AuditLog.actor_id)
            .where(*conds))
    total = session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(int(page), pages))
    rows = session.execute(base.order_by(AuditLog.seq.desc()).limit(page_size)
                           .offset((page - 1) * page_size)).all()
    return {"items": [_row(*r) for r in rows], "page": page, "pages": pages, "total": total,
            "page_size": page_size}


def _chain_label(session: Session, table: str, chain: str) -> str:
    if chain == "audit_log":
        return "Audit log"
    if chain == "signatures":
        return "Signatures"
    if chain.startswith("student_competencies:"):
        student_id = _uuid(chain.split(":", 1)[1])
        row = session.execute(sa.select(Profile.first_name, Profile.last_name)
                              .join(Student, Student.profile_id == Profile.id)
                              .where(Student.id == student_id)).first() if student_id else None
        return "Competency records of " + (f"{row[0]} {row[1]}" if row else chain.split(":", 1)[1])
    return chain


def verify_all_records(session: Session, actor: Actor) -> dict[str, Any]:
    """Walk every chain now; one result per chain (ok, or the first broken record and why).

    The check itself is recorded in the audit log (after it ran, so it never checks itself)."""
    access.require_audit_reader(actor)
    reports = integrity.verify_all_chains(session)
    chains = [{"table": r.table, "chain": r.chain, "label": _chain_label(session, r.table, r.chain), "ok": r.ok,
               "checked": int(r.checked), "broken_seq": r.broken_seq, "reason": r.reason or ""}
              for r in reports]
    broken = [c for c in chains if not c["ok"]]
    audit.record_event(session, actor, "integrity.verified", severity="critical" if broken else "info",
                       details={"chains": len(chains), "records": sum(c["checked"] for c in chains),
                                "broken": [{"chain": c["chain"], "seq": c["broken_seq"]} for c in broken]})
    return {"ok": not broken, "chains": chains, "checked_records": sum(c["checked"] for c in chains),
            "broken": len(broken), "verified_at": clock.now(session)}


__all__ = ["AuditFilters", "PAGE_SIZE", "event_types", "list_audit_events", "verify_all_records"]
