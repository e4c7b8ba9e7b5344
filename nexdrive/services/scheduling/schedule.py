"""An instructor's own schedule: weekly hours, days off and extra hours, and the calendar they make.

Access: an instructor edits only their own schedule; the administrator (and the
system) any; everyone else is refused. Times are Canberra wall-clock times
(docs/decisions/0008-time-and-money-formats.md): weekly hours are stored as TIME values per day of the week
(0 = Sunday ... 6 = Saturday) and the availability engine turns them into
instants day by day, so daylight-saving changes need nothing here.

Changing the weekly hours never rewrites history: the rules in force end
yesterday (or are switched off if they had not started yet) and the new pattern
starts today. Time off never cancels a lesson: the caller gets the lessons it
overlaps so the instructor can move them.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.models import AvailabilityOverride, AvailabilityRule, Instructor, Service
from nexdrive.services.core import audit, clock
from nexdrive.services.scheduling import availability
from nexdrive.services.scheduling import booking
from nexdrive.services.scheduling import holidays
from nexdrive.services.core.actors import Actor
from nexdrive.errors import Forbidden, NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, parse_au_date

UTC = timezone.utc
STEP_MINUTES = 15
MAX_WINDOWS_PER_DAY = 3
MAX_PREVIEW_DAYS = 62
MAX_DAYS_AHEAD = 730  # overrides more than two years out are almost always a typo
MAX_REASON = 200
PREVIEW_SERVICE = "standard-60"
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
LESSON_STATUSES = ("held", "confirmed", "in_progress", "completed")
LIVE_STATUSES = ("held", "confirmed")


# ─────────────────────────────────────────────────────────────────────────────
# Small helpers
# ─────────────────────────────────────────────────────────────────────────────

def _today(session: Session) -> date:
    return clock.today(session)  # the transaction's date in Canberra (or the pinned clock in tests)


def _instructor(session: Session, actor: Actor, instructor_id: uuid.UUID | str) -> Instructor:
    """The instructor whose schedule ``actor`` may edit (own only, or admin/system)."""
    if not actor.is_school:
        raise Forbidden("You can only change your own availability.")
    try:
        instructor_id = uuid.UUID(str(instructor_id))
    except ValueError:
        raise NotFound("No such instructor.") from None
    if actor.sees_everything:
        pass
    elif actor.is_instructor and actor.instructor_id == instructor_id:
        pass
    else:
        raise Forbidden("You can only change your own availability.")
    instructor = session.get(Instructor, instructor_id)
    if instructor is None:
        raise NotFound("No such instructor.")
    return instructor


def whose_schedule(session: Session, actor: Actor, wanted: uuid.UUID | str | None = None) -> dict:
    """Which instructor's schedule to show: an instructor's own; for the administrator ``wanted``
    or else the owner-instructor. Returns ``{"id", "name"}``."""
    if actor.is_instructor:
        wanted = actor.instructor_id
    elif actor.sees_everything and not wanted:
        wanted = session.execute(sa.text("SELECT id FROM instructors WHERE status = 'active' "
                                         "ORDER BY is_owner DESC, created_at LIMIT 1")).scalar()
        if wanted is None:
            raise NotFound("There is no instructor yet.")
    instructor = _instructor(session, actor, wanted)
    name = session.execute(sa.text("SELECT first_name || ' ' || last_name FROM profiles WHERE id = :p"),
                           {"p": instructor.profile_id}).scalar() or ""
    return {"id": instructor.id, "name": name}


def _lock(session: Session, instructor: Instructor) -> None:
    """The same per-instructor lock booking.reserve_slot takes, so a booking and an hours change queue."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": instructor.lock_key})


def hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def wall_label(t: time | None) -> str:
    """09:30 -> '9:30 am' (a wall-clock time, no date or zone)."""
    if t is None:
        return ""
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def _minutes_label(m: int) -> str:
    return "midnight" if m >= 1440 else wall_label(time(m // 60, m % 60))


def short_day(d: date) -> str:
    """Tue 3 Mar."""
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"


def _parse_time(value, field: str, label: str) -> time:
    if isinstance(value, time):
        t = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValidationFailed(f"Please choose the {label}.", field=field)
        try:
            t = time.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(f"Please enter the {label} like 09:30.", field=field) from None
    if t.second or t.microsecond:
        raise ValidationFailed(f"Please enter the {label} in whole minutes.", field=field)
    if t.minute % STEP_MINUTES:
        raise ValidationFailed(f"Please use quarter hours for the {label} (e.g. 9:00, 9:15, 9:30, 9:45).",
                               field=field)
    return t.replace(tzinfo=None)


def _parse_range(start, end, field: str) -> tuple[time, time]:
    s = _parse_time(start, f"{field}.start", "start time")
    e = _parse_time(end, f"{field}.end", "finish time")
    if e <= s:
        raise ValidationFailed("The finish time must be after the start time.", field=f"{field}.end")
    return s, e


def _parse_day(value, today: date) -> date:
    if isinstance(value, datetime):
        value = value.astimezone(BUSINESS_TZ).date() if value.tzinfo else value.date()
    if not isinstance(value, date):
        if not str(value or "").strip():
            raise ValidationFailed("Please choose a date.", field="date")
        try:
            value = parse_au_date(str(value))  # dd/mm/yyyy as typed (ISO from the API)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="date") from None
    if value < today:
        raise ValidationFailed("That date has already passed. Please choose today or a later date.", field="date")
    if value > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed("Please choose a date within the next two years.", field="date")
    return value


def _clean_reason(reason: str | None) -> str | None:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"Please keep the reason under {MAX_REASON} characters.", field="reason")
    return reason or None


def _instant(d: date, t: time) -> datetime:
    """A Canberra wall time as an instant; a time the clocks skip moves to when they jump."""
    minute = datetime.combine(d, t)
    while True:
        instant = availability.wall_to_instant(minute.date(), minute.time())
        if instant is not None:
            return instant
        minute += timedelta(minutes=1)


def _day_bounds(d: date) -> tuple[datetime, datetime]:
    return (datetime.combine(d, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC),
            datetime.combine(d + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).astimezone(UTC))


def _holiday_names(session: Session, first: date, last: date) -> dict[date, str]:
    names: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        for d, name in holidays.act_public_holidays(year).items():
            if first <= d <= last:
                names[d] = name
    for row in session.execute(sa.text("SELECT date, name FROM public_holidays WHERE date BETWEEN :a AND :b "
                                       "ORDER BY jurisdiction"), {"a": first, "b": last}):
        names.setdefault(row.date, row.name)
    return names


# ─────────────────────────────────────────────────────────────────────────────
# Weekly hours
# ─────────────────────────────────────────────────────────────────────────────

def _rule_view(r: AvailabilityRule) -> dict:
    return {"id": str(r.id), "day_of_week": r.day_of_week, "day_name": DAY_NAMES[r.day_of_week],
            "start": hhmm(r.start_time), "end": hhmm(r.end_time),
            "label": f"{wall_label(r.start_time)} – {wall_label(r.end_time)}",
            "effective_from": r.effective_from.isoformat() if r.effective_from else None,
            "effective_until": r.effective_until.isoformat() if r.effective_until else None}


def _current_rules(session: Session, instructor_id: uuid.UUID, today: date) -> list[AvailabilityRule]:
    return list(session.exec(
        select(AvailabilityRule).where(
            AvailabilityRule.instructor_id == instructor_id,
            AvailabilityRule.is_active.is_(True),
            sa.or_(AvailabilityRule.effective_until.is_(None), AvailabilityRule.effective_until >= today),
        ).order_by(AvailabilityRule.day_of_week, AvailabilityRule.start_time)
    ).all())


def weekly_hours(session: Session, actor: Actor, instructor_id: uuid.UUID) -> list[dict]:
    """The weekly pattern in force from today (0 = Sunday ... 6 = Saturday), Canberra wall-clock times."""
    instructor = _instructor(session, actor, instructor_id)
    return [_rule_view(r) for r in _current_rules(session, instructor.id, _today(session))]


def validate_windows(windows) -> list[tuple[int, time, time]]:
    """Check a whole weekly pattern; every problem is reported (``fields``), the first one as the message.

    Field names are ``hours.<day>.<n>.start|end`` where n counts that day's windows in the order given.
    """
    parsed: list[tuple[int, time, time]] = []
    problems: list[dict] = []
    per_day: dict[int, list[tuple[time, time, str]]] = {}
    for item in windows or []:
        try:
            day, start, end = item
            day = int(day)
        except (TypeError, ValueError):
            problems.append({"field": "hours", "message": "Each window needs a day, a start and a finish time."})
            continue
        if not 0 <= day <= 6:
            problems.append({"field": "hours", "message": "Choose a day of the week."})
            continue
        n = len(per_day.setdefault(day, []))
        field = f"hours.{day}.{n}"
        try:
            s, e = _parse_range(start, end, field)
        except ValidationFailed as exc:
            per_day[day].append((time(0), time(0), field))  # keep the numbering in step with the form
            problems.append({"field": exc.details["field"], "message": exc.message})
            continue
        per_day[day].append((s, e, field))
        parsed.append((day, s, e))
    for day, items in per_day.items():
        if len(items) > MAX_WINDOWS_PER_DAY:
            problems.append({"field": items[MAX_WINDOWS_PER_DAY][2] + ".start",
                             "message": f"At most {MAX_WINDOWS_PER_DAY} blocks of hours on {DAY_NAMES[day]}."})
        real = sorted((s, e, f) for s, e, f in items if e > s)
        for (s1, e1, _), (s2, _e2, f2) in zip(real, real[1:]):
            if s2 < e1:
                problems.append({"field": f2 + ".start",
                                 "message": f"This overlaps {wall_label(s1)} – {wall_label(e1)} on {DAY_NAMES[day]}."})
    if problems:
        raise ValidationFailed(problems[0]["message"], field=problems[0]["field"], fields=problems)
    return sorted(parsed)


def set_weekly_hours(session: Session, actor: Actor, instructor_id: uuid.UUID, windows) -> dict:
    """Replace the weekly pattern from today (Canberra date); history is kept.

    ``windows`` is a list of ``(day_of_week, "HH:MM", "HH:MM")``. Returns the new pattern
    (``hours``) and the upcoming lessons that now fall outside it (``outside_hours``; never cancelled).
    """
    instructor = _instructor(session, actor, instructor_id)
    new = validate_windows(windows)
    _lock(session, instructor)
    today = _today(session)
    current = _current_rules(session, instructor.id, today)
    before = [(r.day_of_week, r.start_time, r.end_time) for r in current]
    changed = sorted(before) != new or any(r.effective_from and r.effective_from > today for r in current)
    if changed:
        yesterday = today - timedelta(days=1)
        for r in current:
            if r.effective_from is not None and r.effective_from <= yesterday:
                r.effective_until = yesterday  # keep what applied until now
            else:
                r.is_active = False  # had not started yet: nothing to keep
            session.add(r)
        session.flush()
        for day, s, e in new:
            session.add(AvailabilityRule(instructor_id=instructor.id, day_of_week=day, start_time=s, end_time=e,
                                         effective_from=today))
        session.flush()
        audit.record_event(session, actor, "availability.weekly_hours_changed", subject_type="instructor",
                           subject_id=instructor.id,
                           details={"effective_from": today.isoformat(),
                                    "before": [[d, hhmm(s), hhmm(e)] for d, s, e in sorted(before)],
                                    "after": [[d, hhmm(s), hhmm(e)] for d, s, e in new]})
    return {"changed": changed, "effective_from": today.isoformat(),
            "hours": [_rule_view(r) for r in _current_rules(session, instructor.id, today)],
            "outside_hours": _lessons_outside_hours(session, instructor.id, today)}


def _lessons_outside_hours(session: Session, instructor_id: uuid.UUID, today: date) -> list[dict]:
    """Upcoming live lessons that no working window (after days off and extra hours) covers."""
    now = session.execute(sa.text("SELECT now()")).scalar_one()
    rows = _lesson_rows(session, instructor_id, now, now + timedelta(days=MAX_DAYS_AHEAD), statuses=LIVE_STATUSES)
    if not rows:
        return []
    last = max(r["day"] for r in rows)
    cal = availability.load_calendars(session, [instructor_id], today, last).get(instructor_id)
    holiday_days = availability.holidays_between(session, today, last)
    out = []
    for r in rows:
        windows = availability.windows_for_day(cal, r["day"], holiday_days) if cal else []
        s = r["start_local"].hour * 60 + r["start_local"].minute
        e = s + r["duration_minutes"]
        if not any(ws <= s and e <= we for ws, we in windows):
            out.append(_public_lesson(r))
    return out


# ─────────────────────────────────────────────────────────────────────────────
# Days off and extra hours
# ─────────────────────────────────────────────────────────────────────────────

def _override_view(o: AvailabilityOverride, holiday: str | None = None) -> dict:
    whole = o.start_time is None
    return {"id": str(o.id), "date": o.date.isoformat(), "label": au_date(o.date, year=False),
            "short_label": short_day(o.date), "kind": o.override_type,
            "kind_label": "Time off" if o.override_type == "blocked" else "Extra hours",
            "whole_day": whole, "start": "" if whole else hhmm(o.start_time), "end": "" if whole else hhmm(o.end_time),
            "time_label": "All day" if whole else f"{wall_label(o.start_time)} – {wall_label(o.end_time)}",
            "reason": o.reason or "", "holiday": holiday or ""}


def _lesson_rows(session: Session, instructor_id: uuid.UUID, lo: datetime, hi: datetime,
                 statuses=LESSON_STATUSES) -> list[dict]:
    """Lessons of this instructor overlapping [lo, hi), with the service and learner's first name."""
    rows = session.execute(sa.text("""
        SELECT b.id, b.start_time, b.end_time, b.duration_minutes, b.status, b.scheduled_date,
               s.name AS service_name, COALESCE(p.first_name, c.first_name, '') AS first_name
        FROM bookings b
        JOIN services s ON s.id = b.service_id
        LEFT JOIN students st ON st.id = b.student_id
        LEFT JOIN profiles p ON p.id = st.profile_id
        LEFT JOIN contacts c ON c.id = b.contact_id
        WHERE b.instructor_id = :i AND b.start_time < :hi AND b.start_time > :lo_start AND b.end_time > :lo
          AND (b.status = ANY(:st)) AND NOT (b.status = 'held' AND b.hold_expires_at <= now())
        ORDER BY b.start_time"""), {"i": instructor_id, "lo": lo, "hi": hi, "st": list(statuses),
                                    "lo_start": lo - availability.MAX_BLOCK}).all()
    out = []
    for r in rows:
        local = r.start_time.astimezone(BUSINESS_TZ)
        out.append({"id": r.id, "start": r.start_time, "end": r.end_time, "start_local": local, "day": local.date(),
                    "duration_minutes": r.duration_minutes, "status": r.status, "service_name": r.service_name,
                    "first_name": r.first_name or ""})
    return out


def _public_lesson(r: dict) -> dict:
    return {"id": str(r["id"]), "date": r["day"].isoformat(), "day_label": short_day(r["day"]),
            "start": r["start_local"].strftime("%H:%M"), "end": r["end"].astimezone(BUSINESS_TZ).strftime("%H:%M"),
            "time": au_time(r["start"]), "end_time": au_time(r["end"]),
            "when": f"{short_day(r['day'])}, {au_time(r['start'])} – {au_time(r['end'])}",
            "service": r["service_name"], "learner": r["first_name"] or "Learner", "status": r["status"]}


def _add_override(session: Session, actor: Actor, instructor_id, day, start, end, reason, kind: str) -> tuple:
    instructor = _instructor(session, actor, instructor_id)
    today = _today(session)
    day = _parse_day(day, today)
    if kind == "available" or start not in (None, "") or end not in (None, ""):
        s, e = _parse_range(start, end, "time")
    else:
        s = e = None
    reason = _clean_reason(reason)
    _lock(session, instructor)
    same = session.exec(select(AvailabilityOverride).where(
        AvailabilityOverride.instructor_id == instructor.id, AvailabilityOverride.date == day,
        AvailabilityOverride.override_type == kind)).all()
    for o in same:
        if o.start_time is None and kind == "blocked":
            raise ValidationFailed(f"You already have {au_date(day, year=False)} off.", field="date")
        if s is not None and o.start_time is not None and o.start_time < e and s < o.end_time:
            what = "time off" if kind == "blocked" else "extra hours"
            raise ValidationFailed(f"This overlaps your {what} on {au_date(day, year=False)} "
                                   f"({wall_label(o.start_time)} – {wall_label(o.end_time)}).", field="time.start")
    override = AvailabilityOverride(instructor_id=instructor.id, date=day, start_time=s, end_time=e,
                                    override_type=kind, reason=reason)
    session.add(override)
    session.flush()
    holiday = _holiday_names(session, day, day).get(day)
    audit.record_event(session, actor, "availability.time_off_added" if kind == "blocked"
                       else "availability.extra_hours_added", subject_type="instructor", subject_id=instructor.id,
                       details={"override_id": str(override.id), "date": day.isoformat(),
                                "start": hhmm(s) if s else None, "end": hhmm(e) if e else None, "reason": reason})
    return instructor, override, holiday


def add_time_off(session: Session, actor: Actor, instructor_id: uuid.UUID, day, start=None, end=None,
                 reason: str | None = None) -> dict:
    """Block a whole day (no times) or a time range. Lessons already booked then are kept and listed.

    Returns ``override``, ``warning`` (True when lessons overlap) and ``affected`` (those lessons).
    """
    instructor, override, holiday = _add_override(session, actor, instructor_id, day, start, end, reason, "blocked")
    if override.start_time is None:
        lo, hi = _day_bounds(override.date)
    else:
        lo, hi = _instant(override.date, override.start_time), _instant(override.date, override.end_time)
    affected = [_public_lesson(r) for r in _lesson_rows(session, instructor.id, lo, hi, statuses=LIVE_STATUSES)]
    return {"override": _override_view(override, holiday), "warning": bool(affected), "affected": affected}


def add_extra_hours(session: Session, actor: Actor, instructor_id: uuid.UUID, day, start, end,
                    reason: str | None = None) -> dict:
    """Open extra hours on one day (this is also how a public holiday is opened)."""
    _, override, holiday = _add_override(session, actor, instructor_id, day, start, end, reason, "available")
    return {"override": _override_view(override, holiday), "public_holiday": holiday or ""}


def remove_override(session: Session, actor: Actor, override_id: uuid.UUID | str) -> dict:
    try:
        override = session.get(AvailabilityOverride, uuid.UUID(str(override_id)))
    except ValueError:
        override = None
    if override is None:
        raise NotFound("That day off or extra hours entry no longer exists.")
    instructor = _instructor(session, actor, override.instructor_id)
    if override.date < _today(session):
        raise ValidationFailed("That date has already passed.", field="date")
    _lock(session, instructor)
    view = _override_view(override)
    session.delete(override)
    session.flush()
    audit.record_event(session, actor, "availability.override_removed", subject_type="instructor",
                       subject_id=instructor.id, details={k: view[k] for k in ("id", "date", "kind", "start", "end",
                                                                              "reason")})
    return view


def upcoming_overrides(session: Session, actor: Actor, instructor_id: uuid.UUID, *, limit: int = 100) -> list[dict]:
    """Days off and extra hours from today on, soonest first."""
    instructor = _instructor(session, actor, instructor_id)
    today = _today(session)
    rows = session.exec(select(AvailabilityOverride).where(
        AvailabilityOverride.instructor_id == instructor.id, AvailabilityOverride.date >= today,
    ).order_by(AvailabilityOverride.date, AvailabilityOverride.start_time.nulls_first()).limit(limit)).all()
    if not rows:
        return []
    names = _holiday_names(session, rows[0].date, rows[-1].date)
    return [_override_view(o, names.get(o.date)) for o in rows]


# ─────────────────────────────────────────────────────────────────────────────
# The resulting calendar
# ─────────────────────────────────────────────────────────────────────────────

def _preview_service(session: Session) -> Service:
    service = session.exec(select(Service).where(Service.slug == PREVIEW_SERVICE)).first()
    if service is None or not service.is_active:  # a school that renamed it: an ordinary hour
        service = Service(slug=PREVIEW_SERVICE, name="Standard lesson", duration_minutes=60, price_cents=0,
                          category="lesson", buffer_minutes=None, is_active=True)
    return service


def _packed(starts: list[datetime], block: timedelta) -> int:
    """How many lessons fit one after the other (each needs its length plus the buffer)."""
    count, free_from = 0, None
    for s in sorted(starts):
        if free_from is None or s >= free_from:
            count += 1
            free_from = s + block
    return count


def calendar_preview(session: Session, actor: Actor, instructor_id: uuid.UUID, date_from: date | None = None,
                     days: int = 28) -> list[dict]:
    """One entry per day: working hours after days off / extra hours / public holidays, the lessons
    booked, and the free one-hour lessons learners can still book (``free_slots``: lessons that fit
    back to back; ``free_starts``: the start times the booking page offers)."""
    instructor = _instructor(session, actor, instructor_id)
    today = _today(session)
    first = date_from or today
    days = max(1, min(int(days or 28), MAX_PREVIEW_DAYS))
    last = first + timedelta(days=days - 1)
    cal = availability.load_calendars(session, [instructor.id], first, last).get(instructor.id)
    if cal is None:  # inactive instructor: no hours are offered
        cal = availability.InstructorCalendar(instructor.id, active=False)
    holiday_days = availability.holidays_between(session, first, last)
    holiday_names = _holiday_names(session, first, last)
    service = _preview_service(session)
    slots = booking.find_slots(session, service=service, date_from=first, date_to=last, instructor_id=instructor.id)
    starts: dict[date, list[datetime]] = {}
    for slot in slots:
        starts.setdefault(slot.local_start.date(), []).append(slot.start)
    buffer = service.buffer_minutes if service.buffer_minutes is not None else instructor.default_buffer_minutes
    block = timedelta(minutes=service.duration_minutes + buffer)
    lessons: dict[date, list[dict]] = {}
    lo, hi = _day_bounds(first)[0], _day_bounds(last)[1]
    for r in _lesson_rows(session, instructor.id, lo, hi):
        lessons.setdefault(r["day"], []).append(r)
    overrides: dict[date, list[availability.Override]] = {}
    for o in cal.overrides:
        overrides.setdefault(o.day, []).append(o)

    out = []
    d = first
    while d <= last:
        windows = availability.windows_for_day(cal, d, holiday_days) if cal.active else []
        day_lessons = lessons.get(d, [])
        counted = sum(1 for r in day_lessons if r["status"] in LESSON_STATUSES)
        room = max(0, instructor.max_lessons_per_day - counted)
        day_starts = starts.get(d, [])
        holiday = holiday_names.get(d, "") if d in holiday_days else ""
        kinds = {o.kind for o in overrides.get(d, [])}
        whole_day_off = any(o.kind == "blocked" and o.start is None for o in overrides.get(d, []))
        working_minutes = sum(e - s for s, e in windows)
        if windows:
            status = "working"
            hours_label = ", ".join(f"{_minutes_label(s)} – {_minutes_label(e)}" for s, e in windows)
        elif holiday:
            status, hours_label = "holiday", "Public holiday — closed"
        elif whole_day_off or "blocked" in kinds:
            status, hours_label = "off", "Day off"
        else:
            status, hours_label = "closed", "Not working"
        out.append({
            "date": d.isoformat(), "label": short_day(d), "weekday": d.strftime("%a"), "day": d.day,
            "is_today": d == today, "day_of_week": availability.dow(d),
            "holiday": holiday, "is_holiday": bool(holiday), "opened": bool(holiday and windows),
            "time_off": "blocked" in kinds, "extra_hours": "available" in kinds,
            "status": status, "hours_label": hours_label, "working_minutes": working_minutes,
            "windows": [{"start_minute": s, "end_minute": e,
                         "start": "24:00" if s >= 1440 else f"{s // 60:02d}:{s % 60:02d}",
                         "end": "24:00" if e >= 1440 else f"{e // 60:02d}:{e % 60:02d}",
                         "label": f"{_minutes_label(s)} – {_minutes_label(e)}"} for s, e in windows],
            "lessons": [{**_public_lesson(r),
                         "start_minute": r["start_local"].hour * 60 + r["start_local"].minute,
                         "end_minute": r["start_local"].hour * 60 + r["start_local"].minute + r["duration_minutes"]}
                        for r in day_lessons],
            "lesson_count": len(day_lessons),
            "free_starts": len(day_starts),
            "free_slots": min(_packed(day_starts, block), room),
        })
        d += timedelta(days=1)
    return out
