"""Booking lessons: what can be booked, reserve → confirm, reschedule, cancel, no-show, waitlist.

The database makes overlaps impossible (exclusion constraint, migration 0002);
this module takes the per-instructor advisory lock first so concurrent
reservations queue instead of deadlocking, re-checks the slot against the
availability engine under that lock (rules, notice, horizon, daily limit,
holidays, accreditation), and turns the constraint's refusal into a clear
SlotUnavailable with the nearest alternatives. Every channel (widget, REST API,
SMS, voice) books through these functions.

A refusal decided under an instructor's lock does not read the fortnight for
its alternatives while the lock is held: it carries the same day's and is
completed after its transaction ends (``refusals_with_alternatives`` around the
caller's transaction, or ``complete_alternatives`` in a new one).
"""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from nexdrive.db import cached_text, row_values, session_scope, unattached
from nexdrive.models import Booking, BusinessSettings, Contact, Instructor, Profile, Service, Student, WaitlistEntry
from nexdrive.services.core import clock, events
from nexdrive.services.core import access
from nexdrive.services.core import audit
from nexdrive.services.scheduling import availability
from nexdrive.services.scheduling import catalogue
from nexdrive.services.crm import contacts
from nexdrive.services.scheduling import holidays
from nexdrive.services.compliance import competencies
from nexdrive.services.messaging import notify
from nexdrive.services.identity.accounts import hash_token, new_token
from nexdrive.formats import normalise_email
from nexdrive.services.core.actors import Actor
from nexdrive.services.scheduling.availability import Slot, SlotRules
from nexdrive.errors import (
    BookingTooFar,
    BookingTooLate,
    Forbidden,
    HoldExpired,
    InvalidState,
    NotEligible,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, au_when, aud

UTC = timezone.utc
DEFAULT_HOLD_MINUTES = 35  # outlives a 30-minute Stripe Checkout session (docs/decisions/0001-no-double-booking.md)
MAX_RANGE_DAYS = 62
ALTERNATIVES = 3
LIVE_STATUSES = ("held", "confirmed")
MAX_TEXT = 300
_log = logging.getLogger(__name__)


# ─────────────────────────────────────────────────────────────────────────────
# Settings and small helpers
# ─────────────────────────────────────────────────────────────────────────────

def business_settings(session: Session) -> BusinessSettings:
    """The owner's settings, read once per transaction (the session's identity map holds rows only weakly, so
    without this memo every call would read them again). A read-only copy, not the session's row (reading it
    costs a third of ``session.get``: every reservation and refusal reads it); the owner changes them through
    ``admin.business``."""
    memo = _per_transaction(session)
    row = memo.get("settings")
    if row is None:
        found = session.execute(_settings_statement()).first()
        if found is None:
            return BusinessSettings()
        row = unattached(BusinessSettings, found)
        _per_transaction(session)["settings"] = row  # the first query may have begun the transaction
    return row


@functools.cache
def _settings_statement() -> sa.TextClause:
    columns = ", ".join(column.name for column in BusinessSettings.__table__.columns)
    return cached_text(f"SELECT {columns} FROM business_settings WHERE id = 1")


def _instructor_name(session: Session, instructor_id: uuid.UUID) -> str:
    """'First Last' of an instructor (memoised per transaction: a reservation reads it before taking the lock)."""
    names = _per_transaction(session).setdefault("names", {})
    if instructor_id not in names:
        name = session.execute(cached_text(
            "SELECT p.first_name || ' ' || p.last_name FROM instructors i JOIN profiles p ON p.id = i.profile_id "
            "WHERE i.id = :i"), {"i": instructor_id}).scalar() or "your instructor"
        _per_transaction(session).setdefault("names", {})[instructor_id] = name
        return name
    return names[instructor_id]


def _service_row(session: Session, service_id: uuid.UUID) -> Service | None:
    """A lesson type by id, kept for the transaction (the identity map holds rows only weakly: a confirmation
    summarised twice read it twice)."""
    services = _per_transaction(session).setdefault("services", {})
    service = services.get(service_id)
    if service is None:
        service = session.get(Service, service_id)
        _per_transaction(session).setdefault("services", {})[service_id] = service
    return service


def _per_transaction(session: Session) -> dict:
    """Memo for the session's current transaction (PostgreSQL's now() and xact locks last as long as it)."""
    tx = session.get_transaction()
    memo = session.info.get("nexdrive.booking.tx")
    if tx is None or memo is None or memo[0] is not tx:
        memo = (tx, {})
        if tx is not None:
            session.info["nexdrive.booking.tx"] = memo
    return memo[1]


def _now(session: Session) -> datetime:
    """The transaction's time (one round trip per transaction, not one per call)."""
    if clock.is_pinned():
        return clock.now(session)
    memo = _per_transaction(session)
    if "now" not in memo:
        value = clock.now(session)
        _per_transaction(session)["now"] = value  # the first query may have begun the transaction
        return value
    return memo["now"]


def _service(session: Session, service_ref: uuid.UUID | str) -> Service:
    service = None
    if isinstance(service_ref, uuid.UUID):
        service = session.get(Service, service_ref)
    else:
        try:
            service = session.get(Service, uuid.UUID(str(service_ref)))
        except ValueError:
            service = session.exec(select(Service).where(Service.slug == str(service_ref))).first()
    if service is None or not service.is_active:
        raise NotFound("No such lesson type.", field="service_id")
    return service


def _buffer(service: Service, instructor_default: int) -> int:
    return service.buffer_minutes if service.buffer_minutes is not None else instructor_default


def _clean_text(value: str | None, field: str, label: str, *, required: bool = False) -> str | None:
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationFailed(f"Please enter the {label}.", field=field)
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"The {label} is too long.", field=field)
    return value or None


def local_start(day: date, hhmm: str) -> datetime:
    """A Canberra date and 'HH:MM' as an aware instant; times the clocks skip are refused."""
    try:
        t = time.fromisoformat(hhmm)
    except (TypeError, ValueError):
        raise ValidationFailed("Please choose a start time like 09:30.", field="start_time") from None
    instant = availability.wall_to_instant(day, t.replace(second=0, microsecond=0, tzinfo=None))
    if instant is None:
        raise ValidationFailed("That time does not exist on that day (daylight saving starts).", field="start_time")
    return instant


# The owner's settings, the transaction's now() and the public holidays from today to the horizon (what every
# slot_rules needs), in one statement instead of three. ``today``: the pinned clock's day, if pinned.
_PUBLIC_HOLIDAYS = sa.table("public_holidays", sa.column("date", sa.Date))
_LOCAL_TODAY = sa.func.coalesce(sa.bindparam("today", type_=sa.Date),
                                sa.cast(sa.func.timezone("Australia/Sydney", sa.func.now()), sa.Date))
_HOLIDAYS_TO_HORIZON = select(sa.func.array_agg(_PUBLIC_HOLIDAYS.c.date)).where(_PUBLIC_HOLIDAYS.c.date.between(
    _LOCAL_TODAY, _LOCAL_TODAY + BusinessSettings.booking_horizon_days + 1)).scalar_subquery()
_RULES_INPUTS = select(BusinessSettings, sa.func.now(), _HOLIDAYS_TO_HORIZON).where(BusinessSettings.id == 1)


def _read_rules_inputs(session: Session) -> None:
    """Fill the transaction's memos of the settings, now() and the holidays (one round trip), unless the
    settings are known already (then each is read on its own as needed)."""
    memo = _per_transaction(session)
    if "settings" in memo:
        return
    pinned = clock.now() if clock.is_pinned() else None
    today = pinned.astimezone(BUSINESS_TZ).date() if pinned else None
    row = session.execute(_RULES_INPUTS, {"today": today}).first()
    if row is None:
        return  # no settings row: the defaults, as business_settings() gives them
    _remember_rules_inputs(session, *row, pinned)


def _remember_rules_inputs(session: Session, settings: BusinessSettings, db_now: datetime, table_days,
                           pinned: datetime | None) -> None:
    memo = _per_transaction(session)  # the statement may have begun the transaction
    memo["settings"] = settings
    if pinned is None:
        clock.remember_database_now(session, db_now)
        memo.setdefault("now", db_now)
    today = (pinned or db_now).astimezone(BUSINESS_TZ).date()
    last = today + timedelta(days=settings.booking_horizon_days + 1)
    memo.setdefault("holidays", {})[(today, last)] = availability.holidays_with(today, last, table_days or ())


def _prefetch_statement(with_instructor: bool):
    """The statement of ``_prefetch_reservation`` (built once: SQLAlchemy keeps its cache key with it)."""
    sid = sa.bindparam("sid", type_=sa.Uuid)
    columns = [BusinessSettings, sa.func.now(), _HOLIDAYS_TO_HORIZON, Service]
    # Single rows each, joined on their keys (a cross join of one row by one row).
    joined = sa.join(BusinessSettings, Service, sa.and_(BusinessSettings.id == 1, Service.id == sid))
    if with_instructor:
        columns += [Instructor, catalogue.offers_clause(Instructor.id, sid), sa.select(
            Profile.first_name + " " + Profile.last_name).where(Profile.id == Instructor.profile_id).scalar_subquery()]
        joined = joined.join(Instructor, Instructor.id == sa.bindparam("iid", type_=sa.Uuid))
    # The rest of the reservation's transaction plans its prepared statements once per connection (generic plans)
    # instead of at every execution: the calendar's statement cost ~0.4 ms of PostgreSQL's CPU to plan against
    # ~0.2 ms to run, and a refused attempt under concurrency sends it 2-4 times. Its generic plans stay on their
    # indexes (test_query_plans.py checks every statement of the reserve path as a generic plan); is_local: the
    # setting ends with this transaction. docs/performance.md, "Fifth round, continued".
    columns.append(sa.func.set_config("plan_cache_mode", "force_generic_plan", True))
    return select(*columns).select_from(joined)


_PREFETCH = {False: _prefetch_statement(False), True: _prefetch_statement(True)}


def _prefetch_reservation(session: Session, service_ref: uuid.UUID | str, instructor_id: uuid.UUID | None) -> None:
    """A reservation's first reads in one statement: the lesson type, the instructor (whether they teach it, their
    name) and the slot rules' inputs (``_RULES_INPUTS``), into the memos ``_service``, ``_choose_instructor`` and
    ``slot_rules`` read. Anything missing (no such lesson type or instructor, no settings row) is left for them
    to find and refuse as before."""
    memo = _per_transaction(session)
    if "settings" in memo:
        return
    try:
        service_id = service_ref if isinstance(service_ref, uuid.UUID) else uuid.UUID(str(service_ref))
    except ValueError:
        return  # a slug: _service looks it up
    pinned = clock.now() if clock.is_pinned() else None
    row = session.execute(_PREFETCH[instructor_id is not None],
                          {"sid": service_id, "iid": instructor_id,
                           "today": pinned.astimezone(BUSINESS_TZ).date() if pinned else None}).first()
    if row is None:
        return
    _remember_rules_inputs(session, row[0], row[1], row[2], pinned)
    memo = _per_transaction(session)
    memo.setdefault("services", {})[service_id] = row[3]  # held here: the identity map keeps rows only weakly
    if instructor_id is not None:
        instructor = row[4]
        memo.setdefault("names", {}).setdefault(instructor.id, row[6] or "your instructor")
        if row[5]:
            memo.setdefault("offers", set()).add((service_id, instructor.id))
            memo.setdefault("instructors", {})[instructor.id] = instructor


def _holidays(session: Session, first: date, last: date) -> frozenset[date]:
    """``availability.holidays_between``, kept for the transaction (a refusal's alternatives ask again)."""
    known = _per_transaction(session).setdefault("holidays", {})
    if (first, last) not in known:
        found = availability.holidays_between(session, first, last)
        _per_transaction(session).setdefault("holidays", {})[(first, last)] = found
        return found
    return known[(first, last)]


def slot_rules(session: Session, service: Service, *, buffer_minutes: int, now: datetime | None = None) -> SlotRules:
    """Notice, horizon and the final-drive rules for one service (docs/decisions/0004-cbta-rules.md)."""
    _read_rules_inputs(session)
    settings = business_settings(session)
    now = now or _now(session)
    today = now.astimezone(BUSINESS_TZ).date()
    notice_hours = max(settings.min_booking_notice_hours, service.min_notice_hours or 0)
    last_day = today + timedelta(days=settings.booking_horizon_days)
    final_drive = service.eligibility_kind == "final_drive"
    return SlotRules(
        duration_minutes=service.duration_minutes,
        buffer_minutes=buffer_minutes,
        earliest_start=now + timedelta(hours=notice_hours),
        last_day=last_day,
        holidays=_holidays(session, today, last_day + timedelta(days=1)),
        no_sundays_or_holidays=final_drive,
        earliest_day=(holidays.add_business_days(today, settings.final_drive_notice_business_days)
                      if final_drive else None),
    )


# ─────────────────────────────────────────────────────────────────────────────
# Availability (public)
# ─────────────────────────────────────────────────────────────────────────────

def find_slots(session: Session, *, service: Service, date_from: date, date_to: date,
               instructor_id: uuid.UUID | None = None, ignore_booking_id: uuid.UUID | None = None,
               now: datetime | None = None, at: datetime | None = None, fresh: bool = False) -> list[Slot]:
    """Every offered start in the range, for one instructor or all of them, sorted by time.

    ``at``: only the slots starting at this instant, computed only for the instructors who could be free
    then (their day not full, no booking at that instant). ``fresh`` (with an instructor known, in this
    transaction, to teach the lesson type): read their calendar in one statement, not through this process's
    copy (whose version check is a statement of its own)."""
    # Only the instructors who teach this lesson type (instructor_services, migration 0014), in the same statement.
    cals = availability.load_calendars(session, [instructor_id] if instructor_id else None, date_from, date_to,
                                       cached=not fresh, offering=service.id)
    if at is not None:
        if date_from == date_to and ignore_booking_id is None:
            # "First available": the check before the lock takes these (``_precheck``), not a read of its own,
            # and so does a refusal when no one is free then.
            _per_transaction(session)["day_copies"] = (at, dict(cals))
        cals = {i: c for i, c in cals.items()
                if availability.could_be_free(c, at, timedelta(minutes=service.duration_minutes), ignore_booking_id)}
    slots: list[Slot] = []
    base_rules: dict[int, SlotRules] = {}
    for cal in cals.values():
        buf = _buffer(service, cal.default_buffer_minutes)
        if buf not in base_rules:
            base_rules[buf] = slot_rules(session, service, buffer_minutes=buf, now=now)
        if ignore_booking_id is None:  # kept with the calendar's copy, filtered by the notice
            found = availability.cached_slots(cal, base_rules[buf], date_from, date_to)
        else:
            found = availability.compute_slots(cal, base_rules[buf], date_from, date_to,
                                               ignore_booking_id=ignore_booking_id)
        slots += found if at is None else [s for s in found if s.start == at]
    slots.sort(key=lambda s: (s.start, s.instructor_id.int))  # the same order as by str(id), cheaper
    return slots


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationFailed("The end date is before the start date.", field="date_to")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", field="date_to")


def slot_view(slot: Slot) -> dict:
    s, e = slot.local_start, slot.local_end
    return {"date": s.date().isoformat(), "start": s.strftime("%H:%M"), "end": e.strftime("%H:%M"),
            "start_at": slot.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "label": au_time(slot.start), "day_label": au_date(slot.start, year=False),
            "instructor_id": str(slot.instructor_id)}


_ID_TEXTS: dict[uuid.UUID, str] = {}


@functools.lru_cache(maxsize=16384)  # 8 weeks of half-hour starts, a few lesson lengths
def _time_texts(start: datetime, end: datetime) -> tuple[date, str, str, str, str, str]:
    """A free time's local day and texts: start, end ('HH:MM'), UTC instant, label, the day's label."""
    local, local_end = start.astimezone(BUSINESS_TZ), end.astimezone(BUSINESS_TZ)
    return (local.date(), local.strftime("%H:%M"), local_end.strftime("%H:%M"),
            start.astimezone(UTC).isoformat().replace("+00:00", "Z"), au_time(start), au_date(start))


def availability_by_day(session: Session, *, service_ref: uuid.UUID | str, date_from: date, date_to: date,
                        instructor_id: uuid.UUID | None = None, ignore_booking_id: uuid.UUID | None = None) -> dict:
    """The API's and widget's view: days with their free times (Canberra time). Public: no actor needed."""
    _check_range(date_from, date_to)
    service = _service(session, service_ref)
    slots = find_slots(session, service=service, date_from=date_from, date_to=date_to,
                       instructor_id=instructor_id, ignore_booking_id=ignore_booking_id)
    # Each day once (its date and label), each time once (several free instructors share it); a time's texts
    # are formatted once per process (``_time_texts``), not once per request and instructor.
    days: dict[date, dict] = {}
    last_start, ids, day_key = None, None, None
    names = _ID_TEXTS
    times: list = []
    for slot in slots:
        iid = slot.instructor_id
        name = names.get(iid)
        if name is None:
            name = names[iid] = str(iid)
        if slot.start == last_start:
            ids.append(name)
            continue
        last_start = slot.start
        local_day, start, end, start_at, label, day_label = _time_texts(slot.start, slot.end)
        if local_day != day_key:
            day = days.get(local_day)
            if day is None:
                day = days[local_day] = {"date": local_day.isoformat(), "label": day_label, "times": []}
            times, day_key = day["times"], local_day
        ids = [name]
        times.append({"start": start, "end": end, "start_at": start_at, "label": label, "available": True,
                      "instructor_ids": ids})
    return {"service_id": str(service.id), "timezone": "Australia/Sydney",
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "slots": list(days.values())}


def nearest_alternatives(session: Session, service: Service, around: datetime, *,
                         instructor_id: uuid.UUID | None = None, ignore_booking_id: uuid.UUID | None = None,
                         n: int = ALTERNATIVES) -> list[dict]:
    """The n offered times closest to the one that was refused (same day first, then the fortnight around it)."""
    day = around.astimezone(BUSINESS_TZ).date()
    # A refused time's instructor (known to teach it): their fortnight is read directly. A booking changes the
    # instructor's calendar version, so after one the process's copy of that window is stale anyway.
    fresh = instructor_id is not None and (service.id, instructor_id) in _per_transaction(session).get("offers", ())
    slots = find_slots(session, service=service, date_from=day - timedelta(days=7), date_to=day + timedelta(days=14),
                       instructor_id=instructor_id, ignore_booking_id=ignore_booking_id, fresh=fresh)
    slots = [s for s in slots if s.start != around]
    slots.sort(key=lambda s: (s.local_start.date() != day, abs((s.start - around).total_seconds())))
    return [slot_view(s) for s in slots[:n]]


@dataclass(frozen=True)
class AlternativesWanted:
    """What ``nearest_alternatives`` needs to complete a refusal's alternatives after its transaction ended
    (``SlotUnavailable.alternatives_wanted``)."""
    service_id: uuid.UUID
    around: datetime
    instructor_id: uuid.UUID | None
    ignore_booking_id: uuid.UUID | None = None
    teaches: bool = False  # the refused transaction knew the instructor teaches it: their calendar read directly


def _alternatives_wanted(session: Session, service: Service, around: datetime, instructor_id: uuid.UUID | None,
                         ignore_booking_id: uuid.UUID | None) -> AlternativesWanted:
    teaches = instructor_id is not None and (service.id, instructor_id) in _per_transaction(session).get("offers", ())
    return AlternativesWanted(service.id, around, instructor_id, ignore_booking_id, teaches)


def _holds_an_instructor_lock(session: Session) -> bool:
    """True if this transaction holds some instructor's lock (``_lock_instructor``: until COMMIT/ROLLBACK)."""
    return bool(_per_transaction(session).get("locks"))


def _wanting_alternatives(refusal: SlotUnavailable, wanted: AlternativesWanted | None) -> SlotUnavailable:
    refusal.alternatives_wanted = wanted
    return refusal


def complete_alternatives(session: Session, refusal: SlotUnavailable) -> SlotUnavailable:
    """Complete a refusal's nearest alternatives (``details["suggested_alternatives"]``) and return it.

    Why: a refusal decided under the instructor's lock (held until its transaction's COMMIT or ROLLBACK) offers
    the same day's other times from the calendar it already holds; when that day has fewer than
    ``ALTERNATIVES`` of them, the fortnight around it is to be read (``nearest_alternatives``). Read under the
    lock, every other booking of that instructor would wait for it (about half the attempts of ten clients on
    one instructor are refusals), so the refusal is raised without it, marked ``alternatives_wanted``, and the
    caller completes it here **after its transaction has ended**: ``session`` in a new transaction, not the
    refused one (``refusals_with_alternatives`` around the caller's ``session_scope`` does that). A caller that
    refused inside a longer transaction of its own and wants them may pass that session: they are read there,
    under whatever locks it still holds, as they were before this function existed. The result is
    ``nearest_alternatives`` for the refused time, instructor and booking, as they stand then: the same list
    a refusal computed in its own transaction gave, read a moment later. Read-only; a refusal that needs
    nothing (or was completed already) is returned as it is. The refusal was made for this actor, after their
    access was checked: the alternatives are free times, the same as the public availability shows."""
    wanted = refusal.alternatives_wanted
    if not isinstance(wanted, AlternativesWanted):
        return refusal
    service = session.get(Service, wanted.service_id)
    if service is not None:
        if wanted.teaches:  # as nearest_alternatives did in the refused transaction: one statement, not two
            _per_transaction(session).setdefault("offers", set()).add((service.id, wanted.instructor_id))
        refusal.details["suggested_alternatives"] = nearest_alternatives(
            session, service, wanted.around, instructor_id=wanted.instructor_id,
            ignore_booking_id=wanted.ignore_booking_id)
    refusal.alternatives_wanted = None
    return refusal


@contextmanager
def refusals_with_alternatives(engine: Engine | None = None) -> Iterator[None]:
    """Around a caller's own transaction (``with booking.refusals_with_alternatives(), session_scope() as s:``):
    a ``SlotUnavailable`` leaving it gets its alternatives completed (``complete_alternatives``) in a short
    transaction of its own, once the caller's has ended and released the instructor's lock and its pooled
    connection (never a second connection while the first holds the lock), then goes on as raised. Should
    that read fail, the refusal goes on with the same day's alternatives it carries."""
    try:
        yield
    except SlotUnavailable as refusal:
        if refusal.alternatives_wanted is not None:
            try:
                with session_scope(engine) as session:
                    complete_alternatives(session, refusal)
            except SQLAlchemyError:
                _log.warning("A refusal's alternatives could not be read after its transaction", exc_info=True)
        raise


# ─────────────────────────────────────────────────────────────────────────────
# Eligibility (docs/decisions/0004-cbta-rules.md)
# ─────────────────────────────────────────────────────────────────────────────

def check_eligibility(session: Session, service: Service, student_id: uuid.UUID | None, start: datetime) -> None:
    """Raise NotEligible with a plain reason when the log book doesn't allow this review or final drive yet.

    The rules are compliance's (``competencies.eligibility_for_booking``): the same ones the lesson record
    enforces, per the learner's transmission, counting only tasks whose latest signed status is competent."""
    kind = service.eligibility_kind
    if kind is None:
        return
    if student_id is None:
        raise NotEligible(f"{service.name} needs your log-book progress checked first. Please sign in "
                          "to book it, or book a standard lesson.", eligibility=kind)
    result = competencies.eligibility_for_booking(session, student_id, kind, start)
    if result.ok:
        return
    if result.rule == "REVIEW_GAP":
        gap = business_settings(session).review_min_gap_hours
        ready = result.earliest.astimezone(BUSINESS_TZ)
        raise NotEligible(f"{service.name} must be at least {gap} hours after the "
                          f"last task it covers: the earliest start is {au_when(ready)}.",
                          eligibility=kind, earliest=ready.isoformat())
    missing = list(result.missing)
    if kind == "final_drive":
        raise NotEligible("The final drive can be booked once Review 2 is signed off in your log book.",
                          eligibility=kind, missing=missing)
    names = ", ".join("Review 1" if n == 101 else "Review 2" if n == 102 else f"task {n}" for n in missing[:6])
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    raise NotEligible(f"{service.name} can be booked once {names}{more} "
                      f"{'is' if len(missing) == 1 else 'are'} signed off in your log book.",
                      eligibility=kind, missing=missing)


# ─────────────────────────────────────────────────────────────────────────────
# Who may do what to a booking
# ─────────────────────────────────────────────────────────────────────────────

def _may_reserve(session: Session, actor: Actor, instructor_id: uuid.UUID, student_id: uuid.UUID | None) -> bool:
    if actor.sees_everything:
        return True
    if actor.is_visitor:
        return student_id is None  # visitors book as a contact, never in a student's name
    if actor.is_instructor:
        return actor.instructor_id == instructor_id
    if student_id is None:
        return actor.is_student
    return access.may_book_for_student(session, actor, student_id)  # students: own; parents: can_book_lessons


def _may_manage(session: Session, actor: Actor, booking: Booking, manage_token: str | None) -> bool:
    """Change or cancel: staff on their bookings, the student, a parent allowed to book, or the emailed link."""
    if manage_token and booking.manage_token_hash and hash_token(manage_token) == booking.manage_token_hash:
        return True
    return access.may_change_booking(session, actor, booking)


def may_view(session: Session, actor: Actor, booking: Booking, manage_token: str | None) -> bool:
    if manage_token and booking.manage_token_hash and hash_token(manage_token) == booking.manage_token_hash:
        return True
    return access.may_read_booking(session, actor, booking)  # book-for is not read access (access.py)


def booking_for(session: Session, actor: Actor, booking_id: uuid.UUID, manage_token: str | None,
                 *, lock: bool = False, manage: bool = True) -> Booking:
    query = select(Booking).where(Booking.id == booking_id)
    if lock:  # the house lock order: the instructor's advisory lock first, then the booking row
        instructor_id = session.execute(cached_text("SELECT instructor_id FROM bookings WHERE id = :b"),
                                        {"b": booking_id}).scalar()
        if instructor_id is not None:
            lock_instructor_id(session, instructor_id)
        query = query.with_for_update()
    booking = session.exec(query).first()
    allowed = booking is not None and (_may_manage if manage else may_view)(session, actor, booking, manage_token)
    if not allowed:
        if booking is None or actor.is_visitor:
            raise NotFound("No such booking.")  # don't confirm that a booking id exists
        raise Forbidden("This booking is not yours to change." if manage else "You don't have access to this booking.")
    return booking


def booking_by_token(session: Session, manage_token: str) -> Booking:
    booking = session.exec(select(Booking).where(Booking.manage_token_hash == hash_token(manage_token or ""))).first()
    if booking is None or not manage_token:
        raise NotFound("This booking link is not valid. Please use the link from your latest confirmation.")
    return booking


# ─────────────────────────────────────────────────────────────────────────────
# Reserve → confirm
# ─────────────────────────────────────────────────────────────────────────────

def release_lapsed_holds(session: Session, instructor_id: uuid.UUID) -> int:
    """Mark this instructor's expired holds so they stop blocking time."""
    result = session.execute(
        cached_text("UPDATE bookings SET status = 'expired' WHERE instructor_id = :i AND status = 'held' "
                "AND hold_expires_at <= now()"),
        {"i": instructor_id},
    )
    return result.rowcount or 0


def _already_locked(session: Session, instructor_id: uuid.UUID) -> bool:
    """True if this transaction holds the instructor's lock already (it lasts until commit or rollback)."""
    locks = _per_transaction(session).setdefault("locks", set())
    return instructor_id in locks


def _mark_locked(session: Session, instructor_id: uuid.UUID) -> None:
    _per_transaction(session).setdefault("locks", set()).add(instructor_id)


@dataclass
class _PreCheck:
    """A reservation's check of its time against the calendar, made before the instructor's lock."""
    start: datetime
    service_id: uuid.UUID
    rules: SlotRules
    checked: availability.CheckedCalendar | None
    ok: bool


def _precheck(session: Session, instructor: Instructor, service: Service, start: datetime,
              rules: SlotRules) -> _PreCheck:
    """Check the time against the instructor's calendar before the lock (the lock then only confirms that the
    calendar is still the one checked: ``reserve_lock``, migration 0024). ``ok`` False: the time is not
    offered in the calendar as read (or is too soon, too far, past)."""
    now = _now(session)
    day = start.astimezone(BUSINESS_TZ).date()
    if start <= now or start < rules.earliest_start or day > rules.last_day:
        return _PreCheck(start, service.id, rules, None, False)
    copies = _per_transaction(session).get("day_copies")
    kept = copies[1].pop(instructor.id, None) if copies is not None and copies[0] == start else None  # one check
    checked = availability.checked_calendar(kept, day) if kept is not None else None
    if checked is None:
        checked = availability.calendar_for_check(session, instructor.id, day)
    ok = checked is not None and any(s.start == start for s in availability.compute_slots(checked.calendar, rules,
                                                                                         day, day))
    return _PreCheck(start, service.id, rules, checked, ok)


def _lock_instructor(session: Session, instructor: Instructor, contact_keys: list[str] | None = None,
                     precheck: _PreCheck | None = None) -> None:
    # Serialise changes per instructor: the constraint alone deadlocks under load, and the
    # daily limit is only safe to check while no one else can add a lesson that day.
    # ``contact_keys``: the person's locks (contacts.lock_keys), taken after the instructor's in the same
    # statement (a select list is evaluated left to right): the house order, one round trip fewer.
    if _already_locked(session, instructor.id):
        if contact_keys:
            session.execute(cached_text("SELECT " + contacts.lock_sql(contact_keys)),
                            contacts.lock_params(contact_keys))
        return
    if precheck is not None and precheck.ok:
        # One round trip: the lock, then (after it) the calendar's version and live count, the lapsed holds
        # released and, if the calendar changed meanwhile, the window's bookings as they stand now; then the
        # person's locks (the function in FROM runs before the select list).
        c = precheck.checked
        row = session.execute(cached_text(
            "SELECT r.*" + (", " + contacts.lock_sql(contact_keys) if contact_keys else "")
            + " FROM reserve_lock_fresh(:k, :i, :lo, :hi, :lo_start, :v, :n) AS r"),
            {"k": instructor.lock_key, "i": instructor.id, "lo": c.lo, "hi": c.hi, "lo_start": c.lo_start,
             "v": c.version, "n": c.live, **contacts.lock_params(contact_keys or [])}).one()
        memo = _per_transaction(session)
        memo.setdefault("released", set()).add(instructor.id)
        if (row.version, row.live) == (c.version, c.live):
            memo.setdefault("prechecked", {})[instructor.id] = precheck
        elif row.rules_version == c.rules_version:
            # Only bookings changed: the calendar as read, with them as they stand (no second read).
            memo.setdefault("fresh", {})[instructor.id] = (precheck.start.astimezone(BUSINESS_TZ).date(),
                                                          c.with_bookings(row.b_ids, row.b_starts, row.b_untils,
                                                                          row.b_days, row.b_blocking))
    elif contact_keys:
        session.execute(cached_text("SELECT pg_advisory_xact_lock(:k), " + contacts.lock_sql(contact_keys)),
                        {"k": instructor.lock_key, **contacts.lock_params(contact_keys)})
    else:
        session.execute(cached_text("SELECT pg_advisory_xact_lock(:k)"), {"k": instructor.lock_key})
    _mark_locked(session, instructor.id)


def lock_instructor_id(session: Session, instructor_id: uuid.UUID) -> None:
    """The same per-instructor lock, by id (payments take it before the booking row; see payments.py)."""
    if _already_locked(session, instructor_id):
        return
    session.execute(cached_text("SELECT pg_advisory_xact_lock(lock_key) FROM instructors WHERE id = :i"),
                    {"i": instructor_id})
    _mark_locked(session, instructor_id)


def revive_lapsed_hold(session: Session, booking: Booking) -> bool:
    """A payment arrived for a hold that lapsed: hold the same time again if it is still free.

    The SYSTEM actor's rules (as ``reserve_slot`` with SYSTEM): the lesson must still be in the
    future and the database must accept the row back (the exclusion constraint refuses it if
    someone else booked the time). The same booking row is revived, so its reference and the
    customer's manage link stay valid. False when it can't be held again.
    """
    lock_instructor_id(session, booking.instructor_id)
    release_lapsed_holds(session, booking.instructor_id)
    session.refresh(booking)
    if booking.status not in ("held", "expired") or booking.start_time <= _now(session):
        return False
    try:
        with session.begin_nested():
            revived = session.execute(cached_text(
                "UPDATE bookings SET status = 'held', hold_expires_at = now() + interval '10 minutes' "
                "WHERE id = :id AND status IN ('held', 'expired') RETURNING id"), {"id": booking.id}).scalar()
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            session.refresh(booking)
            return False
        raise
    session.refresh(booking)
    return revived is not None


def _require_offered(session: Session, instructor: Instructor, service: Service, start: datetime,
                     *, ignore_booking_id: uuid.UUID | None = None, staff: bool = False,
                     rules: SlotRules | None = None, calendar: availability.InstructorCalendar | None = None
                     ) -> None:
    """The slot must be one the engine offers right now (staff may book any free time).

    ``calendar``: the instructor's calendar for that day as read already in this transaction (a refusal
    before the lock); default: read it now, uncached."""
    now = _now(session)
    buffer = _buffer(service, instructor.default_buffer_minutes)
    rules = rules or slot_rules(session, service, buffer_minutes=buffer, now=now)
    if start <= now:
        raise BookingTooLate("That time has already passed.", start_time=start.isoformat())
    if staff:
        return  # the school books by phone at any free time; the database still refuses overlaps
    if start < rules.earliest_start:
        hours = round((rules.earliest_start - now).total_seconds() / 3600)
        raise BookingTooLate(
            f"Online bookings need at least {hours} hours' notice. For a sooner lesson, please call us.",
            start_time=start.isoformat(),
        )
    day = start.astimezone(BUSINESS_TZ).date()
    if day > rules.last_day:
        raise BookingTooFar(f"Bookings open {(rules.last_day - now.astimezone(BUSINESS_TZ).date()).days} days ahead; "
                            f"please choose a date up to {au_date(rules.last_day)}.", start_time=start.isoformat())
    pre = _per_transaction(session).get("prechecked", {}).pop(instructor.id, None)  # good for one check
    if (pre is not None and ignore_booking_id is None and pre.start == start and pre.service_id == service.id
            and pre.rules is rules):
        return  # checked against this very calendar before the lock; reserve_lock found it unchanged since
    cal = calendar or _calendar_under_lock(session, instructor.id, day)
    day_slots = availability.compute_slots(cal, rules, day, day, ignore_booking_id=ignore_booking_id) if cal else []
    if any(s.start == start for s in day_slots):
        return
    # The nearest alternatives: the same day's come first, so when it has enough of them (the calendar just read
    # in this transaction says so) the fortnight around it need not be read. When it has not: read now if this
    # transaction holds no instructor's lock; under a lock, the refusal carries the day's few and is completed
    # after the transaction ends (``complete_alternatives``), not while every other booking of the instructor
    # waits for the lock.
    near, wanted = _same_day_nearest(day_slots, start), None
    if near is None:
        if _holds_an_instructor_lock(session):
            near = _same_day_sorted(day_slots, start)
            wanted = _alternatives_wanted(session, service, start, instructor.id, ignore_booking_id)
        else:
            near = nearest_alternatives(session, service, start, instructor_id=instructor.id,
                                        ignore_booking_id=ignore_booking_id)
    if cal is not None:
        cal.busy, cal.booked_on = [], {}
        if any(s.start == start for s in availability.compute_slots(cal, rules, day, day)):
            # Within working hours, so someone else's booking or hold is in the way.
            raise _wanting_alternatives(SlotUnavailable(
                "Sorry, that time has just been taken. Here are the nearest free times.",
                start_time=start.isoformat(), suggested_alternatives=near), wanted)
    raise _wanting_alternatives(SlotUnavailable("That time is not available. Here are the nearest free times.",
                                                start_time=start.isoformat(), suggested_alternatives=near), wanted)


def _same_day_nearest(day_slots: list[Slot], start: datetime, n: int = ALTERNATIVES) -> list[dict] | None:
    """``nearest_alternatives`` from one instructor's offered times on the refused time's day, if that day has
    at least ``n`` others (they would all come before any other day's); None if it has fewer."""
    if sum(s.start != start for s in day_slots) < n:
        return None
    return _same_day_sorted(day_slots, start, n)


def _same_day_sorted(day_slots: list[Slot], start: datetime, n: int = ALTERNATIVES) -> list[dict]:
    """The day's other offered times, nearest first (at most ``n``): the head of ``nearest_alternatives``."""
    others = [s for s in day_slots if s.start != start]
    others.sort(key=lambda s: (abs((s.start - start).total_seconds()), s.start))
    return [slot_view(s) for s in others[:n]]


def _choose_instructor(session: Session, service: Service, start: datetime, instructor_id: uuid.UUID | None
                       ) -> Instructor:
    if instructor_id is not None:
        memo = _per_transaction(session)
        instructor = memo.get("instructors", {}).get(instructor_id)  # book_lesson, then reserve_slot
        if instructor is None or (service.id, instructor_id) not in memo.get("offers", ()):
            row = _instructor_teaching(session, instructor_id, service.id)
            instructor = row[0] if row else None
            if instructor is None or instructor.status != "active":
                raise NotFound("No such instructor.", field="instructor_id")
            if not row[1]:
                raise ValidationFailed(f"This instructor doesn't offer {service.name}. Please choose another "
                                       "instructor or \u201cfirst available\u201d.", field="instructor_id")
            memo = _per_transaction(session)  # the statement may have begun the transaction
            memo.setdefault("offers", set()).add((service.id, instructor.id))
            memo.setdefault("instructors", {})[instructor.id] = instructor
        elif instructor.status != "active":
            raise NotFound("No such instructor.", field="instructor_id")
        return instructor
    day = start.astimezone(BUSINESS_TZ).date()
    free = [s.instructor_id for s in find_slots(session, service=service, date_from=day, date_to=day, at=start)]
    row = _instructor_teaching(session, free[0], service.id) if free else None
    chosen = row[0] if row is not None else session.exec(
        select(Instructor).where(Instructor.status == "active").order_by(Instructor.is_owner.desc(),
                                                                         Instructor.created_at)).first()
    if chosen is None:
        raise NotFound("No instructor is taking bookings.")
    # The others free then, in the same order: "first available" falls through to them (``book_lesson``).
    _per_transaction(session)["free_at"] = (service.id, start, free)
    if row is not None:
        _remember_teaches(session, service, chosen)
    return chosen


def _remember_teaches(session: Session, service: Service, instructor: Instructor) -> None:
    """An instructor found free for this lesson type (``find_slots`` reads only those who teach it): what
    ``_choose_instructor`` would otherwise read again by id when the reservation names them."""
    memo = _per_transaction(session)
    memo.setdefault("offers", set()).add((service.id, instructor.id))
    memo.setdefault("instructors", {})[instructor.id] = instructor


def _next_free_instructors(session: Session, service: Service, start: datetime, tried: set[uuid.UUID]
                           ) -> Iterator[Instructor]:
    """The other instructors "first available" found free at ``start`` in this transaction, in its order."""
    known = _per_transaction(session).get("free_at")
    if known is None or known[0] != service.id or known[1] != start:
        return
    for iid in known[2]:
        if iid in tried:
            continue
        tried.add(iid)
        other = session.get(Instructor, iid)
        if other is not None and other.status == "active":
            _remember_teaches(session, service, other)
            yield other


def _free_others(session: Session, service: Service, start: datetime, tried: set[uuid.UUID]
                 ) -> Iterator[tuple[Instructor, SlotRules, _PreCheck]]:
    """The next instructors "first available" found free at ``start`` whose calendar, read now, still offers it:
    each with its slot rules and that check (no lock taken)."""
    for other in _next_free_instructors(session, service, start, tried):
        other_rules = slot_rules(session, service, buffer_minutes=_buffer(service, other.default_buffer_minutes))
        pre = _precheck(session, other, service, start, other_rules)
        if pre.ok:
            yield other, other_rules, pre


def _calendar_under_lock(session: Session, instructor_id: uuid.UUID, day: date
                         ) -> availability.InstructorCalendar | None:
    """The instructor's calendar for the day as it stands, with their lock held: what ``reserve_lock_fresh``
    brought back (good for one check), else read now."""
    fresh = _per_transaction(session).get("fresh", {}).pop(instructor_id, None)
    if fresh is not None and fresh[0] == day:
        return fresh[1]
    return availability.load_calendars(session, [instructor_id], day, day).get(instructor_id)


def _offered_under_lock(session: Session, instructor: Instructor, service: Service, start: datetime,
                        rules: SlotRules) -> tuple[bool, availability.InstructorCalendar | None]:
    """Whether the time is offered by the instructor's calendar as it stands (their lock held)."""
    day = start.astimezone(BUSINESS_TZ).date()
    cal = _calendar_under_lock(session, instructor.id, day)
    return cal is not None and any(s.start == start for s in availability.compute_slots(cal, rules, day, day)), cal


def _mark_checked(session: Session, instructor: Instructor, service: Service, start: datetime,
                  rules: SlotRules) -> None:
    """The time was checked under the instructor's lock: ``reserve_slot`` need not read the calendar again."""
    _per_transaction(session).setdefault("prechecked", {})[instructor.id] = _PreCheck(start, service.id, rules,
                                                                                       None, True)


def _try_lock_instructor(session: Session, instructor: Instructor, precheck: _PreCheck) -> bool:
    """The instructor's lock if no one holds it (never waits: a reservation falling through to another
    instructor holds one lock already, and waiting in an order others don't follow could deadlock)."""
    if not session.execute(cached_text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": instructor.lock_key}).scalar():
        return False
    _lock_instructor(session, instructor, precheck=precheck)  # reserve_lock(): taken already, returns at once
    return True


@functools.cache
def _instructor_teaching_statement():
    """Built once (SQLAlchemy keeps its cache key with it)."""
    name = sa.select(Profile.first_name + " " + Profile.last_name).where(
        Profile.id == Instructor.profile_id).scalar_subquery()
    iid, sid = sa.bindparam("iid", type_=sa.Uuid), sa.bindparam("sid", type_=sa.Uuid)
    return select(Instructor, catalogue.offers_clause(Instructor.id, sid), name).where(Instructor.id == iid)


def _instructor_teaching(session: Session, instructor_id: uuid.UUID, service_id: uuid.UUID):
    """One statement: the instructor, whether they teach this lesson type, and their name (the summary's, kept
    for the transaction like ``_instructor_name``). None when there is no such instructor."""
    row = session.execute(_instructor_teaching_statement(), {"iid": instructor_id, "sid": service_id}).first()
    if row is not None:
        _per_transaction(session).setdefault("names", {}).setdefault(row[0].id, row[2] or "your instructor")
    return row


def _first_available(session: Session, service: Service, start: datetime, instructor: Instructor,
                     rules: SlotRules, precheck: _PreCheck) -> tuple[Instructor, SlotRules]:
    """"First available", with the chosen instructor's lock held: if the time went to someone else while this
    reservation waited for the lock, the next instructor free then (in the chooser's order) rather than a
    refusal. Their locks are only *tried*: one that is busy is passed over. Refused (the first instructor's
    refusal, with their nearest times) only when no one is left."""
    if instructor.id in _per_transaction(session).get("prechecked", {}):
        return instructor, rules  # reserve_lock found the calendar unchanged since the check: it stands
    ok, cal = _offered_under_lock(session, instructor, service, start, rules)
    if ok:
        _mark_checked(session, instructor, service, start, rules)
        return instructor, rules
    for other, other_rules, pre in _free_others(session, service, start, {instructor.id}):
        if not _try_lock_instructor(session, other, pre):
            continue
        if other.id not in _per_transaction(session).get("prechecked", {}):
            if not _offered_under_lock(session, other, service, start, other_rules)[0]:
                continue
            _mark_checked(session, other, service, start, other_rules)
        _instructor_name(session, other.id)
        return other, other_rules
    _require_offered(session, instructor, service, start, rules=rules, calendar=cal)  # raises, with alternatives
    return instructor, rules


def _conflict(session: Session, service: Service, start: datetime, instructor_id: uuid.UUID | None,
              ignore_booking_id: uuid.UUID | None = None) -> SlotUnavailable:
    """The exclusion constraint refused the row. Its alternatives: read now if this transaction holds no
    instructor's lock, else completed after it ends (``complete_alternatives``)."""
    if _holds_an_instructor_lock(session):
        return _wanting_alternatives(SlotUnavailable(
            "Sorry, that time has just been taken. Here are the nearest free times.",
            start_time=start.isoformat(), suggested_alternatives=[]),
            _alternatives_wanted(session, service, start, instructor_id, ignore_booking_id))
    return SlotUnavailable(
        "Sorry, that time has just been taken. Here are the nearest free times.",
        start_time=start.isoformat(),
        suggested_alternatives=nearest_alternatives(session, service, start, instructor_id=instructor_id,
                                                    ignore_booking_id=ignore_booking_id),
    )


def reserve_slot(
    session: Session,
    actor: Actor,
    *,
    service_id: uuid.UUID | str,
    start_time: datetime,
    instructor_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    student_id: uuid.UUID | None = None,
    booked_via: str = "website",
    hold_minutes: int | None = None,
    pickup_address: str | None = None,
    suburb: str | None = None,
    booking_notes: str | None = None,
    rules: SlotRules | None = None,
    prepare: Callable[[uuid.UUID], dict] | None = None,
) -> Booking:
    """Hold a lesson time for a short while; raises SlotUnavailable (with alternatives) if it is taken.

    A refusal under the instructor's lock may carry only the day's alternatives: complete them after the
    transaction (``complete_alternatives``).

    ``rules``: the slot rules for this service and instructor when the caller read them already (before
    taking the lock); ``prepare``: given the new row's id, further columns for it before it is inserted (one INSERT
    rather than an INSERT and an UPDATE while the instructor's lock is held)."""
    if start_time.tzinfo is None:
        raise ValidationFailed("start_time must carry a time zone", field="start_time")
    service = _service(session, service_id)
    if (actor.is_visitor or actor.is_family) and not service.is_bookable_online:
        raise Forbidden("This lesson type is booked by phone. Please call us.")
    start = start_time.astimezone(UTC)
    instructor = _choose_instructor(session, service, start, instructor_id)
    if not _may_reserve(session, actor, instructor.id, student_id):
        raise Forbidden("You cannot book for this instructor or student.")
    check_eligibility(session, service, student_id, start)
    # Everything that doesn't depend on the instructor's bookings is read before the lock.
    now = _now(session)
    buffer = _buffer(service, instructor.default_buffer_minutes)
    rules = rules or slot_rules(session, service, buffer_minutes=buffer, now=now)
    hold_minutes = hold_minutes or business_settings(session).hold_minutes or DEFAULT_HOLD_MINUTES

    _lock_instructor(session, instructor)
    if instructor.id not in _per_transaction(session).get("released", ()):  # reserve_lock released them
        release_lapsed_holds(session, instructor.id)
    _require_offered(session, instructor, service, start, staff=actor.is_school, rules=rules)
    end = start + timedelta(minutes=service.duration_minutes)
    fields = dict(
        id=uuid.uuid4(), instructor_id=instructor.id, service_id=service.id, student_id=student_id,
        contact_id=contact_id, scheduled_date=start.astimezone(BUSINESS_TZ).date(), start_time=start, end_time=end,
        duration_minutes=service.duration_minutes, buffer_minutes=buffer,
        blocked_until=end + timedelta(minutes=buffer), status="held",
        hold_expires_at=now + timedelta(minutes=hold_minutes), amount_cents=service.price_cents,
        booked_via=booked_via, booked_by=actor.user_id, pickup_address=pickup_address, suburb=suburb,
        booking_notes=booking_notes,
    )
    if prepare is not None:
        fields.update(prepare(fields["id"]))
    if not actor.is_school:
        # The re-check above ran under the instructor's lock, after lapsed holds were released, against the
        # same now(): the exclusion constraint can't refuse this row, so no savepoint (two round trips while
        # the lock is held). Should it refuse anyway, the transaction is spoilt: no alternatives to offer.
        # One INSERT of the row ``Booking(**fields)`` would be, returning it whole, loaded as a tracked object (the
        # ORM's flush costs ~1 ms of Python more under the lock, SQLModel's constructor ~1 ms, and the statement
        # is compiled once: its values are parameters, not part of it).
        if session.new or session.dirty:
            session.flush()  # rows it refers to first
        try:
            return session.scalars(select(Booking).from_statement(_INSERT_BOOKING), row_values(Booking, fields)).one()
        except IntegrityError as exc:
            if isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise SlotUnavailable("Sorry, that time has just been taken. Please choose another time.",
                                      start_time=start.isoformat(), suggested_alternatives=[]) from None
            raise
    booking = Booking(**fields)
    try:  # staff may book any free time: only the constraint checks it
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise _conflict(session, service, start, instructor.id) from None
        raise
    return booking


_INSERT_BOOKING = sa.insert(Booking.__table__).returning(*Booking.__table__.columns)


@dataclass
class Reservation:
    booking: Booking
    manage_token: str | None  # None on a signed-in caller's retry: the link is never handed out twice
    summary: dict


def _reserve_token(booking_id: uuid.UUID, idempotency_key: str) -> str:
    """The manage link of a hold reserved with an idempotency key: the same key gives the same link."""
    import base64
    import hashlib
    digest = hashlib.sha256(f"nexdrive-reserve:{booking_id}:{idempotency_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _same_callers_hold(session: Session, actor: Actor, start: datetime, service_id: uuid.UUID,
                       student_id: uuid.UUID | None, manage_token: str | None, idempotency_key: str | None
                       ) -> tuple[Booking | None, str | None]:
    """A live hold at this time made by this very caller, and the manage link to return with it.

    Only proof of being the same caller counts: the hold's manage token, the idempotency key sent
    with it, or the signed-in user who made it. Never a matching email, phone or contact.
    """
    if not (idempotency_key or manage_token or (not actor.is_visitor and actor.user_id is not None)):
        return None, None  # no proof of being anyone in particular: never a retry
    live = select(Booking).where(Booking.start_time == start, Booking.status == "held",
                                 Booking.hold_expires_at > sa.func.now(), Booking.service_id == service_id)
    if idempotency_key:
        keyed = session.exec(select(Booking).where(
            Booking.reserve_key_hash == hash_token("reserve:" + idempotency_key))).first()
        if keyed is not None:
            if session.exec(live.where(Booking.id == keyed.id)).first() is None:
                raise ValidationFailed("This idempotency key was already used for another reservation.",
                                       field="idempotency_key")
            return keyed, _reserve_token(keyed.id, idempotency_key)
    if manage_token:
        mine = session.exec(live.where(Booking.manage_token_hash == hash_token(manage_token))).first()
        if mine is not None:
            return mine, manage_token
    if not actor.is_visitor and actor.user_id is not None:
        mine = session.exec(live.where(Booking.booked_by == actor.user_id,
                                       Booking.student_id == student_id if student_id else
                                       Booking.student_id.is_(None))).first()
        if mine is not None:
            return mine, None
    return None, None


def book_lesson(
    session: Session,
    actor: Actor,
    *,
    service_id: uuid.UUID | str,
    start_time: datetime,
    instructor_id: uuid.UUID | None = None,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    pickup_address: str | None = None,
    suburb: str | None = None,
    notes: str | None = None,
    student_id: uuid.UUID | None = None,
    booked_via: str = "website",
    utm: contacts.Utm | None = None,
    manage_token: str | None = None,
    idempotency_key: str | None = None,
) -> Reservation:
    """Reserve for a person: a visitor gives their details; a signed-in student's come from their account.

    The contact is created or updated in the same transaction (CRM). A retry by the same caller
    returns the same hold instead of a conflict: the same signed-in user (no manage link is handed
    out again), the caller's own ``manage_token`` for that hold (it stays the same), or the same
    ``idempotency_key`` (the same manage link, derived from the key). Matching an email or a phone
    proves nothing: anyone else gets SlotUnavailable, and a manage link is never rotated here. A refusal's
    alternatives may need completing after the transaction (``refusals_with_alternatives``).
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 16 <= len(idempotency_key) <= 200:
            raise ValidationFailed("The idempotency key must be 16 to 200 characters.", field="idempotency_key")
    pickup_address = _clean_text(pickup_address, "pickup_address", "pickup address", required=True)
    suburb = _clean_text(suburb, "suburb", "suburb", required=True)
    notes = _clean_text(notes, "notes", "note")
    if actor.is_student:
        student_id = actor.student_id
    if student_id is not None:
        profile = session.exec(select(Profile).join(Student, Student.profile_id == Profile.id)
                               .where(Student.id == student_id)).first()
        if profile is None:
            raise NotFound("No such student.")
        name = name or f"{profile.first_name} {profile.last_name}"
        phone = phone or profile.phone
        email = email or profile.email
    else:
        contacts.split_name(name)
        if not email:
            raise ValidationFailed("Please enter your email address.", field="email")
    phone = contacts.normalise_au_mobile(phone)
    _prefetch_reservation(session, service_id, instructor_id)
    # The house lock order: the instructor's lock before the contact row (payments take it before the
    # rows they change too), so a reservation never waits for it while holding a row.
    service = _service(session, service_id)
    instructor = _choose_instructor(session, service, start_time.astimezone(UTC), instructor_id)
    # Read before the lock what doesn't depend on the instructor's bookings: the time, the settings, the slot
    # rules (notice, horizon, holidays) and the instructor's name for the summary.
    rules = slot_rules(session, service, buffer_minutes=_buffer(service, instructor.default_buffer_minutes))
    _instructor_name(session, instructor.id)
    locks_taken = False
    if _may_reserve(session, actor, instructor.id, student_id):
        # The time checked against the calendar before the lock (staff book any free time: no check); then the
        # instructor's lock, the calendar confirmed unchanged, the lapsed holds released and the person's locks
        # (record_contact's), in one round trip.
        precheck = None if actor.is_school else _precheck(session, instructor, service, start_time.astimezone(UTC),
                                                           rules)
        # "First available" (no instructor asked for): refused only when no instructor is free then.
        first_available = instructor_id is None and precheck is not None and not actor.is_instructor
        if first_available and not precheck.ok:
            free = next(_free_others(session, service, precheck.start, {instructor.id}), None)
            if free is not None:
                instructor, rules, precheck = free
                _instructor_name(session, instructor.id)
        if (precheck is not None and not precheck.ok and not manage_token and not idempotency_key
                and (actor.is_visitor or actor.user_id is None)):
            # Refused as the calendar stands: no lock, no contact, nothing written. (A caller who could be
            # retrying their own hold, which is what makes the time look taken, goes the locked way below.)
            # reserve_slot's own refusals first, in its order.
            if (actor.is_visitor or actor.is_family) and not service.is_bookable_online:
                raise Forbidden("This lesson type is booked by phone. Please call us.")
            check_eligibility(session, service, student_id, precheck.start)
            _require_offered(session, instructor, service, precheck.start, rules=rules,
                             calendar=precheck.checked.calendar if precheck.checked else None)
        _lock_instructor(session, instructor, contacts.lock_keys(phone, normalise_email(email) if email else None),
                         precheck=precheck)
        if first_available and precheck.ok:
            instructor, rules = _first_available(session, service, precheck.start, instructor, rules, precheck)
        instructor_id, locks_taken = instructor.id, True
    contact = contacts.record_contact(
        session, actor if not actor.is_parent else Actor(role="system"), name=name, phone=phone, email=email,
        source={"voice_agent": "voice_agent", "sms": "sms", "phone": "phone"}.get(booked_via, "website"),
        utm=utm, stage="qualified", trusted=not actor.is_visitor, locks_taken=locks_taken,
    )

    start = start_time.astimezone(UTC)
    retry, token = _same_callers_hold(session, actor, start, service.id, student_id,
                                      manage_token, idempotency_key)
    new_link: list[str] = []

    def details(booking_id: uuid.UUID) -> dict:  # a new hold: its manage link, and the details typed in it (0009)
        link = _reserve_token(booking_id, idempotency_key) if idempotency_key else new_token()
        new_link.append(link)
        return dict(manage_token_hash=hash_token(link),
                    reserve_key_hash=hash_token("reserve:" + idempotency_key) if idempotency_key else None,
                    booker_name=" ".join((name or "").split()) or None, booker_phone=phone,
                    booker_email=normalise_email(email) if email else None)

    booking = retry or reserve_slot(
        session, actor, service_id=service_id, start_time=start, instructor_id=instructor_id,
        contact_id=contact.id, student_id=student_id, booked_via=booked_via,
        pickup_address=pickup_address, suburb=suburb, booking_notes=notes,
        rules=rules if instructor_id == instructor.id else None, prepare=details,
    )
    if retry is None:
        token = new_link[0]
    summary = booking_summary(session, booking)
    if retry is None:  # appended just before the commit: the chain's head stays locked for one round trip
        audit.append_at_commit(session, actor, "booking.reserved", subject_type="booking", subject_id=booking.id,
                               details={"start": start.isoformat(), "service": str(booking.service_id),
                                        "via": booked_via})
    return Reservation(booking, token, summary)


def confirm_booking(session: Session, actor: Actor, booking_id: uuid.UUID, *,
                    manage_token: str | None = None, payment_status: str = "unpaid") -> Booking:
    """Turn a live hold into a booking (pay later for now). Replaying a confirmation changes nothing."""
    booking = _booking_with_context(session, booking_id)
    if booking is None:
        raise NotFound("No such booking.")
    if actor.is_instructor and actor.instructor_id != booking.instructor_id:
        raise Forbidden("This booking is not yours.")
    if actor.is_student and booking.student_id not in (None, actor.student_id):
        raise Forbidden("This booking is not yours.")
    if actor.is_parent and not access.may_change_booking(session, actor, booking):
        raise Forbidden("This booking is not yours.")
    # Compare-and-swap: only an unexpired hold becomes confirmed; its contact becomes 'enrolled' in the same
    # statement, which also brings the transaction's now() (one round trip for the three).
    row = session.execute(
        cached_text("WITH b AS (UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL, payment_status = :p "
                "WHERE id = :id AND status = 'held' AND hold_expires_at > now() RETURNING id, contact_id), "
                "c AS (UPDATE contacts SET lifecycle_stage = 'enrolled' FROM b WHERE contacts.id = b.contact_id "
                "AND contacts.lifecycle_stage IN ('prospect','lead','qualified','lost')) "
                "SELECT (SELECT id FROM b) AS id, now() AS now"),
        {"id": booking_id, "p": payment_status},
    ).one()
    confirmed = row.id
    clock.remember_database_now(session, row.now)
    if not clock.is_pinned():
        _per_transaction(session)["now"] = row.now
    if confirmed is not None:  # what the UPDATE wrote, without reading the row back
        set_committed_value(booking, "status", "confirmed")
        set_committed_value(booking, "hold_expires_at", None)
        set_committed_value(booking, "payment_status", payment_status)
    else:
        session.refresh(booking)
    if confirmed is None:
        if booking.status == "confirmed":
            return booking  # a replay: nothing more to do
        raise HoldExpired("The hold on this time has lapsed; please choose a time again.",
                          suggested_alternatives=nearest_alternatives(
                              session, session.get(Service, booking.service_id), booking.start_time))
    if not (manage_token and booking.manage_token_hash == hash_token(manage_token)):
        manage_token = new_token()  # confirmed by someone else (staff): the customer gets a fresh link
        booking.manage_token_hash = hash_token(manage_token)
        session.add(booking)
        session.flush()
    _notify(session, booking, "booking_confirmation", manage_url=manage_url(manage_token))
    # Appended just before the commit: the chain's head stays locked for one round trip.
    audit.append_at_commit(session, actor, "booking.confirmed", subject_type="booking", subject_id=booking.id,
                           details={"start": booking.start_time.isoformat()})
    return booking


@functools.cache
def _with_context_statement():
    """``_booking_with_context``'s statement, built once (building it cost ~0.3 ms a confirmation)."""
    name = sa.select(Profile.first_name + " " + Profile.last_name).join(
        Instructor, Instructor.profile_id == Profile.id).where(Instructor.id == Booking.instructor_id)
    return (select(Booking, Service, BusinessSettings, name.scalar_subquery().label("instructor_name"))
            .outerjoin(Service, Service.id == Booking.service_id)
            .outerjoin(BusinessSettings, BusinessSettings.id == 1)
            .where(Booking.id == sa.bindparam("booking_id")))


def _booking_with_context(session: Session, booking_id: uuid.UUID) -> Booking | None:
    """A booking with what its summary and messages need (its lesson type, its instructor's name, the business
    settings), in one statement; the three are kept for the transaction like ``_service_row``,
    ``_instructor_name`` and ``business_settings`` keep them."""
    row = session.execute(_with_context_statement(), {"booking_id": booking_id}).first()
    if row is None:
        return None
    booking, service, settings, instructor_name = row
    memo = _per_transaction(session)  # the statement may have begun the transaction
    memo.setdefault("services", {})[booking.service_id] = service
    memo.setdefault("names", {})[booking.instructor_id] = instructor_name or "your instructor"
    if settings is not None:
        memo["settings"] = settings
    return booking


def manage_url(token: str) -> str:
    return notify.public_url(f"/booking/manage?token={token}")


# ─────────────────────────────────────────────────────────────────────────────
# Change: reschedule, cancel, waive, no-show
# ─────────────────────────────────────────────────────────────────────────────

def _in_free_window(session: Session, booking: Booking, now: datetime) -> bool:
    hours = business_settings(session).cancellation_notice_hours
    return now <= booking.start_time - timedelta(hours=hours)


def reschedule_booking(session: Session, actor: Actor, booking_id: uuid.UUID, new_start: datetime, *,
                       manage_token: str | None = None) -> Booking:
    """Move the same booking to a new time in one step; the old time is freed only if the new one is taken.

    A refusal's alternatives may need completing after the transaction (``refusals_with_alternatives``)."""
    if new_start.tzinfo is None:
        raise ValidationFailed("start_time must carry a time zone", field="start_time")
    booking = booking_for(session, actor, booking_id, manage_token)
    if booking.status != "confirmed":
        raise InvalidState("Only a confirmed upcoming lesson can be moved.")
    staff = actor.is_school
    now = _now(session)
    policy = business_settings(session)
    if not staff and not _in_free_window(session, booking, now):
        raise BookingTooLate(f"Lessons can be moved online up to {policy.cancellation_notice_hours} hours before "
                             "they start. Please call us, or cancel (a late-cancellation fee applies).")
    service = session.get(Service, booking.service_id)
    instructor = session.get(Instructor, booking.instructor_id)
    new_start = new_start.astimezone(UTC)
    check_eligibility(session, service, booking.student_id, new_start)
    _lock_instructor(session, instructor)
    session.refresh(booking, with_for_update=True)
    if booking.status != "confirmed":
        raise InvalidState("This lesson has just been changed; please reload it.")
    release_lapsed_holds(session, instructor.id)
    _require_offered(session, instructor, service, new_start, ignore_booking_id=booking.id, staff=staff)
    old_start, old_blocked = booking.start_time, booking.blocked_until
    end = new_start + timedelta(minutes=booking.duration_minutes)
    try:
        with session.begin_nested():
            session.execute(cached_text(
                "UPDATE bookings SET start_time = :s, end_time = :e, scheduled_date = :d, "
                "reschedule_count = reschedule_count + 1 WHERE id = :id"),
                {"s": new_start, "e": end, "d": new_start.astimezone(BUSINESS_TZ).date(), "id": booking.id})
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise _conflict(session, service, new_start, instructor.id, booking.id) from None
        raise
    session.refresh(booking)
    audit.record_event(session, actor, "booking.rescheduled", subject_type="booking", subject_id=booking.id,
                       details={"from": old_start.isoformat(), "to": new_start.isoformat()})
    _notify(session, booking, "booking_rescheduled", previous=au_when(old_start))
    offer_freed_slot(session, booking, old_start, old_blocked)
    return booking


@dataclass
class CancelOutcome:
    booking: Booking
    fee_cents: int
    free: bool
    message: str


def cancellation_terms(session: Session, booking: Booking, now: datetime | None = None) -> dict:
    """What cancelling now would cost: shown before the person confirms."""
    now = now or _now(session)
    settings = business_settings(session)
    free = _in_free_window(session, booking, now)
    fee = 0 if free else min(settings.late_cancellation_fee_cents, booking.amount_cents)
    deadline = booking.start_time - timedelta(hours=settings.cancellation_notice_hours)
    return {"free": free, "fee_cents": fee, "fee": aud(fee), "notice_hours": settings.cancellation_notice_hours,
            "free_until": au_when(deadline), "can_reschedule": free}


def cancel_booking(session: Session, actor: Actor, booking_id: uuid.UUID, *, reason: str | None = None,
                   manage_token: str | None = None, waive_fee: bool = False) -> CancelOutcome:
    """Cancel under the school's policy: free until the notice window, a late fee after it (staff can waive)."""
    reason = _clean_text(reason, "reason", "reason")
    booking = booking_for(session, actor, booking_id, manage_token, lock=True)
    if booking.status == "cancelled":
        return CancelOutcome(booking, booking.cancellation_fee_cents, booking.cancellation_fee_cents == 0,
                             "This lesson was already cancelled.")  # a retried cancel changes nothing
    if booking.status not in ("held", "confirmed"):
        raise InvalidState("This lesson can no longer be cancelled.")
    staff = actor.is_school
    if waive_fee and not staff:
        raise Forbidden("Only the school can waive a cancellation fee.")
    now = _now(session)
    if booking.start_time <= now and not staff:
        raise BookingTooLate("This lesson has already started. Please call us.")
    terms = cancellation_terms(session, booking, now)
    fee = 0 if (waive_fee or booking.status == "held") else terms["fee_cents"]
    old_start, old_blocked, was_confirmed = booking.start_time, booking.blocked_until, booking.status == "confirmed"
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by = actor.user_id
    booking.cancellation_reason = reason
    booking.cancellation_fee_cents = fee
    booking.hold_expires_at = None
    if waive_fee and terms["fee_cents"]:
        booking.fee_waived_at, booking.fee_waived_by = now, actor.user_id
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "booking.cancelled", subject_type="booking", subject_id=booking.id,
                       details={"start": old_start.isoformat(), "fee_cents": fee, "late": not terms["free"],
                                "waived": bool(waive_fee and terms["fee_cents"]), "reason": reason})
    if old_start > now:
        if was_confirmed:  # letting go of an unconfirmed hold is not news to anyone
            _notify(session, booking, "booking_cancelled", fee=aud(fee) if fee else "")
        offer_freed_slot(session, booking, old_start, old_blocked)
    # Money follows the policy (refund all or all but the fee, or a package credit back): money subscribes.
    settled = {"refunded_cents": 0, "credit_returned": False}
    for result in events.publish("booking.cancelled", session=session, actor=actor, booking=booking):
        settled["refunded_cents"] += result.get("refunded_cents", 0)
        settled["credit_returned"] = settled["credit_returned"] or bool(result.get("credit_returned"))
    message = (f"Cancelled. A late-cancellation fee of {aud(fee)} applies." if fee
               else "Cancelled. There is no charge.")
    if settled["refunded_cents"]:
        message += f" {aud(settled['refunded_cents'])} is being refunded to your card."
    if settled["credit_returned"]:
        message += " The lesson credit is back in your package."
    return CancelOutcome(booking, fee, fee == 0, message)


def waive_cancellation_fee(session: Session, actor: Actor, booking_id: uuid.UUID) -> Booking:
    """The instructor or owner lets a late cancellation off."""
    booking = booking_for(session, actor, booking_id, None, lock=True)
    if not actor.is_school:
        raise Forbidden("Only the school can waive a cancellation fee.")
    if booking.status != "cancelled":
        raise InvalidState("Only a cancelled lesson has a fee to waive.")
    if booking.cancellation_fee_cents == 0:
        return booking
    fee = booking.cancellation_fee_cents
    booking.cancellation_fee_cents = 0
    booking.fee_waived_at, booking.fee_waived_by = _now(session), actor.user_id
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "booking.fee_waived", subject_type="booking", subject_id=booking.id,
                       details={"fee_cents": fee})
    events.publish("booking.fee_waived", session=session, actor=actor, booking=booking)  # money refunds the fee
    return booking


def mark_no_show(session: Session, actor: Actor, booking_id: uuid.UUID, *, note: str | None = None) -> Booking:
    """The learner didn't turn up: the school keeps the lesson fee."""
    booking = booking_for(session, actor, booking_id, None, lock=True)
    if not actor.is_school:
        raise Forbidden("Only the instructor or the school can record a no-show.")
    if booking.status == "no_show":
        return booking
    if booking.status != "confirmed":
        raise InvalidState("Only a confirmed lesson can be marked as a no-show.")
    if booking.start_time > _now(session):
        raise InvalidState("A lesson can only be marked as a no-show once its start time has passed.")
    booking.status = "no_show"
    booking.cancellation_fee_cents = booking.amount_cents
    booking.admin_notes = "\n".join(filter(None, [booking.admin_notes, _clean_text(note, "note", "note")]))
    session.add(booking)
    session.flush()
    audit.record_event(session, actor, "booking.no_show", subject_type="booking", subject_id=booking.id)
    return booking


# ─────────────────────────────────────────────────────────────────────────────
# Waitlist
# ─────────────────────────────────────────────────────────────────────────────

def join_waitlist(session: Session, actor: Actor, *, service_id: uuid.UUID | str | None = None,
                  preferred_day: int | None = None, time_start: time | None = None, time_end: time | None = None,
                  name: str | None = None, phone: str | None = None, email: str | None = None,
                  instructor_id: uuid.UUID | None = None) -> WaitlistEntry:
    """Ask to be told when a time like this frees up (the message goes out through the outbox)."""
    if preferred_day is not None and not 0 <= preferred_day <= 6:
        raise ValidationFailed("Choose a day of the week.", field="preferred_day")
    if (time_start is None) != (time_end is None) or (time_start and time_end <= time_start):
        raise ValidationFailed("Choose a time range like 3 pm to 6 pm.", field="time_end")
    service = _service(session, service_id) if service_id else None
    student_id = actor.student_id if actor.is_student else None
    contact = None
    if student_id is None:
        if actor.is_parent:
            raise Forbidden("Please join the waitlist from the learner's account.")
        contact = contacts.record_contact(session, actor, name=name, phone=contacts.normalise_au_mobile(phone),
                                          email=email, source="website", stage="lead")
    entry = WaitlistEntry(student_id=student_id, contact_id=contact.id if contact else None,
                          instructor_id=instructor_id, preferred_day=preferred_day, preferred_time_start=time_start,
                          preferred_time_end=time_end, service_id=service.id if service else None)
    session.add(entry)
    session.flush()
    return entry


def offer_freed_slot(session: Session, booking: Booking, start: datetime, blocked_until: datetime) -> int:
    """Offer a freed time to the earliest matching waitlist entries (first to book it gets it)."""
    local = start.astimezone(BUSINESS_TZ)
    entries = session.exec(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == "waiting",
            sa.or_(WaitlistEntry.instructor_id.is_(None), WaitlistEntry.instructor_id == booking.instructor_id),
            sa.or_(
                WaitlistEntry.preferred_day.is_(None), WaitlistEntry.preferred_day == availability.dow(local.date())
            ),
            sa.or_(
                WaitlistEntry.preferred_time_start.is_(None),
                sa.and_(
                    WaitlistEntry.preferred_time_start <= local.time().replace(tzinfo=None),
                    WaitlistEntry.preferred_time_end > local.time().replace(tzinfo=None),
                ),
            ),
        )
        .order_by(WaitlistEntry.created_at)
        .limit(ALTERNATIVES)
        .with_for_update(skip_locked=True)
    ).all()
    now = _now(session)
    for entry in entries:
        entry.status, entry.notified_at, entry.offered_start_time = "notified", now, start
        session.add(entry)
        recipient = recipient_for(session, entry.student_id, entry.contact_id)
        notify.queue_message(session, "waitlist_available", to={**recipient, "contact_id": entry.contact_id},
                             data={"when": au_when(start), "book_url": notify.public_url("/book")}, channels=("sms",),
                             idempotency_key={"sms": f"waitlist:{entry.id}:{start.isoformat()}"},
                             related_type="waitlist", related_id=entry.id, template_data={})
    session.flush()
    return len(entries)


# ─────────────────────────────────────────────────────────────────────────────
# Reading bookings
# ─────────────────────────────────────────────────────────────────────────────

def recipient_for(session: Session, student_id: uuid.UUID | None, contact_id: uuid.UUID | None) -> dict:
    if student_id is not None:
        row = session.execute(cached_text(
            "SELECT p.first_name, p.phone, p.email, p.user_id FROM students s JOIN profiles p ON p.id = s.profile_id "
            "WHERE s.id = :s"), {"s": student_id}).first()
        if row:
            return {"first_name": row.first_name, "phone": row.phone, "email": row.email, "user_id": row.user_id}
    if contact_id is not None:
        c = session.get(Contact, contact_id)
        if c:
            return {"first_name": c.first_name or "", "phone": c.phone, "email": c.email, "user_id": c.user_id}
    return {}


def booking_recipient(session: Session, booking: Booking) -> dict:
    """Who hears about this booking: the learner it is for, else exactly the details typed in it.

    A booking made without signing in (no student, booked by no user) is never sent to an account
    or a contact that merely shares its phone or email. Kept for the transaction while the booking's fields it
    depends on stay the same (a confirmation's summary and its messages both ask: a learner's was read twice).
    """
    if booking.student_id is None and (booking.booker_phone or booking.booker_email) and not booking.booked_by:
        return {"first_name": (booking.booker_name or "").split(" ")[0], "phone": booking.booker_phone,
                "email": booking.booker_email, "user_id": None}  # a visitor's: nothing to read
    state = (booking.student_id, booking.contact_id, booking.booked_by, booking.booker_name, booking.booker_phone,
             booking.booker_email)
    hit = _per_transaction(session).get("recipients", {}).get(booking.id)
    if hit is not None and hit[0] == state:
        return dict(hit[1])
    who = _booking_recipient(session, booking)
    _per_transaction(session).setdefault("recipients", {})[booking.id] = (state, who)  # (may have begun it)
    return dict(who)


def _booking_recipient(session: Session, booking: Booking) -> dict:
    if booking.student_id is None and (booking.booker_phone or booking.booker_email):
        linked = recipient_for(session, None, booking.contact_id) if booking.booked_by else {}
        return {"first_name": (booking.booker_name or "").split(" ")[0], "phone": booking.booker_phone,
                "email": booking.booker_email, "user_id": linked.get("user_id")}
    return recipient_for(session, booking.student_id, booking.contact_id)


_SUMMARY_FIELDS = ("status", "start_time", "end_time", "duration_minutes", "reschedule_count", "payment_status",
                   "hold_expires_at", "cancellation_fee_cents", "amount_cents", "pickup_address", "suburb",
                   "booking_notes", "student_id", "contact_id", "booked_by", "booker_name", "booker_phone",
                   "booker_email", "instructor_id", "service_id")


def booking_summary(session: Session, booking: Booking) -> dict:
    """Plain data for pages, the API and messages (no admin notes, nothing private).

    Kept for the transaction while the booking's fields stay the same (a confirmation summarises it for its
    messages, then the API for its answer: the second is a copy of the first)."""
    hit = _per_transaction(session).get("summaries", {}).get(booking.id)
    if hit is not None and hit[0] == _summary_state(booking):
        return dict(hit[1])
    summary = _booking_summary(session, booking)
    state = _summary_state(booking)  # after the summary read them: None only if a field is not loaded
    if state is not None:
        _per_transaction(session).setdefault("summaries", {})[booking.id] = (state, summary)
        return dict(summary)
    return summary


def _summary_state(booking: Booking) -> tuple | None:
    """The booking's fields a summary shows, as loaded (None when one is expired or not loaded)."""
    loaded = booking.__dict__
    if any(f not in loaded for f in _SUMMARY_FIELDS):
        return None
    return tuple(loaded[f] for f in _SUMMARY_FIELDS)


def _booking_summary(session: Session, booking: Booking) -> dict:
    service = _service_row(session, booking.service_id)
    instructor_name = _instructor_name(session, booking.instructor_id)
    who = booking_recipient(session, booking)
    terms = cancellation_terms(session, booking) if booking.status in LIVE_STATUSES else None
    return {
        "id": str(booking.id),
        "reference": booking_reference(booking),
        "status": booking.status,
        "service_id": str(booking.service_id),
        "service_name": service.name if service else "",
        "instructor_id": str(booking.instructor_id),
        "instructor_name": instructor_name,
        "student_id": str(booking.student_id) if booking.student_id else None,
        "learner_first_name": who.get("first_name", ""),
        "start_at": booking.start_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "end_at": booking.end_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "date": booking.start_time.astimezone(BUSINESS_TZ).date().isoformat(),
        "start": booking.start_time.astimezone(BUSINESS_TZ).strftime("%H:%M"),
        "when": au_when(booking.start_time, booking.end_time),
        "duration_minutes": booking.duration_minutes,
        "pickup_address": booking.pickup_address or "",
        "suburb": booking.suburb or "",
        "price": {"amount": booking.amount_cents, "currency": "AUD"},
        "price_display": aud(booking.amount_cents),
        # "(GST incl.)" only from a GST-registered business (docs/decisions/0008-time-and-money-formats.md):
        # otherwise no GST is added.
        "price_label": aud(booking.amount_cents)
        + (" (GST incl.)" if business_settings(session).gst_registered else ""),
        "payment_status": booking.payment_status,
        "hold_expires_at": booking.hold_expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if booking.hold_expires_at
        else None,
        "cancellation_fee": {"amount": booking.cancellation_fee_cents, "currency": "AUD"},
        "cancellation_terms": terms,
        "notes": booking.booking_notes or "",
        "sequence": booking.reschedule_count + (1 if booking.status == "cancelled" else 0),  # for .ics updates
    }


def booking_reference(booking: Booking) -> str:
    return "NXD-" + booking.id.hex[:8].upper()


def get_booking(session: Session, actor: Actor, booking_id: uuid.UUID, *, manage_token: str | None = None) -> dict:
    return booking_summary(session, booking_for(session, actor, booking_id, manage_token, manage=False))


def list_my_bookings(session: Session, actor: Actor, *, status: str | None = None, date_from: date | None = None,
                     date_to: date | None = None, upcoming: bool = False, limit: int = 20,
                     cursor: str | None = None) -> dict:
    """Bookings the actor may see, soonest first; cursor = the last row's 'start_at|id'."""
    access.require_signed_in(actor)
    limit = max(1, min(int(limit or 20), 100))
    query = select(Booking).where(Booking.status != "expired")
    query = access.scope(session, actor, query, student_col=Booking.student_id,
                         instructor_col=Booking.instructor_id, resource="bookings", what="bookings")
    if status:
        query = query.where(Booking.status == status)
    if upcoming:
        query = query.where(Booking.end_time > sa.func.now(), Booking.status.in_(LIVE_STATUSES))
    if date_from:
        query = query.where(Booking.scheduled_date >= date_from)
    if date_to:
        query = query.where(Booking.scheduled_date <= date_to)
    if cursor:
        try:
            at, _, bid = cursor.partition("|")
            at_dt, bid_uuid = datetime.fromisoformat(at), uuid.UUID(bid)
        except ValueError:
            raise ValidationFailed("That page link is not valid.", field="cursor") from None
        query = query.where(
            sa.tuple_(Booking.start_time, Booking.id) > sa.tuple_(sa.literal(at_dt), sa.literal(bid_uuid))
        )
    rows = session.exec(query.order_by(Booking.start_time, Booking.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"bookings": [booking_summary(session, b) for b in rows],
            "next_cursor": f"{rows[-1].start_time.isoformat()}|{rows[-1].id}" if more else None}


# ─────────────────────────────────────────────────────────────────────────────
# Messages (written to the outbox in the same transaction; the dispatcher sends them)
# ─────────────────────────────────────────────────────────────────────────────

def _notify(session: Session, booking: Booking, kind: str, **extra) -> None:
    who = booking_recipient(session, booking)
    summary = booking_summary(session, booking)
    # The outbox's SMS and email, the learner's in-app notice and the staff's, in at most two statements.
    notify.booking_message(session, kind, booking=booking, summary=summary, recipient=who, **extra)


def overlapping_pairs(session: Session, instructor_id: uuid.UUID) -> int:
    """How many pairs of live bookings of this instructor overlap (should always be 0)."""
    return session.execute(
        cached_text("""SELECT count(*) FROM bookings a JOIN bookings b
                   ON a.instructor_id = b.instructor_id AND a.id < b.id
                   WHERE a.instructor_id = :i
                     AND a.status IN ('held','confirmed') AND b.status IN ('held','confirmed')
                     AND tstzrange(a.start_time, a.blocked_until) && tstzrange(b.start_time, b.blocked_until)"""),
        {"i": instructor_id},
    ).scalar_one()
