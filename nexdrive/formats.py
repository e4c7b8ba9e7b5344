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


def au_day(d: date | datetime) -> str:
    """Sun 6 Dec (a day this past week, on the instructor's phone; Canberra date for instants)."""
    if isinstance(d, datetime):
        d = local(d).date()
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"


def au_date_short(d: date) -> str:
    """03/03/2026."""
    return d.strftime("%d/%m/%Y")


def au_when(start: datetime, end: datetime | None = None) -> str:
    """Tue 3 March 2026, 9:30 am – 10:30 am (Canberra time)."""
    text = f"{au_date(start)}, {au_time(start)}"
    return f"{text} – {au_time(end)}" if end else text


# ── Phones and emails (Australian forms) ──

_MOBILE_RE = re.compile(r"^(?:\+?61|0)4\d{8}$")
# Landlines: area codes 02 (NSW/ACT), 03, 07, 08 with 8 digits; written 02 6100 0000 or +61 2 6100 0000.
_LANDLINE_RE = re.compile(r"^(?:\+?61|0)[2378]\d{8}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_au_mobile(raw: str | None, *, field: str = "phone") -> str:
    """An Australian mobile as E.164 (+614XXXXXXXX); SMS reminders need one."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if not digits:
        raise ValidationFailed("Please enter your mobile number.", field=field)
    if not _MOBILE_RE.match(digits):
        raise ValidationFailed("Please enter an Australian mobile number, e.g. 0412 345 678.", field=field)
    return "+61" + digits[-9:]


def normalise_au_phone(raw: str | None, *, field: str = "phone") -> str:
    """An Australian mobile or landline as E.164 (+614..., +612...): for contact forms, where a reply by
    phone is enough. Anything that sends an SMS keeps :func:`normalise_au_mobile`."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if not digits:
        raise ValidationFailed("Please enter your phone number.", field=field)
    if _MOBILE_RE.match(digits) or _LANDLINE_RE.match(digits):
        return "+61" + digits[-9:]
    raise ValidationFailed("Please enter an Australian phone number, e.g. 0412 345 678 or 02 6100 0000.",
                           field=field)


def format_au_phone(e164: str | None) -> str:
    """+61412345678 -> 0412 345 678, +61261000000 -> (02) 6100 0000 (how Australians write them)."""
    if not e164:
        return ""
    compact = re.sub(r"[\s\-().]", "", e164)
    if _MOBILE_RE.match(compact) or _LANDLINE_RE.match(compact):
        local = "0" + compact[-9:]
        if local.startswith("04"):
            return f"{local[:4]} {local[4:7]} {local[7:]}"
        return f"({local[:2]}) {local[2:6]} {local[6:]}"
    return e164


def e164_au_phone(raw: str | None) -> str:
    """Any written Australian number as E.164 for ``tel:`` links; '' when it isn't one."""
    compact = re.sub(r"[\s\-().]", "", raw or "")
    if _MOBILE_RE.match(compact) or _LANDLINE_RE.match(compact):
        return "+61" + compact[-9:]
    return ""


def normalise_email(email: str | None) -> str:
    value = (email or "").strip().lower()
    if not _EMAIL_RE.match(value) or len(value) > 254:
        raise ValidationFailed("Please enter a valid email address.", field="email")
    return value
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
