"""Benchmark: the arrival forecast and the staffing plan on a simulated year of the demo hall.

What it does, from the repository root:

    python bench/forecast.py                    # a year (ending --end), 8 held-out weeks, their last 10 days planned
    python bench/forecast.py --days 60 --held-out 2 --planned 2     # a quick look

1. Simulates `--days` opening days of the demo hall (default 250, about a year, ending
   --end, default 2026-11-20: the official calendar's holidays are closed, its swapped
   working days open) through the real engine (`hallq simulate`'s code) into a SQLite journal
   in a cache folder, reused on the next run. The arrival process is known: the simulator's
   own (server/stats/simulate/arrivals.py: a rush at opening and a smaller one after lunch, a
   morning and an afternoon peak, Monday busiest, Friday quietest, the item mix of the windows'
   capacity) at `--load`, times a trend (+15 % a year) and the day kinds of
   server/domain/forecast.py: ×1.5 the first working day after a break of three days or more,
   ×0.85 the last one before, ×1.15 the last two working days of a month, ×1.1 more at a
   quarter's end. (The supervisor's sweeps and the ratings are left out: nothing here reads them.)
2. Forecasts each day of the last `--held-out` weeks from the days before it only (the forecast
   made the evening before, walk-ins learnt from up to 26 weeks), and compares with the day's
   arrivals: the mean absolute percentage error of the hall's arrivals per half hour and per
   day, beside the naive forecast "the same weekday last week".
3. For each of the last `--planned` days, makes the plan (Erlang-C, checked by playing
   the forecast day once), then plays the day's real arrivals (the journal's, at their times)
   with the plan's windows through the domain core, and counts the half hours whose arrivals
   met the target (mean wait under staffing.target_wait_s, 90 % under the alert threshold);
   the same arrivals with every window open all day are the comparison, window-half-hours
   and all.

Prints its figures and ratios. Exit code 0 when the forecast beats the naive one per half hour
and per day; 1 when it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from server.config import default_config_dir, load_halls  # noqa: E402
from server.domain.catalog import Catalog, HallConfig  # noqa: E402
from server.domain.forecast import day_kinds, mape, naive, slots_of  # noqa: E402
from server.journal import SQLJournal, database_url, make_engine  # noqa: E402
from server.stats import store  # noqa: E402
from server.stats.plan_sim import play  # noqa: E402
from server.stats.simulate import VERSION as SIM_VERSION, DaySim, Ledger, hall_days, simulate  # noqa: E402
from server.stats.staffing import Learnt, forecast, hall_limit, learn, plan  # noqa: E402

HALL = "demo"
KIND = {"after_break": 1.5, "before_break": 0.85, "month_end": 1.15, "quarter_end": 1.1}
TREND = 0.15  # a year
ORIGIN = date(2026, 1, 1)


class YearDay(DaySim):
    """The simulator's day with the bench's known arrival process on top."""

    def __init__(self, catalog: Catalog, day: date, seed: int, load: float, ledger: Ledger) -> None:
        factor = (1 + TREND * (day - ORIGIN).days / 365)
        for k in day_kinds(day, catalog.hall.calendar):
            factor *= KIND.get(k, 1.0)
        super().__init__(catalog, day, seed, load * factor, ledger)

    def sweep(self) -> None:
        return

    def rate(self, tid: str) -> None:
        return


def staffing_catalog(catalog: Catalog, weeks: int) -> Catalog:
    data = catalog.config.model_dump(mode="json", exclude_defaults=True)
    data["hall"]["staffing"] = {**data["hall"].get("staffing", {}), "history_weeks": weeks}
    return Catalog(HallConfig.model_validate(data))


async def arrivals_of(engine, hall: str, day: date, tz) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    t = store.stat_tickets
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.c.issued_at, t.c.item_issued).where(t.c.hall == hall, t.c.day == day))
        out = []
        for at, item in rows:
            local = at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)
            out.append((local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6, item))
    return sorted(out)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=250)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    p.add_argument("--load", type=float, default=0.45, help="arrivals as a share of what the windows can serve, before the day's factors")
    p.add_argument("--held-out", type=int, default=8, help="weeks forecast")
    p.add_argument("--planned", type=int, default=10, help="of them, the last days planned and played")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "hallq-bench-forecast")
    args = p.parse_args()

    base = load_halls(default_config_dir())[HALL]
    catalog = staffing_catalog(base, 26)
    tz = catalog.hall.timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    data = args.cache / f"sim{SIM_VERSION}-days{args.days}-end{args.end}-load{args.load}-seed{args.seed}"
    data.mkdir(parents=True, exist_ok=True)
    journal = SQLJournal(make_engine(database_url(data, None)))
    started = time.perf_counter()
    try:
        await journal.create()
        await store.create(journal.engine)
        days = hall_days(catalog, args.end, args.days)
        print(f"simulating {len(days)} hall-days of {HALL}, {days[0]} … {days[-1]} (cached in {data})", flush=True)
        # simulate() plays every day again to carry its ledgers over (only the missing ones are
        # stored): a complete cache is not played at all
        complete = len(await journal.days(HALL, days[0], days[-1])) == len(days)
        reports = [] if complete else await simulate(catalog, journal, days, seed=args.seed, load=args.load, day_sim=YearDay)
        took = time.perf_counter() - started
        print(f"  {len(reports)} day(s) simulated now ({sum(r.tickets for r in reports):,} tickets) in {took:.0f} s; "
              f"{len(days) - len(reports)} from the cache")

        wide = staffing_catalog(base, 60)
        everything = await learn(journal.engine, wide, args.end + timedelta(days=1))
        history = everything.history
        held = [d for d in days if d > args.end - timedelta(weeks=args.held_out)]
        planned = held[-args.planned:] if args.planned > 0 else []
        slots = slots_of(catalog.hall.opening)
        by_day = {h.day: h for h in history}

        ours_slot, naive_slot, ours_day, naive_day = [], [], [], []
        t0 = time.perf_counter()
        for d in held:
            before = Learnt(history=[h for h in history if d - timedelta(weeks=26) <= h.day < d], handling=everything.handling,
                            cv2=everything.cv2, usual=everything.usual)
            _, fc = forecast(catalog, before, d)
            last = naive(before.history, d)
            actual = by_day[d]
            got = {s: sum(r.get(s, 0) for r in actual.counts.values()) for s in slots}
            want = {s: sum(r[s].mean for r in fc.values()) for s in slots}
            ours_slot += [(want[s], got[s]) for s in slots]
            ours_day.append((sum(want.values()), sum(got.values())))
            if last is not None:
                nv = {s: sum(r.get(s, 0.0) for r in last.values()) for s in slots}
                naive_slot += [(nv[s], got[s]) for s in slots]
                naive_day.append((sum(nv.values()), sum(got.values())))
        m_slot, n_slot, m_day, n_day = mape(ours_slot), mape(naive_slot), mape(ours_day), mape(naive_day)
        print(f"\nforecast of {len(held)} held-out days ({held[0]} … {held[-1]}), each from the days before it "
              f"({time.perf_counter() - t0:.1f} s):")
        print(f"  MAPE per half hour: {pct(m_slot)}   naive (same weekday last week): {pct(n_slot)}   ratio {m_slot / n_slot:.2f}")
        print(f"  MAPE per day:       {pct(m_day)}   naive (same weekday last week): {pct(n_day)}   ratio {m_day / n_day:.2f}")
        special = [d for d in held if day_kinds(d, catalog.hall.calendar)]
        if special:
            named = [f"{d} ({'/'.join(sorted(day_kinds(d, catalog.hall.calendar)))})" for d in special]
            print(f"  days of a kind among them: {', '.join(named)}")

        target, limit = catalog.hall.staffing.target_wait_s, hall_limit(catalog)
        all_open = {s: frozenset(w.id for w in catalog.config.windows if not w.retired) for s in slots}
        met_plan = met_all = judged = met_both = 0
        used_plan = used_all = 0
        t0 = time.perf_counter()
        for d in planned:
            before = Learnt(history=[h for h in history if d - timedelta(weeks=26) <= h.day < d], handling=everything.handling,
                            cv2=everything.cv2, usual=everything.usual)
            answer = plan(catalog, before, d, check=True, seeds=(1,))
            windows = {slots[n]: frozenset(s["open_windows"]) for n, s in enumerate(answer["slots"])}
            replay = await arrivals_of(journal.engine, HALL, d, zone)
            with_plan = play(catalog, d, {}, windows, seeds=(args.seed,), replay=replay)
            with_all = play(catalog, d, {}, all_open, seeds=(args.seed,), replay=replay)
            for s in slots:
                if not with_plan[s].waits:
                    continue
                judged += 1
                plan_ok, all_ok = _met(with_plan[s], target, limit), _met(with_all[s], target, limit)
                met_plan += plan_ok
                met_all += all_ok
                met_both += plan_ok and all_ok
            used_plan += sum(len(w) for w in windows.values())
            used_all += sum(len(w) for w in all_open.values())
        if not planned or not judged:
            print(f"\ntotal {time.perf_counter() - started:.0f} s")
            return 0 if m_slot < n_slot and m_day < n_day else 1
        print(f"\nplan of {len(planned)} days ({planned[0]} … {planned[-1]}), their real arrivals played through the domain core "
              f"({time.perf_counter() - t0:.1f} s); target: mean wait ≤ {target / 60:.0f} min and 90 % ≤ {limit / 60:.0f} min:")
        print(f"  half hours meeting the target with the plan's windows: {met_plan}/{judged} = {pct(met_plan / judged)}")
        print(f"  with every window open all day:                       {met_all}/{judged} = {pct(met_all / judged)}")
        if met_all:
            print(f"  of the half hours every window open met, the plan met:  {met_both}/{met_all} = {pct(met_both / met_all)}")
        print(f"  window-half-hours: plan {used_plan}, all open {used_all}, ratio {used_plan / used_all:.2f}")
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
        return 0 if m_slot < n_slot and m_day < n_day else 1
    finally:
        await journal.close()


def _met(w, target: float, limit: float) -> bool:  # type: ignore[no-untyped-def]
    return w.mean_s is not None and w.mean_s <= target and (w.p90_s or 0.0) <= limit


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
