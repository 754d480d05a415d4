"""Working days and opening hours: the official Chinese calendar and each schedule's hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .catalog import Catalog
from .national import CalendarYear, NationalCalendar, packaged
from .settings import Schedule, WorkingCalendar

# The national calendar this process knows: the shipped table, plus the years administrators
# added (server/hall/calendar.py loads them at start and when one is added).
_national = packaged()


def national() -> NationalCalendar:
    return _national


def use_years(years: list[CalendarYear]) -> NationalCalendar:
    """Know these years too (a later table of a year replaces the earlier); returns the calendar."""
    global _national
    _national = packaged().with_years(years)
    return _national


def is_workday(day: date) -> bool:
    """True on a working day: holidays are off, swapped weekend days (调休) are on.

    A day of a year the calendar does not cover is a weekday that is no fixed-date statutory
    holiday (server/domain/national.py); the server warns long before that happens.
    """
    return _national.is_workday(day)


def hall_workday(day: date, calendar: WorkingCalendar | None = None) -> bool:
    """A working day of this hall: its own closed and working days, else the official calendar."""
    if calendar is not None:
        if day in calendar.closed_days:
            return False
        if day in calendar.working_days:
            return True
    return is_workday(day)


EVERY_WEEKDAY = frozenset({1, 2, 3, 4, 5})


def _opens_like_a_weekday(schedule: Schedule, day: date) -> bool:
    """An extra working day (the hall's own, or a swapped weekend day 调休) stands for no
    weekday in particular: it opens a schedule open on every weekday, or on its own weekday."""
    weekdays = set(schedule.weekdays)
    return EVERY_WEEKDAY <= weekdays or day.isoweekday() in weekdays


def opens_on(schedule: Schedule, day: date, calendar: WorkingCalendar | None = None) -> bool:
    """Whether the schedule opens at all on `day` (its hours then say when).

    The hall's own closed days close everything, and its extra working days open like a
    weekday. A schedule that follows holidays is closed on statutory holidays (weekend days
    inside a holiday included) and opens on a swapped working day like a weekday; on other
    days, and for a schedule that does not follow holidays, its weekdays decide: a Saturday
    service opens on ordinary Saturdays."""
    if calendar is not None:
        if day in calendar.closed_days:
            return False
        if day in calendar.working_days:
            return _opens_like_a_weekday(schedule, day)
    if schedule.follow_holidays:
        if _national.is_holiday(day):
            return False
        if _national.is_swapped(day):
            return _opens_like_a_weekday(schedule, day)
    return day.isoweekday() in schedule.weekdays


def is_open(schedule: Schedule, now: datetime, calendar: WorkingCalendar | None = None) -> bool:
    if not opens_on(schedule, now.date(), calendar):
        return False
    t = now.time()
    return any(r.contains(t) for r in schedule.hours)


def next_opening(schedule: Schedule, now: datetime, calendar: WorkingCalendar | None = None,
                 horizon_days: int = 31) -> datetime | None:
    """The next moment after `now` the schedule opens (a later range today, else the first range of
    the next day it opens on), within `horizon_days`; None when it never opens in that time."""
    for offset in range(horizon_days + 1):
        day = now.date() + timedelta(days=offset)
        if not opens_on(schedule, day, calendar):
            continue
        for r in sorted(schedule.hours, key=lambda r: r.start):
            start = datetime.combine(day, r.start, tzinfo=now.tzinfo)
            if start > now:
                return start
    return None


def item_opens_at(catalog: Catalog, item_id: str, now: datetime) -> datetime | None:
    """When tickets for the item are issued next, if they are not now (None: issuing now, or never soon)."""
    item = catalog.items[item_id]
    if item.retired or not catalog.hall.enforce_hours:
        return None
    schedule = item.hours or catalog.hall.opening
    if is_open(schedule, now, catalog.hall.calendar):
        return None
    return next_opening(schedule, now, catalog.hall.calendar)


def add_working_days(start: date, days: int, calendar: WorkingCalendar | None = None) -> date:
    """The date `days` working days after `start` (限时办结 deadlines of promised cases)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if hall_workday(day, calendar):
            left -= 1
    return day


def item_issuing(catalog: Catalog, item_id: str, now: datetime) -> bool:
    """Whether a ticket for the item may be issued now."""
    item = catalog.items[item_id]
    if item.retired:
        return False
    if not catalog.hall.enforce_hours:
        return True
    return is_open(item.hours or catalog.hall.opening, now, catalog.hall.calendar)


def items_served_now(catalog: Catalog, window_id: str, now: datetime) -> frozenset[str]:
    """The items a window calls for at this moment (综合定时办理 restricts some to set hours)."""
    window = catalog.windows[window_id]
    if not window.scheduled:
        return frozenset(window.items)
    open_by_item: dict[str, list[bool]] = {}
    for s in window.scheduled:
        now_open = is_open(s.schedule, now, catalog.hall.calendar)
        for i in window.items:
            if i in s.items or catalog.items[i].department in s.departments:
                open_by_item.setdefault(i, []).append(now_open)
    return frozenset(i for i in window.items if any(open_by_item.get(i, [True])))
