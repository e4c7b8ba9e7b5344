"""The demo school's packages and vouchers (services.seed), and that they work with the payment services."""
from __future__ import annotations

import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import Student, User
from nexdrive.services.money import packages
from nexdrive.data import seed
from nexdrive.services.money import vouchers
from nexdrive.services.core.actors import VISITOR, Actor


def test_demo_packages_and_vouchers_load_once_and_are_usable(engine):
    with session_scope(engine) as s:
        summary = seed.load_demo_data(s)
    assert summary["packages"] == 3 and summary["vouchers"] == 2 and summary["student_packages"] == 1
    with session_scope(engine) as s:
        assert seed.load_demo_data(s) == {"status": "already loaded"}
        on_sale = packages.list_packages(s, VISITOR)
        assert [p["name"] for p in on_sale] == ["3 × 90-minute lessons", "5 × 60-minute lessons",
                                                "10 × 60-minute lessons"]
        assert on_sale[1]["price_display"] == "$500.00" and on_sale[1]["per_lesson_display"] == "$100.00"
        standard = s.execute(sa.text("SELECT id FROM services WHERE slug = 'standard-60'")).scalar_one()
        check = vouchers.check_voucher(s, "welcome10", service_id=standard)
        assert check.ok and check.discount_cents == 1050
        assert vouchers.check_voucher(s, "FREELESSON", service_id=standard).discount_cents == 10500
        priya = s.execute(sa.select(Student.id, User.id).join(User, User.id == Student.user_id)
                          .where(User.email == f"priya.sharma@{seed.DEMO_EMAIL_DOMAIN}")).one()
        [mine] = packages.my_packages(s, Actor(role="student", user_id=priya[1], student_id=priya[0]))
        assert mine["name"] == "10 × 60-minute lessons" and mine["credits_left"] == 7 and mine["usable"]
        assert s.execute(sa.text("SELECT count(*) FROM payments WHERE completed_at IS NULL")).scalar() == 0
        assert s.execute(sa.text("SELECT count(*) FROM packages")).scalar() == 3
