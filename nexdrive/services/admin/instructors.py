"""Instructors for the office (C20, a school of many instructors): the list with each one's month,
one instructor's record, onboarding a contractor, editing, deactivating, and the accreditation
warnings.

Every use case here is the administrator's (``access.require_admin``) except
:func:`accreditation_banner`, which an instructor asks about themselves. Onboarding goes through the
accounts service's staff invitation (``identity.accounts.create_staff_account``: an account with no
password and an emailed set-your-password link), then records the accreditation, vehicle, lesson
types and weekly hours. Deactivating never cancels anything: the answer lists the lessons still
booked so the office can move or cancel them on purpose. Every change is audited.

The accreditation warnings (:func:`send_accreditation_warnings`, the daily ``accreditation_warnings``
job) go out 60, 30 and 7 days before the certificate lapses, each once: the outbox idempotency key
is ``accreditation_expiring:<instructor>:<expiry>:<threshold>``, so a re-run sends nothing twice and
a renewed certificate (a new expiry) is warned about afresh.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from nexdrive.errors import InvalidState, NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_when, aud, format_au_phone
from nexdrive.models import Instructor, InstructorService, Profile, Service, User
from nexdrive.models.users import INSTRUCTOR_TRANSMISSIONS
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event
from nexdrive.services.identity import accounts
from nexdrive.services.messaging import admin_alerts, notify
from nexdrive.services.reporting import kpis
from nexdrive.services.scheduling import schedule

WARNING_DAYS = (60, 30, 7)
TAUGHT = ("confirmed", "in_progress", "completed")
LIVE = ("held", "confirmed", "pending")
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TRANSMISSION_LABELS = {"auto": "Automatic", "manual": "Manual", "both": "Automatic and manual"}
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /-]{2,29}$")
_EDITABLE = ("adi_number", "adi_expiry", "accreditation_number", "accreditation_expiry", "vehicle_rego",
             "vehicle_make", "vehicle_model", "vehicle_year", "transmission", "bio", "max_lessons_per_day",
             "default_buffer_minutes", "territory")


# ─────────────────────────────────────────────────────────────────────────────
# Input
# ─────────────────────────────────────────────────────────────────────────────


def _uuid(value: Any, field: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("That is not a valid choice.", field=field) from None


def _date(value: Any, field: str, label: str, *, required: bool = False) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"Please enter the {label}.", field=field)
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"The {label} is not a date.", field=field) from None


def _text(value: Any, field: str, *, limit: int = 100) -> str | None:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise ValidationFailed(f"Please keep this under {limit} characters.", field=field)
    return text or None


def _number(value: Any, field: str, label: str, *, required: bool = False) -> str | None:
    text = _text(value, field, limit=30)
    if text is None:
        if required:
            raise ValidationFailed(f"Please enter the {label}.", field=field)
        return None
    if not _NUMBER.match(text):
        raise ValidationFailed(f"The {label} should be 3 to 30 letters, digits, spaces, / or -.", field=field)
    return text.upper()


def _int(value: Any, field: str, label: str, lo: int, hi: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"The {label} must be a whole number.", field=field) from None
    if not lo <= n <= hi:
        raise ValidationFailed(f"The {label} must be between {lo} and {hi}.", field=field)
    return n


def _clean(changes: dict[str, Any], today: date) -> dict[str, Any]:
    """The editable instructor fields, checked; unknown keys are refused."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValidationFailed(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "adi_number":
            out[key] = _number(value, key, "ADI licence number", required=True)
        elif key == "accreditation_number":
            out[key] = _number(value, key, "accreditation number", required=True)
        elif key in ("adi_expiry", "accreditation_expiry"):
            label = "ADI licence expiry" if key == "adi_expiry" else "accreditation expiry"
            d = _date(value, key, label, required=True)
            if d < today:
                raise ValidationFailed(f"The {label} has passed: an instructor needs a current one.", field=key)
            if d > today + timedelta(days=365 * 10):
                raise ValidationFailed(f"The {label} is too far ahead.", field=key)
            out[key] = d
        elif key == "vehicle_rego":
            rego = _text(value, key, limit=10)
            if rego and not re.fullmatch(r"[A-Za-z0-9 ]{2,10}", rego):
                raise ValidationFailed("A registration is 2 to 10 letters and digits.", field=key)
            out[key] = rego.upper() if rego else None
        elif key in ("vehicle_make", "vehicle_model", "territory"):
            out[key] = _text(value, key, limit=60)
        elif key == "bio":
            out[key] = _text(value, key, limit=1000)
        elif key == "vehicle_year":
            out[key] = _int(value, key, "vehicle year", 1990, today.year + 1)
        elif key == "transmission":
            if value not in INSTRUCTOR_TRANSMISSIONS:
                raise ValidationFailed("Choose automatic, manual or both.", field=key)
            out[key] = value
        elif key == "max_lessons_per_day":
            n = _int(value, key, "most lessons a day", 1, 16)
            if n is None:
                raise ValidationFailed("Please enter the most lessons a day.", field=key)
            out[key] = n
        elif key == "default_buffer_minutes":
            n = _int(value, key, "travel time between lessons", 0, 120)
            if n is None:
                raise ValidationFailed("Please enter the travel time between lessons.", field=key)
            out[key] = n
    return out


def _service_ids(session: Session, service_ids: Any) -> list[uuid.UUID]:
    """Chosen lesson types: existing, active services (empty = every lesson type)."""
    ids = sorted({_uuid(s, "service_ids") for s in (service_ids or []) if s not in (None, "")}, key=str)
    if not ids:
        return []
    found = set(session.execute(sa.text("SELECT id FROM services WHERE id = ANY(:ids) AND is_active"),
                                {"ids": ids}).scalars())
    if len(found) != len(ids):
        raise ValidationFailed("Choose lesson types from the list.", field="service_ids")
    return ids


def hours_from_days(days: Any, start: str, end: str) -> list[tuple[int, str, str]]:
    """A simple weekly pattern from a form: the same hours (``start``-``end``, HH:MM) on each chosen day
    (0 = Sunday ... 6 = Saturday). No days = no hours yet (the instructor sets them)."""
    chosen = sorted({int(d) for d in (days or []) if str(d).strip().isdigit() and 0 <= int(d) <= 6})
    if not chosen:
        return []
    if not start or not end:
        raise ValidationFailed("Please enter the start and finish of the working day.", field="hours_start")
    return [(d, start, end) for d in chosen]


def _set_services(session: Session, instructor_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    session.execute(sa.delete(InstructorService).where(InstructorService.instructor_id == instructor_id))
    for sid in ids:
        session.add(InstructorService(instructor_id=instructor_id, service_id=sid))
    session.flush()


# ─────────────────────────────────────────────────────────────────────────────
# Reads
# ─────────────────────────────────────────────────────────────────────────────


def _month(session: Session, month: str | None) -> kpis.Period:
    today = clock.today(session)
    if month:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise ValidationFailed("Choose a month as YYYY-MM.", field="month") from None
        return kpis.period_for("month", first)
    return kpis.period_for("month", today)


def _revenue_by_instructor(session: Session, p: kpis.Period) -> dict[uuid.UUID | None, int]:
    """Net revenue in the period (the dashboard's rows) by the instructor of the lesson paid for;
    payments not for one lesson (packages) under None."""
    rows = kpis.money_rows(session, p)
    ids = list({r["booking_id"] for r in rows if r.get("booking_id")})
    owner = dict(session.execute(sa.text("SELECT id, instructor_id FROM bookings WHERE id = ANY(:ids)"),
                                 {"ids": ids}).all()) if ids else {}
    out: dict[uuid.UUID | None, int] = {}
    for r in rows:
        key = owner.get(r.get("booking_id"))
        out[key] = out.get(key, 0) + int(r["cents"])
    return out


def accreditation_status(expiry: date | None, today: date) -> dict:
    """'ok', 'warning' (within 60 days), 'lapsed' or 'missing', with the days left."""
    if expiry is None:
        return {"state": "missing", "days_left": None, "label": "No accreditation recorded"}
    left = (expiry - today).days
    if left < 0:
        return {"state": "lapsed", "days_left": left, "label": f"Lapsed on {au_date(expiry, weekday=False)}"}
    if left <= WARNING_DAYS[0]:
        return {"state": "warning", "days_left": left,
                "label": f"Expires {au_date(expiry, weekday=False)} ({left} days)"}
    return {"state": "ok", "days_left": left, "label": f"Valid to {au_date(expiry, weekday=False)}"}


def list_instructors(session: Session, actor: Actor, *, month: str | None = None,
                     include_inactive: bool = True) -> dict:
    """Every instructor with their month: lessons, utilisation, learners, revenue (net of refunds)."""
    access.require_admin(actor)
    p = _month(session, month)
    today = clock.today(session)
    rows = session.execute(sa.text(f"""
        SELECT i.id, TRIM(pr.first_name || ' ' || pr.last_name) AS name, pr.email, pr.phone, i.status, i.is_owner,
               i.accreditation_number, i.accreditation_expiry, i.transmission,
               (SELECT count(*) FROM students s WHERE s.instructor_id = i.id AND s.status = 'active') AS learners,
               (SELECT count(*) FROM bookings b WHERE b.instructor_id = i.id AND b.status = ANY(:taught)
                  AND b.scheduled_date >= :d0 AND b.scheduled_date < :d1) AS lessons
        FROM instructors i JOIN profiles pr ON pr.id = i.profile_id
        {"" if include_inactive else "WHERE i.status = 'active'"}
        ORDER BY i.status <> 'active', i.is_owner DESC, 2, i.id"""),
        {"taught": list(TAUGHT), "d0": p.first, "d1": p.end}).all()
    util = {u["instructor_id"]: u for u in kpis.utilisation(session, p)}
    revenue = _revenue_by_instructor(session, p)
    items = []
    for r in rows:
        u = util.get(r.id, {"booked_minutes": 0, "offered_minutes": 0})
        acc = accreditation_status(r.accreditation_expiry, today)
        items.append({
            "id": str(r.id), "name": r.name, "email": r.email, "phone": format_au_phone(r.phone) if r.phone else "",
            "status": r.status, "is_owner": bool(r.is_owner),
            "transmission": TRANSMISSION_LABELS.get(r.transmission or "", ""),
            "learners": int(r.learners), "lessons": int(r.lessons),
            "booked_minutes": u["booked_minutes"], "offered_minutes": u["offered_minutes"],
            "utilisation": kpis.percent(u["booked_minutes"], u["offered_minutes"]),
            "revenue_cents": revenue.get(r.id, 0), "revenue": aud(revenue.get(r.id, 0)),
            "accreditation": acc["label"], "accreditation_state": acc["state"],
        })
    return {"month": p.first.strftime("%Y-%m"), "label": p.first.strftime("%B %Y"), "items": items,
            "unassigned_revenue_cents": revenue.get(None, 0), "unassigned_revenue": aud(revenue.get(None, 0))}


def _instructor(session: Session, actor: Actor, instructor_id: Any, *, lock: bool = False) -> Instructor:
    access.require_admin(actor)
    iid = _uuid(instructor_id, "instructor_id")
    instructor = session.get(Instructor, iid, with_for_update=lock) if iid else None
    if instructor is None:
        raise NotFound("No such instructor.")
    return instructor


def _future_bookings(session: Session, instructor_id: uuid.UUID) -> list[dict]:
    rows = session.execute(sa.text("""
        SELECT b.id, b.start_time, b.end_time, b.status, sv.name AS service,
               COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''), c.full_name,
                        NULLIF(TRIM(b.booker_name), ''), 'Unnamed') AS who
        FROM bookings b JOIN services sv ON sv.id = b.service_id
        LEFT JOIN students s ON s.id = b.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
        LEFT JOIN contacts c ON c.id = b.contact_id
        WHERE b.instructor_id = :i AND b.start_time > :now
          AND (b.status IN ('confirmed', 'pending') OR (b.status = 'held' AND b.hold_expires_at > :now))
        ORDER BY b.start_time, b.id LIMIT 200"""), {"i": instructor_id, "now": clock.now(session)}).all()
    return [{"id": str(r.id), "when": au_when(r.start_time, r.end_time), "status": r.status, "service": r.service,
             "who": r.who} for r in rows]


def instructor_record(session: Session, actor: Actor, instructor_id: Any) -> dict:
    """Administrator: one instructor's details, lesson types, weekly hours, learners and lessons still booked."""
    instructor = _instructor(session, actor, instructor_id)
    profile = session.get(Profile, instructor.profile_id)
    user = session.get(User, instructor.user_id)
    today = clock.today(session)
    offered = [str(s) for s in session.exec(select(InstructorService.service_id).where(
        InstructorService.instructor_id == instructor.id)).all()]
    services = [{"id": str(s.id), "name": s.name, "offered": (not offered) or str(s.id) in offered}
                for s in session.exec(select(Service).where(Service.is_active.is_(True))
                                      .order_by(Service.sort_order, Service.name)).all()]
    hours = schedule.weekly_hours(session, actor, instructor.id)
    learners = session.execute(sa.text("""
        SELECT s.id, TRIM(p.first_name || ' ' || p.last_name) AS name, s.status FROM students s
        JOIN profiles p ON p.id = s.profile_id WHERE s.instructor_id = :i AND s.status <> 'archived'
        ORDER BY 2, 1 LIMIT 200"""), {"i": instructor.id}).all()
    acc = accreditation_status(instructor.accreditation_expiry, today)
    return {
        "id": str(instructor.id), "user_id": str(instructor.user_id),
        "name": f"{profile.first_name} {profile.last_name}".strip(), "first_name": profile.first_name,
        "last_name": profile.last_name, "email": profile.email,
        "phone": format_au_phone(profile.phone) if profile.phone else "",
        "status": instructor.status, "account_status": user.status if user else "",
        "password_set": bool(user and user.password_hash), "is_owner": bool(instructor.is_owner),
        "adi_number": instructor.adi_number, "adi_expiry": instructor.adi_expiry.isoformat(),
        "accreditation_number": instructor.accreditation_number or "",
        "accreditation_expiry": instructor.accreditation_expiry.isoformat() if instructor.accreditation_expiry else "",
        "accreditation": acc["label"], "accreditation_state": acc["state"],
        "vehicle_rego": instructor.vehicle_rego or "", "vehicle_make": instructor.vehicle_make or "",
        "vehicle_model": instructor.vehicle_model or "",
        "vehicle_year": str(instructor.vehicle_year) if instructor.vehicle_year else "",
        "transmission": instructor.transmission or "",
        "transmission_label": TRANSMISSION_LABELS.get(instructor.transmission or "", ""),
        "bio": instructor.bio or "", "territory": instructor.territory or "",
        "max_lessons_per_day": str(instructor.max_lessons_per_day),
        "default_buffer_minutes": str(instructor.default_buffer_minutes),
        "services": services, "all_services": not offered,
        "hours": hours,
        "learners": [{"id": str(r.id), "name": r.name, "status": r.status} for r in learners],
        "future_bookings": _future_bookings(session, instructor.id),
    }


# ─────────────────────────────────────────────────────────────────────────────
# Changes
# ─────────────────────────────────────────────────────────────────────────────


def onboard_instructor(session: Session, actor: Actor, *, email: str, first_name: str, last_name: str,
                       phone: str | None = None, adi_number: str, adi_expiry: Any, accreditation_number: str,
                       accreditation_expiry: Any, vehicle_rego: str | None = None, vehicle_make: str | None = None,
                       vehicle_model: str | None = None, vehicle_year: Any = None, transmission: str = "auto",
                       service_ids: Any = (), hours: Any = (), max_lessons_per_day: Any = 8) -> dict:
    """Onboard a contractor instructor: the account and its emailed invitation (set a password), the ADI
    licence and ACT accreditation, vehicle, transmissions, lesson types and weekly hours. Audited."""
    access.require_admin(actor)
    today = clock.today(session)
    details = _clean({"adi_number": adi_number, "adi_expiry": adi_expiry,
                      "accreditation_number": accreditation_number, "accreditation_expiry": accreditation_expiry,
                      "vehicle_rego": vehicle_rego, "vehicle_make": vehicle_make, "vehicle_model": vehicle_model,
                      "vehicle_year": vehicle_year, "transmission": transmission,
                      "max_lessons_per_day": max_lessons_per_day}, today)
    chosen = _service_ids(session, service_ids)
    schedule.validate_windows(hours)  # refuse a bad pattern before anything is written
    invitation = accounts.create_staff_account(
        session, actor, email=email, role="instructor", first_name=first_name, last_name=last_name, phone=phone,
        adi_number=details["adi_number"], adi_expiry=details["adi_expiry"],
        accreditation_number=details["accreditation_number"],
        accreditation_expiry=details["accreditation_expiry"])
    instructor = session.get(Instructor, invitation.instructor_id, with_for_update=True)
    for key, value in details.items():
        setattr(instructor, key, value)
    instructor.status = "active"  # the owner vouches for them; they are offered once they have hours
    instructor.verified_at = clock.now(session)
    session.add(instructor)
    session.flush()
    _set_services(session, instructor.id, chosen)
    if hours:
        schedule.set_weekly_hours(session, actor, instructor.id, hours)
    record_event(session, actor, "INSTRUCTOR_ONBOARDED", subject_type="instructor", subject_id=instructor.id,
                 details={"user_id": str(invitation.user_id), "accreditation_expiry": details[
                     "accreditation_expiry"].isoformat(), "transmission": details["transmission"],
                     "service_ids": [str(s) for s in chosen], "hours": [list(map(str, h)) for h in hours or []]})
    return {"id": str(instructor.id), "user_id": str(invitation.user_id), "invite_token": invitation.token}


def update_instructor(session: Session, actor: Actor, instructor_id: Any, *, changes: dict[str, Any] | None = None,
                      service_ids: Any = None) -> dict:
    """Change an instructor's details and, when given, their lesson types (empty list = every lesson type).
    Audited with the fields before and after."""
    instructor = _instructor(session, actor, instructor_id, lock=True)
    wanted = {k: v for k, v in (changes or {}).items()  # an unchanged expiry is not re-checked against today
              if not (k in ("adi_expiry", "accreditation_expiry") and getattr(instructor, k, None) is not None
                      and str(v).strip() == getattr(instructor, k).isoformat())}
    clean = _clean(wanted, clock.today(session))
    before, after = {}, {}
    for key, value in clean.items():
        old = getattr(instructor, key)
        if old != value:
            before[key], after[key] = old, value
            setattr(instructor, key, value)
    if service_ids is not None:
        chosen = _service_ids(session, service_ids)
        current = sorted(session.exec(select(InstructorService.service_id).where(
            InstructorService.instructor_id == instructor.id)).all(), key=str)
        if current != chosen:
            before["service_ids"], after["service_ids"] = [str(s) for s in current], [str(s) for s in chosen]
            _set_services(session, instructor.id, chosen)
    if not after:
        return {"id": str(instructor.id), "changed": []}
    session.add(instructor)
    session.flush()

    def plain(d):
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.items()}
    record_event(session, actor, "INSTRUCTOR_UPDATED", subject_type="instructor", subject_id=instructor.id,
                 details={"before": plain(before), "after": plain(after)})
    return {"id": str(instructor.id), "changed": sorted(after)}


def set_instructor_hours(session: Session, actor: Actor, instructor_id: Any, hours: Any) -> dict:
    """The office sets an instructor's weekly hours (the instructor can too, on their own page)."""
    instructor = _instructor(session, actor, instructor_id)
    return schedule.set_weekly_hours(session, actor, instructor.id, hours)


def deactivate_instructor(session: Session, actor: Actor, instructor_id: Any, *, reason: str | None = None) -> dict:
    """Stop an instructor: no more slots offered, their account suspended (sessions end). Lessons already
    booked are NOT cancelled: the answer lists them so the office moves or cancels each on purpose."""
    instructor = _instructor(session, actor, instructor_id, lock=True)
    if instructor.status == "inactive":
        raise InvalidState("This instructor is already inactive.")
    if instructor.user_id == actor.user_id:
        raise ValidationFailed("You can't deactivate yourself.", field="instructor_id")
    if instructor.is_owner:
        raise ValidationFailed("The owner-instructor can't be deactivated here.", field="instructor_id")
    before = instructor.status
    instructor.status = "inactive"
    session.add(instructor)
    session.flush()
    user = session.get(User, instructor.user_id)
    if user is not None and user.status == "active":
        accounts.suspend_user(session, actor, user.id, reason="Instructor deactivated")
    future = _future_bookings(session, instructor.id)
    record_event(session, actor, "INSTRUCTOR_DEACTIVATED", subject_type="instructor", subject_id=instructor.id,
                 details={"from": before, "reason": _text(reason, "reason", limit=500),
                          "future_bookings": len(future)}, severity="warning")
    return {"id": str(instructor.id), "status": instructor.status, "future_bookings": future}


def reactivate_instructor(session: Session, actor: Actor, instructor_id: Any) -> dict:
    """Bring an inactive instructor back (their account too). Audited."""
    instructor = _instructor(session, actor, instructor_id, lock=True)
    if instructor.status == "active":
        raise InvalidState("This instructor is already active.")
    instructor.status = "active"
    session.add(instructor)
    session.flush()
    user = session.get(User, instructor.user_id)
    if user is not None and user.status != "active":
        accounts.reinstate_user(session, actor, user.id)
    record_event(session, actor, "INSTRUCTOR_REACTIVATED", subject_type="instructor", subject_id=instructor.id)
    return {"id": str(instructor.id), "status": instructor.status}


# ─────────────────────────────────────────────────────────────────────────────
# Accreditation warnings (60 / 30 / 7 days before it lapses)
# ─────────────────────────────────────────────────────────────────────────────


def warning_threshold(days_left: int) -> int | None:
    """The warning due with ``days_left`` days to go: the tightest of 60/30/7 reached (None: not yet, or lapsed)."""
    if days_left < 0:
        return None
    reached = [t for t in WARNING_DAYS if days_left <= t]
    return min(reached) if reached else None


def warning_key(instructor_id: uuid.UUID, expiry: date, threshold: int) -> str:
    return f"accreditation_expiring:{instructor_id}:{expiry.isoformat()}:{threshold}"


def send_accreditation_warnings(session: Session, now: datetime | None = None) -> dict:
    """The daily job: each active instructor whose accreditation lapses within 60 days gets the warning
    for the threshold reached (60, 30, 7 days), once; the administrators get a copy. Returns the counts."""
    today = now.astimezone(BUSINESS_TZ).date() if now is not None else clock.today(session)
    rows = session.execute(sa.text("""
        SELECT i.id, i.user_id, i.accreditation_number, i.accreditation_expiry, pr.first_name, pr.last_name, pr.email
        FROM instructors i JOIN profiles pr ON pr.id = i.profile_id
        WHERE i.status = 'active' AND i.accreditation_expiry IS NOT NULL
          AND i.accreditation_expiry BETWEEN :today AND :horizon ORDER BY i.accreditation_expiry, i.id"""),
        {"today": today, "horizon": today + timedelta(days=WARNING_DAYS[0])}).all()
    sent, skipped = 0, 0
    for r in rows:
        left = (r.accreditation_expiry - today).days
        threshold = warning_threshold(left)
        if threshold is None:
            continue
        key = warning_key(r.id, r.accreditation_expiry, threshold)
        if session.execute(sa.text("SELECT 1 FROM outbox_messages WHERE idempotency_key LIKE :k LIMIT 1"),
                           {"k": key + ":%"}).first():
            skipped += 1
            continue
        data = {"number": r.accreditation_number or "(not recorded)",
                "expiry": au_date(r.accreditation_expiry, weekday=False), "days_left": left,
                "threshold": threshold, "instructor": f"{r.first_name} {r.last_name}".strip()}
        try:
            with session.begin_nested():  # a concurrent run queued it first: fine
                notify.queue_message(session, "accreditation_expiring",
                                     to={"user_id": r.user_id, "email": r.email, "first_name": r.first_name},
                                     data=data, idempotency_key=key, related_type="instructor", related_id=r.id)
        except IntegrityError:
            skipped += 1
            continue
        admin_alerts.alert_admins(session, key=key + ":admin", notification_type="accreditation_expiring_admin",
                                  data=data, related_id=r.id)
        sent += 1
    return {"warned": sent, "already_warned": skipped}


def accreditation_banner(session: Session, actor: Actor) -> dict | None:
    """For the instructor's own dashboard: a warning when their accreditation lapses within 60 days or has
    lapsed; None otherwise (and for anyone who is not an instructor)."""
    access.require_signed_in(actor)
    if not actor.is_instructor or actor.instructor_id is None:
        return None
    instructor = session.get(Instructor, actor.instructor_id)
    if instructor is None:
        return None
    acc = accreditation_status(instructor.accreditation_expiry, clock.today(session))
    if acc["state"] == "warning":
        return {"tone": "amber", "text": (
            f"Your ACT accreditation expires on {au_date(instructor.accreditation_expiry, weekday=False)} "
            f"({acc['days_left']} days). Please renew it and send the office the new expiry date: after it lapses "
            "the booking system stops offering your times.")}
    if acc["state"] == "lapsed":
        return {"tone": "red", "text": (
            f"Your ACT accreditation lapsed on {au_date(instructor.accreditation_expiry, weekday=False)}: "
            "your lesson times are no longer offered. Please renew it and tell the office.")}
    return None


__all__ = ["WARNING_DAYS", "accreditation_banner", "accreditation_status", "deactivate_instructor",
           "hours_from_days", "instructor_record", "list_instructors", "onboard_instructor",
           "reactivate_instructor", "send_accreditation_warnings", "set_instructor_hours", "update_instructor",
           "warning_key", "warning_threshold"]
