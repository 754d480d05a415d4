"""Benchmark: a statistics query over 90 simulated hall-days (~300,000 tickets). Target < 1 s.

What it does, from the repository root:

    python bench/stats_query.py                 # simulate once into a cache, then time
    python bench/stats_query.py --rebuild       # also time deriving every day from the journal
    python bench/stats_query.py --days 30 --copies 4

1. Simulates `--days` opening days (default 90, ending --end, default 2026-11-20) of a big
   hall: the demo hall's items with every window `--copies` times (default 9: 108 windows,
   about 3,300 tickets a day), through the real engine (`hallq simulate`'s code), into a SQLite
   journal in a cache folder (default $TMPDIR/hallq-bench-stats/<parameters>), reused on the
   next run. The simulation also derives each day's statistics, as the server's background
   builder does for closed days.
2. In this process, opens that journal like the server does and times
   `Stats.query(hall, first day, last day, by)` (what GET /api/v1/halls/{hall}/stats answers)
   for every grouping: the first query of a fresh process, then the best and median of 5.
3. Through the real app (`create_app` on a loopback port, logged in as the hall's manager),
   times `GET /api/v1/halls/{hall}/stats?from&to&by=` for every grouping, answer read and
   JSON-parsed by the client (aiohttp), and checks the answer equals the in-process query's.
4. For comparison, times reading and JSON-parsing all the period's events (what a query would
   cost without the derived tables), and with --rebuild, deriving every day again.

Prints the figures and the ratio to the target (`--target`, default 1 s). Exit code 0 when the
slowest median, in process and over HTTP, meets the target; 1 when one misses it; 2 when an
answer is wrong (HTTP differs from in-process, or a rebuild changes it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import delete, func, select  # noqa: E402

from server.bus import LocalBus  # noqa: E402
from server.config import default_config_dir, load_halls  # noqa: E402
from server.domain.catalog import Catalog  # noqa: E402
from server.hall import HallService  # noqa: E402
from server.journal import SQLJournal, database_url, events_table, make_engine  # noqa: E402
from server.stats import store  # noqa: E402
from server.stats.service import Stats  # noqa: E402
from server.stats.simulate import VERSION as SIM_VERSION, hall_days, run, scaled_config  # noqa: E402

TARGET_S = 1.0
HALL = "demo"


def write_config(folder: Path, catalog: Catalog) -> None:
    """The scaled hall as config files, so `hallq serve --config … --data …` can show it."""
    import yaml

    data = catalog.config.model_dump(mode="json", exclude_defaults=True)
    hall_dir = folder / catalog.hall.id
    hall_dir.mkdir(parents=True, exist_ok=True)
    for key in ("hall", "departments", "items", "windows", "users"):
        (hall_dir / f"{key}.yaml").write_text(yaml.safe_dump(data.get(key, []), allow_unicode=True), encoding="utf-8")


async def timed(coro):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = await coro
    return time.perf_counter() - t, result


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--copies", type=int, default=9, help="each demo window this many times")
    p.add_argument("--load", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 20))
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hallq-bench-stats")
    p.add_argument("--fresh", action="store_true", help="simulate again even if the cache holds this run")
    p.add_argument("--rebuild", action="store_true", help="also time deriving every day from the journal")
    p.add_argument("--target", type=float, default=TARGET_S, help="seconds the slowest median query must stay under")
    p.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    args = p.parse_args(argv)
    target = args.target

    demo = load_halls(default_config_dir())[HALL]
    catalog = Catalog(scaled_config(demo.config, args.copies))
    folder = args.cache / f"sim{SIM_VERSION}-days{args.days}-copies{args.copies}-load{args.load}-seed{args.seed}-end{args.end}"
    data, config = folder / "data", folder / "config"
    done = folder / "simulated.json"
    if args.fresh and folder.exists():
        import shutil

        shutil.rmtree(folder)
    if not done.exists():
        write_config(config, catalog)
        started = time.perf_counter()
        reports = await run(config, data, None, HALL, args.days, seed=args.seed, end=args.end, load=args.load, catalog=catalog)
        done.write_text(json.dumps({"seconds": time.perf_counter() - started, "tickets": sum(r.tickets for r in reports)}))
    sim = json.loads(done.read_text())
    print(f"cache: {folder}")
    print(f"simulation: {sim['tickets']:,} tickets in {sim['seconds']:.1f} s (done once, then reused)")

    days = hall_days(catalog, args.end, args.days)
    start, end = days[0], days[-1]
    journal = SQLJournal(make_engine(database_url(data, None)))
    service = HallService(catalog, journal, LocalBus())  # not started: Stats reads its catalogue and clock
    stats = Stats(journal, {HALL: service})
    async with journal.engine.connect() as conn:
        n_events = (await conn.execute(select(func.count()).select_from(events_table))).scalar_one()
    size_mb = (data / "hallq.sqlite3").stat().st_size / 1e6

    # The server's background builder keeps closed days derived; after a change of the derived
    # tables' version (or a journal filled by other means) this is where they are rebuilt.
    t, built = await timed(stats.ensure_closed_days(HALL, start, end))
    if built:
        print(f"derived tables brought up to date: {built} days in {t:.1f} s")
    first, answer = await timed(stats.query(HALL, start, end, "window"))
    total = answer["total"]
    print(
        f"period: {start} … {end}, {len(days)} hall-days, {catalog.hall.name} with {len(catalog.windows)} windows; "
        f"journal {n_events:,} events, {size_mb:.0f} MB"
    )
    print(
        f"tickets issued {total['issued']:,}, served {total['served']:,}, no-show {total['no_show']:,}; "
        f"wait mean/p50/p90/max {total['wait']['mean_s']}/{total['wait']['p50_s']}/{total['wait']['p90_s']}/{total['wait']['max_s']} s; "
        f"service mean {total['service']['mean_s']} s; good rate {total['satisfaction']['good_rate']}"
    )
    print()
    print(f"{'query (Stats.query in process)':36} {'first':>8} {'best':>8} {'median':>8}   ratio to {target:g} s (median)")
    print(f"{'by=window (first of this process)':36} {first:8.3f}")
    worst = 0.0
    answers: dict[str, dict] = {}
    for by in BYS:
        times = []
        for _ in range(args.repeat):
            t, answers[by] = await timed(stats.query(HALL, start, end, by))
            times.append(t)
        worst = max(worst, report(f"by={by}", times, target))
    print(f"slowest median {worst:.3f} s: {'meets' if worst < target else 'MISSES'} the < {target:g} s target")

    # The same over HTTP, through the real app: routing, auth, JSON encoding and decoding.
    print()
    print(f"{'GET …/stats?from&to&by= over HTTP':36} {'first':>8} {'best':>8} {'median':>8}   ratio to {target:g} s (median)")
    worst_http, same = await over_http(config, data, start, end, answers, args.repeat, target)
    print(f"slowest median over HTTP {worst_http:.3f} s: {'meets' if worst_http < target else 'MISSES'} the < {target:g} s target")
    print(f"HTTP answers equal the in-process ones: {same}")

    # What the derived tables save: the raw events a query would otherwise read and parse
    # (measured with the plain sqlite3 module, the fastest way to read them).
    import sqlite3

    def read_all() -> int:
        con = sqlite3.connect(data / "hallq.sqlite3")
        n = 0
        for (raw,) in con.execute("SELECT data FROM events WHERE day BETWEEN ? AND ?", (start.isoformat(), end.isoformat())):
            json.loads(raw)
            n += 1
        con.close()
        return n

    t, n = await timed(asyncio.to_thread(read_all))
    print(f"for comparison: reading and parsing the period's {n:,} events takes {t:.1f} s")

    if args.rebuild:
        async with journal.engine.begin() as conn:
            await conn.execute(delete(store.stat_days))
        t, built = await timed(stats.ensure_closed_days(HALL, start, end))
        print(f"deriving {built} days again from the journal: {t:.1f} s ({t / max(1, built):.2f} s a day, once per closed day)")
        again = await stats.query(HALL, start, end, "window")
        rebuilt_same = again["rows"] == answer["rows"] and again["total"] == answer["total"]
        print(f"answer after rebuilding equals the simulation's derivation: {rebuilt_same}")
        same = same and rebuilt_same
    await journal.close()
    if not same:
        return 2
    return 0 if max(worst, worst_http) < target else 1


BYS = ("window", "item", "department", "clerk", "hour", "day")


def report(label: str, times: list[float], target: float) -> float:
    med = statistics.median(times)
    print(f"{label:36} {times[0]:8.3f} {min(times):8.3f} {med:8.3f}   {med / target:.2f} ({target / max(med, 1e-9):.1f}× under)")
    return med


async def over_http(
    config: Path, data: Path, start: date, end: date, answers: dict[str, dict], repeat: int, target: float
) -> tuple[float, bool]:
    """Time GET …/stats through the real app on a loopback port; (slowest median, answers equal)."""
    import aiohttp
    from aiohttp import web

    from server.api import Settings, create_app
    from server.api.context import CTX
    from server.api.stats import marked

    # No background work: the derived tables are complete, and sweeps would only add noise.
    app = create_app(Settings(config_dir=config, data_dir=data, background=False))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    worst, same = 0.0, True
    try:
        async with aiohttp.ClientSession(base) as session:
            async with session.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"}) as r:
                if r.status != 200:
                    raise SystemExit(f"login as the hall's manager failed: {r.status} {await r.text()}")
                headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
            for by in BYS:
                times = []
                got: dict = {}
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    async with session.get(f"/api/v1/halls/{HALL}/stats", params={"from": start.isoformat(), "to": end.isoformat(), "by": by}, headers=headers) as r:
                        got = await r.json()
                    times.append(time.perf_counter() - t0)
                worst = max(worst, report(f"by={by}", times, target))
                # The API marks each row with its thresholds (server/api/stats.py `marked`).
                want = json.loads(json.dumps(marked(app[CTX].halls[HALL].catalog, answers[by])))
                if (got.get("rows"), got.get("total")) != (want["rows"], want["total"]):
                    print(f"by={by}: the HTTP answer differs from the in-process one")
                    same = False
    finally:
        await runner.cleanup()
    return worst, same


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(asyncio.run(main()))
