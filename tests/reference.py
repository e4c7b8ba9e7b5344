"""Dates for tests: a reference week, never the calendar's accident.

Tests take "today" from the app's clock (``nexdrive.services.core.clock``) and their
working days from ``reference_week``: the first Monday at least N weeks ahead whose
whole span, from the Saturday before to the Monday after, has no ACT public holiday.
So a test written for "a normal Tuesday" gets one on any day it runs: 24 December,
New Year's Day, or a daylight-saving Sunday (run the suite under `faketime` to check).
"""
from __future__ import annotations

from datetime import date, timedelta

from nexdrive.services.core import clock


def today() -> date:
    return clock.today()


def reference_week(*, weeks: int = 3, start: date | None = None) -> date:
    """The Monday of the first holiday-free week at least `weeks` weeks after `start` (default: today)."""
    from nexdrive.services.scheduling.holidays import is_act_public_holiday

    day = (start or today()) + timedelta(weeks=weeks)
    monday = day + timedelta(days=(0 - day.weekday()) % 7)
    while any(is_act_public_holiday(monday + timedelta(days=n)) for n in range(-2, 8)):
        monday += timedelta(days=7)
    return monday
