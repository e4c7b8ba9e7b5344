"""Builders for the compliance tests: a school with a learner, signature images, signed lessons."""
from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlmodel import Session

from nexdrive.models import Parent, ParentStudentLink
from nexdrive.services.compliance import lessons
from nexdrive.services.core.actors import VISITOR, Actor
from nexdrive.services.identity.accounts import PARENT_PERMISSIONS, actor_for_user
from nexdrive.formats import BUSINESS_TZ
from tests.factories import make_instructor, make_student, make_user
from tests.reference import reference_week


def png(*, blank: bool = False, size: tuple[int, int] = (240, 90), transparent: bool = False,
        seed: int = 0) -> str:
    """A signature-pad PNG as base64: a few strokes, or nothing (``blank``)."""
    mode = "RGBA" if transparent else "RGB"
    img = Image.new(mode, size, (0, 0, 0, 0) if transparent else (255, 255, 255))
    if not blank:
        draw = ImageDraw.Draw(img)
        w, h = size
        draw.line([(10, h - 20), (w // 3, 15 + seed % 20), (w // 2, h - 25), (w - 15, 20)], fill=(0, 0, 80),
                  width=3)
        draw.line([(20, h // 2), (w - 30, h // 2 + seed % 7)], fill=(0, 0, 80), width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


# Fixed when this module is imported (before any test pins the clock).
_MONDAY = datetime.combine(reference_week(weeks=3), time(9, 0), tzinfo=BUSINESS_TZ)


def monday() -> datetime:
    """09:00 Canberra on the Monday of a holiday-free reference week (well before the pinned 'now')."""
    return _MONDAY


def pinned_now() -> datetime:
    """The clock the tests pin: 120 days after the reference Monday, so every lesson is in the past."""
    return (monday() + timedelta(days=120)).astimezone(timezone.utc)


@dataclass
class School:
    admin: Actor
    instructor: Actor
    student: Actor
    student_id: uuid.UUID
    instructor_id: uuid.UUID
    other_instructor: Actor
    other_student: Actor
    other_student_id: uuid.UUID
    parents: dict[str, Actor] = field(default_factory=dict)
    visitor: Actor = VISITOR


def _parent(s: Session, student_id: uuid.UUID, **flags) -> Actor:
    user, profile = make_user(s, "parent", "Pat")
    parent = Parent(user_id=user.id, profile_id=profile.id)
    s.add(parent)
    s.flush()
    s.add(ParentStudentLink(parent_id=parent.id, student_id=student_id, status="active",
                            accepted_at=datetime.now(timezone.utc),
                            **{p: flags.get(p, True) for p in PARENT_PERMISSIONS}))
    s.flush()
    return actor_for_user(s, user.id)


def make_school(s: Session, *, transmission: str = "auto") -> School:
    ins, other_ins = make_instructor(s), make_instructor(s)
    student, other = make_student(s, ins), make_student(s, other_ins)
    student.transmission = transmission
    s.add(student)
    admin_user, _ = make_user(s, "admin")
    s.flush()
    school = School(admin=actor_for_user(s, admin_user.id), instructor=actor_for_user(s, ins.user_id),
                    student=actor_for_user(s, student.user_id), student_id=student.id, instructor_id=ins.id,
                    other_instructor=actor_for_user(s, other_ins.user_id),
                    other_student=actor_for_user(s, other.user_id), other_student_id=other.id)
    school.parents["parent_full"] = _parent(s, student.id)
    school.parents["parent_no_progress"] = _parent(s, student.id, can_view_progress=False)
    school.parents["parent_nothing"] = _parent(s, student.id, can_view_progress=False,
                                               can_view_lesson_notes=False)
    return school


def record(s: Session, school: School, start: datetime, *, minutes: int = 60, taught=(), assessed=(),
           failed=(), **kw) -> dict:
    """A draft lesson; assessed tasks are achieved (in the lesson's transmission) unless ``failed``."""
    transmission = kw.pop("transmission", None) or s.execute(
        sa.text("SELECT transmission FROM students WHERE id = :s"), {"s": school.student_id}).scalar()
    achieved = [n for n in assessed if n not in set(failed)]
    key = "competencies_achieved_manual" if transmission == "manual" else "competencies_achieved_auto"
    kw.setdefault(key, achieved)
    return lessons.record_lesson(s, kw.pop("actor", school.instructor), student_id=school.student_id,
                                 start_time=start, end_time=start + timedelta(minutes=minutes),
                                 competencies_taught=list(taught), competencies_assessed=list(assessed),
                                 transmission=transmission, **kw)


def sign_both(s: Session, school: School, lesson_id: uuid.UUID, *, storage=None) -> dict:
    lessons.sign_lesson(s, school.instructor, lesson_id, signature_image=png(seed=1), storage=storage)
    return lessons.sign_lesson(s, school.student, lesson_id, signature_image=png(seed=2), storage=storage)


def signed(s: Session, school: School, start: datetime, **kw) -> dict:
    storage = kw.pop("storage", None)
    lesson = record(s, school, start, **kw)
    return sign_both(s, school, lesson["id"], storage=storage)["lesson"]
