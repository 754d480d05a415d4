"""Simulated days into a journal: `simulate` (the days in order, their statistics derived) and
`run` (what `hallq simulate` does)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.catalog import Catalog
from ...hall.repository import HallDays
from ...journal import SQLJournal
from .. import store
from ..rollup import day_groups
from .day import DaySim
from .hall import default_end, hall_days
from .ledger import Ledger

FLUSH_EVENTS = 5000


@dataclass
class DayReport:
    day: date
    tickets: int
    events: int
    seconds: float


async def simulate(
    catalog: Catalog,
    journal: SQLJournal,
    days: list[date],
    seed: int = 1,
    load: float = 0.9,
    progress: Callable[[DayReport], None] | None = None,
    until: datetime | None = None,
    day_sim: Callable[[Catalog, date, int, float, Ledger], DaySim] | None = None,
) -> list[DayReport]:
    """Play `days` (in order) into the journal and derive their statistics; days that already
    hold events are left alone (a second run adds only what is missing). With `until`, the
    day of `until` is played up to that time and left open: a server started afterwards goes
    on from there (a live board for demos and screenshots). `day_sim`: another day than
    DaySim's (bench/forecast.py's known arrival process)."""
    repo = HallDays(journal, catalog.hall.id)  # no bus: nobody follows days played offline
    existing = await repo.days(min(days), max(days)) if days else {}
    ledger = Ledger()
    reports = []
    for day in days:
        started = time.perf_counter()
        sim = (day_sim or DaySim)(catalog, day, seed, load, ledger)
        partial = until is not None and day == until.date()
        if partial:
            assert until is not None
            local = until.astimezone(sim.tz)
            sim.run(until=local.hour * 3600 + local.minute * 60 + local.second)
        else:
            sim.run()
            sim.end_of_day()
        if day in existing:
            continue
        for n in range(0, len(sim.out), FLUSH_EVENTS):
            batch = sim.out[n : n + FLUSH_EVENTS]
            # At the positions the day was decided at: a conflict (another writer on a day that
            # held nothing when we looked) stops the run rather than being decided again.
            await repo.append(day, batch[0][0] - 1, [e for _, e in batch])
        result = sim.facts.result()
        if not partial:
            async with journal.engine.begin() as conn:
                await store.save_day(conn, result, day_groups(result, catalog))
        report = DayReport(day, len(sim.state.tickets), len(sim.out), time.perf_counter() - started)
        reports.append(report)
        if progress:
            progress(report)
    return reports


async def run(
    config_dir: Any,
    data_dir: Any,
    database: str | None,
    hall: str,
    n_days: int,
    seed: int = 1,
    end: date | None = None,
    load: float = 0.8,
    catalog: Catalog | None = None,
    say: Callable[[str], None] = print,
    today: datetime | None = None,
) -> list[DayReport]:
    """What `hallq simulate` does: open the journal, play the days, say how it went; with
    `today` (a time), also play that day up to that time, left open for a live server."""
    from ...config import load_halls
    from ...journal import database_url, make_engine

    if catalog is None:
        halls = load_halls(config_dir)
        if hall not in halls:
            raise SystemExit(f"no hall {hall!r} in {config_dir} (there are: {', '.join(halls)})")
        catalog = halls[hall]
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    journal = SQLJournal(make_engine(database_url(data_dir, database)))
    try:
        await journal.create()
        await store.create(journal.engine)
        tz = ZoneInfo(catalog.hall.timezone)
        last = end or default_end(catalog, (today or datetime.now(tz)).astimezone(tz).date())
        days = hall_days(catalog, last, n_days)
        if today is not None and today.astimezone(tz).date() > days[-1]:
            days.append(today.astimezone(tz).date())
        say(f"simulating {len(days)} hall-days of {catalog.hall.id} ({catalog.hall.name}), {days[0]} … {days[-1]}, seed {seed}, load {load}")
        started = time.perf_counter()

        def progress(r: DayReport) -> None:
            say(f"  {r.day} {r.day:%a}: {r.tickets:5d} tickets, {r.events:6d} events, {r.seconds:5.2f} s")

        reports = await simulate(catalog, journal, days, seed=seed, load=load, progress=progress, until=today)
        took = time.perf_counter() - started
        skipped = len(days) - len(reports)
        say(
            f"done: {sum(r.tickets for r in reports):,} tickets, {sum(r.events for r in reports):,} events in {took:.1f} s"
            + (f"; {skipped} day(s) already in the journal were left alone" if skipped else "")
        )
        return reports
    finally:
        await journal.close()
