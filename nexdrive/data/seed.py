"""Reference data every install needs, and an optional living demo school.

Both functions take a SQLModel ``Session`` and run inside the caller's
transaction (the caller commits, e.g. ``with db.session_scope(engine) as s``);
each returns a short summary dict.

``load_reference_data(session)``
    The ``business_settings`` row (created once, never overwritten: the owner
    fills in the ABN, GST status, etc.), the ACT CBT&A catalogue from
    ``nexdrive/data/cbta_catalogue.json`` (or ``NEXDRIVE_CBTA_CATALOGUE``)
    upserted by ``task_number`` so a corrected file updates names,
    descriptions and prerequisites on the next run, the default services from
    ``default_services.json`` (inserted by ``slug`` when missing; a school's
    own prices are left alone unless ``update_services=True``), and the ACT
    public holidays of this year and the next two (upserted by date +
    jurisdiction). Idempotent: a second run inserts nothing.

``load_demo_data(session)``
    A small, realistic Canberra driving school whose dates are computed from
    "now", so the demo looks alive whenever it is loaded. Idempotent: if the
    demo owner account exists it returns ``{"status": "already loaded"}``
    and touches nothing. Requires the reference data.

    Everything demo is marked: every e-mail address is on the reserved
    ``@demo.nexdrive.invalid`` domain, phone numbers are from ACMA's range
    reserved for fiction (0491 570 xxx), contact notes start with
    ``[DEMO]``, lessons carry ``device_info {"demo": true}``, and an audit
    event ``DEMO_DATA_LOADED`` records the load.

    The learners' CBT&A history is made through the engine itself
    (``lessons.record_lesson`` / ``sign_lesson`` with drawn signature PNGs, the
    audit-unit notice, ``logbook.add_drive``, ``certificates.issue_certificate``),
    so it obeys every rule and verifies; the clock is pinned to each lesson's
    time while it is recorded. It commits in batches of lessons (hash-chained
    inserts); a load that stopped part-way is reported on the next run.
    ``business_settings`` is not touched.

    Demo accounts (no passwords yet: ``password_hash`` is NULL until the
    accounts issue adds sign-in; use a magic link / set one then):

    ====================================  ==========  ==============================
    e-mail                                role        who
    ====================================  ==========  ==============================
    owner@demo.nexdrive.invalid           admin       Rob Harrison, the owner (the spec's owner)
    instructor@demo.nexdrive.invalid      instructor  Rob Harrison, owner-instructor
    mia.thompson@demo.nexdrive.invalid    student     just started (2 lessons)
    liam.chen@demo.nexdrive.invalid       student     tasks 1-13 competent, 14-17 taught: Review 1 locked
    priya.sharma@demo.nexdrive.invalid    student     passed Review 1, on 18-22
    noah.williams@demo.nexdrive.invalid   student     Review 2 done, final drive booked
    grace.nguyen@demo.nexdrive.invalid    student     completed: final drive passed, certificate issued
    michelle.chen@demo.nexdrive.invalid   parent      Liam's mother (linked)
    ====================================  ==========  ==============================

    Plus two leads (contacts only, no account): a website enquiry
    (olivia.brown@demo.nexdrive.invalid) and an SMS enquiry (phone only).
"""
from __future__ import annotations

import io
import math
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, select

from nexdrive.services.core import clock
from nexdrive.data import load_cbta_catalogue, load_default_services
from nexdrive.models import (
    AvailabilityOverride,
    AvailabilityRule,
    Booking,
    BusinessSettings,
    CompetencyTask,
    Contact,
    Instructor,
    Package,
    Parent,
    ParentStudentLink,
    Payment,
    Profile,
    PublicHoliday,
    Service,
    Student,
    StudentPackage,
    User,
    Voucher,
)
from nexdrive.services.compliance import certificates, competencies, lessons, logbook
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.core.audit import record_event
from nexdrive.services.scheduling.booking import confirm_booking, reserve_slot
from nexdrive.services.scheduling.holidays import act_public_holidays, add_business_days, is_act_public_holiday

__all__ = [
    "DEMO_EMAIL_DOMAIN",
    "DEMO_OWNER_EMAIL",
    "DEMO_INSTRUCTOR_EMAIL",
    "load_demo_data",
    "load_reference_data",
]

BUSINESS_TZ = ZoneInfo("Australia/Sydney")
UTC = timezone.utc

# ─────────────────────────────────────────────────────────────────────────────
# Reference data
# ─────────────────────────────────────────────────────────────────────────────

BUSINESS_DEFAULTS: dict[str, Any] = {
    "id": 1,
    "business_name": "NexDrive Academy",
    "abn": None,  # the owner fills this in
    "gst_registered": False,
    "address": "Canberra ACT",
    "phone": "+61 2 6100 0000",
    "email": "lessons@nexdriveacademy.com.au",
    "timezone": "Australia/Sydney",
    "late_cancellation_fee_cents": 4250,  # a starting value inside the 24-hour notice window; the owner sets it
}

# default_services.json categories -> services.category (CHECK lesson/co_lesson/assessment/special)
SERVICE_CATEGORY_MAP = {
    "lesson": "lesson",
    "review": "assessment",
    "final_drive": "assessment",
    "coaching": "co_lesson",
}


def _catalogue_category(task: dict[str, Any]) -> str:
    if task["kind"] == "review":
        return "Review"
    if task["kind"] == "final_drive":
        return "Final drive"
    return f"Stage {task['stage']}"


def _upsert_counts(rows: list[Any]) -> tuple[int, int]:
    inserted = sum(1 for r in rows if r.inserted)
    return inserted, len(rows) - inserted


def _changed(table: sa.Table, excluded: Any, columns: list[str]) -> sa.ColumnElement[bool]:
    """``(t.a, t.b, ...) IS DISTINCT FROM (excluded.a, excluded.b, ...)``: update only real changes."""
    return sa.tuple_(*(table.c[c] for c in columns)).is_distinct_from(
        sa.tuple_(*(excluded[c] for c in columns))
    )


_INSERTED = sa.literal_column("(xmax = 0)").label("inserted")


def _load_business_settings(session: Session) -> str:
    table = BusinessSettings.__table__
    stmt = pg_insert(table).values(**BUSINESS_DEFAULTS).on_conflict_do_nothing(index_elements=["id"])
    result = session.execute(stmt.returning(table.c.id))
    return "created" if result.first() is not None else "unchanged"


def _load_catalogue(session: Session, path: str | os.PathLike[str] | None) -> dict[str, Any]:
    catalogue = load_cbta_catalogue(path)
    min_minutes = int(catalogue["rules"]["min_lesson_minutes"])
    table = CompetencyTask.__table__
    values = []
    for task in catalogue["tasks"]:
        final = bool(task["is_final_drive"])
        values.append(
            {
                "task_number": task["task_number"],
                "name": task["name"],
                "description": task["description"],
                "category": _catalogue_category(task),
                "prerequisites": list(task["prerequisites"]),
                "is_review": bool(task["is_review"]),
                "is_final_drive": final,
                "review_requires_tasks": list(task["covers"]),
                "final_drive_min_minutes": min_minutes if final else None,
                "final_drive_unfamiliar_roads": final,
                "sort_order": task["sort_order"],
                "is_active": True,
            }
        )
    updatable = [c for c in values[0] if c != "task_number"]
    stmt = pg_insert(table).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["task_number"],
        set_={c: stmt.excluded[c] for c in updatable},
        where=_changed(table, stmt.excluded, updatable),
    ).returning(table.c.task_number, _INSERTED)
    inserted, updated = _upsert_counts(session.execute(stmt).all())
    # A task dropped from a corrected file cannot be deleted (student records
    # point at it): retire it instead.
    numbers = [v["task_number"] for v in values]
    deactivated = session.execute(
        sa.update(table)
        .where(table.c.task_number.not_in(numbers), table.c.is_active.is_(True))
        .values(is_active=False)
    ).rowcount or 0
    return {
        "version": catalogue["version"],
        "inserted": inserted,
        "updated": updated,
        "deactivated": deactivated,
    }


def _load_services(session: Session, path: str | os.PathLike[str] | None, update: bool) -> dict[str, int]:
    table = Service.__table__
    values = [
        {
            "slug": s["slug"],
            "name": s["name"],
            "description": s["description"],
            "duration_minutes": s["duration_minutes"],
            "price_cents": s["price_cents"],
            "category": SERVICE_CATEGORY_MAP.get(s["category"], "special"),
            "requires_eligibility_check": s["requires_eligibility"] is not None,
            "eligibility_kind": s["requires_eligibility"],
            "buffer_minutes": s.get("buffer_minutes"),
            "is_active": s["is_active"],
            "sort_order": s["sort_order"],
            "is_bookable_online": True,
        }
        for s in load_default_services(path)
    ]
    stmt = pg_insert(table).values(values)
    if update:
        updatable = [c for c in values[0] if c != "slug"]
        stmt = stmt.on_conflict_do_update(
            index_elements=["slug"],
            set_={c: stmt.excluded[c] for c in updatable},
            where=_changed(table, stmt.excluded, updatable),
        )
    else:
        # The file only holds starting values; the owner's own prices win.
        stmt = stmt.on_conflict_do_nothing(index_elements=["slug"])
    inserted, updated = _upsert_counts(session.execute(stmt.returning(table.c.slug, _INSERTED)).all())
    return {"inserted": inserted, "updated": updated}


def _load_holidays(session: Session, first_year: int, years: int = 3) -> dict[str, Any]:
    table = PublicHoliday.__table__
    values = [
        {"date": day, "name": name, "jurisdiction": "ACT"}
        for year in range(first_year, first_year + years)
        for day, name in sorted(act_public_holidays(year).items())
    ]
    stmt = pg_insert(table).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["date", "jurisdiction"],
        set_={"name": stmt.excluded.name},
        where=table.c.name.is_distinct_from(stmt.excluded.name),
    ).returning(table.c.date, _INSERTED)
    inserted, updated = _upsert_counts(session.execute(stmt).all())
    return {"years": [first_year, first_year + years - 1], "inserted": inserted, "updated": updated}


def load_reference_data(
    session: Session,
    *,
    catalogue_path: str | os.PathLike[str] | None = None,
    services_path: str | os.PathLike[str] | None = None,
    update_services: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
    """Load (or refresh) the data every install needs. Idempotent; the caller commits.

    ``catalogue_path`` defaults to ``NEXDRIVE_CBTA_CATALOGUE`` or the bundled
    file. ``update_services=True`` also overwrites existing services with the
    file's values (by default only missing slugs are inserted, so the owner's
    prices survive a redeploy). ``today`` (Canberra date) picks the holiday
    years; it defaults to now.
    """
    today = today or clock.today()
    return {
        "business_settings": _load_business_settings(session),
        "competency_tasks": _load_catalogue(session, catalogue_path),
        "services": _load_services(session, services_path, update_services),
        "public_holidays": _load_holidays(session, today.year),
    }


# ─────────────────────────────────────────────────────────────────────────────
# Demo school
# ─────────────────────────────────────────────────────────────────────────────

DEMO_EMAIL_DOMAIN = "demo.nexdrive.invalid"
DEMO_OWNER_EMAIL = f"owner@{DEMO_EMAIL_DOMAIN}"
DEMO_INSTRUCTOR_EMAIL = f"instructor@{DEMO_EMAIL_DOMAIN}"
DEMO_MARK = "[DEMO]"
DEMO_DEVICE = {"demo": True, "source": "nexdrive demo data"}

# ACMA reserves 0491 570 006 ... for use in fiction: no real person gets these texts.
_PHONES = (
    "+61491570006", "+61491570156", "+61491570157", "+61491570158", "+61491570159",
    "+61491570110", "+61491570313", "+61491570737", "+61491571266", "+61491571491",
)


@dataclass
class DemoStudent:
    key: str
    first: str
    last: str
    age_years: int
    age_days: int
    suburb: str
    postcode: str
    school_or_work: str
    licence_number: str
    lessons: int  # how many lessons of the standard plan they have done
    first_days_ago: int
    last_days_ago: int
    start: time  # their usual lesson time (wall clock)
    supervised_hours: Decimal  # logged with a parent/supervisor
    night_hours: Decimal
    referral_source: str
    not_yet_competent: dict[int, int] = field(default_factory=dict)  # lesson no -> task first failed
    certificate: bool = False  # the final drive passed and the certificate issued

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}@{DEMO_EMAIL_DOMAIN}"


# The standard progression: (taught, assessed) task numbers per lesson. Each
# task is taught in one lesson and assessed in a later one (never both in the
# same lesson); the reviews (101, 102) are lessons of their own, at least a
# week after the last task they cover was signed off (the rule is >= 36 hours).
PLAN: list[tuple[list[int], list[int]]] = [
    ([1, 2, 3], []),
    ([4], [1]),
    ([5, 6], [2]),
    ([7, 8], [3]),
    ([9, 10], [4]),
    ([11, 12, 13], [5, 6]),
    ([14, 15, 16, 17], [7, 8]),
    ([], [9]),
    ([], [10]),
    ([], [11, 12, 13]),
    ([], [14, 15, 16, 17]),
    ([], [101]),  # Review 1
    ([18, 20, 21], []),
    ([19, 22], [18, 20, 21]),
    ([], [19, 22]),
    ([], [102]),  # Review 2
    ([], [23]),  # the final drive (audit unit told 2+ business days before)
]

STUDENTS = [
    DemoStudent(
        key="just_started", first="Mia", last="Thompson", age_years=16, age_days=120,
        suburb="Ngunnawal", postcode="2913", school_or_work="Year 11, Gungahlin College",
        licence_number="4417290", lessons=2, first_days_ago=12, last_days_ago=4, start=time(16, 0),
        supervised_hours=Decimal("2.5"), night_hours=Decimal("0"), referral_source="website",
    ),
    DemoStudent(
        key="halfway", first="Liam", last="Chen", age_years=16, age_days=300,
        suburb="Kambah", postcode="2902", school_or_work="Year 11, Lake Tuggeranong College",
        licence_number="4390815", lessons=10, first_days_ago=40, last_days_ago=2, start=time(7, 30),
        supervised_hours=Decimal("22"), night_hours=Decimal("3"), referral_source="referral",
    ),
    DemoStudent(
        key="after_review_1", first="Priya", last="Sharma", age_years=24, age_days=150,
        suburb="Braddon", postcode="2612", school_or_work="Works in Civic (accounting)",
        licence_number="4268350", lessons=15, first_days_ago=95, last_days_ago=3, start=time(10, 0),
        supervised_hours=Decimal("31"), night_hours=Decimal("5.5"), referral_source="google",
        not_yet_competent={11: 15},  # reverse parallel parking needed a second go
    ),
    DemoStudent(
        key="final_drive_ready", first="Noah", last="Williams", age_years=17, age_days=200,
        suburb="Weston", postcode="2611", school_or_work="Year 12, Canberra College",
        licence_number="4102274", lessons=16, first_days_ago=110, last_days_ago=6, start=time(13, 0),
        supervised_hours=Decimal("78.5"), night_hours=Decimal("10.5"), referral_source="facebook",
    ),
    DemoStudent(
        key="completed", first="Grace", last="Nguyen", age_years=26, age_days=40,
        suburb="Gungahlin", postcode="2912", school_or_work="Nurse, Canberra Hospital",
        licence_number="4051938", lessons=17, first_days_ago=150, last_days_ago=9, start=time(11, 0),
        supervised_hours=Decimal("16"), night_hours=Decimal("6"), referral_source="google", certificate=True,
    ),
]


def _plan_for(student: DemoStudent) -> list[tuple[list[int], list[int]]]:
    """The standard plan, with a repeat assessment after any 'not yet competent'."""
    plan: list[tuple[list[int], list[int]]] = []
    for taught, assessed in PLAN:
        plan.append((taught, assessed))
        failed = student.not_yet_competent.get(len(plan))
        if failed is not None:
            plan.append(([], [failed]))
    return plan[: student.lessons]


def _local(day: date, at: time) -> datetime:
    """Canberra wall-clock time on ``day`` as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=BUSINESS_TZ).astimezone(UTC)


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5 or is_act_public_holiday(day):
        day -= timedelta(days=1)
    return day


def _lesson_dates(today: date, student: DemoStudent) -> list[date]:
    """Working days spread over the learner's span, at least two days apart (48 h clears the 36-hour review
    gate), each on or before its even-spaced target: placed from the last lesson backwards, so a cluster of
    holidays (Easter, Christmas) pushes earlier lessons earlier instead of stacking two on one day."""
    n = student.lessons
    span = student.first_days_ago - student.last_days_ago
    targets = [today - timedelta(days=student.first_days_ago - (round(span * i / (n - 1)) if n > 1 else span))
               for i in range(n)]
    dates: list[date] = []
    for target in reversed(targets):
        latest = target if not dates else min(target, dates[-1] - timedelta(days=2))
        dates.append(_weekday_on_or_before(latest))
    dates.reverse()
    return dates


def _birthday(today: date, years: int, days: int) -> date:
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary - timedelta(days=days)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def _person(
    session: Session,
    *,
    email: str,
    role: str,
    first: str,
    last: str,
    phone: str | None,
    suburb: str,
    postcode: str,
    since: datetime,
    date_of_birth: date | None = None,
) -> tuple[User, Profile]:
    user = _add(session, User(email=email, role=role, email_verified_at=since, created_at=since))
    profile = _add(
        session,
        Profile(
            user_id=user.id, first_name=first, last_name=last, email=email, phone=phone,
            date_of_birth=date_of_birth, suburb=suburb, state="ACT", postcode=postcode,
            role=role, onboarded_at=since, created_at=since,
        ),
    )
    return user, profile


def _service(session: Session, slug: str, minutes: int) -> Service:
    service = session.exec(select(Service).where(Service.slug == slug)).first()
    if service is None or not service.is_active:
        service = session.exec(
            select(Service)
            .where(Service.is_active.is_(True), Service.duration_minutes == minutes)
            .order_by(Service.sort_order)
        ).first()
    if service is None:
        raise RuntimeError(f"no active {minutes}-minute service for the demo data (looked for '{slug}')")
    return service


def _upcoming_days(today: date, blocked: set[date]) -> list[date]:
    """Weekdays that are not public holidays, 2-14 days ahead, minus ``blocked``."""
    days = [today + timedelta(days=n) for n in range(2, 15)]
    return [d for d in days if d.weekday() < 5 and not is_act_public_holiday(d) and d not in blocked]


def load_demo_data(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """Create the demo school (see the module docstring). Idempotent; the caller commits."""
    owner_exists = session.exec(
        select(User.id).where(sa.func.lower(User.email) == DEMO_OWNER_EMAIL)
    ).first()
    if owner_exists is not None:
        finished = session.execute(sa.text(
            "SELECT 1 FROM audit_log WHERE event_type = 'DEMO_DATA_LOADED' LIMIT 1")).first()
        if finished is None:
            raise RuntimeError("A previous demo load stopped part-way (it commits in batches); "
                               "reset the database and load it again.")
        return {"status": "already loaded"}

    tasks = {t.task_number: t for t in session.exec(select(CompetencyTask)).all()}
    if not tasks:
        raise RuntimeError("load_reference_data() must run before load_demo_data()")

    now = (now or clock.now()).astimezone(UTC)
    today = now.astimezone(BUSINESS_TZ).date()
    phones = iter(_PHONES)
    counts: dict[str, int] = {}

    def bump(key: str, n: int = 1) -> None:
        counts[key] = counts.get(key, 0) + n

    # ── the owner-instructor ────────────────────────────────────────────────
    school_opened = now - timedelta(days=400)
    owner_phone = next(phones)
    _person(session, email=DEMO_OWNER_EMAIL, role="admin", first="Rob", last="Harrison",
            phone=owner_phone, suburb="Bruce", postcode="2617", since=school_opened)
    instr_user, instr_profile = _person(
        session, email=DEMO_INSTRUCTOR_EMAIL, role="instructor", first="Rob", last="Harrison",
        phone=owner_phone, suburb="Bruce", postcode="2617", since=school_opened,
    )
    bump("users", 2)
    instructor = _add(
        session,
        Instructor(
            user_id=instr_user.id, profile_id=instr_profile.id,
            adi_number="ACT-ADI-4821", adi_expiry=today + timedelta(days=730),
            accreditation_number="CBTA-1187", accreditation_expiry=today + timedelta(days=240),
            vehicle_rego="YNX42D", vehicle_make="Toyota", vehicle_model="Corolla Hybrid",
            vehicle_year=2022, transmission="auto", is_owner=True, hourly_rate_cents=8500,
            territory="Canberra (Belconnen, Gungahlin, Inner North & South, Woden, Weston Creek, Tuggeranong)",
            bio=(
                "Accredited ACT driving instructor running NexDrive Academy. Calm, patient lessons "
                "through the CBT&A log book, from first drive in a quiet car park to the final drive "
                "on the parkways. Dual-control automatic Corolla."
            ),
            default_buffer_minutes=15, max_lessons_per_day=8, status="active",
            verified_at=school_opened, created_at=school_opened,
        ),
    )
    session.refresh(instructor)
    teacher = Actor(role="instructor", user_id=instr_user.id, instructor_id=instructor.id)

    # Availability: 0 = Sunday ... 6 = Saturday. Mon-Fri 07:30-18:00, Sat 08:00-14:00.
    rules_from = today - timedelta(days=365)
    for dow in range(1, 6):
        _add(session, AvailabilityRule(instructor_id=instructor.id, day_of_week=dow,
                                       start_time=time(7, 30), end_time=time(18, 0),
                                       effective_from=rules_from))
    _add(session, AvailabilityRule(instructor_id=instructor.id, day_of_week=6,
                                   start_time=time(8, 0), end_time=time(14, 0), effective_from=rules_from))
    bump("availability_rules", 6)
    day_off = next(d for d in (today + timedelta(days=n) for n in range(8, 30))
                   if d.weekday() < 5 and not is_act_public_holiday(d))
    _add(session, AvailabilityOverride(instructor_id=instructor.id, date=day_off, override_type="blocked",
                                       reason="Day off: car booked in for its service"))
    bump("availability_overrides")

    # ── students, their lessons and progress ───────────────────────────────
    standard = _service(session, "standard-60", 60)
    extended = _service(session, "extended-90", 90)
    review_1 = _service(session, "review-1", 90)
    review_2 = _service(session, "review-2", 90)
    final = _service(session, "final-drive", 90)

    people: dict[str, dict[str, Any]] = {}
    lessons_to_write: list[dict[str, Any]] = []
    for spec in STUDENTS:
        dates = _lesson_dates(today, spec)
        enrolled = dates[0] - timedelta(days=5)
        since = _local(enrolled, time(19, 0))
        dob = _birthday(today, spec.age_years, spec.age_days)
        phone = next(phones)
        user, profile = _person(
            session, email=spec.email, role="student", first=spec.first, last=spec.last, phone=phone,
            suburb=spec.suburb, postcode=spec.postcode, since=since, date_of_birth=dob,
        )
        bump("users")
        plan = _plan_for(spec)
        lesson_rows = []
        for number, (day, (taught, assessed)) in enumerate(zip(dates, plan), start=1):
            review = 101 in assessed or 102 in assessed or 23 in assessed
            minutes = 90 if review or len(taught) >= 3 else 60
            service = (review_1 if 101 in assessed else review_2 if 102 in assessed else final if 23 in assessed
                       else extended if minutes == 90 else standard)
            start = _local(day, spec.start)
            lesson_rows.append({
                "spec": spec, "number": number, "day": day, "start": start,
                "end": start + timedelta(minutes=minutes), "minutes": minutes,
                "taught": taught, "assessed": assessed, "service": service,
                "failed": spec.not_yet_competent.get(number),
            })
        lessons_to_write.extend(lesson_rows)
        professional = Decimal(sum(r["minutes"] for r in lesson_rows)) / 60
        student = _add(
            session,
            Student(
                user_id=user.id, profile_id=profile.id, instructor_id=instructor.id,
                licence_number=spec.licence_number, licence_type="learner",
                licence_expiry=enrolled + timedelta(days=5 * 365), transmission="auto",
                school_or_work=spec.school_or_work,
                total_hours=(professional + spec.supervised_hours).quantize(Decimal("0.01")),
                night_hours=spec.night_hours, professional_hours=professional.quantize(Decimal("0.01")),
                enrollment_date=enrolled, status="active", referral_source=spec.referral_source,
                created_at=since,
            ),
        )
        contact = _add(
            session,
            Contact(
                user_id=user.id, instructor_id=instructor.id, first_name=spec.first, last_name=spec.last,
                email=spec.email, phone=phone, lifecycle_stage="active", lead_score=100,
                source=spec.referral_source, first_contact_at=since - timedelta(days=3),
                last_contact_at=lesson_rows[-1]["end"], total_interactions=len(lesson_rows) + 2,
                notes=f"{DEMO_MARK} Demo student ({spec.key.replace('_', ' ')}).", created_at=since,
            ),
        )
        bump("students")
        bump("contacts")
        people[spec.key] = {"spec": spec, "user": user, "profile": profile, "student": student,
                            "contact": contact, "lessons": lesson_rows}

    # The last lesson of two students came through the booking system and was paid online.
    paid_lessons = {(people["halfway"]["spec"].key, people["halfway"]["lessons"][-1]["number"]),
                    (people["final_drive_ready"]["spec"].key, people["final_drive_ready"]["lessons"][-1]["number"])}

    # Lessons are written in time order across the school: one car, so the
    # odometer climbs, and the signature chain runs chronologically.
    odometer = 41_250
    lessons_to_write.sort(key=lambda r: r["start"])
    for row in lessons_to_write:
        spec: DemoStudent = row["spec"]
        who = people[spec.key]
        student: Student = who["student"]
        failed = row["failed"]
        achieved = [t for t in row["assessed"] if t != failed]

        booking = None
        if (spec.key, row["number"]) in paid_lessons:
            booking = _add(session, Booking(
                instructor_id=instructor.id, student_id=student.id, contact_id=who["contact"].id,
                service_id=row["service"].id, scheduled_date=row["day"], start_time=row["start"],
                end_time=row["end"], duration_minutes=row["minutes"],
                buffer_minutes=instructor.default_buffer_minutes, status="completed",
                payment_status="paid", amount_cents=row["service"].price_cents, booked_via="website",
                booked_by=who["user"].id, suburb=spec.suburb,
                created_at=row["start"] - timedelta(days=6),
            ))
            bump("bookings_completed")

        km = row["minutes"] // 3 + (row["number"] % 5)
        taught_names = ", ".join(tasks[t].name for t in row["taught"])
        achieved_names = ", ".join(tasks[t].name for t in achieved)
        notes = []
        if achieved_names:
            notes.append(f"Assessed competent: {achieved_names}.")
        if failed:
            notes.append(f"{tasks[failed].name}: not yet competent — kerb approach too wide; practise at home.")
        if taught_names:
            notes.append(f"Taught: {taught_names}.")
        if 23 in row["assessed"]:
            # The audit unit is told of the final drive a week before (2 business days is the minimum).
            with clock.pinned(row["start"] - timedelta(days=10)):
                competencies.record_audit_unit_notice(session, teacher, student.id, planned_date=row["day"],
                                                      reference="Demo notice (emailed to the audit unit)")
        # Through the engine, as the instructor's phone does it: record, instructor signs, learner signs on
        # the instructor's device. The clock is the lesson's end, so every rule sees the lesson's own time.
        with clock.pinned(row["end"] + timedelta(minutes=4)):
            lesson = lessons.record_lesson(
                session, teacher, student_id=student.id, booking_id=booking.id if booking else None,
                start_time=None if booking else row["start"], end_time=None if booking else row["end"],
                transmission=student.transmission, odo_start=odometer, odo_end=odometer + km,
                location_suburb=spec.suburb, location_detail="Pick-up from home", comments=" ".join(notes),
                competencies_taught=row["taught"], competencies_assessed=row["assessed"],
                competencies_achieved_auto=achieved, device_info=DEMO_DEVICE)
            device_time = row["end"] + timedelta(minutes=3)
            lessons.sign_lesson(session, teacher, lesson["id"], device_time=device_time,
                                signature_image=_signature_png("Rob Harrison", row["number"]))
            lessons.sign_lesson(session, teacher, lesson["id"], signer_role="student", device_time=device_time,
                                signature_image=_signature_png(f"{spec.first} {spec.last}", row["number"]))
        lesson_id = lesson["id"]
        odometer += km + 23  # the car is driven between lessons too
        bump("lessons")
        bump("signatures", 2)
        bump("student_competencies", len(row["taught"]) + len(row["assessed"]))
        if counts["lessons"] % LESSON_BATCH == 0:
            session.commit()  # chained inserts: a few short transactions, not one huge one

        if booking is not None:
            payment = _add(session, Payment(
                student_id=student.id, contact_id=who["contact"].id, booking_id=booking.id,
                amount_cents=booking.amount_cents, payment_method="card", gateway="local",
                gateway_payment_id=f"demo_{booking.id.hex[:16]}", status="completed",
                completed_at=booking.created_at,
                description=f"{DEMO_MARK} {row['service'].name}", created_at=booking.created_at,
            ))
            booking.lesson_id = lesson_id
            booking.payment_id = payment.id
            session.add(booking)
            session.flush()
            bump("payments")

    # ── the parent of the halfway student ───────────────────────────────────
    liam = people["halfway"]
    linked_at = liam["user"].created_at + timedelta(days=1)
    parent_user, parent_profile = _person(
        session, email=f"michelle.chen@{DEMO_EMAIL_DOMAIN}", role="parent", first="Michelle", last="Chen",
        phone=next(phones), suburb="Kambah", postcode="2902", since=linked_at,
    )
    bump("users")
    parent = _add(session, Parent(user_id=parent_user.id, profile_id=parent_profile.id,
                                  licence_type="full", years_driving=24, created_at=linked_at))
    _add(session, ParentStudentLink(
        parent_id=parent.id, student_id=liam["student"].id, relationship="parent",
        can_view_progress=True, can_view_bookings=True, can_view_payments=True,
        can_view_lesson_notes=False, can_view_bridge_forms=True, can_book_lessons=True,
        status="active", invited_at=linked_at, accepted_at=linked_at + timedelta(hours=2),
        created_at=linked_at,
    ))
    bump("parents")

    # ── log-book drives with supervisors, and the completed learner's certificate ──
    _load_demo_drives(session, people, parent, parent_user, now, today, bump)
    session.commit()
    for who in people.values():
        if who["spec"].certificate:
            final_row = who["lessons"][-1]
            with clock.pinned(final_row["end"] + timedelta(days=1, hours=2)):
                certificates.issue_certificate(
                    session, teacher, who["student"].id, form_serial=f"DEMO {who['spec'].licence_number[-4:]}",
                    instructor_signature=_signature_png("Rob Harrison", 99),
                    student_signature=_signature_png(f"{who['spec'].first} {who['spec'].last}", 99),
                    device_time=final_row["end"] + timedelta(days=1, hours=2))
            session.refresh(who["student"])
            bump("certificates")

    # ── upcoming confirmed bookings (next two weeks) ────────────────────────
    days = _upcoming_days(today, {day_off})
    # The audit unit needs 2 business days' notice of a final drive; allow one more.
    final_day = next((d for d in days if d >= add_business_days(today, 3)), None)
    upcoming = [
        ("just_started", 0, standard, "Next: assess moving off, gears and steering."),
        ("halfway", 1, extended, "Hill starts and give way at Kambah shops."),
        ("after_review_1", 2, standard, "Overtaking and system of vehicle control on the parkways."),
        ("just_started", 4, standard, None),
        ("halfway", 6, standard, None),
    ]
    plan_days: list[tuple[str, date, Service, str | None]] = []
    taken: set[tuple[str, date]] = set()
    for key, index, service, note in upcoming:
        # Around Christmas there are few working days: never book a student twice on one day.
        day = next((d for d in days[index:] + days[:index] if (key, d) not in taken), None)
        if day is not None:
            taken.add((key, day))
            plan_days.append((key, day, service, note))
    if final_day is not None:
        plan_days.append(("final_drive_ready", final_day, final, "Final drive (task 23). Audit unit notified."))
    for key, day, service, note in plan_days:
        who = people[key]
        booking = reserve_slot(
            session, SYSTEM, instructor_id=instructor.id, service_id=service.id,
            start_time=_local(day, who["spec"].start), student_id=who["student"].id,
            contact_id=who["contact"].id, booked_via="admin",
            pickup_address=f"Home, {who['spec'].suburb}", suburb=who["spec"].suburb,
        )
        booking = confirm_booking(session, SYSTEM, booking.id)
        if note:
            booking.booking_notes = note
            session.add(booking)
            session.flush()
        bump("bookings_upcoming")
    noah = people["final_drive_ready"]["student"]
    if final_day is not None:
        noah.estimated_test_date = final_day
        session.add(noah)

    # ── two leads ───────────────────────────────────────────────────────────
    _add(session, Contact(
        instructor_id=instructor.id, first_name="Olivia", last_name="Brown",
        email=f"olivia.brown@{DEMO_EMAIL_DOMAIN}", phone=next(phones), lifecycle_stage="lead",
        lead_score=40, source="website",
        source_detail="Enquiry form: lessons for my daughter (16, learner licence), automatic, Belconnen.",
        first_contact_at=now - timedelta(days=2), last_contact_at=now - timedelta(days=2),
        total_interactions=1, notes=f"{DEMO_MARK} Website enquiry, not yet called back.",
    ))
    _add(session, Contact(
        instructor_id=instructor.id, first_name="Jack", phone=next(phones), lifecycle_stage="lead",
        lead_score=25, source="sms", source_detail="SMS: hi how much for a 1 hr lesson? im in tuggeranong",
        first_contact_at=now - timedelta(hours=20), last_contact_at=now - timedelta(hours=19),
        total_interactions=2, notes=f"{DEMO_MARK} SMS enquiry; price sent by auto-reply.",
    ))
    bump("contacts", 2)
    bump("leads", 2)

    # ── lesson packages, vouchers, and one package bought ───────────────────
    _load_demo_payments(session, people, standard, extended, now, bump)

    summary = {"status": "loaded", **counts}
    record_event(session, SYSTEM, "DEMO_DATA_LOADED", subject_type="instructor", subject_id=instructor.id,
                 details={"email_domain": DEMO_EMAIL_DOMAIN, **counts})
    return summary


LESSON_BATCH = 10  # demo lessons per transaction
SUPERVISORS = {"just_started": ("Karen Thompson", "2718344"), "after_review_1": ("Arjun Sharma", "3390127"),
               "final_drive_ready": ("David Williams", "1987265"), "completed": ("Tom Nguyen", "5541902")}


def _signature_png(name: str, variant: int) -> bytes:
    """A signature-pad PNG with a plausible pen stroke: a looping cursive line for the name, slightly
    different each time (``variant``), on a transparent pad, like the workstation's canvas."""
    from PIL import Image, ImageDraw

    rng = random.Random(f"{name}|{variant}")
    w, h = 420, 140
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    ink = (20, 30, 90, 255)
    x0 = 24 + rng.uniform(-6, 6)
    for word_index, word in enumerate(name.split()[:2]):
        letters = max(3, len(word))
        span = (w - 60) * (0.36 if word_index == 0 else 0.54) * min(1.0, letters / 7)
        base = h * (0.58 if word_index == 0 else 0.62) + rng.uniform(-5, 5)
        steps = letters * 14
        points = []
        loops = letters * 0.9
        for i in range(steps + 1):
            t = i / steps
            radius = 14 + 7 * math.sin(t * math.pi * 3 + variant)
            theta = 2 * math.pi * loops * t
            x = x0 + t * span + radius * 0.55 * math.cos(theta)
            y = base - radius * (0.5 + 0.5 * math.sin(theta)) * (1.6 if i < steps / letters else 1)
            points.append((x + rng.uniform(-0.6, 0.6), y + rng.uniform(-0.6, 0.6)))
        for a, b in zip(points, points[1:]):
            draw.line([a, b], fill=ink, width=rng.choice((2, 3, 3)))
        x0 += span + 22
    flourish = [(30 + rng.uniform(-4, 4), h - 22), (w * 0.45, h - 30 + rng.uniform(-4, 4)),
                (w - 40, h - 26 + rng.uniform(-4, 4))]
    draw.line(flourish, fill=ink, width=2, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _load_demo_drives(session: Session, people: dict[str, dict[str, Any]], parent: Parent, parent_user: User,
                      now: datetime, today: date, bump) -> None:
    """Supervised drives through the log book (day on weekends, night at 21:00 on weekdays), so every
    learner's hours come from records. Liam's are entered and partly confirmed by his mother."""
    for key, who in people.items():
        spec: DemoStudent = who["spec"]
        student: Student = who["student"]
        first_day = who["lessons"][0]["day"]
        cutoff = who["lessons"][-1]["day"] if spec.certificate else today
        if key == "halfway":
            enterer = Actor(role="parent", user_id=parent_user.id, parent_id=parent.id)
            supervisor = {"supervisor_parent_id": parent.id, "supervisor_licence_number": "2846150"}
        else:
            enterer = Actor(role="student", user_id=who["user"].id, student_id=student.id)
            name, licence = SUPERVISORS.get(key, ("A. Supervisor", "1000001"))
            supervisor = {"supervisor_name": name, "supervisor_licence_number": licence}
        days = [first_day + timedelta(days=n) for n in range(1, (cutoff - first_day).days)]
        night_count = math.ceil(float(spec.night_hours) / 1.5)
        nights = [d for d in reversed(days) if d.weekday() < 4][:night_count]
        weekends = [d for d in days if d.weekday() >= 5]
        remaining = int(spec.supervised_hours * 60) - 90 * len(nights)
        per_day = min(240, max(30, math.ceil(remaining / max(1, len(weekends)) / 15) * 15)) if weekends else 0
        plan: list[tuple[datetime, int, list[str], str]] = []
        for d in nights:
            plan.append((_local(d, time(21, 0)), 90, ["main_road", "residential"], "dry"))
        for i, d in enumerate(weekends):
            if remaining <= 0:
                break
            minutes = min(per_day, remaining)
            roads = [["residential", "car_park"], ["main_road", "residential"], ["highway", "main_road"],
                     ["rural", "highway"]][i % 4]
            plan.append((_local(d, time(9, 30)), minutes, roads, "wet" if i % 5 == 3 else "dry"))
            remaining -= minutes
        with clock.pinned(now):
            for i, (start, minutes, roads, weather) in enumerate(sorted(plan)):
                drive = logbook.add_drive(session, enterer, student.id, logbook.DriveInput(
                    start_time=start, end_time=start + timedelta(minutes=minutes), road_conditions=roads,
                    weather=weather, notes="Demo drive", **supervisor))
                bump("supervised_drives")
                if key == "halfway" and i % 2 == 0:  # the supervising parent confirms half of them
                    logbook.confirm_drive(session, enterer, drive["id"])


DEMO_PACKAGES = (
    # name, description, lessons, price, valid days, which lessons ("standard"/"extended")
    ("5 × 60-minute lessons", "Five 60-minute lessons: save $25.", 5, 50000, 180, "standard"),
    ("10 × 60-minute lessons", "Ten 60-minute lessons: save $70. Ideal for working through tasks 1-17.",
     10, 98000, 365, "standard"),
    ("3 × 90-minute lessons", "Three 90-minute lessons for longer drives and review practice: save $15.",
     3, 43500, 180, "extended"),
)
DEMO_VOUCHERS = (
    # code, type, percent, cents, max uses, per student, valid days
    ("WELCOME10", "percentage", 10, None, None, 1, 365),
    ("FREELESSON", "free_lesson", None, None, 20, 1, 90),
)


def _load_demo_payments(session: Session, people: dict[str, dict[str, Any]], standard: Service, extended: Service,
                        now: datetime, bump) -> None:
    """Packages on sale, two vouchers, and Priya's 10-lesson package (bought through the test gateway)."""
    services = {"standard": standard.id, "extended": extended.id}
    by_name: dict[str, Package] = {}
    for name, description, credits, price, days, which in DEMO_PACKAGES:
        package = session.exec(select(Package).where(Package.name == name)).first()
        if package is None:
            package = _add(session, Package(name=name, description=description, total_credits=credits,
                                            price_cents=price, valid_for_days=days,
                                            applicable_services=[services[which]], is_active=True))
            bump("packages")
        by_name[name] = package
    for code, kind, percent, cents, max_uses, per_student, days in DEMO_VOUCHERS:
        if session.exec(select(Voucher).where(Voucher.code == code)).first() is None:
            _add(session, Voucher(code=code, voucher_type=kind, discount_percent=percent, discount_cents=cents,
                                  max_uses=max_uses, max_uses_per_student=per_student, valid_from=now,
                                  valid_until=now + timedelta(days=days), is_active=True))
            bump("vouchers")
    priya = people["after_review_1"]
    ten = by_name["10 × 60-minute lessons"]
    bought = now - timedelta(days=20)
    payment = _add(session, Payment(
        student_id=priya["student"].id, contact_id=priya["contact"].id, package_id=ten.id,
        amount_cents=ten.price_cents, payment_method="card", gateway="local",
        gateway_payment_id=f"demo_pkg_{priya['student'].id.hex[:12]}", status="completed", completed_at=bought,
        description=f"{DEMO_MARK} Lesson package: {ten.name}", created_at=bought,
    ))
    _add(session, StudentPackage(student_id=priya["student"].id, package_id=ten.id, payment_id=payment.id,
                                 credits_total=ten.total_credits, credits_used=3, purchased_at=bought,
                                 expires_at=bought + timedelta(days=ten.valid_for_days), status="active"))
    bump("payments")
    bump("student_packages")
