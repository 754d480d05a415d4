"""Benchmark: what a shared hall's writer pays when another worker appended first (issue 20).

Two workers of one hall (two `HallService`s, shared, each with its own connection to one
SQLite journal file) hold a busy simulated day: the demo hall with its windows --copies times
(default 3), played through the real engine (`hallq simulate`'s code) up to the afternoon. Then,
--rounds times, worker one appends two tickets just before worker two's append, so worker two's
batch is refused and decided again. The time of worker two's refused-and-redone issue is
printed two ways, beside the same issue with no race:

  copy      the shared writer's way: back to its copy of the day at its durable position,
            read and fold only what worker one appended, copy again
  reload    the earlier way, forced here for comparison: fold the whole day from the journal

with the day's size and the ratio. The figures include worker two's own append and answer;
worker one's appends (made inside the race) are measured apart and left out.

    python bench/conflict.py
    python bench/conflict.py --copies 9 --rounds 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.bus import LocalBus  # noqa: E402
from server.config import default_config_dir, load_halls  # noqa: E402
from server.domain import commands as c  # noqa: E402
from server.domain.catalog import Catalog  # noqa: E402
from server.hall import HallService, new_ticket_id  # noqa: E402
from server.hall.repository import HallDays  # noqa: E402
from server.journal import SQLJournal, make_engine  # noqa: E402
from server.stats.simulate import DaySim, Ledger, scaled_config  # noqa: E402
from tests.halls import FakeClock  # noqa: E402

DAY = date(2026, 11, 20)


class RacedOnce:
    """A journal whose next append, once armed, lets the other worker append first."""

    def __init__(self, journal: SQLJournal) -> None:
        self.journal = journal
        self.first: Any = None
        self.first_s = 0.0

    async def append(self, hall, day, expected, events):  # type: ignore[no-untyped-def]
        first, self.first = self.first, None
        if first is not None:
            t0 = time.perf_counter()
            await first()
            self.first_s = time.perf_counter() - t0
        await self.journal.append(hall, day, expected, events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.journal, name)


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    demo = load_halls(default_config_dir())["demo"]
    catalog = Catalog(scaled_config(demo.config, args.copies).model_copy(
        update={"hall": demo.config.hall.model_copy(update={"enforce_hours": False})}))
    sim = DaySim(catalog, DAY, 1, 0.9, Ledger())
    sim.run()
    events = [e for _, e in sim.out]
    cut = int(len(events) * args.share)
    url = f"sqlite+aiosqlite:///{folder / 'journal.sqlite3'}"
    journals = [SQLJournal(make_engine(url)) for _ in range(2)]
    for j in journals:
        await j.create()
    await HallDays(journals[0], catalog.hall.id).append(DAY, 0, events[:cut])
    clock = FakeClock(sim.midnight.replace(hour=15))
    raced = RacedOnce(journals[1])
    one = HallService(catalog, journals[0], LocalBus(), clock, shared=True)
    two = HallService(catalog, raced, LocalBus(), clock, shared=True)  # type: ignore[arg-type]
    for s in (one, two):
        await s.start()
    item = next(iter(catalog.items))
    times: dict[str, list[float]] = {"none": [], "copy": [], "reload": []}
    try:
        for n in range(3 * args.rounds):
            way = ("none", "copy", "reload")[n % 3]
            await two.current()
            if way == "none":  # the same issue without a race, for the baseline
                t0 = time.perf_counter()
                await two.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item))
                times[way].append((time.perf_counter() - t0) * 1000)
                continue
            if way == "reload":
                two._before = None  # the earlier way: no copy, the whole day folded again

            async def the_other_first() -> None:
                for _ in range(2):
                    await one.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item))

            raced.first = the_other_first
            t0 = time.perf_counter()
            await two.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item))
            times[way].append((time.perf_counter() - t0 - raced.first_s) * 1000)
            if way == "reload":
                await two._load(two.held().day)  # a copy again for the next round
        seq = two.held().seq
        tickets = len(two.held().tickets)
        assert two.conflicts == 2 * args.rounds and two.reloads == args.rounds
        assert two.held() == await HallDays(journals[0], catalog.hall.id).load(DAY)
    finally:
        for s in (one, two):
            await s.stop()
        for j in journals:
            await j.close()
    return {"events": seq, "tickets": tickets, **{k: statistics.median(v) for k, v in times.items()},
            **{k + "_p90": sorted(v)[int(0.9 * (len(v) - 1))] for k, v in times.items()}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=3, help="the demo hall's windows this many times")
    p.add_argument("--share", type=float, default=0.7, help="the share of the simulated day already journalled")
    p.add_argument("--rounds", type=int, default=30)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(measure(args, Path(tmp)))
    print(f"a refused and redone issue on a day of {r['events']:,} events ({r['tickets']:,} tickets), "
          f"median of {args.rounds} (p90):")
    print(f"  no race {r['none']:7.2f} ms ({r['none_p90']:.2f})   the same issue when nobody appended first")
    print(f"  copy    {r['copy']:7.2f} ms ({r['copy_p90']:.2f})   back to the durable copy, read what is new")
    print(f"  reload  {r['reload']:7.2f} ms ({r['reload_p90']:.2f})   the whole day folded again")
    print(f"  ratio   {r['reload'] / r['copy']:7.1f}x reload/copy; the race costs {r['copy'] - r['none']:.2f} ms "
          f"over no race with the copy, {r['reload'] - r['none']:.2f} ms with a reload")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
