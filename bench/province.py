"""Benchmark: a province on one deployment (issue 20), in one run.

Generates a province (bench/province_config.py: the demo city, --counties county centres and
--towns township centres of 2–4 windows, linked by `parent:`), starts a real `hallq serve` on
it (SQLite, in-process bus) and prints:

  start       seconds from the process start to the first answer of /api/v1/halls, and its
              resident memory (VmRSS) then
  idle        CPU of the server over --idle seconds (default 30) with no client at all, in % of
              one core (user + system time from /proc); with --settle S, the S seconds right
              after the start are measured apart first (the first sweeps of every hall)
  spread      --concurrency clients (default 64) issue tickets for --duration seconds, closed
              loop, each request into the next hall of all the province's halls: tickets/s, p99
  one hall    the same load into the demo city alone
  offered     --rate tickets/s (default 100) offered open-loop across the province: p99
  screens     --screens public websockets (default 5,000) spread over every hall; window 1 of
              --called halls calls --calls tickets each (a no-show between): call → screen
              latency at every screen of the called hall, p50/p99, and messages lost
  region      the region dashboard (GET /api/v1/halls/demo/region, the city's manager) for the
              whole province: first answer and the median of 3

then the spread and one-hall figures again on PostgreSQL (a private database created on
$HALLQ_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test, and dropped after),
when it answers. The screens and the load generator live in this process, on the same cores
as the server: compare ratios between runs, not absolute figures between machines.

    python bench/province.py                   # 1 city, 14 counties, 1,500 townships
    python bench/province.py --small           # 2 counties, 6 townships, short phases (the smoke test)
    python bench/province.py --towns 300 --idle 10 --no-postgres

Exit code 0 when the measurement ran; 1 when a ticket or a call message was lost or a request
failed; 2 when a server did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.processes import Proc, free_port, hallq_serve  # noqa: E402
from bench.province_config import CITY, CITY_ITEMS, generate  # noqa: E402
from bench.scale import call_tickets, drop_database, pct, pg_database  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def issue_load(url: str, targets: list[tuple[str, str]], concurrency: int, duration: float) -> dict[str, float]:
    """Closed loop: each client issues into the next (hall, item) of `targets`, round robin."""
    ok = failed = 0
    latencies: list[float] = []
    turn = itertools.cycle(targets)
    stop_at = time.monotonic() + duration

    async def client(s: aiohttp.ClientSession) -> None:
        nonlocal ok, failed
        while time.monotonic() < stop_at:
            hall, item = next(turn)
            t0 = time.perf_counter()
            try:
                async with s.post(f"{url}/api/v1/halls/{hall}/tickets", json={"item": item}) as r:
                    await r.read()
                    ok, failed = (ok + 1, failed) if r.status == 201 else (ok, failed + 1)
            except aiohttp.ClientError:
                failed += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.monotonic()
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(client(s) for s in sessions))
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    took = time.monotonic() - t0
    return {"per_s": ok / took, "ok": ok, "failed": failed, "p50": pct(latencies, 50), "p99": pct(latencies, 99)}


async def offered_load(url: str, targets: list[tuple[str, str]], rate: float, duration: float) -> dict[str, float]:
    """Open loop: a ticket every 1/rate s, into the next hall, whatever the answers take."""
    latencies: list[float] = []
    failed = 0
    turn = itertools.cycle(targets)

    async def one(s: aiohttp.ClientSession, hall: str, item: str) -> None:
        nonlocal failed
        t0 = time.perf_counter()
        try:
            async with s.post(f"{url}/api/v1/halls/{hall}/tickets", json={"item": item}) as r:
                await r.read()
                failed += r.status != 201
        except aiohttp.ClientError:
            failed += 1
        latencies.append((time.perf_counter() - t0) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        tasks = []
        start = time.perf_counter()
        for n in range(int(rate * duration)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(s, *next(turn))))
        await asyncio.gather(*tasks)
    return {"sent": len(latencies), "failed": failed, "p50": pct(latencies, 50), "p99": pct(latencies, 99)}


async def login(s: aiohttp.ClientSession, url: str, username: str, patience: float = 60.0) -> dict[str, str]:
    """A bearer header; a 503 (a server still busy with the last phase) is tried again."""
    give_up = time.monotonic() + patience
    while True:
        async with s.post(f"{url}/api/v1/auth/login", json={"username": username, "password": "demo"}) as r:
            body = await r.json()
            if r.status == 200:
                return {"Authorization": f"Bearer {body['token']}"}
            if r.status != 503 or time.monotonic() > give_up:
                raise RuntimeError(f"login {username}: {r.status} {body}")
        await asyncio.sleep(0.5)


async def screens_phase(url: str, halls: list[str], screens: int, called: list[tuple[str, str, str, str]],
                        calls: int, gap: float) -> dict[str, float]:
    """`screens` public websockets over `halls` round robin; each of `called` (hall, clerk, window,
    item) calls `calls` tickets; latency at every screen of the calling hall."""
    sent: dict[tuple[str, str], float] = {}
    latencies: list[float] = []
    received = disorder = ready = 0
    per_hall: dict[str, int] = {}
    stop = asyncio.Event()
    connect = asyncio.Semaphore(100)

    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def screen(s: aiohttp.ClientSession, hall: str) -> None:
        nonlocal received, disorder, ready
        async with connect:
            ws = await s.ws_connect(f"{url}/ws/v1/halls/{hall}", heartbeat=None)
        sockets.append(ws)
        ready += 1
        last = -1
        try:
            while not stop.is_set():  # no timeout per receive: 5,000 of them would load this process
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return
                now = time.perf_counter()
                m = json.loads(msg.data)
                if m["type"] == "snapshot":
                    last = m["seq"]
                elif m["type"] == "event":
                    disorder += m["seq"] != last + 1
                    last = m["seq"]
                    key = (hall, m["event"].get("number"))
                    if m["event"]["type"] == "ticket_called" and key in sent:
                        received += 1
                        latencies.append((now - sent[key]) * 1000)
        finally:
            await ws.close()

    async def caller(s: aiohttp.ClientSession, hall: str, clerk: str, window: str, item: str) -> None:
        def called(number: str, t0: float) -> None:
            sent[(hall, number)] = t0

        await call_tickets(s, url, hall, window, item, await login(s, url, clerk), calls, gap, called)

    t_connect = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        tasks = []
        for n in range(screens):
            hall = halls[n % len(halls)]
            per_hall[hall] = per_hall.get(hall, 0) + 1
            tasks.append(asyncio.create_task(screen(s, hall)))
        while ready < screens and not any(t.done() for t in tasks):
            await asyncio.sleep(0.1)
        connected_s = time.monotonic() - t_connect
        try:
            await asyncio.gather(*(caller(s, *c) for c in called))
            await asyncio.sleep(2.0)
        finally:
            stop.set()
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = sum(1 for r in results if isinstance(r, BaseException))
    expected = sum(per_hall.get(hall, 0) for hall, number in sent)
    return {"p50": pct(latencies, 50), "p99": pct(latencies, 99), "lost": expected - received, "disorder": disorder,
            "calls": len(sent), "connected_s": connected_s, "screen_errors": errors, "ready": ready}


async def region_phase(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as s:
        h = await login(s, url, "manager")
        times, halls = [], 0
        for _ in range(3):
            t0 = time.perf_counter()
            async with s.get(f"{url}/api/v1/halls/{CITY}/region", headers=h) as r:
                body = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"region: {r.status} {body}")
            times.append((time.perf_counter() - t0) * 1000)
            halls = len(body["halls"])
    return {"first_ms": times[0], "median_ms": sorted(times)[1], "halls": halls}


async def run_server(name: str, args: argparse.Namespace, config: Path, folder: Path, halls: dict[str, str],
                     database: str | None) -> dict | None:
    port = free_port()
    cmd = hallq_serve(port, folder / "data") + ["--config", str(config)]
    if database:
        cmd += ["--database", database]
    server = Proc(name, cmd, folder / f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    server.start()
    try:
        if not await server.wait_ready(url + "/api/v1/halls", args.start_timeout):
            print(f"{name}: the server did not start\n{server.log_tail()}", file=sys.stderr)
            return None
        row: dict = {"start_s": time.monotonic() - t0, "rss_mb": rss_mb(server.pid)}
        print(f"{name}: started in {row['start_s']:.1f} s, {row['rss_mb']:.0f} MB resident", flush=True)
        if not database and args.idle > 0:
            if args.settle > 0:  # what the start leaves to do (first sweeps, ledgers), apart from the steady idle
                c0, w0 = cpu_s(server.pid), time.monotonic()
                await asyncio.sleep(args.settle)
                row["settle_pct"] = 100 * (cpu_s(server.pid) - c0) / (time.monotonic() - w0)
                print(f"{name}: CPU {row['settle_pct']:.1f} % of a core in the {args.settle:.0f} s after start", flush=True)
            c0, w0 = cpu_s(server.pid), time.monotonic()
            await asyncio.sleep(args.idle)
            row["idle_pct"] = 100 * (cpu_s(server.pid) - c0) / (time.monotonic() - w0)
            print(f"{name}: idle CPU {row['idle_pct']:.1f} % of a core over {args.idle:.0f} s", flush=True)
        spread = [(h, item) for h, item in halls.items()]
        one = [(CITY, item) for item in CITY_ITEMS]
        row["spread"] = await issue_load(url, spread, args.concurrency, args.duration)
        row["one"] = await issue_load(url, one, args.concurrency, args.duration)
        print(f"{name}: spread {row['spread']['per_s']:.0f} tickets/s p99 {row['spread']['p99']:.0f} ms; "
              f"one hall {row['one']['per_s']:.0f} tickets/s p99 {row['one']['p99']:.0f} ms", flush=True)
        row["offered"] = await offered_load(url, spread, args.rate, args.duration)
        print(f"{name}: {args.rate:.0f} tickets/s offered: p50 {row['offered']['p50']:.1f} ms "
              f"p99 {row['offered']['p99']:.1f} ms", flush=True)
        if not database:
            towns = [h for h in halls if h.startswith("town-")]
            step = max(1, len(towns) // max(1, args.called))
            called = [(h, f"{h}-t01", "t01", halls[h]) for h in towns[::step][: args.called]]
            try:
                row["screens"] = await screens_phase(url, list(halls), args.screens, called, args.calls, args.gap)
                sc = row["screens"]
                print(f"{name}: {sc['ready']} screens connected in {sc['connected_s']:.1f} s; call→screen p50 {sc['p50']:.1f} ms "
                      f"p99 {sc['p99']:.1f} ms, lost {sc['lost']}", flush=True)
            except Exception as exc:  # noqa: BLE001 - the other figures still count; the exit code says it failed
                row["errors"] = row.get("errors", []) + [f"screens: {exc!r}"]
                print(f"{name}: screens phase failed: {exc!r}", flush=True)
            try:
                row["region"] = await region_phase(url)
                print(f"{name}: region of {row['region']['halls']} halls: first {row['region']['first_ms']:.0f} ms, "
                      f"median {row['region']['median_ms']:.0f} ms", flush=True)
            except Exception as exc:  # noqa: BLE001
                row["errors"] = row.get("errors", []) + [f"region: {exc!r}"]
                print(f"{name}: region phase failed: {exc!r}", flush=True)
        row["peak_mb"] = rss_mb(server.pid, "VmHWM")
        return row
    finally:
        server.stop()


def table(rows: dict[str, dict], args: argparse.Namespace, halls: int) -> None:
    print(f"\n{halls} halls; {os.cpu_count()} cores; {args.concurrency} clients for {args.duration:.0f} s; "
          f"{args.screens} screens, {args.called} halls x {args.calls} calls\n")
    print(f"{'store':<8} {'start s':>8} {'RSS MB':>7} {'idle %':>7} {'spread/s':>9} {'p99 ms':>7} {'one/s':>7} "
          f"{'p99 ms':>7} {'ratio':>6} {'@rate p99':>10} {'screen p99':>11} {'region ms':>10}")
    for name, r in rows.items():
        sc, rg = r.get("screens"), r.get("region")
        print(f"{name:<8} {r['start_s']:>8.1f} {r['rss_mb']:>7.0f} {r.get('idle_pct', float('nan')):>7.1f} "
              f"{r['spread']['per_s']:>9.0f} {r['spread']['p99']:>7.0f} {r['one']['per_s']:>7.0f} {r['one']['p99']:>7.0f} "
              f"{r['spread']['per_s'] / max(r['one']['per_s'], 1e-9):>6.2f} {r['offered']['p99']:>10.1f} "
              f"{sc['p99'] if sc else float('nan'):>11.1f} {rg['first_ms'] if rg else float('nan'):>10.0f}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true", help="a tiny province and short phases (the smoke test)")
    p.add_argument("--counties", type=int, default=14)
    p.add_argument("--towns", type=int, default=1500)
    p.add_argument("--idle", type=float, default=30.0)
    p.add_argument("--settle", type=float, default=0.0, help="seconds after start measured apart, before the idle window")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--screens", type=int, default=5000)
    p.add_argument("--called", type=int, default=10)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--gap", type=float, default=0.2)
    p.add_argument("--start-timeout", type=float, default=120.0)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    if args.small:
        args.counties, args.towns, args.idle, args.concurrency, args.duration = 2, 6, 1.0, 8, 1.0
        args.rate, args.screens, args.called, args.calls, args.gap = 20.0, 18, 2, 2, 0.1
        args.no_postgres = True
    return args


async def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hallq-province-") as tmp:
        root = Path(tmp)
        halls = generate(root / "config", args.counties, args.towns)
        for name in ("sqlite", "postgres"):
            db = None
            if name == "postgres":
                if args.no_postgres or (db := await pg_database()) is None:
                    break
            folder = root / name
            folder.mkdir()
            try:
                row = await run_server(name, args, root / "config", folder, halls, db[1] if db else None)
            finally:
                if db:
                    await drop_database(db[0])
            if row is None:
                return 2
            rows[name] = row
    table(rows, args, len(halls))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    bad = any(r.get("errors") or r["spread"]["failed"] or r["one"]["failed"] or r["offered"]["failed"]
              or (r.get("screens") and (r["screens"]["lost"] or r["screens"]["disorder"] or r["screens"]["screen_errors"]))
              for r in rows.values())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
