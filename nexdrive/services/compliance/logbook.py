"""The learner's log book: supervised practice drives and the hours toward the licence test.

* A drive is entered by the learner or a linked parent (``core.access.may_enter_drives``): the
  supervisor is one of the learner's linked parents or typed (name + licence number), with start
  and end, the odometer (optional), road and weather conditions and notes. It must be in the past,
  at most 12 hours long, and not overlap another drive or a lesson of the same learner.
* Day and night minutes are computed from Canberra's sunrise and sunset (``astral``): night is
  from sunset to the next sunrise, whatever the clocks do on daylight-saving Sundays.
* The linked parent who supervised a drive confirms it from their own account; whoever entered a
  drive may edit or delete it until then.
* :func:`logbook_summary` adds everything up from the records each time (no stored counter):
  professional hours from signed lessons, credited 3:1 for the first 10 hours (at most 30), 1:1
  after (:func:`credited_hours`); supervised day and night; the target by age (under 25: 100 h
  including 10 at night; 25 and over: 50 h including 5); what remains; and a weekly series.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from astral import Observer
from astral.sun import sunrise, sunset
from sqlmodel import Session, select

from nexdrive.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_when
from nexdrive.models import Lesson, Parent, ParentStudentLink, Profile, Student, SupervisedDrive
from nexdrive.models.lessons import SIGNED_LESSON_STATUS
from nexdrive.models.logbook import (
    MAX_DRIVE_MINUTES,
    MAX_LICENCE_NUMBER,
    MAX_NOTES,
    MAX_ODOMETER,
    MAX_SUPERVISOR_NAME,
    ROAD_CONDITIONS,
    WEATHER,
)
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor

# Canberra (City Hill); sunrise and sunset differ by well under a minute across the ACT.
CANBERRA = Observer(latitude=-35.2809, longitude=149.1300, elevation=0)

PROFESSIONAL_BONUS_MINUTES = 10 * 60  # the first 10 hours with an instructor count 3:1 ...
PROFESSIONAL_MULTIPLIER = 3  # ... so at most 30 credited hours come from them
MAX_PAST_DAYS = 5 * 366  # a learner licence does not last longer
MAX_KM_PER_DRIVE = 1500
MAX_PAGE = 200
WEEKS_IN_SERIES = 104

ROAD_LABELS = {"residential": "Residential streets", "main_road": "Main roads", "highway": "Highway / freeway",
               "rural": "Rural roads", "city": "City centre", "gravel": "Gravel / unsealed", "car_park": "Car park"}
WEATHER_LABELS = {"dry": "Dry", "wet": "Wet", "fog": "Fog", "wind": "Strong wind", "storm": "Storm"}
_LICENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")


# ─────────────────────────────────────────────────────────────────────────────
# Pure rules: sun, credit, target
# ─────────────────────────────────────────────────────────────────────────────


@lru_cache(maxsize=4096)
def sun_times(day: date) -> tuple[datetime, datetime]:
    """Sunrise and sunset in Canberra on this Canberra calendar day (aware, UTC)."""
    rise = sunrise(CANBERRA, day, tzinfo=BUSINESS_TZ)
    fall = sunset(CANBERRA, day, tzinfo=BUSINESS_TZ)
    return rise.astimezone(timezone.utc), fall.astimezone(timezone.utc)


def _whole_minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def split_day_night(start: datetime, end: datetime) -> tuple[int, int]:
    """(day minutes, night minutes) of a drive; they add up to its whole minutes.

    Daylight is sunrise to sunset of each Canberra day the drive touches; everything else is night.
    Real elapsed time is used, so a drive across a daylight-saving change counts the minutes driven.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("aware datetimes only")
    # In UTC: Python subtracts two times of the same zone by the wall clock, which is wrong across DST.
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    total = int((end - start).total_seconds() // 60)
    if total <= 0:
        return 0, 0
    first = start.astimezone(BUSINESS_TZ).date() - timedelta(days=1)
    last = end.astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    daylight = 0.0
    day = first
    while day <= last:
        rise, fall = sun_times(day)
        overlap = (min(end, fall) - max(start, rise)).total_seconds()
        if overlap > 0:
            daylight += overlap
        day += timedelta(days=1)
    day_minutes = min(total, int(round(daylight / 60)))
    return day_minutes, total - day_minutes


def credited_minutes(professional_minutes: int) -> int:
    """Minutes credited toward the log-book target for this many minutes with an accredited instructor."""
    minutes = max(0, int(professional_minutes))
    bonus = min(minutes, PROFESSIONAL_BONUS_MINUTES)
    return bonus * PROFESSIONAL_MULTIPLIER + (minutes - bonus)


def credited_hours(professional_minutes: int) -> float:
    """3:1 for the first 10 professional hours (at most 30 credited), 1:1 after: 12 h -> 32 h."""
    return round(credited_minutes(professional_minutes) / 60, 2)


def age_on(date_of_birth: date, day: date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def target_for_age(age: int | None) -> dict[str, int]:
    """Hours a learner must log: under 25 (or age unknown) 100 incl. 10 at night; 25 and over 50 incl. 5."""
    if age is not None and age >= 25:
        return {"total_hours": 50, "night_hours": 5}
    return {"total_hours": 100, "night_hours": 10}


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


# ─────────────────────────────────────────────────────────────────────────────
# Input
# ─────────────────────────────────────────────────────────────────────────────


@dataclass
class DriveInput:
    """What a learner or parent types for one drive. Naive times are Canberra wall-clock times."""

    start_time: datetime
    end_time: datetime
    supervisor_licence_number: str
    supervisor_parent_id: uuid.UUID | None = None
    supervisor_name: str | None = None
    odo_start: int | None = None
    odo_end: int | None = None
    road_conditions: list[str] = field(default_factory=list)
    weather: str | None = None
    notes: str | None = None


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=BUSINESS_TZ)
    return _whole_minute(dt.astimezone(timezone.utc))


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _supervisor(session: Session, student_id: uuid.UUID, data: DriveInput) -> tuple[uuid.UUID | None, str]:
    if data.supervisor_parent_id is not None:
        row = session.exec(
            select(Parent, Profile).join(Profile, Profile.id == Parent.profile_id)
            .join(ParentStudentLink, ParentStudentLink.parent_id == Parent.id)
            .where(Parent.id == data.supervisor_parent_id, ParentStudentLink.student_id == student_id,
                   ParentStudentLink.status == "active")
        ).first()
        if row is None:
            raise ValidationFailed("Choose one of the learner's linked parents, or type the supervisor's name.",
                                   field="supervisor_parent_id")
        parent, profile = row
        return parent.id, f"{profile.first_name} {profile.last_name}".strip()[:MAX_SUPERVISOR_NAME]
    name = _clean_text(data.supervisor_name)
    if not name:
        raise ValidationFailed("Enter the supervising driver's name.", field="supervisor_name")
    if len(name) > MAX_SUPERVISOR_NAME:
        raise ValidationFailed(f"The supervisor's name can be at most {MAX_SUPERVISOR_NAME} characters.",
                               field="supervisor_name")
    return None, name


def _validate(session: Session, data: DriveInput) -> dict[str, Any]:
    start, end = _aware(data.start_time), _aware(data.end_time)
    if end <= start:
        raise ValidationFailed("The drive must end after it starts.", field="end_time")
    minutes = int((end - start).total_seconds() // 60)
    if minutes > MAX_DRIVE_MINUTES:
        raise ValidationFailed("A drive can be at most 12 hours long; enter long trips as separate drives.",
                               field="end_time")
    now = clock.now(session)
    if end > now:
        raise ValidationFailed("A drive can't end in the future: log it once it's finished.", field="end_time")
    if start < now - timedelta(days=MAX_PAST_DAYS):
        raise ValidationFailed("That date is too long ago for a learner's log book.", field="start_time")
    licence = _clean_text(data.supervisor_licence_number)
    if not licence:
        raise ValidationFailed("Enter the supervising driver's licence number.", field="supervisor_licence_number")
    if len(licence) > MAX_LICENCE_NUMBER or not _LICENCE_RE.match(licence):
        raise ValidationFailed(f"A licence number is letters and digits, at most {MAX_LICENCE_NUMBER} characters.",
                               field="supervisor_licence_number")
    for name, value in (("odo_start", data.odo_start), ("odo_end", data.odo_end)):
        if value is not None and not 0 <= int(value) <= MAX_ODOMETER:
            raise ValidationFailed("Enter the odometer in whole kilometres (0 to 9,999,999).", field=name)
    if data.odo_start is not None and data.odo_end is not None:
        if data.odo_end < data.odo_start:
            raise ValidationFailed("The odometer at the end can't be lower than at the start.", field="odo_end")
        if data.odo_end - data.odo_start > MAX_KM_PER_DRIVE:
            raise ValidationFailed(f"More than {MAX_KM_PER_DRIVE:,} km in one drive: check the odometer.",
                                   field="odo_end")
    roads = list(dict.fromkeys(data.road_conditions or []))
    unknown = [r for r in roads if r not in ROAD_CONDITIONS]
    if unknown:
        raise ValidationFailed("Unknown road condition: " + ", ".join(unknown), field="road_conditions",
                               allowed=list(ROAD_CONDITIONS))
    weather = _clean_text(data.weather)
    if weather is not None and weather not in WEATHER:
        raise ValidationFailed("Unknown weather.", field="weather", allowed=list(WEATHER))
    notes = _clean_text(data.notes)
    if notes is not None and len(notes) > MAX_NOTES:
        raise ValidationFailed(f"Notes can be at most {MAX_NOTES} characters.", field="notes")
    day_minutes, night_minutes = split_day_night(start, end)
    return {"start_time": start, "end_time": end, "total_minutes": minutes, "day_minutes": day_minutes,
            "night_minutes": night_minutes, "odo_start": data.odo_start, "odo_end": data.odo_end,
            "road_conditions": roads, "weather": weather, "notes": notes, "supervisor_licence_number": licence}


def _lock_learner(session: Session, student_id: uuid.UUID) -> None:
    """Serialise drive writes per learner, so two devices can't both save overlapping drives."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended('supervised_drives:' || :s, 0))"),
                    {"s": str(student_id)})


def _refuse_overlap(session: Session, student_id: uuid.UUID, start: datetime, end: datetime,
                    exclude: uuid.UUID | None) -> None:
    query = select(SupervisedDrive).where(SupervisedDrive.student_id == student_id,
                                          SupervisedDrive.start_time < end, SupervisedDrive.end_time > start)
    if exclude is not None:
        query = query.where(SupervisedDrive.id != exclude)
    other = session.exec(query.limit(1)).first()
    if other is not None:
        raise ValidationFailed(f"This overlaps another drive ({au_when(other.start_time, other.end_time)}).",
                               field="start_time")
    lesson = session.exec(select(Lesson).where(Lesson.student_id == student_id, Lesson.start_time < end,
                                               Lesson.end_time > start).limit(1)).first()
    if lesson is not None:
        raise ValidationFailed(
            f"This overlaps lesson {lesson.lesson_number} ({au_when(lesson.start_time, lesson.end_time)}).",
            field="start_time")


# ─────────────────────────────────────────────────────────────────────────────
# Shapes
# ─────────────────────────────────────────────────────────────────────────────


def _drive_dict(session: Session, actor: Actor, d: SupervisedDrive) -> dict[str, Any]:
    confirmed = d.confirmed_at is not None
    return {
        "id": d.id, "student_id": d.student_id, "entered_by_user_id": d.entered_by_user_id,
        "entered_by_role": d.entered_by_role, "supervisor_parent_id": d.supervisor_parent_id,
        "supervisor_name": d.supervisor_name, "supervisor_licence_number": d.supervisor_licence_number,
        "start_time": d.start_time, "end_time": d.end_time, "total_minutes": d.total_minutes,
        "day_minutes": d.day_minutes, "night_minutes": d.night_minutes, "odo_start": d.odo_start,
        "odo_end": d.odo_end,
        "distance_km": (d.odo_end - d.odo_start) if d.odo_start is not None and d.odo_end is not None else None,
        "road_conditions": list(d.road_conditions or []), "weather": d.weather, "notes": d.notes,
        "confirmed": confirmed, "confirmed_at": d.confirmed_at, "confirmed_by_user_id": d.confirmed_by_user_id,
        "when": au_when(d.start_time, d.end_time),
        "can_edit": not confirmed and access.may_change_drive(session, actor, d),
        "can_confirm": not confirmed and access.may_confirm_drive(session, actor, d),
        "created_at": d.created_at, "updated_at": d.updated_at,
    }


def _load(session: Session, actor: Actor, drive_id: uuid.UUID, *, lock: bool = False) -> SupervisedDrive:
    access.require_signed_in(actor)
    query = select(SupervisedDrive).where(SupervisedDrive.id == drive_id)
    drive = session.exec(query.with_for_update() if lock else query).first()
    visible = drive is not None and access.can_access_student(session, actor, drive.student_id, "logbook")
    return access.require_visible(actor, drive, visible, "drive")


# ─────────────────────────────────────────────────────────────────────────────
# Use cases
# ─────────────────────────────────────────────────────────────────────────────


def linked_supervisors(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """The learner's linked parents, to choose as a drive's supervisor."""
    access.require_student(session, actor, student_id, "logbook")
    rows = session.exec(
        select(Parent.id, Profile.first_name, Profile.last_name)
        .join(Profile, Profile.id == Parent.profile_id)
        .join(ParentStudentLink, ParentStudentLink.parent_id == Parent.id)
        .where(ParentStudentLink.student_id == student_id, ParentStudentLink.status == "active")
        .order_by(Profile.first_name, Profile.last_name)
    ).all()
    return [{"parent_id": pid, "name": f"{first} {last}".strip()} for pid, first, last in rows]


def add_drive(session: Session, actor: Actor, student_id: uuid.UUID, data: DriveInput) -> dict[str, Any]:
    """Record a supervised drive for the learner (the learner, or a linked parent)."""
    access.require_signed_in(actor)
    if not access.may_enter_drives(session, actor, student_id):
        raise Forbidden("Only the learner or a linked parent can add drives to this log book.")
    if session.get(Student, student_id) is None:
        raise NotFound("No such student.")
    values = _validate(session, data)
    parent_id, name = _supervisor(session, student_id, data)
    _lock_learner(session, student_id)
    _refuse_overlap(session, student_id, values["start_time"], values["end_time"], None)
    drive = SupervisedDrive(student_id=student_id, entered_by_user_id=actor.user_id,
                            entered_by_role="student" if actor.is_student else "parent",
                            supervisor_parent_id=parent_id, supervisor_name=name, **values)
    session.add(drive)
    session.flush()
    audit.record_event(session, actor, "LOGBOOK_DRIVE_ADDED", subject_type="supervised_drive", subject_id=drive.id,
                       details={"student_id": str(student_id), "total_minutes": drive.total_minutes,
                                "night_minutes": drive.night_minutes})
    session.refresh(drive)
    return _drive_dict(session, actor, drive)


def update_drive(session: Session, actor: Actor, drive_id: uuid.UUID, data: DriveInput) -> dict[str, Any]:
    """Whoever entered the drive corrects it, until the supervisor has confirmed it."""
    drive = _load(session, actor, drive_id, lock=True)
    if not access.may_change_drive(session, actor, drive):
        raise Forbidden("Only the person who entered this drive can change it.")
    if drive.confirmed_at is not None:
        raise InvalidState("This drive has been confirmed by its supervisor and can no longer be changed.")
    values = _validate(session, data)
    parent_id, name = _supervisor(session, drive.student_id, data)
    _lock_learner(session, drive.student_id)
    _refuse_overlap(session, drive.student_id, values["start_time"], values["end_time"], drive.id)
    for key, value in values.items():
        setattr(drive, key, value)
    drive.supervisor_parent_id, drive.supervisor_name = parent_id, name
    session.add(drive)
    session.flush()
    audit.record_event(session, actor, "LOGBOOK_DRIVE_UPDATED", subject_type="supervised_drive", subject_id=drive.id,
                       details={"student_id": str(drive.student_id), "total_minutes": drive.total_minutes,
                                "night_minutes": drive.night_minutes})
    session.refresh(drive)
    return _drive_dict(session, actor, drive)


def delete_drive(session: Session, actor: Actor, drive_id: uuid.UUID) -> None:
    drive = _load(session, actor, drive_id, lock=True)
    if not access.may_change_drive(session, actor, drive):
        raise Forbidden("Only the person who entered this drive can delete it.")
    if drive.confirmed_at is not None:
        raise InvalidState("This drive has been confirmed by its supervisor and can no longer be deleted.")
    details = {"student_id": str(drive.student_id), "start_time": drive.start_time.isoformat(),
               "total_minutes": drive.total_minutes, "supervisor_name": drive.supervisor_name}
    session.delete(drive)
    session.flush()
    audit.record_event(session, actor, "LOGBOOK_DRIVE_DELETED", subject_type="supervised_drive", subject_id=drive_id,
                       details=details)


def confirm_drive(session: Session, actor: Actor, drive_id: uuid.UUID) -> dict[str, Any]:
    """The linked parent who supervised the drive vouches for it; after that nobody can change it."""
    drive = _load(session, actor, drive_id, lock=True)
    if not access.may_confirm_drive(session, actor, drive):
        raise Forbidden("Only the parent who supervised this drive can confirm it, from their own account.")
    if drive.confirmed_at is not None:
        raise InvalidState("This drive is already confirmed.")
    drive.confirmed_at = clock.now(session)
    drive.confirmed_by_user_id = actor.user_id
    session.add(drive)
    session.flush()
    audit.record_event(session, actor, "LOGBOOK_DRIVE_CONFIRMED", subject_type="supervised_drive",
                       subject_id=drive.id, details={"student_id": str(drive.student_id)})
    session.refresh(drive)
    return _drive_dict(session, actor, drive)


def get_drive(session: Session, actor: Actor, drive_id: uuid.UUID) -> dict[str, Any]:
    return _drive_dict(session, actor, _load(session, actor, drive_id))


def list_drives(session: Session, actor: Actor, student_id: uuid.UUID, *, limit: int = 50,
                offset: int = 0) -> list[dict[str, Any]]:
    """The learner's drives, newest first."""
    access.require_student(session, actor, student_id, "logbook")
    limit, offset = max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))
    rows = session.exec(select(SupervisedDrive).where(SupervisedDrive.student_id == student_id)
                        .order_by(SupervisedDrive.start_time.desc(), SupervisedDrive.id)
                        .limit(limit).offset(offset)).all()
    return [_drive_dict(session, actor, d) for d in rows]


def _signed_lessons(session: Session, student_id: uuid.UUID) -> list[tuple[datetime, datetime]]:
    """Signed lessons that stand (a lesson replaced by a signed correction counts once, as corrected)."""
    corrected = select(Lesson.correction_of).where(Lesson.student_id == student_id,
                                                   Lesson.correction_of.is_not(None),
                                                   Lesson.status == SIGNED_LESSON_STATUS)
    rows = session.exec(select(Lesson.start_time, Lesson.end_time).where(
        Lesson.student_id == student_id, Lesson.status == SIGNED_LESSON_STATUS, Lesson.signed_at.is_not(None),
        Lesson.id.not_in(corrected)).order_by(Lesson.start_time)).all()
    return [(s, e) for s, e in rows]


def _week_of(dt: datetime) -> date:
    local_day = dt.astimezone(BUSINESS_TZ).date()
    return local_day - timedelta(days=local_day.weekday())


def logbook_summary(session: Session, actor: Actor, student_id: uuid.UUID) -> dict[str, Any]:
    """The learner's hours, computed from the records now: nothing here is a stored total."""
    student = access.require_student(session, actor, student_id, "logbook")
    profile = session.get(Profile, student.profile_id)
    today = clock.today(session)
    dob = profile.date_of_birth if profile else None
    age = age_on(dob, today) if dob else None
    target = target_for_age(age)

    lessons = _signed_lessons(session, student_id)
    drives = session.exec(select(SupervisedDrive).where(SupervisedDrive.student_id == student_id)
                          .order_by(SupervisedDrive.start_time)).all()

    weeks: dict[date, dict[str, int]] = {}

    def bucket(dt: datetime) -> dict[str, int]:
        return weeks.setdefault(_week_of(dt), {"supervised_minutes": 0, "night_minutes": 0,
                                               "professional_minutes": 0})

    professional = professional_night = 0
    for start, end in lessons:
        minutes = int((end.astimezone(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() // 60)
        professional += minutes
        professional_night += split_day_night(start, end)[1]
        bucket(start)["professional_minutes"] += minutes
    supervised_day = supervised_night = unconfirmed = unconfirmed_minutes = 0
    for d in drives:
        supervised_day += d.day_minutes
        supervised_night += d.night_minutes
        if d.confirmed_at is None:
            unconfirmed += 1
            unconfirmed_minutes += d.total_minutes
        b = bucket(d.start_time)
        b["supervised_minutes"] += d.total_minutes
        b["night_minutes"] += d.night_minutes

    credited = credited_minutes(professional)
    supervised = supervised_day + supervised_night
    total = credited + supervised
    night = supervised_night + professional_night
    total_target, night_target = target["total_hours"] * 60, target["night_hours"] * 60

    series: list[dict[str, Any]] = []
    if weeks:
        first, last = min(weeks), max(weeks)
        first = max(first, last - timedelta(weeks=WEEKS_IN_SERIES - 1))
        running_prof = sum(w["professional_minutes"] for k, w in weeks.items() if k < first)
        running_sup = sum(w["supervised_minutes"] for k, w in weeks.items() if k < first)
        week = first
        while week <= last:
            w = weeks.get(week, {"supervised_minutes": 0, "night_minutes": 0, "professional_minutes": 0})
            running_prof += w["professional_minutes"]
            running_sup += w["supervised_minutes"]
            series.append({"week_start": week, "label": au_date(week, weekday=False, year=False), **w,
                           "cumulative_hours": _hours(credited_minutes(running_prof) + running_sup)})
            week += timedelta(weeks=1)

    return {
        "student_id": student_id,
        "age": age,
        "age_known": age is not None,
        "target_total_hours": target["total_hours"],
        "target_night_hours": target["night_hours"],
        "professional_minutes": professional,
        "professional_hours": _hours(professional),
        "professional_night_minutes": professional_night,
        "credited_hours": credited_hours(professional),
        "supervised_day_hours": _hours(supervised_day),
        "supervised_night_hours": _hours(supervised_night),
        "supervised_hours": _hours(supervised),
        "night_hours": _hours(night),
        "total_hours": _hours(total),
        "remaining_hours": _hours(max(0, total_target - total)),
        "remaining_night_hours": _hours(max(0, night_target - night)),
        "target_met": total >= total_target and night >= night_target,
        "drives": len(drives),
        "unconfirmed_drives": unconfirmed,
        "unconfirmed_hours": _hours(unconfirmed_minutes),
        "lessons": len(lessons),
        "weekly": series,
    }


__all__ = [
    "CANBERRA", "DriveInput", "ROAD_LABELS", "WEATHER_LABELS", "add_drive", "age_on", "confirm_drive",
    "credited_hours", "credited_minutes", "delete_drive", "get_drive", "linked_supervisors", "list_drives",
    "logbook_summary", "split_day_night", "sun_times", "target_for_age", "update_drive",
]
