"""A daily trigger at a Canberra wall-clock time that survives daylight-saving changes.

APScheduler 3.11.3's CronTrigger skips a whole day for a time just after
midnight around the October change: asked on Sun 4 Oct 2026 (after 00:05) for
the next 00:05 it answers Tue 6 Oct, so a daily job at 00:05 would miss Monday.
Daily jobs therefore use this trigger, which builds the wall-clock time on each
local date with zoneinfo. Every job's trigger (these and the sub-daily
CronTriggers) is checked against a brute-force reference across every change
2026-2030 in tests/unit/test_job_schedule.py.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo

from apscheduler.triggers.base import BaseTrigger

UTC = timezone.utc


def wall_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """``at`` on local ``day``. A time the clocks skip (02:xx on the first Sunday of October) is taken
    with the offset before the change, i.e. an hour later on the clock; a repeated one is its first occurrence."""
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC).astimezone(tz)


class DailyAt(BaseTrigger):
    """Fires once a day at ``hour:minute`` Canberra (or any zone's) wall-clock time."""

    def __init__(self, hour: int, minute: int, timezone: tzinfo):
        self.at = time(hour, minute)
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time, now):
        # As CronTrigger: the first fire time at or after now, or the first one after the previous fire
        # (which may be in the past: the scheduler then applies misfire_grace_time and coalescing).
        start = now if previous_fire_time is None else previous_fire_time.astimezone(UTC) + timedelta(microseconds=1)
        day = start.astimezone(self.timezone).date()  # (arithmetic on aware datetimes is done in UTC)
        for offset in range(3):
            candidate = wall_instant(day + timedelta(days=offset), self.at, self.timezone)
            if candidate >= start:
                return candidate
        return None

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} ({self.timezone})"

    def __repr__(self) -> str:
        return f"<DailyAt (at='{self.at:%H:%M}', timezone='{self.timezone}')>"
