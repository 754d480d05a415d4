"""Benchmark: one deployment, three shapes, in one run.

  embedded   `hallq serve` as it starts on a fresh machine: SQLite journal, in-process bus
  pg+redis×1 one worker on a PostgreSQL journal with the Redis bus (a shared hall: every
             decision and read first folds what the journal holds beyond its position)
  pg+redis×2 `--workers 2`: two processes on one port (SO_REUSEPORT), any of them takes any
             command, screens on either hear every event

Each shape gets a fresh data directory, a fresh PostgreSQL database (created and dropped here)
and a private redis-server on a free port, and the demo hall (--always-open, no issue limit).

  Phase A, tickets/s: --concurrency clients (default 64), each on its own keep-alive
  connection (so the kernel spreads them over the workers), issue tickets for --duration
  seconds (default 8) in a closed loop. Every 201 is durable before it is sent.

  Phase B, call to screen: --screens public websocket clients (default 200, each its own
  connection, so spread over the workers) listen on the hall; a clerk of window w06 calls
  --calls times (default 40), every --gap seconds (0.2), with a no-show in between. Latency =
  receipt at a screen - the time just before the call's POST, for every (screen, call); the
  screens live in this process, so the figures include this process's own scheduling (the
  same in every shape: compare the ratios). Lost = screens x calls - calls received.

Prints a table with the ratio of each shape to the embedded default. Needs PostgreSQL
($HALLQ_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test; the user must be
allowed to create databases) and `redis-server` on the PATH; without them it measures the
embedded shape only and says why.

Run from the repository root:

    python bench/scale.py
    python bench/scale.py --duration 5 --screens 100 --calls 20

Exit code 0 when the measurement ran; 1 when a ticket or a call message was lost, a screen
saw events out of order, or a request failed; 2 when a server did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.processes import Proc, free_port, hallq_serve  # noqa: E402

PG = os.environ.get("HALLQ_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ITEMS = ["hrss_card", "tax_invoice", "market_individual", "police_hukou", "estate_query", "fund_account", "civil_social_org"]  # no daily quota
HALL = "demo"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Redis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.proc = Proc("redis", [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind",
                                   "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                         folder / "redis.log")

    def start(self) -> None:
        self.proc.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                subprocess.run(["redis-cli", "-p", str(self.port), "ping"], check=True, capture_output=True, timeout=2)
                return
            except (subprocess.SubprocessError, OSError):
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


async def pg_database() -> tuple[str, str] | None:
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(PG), 5)
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        print(f"(no PostgreSQL at {PG}: {exc!r})", file=sys.stderr)
        return None
    name = "hallq_bench_" + uuid.uuid4().hex[:10]
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, PG.rsplit("/", 1)[0] + "/" + name


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def issue_phase(url: str, concurrency: int, duration: float) -> tuple[int, int, float]:
    ok = failed = 0
    stop_at = time.monotonic() + duration

    async def client(n: int) -> None:
        nonlocal ok, failed
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as s:
            k = n
            while time.monotonic() < stop_at:
                try:
                    async with s.post(f"{url}/api/v1/halls/{HALL}/tickets", json={"item": ITEMS[k % len(ITEMS)]}) as r:
                        await r.read()
                        if r.status == 201:
                            ok += 1
                        else:
                            failed += 1
                except aiohttp.ClientError:
                    failed += 1
                k += 1

    t0 = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return ok, failed, time.monotonic() - t0


async def call_tickets(s: aiohttp.ClientSession, url: str, hall: str, window: str, item: str, headers: dict[str, str],
                       calls: int, gap: float, called: Callable[[str, float], None]) -> None:
    """Issue `calls` tickets for `item`, open `window`, then call each and mark it a no-show,
    `gap` seconds apart; `called` hears each called number with the moment its call was sent,
    as soon as the call is answered (the screens look it up when they hear the call)."""
    for _ in range(calls):
        async with s.post(f"{url}/api/v1/halls/{hall}/tickets", json={"item": item}) as r:
            await r.read()
    base = f"{url}/api/v1/halls/{hall}/windows/{window}/"
    async with s.post(base + "open", json={}, headers=headers) as r:
        await r.read()
    await asyncio.sleep(1.0)
    for _ in range(calls):
        t0 = time.perf_counter()
        async with s.post(base + "call-next", json={}, headers=headers) as r:
            w = await r.json()
        if w.get("ticket"):
            called(w["ticket"]["number"], t0)
        await asyncio.sleep(gap / 2)
        async with s.post(base + "no-show", json={}, headers=headers) as r:
            await r.read()
        await asyncio.sleep(gap / 2)


async def call_phase(url: str, screens: int, calls: int, gap: float) -> dict[str, float | int]:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    received = 0
    disorder = 0
    ready = 0
    stop = asyncio.Event()

    async def screen() -> None:
        nonlocal received, disorder, ready
        async with aiohttp.ClientSession() as s, s.ws_connect(f"{url}/ws/v1/halls/{HALL}", heartbeat=None) as ws:
            last = -1
            ready += 1
            while not stop.is_set():
                try:
                    msg = await asyncio.wait_for(ws.receive(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return
                now = time.perf_counter()
                m = json.loads(msg.data)
                if m["type"] == "snapshot":
                    last = m["seq"]
                elif m["type"] == "event":
                    if m["seq"] != last + 1:
                        disorder += 1
                    last = m["seq"]
                    if m["event"]["type"] == "ticket_called" and m["event"].get("number") in sent:
                        received += 1
                        latencies.append((now - sent[m["event"]["number"]]) * 1000)

    tasks = [asyncio.create_task(screen()) for _ in range(screens)]
    while ready < screens:
        await asyncio.sleep(0.05)
        if any(t.done() for t in tasks):
            break
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{url}/api/v1/auth/login", json={"username": "w06a", "password": "demo"}) as r:
            h = {"Authorization": f"Bearer {(await r.json())['token']}"}
        await call_tickets(s, url, HALL, "w06", "medical_reimburse", h, calls, gap, sent.__setitem__)
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"p50": pct(latencies, 50), "p99": pct(latencies, 99), "max": max(latencies, default=float("nan")),
            "lost": screens * len(sent) - received, "disorder": disorder, "calls": len(sent)}


async def shape(name: str, args: argparse.Namespace, root: Path, pg: bool, workers: int) -> dict | None:
    folder = root / name.replace("×", "x").replace("+", "_")
    folder.mkdir()
    port = free_port()
    cmd = hallq_serve(port, folder / "data")
    redis = None
    db = None
    if pg:
        redis = Redis(folder)
        redis.start()
        db = await pg_database()
        assert db is not None
        cmd += ["--redis", redis.url, "--database", db[1], "--workers", str(workers)]
    server = Proc(name, cmd, folder / "server.log")
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        if not await server.wait_ready(url + "/api/v1/halls", 60):
            print(f"{name}: the server did not start\n{server.log_tail()}", file=sys.stderr)
            return None
        await asyncio.sleep(1.0 if workers > 1 else 0.2)  # the other workers follow the first
        ok, failed, took = await issue_phase(url, args.concurrency, args.duration)
        calls = await call_phase(url, args.screens, args.calls, args.gap)
        return {"shape": name, "tickets_per_s": ok / took, "issued": ok, "failed": failed, **calls}
    finally:
        server.stop()
        if redis:
            redis.proc.stop()
        if db:
            await drop_database(db[0])


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--screens", type=int, default=200)
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--gap", type=float, default=0.2)
    args = p.parse_args()
    have_pg = await pg_database()
    if have_pg:
        await drop_database(have_pg[0])
    have_redis = shutil.which("redis-server") is not None
    shapes = [("embedded", False, 1)]
    if have_pg and have_redis:
        shapes += [("pg+redis×1", True, 1), ("pg+redis×2", True, 2)]
    else:
        print("PostgreSQL or redis-server missing: measuring the embedded shape only", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hallq-scale-") as tmp:
        for name, pg, workers in shapes:
            row = await shape(name, args, Path(tmp), pg, workers)
            if row is None:
                return 2
            rows.append(row)
            print(f"{name}: {row['tickets_per_s']:.0f} tickets/s, call→screen p50 {row['p50']:.1f} ms "
                  f"p99 {row['p99']:.1f} ms, lost {row['lost']}", flush=True)
    base = rows[0]
    print(f"\n{os.cpu_count()} cores; {args.concurrency} issuing clients for {args.duration:.0f} s; "
          f"{args.screens} screens x {args.calls} calls\n")
    print(f"{'shape':<12} {'tickets/s':>10} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'max ms':>8} {'lost':>5} {'order':>6}")
    for r in rows:
        print(f"{r['shape']:<12} {r['tickets_per_s']:>10.0f} {r['tickets_per_s'] / base['tickets_per_s']:>6.2f} "
              f"{r['p50']:>8.1f} {r['p99']:>8.1f} {r['p99'] / base['p99']:>6.2f} {r['max']:>8.1f} {r['lost']:>5} "
              f"{'ok' if r['disorder'] == 0 else r['disorder']:>6}")
    bad = any(r["lost"] or r["disorder"] or r["failed"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
