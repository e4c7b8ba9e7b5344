"""Every scheduled job fires at the Canberra times it promises, across every daylight-saving change 2026-2030.

The reference is brute force: walk the UTC clock in 30-second steps and keep
the instants whose Canberra wall time matches the job's schedule. The job's
APScheduler trigger, iterated as the scheduler does, must give the same list.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jobs.runner import JOBS, scheduled_due

CANBERRA = ZoneInfo("Australia/Sydney")
UTC = timezone.utc


def first_sunday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(6 - d.weekday()) % 7)


CHANGES = [first_sunday(y, m) for y in range(2026, 2031) for m in (4, 10)]

# What each job promises, as a test on the Canberra wall-clock time (independent of the code under test).
PROMISES = {
    "outbox_dispatch": lambda t: t.second % 30 == 0,
    "release_holds": lambda t: t.second == 0 and t.minute % 5 == 0,
    "reminders": lambda t: t.second == 0 and t.minute % 15 == 0,
    "package_expiry": lambda t: (t.hour, t.minute, t.second) == (0, 5, 0),
    "callback_followup": lambda t: t.hour in range(8, 21, 2) and (t.minute, t.second) == (0, 0),
    "waitlist_matcher": lambda t: (t.hour, t.minute, t.second) == (8, 30, 0),
    "daily_digest": lambda t: (t.hour, t.minute, t.second) == (6, 0, 0),
    "integrity_check": lambda t: (t.hour, t.minute, t.second) == (3, 0, 0),
    "housekeeping": lambda t: (t.hour, t.minute, t.second) == (3, 30, 0),
    "accreditation_warnings": lambda t: (t.hour, t.minute, t.second) == (7, 0, 0),
}


def _window(name: str, change: date) -> tuple[datetime, datetime]:
    if name in ("outbox_dispatch", "release_holds", "reminders"):  # frequent: the night of the change
        return (datetime.combine(change, time(0), tzinfo=CANBERRA).astimezone(UTC),
                datetime.combine(change, time(5), tzinfo=CANBERRA).astimezone(UTC))
    return (datetime.combine(change - timedelta(days=2), time(0), tzinfo=CANBERRA).astimezone(UTC),
            datetime.combine(change + timedelta(days=3), time(0), tzinfo=CANBERRA).astimezone(UTC))


def _expected(name: str, start: datetime, end: datetime) -> list[datetime]:
    promise, out, t = PROMISES[name], [], start
    while t < end:
        if promise(t.astimezone(CANBERRA)):
            out.append(t)
        t += timedelta(seconds=30)
    return out


def _fired(name: str, start: datetime, end: datetime) -> list[datetime]:
    trigger, out, prev = JOBS[name].trigger(), [], None
    now = start.astimezone(CANBERRA)
    while True:
        prev = trigger.get_next_fire_time(prev, now)
        if prev is None or prev >= end:
            return out
        out.append(prev.astimezone(UTC))
        now = prev


def test_every_job_has_a_promise():
    assert set(PROMISES) == set(JOBS)


@pytest.mark.parametrize("name", sorted(PROMISES))
def test_fire_times_match_the_canberra_schedule_across_daylight_saving(name):
    for change in CHANGES:
        start, end = _window(name, change)
        expected = _expected(name, start, end)
        assert expected, (name, change)
        assert _fired(name, start, end) == expected, (name, change)


@pytest.mark.parametrize("name", sorted(PROMISES))
def test_a_runs_due_time_is_the_latest_promised_time_at_or_before_now(name):
    for change in CHANGES[:4]:
        start, end = _window(name, change)
        expected = _expected(name, start - JOBS[name].lookback, end)
        step = timedelta(minutes=7, seconds=13) if len(expected) > 20 else timedelta(hours=1, minutes=7)
        now = start
        while now < end:
            latest = max(t for t in expected if t <= now)
            assert scheduled_due(JOBS[name], now) == latest, (name, now)
            now += step
