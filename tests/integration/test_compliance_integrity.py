"""Concurrency, tampering and the access matrix for lessons and signatures (real PostgreSQL)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden
from nexdrive.models import Instructor, Signature
from nexdrive.services.compliance import competencies, lessons, signatures, verification
from nexdrive.services.core import audit, clock
from tests.compliance_helpers import _parent, make_school, monday, pinned_now, png, record, sign_both, signed


@pytest.fixture(autouse=True)
def _pin():
    with clock.pinned(pinned_now()):
        yield


@pytest.fixture
def school(engine):
    with session_scope(engine) as s:
        made = make_school(s)
    return made


def _tamper(engine, sql: str, **params) -> None:
    """What a superuser could do: bypass the triggers."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(sql), params)


# ─────────────────────────────────────────────────────────────────────────────
# Concurrency
# ─────────────────────────────────────────────────────────────────────────────


def test_two_devices_recording_at_once_get_gap_free_numbers_and_one_chain(engine, school):
    def device(n: int) -> list[int]:
        numbers = []
        for i in range(8):
            start = monday() + timedelta(days=n * 10 + i, hours=n)
            with session_scope(engine) as s:
                lesson = record(s, school, start, taught=[1 + (i % 5), 6 + n])
                sign_both(s, school, lesson["id"])
                numbers.append(lesson["lesson_number"])
        return numbers

    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(device, range(2)))
    assert sorted(got[0] + got[1]) == list(range(1, 17))
    with session_scope(engine) as s:
        chain = f"student_competencies:{school.student_id}"
        seqs = s.execute(sa.text("SELECT seq FROM student_competencies WHERE chain = :c ORDER BY seq"),
                         {"c": chain}).scalars().all()
        assert seqs == list(range(1, 33))
        assert s.execute(sa.text("SELECT count(DISTINCT previous_hash) FROM student_competencies WHERE chain = :c"),
                         {"c": chain}).scalar() == 32
        assert audit.verify_chain(s, "student_competencies", chain).ok
        assert audit.verify_chain(s, "signatures", "signatures").ok


def test_200_concurrent_signatures_form_one_intact_chain(engine, school):
    image = signatures.decode_signature_image(png())
    with session_scope(engine) as s:
        signer = s.get(Instructor, school.instructor_id).user_id

    def sign(i: int) -> None:
        with session_scope(engine) as s:
            signatures.store_signature(s, signer_id=signer, signer_role="instructor", document_type="lesson",
                                       document_id=uuid.uuid4(), document_sha256="0" * 64, image=image)

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(sign, range(200)))
    with session_scope(engine) as s:
        seqs = s.execute(sa.text("SELECT seq FROM signatures ORDER BY seq")).scalars().all()
        assert seqs == list(range(1, 201))
        report = audit.verify_chain(s, "signatures", "signatures")
        assert report.ok and report.checked == 200


# ─────────────────────────────────────────────────────────────────────────────
# Tampering
# ─────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def signed_lesson(engine, school):
    with session_scope(engine) as s:
        signed(s, school, monday(), taught=[1, 2])
        lesson = signed(s, school, monday() + timedelta(days=1), assessed=[1], comments="Good.")
        assert verification.verify_lesson(s, school.admin, lesson["id"]).ok
    return lesson


def test_a_signed_lesson_edited_in_the_database_is_refused(engine, signed_lesson):
    for sql in ("UPDATE lessons SET comments = 'changed' WHERE id = :id",
                "UPDATE lessons SET status = 'disputed', odo_end = 5 WHERE id = :id",
                "DELETE FROM lessons WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(sql), {"id": signed_lesson["id"]})
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE student_competencies SET status = 'competent' WHERE lesson_id = :id"),
                         {"id": signed_lesson["id"]})


def test_a_lesson_edited_as_superuser_is_named_by_verify(engine, school, signed_lesson):
    _tamper(engine, "UPDATE lessons SET comments = 'Excellent!' WHERE id = :id", id=signed_lesson["id"])
    with session_scope(engine) as s:
        result = verification.verify_lesson(s, school.admin, signed_lesson["id"])
    assert not result.ok
    assert {c.name for c in result.checks if not c.ok} == {"instructor_document_hash", "student_document_hash"}
    assert "content has changed" in result.summary


def test_a_swapped_signature_image_is_named_by_verify(engine, school, signed_lesson):
    with session_scope(engine) as s:
        sig = s.get(Signature, signed_lesson["student_signature_id"])
        signatures.get_storage().put(sig.signature_url, signatures.decode_signature_image(png(seed=9)))
        result = verification.verify_lesson(s, school.instructor, signed_lesson["id"])
    assert [c.name for c in result.checks if not c.ok] == ["student_image"]
    assert "learner's signature image in storage was replaced" in result.summary
    with session_scope(engine) as s:
        signatures.get_storage().delete(sig.signature_url)
        result = verification.verify_lesson(s, school.admin, signed_lesson["id"])
    assert "learner's signature image is missing" in result.summary


def test_a_competency_row_edited_as_superuser_is_named_by_verify(engine, school, signed_lesson):
    _tamper(engine, "UPDATE student_competencies SET status = 'not_yet_competent' WHERE lesson_id = :id",
            id=signed_lesson["id"])
    with session_scope(engine) as s:
        result = verification.verify_lesson(s, school.admin, signed_lesson["id"])
        chain = audit.verify_chain(s, "student_competencies", f"student_competencies:{school.student_id}")
    assert not chain.ok and chain.broken_seq == 3
    assert [c.name for c in result.checks if not c.ok] == ["competency_chain"]
    assert "record 3 was altered" in result.summary


def test_a_signature_row_edited_as_superuser_is_named_by_verify(engine, school, signed_lesson):
    _tamper(engine, "UPDATE signatures SET user_agent = 'forged' WHERE id = :id",
            id=signed_lesson["instructor_signature_id"])
    with session_scope(engine) as s:
        result = verification.verify_lesson(s, school.admin, signed_lesson["id"])
    assert [c.name for c in result.checks if not c.ok] == ["instructor_signature_chain"]
    assert "altered" in result.summary


# ─────────────────────────────────────────────────────────────────────────────
# Access matrix: learner own, parent per switch, instructor own students, admin all, visitor nothing
# ─────────────────────────────────────────────────────────────────────────────


def test_access_matrix_for_lessons_signatures_and_the_matrix(engine, school):
    with session_scope(engine) as s:
        lesson = signed(s, school, monday(), taught=[1], comments="Private-ish comment")
        other = lessons.record_lesson(s, school.other_instructor, student_id=school.other_student_id,
                                      start_time=monday(), end_time=monday() + timedelta(hours=1),
                                      competencies_taught=[1])
        school.parents["parent_no_notes"] = _parent(s, school.student_id, can_view_lesson_notes=False)
    sig_id = lesson["student_signature_id"]
    actions = {
        "lesson": lambda s, a: lessons.get_lesson(s, a, lesson["id"]),
        "history": lambda s, a: lessons.lesson_history(s, a, school.student_id),
        "signature": lambda s, a: lessons.get_signature(s, a, sig_id),
        "signature_image": lambda s, a: lessons.signature_image(s, a, sig_id),
        "verify": lambda s, a: verification.verify_lesson(s, a, lesson["id"]),
        "matrix": lambda s, a: competencies.student_matrix(s, a, school.student_id),
        "other_lesson": lambda s, a: lessons.get_lesson(s, a, other["id"]),
    }
    lesson_readers = {"admin", "instructor", "student", "parent_full", "parent_no_progress", "parent_no_notes"}
    allowed = {
        **{k: lesson_readers for k in ("lesson", "history", "signature", "signature_image", "verify")},
        "matrix": {"admin", "instructor", "student", "parent_full", "parent_no_notes"},
        "other_lesson": {"admin", "other_instructor", "other_student"},
    }
    actors = {"admin": school.admin, "instructor": school.instructor, "other_instructor": school.other_instructor,
              "student": school.student, "other_student": school.other_student, "visitor": school.visitor,
              **school.parents}
    for action, call in actions.items():
        for name, actor in actors.items():
            with session_scope(engine) as s:
                if name in allowed[action]:
                    call(s, actor)
                elif name == "visitor":
                    with pytest.raises(AuthRequired):
                        call(s, actor)
                else:
                    with pytest.raises(Forbidden):
                        call(s, actor)
    with session_scope(engine) as s:
        assert "comments" not in lessons.get_lesson(s, school.parents["parent_no_notes"], lesson["id"])
        seen = lessons.get_lesson(s, school.parents["parent_full"], lesson["id"])
        assert seen["comments"] == "Private-ish comment" and "ip_address" not in seen["signatures"][0]
        assert "private_notes" not in seen and "note" not in seen
        staff_view = lessons.get_lesson(s, school.admin, lesson["id"])
        assert "ip_address" in staff_view["signatures"][0]
    # writing: only the instructor records and signs first; the learner signs and disputes; nobody else
    with session_scope(engine) as s:
        for name in ("other_instructor", "student", "parent_full"):
            with pytest.raises(Forbidden):
                record(s, school, monday() + timedelta(days=2), taught=[2], actor=actors[name])
        draft = record(s, school, monday() + timedelta(days=2), taught=[2])
    for name in ("other_instructor", "parent_full", "admin", "other_student"):
        with session_scope(engine) as s:
            with pytest.raises(Forbidden):
                lessons.sign_lesson(s, actors[name], draft["id"], signature_image=png())
    for name in ("parent_full", "instructor", "admin"):
        with session_scope(engine) as s:
            with pytest.raises(Forbidden):
                lessons.dispute_lesson(s, actors[name], lesson["id"], reason="not me")
