"""The instructor's availability page in the browser (production build): on a phone the demo
instructor changes Tuesday's hours, adds a day off over a booked lesson and sees the calendar
follow; a learner who opens the address is sent back to their own home."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.scheduling import schedule
from nexdrive.data import seed
from nexdrive.services.core.actors import SYSTEM
from nexdrive.formats import BUSINESS_TZ
from nexdrive.services.scheduling.holidays import is_act_public_holiday
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "demo lessons in Canberra"
STUDENT_EMAIL = f"mia.thompson@{seed.DEMO_EMAIL_DOMAIN}"


@pytest.fixture(scope="module")
def demo(e2e_db_url):
    """Passwords for the demo instructor and a demo learner; a confirmed lesson to take a day off over.
    The instructor's hours and overrides are put back afterwards."""
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            for email in (seed.DEMO_INSTRUCTOR_EMAIL, STUDENT_EMAIL):
                user = s.execute(sa.select(User).where(User.email == email)).scalar_one()
                user.password_hash = hash_password(PASSWORD)
                s.add(user)
            instructor_id = s.execute(sa.text(
                "SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e"),
                {"e": seed.DEMO_INSTRUCTOR_EMAIL}).scalar_one()
            today = s.execute(sa.text("SELECT now()")).scalar_one().astimezone(BUSINESS_TZ).date()
            hours = schedule.weekly_hours(s, SYSTEM, instructor_id)
            upcoming = schedule.upcoming_overrides(s, SYSTEM, instructor_id)
            before = {o["id"] for o in upcoming}
            # The demo's own time off (a weekday 8-30 days out) must not be the day the test reads as working.
            days_off = {date.fromisoformat(o["date"]) for o in upcoming}
            lesson = s.execute(sa.text(
                "SELECT b.scheduled_date, b.id FROM bookings b WHERE b.instructor_id = :i AND b.status = 'confirmed' "
                "AND b.scheduled_date > :t AND b.scheduled_date < :t + 25 ORDER BY b.start_time LIMIT 1"),
                {"i": instructor_id, "t": today}).first()
        yield {"instructor_id": instructor_id, "today": today, "lesson_day": lesson.scheduled_date if lesson else None,
               "lesson_id": lesson.id if lesson else None, "days_off": days_off}
        with nxdb.session_scope(engine) as s:
            schedule.set_weekly_hours(s, SYSTEM, instructor_id, [(h["day_of_week"], h["start"], h["end"])
                                                                  for h in hours])
            for o in schedule.upcoming_overrides(s, SYSTEM, instructor_id):
                if o["id"] not in before:
                    schedule.remove_override(s, SYSTEM, o["id"])
    finally:
        engine.dispose()


def _next_weekday(today: date, weekday: int, *, avoid=()) -> date:
    day = today + timedelta(days=1)
    while day.weekday() != weekday or is_act_public_holiday(day) or day in avoid:
        day += timedelta(days=1)
    return day


def _open_as_instructor(pg, base: str) -> None:
    sign_in(pg, base, seed.DEMO_INSTRUCTOR_EMAIL, PASSWORD)
    pg.wait_for_url(re.compile(re.escape(base + "/instructor") + r"/?$"), timeout=30_000)
    link = pg.locator("#availability-link")
    link.wait_for(timeout=30_000)
    link.click()
    pg.wait_for_url(re.compile(re.escape(base + "/instructor/availability") + r"/?$"), timeout=30_000)
    pg.locator(".day-hours[data-day='2'] input").first.wait_for(timeout=30_000)
    pg.locator(".cal-day").first.wait_for(timeout=30_000)


def test_instructor_changes_hours_and_takes_a_day_off_on_a_phone(app_server, e2e_db_url, demo, phone_page):
    pg = phone_page
    _open_as_instructor(pg, app_server)
    assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1  # no sideways scrolling
    pg.screenshot(path=str(ARTIFACTS / "availability-phone-top.png"), full_page=False)

    tuesday = _next_weekday(demo["today"], 1, avoid={demo["lesson_day"], *demo["days_off"]})
    tuesday_row = pg.locator(f".cal-day[data-date='{tuesday.isoformat()}']")
    assert "7:30 am – 6:00 pm" in tuesday_row.locator(".cal-hours").inner_text()

    # A finish before the start is refused next to the field, and nothing is saved.
    start, end = pg.locator("#hours-2-0-start"), pg.locator("#hours-2-0-end")
    assert pg.locator("label[for='hours-2-0-start']").inner_text() == "From"  # every time input is labelled
    start.fill("09:00")
    end.fill("08:00")
    pg.locator("#save-hours").click()
    error = pg.locator("#hours-2-0-end-error")
    error.wait_for(state="visible", timeout=30_000)
    assert "after the start" in error.inner_text()
    assert end.get_attribute("aria-invalid") == "true"
    assert "Tuesday" in pg.locator("#hours-error").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "availability-phone-error.png"), full_page=False)

    # Tuesday becomes 9 am - 3 pm.
    end.fill("15:00")
    pg.locator("#save-hours").click()
    pg.locator("#hours-message").filter(has_text="Saved").wait_for(timeout=30_000)
    assert not error.is_visible()
    pg.wait_for_function(
        f"""() => {{ const r = document.querySelector(".cal-day[data-date='{tuesday.isoformat()}'] .cal-hours");
                    return r && r.innerText.includes('9:00 am – 3:00 pm'); }}""", timeout=30_000)
    assert int(tuesday_row.get_attribute("data-free")) <= 5  # 9-3 fits at most five 75-minute blocks

    # A day off over a booked lesson: warned, listed, and the lesson is kept.
    day_off = demo["lesson_day"] or _next_weekday(demo["today"] + timedelta(days=3), 2)
    pg.locator("#off-date").fill(day_off.strftime("%d/%m/%Y"))  # typed the Australian way
    pg.locator("#off-reason").fill("Car service")
    pg.locator("#add-override").click()
    pg.locator("#off-message").filter(has_text="Time off added").wait_for(timeout=30_000)
    pg.locator(f".override-row[data-date='{day_off.isoformat()}']").wait_for(timeout=30_000)
    day_row = pg.locator(f".cal-day[data-date='{day_off.isoformat()}']")
    pg.wait_for_function(
        f"""() => {{ const r = document.querySelector(".cal-day[data-date='{day_off.isoformat()}']");
                    return r && r.dataset.status === 'off'; }}""", timeout=30_000)
    assert day_row.get_attribute("data-free") == "0"
    if demo["lesson_id"]:
        warning = pg.locator("#overlap-warning")
        warning.wait_for(timeout=30_000)
        assert "Nothing has been cancelled" in warning.inner_text()
        assert pg.locator("#affected-list .affected-lesson").count() >= 1
        assert int(day_row.get_attribute("data-lessons")) >= 1  # still in the calendar
    pg.locator("#time-off").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "availability-phone-time-off.png"), full_page=False)
    pg.locator("#calendar").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "availability-phone-calendar.png"), full_page=False)
    pg.screenshot(path=str(ARTIFACTS / "availability-phone-full.png"), full_page=True)

    # The change is really stored: a reload shows it.
    pg.reload()
    pg.locator(f".override-row[data-date='{day_off.isoformat()}']").wait_for(timeout=30_000)
    assert pg.locator("#hours-2-0-start").input_value() == "09:00"
    assert pg.locator("#hours-2-0-end").input_value() == "15:00"
    if demo["lesson_id"]:
        engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
        try:
            with nxdb.session_scope(engine) as s:
                assert s.execute(sa.text("SELECT status FROM bookings WHERE id = :i"),
                                 {"i": demo["lesson_id"]}).scalar() == "confirmed"
        finally:
            engine.dispose()


def test_the_page_on_a_desktop(app_server, demo, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    _open_as_instructor(page, app_server)
    page.screenshot(path=str(ARTIFACTS / "availability-desktop.png"), full_page=True)
    assert page.locator(".cal-day").count() == 28


def test_a_learner_is_sent_away(app_server, demo, page):
    sign_in(page, app_server, STUDENT_EMAIL, PASSWORD)
    page.wait_for_url(re.compile(re.escape(app_server + "/student") + r"/?$"), timeout=30_000)
    page.goto(app_server + "/instructor/availability")
    page.wait_for_url(re.compile(re.escape(app_server + "/student") + r"/?\?denied=instructor$"), timeout=30_000)
    page.locator("#area-notice").filter(has_text="That page is for instructors").wait_for(timeout=30_000)
    assert page.locator("#weekly-hours").count() == 0


def test_dates_are_typed_day_first_even_in_a_us_english_browser(app_server, demo, browser):
    context = browser.new_context(locale="en-US", timezone_id="Australia/Sydney",
                                  viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        _open_as_instructor(pg, app_server)
        assert pg.evaluate("document.documentElement.lang") == "en-AU"
        field = pg.locator("#off-date")
        assert field.get_attribute("type") != "date"  # the browser's own date picker would show mm/dd/yyyy
        assert field.get_attribute("placeholder") == "dd/mm/yyyy"
        assert pg.locator("label[for='off-date']").inner_text() == "Date (dd/mm/yyyy)"
        # 3/4 must be read as 3 April-style day-first: pick a day whose day-of-month <= 12 so a US reading differs.
        day = demo["today"] + timedelta(days=40)  # clear of the other test's day off
        while day.day > 12 or day.day == day.month or is_act_public_holiday(day):
            day += timedelta(days=1)
        field.fill(day.strftime("%d/%m/%Y"))
        pg.locator("#off-reason").fill("Day-first date check")
        pg.locator("#add-override").click()
        pg.locator("#off-message").filter(has_text="Time off added").wait_for(timeout=30_000)
        pg.locator(f".override-row[data-date='{day.isoformat()}']").wait_for(timeout=30_000)
        pg.screenshot(path=str(ARTIFACTS / "availability-date-en-us.png"), full_page=False)
        field.fill("31/02/2030")
        pg.locator("#add-override").click()
        pg.locator("#off-date-error").filter(has_text="dd/mm/yyyy").wait_for(timeout=30_000)
    finally:
        context.close()
