"""ACT public holidays and business-day arithmetic (no network, no DB)."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexdrive.services.scheduling.holidays import (
    act_public_holidays,
    add_business_days,
    business_days_between,
    easter_sunday,
    is_act_public_holiday,
    is_business_day,
)

D = date

# Published ACT dates (ACT Government holiday lists as reported for 2025/2026;
# 2027 follows the same Holidays Act rules).
ACT_2025 = {
    D(2025, 1, 1), D(2025, 1, 27), D(2025, 3, 10), D(2025, 4, 18), D(2025, 4, 19),
    D(2025, 4, 20), D(2025, 4, 21), D(2025, 4, 25), D(2025, 6, 2), D(2025, 6, 9),
    D(2025, 10, 6), D(2025, 12, 25), D(2025, 12, 26),
}
ACT_2026 = {
    D(2026, 1, 1), D(2026, 1, 26), D(2026, 3, 9), D(2026, 4, 3), D(2026, 4, 4),
    D(2026, 4, 5), D(2026, 4, 6), D(2026, 4, 25), D(2026, 4, 27), D(2026, 6, 1),
    D(2026, 6, 8), D(2026, 10, 5), D(2026, 12, 25), D(2026, 12, 26), D(2026, 12, 28),
}
ACT_2027 = {
    D(2027, 1, 1), D(2027, 1, 26), D(2027, 3, 8), D(2027, 3, 26), D(2027, 3, 27),
    D(2027, 3, 28), D(2027, 3, 29), D(2027, 4, 25), D(2027, 4, 26), D(2027, 5, 31),
    D(2027, 6, 14), D(2027, 10, 4), D(2027, 12, 25), D(2027, 12, 26), D(2027, 12, 27),
    D(2027, 12, 28),
}


@pytest.mark.parametrize(
    ("year", "expected"), [(2025, ACT_2025), (2026, ACT_2026), (2027, ACT_2027)]
)
def test_full_holiday_list_matches_known_dates(year, expected):
    assert set(act_public_holidays(year)) == expected


def test_holiday_names_2026():
    hol = act_public_holidays(2026)
    assert hol[D(2026, 3, 9)] == "Canberra Day"
    assert hol[D(2026, 6, 1)] == "Reconciliation Day"
    assert hol[D(2026, 6, 8)] == "King's Birthday"
    assert hol[D(2026, 10, 5)] == "Labour Day"
    assert hol[D(2026, 4, 25)] == "Anzac Day"
    assert hol[D(2026, 4, 27)].startswith("Anzac Day")
    assert hol[D(2026, 12, 28)].startswith("Boxing Day")
    assert list(hol) == sorted(hol), "holidays come back in date order"


def test_result_is_a_fresh_dict():
    first = act_public_holidays(2026)
    first.clear()
    assert len(act_public_holidays(2026)) == len(ACT_2026)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2000, D(2000, 4, 23)), (2008, D(2008, 3, 23)), (2011, D(2011, 4, 24)),
        (2019, D(2019, 4, 21)), (2024, D(2024, 3, 31)), (2025, D(2025, 4, 20)),
        (2026, D(2026, 4, 5)), (2027, D(2027, 3, 28)), (2038, D(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, expected):
    assert easter_sunday(year) == expected


def test_easter_is_always_a_sunday_in_march_or_april():
    for year in range(1900, 2101):
        easter = easter_sunday(year)
        assert easter.weekday() == 6
        assert D(year, 3, 22) <= easter <= D(year, 4, 25)


def test_australia_day_on_sunday_moves_to_monday():
    hol = act_public_holidays(2025)
    assert D(2025, 1, 26) not in hol  # Sunday: the holiday is the Monday
    assert hol[D(2025, 1, 27)].startswith("Australia Day")


def test_new_years_day_on_weekend_adds_monday():
    hol = act_public_holidays(2028)  # 1 Jan 2028 is a Saturday
    assert D(2028, 1, 1) in hol
    assert hol[D(2028, 1, 3)].startswith("New Year's Day")
    hol = act_public_holidays(2023)  # 1 Jan 2023 was a Sunday
    assert D(2023, 1, 1) in hol and D(2023, 1, 2) in hol


def test_christmas_on_sunday_gives_tuesday():
    hol = act_public_holidays(2022)  # Christmas Sunday, Boxing Day Monday
    assert D(2022, 12, 26) in hol
    assert hol[D(2022, 12, 27)].startswith("Christmas Day")
    assert D(2022, 12, 28) not in hol


def test_christmas_on_saturday_gives_monday_and_tuesday():
    hol = act_public_holidays(2021)
    assert hol[D(2021, 12, 27)].startswith("Christmas Day")
    assert hol[D(2021, 12, 28)].startswith("Boxing Day")


def test_reconciliation_day_is_monday_on_or_after_27_may_from_2018():
    assert D(2018, 5, 28) in act_public_holidays(2018)
    assert D(2024, 5, 27) in act_public_holidays(2024)  # 27 May itself a Monday
    assert "Reconciliation Day" not in act_public_holidays(2017).values()


def test_queens_birthday_before_2023():
    assert act_public_holidays(2022)[D(2022, 6, 13)] == "Queen's Birthday"
    assert act_public_holidays(2023)[D(2023, 6, 12)] == "King's Birthday"


def test_bank_holiday_is_not_a_public_holiday():
    assert not is_act_public_holiday(D(2026, 8, 3))  # first Monday in August


def test_is_act_public_holiday_accepts_datetimes():
    assert is_act_public_holiday(D(2026, 3, 9))
    assert not is_act_public_holiday(D(2026, 3, 10))
    assert is_act_public_holiday(dt.datetime(2026, 3, 9, 10, 30))
    # 14:00 UTC on Sunday 8 March is 01:00 on Monday 9 March in Canberra.
    utc = dt.datetime(2026, 3, 8, 14, 0, tzinfo=dt.timezone.utc)
    assert is_act_public_holiday(utc)
    assert not is_act_public_holiday(dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.timezone.utc))


def test_is_business_day():
    assert is_business_day(D(2026, 3, 10))  # Tuesday
    assert not is_business_day(D(2026, 3, 9))  # Canberra Day
    assert not is_business_day(D(2026, 3, 7))  # Saturday
    assert not is_business_day(D(2026, 3, 8))  # Sunday


# ---------------------------------------------------------------------------
# business days


def test_business_days_across_a_weekend():
    # Thu 12 Feb 2026 -> Tue 17 Feb 2026: Fri, Mon, Tue
    assert business_days_between(D(2026, 2, 12), D(2026, 2, 17)) == 3


def test_business_days_across_a_weekend_and_canberra_day():
    # Thu 5 Mar 2026 -> Wed 11 Mar 2026: Fri 6, (Sat, Sun, Canberra Day Mon 9), Tue 10, Wed 11
    assert business_days_between(D(2026, 3, 5), D(2026, 3, 11)) == 3


def test_business_days_across_easter_and_anzac_2026():
    # Thu 2 Apr -> Thu 30 Apr 2026: 20 weekdays minus Good Friday, Easter Monday
    # and the Anzac Day Monday (27 Apr).
    assert business_days_between(D(2026, 4, 2), D(2026, 4, 30)) == 17


def test_business_days_across_christmas_and_new_year():
    # Wed 23 Dec 2026 -> Mon 4 Jan 2027: Thu 24, Tue 29, Wed 30, Thu 31, Mon 4
    # (25 Fri and 28 Mon are holidays, 1 Jan Fri is New Year's Day).
    assert business_days_between(D(2026, 12, 23), D(2027, 1, 4)) == 5


def test_business_days_same_day_and_reversed():
    assert business_days_between(D(2026, 5, 5), D(2026, 5, 5)) == 0
    assert business_days_between(D(2026, 3, 11), D(2026, 3, 5)) == -3


def test_add_business_days_skips_weekend_and_holiday():
    # Notice given Friday 6 Mar 2026: Mon 9 is Canberra Day, so 2 business
    # days later is Wednesday 11 Mar.
    assert add_business_days(D(2026, 3, 6), 2) == D(2026, 3, 11)
    # Thursday before Easter 2026 + 1 -> Tuesday after Easter Monday
    assert add_business_days(D(2026, 4, 2), 1) == D(2026, 4, 7)
    assert add_business_days(D(2026, 4, 7), -1) == D(2026, 4, 2)
    assert add_business_days(D(2026, 3, 7), 0) == D(2026, 3, 7)


def test_add_business_days_from_a_saturday():
    assert add_business_days(D(2026, 2, 14), 1) == D(2026, 2, 16)


def test_add_business_days_rejects_non_integer():
    with pytest.raises(TypeError):
        add_business_days(D(2026, 1, 5), 1.5)  # type: ignore[arg-type]


def _brute_force_count(start: date, end: date) -> int:
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if d.weekday() < 5 and not is_act_public_holiday(d):
            count += 1
    return count


dates = st.dates(min_value=D(2018, 1, 1), max_value=D(2035, 12, 31))


@settings(max_examples=200, deadline=None)
@given(start=dates, span=st.integers(min_value=0, max_value=800))
def test_business_days_between_matches_day_by_day_count(start, span):
    end = start + timedelta(days=span)
    assert business_days_between(start, end) == _brute_force_count(start, end)
    assert business_days_between(end, start) == -business_days_between(start, end)


@settings(max_examples=200, deadline=None)
@given(start=dates, n=st.integers(min_value=-60, max_value=60).filter(bool))
def test_add_business_days_round_trips(start, n):
    result = add_business_days(start, n)
    assert is_business_day(result)
    if n > 0:
        assert business_days_between(start, result) == n
    else:
        # Going back, the result is the |n|-th business day strictly before
        # start: |n| - 1 business days lie strictly between the two dates.
        start_counts = 1 if is_business_day(start) else 0
        assert result < start
        assert business_days_between(result, start) - start_counts == -n - 1
