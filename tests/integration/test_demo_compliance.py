"""The demo school's CBT&A history is built through the engine: rule-consistent, signed, verifiable."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from nexdrive.data import seed
from nexdrive.db import session_scope
from nexdrive.models import Lesson, Student
from nexdrive.services.compliance import auditors_pack, certificates, competencies, logbook, verification
from nexdrive.services.core import clock
from nexdrive.services.core.actors import SYSTEM
from nexdrive.formats import BUSINESS_TZ


def _oracle(spec) -> set[int]:
    """Tasks competent after the learner's plan: the last assessment of each task decides."""
    state: dict[int, bool] = {}
    for number, (_taught, assessed) in enumerate(seed._plan_for(spec), start=1):
        for t in assessed:
            state[t] = t != spec.not_yet_competent.get(number)
    return {t for t, ok in state.items() if ok}


def test_demo_seed_on_an_empty_database_is_rule_consistent(engine):
    with session_scope(engine) as s:
        summary = seed.load_demo_data(s)
    assert summary["status"] == "loaded" and summary["certificates"] == 1
    with session_scope(engine) as s:
        assert seed.load_demo_data(s) == {"status": "already loaded"}
    by_email = {spec.email: spec for spec in seed.STUDENTS}
    with session_scope(engine) as s:
        rows = s.execute(sa.text("SELECT s.id, p.email FROM students s JOIN profiles p ON p.id = s.profile_id")).all()
        assert {r.email for r in rows} == set(by_email)
        for sid, email in rows:
            spec = by_email[email]
            matrix = competencies.compute_matrix(s, sid)
            got = {r.task_number for r in matrix.rows if r.status == "competent"}
            assert got == _oracle(spec), spec.key
            assert matrix.competent == len([t for t in got if t < 100])
            lessons = s.execute(sa.select(Lesson).where(Lesson.student_id == sid)).scalars().all()
            assert len(lessons) == spec.lessons
            for lesson in lessons:
                result = verification.verify_lesson(s, SYSTEM, lesson.id)
                assert result.ok, result.summary
            hours = logbook.logbook_summary(s, SYSTEM, sid)
            assert hours["drives"] > 0 and hours["lessons"] == spec.lessons
            assert abs(hours["supervised_hours"] - float(spec.supervised_hours)) < 0.26, spec.key
            student = s.get(Student, sid)
            if spec.certificate:
                assert student.status == "completed" and hours["target_met"]
                cert = certificates.get_certificate(s, SYSTEM, sid)
                check = certificates.verify_certificate(s, SYSTEM, cert["verification_code"])
                assert check["valid"] and check["initials"] == f"{spec.first[0]}. {spec.last[0]}."
                pack = auditors_pack.build_pack(s, SYSTEM, sid, record=False)
                assert pack.ok and len(pack.images) == 2 * spec.lessons + 2
            else:
                assert student.status == "active"


@pytest.mark.parametrize("day", ["2026-12-24", "2027-01-01", "2027-03-29", "2027-04-04", "2027-10-03"])
def test_the_demo_loads_on_any_day_of_the_year(engine, day):
    """`manage.py run` on Christmas Eve, New Year's Day, Easter Monday and the daylight-saving Sundays: the
    demo's lesson days step around weekends and holidays, and every rule of the engine still holds."""
    at = datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=BUSINESS_TZ)
    with clock.pinned(at), session_scope(engine) as s:
        summary = seed.load_demo_data(s)
    assert summary["status"] == "loaded" and summary["certificates"] == 1
    with clock.pinned(at), session_scope(engine) as s:
        days = s.execute(sa.text("SELECT student_id, start_time FROM lessons ORDER BY student_id, start_time")).all()
        for (a_student, a), (b_student, b) in zip(days, days[1:]):
            assert a_student != b_student or b - a >= timedelta(hours=36)
        assert all(t.astimezone(BUSINESS_TZ).date() < at.date() for _, t in days)
