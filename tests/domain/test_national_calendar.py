"""The national holiday calendar as data: the shipped table, a year added later, and the warning."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from pydantic import ValidationError

from server.domain import calendar
from server.domain.calendar import is_workday, item_issuing
from server.domain.national import CalendarYear, coverage, packaged
from tests.halls import TZ, small_catalog

# A made-up table for a year no notice has published yet: test data, not the official 2027 schedule.
YEAR = {
    "year": 2027, "source": "test data",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
                 {"name": "春节", "start": "2027-02-05", "end": "2027-02-11"}],
    "workdays": [{"date": "2027-02-13", "for": "春节"}],
}


def test_the_shipped_table_says_what_the_library_says_on_every_day_it_covers():
    known = packaged()
    assert list(known.years) == list(range(2004, 2027))
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert known.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_a_year_nobody_added_is_weekdays_less_the_fixed_date_holidays_and_never_silent():
    assert not is_workday(date(2027, 1, 1))  # 元旦, whatever the notice will say
    assert not is_workday(date(2027, 10, 1)) and not is_workday(date(2027, 5, 2))
    assert is_workday(date(2027, 1, 4)) and not is_workday(date(2027, 1, 9))  # a Monday, a Saturday
    known = calendar.national()
    assert coverage(known, date(2026, 6, 1), 7)["warning"] is False  # 213 days ahead are known
    assert coverage(known, date(2026, 11, 2), 7)["warning"] is True  # 59 days left: say so from 60 on
    assert coverage(known, date(2026, 12, 28), 7) == {"covered_until": "2026-12-31", "days_left": 3, "warning": True,
                                                      "next_year": 2027}
    assert coverage(known, date(2027, 1, 5), 7)["days_left"] < 0  # past the end: still loud


def test_a_year_added_as_data_closes_its_holidays_and_opens_its_swapped_days():
    catalog = small_catalog(enforce_hours=True)
    new_year = datetime(2027, 1, 1, 10, 0, tzinfo=TZ)  # a Friday
    swapped = datetime(2027, 2, 13, 10, 0, tzinfo=TZ)  # a Saturday worked for 春节
    feb_8 = datetime(2027, 2, 8, 10, 0, tzinfo=TZ)  # a Monday inside 春节
    assert item_issuing(catalog, "a1", feb_8) and not item_issuing(catalog, "a1", swapped)  # before: the fallback guesses
    calendar.use_years([CalendarYear.model_validate(YEAR)])
    assert not item_issuing(catalog, "a1", new_year) and not item_issuing(catalog, "a1", feb_8)
    assert item_issuing(catalog, "a1", swapped)
    assert calendar.national().covered_until(date(2026, 12, 4)) == date(2027, 12, 31)


@pytest.mark.parametrize("change, why", [
    ({"workdays": [{"date": "2027-02-15", "for": "春节"}]}, "is a weekday"),
    ({"workdays": [{"date": "2027-01-02", "for": "元旦"}]}, "both a holiday and a swapped working day"),
    ({"holidays": [{"name": "春节", "start": "2027-02-11", "end": "2027-02-05"}]}, "not a span"),
    ({"holidays": [{"name": "春节", "start": "2028-02-05", "end": "2028-02-11"}]}, "is not in 2027"),
    ({"holidays": []}, "at least 1"),
])
def test_a_year_table_that_cannot_be_right_is_refused(change, why):
    with pytest.raises(ValidationError, match=why):
        CalendarYear.model_validate({**YEAR, **change})
