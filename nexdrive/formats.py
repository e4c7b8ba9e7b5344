"""Australian display formats (money, dates, times in Canberra time), one place for every page and message."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from nexdrive.errors import ValidationFailed

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


# ── Phones and emails (Australian forms) ──

_MOBILE_RE = re.compile(r"^(?:\+?61|0)4\d{8}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_au_mobile(raw: str | None, *, field: str = "phone") -> str:
    """An Australian mobile as E.164 (+614XXXXXXXX); SMS reminders need one."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if not digits:
        raise ValidationFailed("Please enter your mobile number.", field=field)
    if not _MOBILE_RE.match(digits):
        raise ValidationFailed("Please enter an Australian mobile number, e.g. 0412 345 678.", field=field)
    return "+61" + digits[-9:]


def format_au_phone(e164: str | None) -> str:
    """+61412345678 -> 0412 345 678 (how Australians write it)."""
    if not e164:
        return ""
    if e164.startswith("+614") and len(e164) == 12:
        local = "0" + e164[3:]
        return f"{local[:4]} {local[4:7]} {local[7:]}"
    return e164


def normalise_email(email: str | None) -> str:
    value = (email or "").strip().lower()
    if not _EMAIL_RE.match(value) or len(value) > 254:
        raise ValidationFailed("Please enter a valid email address.", field="email")
    return value
