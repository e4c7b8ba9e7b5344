"""Small builders for test rows, through the real models and a real database."""
from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session

from nexdrive.models import Instructor, Profile, Service, Student, User


def make_user(session: Session, role: str, first: str = "Test", last: str | None = None) -> tuple[User, Profile]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    user = User(email=email, role=role)
    session.add(user)
    session.flush()
    profile = Profile(user_id=user.id, first_name=first, last_name=last or role.title(), email=email,
                      phone="+61400000000", role=role)
    session.add(profile)
    session.flush()
    return user, profile


def make_instructor(session: Session, buffer_minutes: int = 15) -> Instructor:
    user, profile = make_user(session, "instructor", "Ian")
    instructor = Instructor(user_id=user.id, profile_id=profile.id, adi_number=f"ADI{uuid.uuid4().hex[:6]}",
                            adi_expiry=date(2030, 1, 1), accreditation_number="ACT-12345",
                            accreditation_expiry=date(2030, 1, 1), default_buffer_minutes=buffer_minutes)
    session.add(instructor)
    session.flush()
    session.refresh(instructor)
    return instructor


def make_student(session: Session, instructor: Instructor) -> Student:
    user, profile = make_user(session, "student", "Sam")
    student = Student(user_id=user.id, profile_id=profile.id, instructor_id=instructor.id)
    session.add(student)
    session.flush()
    return student


def make_service(session: Session, minutes: int = 60, price_cents: int = 8500) -> Service:
    service = Service(slug=f"lesson-{uuid.uuid4().hex[:6]}", name=f"Lesson {minutes} min",
                      duration_minutes=minutes, price_cents=price_cents, category="lesson")
    session.add(service)
    session.flush()
    return service
