"""Log-book rules that need no database: credited professional hours, the target by age, and the
day/night split of a drive from Canberra's sunrise and sunset (astral).

How the night-minute expectations were checked by hand: astral's own Canberra times, printed with
``sun_times(day)`` in Canberra time, and cross-checked within 1.5 minutes against the NOAA solar
equations written out separately (zenith 90.833°):

=========== ================= ================= ======================
day         sunrise (astral)  sunset (astral)   NOAA sunset (check)
=========== ================= ================= ======================
2027-04-04  06:18:19 AEST     17:54:23 AEST     17:55:21 AEST
2027-10-03  06:38:22 AEDT     19:07:38 AEDT     19:06:58 AEDT
2027-01-15  06:04:22 AEDT     20:20:33 AEDT     20:20:33 AEDT
=========== ================= ================= ======================

Daylight saving ends at 3:00 AEDT on Sunday 4 April 2027 (clocks go back to 2:00 AEST) and starts
at 2:00 AEST on Sunday 3 October 2027 (clocks go forward to 3:00 AEDT).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from nexdrive.services.compliance.logbook import (
    age_on,
    credited_hours,
    credited_minutes,
    split_day_night,
    sun_times,
    target_for_age,
)

SYD = ZoneInfo("Australia/Sydney")


def local(y, mo, d, h, mi, fold=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SYD, fold=fold)


@pytest.mark.parametrize("professional_hours, credited", [(0, 0), (5, 15), (10, 30), (12, 32)])
def test_credited_hours_table(professional_hours, credited):
    assert credited_hours(professional_hours * 60) == credited


@pytest.mark.parametrize("minutes, credited", [(-5, 0), (1, 3), (599, 1797), (600, 1800), (601, 1801),
                                               (6000, 7200)])
def test_credited_minutes_edges(minutes, credited):
    assert credited_minutes(minutes) == credited


@pytest.mark.parametrize("dob, on, age, total, night", [
    (date(2002, 3, 10), date(2027, 3, 9), 24, 100, 10),   # the day before the 25th birthday
    (date(2002, 3, 10), date(2027, 3, 10), 25, 50, 5),    # the birthday itself
    (date(1980, 1, 1), date(2026, 12, 7), 46, 50, 5),
    (date(2010, 6, 30), date(2026, 12, 7), 16, 100, 10),
])
def test_target_by_age(dob, on, age, total, night):
    assert age_on(dob, on) == age
    assert target_for_age(age) == {"total_hours": total, "night_hours": night}


def test_unknown_age_gets_the_under_25_target():
    assert target_for_age(None) == {"total_hours": 100, "night_hours": 10}


def test_sun_times_match_the_hand_checked_table():
    def hms(dt):
        return dt.astimezone(SYD).strftime("%H:%M:%S %Z")

    assert [hms(t) for t in sun_times(date(2027, 4, 4))] == ["06:18:19 AEST", "17:54:23 AEST"]
    assert [hms(t) for t in sun_times(date(2027, 10, 3))] == ["06:38:22 AEDT", "19:07:38 AEDT"]
    assert [hms(t) for t in sun_times(date(2027, 1, 15))] == ["06:04:22 AEDT", "20:20:33 AEDT"]


@pytest.mark.parametrize("label, start, end, day, night", [
    # An ordinary summer evening across sunset (20:20:33): 20:00-21:00 -> 20 min 33 s of day.
    ("summer evening", local(2027, 1, 15, 20, 0), local(2027, 1, 15, 21, 0), 21, 39),
    # DST ends (first Sunday of April): sunset 17:54:23 AEST; 17:00-18:30 -> 54 min 23 s of day.
    ("April DST Sunday, across sunset", local(2027, 4, 4, 17, 0), local(2027, 4, 4, 18, 30), 54, 36),
    # The same day across sunrise (06:18:19 AEST): 05:30-07:00 -> 48 min 19 s of night.
    ("April DST Sunday, across sunrise", local(2027, 4, 4, 5, 30), local(2027, 4, 4, 7, 0), 42, 48),
    # Through the repeated hour: 01:30 AEDT to 02:30 AEST is two real hours, all night.
    ("April DST Sunday, the repeated hour", local(2027, 4, 4, 1, 30), local(2027, 4, 4, 2, 30, fold=1), 0, 120),
    # DST starts (first Sunday of October): sunset 19:07:38 AEDT; 18:30-20:00 -> 37 min 38 s of day.
    ("October DST Sunday, across sunset", local(2027, 10, 3, 18, 30), local(2027, 10, 3, 20, 0), 38, 52),
    # Through the missing hour: 01:30 AEST to 03:30 AEDT is one real hour, all night.
    ("October DST Sunday, the missing hour", local(2027, 10, 3, 1, 30), local(2027, 10, 3, 3, 30), 0, 60),
    # Saturday 22:00 to Sunday 07:30 AEDT, October: night until sunrise 06:38:22 -> 51 min 38 s of day.
    ("overnight into the October DST Sunday", local(2027, 10, 2, 22, 0), local(2027, 10, 3, 7, 30), 52, 458),
    # All day: 10:00-12:00 on the April Sunday.
    ("midday", local(2027, 4, 4, 10, 0), local(2027, 4, 4, 12, 0), 120, 0),
])
def test_day_and_night_minutes(label, start, end, day, night):
    got = split_day_night(start, end)
    assert got == (day, night), label
    assert sum(got) == int((end.astimezone(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() // 60)


def test_a_drive_across_midnight_and_utc_days_is_night():
    start = datetime(2027, 6, 20, 12, 0, tzinfo=timezone.utc)  # 22:00 AEST
    assert split_day_night(start, start + timedelta(hours=3)) == (0, 180)
