"""The national calendar this server uses: the shipped table, the config's years and the years
administrators added (server/journal/calendar.py), merged into server/domain/calendar.py."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from ..config import load_calendar_years
from ..domain import calendar
from ..domain.national import CalendarYear, coverage
from ..journal.calendar import SQLCalendarYears

log = logging.getLogger("hallq.calendar")


class NationalCalendarService:
    def __init__(self, store: SQLCalendarYears, config_dir: Path | None) -> None:
        self.store = store
        self.config_years = load_calendar_years(config_dir) if config_dir is not None else []

    async def load(self) -> None:
        """Know every year: the shipped ones, then config/calendar/, then those added in the
        browser (the newest word on a year wins)."""
        calendar.use_years([*self.config_years, *await self.store.all()])

    async def add(self, year: CalendarYear, at: str, by: str) -> None:
        await self.store.put(year, at, by)
        await self.load()
        log.info("national calendar: %s added the year %d (%s)", by, year.year, year.source or "no source named")

    @staticmethod
    def coverage(today: date, horizon_days: int) -> dict[str, object]:
        return coverage(calendar.national(), today, horizon_days)

    @staticmethod
    def years() -> list[int]:
        return list(calendar.national().years)

    def warn_if_short(self, today: date, horizon_days: int) -> None:
        c = self.coverage(today, horizon_days)
        if c["warning"]:
            log.warning(
                "the national holiday calendar is known only up to %s (%s days from today): add the year %s "
                "(config/calendar/%s.yaml or the admin page) as soon as the State Council publishes it; "
                "until then days after %s are taken as Monday to Friday less the fixed-date holidays",
                c["covered_until"], c["days_left"], c["next_year"], c["next_year"], c["covered_until"],
            )
