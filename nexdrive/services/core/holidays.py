"""ACT (Canberra) public holidays and business-day arithmetic.

Pure standard library, no network. Rules follow the ACT *Holidays Act 1958*
as applied in recent years:

* New Year's Day, 1 January; if that is a Saturday or Sunday the following
  Monday is an additional holiday.
* Australia Day, 26 January; if that is a Saturday or Sunday the holiday is
  moved to the following Monday (the weekend day itself is then not listed).
* Canberra Day, the second Monday in March.
* Good Friday, Easter Saturday, Easter Sunday and Easter Monday.
* Anzac Day, 25 April, always listed. If it falls on a Sunday the following
  Monday is a holiday (the Act moves the holiday there; the Sunday itself was
  also declared in 2021). If it falls on a Saturday the following Monday is
  also treated as a holiday here: the ACT Government declared one in 2020 and
  again for 2026 (Monday 27 April 2026), but for a Saturday that is a one-off
  declaration, not a standing rule, so check future Saturday years (next:
  2037) when they are announced.
* Reconciliation Day, the Monday on or after 27 May (from 2018).
* Sovereign's Birthday (Queen's Birthday to 2022, King's Birthday from 2023),
  the second Monday in June.
* Labour Day, the first Monday in October.
* Christmas Day and Boxing Day, 25 and 26 December. If 25 December is a
  Saturday or Sunday, 27 December is an additional holiday; if 26 December is a
  Saturday or Sunday, 28 December is an additional holiday.

Not included: the ACT bank holiday (first Monday in August), which applies to
banks only, and Family & Community Day (2007-2017, replaced by Reconciliation
Day), so results before 2018 are incomplete. One-off holidays declared by the
Government (e.g. the 2022 National Day of Mourning) are not predictable and are
not included either. Nor is any special arrangement for a year in which Anzac
Day and Easter Monday coincide (next: 2038); both names are then kept on the
one date.

Business days are Monday to Friday that are not ACT public holidays.
"""

from __future__ import annotations

import datetime as _dt
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "act_public_holidays",
    "add_business_days",
    "business_days_between",
    "easter_sunday",
    "is_act_public_holiday",
    "is_business_day",
]

_MON, _TUE, _SAT, _SUN = 0, 1, 5, 6
_MIN_YEAR, _MAX_YEAR = 1, 9999
_CANBERRA = ZoneInfo("Australia/Sydney")


def _as_date(d: date) -> date:
    """Accept a ``date`` or ``datetime``; return the calendar ``date``.

    A timezone-aware ``datetime`` (e.g. a UTC timestamp from the database) is
    first converted to Canberra time, so 14:00 UTC on 8 March 2026 counts as
    Monday 9 March (Canberra Day). A naive ``datetime`` is taken as Canberra
    wall-clock time.
    """
    if isinstance(d, _dt.datetime):
        if d.tzinfo is not None and d.utcoffset() is not None:
            d = d.astimezone(_CANBERRA)
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a datetime.date, got {type(d).__name__}")


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian algorithm
    (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) given weekday of a month."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _next_weekday_on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


@lru_cache(maxsize=256)
def _holidays(year: int) -> tuple[tuple[date, str], ...]:
    hol: dict[date, str] = {}

    def add(d: date, name: str) -> None:
        hol[d] = f"{hol[d]} / {name}" if d in hol and hol[d] != name else name

    # New Year's Day: the day itself, plus the Monday after if on a weekend.
    new_year = date(year, 1, 1)
    add(new_year, "New Year's Day")
    if new_year.weekday() in (_SAT, _SUN):
        add(_next_weekday_on_or_after(new_year, _MON), "New Year's Day (additional holiday)")

    # Australia Day: moved to the Monday when on a weekend.
    australia_day = date(year, 1, 26)
    if australia_day.weekday() in (_SAT, _SUN):
        add(_next_weekday_on_or_after(australia_day, _MON), "Australia Day (observed)")
    else:
        add(australia_day, "Australia Day")

    add(_nth_weekday(year, 3, _MON, 2), "Canberra Day")

    easter = easter_sunday(year)
    add(easter - timedelta(days=2), "Good Friday")
    add(easter - timedelta(days=1), "Easter Saturday")
    add(easter, "Easter Sunday")
    add(easter + timedelta(days=1), "Easter Monday")

    anzac = date(year, 4, 25)
    add(anzac, "Anzac Day")
    if anzac.weekday() in (_SAT, _SUN):
        add(_next_weekday_on_or_after(anzac, _MON), "Anzac Day (Monday holiday)")

    if year >= 2018:
        add(_next_weekday_on_or_after(date(year, 5, 27), _MON), "Reconciliation Day")

    sovereign = "King's Birthday" if year >= 2023 else "Queen's Birthday"
    add(_nth_weekday(year, 6, _MON, 2), sovereign)

    add(_nth_weekday(year, 10, _MON, 1), "Labour Day")

    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    add(christmas, "Christmas Day")
    add(boxing, "Boxing Day")
    if christmas.weekday() in (_SAT, _SUN):
        add(date(year, 12, 27), "Christmas Day (additional holiday)")
    if boxing.weekday() in (_SAT, _SUN):
        add(date(year, 12, 28), "Boxing Day (additional holiday)")

    return tuple(sorted(hol.items()))


def act_public_holidays(year: int) -> dict[date, str]:
    """ACT public holidays in ``year`` as ``{date: name}``, in date order.

    Additional/substitute days carry their own name, e.g. "Boxing Day
    (additional holiday)". The result is a fresh dict the caller may modify.
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year must be an int, got {type(year).__name__}")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"year must be between {_MIN_YEAR} and {_MAX_YEAR}, got {year}")
    return dict(_holidays(year))


@lru_cache(maxsize=256)
def _holiday_dates(year: int) -> frozenset[date]:
    return frozenset(d for d, _ in _holidays(year))


def is_act_public_holiday(d: date) -> bool:
    """True if ``d`` (a date or datetime's calendar date) is an ACT public holiday."""
    d = _as_date(d)
    return d in _holiday_dates(d.year)


def is_business_day(d: date) -> bool:
    """Monday to Friday and not an ACT public holiday."""
    d = _as_date(d)
    return d.weekday() < _SAT and d not in _holiday_dates(d.year)


def business_days_between(start: date, end: date) -> int:
    """Number of business days ``d`` with ``start < d <= end``.

    In other words, how many business days you step forward from ``start`` to
    reach ``end``; the start day itself is not counted. Notice given on
    Monday 2 Feb 2026 for a drive on Wednesday 4 Feb 2026 is 2 business days.
    If ``end`` is before ``start`` the result is negative
    (``-business_days_between(end, start)``); equal dates give 0.

    Consistent with :func:`add_business_days`: for ``n >= 1``,
    ``business_days_between(d, add_business_days(d, n)) == n``.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -business_days_between(end, start)
    total_days = (end - start).days
    # Whole weeks contribute 5 weekdays each; walk the remainder day by day.
    weeks, rest = divmod(total_days, 7)
    weekdays = 5 * weeks
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < _SAT:
            weekdays += 1
    holidays_on_weekdays = 0
    for year in range(start.year, end.year + 1):
        for d in _holiday_dates(year):
            if start < d <= end and d.weekday() < _SAT:
                holidays_on_weekdays += 1
    return weekdays - holidays_on_weekdays


def add_business_days(d: date, n: int) -> date:
    """The date ``n`` business days after ``d`` (before it if ``n`` < 0).

    The result is always a business day when ``n != 0``; ``d`` itself need not
    be one (adding 1 to a Saturday gives the next business day, normally the
    Monday). ``n == 0`` returns ``d`` unchanged.

    For ``n > 0``, ``business_days_between(d, result) == n``, so the earliest
    date a final drive can be held after notice given on ``d`` is
    ``add_business_days(d, 2)``. For ``n < 0`` the result is the ``|n|``-th
    business day strictly before ``d``; to test whether notice was long enough,
    compare ``business_days_between(notice_date, drive_date)`` with the rule.
    """
    d = _as_date(d)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d
