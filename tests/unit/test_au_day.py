"""The short day on the instructor's phone ("To record"): Sun 6 Dec, the Canberra date of an instant."""
from __future__ import annotations

from datetime import UTC, date, datetime

from nexdrive.formats import au_day


def test_a_date_and_an_instant_are_shown_as_the_canberra_day():
    assert au_day(date(2026, 12, 6)) == "Sun 6 Dec"
    # 13:30 UTC on Sunday 6 December is 00:30 on Monday in Canberra (daylight time, UTC+11)
    assert au_day(datetime(2026, 12, 6, 13, 30, tzinfo=UTC)) == "Mon 7 Dec"
