"""Reference data and the demo school (nexdrive.data.seed), on a real PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from nexdrive.data import CATALOGUE_ENV_VAR, DEFAULT_CATALOGUE_PATH
from nexdrive.db import session_scope
from nexdrive.data import seed

CANBERRA = ZoneInfo("Australia/Sydney")

COUNTED_TABLES = (
    "business_settings", "competency_tasks", "services", "public_holidays", "users", "profiles",
    "instructors", "students", "parents", "parent_student_links", "contacts", "availability_rules",
    "availability_overrides", "bookings", "lessons", "student_competencies", "signatures",
    "payments", "audit_log",
)


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED_TABLES}


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


@pytest.fixture
def demo(engine):
    with session_scope(engine) as s:
        summary = seed.load_demo_data(s)
    return summary


# ── reference data ──────────────────────────────────────────────────────────

def test_reference_data_is_the_act_catalogue_and_services(engine):
    with engine.connect() as conn:
        competencies = conn.execute(sa.text(
            "SELECT count(*) FROM competency_tasks WHERE NOT is_review AND is_active")).scalar_one()
        reviews = conn.execute(sa.text(
            "SELECT task_number, review_requires_tasks FROM competency_tasks WHERE is_review ORDER BY task_number"
        )).all()
        final = conn.execute(sa.text(
            "SELECT task_number, final_drive_min_minutes FROM competency_tasks WHERE is_final_drive")).one()
        services = conn.execute(sa.text("SELECT slug, name, category FROM services")).all()
        settings = conn.execute(sa.text("SELECT * FROM business_settings")).mappings().all()
        holiday_years = conn.execute(sa.text(
            "SELECT DISTINCT extract(year FROM date)::int FROM public_holidays ORDER BY 1")).scalars().all()
    assert competencies == 23
    assert [r.task_number for r in reviews] == [101, 102]
    assert reviews[0].review_requires_tasks == list(range(1, 18))
    assert reviews[1].review_requires_tasks == list(range(1, 23))
    assert final.task_number == 23 and final.final_drive_min_minutes == 45
    assert len(services) >= 6
    assert not [s for s in services if "keys2drive" in (s.slug + s.name).lower().replace(" ", "")]
    assert {s.category for s in services} <= {"lesson", "co_lesson", "assessment", "special"}
    assert len(settings) == 1
    row = settings[0]
    assert row["business_name"] == "NexDrive Academy"
    assert row["gst_registered"] is False and row["abn"] is None
    assert row["timezone"] == "Australia/Sydney"
    this_year = datetime.now(CANBERRA).year
    assert holiday_years == [this_year, this_year + 1, this_year + 2]
    assert _scalar(engine, "SELECT count(*) FROM public_holidays WHERE name ILIKE '%canberra day%'") == 3


def test_reference_data_twice_changes_nothing(engine):
    before = _counts(engine)
    with session_scope(engine) as s:
        summary = seed.load_reference_data(s)
    assert _counts(engine) == before
    assert summary["business_settings"] == "unchanged"
    for part in ("competency_tasks", "services", "public_holidays"):
        assert summary[part]["inserted"] == 0, part
        assert summary[part]["updated"] == 0, part


def test_reference_data_never_overwrites_the_owners_settings_or_prices(engine):
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE business_settings SET abn = '12 345 678 901', gst_registered = true"))
        s.execute(sa.text("UPDATE services SET price_cents = 9900 WHERE slug = 'standard-60'"))
    with session_scope(engine) as s:
        seed.load_reference_data(s)
    assert _scalar(engine, "SELECT abn FROM business_settings") == "12 345 678 901"
    assert _scalar(engine, "SELECT price_cents FROM services WHERE slug = 'standard-60'") == 9900


def test_a_corrected_catalogue_updates_on_rerun(engine, tmp_path, monkeypatch):
    data = json.loads(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    for task in data["tasks"]:
        if task["task_number"] == 5:
            task["name"] = "Gear changing"
            task["description"] = "Corrected description."
    corrected = tmp_path / "catalogue.json"
    corrected.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(corrected))
    before = _counts(engine)

    with session_scope(engine) as s:
        summary = seed.load_reference_data(s)

    assert summary["competency_tasks"] == {"version": data["version"], "inserted": 0, "updated": 1,
                                           "deactivated": 0}
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT name, description FROM competency_tasks WHERE task_number = 5")).one()
    assert tuple(row) == ("Gear changing", "Corrected description.")
    assert _counts(engine) == before


# ── demo school ─────────────────────────────────────────────────────────────

def test_demo_data_twice_gives_the_same_counts(engine, demo):
    assert demo["status"] == "loaded"
    after_first = _counts(engine)
    with session_scope(engine) as s:
        assert seed.load_demo_data(s) == {"status": "already loaded"}
    assert _counts(engine) == after_first
    assert after_first["students"] == 5
    assert after_first["parent_student_links"] == 1
    assert _scalar(engine, "SELECT count(*) FROM audit_log WHERE event_type = 'DEMO_DATA_LOADED'") == 1


def test_demo_students_are_at_different_stages(engine, demo):
    with engine.connect() as conn:
        # latest status per task per student (the table is an append-only history)
        rows = conn.execute(sa.text("""
            SELECT p.first_name, count(*) FILTER (WHERE latest.status = 'competent') AS competent,
                   bool_or(latest.task_number = 101 AND latest.status = 'competent') AS review_1,
                   bool_or(latest.task_number = 102 AND latest.status = 'competent') AS review_2
            FROM students s JOIN profiles p ON p.id = s.profile_id
            LEFT JOIN LATERAL (
                SELECT DISTINCT ON (sc.task_id) sc.status, ct.task_number
                FROM student_competencies sc JOIN competency_tasks ct ON ct.id = sc.task_id
                WHERE sc.student_id = s.id ORDER BY sc.task_id, sc.seq DESC
            ) latest ON true
            GROUP BY p.first_name ORDER BY competent
        """)).all()
    competent = [r.competent for r in rows]
    assert len(rows) == len(seed.STUDENTS) == 5
    assert len(set(competent)) == len(seed.STUDENTS), competent
    assert competent[0] <= 3  # just started
    assert [bool(r.review_1) for r in rows] == [False, False, True, True, True]
    assert [bool(r.review_2) for r in rows] == [False, False, False, True, True]


def test_demo_lessons_follow_the_cbta_rules(engine, demo):
    with engine.connect() as conn:
        lessons = conn.execute(sa.text("""
            SELECT student_id, lesson_number, start_time, end_time, total_minutes, status, signed_at,
                   competencies_taught AS taught, competencies_assessed AS assessed
            FROM lessons ORDER BY student_id, lesson_number""")).all()
        first_taught = dict(conn.execute(sa.text("""
            SELECT sc.student_id::text || ':' || ct.task_number, min(sc.status_changed_at)
            FROM student_competencies sc JOIN competency_tasks ct ON ct.id = sc.task_id
            WHERE sc.status = 'taught' GROUP BY 1""")).all())
        assessed = conn.execute(sa.text("""
            SELECT sc.student_id::text || ':' || ct.task_number AS k, sc.status_changed_at AS at, ct.is_review
            FROM student_competencies sc JOIN competency_tasks ct ON ct.id = sc.task_id
            WHERE sc.status IN ('competent', 'not_yet_competent')""")).all()
        broken = conn.execute(sa.text("""
            SELECT count(*) FROM (SELECT DISTINCT 'student_competencies' AS t, chain FROM student_competencies
                                  UNION SELECT DISTINCT 'signatures', chain FROM signatures) c,
                 LATERAL verify_chain(c.t::regclass, c.chain) v
            WHERE NOT v.ok""")).scalar_one()
    assert broken == 0
    now = datetime.now(timezone.utc)
    by_student: dict = {}
    for lesson in lessons:
        by_student.setdefault(lesson.student_id, []).append(lesson)
        assert lesson.status == "completed" and lesson.signed_at is not None
        assert lesson.end_time < now
        assert lesson.total_minutes >= 45
        assert not set(lesson.taught) & set(lesson.assessed), "taught and assessed in one lesson"
    for rows in by_student.values():
        assert [r.lesson_number for r in rows] == list(range(1, len(rows) + 1))
        assert all(a.end_time < b.start_time for a, b in zip(rows, rows[1:]))
    for row in assessed:
        if not row.is_review and not row.k.endswith(":23"):  # reviews and the final drive are never taught
            assert first_taught[row.k] < row.at, f"{row.k} assessed before it was taught"


def test_every_demo_email_is_on_the_reserved_domain(engine, demo):
    with engine.connect() as conn:
        emails = conn.execute(sa.text("""
            SELECT email FROM users UNION ALL SELECT email FROM profiles
            UNION ALL SELECT email FROM contacts WHERE email IS NOT NULL""")).scalars().all()
        phones = conn.execute(sa.text(
            "SELECT phone FROM profiles UNION ALL SELECT phone FROM contacts")).scalars().all()
        passwords = conn.execute(sa.text("SELECT count(*) FROM users WHERE password_hash IS NOT NULL")).scalar_one()
    assert len(emails) == 8 + 8 + 6  # users, their profiles, contacts with an e-mail
    assert all(e.endswith("@demo.nexdrive.invalid") for e in emails), emails
    assert all(p is None or (p.startswith("+614") and len(p) == 12) for p in phones), phones
    assert passwords == 0


def test_demo_upcoming_bookings_do_not_overlap_and_sit_in_opening_hours(engine, demo):
    with engine.connect() as conn:
        upcoming = conn.execute(sa.text("""
            SELECT b.start_time, b.end_time, b.blocked_until, b.status, s.slug
            FROM bookings b JOIN services s ON s.id = b.service_id
            WHERE b.start_time > now() ORDER BY b.start_time""")).all()
        overlaps = conn.execute(sa.text("""
            SELECT count(*) FROM bookings a JOIN bookings b ON a.instructor_id = b.instructor_id AND a.id < b.id
            WHERE a.status = 'confirmed' AND b.status = 'confirmed'
              AND tstzrange(a.start_time, a.blocked_until) && tstzrange(b.start_time, b.blocked_until)""")).scalar_one()
        completed_linked = conn.execute(sa.text("""
            SELECT count(*) FROM bookings b JOIN lessons l ON l.id = b.lesson_id AND l.booking_id = b.id
            JOIN payments p ON p.id = b.payment_id
            WHERE b.status = 'completed' AND b.payment_status = 'paid' AND p.status = 'completed'""")).scalar_one()
        day_off = conn.execute(sa.text("SELECT date FROM availability_overrides")).scalar_one()
    assert overlaps == 0
    assert completed_linked == 2
    assert len(upcoming) >= 4
    now = datetime.now(timezone.utc)
    for b in upcoming:
        assert b.status == "confirmed"
        assert (b.start_time - now).days < 15
        local_start, local_end = b.start_time.astimezone(CANBERRA), b.end_time.astimezone(CANBERRA)
        assert local_start.date() != day_off
        assert local_start.isoweekday() <= 5  # Monday-Friday in these demo bookings
        assert (7, 30) <= (local_start.hour, local_start.minute) and local_end.hour < 18
        assert (b.blocked_until - b.end_time).total_seconds() == 15 * 60
    final = [b for b in upcoming if b.slug == "final-drive"]
    assert len(final) == 1


def test_demo_parent_sees_the_halfway_student_but_not_lesson_notes(engine, demo):
    with engine.connect() as conn:
        link = conn.execute(sa.text("""
            SELECT l.*, sp.first_name AS student_first, pu.role AS parent_role
            FROM parent_student_links l
            JOIN parents pa ON pa.id = l.parent_id JOIN users pu ON pu.id = pa.user_id
            JOIN students s ON s.id = l.student_id JOIN profiles sp ON sp.id = s.profile_id""")).mappings().one()
    assert link["parent_role"] == "parent" and link["student_first"] == "Liam"
    assert link["status"] == "active"
    assert link["can_view_bookings"] and link["can_view_progress"] and link["can_view_payments"]
    assert not link["can_view_lesson_notes"]


def test_demo_instructor_is_an_accredited_owner(engine, demo):
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT i.is_owner, i.accreditation_expiry, i.adi_expiry, u.email, u.role
            FROM instructors i JOIN users u ON u.id = i.user_id""")).one()
        admin = conn.execute(sa.text("SELECT role FROM users WHERE email = :e"),
                             {"e": seed.DEMO_OWNER_EMAIL}).scalar_one()
        rules = conn.execute(sa.text("SELECT day_of_week FROM availability_rules ORDER BY 1")).scalars().all()
    today = datetime.now(CANBERRA).date()
    assert row.is_owner and row.accreditation_expiry > today and row.adi_expiry > today
    assert (row.email, row.role) == (seed.DEMO_INSTRUCTOR_EMAIL, "instructor")
    assert admin == "admin"
    assert rules == [1, 2, 3, 4, 5, 6]  # Monday-Saturday (0 = Sunday)


# The database spec's seed list (spec/database.md §9) with DESIGN.md's corrections: no Keys2drive,
# the pre-test review as Review 1 and Review 2. slug -> (minutes, cents, category).
SPEC_SERVICES = {
    "standard-60": (60, 10500, "lesson"),
    "extended-90": (90, 15000, "lesson"),
    "double-120": (120, 19500, "lesson"),
    "supervisor-coaching-60": (60, 10500, "co_lesson"),
    "review-1": (60, 10500, "assessment"),
    "review-2": (60, 10500, "assessment"),
    "final-drive": (90, 15000, "assessment"),
}


def test_default_services_are_the_spec_seed_list(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT slug, name, duration_minutes, price_cents, category FROM services ORDER BY sort_order")).all()
    assert {r.slug: (r.duration_minutes, r.price_cents, r.category) for r in rows} == SPEC_SERVICES
    names = {r.slug: r.name for r in rows}
    assert names["standard-60"] == "Learner lesson (60 min)"
    assert names["supervisor-coaching-60"] == "Co-lesson (60 min)"
    assert names["review-1"].startswith("Review 1") and names["review-2"].startswith("Review 2")
    assert names["final-drive"] == "Final drive assessment (90 min)"


def test_the_demo_owner_instructor_is_the_spec_owner(engine):
    with session_scope(engine) as s:
        seed.load_demo_data(s)
    with engine.connect() as conn:
        owner = conn.execute(sa.text(
            "SELECT p.first_name, p.last_name FROM instructors i JOIN profiles p ON p.id = i.profile_id "
            "WHERE i.is_owner")).one()
        admin = conn.execute(sa.text(
            "SELECT p.first_name, p.last_name FROM users u JOIN profiles p ON p.user_id = u.id "
            "WHERE u.email = :e"), {"e": seed.DEMO_OWNER_EMAIL}).one()
    assert tuple(owner) == ("Rob", "Harrison") and tuple(admin) == ("Rob", "Harrison")
