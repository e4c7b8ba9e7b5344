"""The backup drill (C23): backup -> wipe -> restore, after which every hash chain verifies from its first
record, the chain heads are the ones at backup time, and every stored file (signature images included)
matches its hash; a damaged backup is refused before anything is touched."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive import backup
from nexdrive.db import session_scope
from nexdrive.models import CompetencyTask, Signature, StudentCompetency
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM
from tests.factories import make_instructor, make_student


@pytest.fixture
def school(engine, tmp_path):
    storage = tmp_path / "storage"
    (storage / "signatures").mkdir(parents=True)
    (storage / "invoices").mkdir()
    (storage / "invoices" / "NXD-2026-0001.pdf").write_bytes(b"%PDF-1.7 a tax invoice")
    with session_scope(engine) as s:
        instructor = make_instructor(s)
        student = make_student(s, instructor)
        for i in range(5):
            audit.record_event(s, SYSTEM, "TEST_EVENT", details={"i": i, "text": "é ünïcode"})
        for n in range(2):
            image = f"signature image {n}".encode()
            key = f"signatures/{uuid.uuid4()}.png"
            (storage / key).write_bytes(image)
            s.add(Signature(signer_id=instructor.user_id, signer_role="instructor", document_type="lesson",
                            document_id=uuid.uuid4(), signature_url=key,
                            signature_image_sha256=hashlib.sha256(image).hexdigest()))
            s.flush()
        for task in s.exec(select(CompetencyTask).order_by(CompetencyTask.task_number)).all()[:3]:
            s.add(StudentCompetency(student_id=student.id, task_id=task.id, instructor_id=instructor.id,
                                    status="taught", transmission="auto"))
            s.flush()
    return {"url": engine.url.render_as_string(hide_password=False), "storage": storage, "dest": tmp_path / "bk"}


def _count(engine, table: str) -> int:
    with session_scope(engine) as s:
        return s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_backup_wipe_restore_and_every_chain_verifies(engine, school):
    before = {t: _count(engine, t) for t in ("audit_log", "signatures", "student_competencies", "users")}
    folder = backup.backup(school["dest"], url=school["url"], storage_dir=school["storage"],
                           now=datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert folder.name == "nexdrive-backup-20261118T010000Z"
    assert len(manifest["files"]) == 3 and {h["chain"] for h in manifest["chain_heads"]} >= {"audit_log"}
    assert backup.verify(engine, school["storage"], manifest).ok

    # the disaster: the database and the files are gone
    backup.wipe_database(school["url"])
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
    for p in sorted(school["storage"].rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()

    report = backup.restore(folder, url=school["url"], storage_dir=school["storage"])
    engine.dispose()
    assert report.ok, report.problems
    assert report.files == 3 and report.chains >= 3
    assert report.records >= before["audit_log"] + before["signatures"] + before["student_competencies"]
    assert {t: _count(engine, t) for t in before} == before
    # the append-only triggers came back with the schema
    with pytest.raises(sa.exc.DBAPIError):
        with session_scope(engine) as s:
            s.execute(sa.text("DELETE FROM audit_log"))


def test_a_damaged_backup_is_refused_before_anything_is_touched(engine, school):
    folder = backup.backup(school["dest"], url=school["url"], storage_dir=school["storage"])
    audit_rows = _count(engine, "audit_log")
    victim = next((folder / "files" / "signatures").iterdir())
    victim.write_bytes(b"someone else's signature")
    with pytest.raises(backup.BackupError, match="stored files differ"):
        backup.restore(folder, url=school["url"], storage_dir=school["storage"])
    assert _count(engine, "audit_log") == audit_rows  # the database was not wiped


def test_verify_reports_a_changed_file_and_a_broken_chain(engine, school):
    folder = backup.backup(school["dest"], url=school["url"], storage_dir=school["storage"])
    manifest = backup.check_backup(folder)
    key = next(k for k in manifest["files"] if k.startswith("signatures/"))
    (school["storage"] / key).write_bytes(b"tampered")
    problems = backup.verify(engine, school["storage"], manifest).problems
    assert any(key in p and "does not match" in p for p in problems)
    assert any("signature image" in p for p in problems)
