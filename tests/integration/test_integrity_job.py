"""The nightly integrity job verifies every hash chain and alerts the administrators on a break."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from jobs.runner import run_job
from nexdrive.db import session_scope
from nexdrive.models import CompetencyTask, Signature, StudentCompetency
from nexdrive.services.core import audit
from nexdrive.services.reporting import digest
from nexdrive.services.compliance import integrity
from nexdrive.services.core.actors import SYSTEM
from tests.factories import make_instructor, make_student
from tests.jobs_helpers import UTC, make_admin

NIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 03:00 on Tue 24 November in Canberra


def _tamper(engine, sql: str) -> None:
    """What a superuser with direct database access could do: bypass the append-only triggers."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(sql))


@pytest.fixture
def chains(engine):
    """Records in every chain: the audit log, signatures, and two students' competency records."""
    with session_scope(engine) as s:
        admin = make_admin(s)
        instructor = make_instructor(s)
        students = [make_student(s, instructor), make_student(s, instructor)]
        tasks = s.exec(sa.select(CompetencyTask).order_by(CompetencyTask.task_number).limit(3)).scalars().all()
        for i in range(5):
            audit.record_event(s, SYSTEM, "TEST_EVENT", details={"i": i})
        for _ in range(2):
            s.add(Signature(signer_id=instructor.user_id, signer_role="instructor", document_type="lesson",
                            document_id=uuid.uuid4(), signature_url="signatures/x.png"))
            s.flush()
        for student in students:
            for task in tasks:
                s.add(StudentCompetency(student_id=student.id, task_id=task.id, instructor_id=instructor.id,
                                        status="taught", transmission="auto"))
                s.flush()
    return admin, students


def _alerts(engine):
    with engine.connect() as conn:
        emails = conn.execute(sa.text("SELECT recipient, subject, body FROM outbox_messages "
                                      "WHERE template = 'integrity_alert'")).all()
        bells = conn.execute(sa.text("SELECT recipient_id, subject, body FROM notifications "
                                     "WHERE channel = 'in_app' AND notification_type = 'integrity_alert'")).all()
        logged = conn.execute(sa.text("SELECT severity, details FROM audit_log "
                                      "WHERE event_type = 'integrity.chain_broken'")).all()
    return emails, bells, logged


def test_an_intact_database_reports_every_chain_ok(engine, chains):
    outcome = run_job("integrity_check", engine=engine, now=NIGHT)
    assert outcome.status == "ok"
    assert outcome.result == {"ok": True, "chains": 4, "records": 5 + 2 + 3 + 3, "broken": [], "alerts_queued": 0}
    with session_scope(engine) as s:
        reports = integrity.verify_all_chains(s)
    assert sorted((r.table, r.ok) for r in reports) == [("audit_log", True), ("signatures", True),
                                                        ("student_competencies", True), ("student_competencies", True)]
    assert _alerts(engine) == ([], [], [])


def test_a_broken_chain_is_named_with_its_first_broken_record_and_the_admins_are_alerted_once(engine, chains):
    admin, students = chains
    victim = students[1]
    _tamper(engine, "UPDATE audit_log SET details = '{\"i\": 999}' WHERE seq = 3")
    _tamper(engine, f"UPDATE student_competencies SET status = 'competent' "
                    f"WHERE student_id = '{victim.id}' AND seq = 2")

    first = run_job("integrity_check", engine=engine, now=NIGHT)
    assert first.status == "ok" and first.result["ok"] is False
    assert sorted((b["chain"], b["seq"]) for b in first.result["broken"]) == [
        ("audit_log", 3), (f"student_competencies:{victim.id}", 2)]
    assert first.result["chains"] == 4

    emails, bells, logged = _alerts(engine)
    assert len(emails) == 1 and len(bells) == 1 and len(logged) == 1
    assert emails[0].recipient == admin.email
    assert emails[0].subject == (f"Integrity check failed: audit_log (record #3), "
                                 f"student_competencies:{victim.id} (record #2)")
    assert "audit_log: first broken record #3 - record 3 was altered" in emails[0].body
    assert bells[0].recipient_id == admin.id and bells[0].subject == emails[0].subject
    assert logged[0].severity == "critical"

    # Re-running (the same night, by hand) finds the same break and alerts no one twice.
    with session_scope(engine) as s:
        again = integrity.run_integrity_check(s, NIGHT)
    assert not again.ok and again.alerts_queued == 0
    assert tuple(map(len, _alerts(engine))) == (1, 1, 1)


def test_a_rewritten_tail_is_caught_against_the_heads_in_the_last_digest(engine, chains):
    with session_scope(engine) as s:
        digest.send_daily_digest(s, date(2026, 11, 23))  # carries the chain heads out of the database
    # Rewrite the last audit record, re-hash it and move the head: self-consistent inside the database.
    _tamper(engine, """
        UPDATE audit_log SET details = '{"i": 999}' WHERE seq = 5;
        UPDATE audit_log SET record_hash = chain_record_hash(previous_hash, to_jsonb(audit_log.*)) WHERE seq = 5;
        UPDATE chain_heads SET head_hash = (SELECT record_hash FROM audit_log WHERE seq = 5)
            WHERE chain = 'audit_log';""")
    with session_scope(engine) as s:
        assert all(r.ok for r in audit.verify_all_chains(s, SYSTEM))  # invisible from inside...
        result = integrity.run_integrity_check(s, NIGHT)
    assert [(b["chain"], b["broken_seq"]) for b in result.broken] == [("audit_log", 5)]  # ...but not to the digest
    assert "does not match the exported head" in result.broken[0]["reason"]
    assert len(_alerts(engine)[0]) == 1


def test_a_chain_whose_records_were_all_deleted_is_reported(engine, chains):
    _tamper(engine, "DELETE FROM signatures")
    with session_scope(engine) as s:
        result = integrity.run_integrity_check(s, NIGHT)
    assert [(b["chain"], b["broken_seq"]) for b in result.broken] == [("signatures", 1)]
