"""Statistics over any period: stored groups for closed days, the current day from its events.

Closed days (before the hall's today) are derived once into the tables of
server/stats/store.py, on first need or by the background builder; the current day is
folded from the journal as its events arrive (only the new ones are read each time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain import events as ev
from ..domain.catalog import Catalog
from ..hall import HallService
from ..journal import SQLJournal
from . import store
from .facts import DayFacts, DayResult, facts_of_day
from .rollup import CHANNELS, Group, Groups, day_groups, merge, summary, total_of

log = logging.getLogger("hallq.stats")

MAX_SPAN_DAYS = 731
CHANNEL_NAMES = {"booked": "预约 (booked)", "remote": "网上取号 (remote)", "walk_in": "现场取号 (walk-in)"}


@dataclass
class _Today:
    day: date
    builder: DayFacts
    seq: int = 0


def hall_today(service: HallService) -> date:
    return service.clock.now().astimezone(service.tz).date()


def build_day(catalog: Catalog, day: date, events: list[tuple[int, dict[str, Any]]]) -> tuple[DayResult, Groups]:
    result = facts_of_day(catalog, day, events)
    return result, day_groups(result, catalog)


class Stats:
    """Statistics of the halls served by this process, on the journal's database."""

    def __init__(self, journal: SQLJournal, halls: dict[str, HallService]) -> None:
        self.journal = journal
        self.engine: AsyncEngine = journal.engine
        self.halls = halls
        self._today: dict[str, _Today] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._unjournalled: dict[str, tuple[date, date]] = {}  # a range of closed days with no event, per hall

    async def create(self) -> None:
        await store.create(self.engine)

    def _lock(self, hall: str) -> asyncio.Lock:
        lock = self._locks.get(hall)
        if lock is None:
            lock = self._locks[hall] = asyncio.Lock()
        return lock

    # ----------------------------------------------------------------- closed days

    async def build(self, hall: str, day: date) -> DayResult:
        """Derive one closed hall-day from its events (replacing what was derived before)."""
        service = self.halls[hall]
        events = [(s.seq, s.data) for s in await service.events(day)]
        result, groups = await asyncio.to_thread(build_day, service.catalog, day, events)
        async with self.engine.begin() as conn:
            await store.save_day(conn, result, groups)
        return result

    async def ensure_closed_days(self, hall: str, start: date, end: date) -> int:
        """Build the closed days of [start, end] whose derived rows are missing or stale."""
        end = min(end, hall_today(self.halls[hall]) - timedelta(days=1))
        if end < start:
            return 0
        if self.unjournalled(hall, start, end):
            return 0  # nothing journalled in a range holding this one (closed days do not fill up later)
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        built = await store.built_days(self.engine, hall, start, end)
        if all(built.get(d, (0, 0))[0] == store.VERSION for d in days):
            return 0
        async with self._lock(hall):
            built = await store.built_days(self.engine, hall, start, end)
            in_journal = await self.journal.days(hall, start, end)
            if not in_journal:
                # A hall with nothing in these days (a province's idle township): remember it
                # here rather than mark hundreds of empty days in the database.
                self._unjournalled[hall] = (start, end)
                return 0
            todo = [d for d, seq in sorted(in_journal.items()) if built.get(d) != (store.VERSION, seq)]
            empty = [d for d in days if d not in in_journal and built.get(d) != (store.VERSION, 0)]
            for day in todo:
                await self.build(hall, day)
            if empty:
                async with self.engine.begin() as conn:
                    await store.mark_empty(conn, hall, empty)
            return len(todo)

    # ----------------------------------------------------------------- the current day

    async def today(self, hall: str, now: datetime | None = None) -> DayResult:
        """The current hall-day's facts, windows still open counted until now."""
        service = self.halls[hall]
        day = hall_today(service)
        async with self._lock(hall):
            cur = self._today.get(hall)
            if cur is None or cur.day != day:
                cur = self._today[hall] = _Today(day, DayFacts(service.catalog, day))
            held = service.held()
            if not service.shared and held.day == day and held.seq == cur.seq:
                # One process holds the whole fold, and nothing is new since the last count: ask
                # the journal nothing; an empty day needs no thread either (the region's table
                # of a province: thousands of halls).
                if cur.seq == 0:
                    return _advance(cur, [], now or service.clock.now())
                stored = []
            else:
                stored = await service.events(day, cur.seq)
            # Counting a busy day takes a while: do it off the event loop (the lock keeps the
            # builder to this task meanwhile), so calls and tickets are not held up.
            return await asyncio.to_thread(_advance, cur, stored, now or service.clock.now())

    def unjournalled(self, hall: str, start: date, end: date) -> bool:
        """Whether the hall is known to have nothing journalled in [start, end] (closed days)."""
        known = self._unjournalled.get(hall)
        return known is not None and known[0] <= start and end <= known[1]

    def nothing_before(self, hall: str, start: date, end: date) -> None:
        """The app found nothing journalled for the hall in [start, end] at start (one query
        for every hall): its closed days need no look until then."""
        self._unjournalled[hall] = (start, end)

    async def today_many(self, halls: list[str]) -> dict[str, DayResult]:
        """`today` of many halls at once (the region's table): what is new in the journal is read
        in one query per day, and counted in one trip off the event loop. With several
        processes (each hall's fold may be behind the journal) it is `today` hall by hall."""
        if any(self.halls[h].shared for h in halls):
            return {h: await self.today(h) for h in halls}
        locks = [self._lock(h) for h in dict.fromkeys(halls)]
        for lock in locks:
            await lock.acquire()
        try:
            work: list[tuple[str, _Today, datetime]] = []
            behind: dict[date, dict[str, int]] = {}
            for h in dict.fromkeys(halls):
                service = self.halls[h]
                day = hall_today(service)
                cur = self._today.get(h)
                if cur is None or cur.day != day:
                    cur = self._today[h] = _Today(day, DayFacts(service.catalog, day))
                held = service.held()
                if not (held.day == day and held.seq == cur.seq):
                    behind.setdefault(day, {})[h] = cur.seq
                work.append((h, cur, service.clock.now()))
            stored: dict[str, list[Any]] = {}
            for day, since in behind.items():
                stored.update(await self.journal.read_halls(day, since))

            def count() -> dict[str, DayResult]:
                return {h: _advance(cur, stored.get(h, []), now) for h, cur, now in work}

            return await asyncio.to_thread(count)
        finally:
            for lock in locks:
                lock.release()

    # ----------------------------------------------------------------- queries

    async def groups(self, hall: str, start: date, end: date, dims: tuple[str, ...]) -> Groups:
        service = self.halls[hall]
        today = hall_today(service)
        await self.ensure_closed_days(hall, start, end)
        dims = tuple(dict.fromkeys((*dims, "day")))
        # The days' own times are only needed when grouping by day (see rollup.total_of).
        values = frozenset(d for d in dims if d != "day" or len(dims) == 1)
        groups = await store.load_groups(self.engine, hall, dims, start, min(end, today - timedelta(days=1)), values)
        if start <= today <= end:
            result = await self.today(hall)
            current = day_groups(result, service.catalog)
            merge(groups, {d: current[d] for d in dims})
        return groups

    async def query(self, hall: str, start: date, end: date, by: str) -> dict[str, Any]:
        """The stats answer: one row per key of `by`, and the total."""
        service = self.halls[hall]
        groups = await self.groups(hall, start, end, (by,))
        catalog = service.catalog
        keyed = groups.get(by, {})
        # By day: every calendar day of the period that has begun, the days without figures too.
        days = [start + timedelta(days=n) for n in range((min(end, hall_today(service)) - start).days + 1)] if by == "day" else []
        keys = ordered_keys(catalog, by, keyed, days)
        rows = [{"key": key, "name": label(catalog, by, key), **summary(by, key, keyed.get(key) or Group())} for key in keys]
        total = {"key": "total", "name": "合计", **summary("day", "total", total_of(groups, by))}
        return {
            "hall": hall,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "by": by,
            "generated_at": service.clock.now().isoformat(),
            "rows": rows,
            "total": total,
        }


def ordered_keys(catalog: Catalog, by: str, keyed: dict[str, Any], days: Sequence[date] = ()) -> list[str]:
    """Catalogue order for windows, items and departments (all of them, even without figures);
    by day, every one of `days` (one row per calendar day, an empty one too), in order."""
    if by == "window":
        base = list(catalog.windows)
    elif by == "item":
        base = list(catalog.items)
    elif by == "department":
        base = list(catalog.departments)
    elif by == "channel":
        base = list(CHANNELS)
    elif by == "day":
        base = [d.isoformat() for d in days]
    else:
        return sorted(keyed)
    return base + sorted(k for k in keyed if k not in set(base))


def label(catalog: Catalog, by: str, key: str) -> str:
    if by == "window" and key in catalog.windows:
        return catalog.windows[key].name
    if by == "item" and key in catalog.items:
        return catalog.items[key].name
    if by == "department" and key in catalog.departments:
        return catalog.departments[key].name
    if by == "clerk" and key in catalog.users:
        u = catalog.users[key]
        return f"{u.name} ({u.staff_no})" if u.staff_no else u.name
    if by == "channel" and key in CHANNEL_NAMES:
        return CHANNEL_NAMES[key]
    if by == "hour":
        h = int(key)
        return f"{h:02d}:00-{h + 1:02d}:00"
    return key


__all__ = ["MAX_SPAN_DAYS", "Stats", "hall_today", "label", "ordered_keys"]


def _advance(cur: _Today, stored: list[Any], now: datetime) -> DayResult:
    for s in stored:
        if s.seq <= cur.seq:
            continue  # counted already
        cur.builder.feed(ev.from_dict(s.data), s.seq)
        cur.seq = s.seq
    return cur.builder.result(now)
