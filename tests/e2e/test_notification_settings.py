"""Notifications in the browser (production build): a learner turns a reminder off on the account page, and
the instructor's schedule shows a lesson the learner confirmed by replying "Y"."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import Booking, Instructor, User
from nexdrive.services.identity import accounts
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.identity.passwords import hash_password

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
STUDENT = "e2e-notify-student@example.com"
INSTRUCTOR = "e2e-notify-instructor@example.com"


@pytest.fixture(scope="module")
def people(e2e_db_url):
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as session:
            inv = accounts.create_staff_account(session, SYSTEM, email=INSTRUCTOR, role="instructor",
                                                first_name="Ina", last_name="Struct", adi_number="ADI-E2E-N",
                                                adi_expiry=datetime(2030, 1, 1).date())
            user = session.get(User, inv.user_id)
            user.password_hash = hash_password(PASSWORD)
            session.add(user)
            issued = accounts.sign_up_student(session, email=STUDENT, password=PASSWORD, first_name="Noa",
                                              last_name="Learner")
            instructor = session.exec(sa.select(Instructor).where(Instructor.user_id == inv.user_id)).scalar_one()
            service_id = session.execute(sa.text("SELECT id FROM services WHERE is_active ORDER BY created_at "
                                                 "LIMIT 1")).scalar()
            start = (datetime.now(timezone.utc) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
            for offset, confirmed in ((0, True), (3, False)):
                at = start + timedelta(hours=offset)
                session.add(Booking(instructor_id=instructor.id, student_id=issued.actor.student_id,
                                    service_id=service_id, scheduled_date=at.date(), start_time=at,
                                    end_time=at + timedelta(hours=1), duration_minutes=60, status="confirmed",
                                    attendance_confirmed_at=datetime.now(timezone.utc) if confirmed else None))
            return {"student_user": issued.actor.user_id}
    finally:
        engine.dispose()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/sign-in")
    page.locator("#sign-in-form[data-ready='true']").wait_for(timeout=30_000)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("#sign-in-submit").click()


def test_a_learner_turns_off_the_day_before_reminder(app_server, e2e_db_url, people, page):
    sign_in(page, app_server, STUDENT)
    page.wait_for_url(re.compile(r"/student/?$"), timeout=30_000)
    page.goto(app_server + "/account")
    page.get_by_role("heading", name="Messages we send you").wait_for(timeout=30_000)
    reminder = page.get_by_role("switch", name="Reminder the day before a lesson (SMS)")
    reminder.wait_for(timeout=30_000)
    assert reminder.get_attribute("aria-checked") == "true"
    assert page.get_by_text(re.compile(r"Always sent: booking confirmations")).is_visible()
    reminder.click()
    page.get_by_text("Saved.").wait_for(timeout=30_000)
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT notification_type, channel, enabled FROM notification_preferences "
                                        "WHERE user_id = :u"), {"u": people["student_user"]}).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("booking_reminder_24h", "sms", False)]
    page.reload()
    switch = page.get_by_role("switch", name="Reminder the day before a lesson (SMS)")
    switch.wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector(\"[id='pref-booking_reminder_24h:sms']\")"
                           "?.getAttribute('aria-checked') === 'false'", timeout=30_000)


def test_the_instructor_sees_which_lessons_were_confirmed_by_sms(app_server, people, page):
    sign_in(page, app_server, INSTRUCTOR)
    page.wait_for_url(re.compile(r"/instructor/?$"), timeout=30_000)
    page.locator("#bookings-link").click()  # the day sheet links to every booking
    page.wait_for_url(re.compile(r"/instructor/bookings/?$"), timeout=30_000)
    page.locator(".booking-row").first.wait_for(timeout=30_000)
    rows = page.locator(".booking-row")
    badges = page.locator(".booking-row .confirmed-by-sms")
    assert rows.count() == 2 and badges.count() == 1
    assert badges.first.inner_text().strip() == "Confirmed by SMS"
