"""Which schedules open on the days the official calendar moves: swapped working days (调休),
weekend days inside a holiday, ordinary Saturdays, and the hall's own days; and the working
days supervision counts, with the hall's own closed days."""

from __future__ import annotations

from datetime import date

from server.domain import commands as cmd
from server.domain.calendar import opens_on
from server.domain.settings import Schedule, WorkingCalendar
from server.domain.supervision import case_level, working_days_between

SWAPPED_SUNDAY = date(2025, 9, 28)  # worked for the National Day holiday of 2025
HOLIDAY_SATURDAY = date(2025, 10, 4)  # inside 2025-10-01..08
ORDINARY_SATURDAY = date(2025, 9, 20)

WEEKDAYS = Schedule()
TUESDAY_THURSDAY = Schedule(weekdays=(2, 4))
WITH_SATURDAY = Schedule(weekdays=(1, 2, 3, 4, 5, 6))
SATURDAY_ONLY = Schedule(weekdays=(6,))


def test_a_swapped_sunday_opens_a_weekday_schedule_but_not_one_of_some_weekdays():
    assert opens_on(WEEKDAYS, SWAPPED_SUNDAY)
    assert opens_on(WITH_SATURDAY, SWAPPED_SUNDAY)
    assert not opens_on(TUESDAY_THURSDAY, SWAPPED_SUNDAY)
    assert not opens_on(SATURDAY_ONLY, SWAPPED_SUNDAY)


def test_a_saturday_schedule_opens_on_ordinary_saturdays_and_closes_inside_a_holiday():
    assert opens_on(WITH_SATURDAY, ORDINARY_SATURDAY)
    assert opens_on(SATURDAY_ONLY, ORDINARY_SATURDAY)
    assert not opens_on(WEEKDAYS, ORDINARY_SATURDAY)
    assert not opens_on(WITH_SATURDAY, HOLIDAY_SATURDAY)
    assert not opens_on(SATURDAY_ONLY, HOLIDAY_SATURDAY)
    assert not opens_on(WITH_SATURDAY, date(2025, 10, 1))  # a Wednesday of the holiday


def test_a_schedule_that_ignores_holidays_follows_its_weekdays_only():
    always = Schedule(weekdays=(1, 2, 3, 4, 5, 6, 7), follow_holidays=False)
    tue_thu = Schedule(weekdays=(2, 4), follow_holidays=False)
    assert opens_on(always, HOLIDAY_SATURDAY)
    assert not opens_on(tue_thu, SWAPPED_SUNDAY)
    assert opens_on(tue_thu, date(2025, 10, 2))  # a Thursday of the holiday


def test_the_halls_own_days_come_first_and_an_extra_working_day_opens_like_a_weekday():
    extra_sunday = date(2025, 11, 16)
    calendar = WorkingCalendar(closed_days=(date(2025, 11, 14),), working_days=(extra_sunday,))
    assert not opens_on(WEEKDAYS, date(2025, 11, 14), calendar)  # a Friday the hall closes
    assert opens_on(WEEKDAYS, extra_sunday, calendar)
    assert not opens_on(TUESDAY_THURSDAY, extra_sunday, calendar)
    assert opens_on(Schedule(weekdays=(7,)), extra_sunday, calendar)


def test_supervision_counts_the_halls_own_closed_days_as_days_off():
    monday, friday = date(2025, 11, 10), date(2025, 11, 14)
    assert working_days_between(monday, friday) == 4
    closed = WorkingCalendar(closed_days=(date(2025, 11, 12),))
    assert working_days_between(monday, friday, closed) == 3
    extra = WorkingCalendar(working_days=(date(2025, 11, 16),))
    assert working_days_between(friday, date(2025, 11, 17), extra) == 2  # the Sunday and the Monday


def test_a_promised_case_is_less_late_by_the_days_the_hall_was_closed():
    case = cmd.OpenCase(ticket="t1", number="A001", item="a1", window="w1", accepted_on=date(2025, 11, 3),
                        deadline=date(2025, 11, 10))
    today = date(2025, 11, 13)
    assert case_level(case, today, 1) == ("red", -3)
    closed = WorkingCalendar(closed_days=(date(2025, 11, 12),))
    assert case_level(case, today, 1, closed) == ("red", -2)
