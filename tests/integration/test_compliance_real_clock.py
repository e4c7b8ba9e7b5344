"""The engine with the clock not pinned: "now" is the database's transaction time (clock.now(session)),
which is a query; signing must not flush a half-changed lesson row before it (the append-only trigger
would refuse the second update)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from nexdrive.db import session_scope
from nexdrive.formats import BUSINESS_TZ
from nexdrive.services.compliance import lessons, verification
from nexdrive.services.core import clock
from tests.compliance_helpers import make_school, png


def test_record_sign_and_dispute_on_the_real_clock(engine):
    with session_scope(engine) as s:
        school = make_school(s)
        day = clock.today(s) - timedelta(days=2)
    start = datetime.combine(day, time(10, 0), tzinfo=BUSINESS_TZ)
    with session_scope(engine) as s:
        lesson = lessons.record_lesson(s, school.instructor, student_id=school.student_id, start_time=start,
                                       end_time=start + timedelta(hours=1), competencies_taught=[1, 2])
        lessons.sign_lesson(s, school.instructor, lesson["id"], signature_image=png())
        done = lessons.sign_lesson(s, school.student, lesson["id"], signature_image=png(seed=4))
        assert done["lesson_status"] == "completed" and done["lesson"]["signed_at"] is not None
    with session_scope(engine) as s:
        out = lessons.dispute_lesson(s, school.student, lesson["id"], reason="Times are wrong.")
        assert out["lesson_status"] == "disputed"
    with session_scope(engine) as s:
        fix = lessons.correct_lesson(s, school.instructor, lesson["id"], reason="Fixed the times.",
                                     end_time=start + timedelta(minutes=50))
        lessons.sign_lesson(s, school.instructor, fix["id"], signature_image=png(seed=5))
        lessons.sign_lesson(s, school.student, fix["id"], signature_image=png(seed=6))
    with session_scope(engine) as s:
        assert lessons.get_lesson(s, school.student, lesson["id"])["status"] == "completed"
        assert verification.verify_lesson(s, school.admin, fix["id"]).ok
