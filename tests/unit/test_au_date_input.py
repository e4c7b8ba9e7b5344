"""Dates are typed and shown dd/mm/yyyy on every form, whatever the browser's locale."""
from __future__ import annotations

from datetime import date

import pytest

from nexdrive.formats import au_date_input, parse_au_date


@pytest.mark.parametrize("typed", ["03/04/2027", "3/4/2027", " 03-04-2027 ", "03.04.2027", "2027-04-03"])
def test_dates_are_read_day_first(typed):
    assert parse_au_date(typed) == date(2027, 4, 3)  # 3 April, never 4 March


@pytest.mark.parametrize("typed", ["31/02/2027", "13/13/2027", "04/03", "next tuesday", ""])
def test_impossible_dates_are_refused_with_the_format_to_use(typed):
    with pytest.raises(ValueError, match="dd/mm/yyyy"):
        parse_au_date(typed)


def test_dates_are_shown_day_first():
    assert au_date_input(date(2027, 4, 3)) == "03/04/2027"
    assert au_date_input(None) == ""
