"""The availability engine: which lesson times an instructor can offer.

:func:`compute_slots` is pure (plain data in, slots out) so property tests can
throw random calendars at it; :func:`load_calendars` reads everything it needs
for a date range in one statement, whatever the number of instructors.

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
import dataclasses
import functools
import itertools
import threading
import time as _time
import uuid
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.db import cached_text
from nexdrive.services.core import clock
from nexdrive.services.scheduling import catalogue
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


class Busy(NamedTuple):
    """A live booking or hold: blocks [start, blocked_until). (A tuple: thousands are made per request.)"""
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
    default_buffer_minutes: int = 15  # when the lesson type sets none
    # Set when the calendar came from the per-process copy (``load_calendars(..., cached=True)``): names this
    # very load, so slots computed from it can be kept with it (see ``cached_slots``).
    load_key: tuple | None = None
    # What the read it came from saw: (first, last, version, live, rules_version), the window and what
    # ``reserve_lock_fresh`` compares after the lock (``checked_calendar``). None: not read from the database.
    read_as: tuple | None = None


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


@functools.lru_cache(maxsize=4096)
def _utc_midnight(d: date) -> datetime | None:
    """The instant a day begins when its UTC offset holds all day (see ``_plain_offset``), else None."""
    offset = _plain_offset(d)
    return None if offset is None else datetime.combine(d, time(0), tzinfo=UTC) - offset


def _overrides_by_day(cal: InstructorCalendar) -> dict[date, list[Override]]:
    by_day: dict[date, list[Override]] = defaultdict(list)
    for o in cal.overrides:
        by_day[o.day].append(o)
    return by_day


def windows_for_day(cal: InstructorCalendar, d: date, holidays: frozenset[date],
                    todays: list[Override] | None = None,
                    day_rules: list[WeeklyRule] | None = None) -> list[tuple[int, int]]:
    """Working windows of one day as (start, end) minutes after local midnight (1440 = midnight).

    ``todays``: that day's overrides, ``day_rules``: the rules for its day of the week, when the caller has
    grouped them already."""
    windows: list[tuple[int, int]] = []
    is_holiday = d in holidays
    if not is_holiday:
        weekday = dow(d)
        for r in (cal.rules if day_rules is None else day_rules):
            if r.day_of_week != weekday:
                continue
            if r.effective_from and d < r.effective_from:
                continue
            if r.effective_until and d > r.effective_until:
                continue
            windows.append((_minutes(r.start), _minutes(r.end) or 1440))
    if todays is None:
        todays = [o for o in cal.overrides if o.day == d]
    if not todays and (not windows or (len(windows) == 1 and windows[0][1] > windows[0][0])):
        return windows  # the common day: one rule, no overrides (nothing to merge)
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


def _clash_intervals(busy: list[Busy], ignore: uuid.UUID | None, blocked: timedelta
                     ) -> tuple[list[datetime], list[datetime]]:
    """The starts that bookings rule out, as disjoint open intervals ``(lo, hi)`` sorted by time.

    A start ``s`` clashes with a booking iff ``[s, s + blocked)`` overlaps ``[start, blocked_until)``, that is
    iff ``start - blocked < s < blocked_until``. Open intervals are merged only where they overlap, not where
    they merely touch: the shared end is itself a free start."""
    if ignore is None:
        pairs = sorted([(b.start - blocked, b.blocked_until) for b in busy])
    else:
        pairs = sorted([(b.start - blocked, b.blocked_until) for b in busy
                        if b.booking_id is None or b.booking_id != ignore])
    los: list[datetime] = []
    his: list[datetime] = []
    for lo, hi in pairs:
        if lo >= hi:
            continue
        if his and lo < his[-1]:
            if hi > his[-1]:
                his[-1] = hi
        else:
            los.append(lo)
            his.append(hi)
    return los, his


def _rules_by_dow(cal: InstructorCalendar) -> dict[int, list[WeeklyRule]]:
    by_dow: dict[int, list[WeeklyRule]] = defaultdict(list)
    for r in cal.rules:
        by_dow[r.day_of_week].append(r)
    return by_dow


def _plain_windows(by_dow: dict[int, list[WeeklyRule]], first: date, last: date
                   ) -> dict[int, list[tuple[int, int]]]:
    """Each weekday's windows on a day with no overrides and no holiday, for the weekdays whose rules all apply
    on every day from ``first`` to ``last`` (the others depend on the date)."""
    out = {}
    for weekday, day_rules in by_dow.items():
        if all((r.effective_from is None or r.effective_from <= first)
               and (r.effective_until is None or r.effective_until >= last) for r in day_rules):
            out[weekday] = _merge([(_minutes(r.start), _minutes(r.end) or 1440) for r in day_rules])
    return out


def compute_slots(cal: InstructorCalendar, rules: SlotRules, date_from: date, date_to: date,
                  *, ignore_booking_id: uuid.UUID | None = None) -> list[Slot]:
    """Every bookable start for one instructor between two local dates (inclusive).

    On an ordinary day (one UTC offset all day) the grid is not walked point by point: each working
    window's free starts are the grid points between the intervals that bookings and part-day blocks rule
    out, found with one bisection per window. The two daylight-saving change days take the careful path."""
    if not cal.active:
        return []
    duration = timedelta(minutes=rules.duration_minutes)
    blocked = timedelta(minutes=rules.duration_minutes + rules.buffer_minutes)
    first = max(date_from, rules.earliest_day or date_from)
    last = min(date_to, rules.last_day)
    if cal.accreditation_expiry is not None:
        last = min(last, cal.accreditation_expiry)
    slots: list[Slot] = []
    if first > last:
        return slots
    clash_los, clash_his = _clash_intervals(cal.busy, ignore_booking_id, blocked)
    busy: _BusyIndex | None = None  # built only if a daylight-saving change day is in the range
    overrides = _overrides_by_day(cal)
    by_dow = _rules_by_dow(cal)
    plain_windows = _plain_windows(by_dow, first, last)
    holidays = rules.holidays
    step = timedelta(minutes=rules.step_minutes)
    earliest = rules.earliest_start
    iid = cal.instructor_id
    booked_on = cal.booked_on
    one_day = timedelta(days=1)
    d = first
    while d <= last:
        day = d
        d += one_day
        weekday = dow(day)
        if rules.no_sundays_or_holidays and (weekday == 0 or day in holidays):
            continue
        ids = booked_on.get(day)
        if ids and len(ids) - (ignore_booking_id in ids) >= cal.max_lessons_per_day:
            continue
        todays = overrides.get(day)
        if todays is None and day not in holidays and weekday in plain_windows:
            windows = plain_windows[weekday]
        else:
            windows = windows_for_day(cal, day, holidays, todays or [], by_dow.get(weekday, []))
        if not windows:
            continue
        midnight = _utc_midnight(day)
        if midnight is not None:  # an ordinary day: the grid in UTC directly, every time exists once
            blocks = _blocked_instants(cal, day, todays, midnight) if todays else []
            for w_start, w_end in windows:
                base = midnight + timedelta(minutes=w_start)  # the grid's origin
                # Grid points k = 0 .. k_hi start inside the window and end by its end; k_lo: the notice.
                k_hi = min((w_end - w_start - 1) // rules.step_minutes,
                           (timedelta(minutes=w_end - w_start) - duration) // step)
                k_lo = 0 if base >= earliest else -((base - earliest) // step)
                if k_lo > k_hi:
                    continue
                lo_s, hi_s = base + k_lo * step, base + k_hi * step
                # Intervals that rule starts out, overlapping [lo_s, hi_s]: bookings (one bisection) and blocks.
                i = bisect.bisect_right(clash_his, lo_s)
                cuts = []
                while i < len(clash_los) and clash_los[i] < hi_s:
                    cuts.append((clash_los[i], clash_his[i]))
                    i += 1
                if blocks:
                    cuts += [(b_start - duration, b_end) for b_start, b_end in blocks if b_start - duration < b_end]
                    cuts.sort()
                cur = lo_s  # the earliest start not ruled out so far
                for lo, hi in cuts + [(hi_s + step, hi_s + step)]:  # a sentinel past the last point
                    if lo >= cur:  # free starts in [cur, lo] (lo itself is free: the intervals are open)
                        k = -((base - cur) // step)
                        k_end = min((lo - base) // step, k_hi)
                        while k <= k_end:
                            start = base + k * step
                            slots.append(Slot(iid, start, start + duration))
                            k += 1
                    if hi > cur:
                        cur = hi
                    if cur > hi_s:
                        break
            continue
        if busy is None:
            busy = _BusyIndex(cal.busy, ignore_booking_id)
        blocks = _blocked_instants(cal, day, todays or [])
        for w_start, w_end in windows:
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
                if end > end_limit or start < earliest:
                    continue
                if busy.overlaps(start, start + blocked):
                    continue
                if any(start < b_end and b_start < end for b_start, b_end in blocks):
                    continue  # runs into a block in real time (the repeated hour of the April change)
                slots.append(Slot(iid, start, end))
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
    return holidays_with(first, last, session.execute(sa.text(
        "SELECT date FROM public_holidays WHERE date BETWEEN :a AND :b"), {"a": first, "b": last}).scalars())


def holidays_with(first: date, last: date, table_days) -> frozenset[date]:
    """``holidays_between`` given the owner's table's days in the range (read by the caller's own statement)."""
    days = {d for year in range(first.year, last.year + 1) for d in act_holidays.act_public_holidays(year)}
    days.update(table_days)
    return frozenset(d for d in days if first <= d <= last)


def _local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)
    return start, end


# One statement for every instructor's calendar: a row per instructor with its rules, overrides and bookings as
# arrays (one round trip, and thousands of bookings parsed by the driver in C instead of fetched row by row).
# Bookings are read for the window only (a booking blocks at most MAX_BLOCK, so start_time > lo - MAX_BLOCK
# bounds the range). Not a LATERAL join per instructor: its generic (prepared) plan walks the start_time index
# once per instructor; ``instructor_id = ANY(...)`` keeps the same plan custom or generic (test_query_plans.py).
_CALENDARS_SQL = """
WITH inst AS MATERIALIZED (
    SELECT i.id, i.max_lessons_per_day, i.accreditation_expiry, i.default_buffer_minutes, i.is_owner, i.created_at
    FROM instructors i WHERE {where}
), r AS (
    SELECT ar.instructor_id, array_agg(ar.day_of_week) AS dows, array_agg(ar.start_time) AS starts,
           array_agg(ar.end_time) AS ends, array_agg(ar.effective_from) AS froms,
           array_agg(ar.effective_until) AS untils
    FROM availability_rules ar
    WHERE ar.instructor_id = ANY({ids}) AND ar.is_active
      AND (ar.effective_until IS NULL OR ar.effective_until >= :a)
      AND (ar.effective_from IS NULL OR ar.effective_from <= :b)
    GROUP BY ar.instructor_id
), o AS (
    SELECT ao.instructor_id, array_agg(ao.date) AS days, array_agg(ao.override_type) AS kinds,
           array_agg(ao.start_time) AS starts, array_agg(ao.end_time) AS ends
    FROM availability_overrides ao
    WHERE ao.instructor_id = ANY({ids}) AND ao.date BETWEEN :a AND :b
    GROUP BY ao.instructor_id
), b AS (
    SELECT bk.instructor_id,
           array_agg(bk.id ORDER BY bk.start_time) AS ids,
           array_agg(bk.start_time ORDER BY bk.start_time) AS starts,
           array_agg(bk.blocked_until ORDER BY bk.start_time) AS untils,
           array_agg(bk.scheduled_date ORDER BY bk.start_time) AS days,
           array_agg(bk.status <> 'completed' ORDER BY bk.start_time) AS blocking,
           min(bk.hold_expires_at) FILTER (WHERE bk.status = 'held') AS first_hold_expiry
    FROM bookings bk
    WHERE bk.instructor_id = ANY({ids})
      AND bk.start_time < :hi AND bk.start_time > :lo_start AND bk.blocked_until > :lo
      AND (bk.status IN ('confirmed','in_progress','completed') OR (bk.status = 'held' AND bk.hold_expires_at > now()))
    GROUP BY bk.instructor_id
)
SELECT inst.id, inst.max_lessons_per_day, inst.accreditation_expiry, inst.default_buffer_minutes,
       r.dows, r.starts AS r_starts, r.ends AS r_ends, r.froms, r.untils,
       o.days AS o_days, o.kinds, o.starts AS o_starts, o.ends AS o_ends,
       b.ids, b.starts AS b_starts, b.untils AS b_untils, b.days AS b_days, b.blocking, b.first_hold_expiry,
       (SELECT v.version FROM calendar_versions v WHERE v.instructor_id = inst.id) AS version,
       (SELECT v.rules_version FROM calendar_versions v WHERE v.instructor_id = inst.id) AS rules_version,
       {days_version} AS days_version
FROM inst
LEFT JOIN r ON r.instructor_id = inst.id
LEFT JOIN o ON o.instructor_id = inst.id
LEFT JOIN b ON b.instructor_id = inst.id
ORDER BY inst.is_owner DESC, inst.created_at
"""


def load_calendars(session: Session, instructor_ids: list[uuid.UUID] | None, first: date, last: date,
                   *, cached: bool = False, offering: uuid.UUID | None = None
                   ) -> dict[uuid.UUID, InstructorCalendar]:
    """Rules, overrides, live bookings and day counts for these instructors (None = every active one).

    ``cached``: use this process's copy of a calendar while it is still current (see ``_CalendarCache``):
    one small query for the instructors' calendar versions instead of reading every calendar. For what is
    shown and for choosing an instructor; a reservation re-checks under the instructor's lock with
    ``cached=False``, and the database's exclusion constraint has the last word. ``offering`` (with ``cached``):
    only the instructors who teach this lesson type (``catalogue.offering``), in the same statement."""
    if not cached:
        return {read.calendar.instructor_id: read.calendar
                for read in _read_calendars(session, instructor_ids, first, last)}
    return _CACHE.load(session, instructor_ids, first, last, offering)


def _fill_bookings(cal: InstructorCalendar, ids, starts, untils, days, blocking) -> None:
    """The calendar's live bookings from the read's arrays (ordered by start; None: no bookings)."""
    cal.busy, cal.booked_on = [], {}
    if not ids:
        return
    if all(blocking):  # no completed lessons in the window (the usual case ahead of today)
        cal.busy = list(map(Busy, starts, untils, ids))
    else:
        cal.busy = [Busy(s, u, i) for s, u, i, b in zip(starts, untils, ids, blocking) if b]
    booked_on = cal.booked_on
    for day, booking_id in zip(days, ids):
        same_day = booked_on.get(day)
        if same_day is None:
            booked_on[day] = {booking_id}
        else:
            same_day.add(booking_id)


class _Read(NamedTuple):
    calendar: InstructorCalendar
    version: int  # calendar_versions.version (0022), what reserve_lock() compares
    lapses_at: datetime | None  # when its first live hold lapses (None: no holds)
    rules_version: int  # 0025
    days_version: str | None  # the digest of the window's day versions (0026)


def _read_calendars(session: Session, instructor_ids: list[uuid.UUID] | None, first: date, last: date
                    ) -> list[_Read]:
    """The calendars as read, each with the versions read in the same statement."""
    lo, hi = _local_day_bounds(first - timedelta(days=1), last + timedelta(days=1))
    params = {"a": first, "b": last, "lo": lo, "hi": hi, "lo_start": lo - MAX_BLOCK,
              "day_lo": first - timedelta(days=1), "day_hi": last + timedelta(days=1)}
    if instructor_ids is None:
        sql = _CALENDARS_SQL.format(where="i.status = 'active'", ids="ARRAY(SELECT id FROM inst)")
    else:
        sql = _CALENDARS_SQL.format(where="i.status = 'active' AND i.id = ANY(:ids)", ids=":ids")
        params["ids"] = list(instructor_ids)
    out = []
    for row in session.execute(cached_text(sql), params):
        cal = InstructorCalendar(row.id, max_lessons_per_day=row.max_lessons_per_day,
                                 accreditation_expiry=row.accreditation_expiry,
                                 default_buffer_minutes=row.default_buffer_minutes)
        if row.dows:
            cal.rules = list(map(WeeklyRule, row.dows, row.r_starts, row.r_ends, row.froms, row.untils))
        if row.o_days:
            cal.overrides = list(map(Override, row.o_days, row.kinds, row.o_starts, row.o_ends))
        if row.ids:
            _fill_bookings(cal, row.ids, row.b_starts, row.b_untils, row.b_days, row.blocking)
        # Every row read counts, completed lessons too: reserve_lock's count uses the same predicate.
        cal.read_as = (first, last, row.version or 0, len(row.ids) if row.ids else 0, row.rules_version or 0)
        out.append(_Read(cal, row.version or 0, row.first_hold_expiry, row.rules_version or 0, row.days_version))
    return out


@dataclass
class CheckedCalendar:
    """One instructor's calendar read for a reservation's check, with what ``reserve_lock`` (migration 0024)
    compares after the lock: the calendar's version and how many live bookings the window held."""
    calendar: InstructorCalendar
    version: int
    live: int
    lo: datetime
    hi: datetime
    lo_start: datetime
    rules_version: int = 0

    def with_bookings(self, ids, starts, untils, days, blocking) -> InstructorCalendar:
        """The calendar as read, with the window's live bookings as ``reserve_lock_fresh`` (migration 0025) read
        them after the lock: what a new read would give while the rules' version is unchanged."""
        cal = dataclasses.replace(self.calendar, load_key=None)  # not a kept copy: its slots aren't kept
        _fill_bookings(cal, ids, starts, untils, days, blocking)
        return cal


def calendar_for_check(session: Session, instructor_id: uuid.UUID, day: date) -> CheckedCalendar | None:
    """The instructor's calendar for one day as ``load_calendars(..., cached=False)`` reads it, with its version
    and its count of live bookings (the same statement: the same snapshot). None when not active."""
    for read in _read_calendars(session, [instructor_id], day, day):
        return checked_calendar(read.calendar, day)
    return None


def checked_calendar(cal: InstructorCalendar, day: date) -> CheckedCalendar | None:
    """A calendar of exactly this one day, as its read saw it (a kept copy too: its version and count are the ones
    read with it), as a reservation's check before the lock. After the lock ``reserve_lock_fresh`` compares them
    with the database's: a copy older than another day's booking differs, and the time is checked again against
    the window's bookings as they stand then. None when the calendar is of another window."""
    if cal.read_as is None or cal.read_as[:2] != (day, day):
        return None
    _, _, version, live, rules_version = cal.read_as
    lo, hi = _local_day_bounds(day - timedelta(days=1), day + timedelta(days=1))
    return CheckedCalendar(cal, version, live, lo, hi, lo - MAX_BLOCK, rules_version)


# What a kept copy of an instructor's window is checked against (migration 0026): the version of their rules and
# the set of their day versions in the window (read with a day either side, as the calendar is), named by a digest;
# with the database's time and identity, in one statement.
_VERSIONS_SQL = """
SELECT i.id, COALESCE(v.rules_version, 0) AS rules_version, {days_version} AS days_version, now() AS now,
       (SELECT oid FROM pg_database WHERE datname = current_database()) AS db
FROM instructors i LEFT JOIN calendar_versions v ON v.instructor_id = i.id
WHERE {where}
ORDER BY i.is_owner DESC, i.created_at
"""


def _days_version(instructor: str) -> str:
    """The digest of the instructor's day versions between ``:day_lo`` and ``:day_hi`` (NULL: none yet). A set of
    sequence values names the days' state exactly (each value is written once); their greatest would not."""
    return ("(SELECT md5(string_agg(d.version::text, ',' ORDER BY d.version)) FROM calendar_day_versions d "
            f"WHERE d.instructor_id = {instructor} AND d.day BETWEEN :day_lo AND :day_hi)")


_CALENDARS_SQL = _CALENDARS_SQL.replace("{days_version}", _days_version("inst.id"))
_VERSIONS_SQL = _VERSIONS_SQL.replace("{days_version}", _days_version("i.id"))


@dataclass
class _Copy:
    version: tuple[int, str | None]  # the rules' version and the window's days' (migration 0026)
    lapses_at: datetime | None  # the first live hold's expiry: after it the calendar changes by itself
    stored_at: float  # time.monotonic()
    calendar: InstructorCalendar


class _CalendarCache:
    """This process's copies of instructors' calendars, each used only while it is current.

    Current means: the instructor's rules' version and the digest of their day versions in the window (read in
    one small statement per request) are the ones read with the copy, in the same statement as its data; no live
    hold in it has lapsed (per the database's ``now()``); and it is younger than ``TTL`` seconds. Versions are
    changed by triggers in the same transaction as any change to the instructor's rules, overrides or limits
    (``calendar_versions.rules_version``) or to a booking touching the day (``calendar_day_versions``, migration
    0026: a booking on another day leaves the copy current) and come from a sequence (never reused, even after a
    rollback), so a copy read before a booking committed is never used by a request that starts after it: a
    booking taken is never offered again. The key includes the
    database's oid, so a database cloned or restored under another name starts afresh.
    """

    TTL = 60.0
    MAX = 2048

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: OrderedDict[tuple, _Copy] = OrderedDict()
        self._loads = itertools.count(1)

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()

    def load(self, session: Session, instructor_ids: list[uuid.UUID] | None, first: date, last: date,
             offering: uuid.UUID | None = None) -> dict[uuid.UUID, InstructorCalendar]:
        where = "i.status = 'active'"
        params: dict = {"day_lo": first - timedelta(days=1), "day_hi": last + timedelta(days=1)}
        if instructor_ids is not None:
            where += " AND i.id = ANY(:ids)"
            params["ids"] = list(instructor_ids)
        if offering is not None:
            where += " AND " + catalogue.offers_sql("i.id", ":service_id")
            params["service_id"] = offering
        sql = _VERSIONS_SQL.format(where=where)
        rows = session.execute(cached_text(sql), params).all()
        if rows:
            clock.remember_database_now(session, rows[0].now)  # the transaction's now(): one statement fewer
        out: dict[uuid.UUID, InstructorCalendar | None] = {}
        stale: list[uuid.UUID] = []
        moment = _time.monotonic()
        with self._lock:
            for iid, rules_version, days_version, now, db in rows:
                copy = self._copies.get((db, iid, first, last))
                if (copy is not None and copy.version == (rules_version, days_version)
                        and moment - copy.stored_at < self.TTL and (copy.lapses_at is None or now < copy.lapses_at)):
                    self._copies.move_to_end((db, iid, first, last))
                    # A shallow copy: callers may replace its lists (never change them in place).
                    out[iid] = dataclasses.replace(copy.calendar)
                else:
                    out[iid] = None
                    stale.append(iid)
        if stale:
            db = rows[0].db
            fresh = _read_calendars(session, stale, first, last)
            with self._lock:
                for read in fresh:
                    cal = read.calendar
                    cal.load_key = (next(self._loads),)
                    self._copies[(db, cal.instructor_id, first, last)] = _Copy(
                        (read.rules_version, read.days_version), read.lapses_at, moment, cal)
                    self._copies.move_to_end((db, cal.instructor_id, first, last))
                    out[cal.instructor_id] = dataclasses.replace(cal)
                while len(self._copies) > self.MAX:
                    self._copies.popitem(last=False)
        return {iid: cal for iid, cal in out.items() if cal is not None}  # None: no longer active


_CACHE = _CalendarCache()
_SLOTS: OrderedDict[tuple, list[Slot]] = OrderedDict()
_SLOTS_LOCK = threading.Lock()
_SLOTS_MAX = 4096
_NO_NOTICE = datetime(2000, 1, 1, tzinfo=UTC)


def clear_caches() -> None:
    """Forget every calendar copy and every kept slot list (tests)."""
    _CACHE.clear()
    with _SLOTS_LOCK:
        _SLOTS.clear()


def cached_slots(cal: InstructorCalendar, rules: SlotRules, date_from: date, date_to: date) -> list[Slot]:
    """``compute_slots(cal, rules, date_from, date_to)``, kept with a calendar copy while it is used.

    The slots are computed once per copy without the notice (``earliest_start``) and filtered by it on every
    call: the notice only removes the starts before it (both paths of ``compute_slots``)."""
    if cal.load_key is None:
        return compute_slots(cal, rules, date_from, date_to)
    key = (cal.load_key, dataclasses.replace(rules, earliest_start=_NO_NOTICE), date_from, date_to)
    with _SLOTS_LOCK:
        slots = _SLOTS.get(key)
        if slots is not None:
            _SLOTS.move_to_end(key)
    if slots is None:
        slots = compute_slots(cal, dataclasses.replace(rules, earliest_start=_NO_NOTICE), date_from, date_to)
        with _SLOTS_LOCK:
            _SLOTS[key] = slots
            while len(_SLOTS) > _SLOTS_MAX:
                _SLOTS.popitem(last=False)
    earliest = rules.earliest_start
    if not slots or slots[0].start >= earliest:
        return list(slots)
    return slots[bisect.bisect_left(slots, earliest, key=lambda s: s.start):]


def count_by_day(slots: list[Slot]) -> dict[date, int]:
    out: dict[date, int] = defaultdict(int)
    for s in slots:
        out[s.local_start.date()] += 1
    return dict(out)
