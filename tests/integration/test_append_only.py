"""Append-only is enforced by the database, not by convention (docs/decisions/0003-append-only.md)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from nexdrive.db import session_scope
from nexdrive.models import CompetencyTask, Lesson, Signature, StudentCompetency
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM
from tests.factories import make_instructor, make_student

START = datetime(2026, 10, 1, 23, 0, tzinfo=timezone.utc)


@pytest.fixture
def records(engine):
    """One row in each append-only table, plus a signed and a draft lesson."""
    with session_scope(engine) as s:
        instructor = make_instructor(s)
        student = make_student(s, instructor)
        audit.record_event(s, SYSTEM, "SOMETHING_HAPPENED")
        signature = Signature(signer_id=instructor.user_id, signer_role="instructor", document_type="lesson",
                              document_id=uuid.uuid4(), signature_url="signatures/x.png")
        s.add(signature)
        task = s.exec(sa.select(CompetencyTask).where(CompetencyTask.task_number == 1)).scalar_one()
        s.add(StudentCompetency(student_id=student.id, task_id=task.id, instructor_id=instructor.id,
                                status="taught", transmission="auto"))
        common = dict(instructor_id=instructor.id, student_id=student.id, lesson_date=date(2026, 10, 2),
                      start_time=START, end_time=START + timedelta(minutes=60), total_minutes=60)
        signed = Lesson(lesson_number=1, status="completed", signed_at=START + timedelta(minutes=61), **common)
        draft = Lesson(lesson_number=2, status="draft", **common)
        s.add_all([signed, draft])
        s.flush()
        return {"signed": signed.id, "draft": draft.id}


@pytest.mark.parametrize("table", ["audit_log", "signatures", "student_competencies"])
@pytest.mark.parametrize("statement", [
    "UPDATE {table} SET created_at = created_at - interval '1 day'",
    "DELETE FROM {table}",
    "TRUNCATE {table} CASCADE",
])
def test_chained_tables_reject_changes(engine, records, table, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text(statement.format(table=table)))
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() >= 1


def test_a_signed_lesson_cannot_be_changed_or_deleted(engine, records):
    for statement in ("UPDATE lessons SET comments = 'edited' WHERE id = :id", "DELETE FROM lessons WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(statement), {"id": records["signed"]})


def test_a_draft_lesson_can_be_edited_and_then_signed_once(engine, records):
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE lessons SET comments = 'good hill starts' WHERE id = :id"), {"id": records["draft"]}
        )
        conn.execute(sa.text("UPDATE lessons SET status = 'completed', signed_at = now() WHERE id = :id"),
                     {"id": records["draft"]})
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE lessons SET status = 'draft', signed_at = NULL WHERE id = :id"),
                         {"id": records["draft"]})


def test_a_correction_is_a_new_linked_row(engine, records):
    with session_scope(engine) as s:
        original = s.get(Lesson, records["signed"])
        correction = Lesson(**{**original.model_dump(exclude={"id", "created_at", "total_km"}),
                               "comments": "corrected odometer", "correction_of": original.id,
                               "correction_reason": "typo in odometer"})
        s.add(correction)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM lessons WHERE id = :o OR correction_of = :o"),
                            {"o": records["signed"]}).scalar()
    assert rows == 2


def test_signature_and_competency_chains_verify(engine, records):
    with session_scope(engine) as s:
        chains = {(r.table, r.ok) for r in audit.verify_all_chains(s, SYSTEM)}
    assert chains == {("audit_log", True), ("signatures", True), ("student_competencies", True)}
