"""Shared set-up for payment tests: a school with an open instructor, held bookings, a gateway."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.db import session_scope
from nexdrive.models import Package, StudentPackage, Voucher
from nexdrive.services.scheduling import booking
from nexdrive.services.core.actors import VISITOR, Actor
from tests.booking_helpers import at, only_instructor, open_instructor, weekday_ahead
from tests.factories import make_student

TUESDAY = weekday_ahead(1)
TIMES = ["08:00", "09:30", "11:00", "12:30", "14:00", "15:30", "17:00"]  # the 30-minute grid, 60 min + buffer


def school(engine, **kw) -> dict:
    with session_scope(engine) as s:
        instructor, service = open_instructor(s, max_per_day=20, **kw)
        only_instructor(s, instructor.id)
        return {"instructor": instructor.id, "service": service.id, "price": service.price_cents}


def hold(engine, sch: dict, start: str = "10:30", *, n: int = 0, day=None, actor: Actor = VISITOR,
         student_id=None) -> tuple[uuid.UUID, str]:
    """A live hold made through the booking service: (booking id, manage token)."""
    with session_scope(engine) as s:
        r = booking.book_lesson(s, actor, service_id=sch["service"], start_time=at(day or TUESDAY, start),
                                name=f"Visitor {n}", phone=f"04{n:08d}", email=f"v{n}@example.com",
                                pickup_address="1 Test St", suburb="Belconnen", student_id=student_id)
        return r.booking.id, r.manage_token


def student(engine, sch: dict) -> Actor:
    with session_scope(engine) as s:
        from nexdrive.models import Instructor
        st = make_student(s, s.get(Instructor, sch["instructor"]))
        return Actor(role="student", user_id=st.user_id, student_id=st.id)


def admin(engine) -> Actor:
    from tests.factories import make_user
    with session_scope(engine) as s:
        user, _ = make_user(s, "admin", "Ada")
        return Actor(role="admin", user_id=user.id)


def give_package(engine, student_id, credits: int = 2, *, expires_in_days: int | None = 90,
                 service_ids=()) -> uuid.UUID:
    with session_scope(engine) as s:
        p = Package(name=f"{credits} lessons", total_credits=credits, price_cents=credits * 8000,
                    valid_for_days=expires_in_days, applicable_services=list(service_ids))
        s.add(p)
        s.flush()
        now = s.execute(sa.text("SELECT now()")).scalar_one()
        sp = StudentPackage(student_id=student_id, package_id=p.id, credits_total=credits, purchased_at=now,
                            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
        s.add(sp)
        s.flush()
        return sp.id


def make_voucher(session: Session, code: str, **kw) -> Voucher:
    v = Voucher(code=code, voucher_type=kw.pop("voucher_type", "percentage"), **kw)
    session.add(v)
    session.flush()
    return v


def lapse_hold(engine, booking_id) -> None:
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = :b"),
                  {"b": booking_id})


def scalar(engine, sql: str, **params):
    with session_scope(engine) as s:
        return s.execute(sa.text(sql), params).scalar()


def rows(engine, sql: str, **params):
    with session_scope(engine) as s:
        return s.execute(sa.text(sql), params).all()


def utcnow() -> datetime:
    from datetime import timezone
    return datetime.now(timezone.utc)
