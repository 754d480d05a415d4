"""The national working calendar (全国年节放假安排): public holidays and swapped working days, as data.

The State Council publishes each year's table late in the year before. The years known when
this release was made ship in `national_calendar.json`; a region's administrators add a later
year (a file in config/calendar/ or the admin page). A day of a year nobody has added is *not
covered*: it is then taken as Monday to Friday less the fixed-date statutory holidays
(元旦 1/1, 劳动节 5/1–5/2, 国庆节 10/1–10/3), and the server says so loudly (log, health,
dashboard) from COVERAGE_WARNING_DAYS before the known table ends.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

COVERAGE_WARNING_DAYS = 60
# 《全国年节及纪念日放假办法》: the holidays whose dates do not move; the lunar ones do.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})

Name = Annotated[str, Field(min_length=1, max_length=60)]


class HolidaySpan(BaseModel):
    """Consecutive days off for one holiday, weekends inside the span included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: Name
    start: date
    end: date


class SwappedWorkday(BaseModel):
    """A weekend day worked in exchange for a holiday (调休上班)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    date: date
    for_: Name = Field(alias="for")


class CalendarYear(BaseModel):
    """One year's official table, as one notice of the State Council's General Office gives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    year: int = Field(ge=2000, le=2100)
    source: str = Field("", max_length=200, description="the notice, e.g. 国办发明电〔2026〕N号")
    holidays: list[HolidaySpan] = Field(min_length=1, max_length=40)
    workdays: list[SwappedWorkday] = Field(default_factory=list, max_length=40)

    @model_validator(mode="after")
    def _consistent(self) -> CalendarYear:
        off = set()
        for span in self.holidays:
            if span.end < span.start or (span.end - span.start).days > 14:
                raise ValueError(f"holiday {span.name}: {span.start} … {span.end} is not a span of at most 15 days")
            if span.start.year != self.year and span.end.year != self.year:
                raise ValueError(f"holiday {span.name} ({span.start}) is not in {self.year}")
            off |= set(_days(span.start, span.end))
        for w in self.workdays:
            if w.date.year != self.year:
                raise ValueError(f"swapped working day {w.date} is not in {self.year}")
            if w.date.isoweekday() <= 5:
                raise ValueError(f"swapped working day {w.date} is a weekday: only a Saturday or Sunday is swapped")
            if w.date in off:
                raise ValueError(f"{w.date} is both a holiday and a swapped working day")
        return self

    def days_off(self) -> frozenset[date]:
        return frozenset(d for span in self.holidays for d in _days(span.start, span.end))

    def days_on(self) -> frozenset[date]:
        return frozenset(w.date for w in self.workdays)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


class NationalCalendar:
    """The years known to this server, merged: holidays off, swapped weekend days on."""

    def __init__(self, years: dict[int, CalendarYear]) -> None:
        self.years = dict(sorted(years.items()))
        self._off = frozenset().union(*(y.days_off() for y in self.years.values()))
        self._on = frozenset().union(*(y.days_on() for y in self.years.values()))

    def with_years(self, years: list[CalendarYear]) -> NationalCalendar:
        """This calendar with `years` added (a later table of the same year replaces the earlier)."""
        return NationalCalendar({**self.years, **{y.year: y for y in years}})

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def covered_until(self, today: date) -> date:
        """The last day of the run of known years that holds `today` (the day before it if
        today's own year is unknown)."""
        year = today.year
        if year not in self.years:
            return date(year, 1, 1) - timedelta(days=1)
        while year + 1 in self.years:
            year += 1
        return date(year, 12, 31)

    def is_holiday(self, day: date) -> bool:
        """A day of a statutory holiday (weekend days inside its span included), not an
        ordinary weekend: a schedule that opens on Saturdays stays closed on this one."""
        if day in self._off:
            return True
        return not self.covers(day) and (day.month, day.day) in FIXED_HOLIDAYS

    def is_swapped(self, day: date) -> bool:
        """A weekend day worked in exchange for a holiday (调休)."""
        return day in self._on

    def is_workday(self, day: date) -> bool:
        if day in self._on:
            return True
        if day in self._off:
            return False
        if not self.covers(day) and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.isoweekday() <= 5


def packaged() -> NationalCalendar:
    """The table shipped with this release (read once, at import, from the package's data)."""
    text = resources.files(__package__).joinpath("national_calendar.json").read_text(encoding="utf-8")
    return NationalCalendar({y["year"]: CalendarYear.model_validate(y) for y in json.loads(text)["years"]})


def coverage(calendar: NationalCalendar, today: date, horizon_days: int) -> dict[str, object]:
    """Whether the calendar covers today and what may be booked, for the log, health and the
    dashboard: `warning` is set once fewer than COVERAGE_WARNING_DAYS days are known, or the
    booking horizon reaches past them."""
    until = calendar.covered_until(today)
    left = (until - today).days
    warning = left < max(COVERAGE_WARNING_DAYS, horizon_days)
    return {"covered_until": until.isoformat(), "days_left": left, "warning": warning, "next_year": until.year + 1}
