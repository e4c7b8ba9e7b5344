"""The nightly integrity check: verify every hash chain and alert the administrators on a break.

Chains (docs/decisions/0002-hash-chains.md): the audit log, signatures, and each student's
competency records. Each is walked by the database's ``verify_chain``
(migration 0002), which names the first broken record. The heads exported in
the latest daily digest are compared too, which catches a tail rewritten and
re-hashed together with its head row.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.messaging import admin_alerts
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.core.audit import ChainReport
from nexdrive.formats import BUSINESS_TZ


def latest_exported_heads(session: Session) -> list[dict]:
    """The chain heads carried by the most recent daily digest (empty before the first one)."""
    heads = session.execute(sa.text("""
        SELECT template_data -> 'chain_heads' FROM outbox_messages
        WHERE template = 'daily_digest' AND template_data ? 'chain_heads'
        ORDER BY created_at DESC LIMIT 1""")).scalar()
    return list(heads or [])


def verify_all_chains(session: Session, *, exported_heads: list[dict] | None = None) -> list[ChainReport]:
    """One report per chain (ok or the first broken record), plus any mismatch with exported heads."""
    reports = audit.verify_all_chains(session, SYSTEM)
    heads = latest_exported_heads(session) if exported_heads is None else exported_heads
    broken = {r.chain for r in reports if not r.ok}
    reports += [p for p in audit.check_exported_heads(session, heads) if p.chain not in broken]
    return sorted(reports, key=lambda r: (r.table, r.chain))


@dataclass
class IntegrityResult:
    checked_chains: int
    records: int
    broken: list[dict] = field(default_factory=list)
    alerts_queued: int = 0

    @property
    def ok(self) -> bool:
        return not self.broken


def run_integrity_check(session: Session, now: datetime | None = None) -> IntegrityResult:
    """Verify every chain; on a break, record it in the audit log and alert the administrators (once a day)."""
    reports = verify_all_chains(session)
    broken = [r for r in reports if not r.ok]
    result = IntegrityResult(checked_chains=len(reports), records=sum(r.checked for r in reports),
                             broken=[asdict(r) for r in broken])
    if not broken:
        return result
    now = now or session.execute(sa.text("SELECT now()")).scalar_one()
    day = now.astimezone(BUSINESS_TZ).date().isoformat()
    key = "integrity_alert:" + day + ":" + ",".join(f"{r.chain}#{r.broken_seq}" for r in broken)
    details = {"key": key, "broken": [{"chain": r.chain, "seq": r.broken_seq, "reason": r.reason} for r in broken]}
    already = session.execute(sa.text("SELECT 1 FROM audit_log WHERE event_type = 'integrity.chain_broken' "
                                      "AND details ->> 'key' = :k"), {"k": key}).first()
    if not already:  # a re-run the same day records nothing new
        audit.record_event(session, SYSTEM, "integrity.chain_broken", severity="critical", details=details)
    result.alerts_queued = admin_alerts.alert_admins(
        session, key=key, notification_type="integrity_alert", data={"broken": details["broken"]},
        template_data={"broken": details["broken"]})
    return result
