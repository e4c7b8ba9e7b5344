"""The audit trail viewer's services against the real database: administrator only; filters (event type,
actor, subject, Canberra date range) and pages, newest first; "Verify all records" reports every chain,
and names the first broken record after a row is edited behind the triggers' back (as a superuser with
``session_replication_role = replica``).
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, ValidationFailed
from nexdrive.formats import BUSINESS_TZ
from nexdrive.models import CompetencyTask, StudentCompetency
from nexdrive.services.compliance import audit_trail
from nexdrive.services.compliance.audit_trail import AuditFilters
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.core.audit import record_event
from nexdrive.services.identity.accounts import actor_for_user
from tests.factories import make_instructor, make_student, make_user


@pytest.fixture
def trail(engine):
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin", "Ada", "Admin")
        instructor = make_instructor(s)
        student = make_student(s, instructor)
        admin = actor_for_user(s, admin_user.id)
        learner = actor_for_user(s, student.user_id)
        teacher = actor_for_user(s, instructor.user_id)
        subject = uuid.uuid4()
        for i in range(30):
            record_event(s, learner, "LOGBOOK_DRIVE_ADDED", subject_type="supervised_drive",
                         subject_id=subject if i < 3 else uuid.uuid4(), details={"n": i})
        for i in range(5):
            record_event(s, teacher, "LESSON_SIGNED", subject_type="lesson", subject_id=uuid.uuid4(), details={"n": i})
        record_event(s, SYSTEM, "integrity.chain_broken", severity="critical")
        task = s.exec(select(CompetencyTask).order_by(CompetencyTask.task_number)).first()
        for status in ("taught", "assessed"):
            s.add(StudentCompetency(student_id=student.id, task_id=task.id, instructor_id=instructor.id,
                                    status=status, transmission="auto"))
        s.flush()
        now = s.execute(sa.text("SELECT now()")).scalar_one()
        return {"admin": admin, "learner": learner, "teacher": teacher, "subject": subject,
                "student_id": student.id, "today": now.astimezone(BUSINESS_TZ).date(),
                "others": [learner, teacher, VISITOR]}


def _list(engine, who, page=1, **filters):
    with session_scope(engine) as s:
        return audit_trail.list_audit_events(s, who, AuditFilters(**filters), page)


def test_only_the_administrator_reads_and_verifies(engine, trail):
    for actor in trail["others"]:
        with session_scope(engine) as s:
            with pytest.raises(AuthRequired if actor.is_visitor else Forbidden):
                audit_trail.list_audit_events(s, actor)
            with pytest.raises(AuthRequired if actor.is_visitor else Forbidden):
                audit_trail.verify_all_records(s, actor)


def test_filters_and_pages_newest_first(engine, trail):
    admin = trail["admin"]
    everything = _list(engine, admin)
    total = everything["total"]
    assert total >= 36 and everything["pages"] == -(-total // audit_trail.PAGE_SIZE)
    seqs = [r["seq"] for r in everything["items"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == audit_trail.PAGE_SIZE
    assert everything["items"][0]["event_type"] == "integrity.chain_broken"
    assert everything["items"][0]["actor"] == "NexDrive Academy (system)"
    assert "AEDT" in everything["items"][0]["when"] or "AEST" in everything["items"][0]["when"]
    # Paging: page 2 continues exactly where page 1 stopped; past the end clamps to the last page.
    second = _list(engine, admin, page=2)
    assert second["items"][0]["seq"] == seqs[-1] - 1
    assert _list(engine, admin, page=999)["page"] == everything["pages"]

    drives = _list(engine, admin, event_type="LOGBOOK_DRIVE_ADDED")
    assert drives["total"] == 30 and {r["event_type"] for r in drives["items"]} == {"LOGBOOK_DRIVE_ADDED"}
    assert [r["details"] for r in _list(engine, admin, event_type="LOGBOOK_DRIVE_ADDED", page=2)["items"]] == [
        f'{{"n": {n}}}' for n in range(4, -1, -1)]
    # Actor: by user id, by role, by part of a name or email, and "system".
    assert _list(engine, admin, actor=str(trail["teacher"].user_id))["total"] == 5
    assert _list(engine, admin, actor="instructor")["total"] == 5
    assert _list(engine, admin, actor="Sam")["total"] == 30  # the learner's first name (tests.factories)
    assert _list(engine, admin, actor="system", event_type="integrity.chain_broken")["total"] == 1
    # Subject: by id or by type.
    by_subject = _list(engine, admin, subject=str(trail["subject"]))
    assert by_subject["total"] == 3 and {r["subject_id"] for r in by_subject["items"]} == {str(trail["subject"])}
    assert _list(engine, admin, subject="lesson")["total"] == 5
    # Dates are Canberra days, inclusive.
    today = trail["today"]
    assert _list(engine, admin, date_from=today, date_to=today)["total"] == total
    assert _list(engine, admin, date_to=today - timedelta(days=1))["total"] == 0
    assert _list(engine, admin, date_from=today + timedelta(days=1))["total"] == 0
    with pytest.raises(ValidationFailed):
        _list(engine, admin, date_from=today, date_to=today - timedelta(days=1))
    # Combined filters narrow further; nothing matching is an empty first page.
    assert _list(engine, admin, event_type="LESSON_SIGNED", actor="student")["total"] == 0
    assert _list(engine, admin, event_type="NOPE")["items"] == []
    with session_scope(engine) as s:
        assert {"LESSON_SIGNED", "LOGBOOK_DRIVE_ADDED"} <= set(audit_trail.event_types(s, admin))


def _verify(engine, admin):
    with session_scope(engine) as s:
        return audit_trail.verify_all_records(s, admin)


def test_verify_all_reports_every_chain_and_finds_a_tampered_row(engine, trail):
    admin = trail["admin"]
    result = _verify(engine, admin)
    assert result["ok"] and result["broken"] == 0
    chains = {c["chain"]: c for c in result["chains"]}
    competency_chain = f"student_competencies:{trail['student_id']}"
    assert {"audit_log", competency_chain} <= set(chains)
    assert chains[competency_chain]["checked"] == 2 and chains[competency_chain]["label"].startswith(
        "Competency records of Sam")
    assert chains["audit_log"]["checked"] >= 36
    # The check itself is in the trail.
    assert _list(engine, admin, event_type="integrity.verified")["total"] == 1

    # Edit one audit row and one competency row as a superuser, behind the append-only triggers.
    with session_scope(engine) as s:
        target = s.execute(sa.text("SELECT seq FROM audit_log WHERE event_type = 'LESSON_SIGNED' "
                                   "ORDER BY seq LIMIT 1")).scalar_one()
        s.execute(sa.text("SET LOCAL session_replication_role = replica"))
        s.execute(sa.text("UPDATE audit_log SET details = '{\"n\": 99}' WHERE chain = 'audit_log' AND seq = :q"),
                  {"q": target})
        s.execute(sa.text("UPDATE student_competencies SET status = 'competent' WHERE chain = :c AND seq = 2"),
                  {"c": competency_chain})
    result = _verify(engine, admin)
    assert not result["ok"] and result["broken"] == 2
    chains = {c["chain"]: c for c in result["chains"]}
    assert chains["audit_log"]["broken_seq"] == target and "altered" in chains["audit_log"]["reason"]
    assert chains[competency_chain]["broken_seq"] == 2 and not chains[competency_chain]["ok"]
    assert all(c["ok"] for k, c in chains.items() if k not in ("audit_log", competency_chain))
    # The failed check is recorded as critical.
    assert _list(engine, admin, event_type="integrity.verified")["items"][0]["severity"] == "critical"
