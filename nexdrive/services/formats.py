"""Australian display formats (money, dates, times in Canberra time), one place for every page and message."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Australia/Sydney")


def aud(cents: int | None) -> str:
    """8500 -> '$85.00'; -1250 -> '-$12.50' (GST-inclusive amounts, integer cents)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    dollars, rem = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rem:02d}"


def local(dt: datetime) -> datetime:
    return dt.astimezone(BUSINESS_TZ)


def au_time(dt: datetime) -> str:
    """9:30 am, in Canberra time."""
    t = local(dt)
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def au_date(d: date | datetime, *, weekday: bool = True, year: bool = True) -> str:
    """Tue 3 March 2026 (Canberra date for instants)."""
    if isinstance(d, datetime):
        d = local(d).date()
    parts = []
    if weekday:
        parts.append(d.strftime("%a"))
    parts.append(f"{d.day} {d.strftime('%B')}")
    if year:
        parts.append(str(d.year))
    return " ".join(parts)


def au_date_short(d: date) -> str:
    """03/03/2026."""
    return d.strftime("%d/%m/%Y")


def au_when(start: datetime, end: datetime | None = None) -> str:
    """Tue 3 March 2026, 9:30 am – 10:30 am (Canberra time)."""
    text = f"{au_date(start)}, {au_time(start)}"
    return f"{text} – {au_time(end)}" if end else text


_AU_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")


def parse_au_date(text: str | None) -> date:
    """A date typed the Australian way, dd/mm/yyyy (also d/m/yyyy, with - or .), or ISO yyyy-mm-dd.

    Raises ``ValueError`` with a message for people when it isn't a real date.
    """
    value = (text or "").strip()
    match = _AU_DATE.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("Please enter the date as dd/mm/yyyy, for example 25/12/2026.") from None


def au_date_input(d: date | None) -> str:
    """How a date field shows a date: dd/mm/yyyy."""
    return d.strftime("%d/%m/%Y") if d else ""
