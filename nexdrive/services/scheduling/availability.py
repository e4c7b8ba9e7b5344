"""The availability engine: which lesson times an instructor can offer.

:func:`compute_slots` is pure (plain data in, slots out) so property tests can
throw random calendars at it; :func:`load_calendars` reads everything it needs
for a date range in four queries, whatever the number of instructors.

Slots are Canberra wall-clock times (docs/decisions/0008-time-and-money-formats.md) on a fixed grid from the
start of each working window. On the first Sunday of October 02:00–03:00 does
not exist, so no slot starts then; on the first Sunday of April that hour
happens twice and only its first occurrence is offered. A lesson always lasts
its real duration, so a lesson spanning the change ends at a shifted wall time.

A slot is offered only when ``[start, end + buffer)`` overlaps no live booking's
``[start, blocked_until)`` — the same test the database's exclusion constraint
applies, so what we offer is exactly what ``reserve_slot`` can take.
"""
from __future__ import annotations

import bisect
import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.scheduling import holidays as act_holidays
from nexdrive.formats import BUSINESS_TZ

UTC = timezone.utc
SLOT_STEP_MINUTES = 30
# Statuses that count towards the instructor's lessons for the day.
DAY_COUNT_STATUSES = ("held", "confirmed", "in_progress", "completed")
# A booking blocks at most this long (CHECK ck_bookings_blocks_within_a_day, migration 0012), so a query for
# bookings overlapping [lo, hi) may also ask start_time > lo - MAX_BLOCK and read only the rows near the range.
MAX_BLOCK = timedelta(days=1)


@dataclass(frozen=True)
class WeeklyRule:
    day_of_week: int  # 0 = Sunday ... 6 = Saturday (as stored)
    start: time
    end: time
    effective_from: date | None = None
    effective_until: date | None = None


@dataclass(frozen=True)
class Override:
    day: date
    kind: str  # 'blocked' or 'available'
    start: time | None = None  # None/None = the whole day
    end: time | None = None


@dataclass(frozen=True)
class Busy:
    """A live booking or hold: blocks [start, blocked_until)."""
    start: datetime
    blocked_until: datetime
    booking_id: uuid.UUID | None = None


@dataclass
class InstructorCalendar:
    instructor_id: uuid.UUID
    rules: list[WeeklyRule] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    busy: list[Busy] = field(default_factory=list)
    booked_on: dict[date, set] = field(default_factory=dict)  # local date -> ids of that day's lessons
    max_lessons_per_day: int = 8
    accreditation_expiry: date | None = None
    active: bool = True


@dataclass(frozen=True)
class SlotRules:
    duration_minutes: int
    buffer_minutes: int
    earliest_start: datetime  # now + minimum notice
    last_day: date  # booking horizon (local date, inclusive)
    holidays: frozenset[date] = frozenset()
    step_minutes: int = SLOT_STEP_MINUTES
    # Final drive (docs/decisions/0004-cbta-rules.md): never on a Sunday or public holiday, even if opened.
    no_sundays_or_holidays: bool = False
    earliest_day: date | None = None  # e.g. 2 business days' notice for a final drive


@dataclass(frozen=True)
class Slot:
    instructor_id: uuid.UUID
    start: datetime  # aware, UTC
    end: datetime

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(BUSINESS_TZ)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(BUSINESS_TZ)


def dow(d: date) -> int:
    """Python's Monday=0 to the stored Sunday=0."""
    return (d.weekday() + 1) % 7


def wall_to_instant(d: date, t: time, *, fold: int = 0) -> datetime | None:
    """The UTC instant of a Canberra wall-clock time, or None if that time does not exist that day."""
    local = datetime.combine(d, t, tzinfo=BUSINESS_TZ).replace(fold=fold)
    instant = local.astimezone(UTC)
    back = instant.astimezone(BUSINESS_TZ)
    if (back.date(), back.time().replace(tzinfo=None)) != (d, t):
        return None  # skipped by the spring-forward change
    return instant


def _window_end_instant(d: date, t: time) -> datetime:
    """End of a window: midnight means the end of the day; a skipped time moves to the change; a repeated
    one is its last occurrence."""
    if t == time(0, 0):
        return datetime.combine(d + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    instant = wall_to_instant(d, t, fold=1)
    minute = datetime.combine(d, t)
    while instant is None:  # a time the clocks skip: the window ends when they jump
        minute += timedelta(minutes=1)
        instant = wall_to_instant(minute.date(), minute.time(), fold=1)
    return instant


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@functools.lru_cache(maxsize=4096)
def _plain_offset(d: date) -> timedelta | None:
    """The day's UTC offset when it holds for the whole day (no daylight-saving change), else None.

    On such a day every wall-clock time exists exactly once, so ``wall_to_instant(d, t)`` is simply
    ``d t - offset``: one zoneinfo lookup per day instead of two per grid point.
    """
    start = datetime.combine(d, time(0), tzinfo=BUSINESS_TZ).utcoffset()
    end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).utcoffset()
    noon = datetime.combine(d, time(12), tzinfo=BUSINESS_TZ).utcoffset()
    return start if start == end == noon else None


def _overrides_by_day(cal: InstructorCalendar) -> dict[date, list[Override]]:
    by_day: dict[date, list[Override]] = defaultdict(list)
    for o in cal.overrides:
        by_day[o.day].append(o)
    return by_day


def windows_for_day(cal: InstructorCalendar, d: date, holidays: frozenset[date],
                    todays: list[Override] | None = None) -> list[tuple[int, int]]:
    """Working windows of one day as (start, end) minutes after local midnight (1440 = midnight).

    ``todays``: that day's overrides when the caller has grouped them already."""
    windows: list[tuple[int, int]] = []
    is_holiday = d in holidays
    if not is_holiday:
        for r in cal.rules:
            if r.day_of_week != dow(d):
                continue
            if r.effective_from and d < r.effective_from:
                continue
            if r.effective_until and d > r.effective_until:
                continue
            windows.append((_minutes(r.start), _minutes(r.end) or 1440))
    if todays is None:
        todays = [o for o in cal.overrides if o.day == d]
    for o in todays:
        if o.kind == "blocked":
            if o.start is None:
                windows = []
            else:
                windows = _subtract(windows, (_minutes(o.start), _minutes(o.end) or 1440))
    for o in todays:  # extra hours open a day even when the rest of it is blocked or a holiday
        if o.kind == "available":
            windows.append((0, 1440) if o.start is None else (_minutes(o.start), _minutes(o.end) or 1440))
    return _merge(windows)


def _subtract(windows: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for s, e in windows:
        if cut[1] <= s or cut[0] >= e:
            out.append((s, e))
            continue
        if s < cut[0]:
            out.append((s, cut[0]))
        if cut[1] < e:
            out.append((cut[1], e))
    return out


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(w for w in windows if w[1] > w[0]):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class _BusyIndex:
    """Sorted busy intervals; overlap test in O(log n)."""

    def __init__(self, busy: list[Busy], ignore: uuid.UUID | None = None):
        items = sorted((b.start, b.blocked_until) for b in busy if b.booking_id is None or b.booking_id != ignore)
        self.starts = [s for s, _ in items]
        self.items = items
        # Prefix maximum of the ends, so intervals nested inside longer ones are never missed.
        self.max_end: list[datetime] = []
        for _, e in items:
            self.max_end.append(e if not self.max_end or e > self.max_end[-1] else self.max_end[-1])

    def overlaps(self, start: datetime, end: datetime) -> bool:
        i = bisect.bisect_left(self.starts, end)  # intervals starting before `end`
        return i > 0 and self.max_end[i - 1] > start


def could_be_free(cal: InstructorCalendar, start: datetime, duration: timedelta,
                  ignore_booking_id: uuid.UUID | None = None) -> bool:
    """A cheap first test (no grid): False when the instructor certainly can't take a lesson at ``start``:
    inactive, the day's lessons full, or a booking in the way."""
    if not cal.active:
        return False
    day = start.astimezone(BUSINESS_TZ).date()
    if len(cal.booked_on.get(day, set()) - {ignore_booking_id}) >= cal.max_lessons_per_day:
        return False
    end = start + duration
    return not any(b.start < end and start < b.blocked_until and (b.booking_id is None or b.booking_id !=
                                                                 ignore_booking_id) for b in cal.busy)


def compute_slots(cal: InstructorCalendar, rules: SlotRules, date_from: date, date_to: date,
                  *, ignore_booking_id: uuid.UUID | None = None) -> list[Slot]:
    """Every bookable start for one instructor between two local dates (inclusive)."""
    if not cal.active:
        return []
    busy = _BusyIndex(cal.busy, ignore_booking_id)
    duration = timedelta(minutes=rules.duration_minutes)
    blocked = timedelta(minutes=rules.duration_minutes + rules.buffer_minutes)
    first = max(date_from, rules.earliest_day or date_from)
    last = min(date_to, rules.last_day)
    if cal.accreditation_expiry is not None:
        last = min(last, cal.accreditation_expiry)
    slots: list[Slot] = []
    overrides = _overrides_by_day(cal)
    step = timedelta(minutes=rules.step_minutes)
    d = first
    while d <= last:
        day = d
        d += timedelta(days=1)
        if rules.no_sundays_or_holidays and (dow(day) == 0 or day in rules.holidays):
            continue
        already = len(cal.booked_on.get(day, set()) - {ignore_booking_id})
        if already >= cal.max_lessons_per_day:
            continue
        todays = overrides.get(day, [])
        windows = windows_for_day(cal, day, rules.holidays, todays)
        if not windows:
            continue
        offset = _plain_offset(day)
        midnight = None if offset is None else datetime.combine(day, time(0), tzinfo=UTC) - offset
        blocks = _blocked_instants(cal, day, todays, midnight)
        for w_start, w_end in windows:
            if midnight is not None:  # an ordinary day: the grid in UTC directly, every time exists once
                end_limit = midnight + timedelta(minutes=w_end)
                start = midnight + timedelta(minutes=w_start)
                for _ in range(w_start, w_end, rules.step_minutes):
                    end = start + duration
                    if (end <= end_limit and start >= rules.earliest_start
                            and not busy.overlaps(start, start + blocked)
                            and not any(start < b_end and b_start < end for b_start, b_end in blocks)):
                        slots.append(Slot(cal.instructor_id, start, end))
                    start += step
                continue
            end_limit = _window_end_instant(day, time(w_end // 60, w_end % 60) if w_end < 1440 else time(0))
            seen: set[datetime] = set()
            m = w_start
            while m < w_end:
                t = time(m // 60, m % 60)
                m += rules.step_minutes
                start = wall_to_instant(day, t)
                if start is None or start in seen:
                    continue
                seen.add(start)
                end = start + duration
                if end > end_limit or start < rules.earliest_start:
                    continue
                if busy.overlaps(start, start + blocked):
                    continue
                if any(start < b_end and b_start < end for b_start, b_end in blocks):
                    continue  # runs into a block in real time (the repeated hour of the April change)
                slots.append(Slot(cal.instructor_id, start, end))
    return slots


def _wall_start_instant(d: date, minute: int) -> datetime:
    """A block's start in real time: the first occurrence of that wall time (or the jump, if skipped)."""
    moment = datetime.combine(d, time(0)) + timedelta(minutes=minute)
    instant = wall_to_instant(moment.date(), moment.time())
    while instant is None:
        moment += timedelta(minutes=1)
        instant = wall_to_instant(moment.date(), moment.time())
    return instant


def _blocked_instants(cal: InstructorCalendar, d: date, todays: list[Override] | None = None,
                      midnight: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """Part-day blocks of one day as real-time ranges, from the first occurrence of the start to the last
    of the end, so a repeated wall-clock hour is blocked both times; extra hours still win over blocks.

    ``midnight``: the day's start in UTC when its offset holds all day (see ``_plain_offset``)."""
    if todays is None:
        todays = [o for o in cal.overrides if o.day == d]
    if any(o.start is None and o.kind == "available" for o in todays):
        return []  # extra hours for the whole day open it all, part-day blocks included
    todays = [o for o in todays if o.start is not None]
    pieces: list[tuple[int, int]] = []
    for o in todays:
        if o.kind == "blocked":
            pieces.append((_minutes(o.start), _minutes(o.end) or 1440))
    for o in todays:
        if o.kind == "available":
            for cut in [(_minutes(o.start), _minutes(o.end) or 1440)]:
                pieces = _subtract(pieces, cut)
    if midnight is not None:
        return [(midnight + timedelta(minutes=a), midnight + timedelta(minutes=b)) for a, b in _merge(pieces)]
    return [(_wall_start_instant(d, a),
             _window_end_instant(d, time(b // 60, b % 60) if b < 1440 else time(0))) for a, b in _merge(pieces)]


# ─────────────────────────────────────────────────────────────────────────────
# Loading calendars from the database
# ─────────────────────────────────────────────────────────────────────────────

def holidays_between(session: Session, first: date, last: date) -> frozenset[date]:
    """ACT and national public holidays: the owner's table plus the computed ACT calendar."""
    days = {d for year in range(first.year, last.year + 1) for d in act_holidays.act_public_holidays(year)}
    days.update(session.execute(sa.text("SELECT date FROM public_holidays WHERE date BETWEEN :a AND :b"),
                                {"a": first, "b": last}).scalars())
    return frozenset(d for d in days if first <= d <= last)


def _local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    return start, end


def load_calendars(session: Session, instructor_ids: list[uuid.UUID] | None, first: date, last: date
                   ) -> dict[uuid.UUID, InstructorCalendar]:
    """Rules, overrides, live bookings and day counts for these instructors (None = every active one)."""
    where, params = "status = 'active'", {}
    if instructor_ids is not None:
        where += " AND id = ANY(:ids)"
        params["ids"] = list(instructor_ids)
    cals: dict[uuid.UUID, InstructorCalendar] = {}
    for row in session.execute(sa.text(
            f"SELECT id, max_lessons_per_day, accreditation_expiry FROM instructors WHERE {where} "
            "ORDER BY is_owner DESC, created_at"), params):
        cals[row.id] = InstructorCalendar(row.id, max_lessons_per_day=row.max_lessons_per_day,
                                          accreditation_expiry=row.accreditation_expiry)
    if not cals:
        return cals
    ids = list(cals)
    for r in session.execute(
        sa.text(
            "SELECT instructor_id, day_of_week, start_time, end_time, effective_from, effective_until "
            "FROM availability_rules WHERE is_active AND instructor_id = ANY(:ids) "
            "AND (effective_until IS NULL OR effective_until >= :a) "
            "AND (effective_from IS NULL OR effective_from <= :b)"
        ),
        {"ids": ids, "a": first, "b": last},
    ):
        cals[r.instructor_id].rules.append(WeeklyRule(r.day_of_week, r.start_time, r.end_time,
                                                      r.effective_from, r.effective_until))
    for r in session.execute(sa.text(
            "SELECT instructor_id, date, start_time, end_time, override_type FROM availability_overrides "
            "WHERE instructor_id = ANY(:ids) AND date BETWEEN :a AND :b"), {"ids": ids, "a": first, "b": last}):
        cals[r.instructor_id].overrides.append(Override(r.date, r.override_type, r.start_time, r.end_time))
    lo, hi = _local_day_bounds(first - timedelta(days=1), last + timedelta(days=1))
    for r in session.execute(sa.text(
            "SELECT id, instructor_id, start_time, blocked_until, scheduled_date, status FROM bookings "
            "WHERE instructor_id = ANY(:ids) AND start_time < :hi AND start_time > :lo_start AND blocked_until > :lo "
            "AND (status IN ('confirmed','in_progress','completed') OR (status = 'held' AND hold_expires_at > now()))"),
            {"ids": ids, "lo": lo, "hi": hi, "lo_start": lo - MAX_BLOCK}):
        cal = cals[r.instructor_id]
        if r.status in ("held", "confirmed", "in_progress"):
            cal.busy.append(Busy(r.start_time, r.blocked_until, r.id))
        cal.booked_on.setdefault(r.scheduled_date, set()).add(r.id)
    return cals


def count_by_day(slots: list[Slot]) -> dict[date, int]:
    out: dict[date, int] = defaultdict(int)
    for s in slots:
        out[s.local_start.date()] += 1
    return dict(out)
