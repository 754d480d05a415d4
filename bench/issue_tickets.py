"""Benchmark: issuing queue tickets (POST /api/v1/halls/demo/tickets) on one hallq server.

What it measures, against a real `hallq serve` started here as a subprocess on 127.0.0.1
with a fresh SQLite journal (WAL, synchronous=FULL, group commit: every 201 is on disk
before it is sent):

  Phase A, throughput: a closed loop of --concurrency workers (default 64) on keep-alive
  connections issue tickets for --duration seconds (default 10), rotating over items
  without a daily quota. Prints tickets/s. Target: >= 1000 tickets/s.

  Phase B, latency at a fixed offered rate: an open loop sends --rate tickets/s (default
  200) for --rate-duration seconds (default 10) at exact intervals, without waiting for
  answers; each latency is measured from the request's *scheduled* send time (so client
  or server stalls are not hidden). Prints p50/p90/p99/max and the achieved rate.
  Target: p99 < 20 ms.

  Durability check: after the server is stopped, the rows of type 'ticket_issued' in
  <data>/hallq.sqlite3 are counted and compared with the 201s received (fewer rows than
  201s is a failure). --kill stops the server with SIGKILL instead of SIGTERM, so the
  check does not rely on a clean shutdown.

The load generator runs in this process (aiohttp ClientSession, bounded keep-alive pool);
the server is a separate process. Phase B runs on the same hall-day as phase A, so the
server holds the tickets of phase A as waiting tickets (nobody calls them).

Run from the repository root:

    python bench/issue_tickets.py
    python bench/issue_tickets.py --concurrency 32 --duration 5 --rate 300 --rate-duration 5

Exit code: 0 when the measurement ran (whether or not the targets are met); 1 when any
request failed (non-201 or connection error) or the journal holds fewer tickets than 201s
received; 2 when the server did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import shutil
import sqlite3
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from processes import Proc, free_port, hallq_serve  # bench/processes.py
HALL = "demo"
# Demo items with neither a daily_quota nor restricted issuing hours (see config/demo/items.yaml).
DEFAULT_ITEMS = "hrss_card,tax_invoice,market_individual,police_hukou,medical_reimburse,estate_query,fund_account,civil_social_org"

TARGET_TPS = 1000.0
TARGET_RATE = 200.0
TARGET_P99_MS = 20.0
MAX_PRINTED_ERRORS = 20


# ------------------------------------------------------------------------------- the server


# ------------------------------------------------------------------------------- requests


@dataclass
class Tally:
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    printed: int = 0

    @property
    def n_errors(self) -> int:
        return sum(self.errors.values())

    def error(self, key: str, detail: str) -> None:
        self.errors[key] += 1
        if self.printed < MAX_PRINTED_ERRORS:
            self.printed += 1
            print(f"  error: {key}: {detail[:300]}", file=sys.stderr)
        elif self.printed == MAX_PRINTED_ERRORS:
            self.printed += 1
            print("  error: (further errors are only counted)", file=sys.stderr)


class Issuer:
    def __init__(self, session: aiohttp.ClientSession, base: str, items: list[str]) -> None:
        self.session = session
        self.url = f"{base}/api/v1/halls/{HALL}/tickets"
        # Pre-encoded bodies, rotated: the client should spend as little CPU as it can.
        self.bodies = itertools.cycle([json.dumps({"item": i}).encode() for i in items])
        self.headers = {"Content-Type": "application/json"}

    async def issue(self, tally: Tally) -> bool:
        try:
            async with self.session.post(self.url, data=next(self.bodies), headers=self.headers) as r:
                if r.status == 201:
                    await r.read()
                    tally.ok += 1
                    return True
                tally.error(f"HTTP {r.status}", await r.text())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            tally.error(type(exc).__name__, repr(exc))
        return False


def session(limit: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, force_close=False, keepalive_timeout=60)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60))


# ------------------------------------------------------------------------------- phases


async def warm_up(base: str, items: list[str], limit: int, n: int, tally: Tally) -> None:
    async with session(limit) as s:
        issuer = Issuer(s, base, items)
        await asyncio.gather(*(issuer.issue(tally) for _ in range(n)))


async def phase_a(base: str, items: list[str], concurrency: int, duration: float, count: int | None) -> tuple[Tally, float, list[int]]:
    """Closed loop: `concurrency` workers, each sends the next request when its answer is in."""
    tally = Tally()
    per_second: Counter[int] = Counter()
    remaining = [count] if count else None
    async with session(concurrency) as s:
        issuer = Issuer(s, base, items)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        deadline = t0 + duration

        async def worker() -> None:
            while True:
                if remaining is not None:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                elif loop.time() >= deadline:
                    return
                if await issuer.issue(tally):
                    per_second[int(loop.time() - t0)] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = loop.time() - t0
    seconds = [per_second[i] for i in range(int(math.ceil(elapsed)))]
    return tally, elapsed, seconds


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


async def phase_b(base: str, items: list[str], rate: float, duration: float, limit: int) -> dict[str, float]:
    """Open loop: request i is due at t0 + i/rate, sent then whatever the earlier ones are doing."""
    tally = Tally()
    latencies: list[float] = []
    n = int(round(rate * duration))
    async with session(limit) as s:
        issuer = Issuer(s, base, items)
        loop = asyncio.get_running_loop()
        last_done = [0.0]
        late_sends = [0.0]

        async def one(scheduled: float) -> None:
            late_sends[0] = max(late_sends[0], loop.time() - scheduled)
            if await issuer.issue(tally):
                done = loop.time()
                latencies.append(done - scheduled)
                last_done[0] = max(last_done[0], done)

        tasks: list[asyncio.Task[None]] = []
        t0 = loop.time() + 0.05
        for i in range(n):
            scheduled = t0 + i / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        send_span = loop.time() - t0
        await asyncio.gather(*tasks)
    lat = sorted(x * 1000.0 for x in latencies)
    done_span = (last_done[0] - t0) if latencies else float("nan")
    return {
        "tally": tally,  # type: ignore[dict-item]
        "sent": n,
        "ok": tally.ok,
        "offered_rate": rate,
        "send_rate": n / send_span if send_span > 0 else float("nan"),
        "achieved_rate": tally.ok / done_span if done_span and done_span > 0 else float("nan"),
        "p50": percentile(lat, 50),
        "p90": percentile(lat, 90),
        "p99": percentile(lat, 99),
        "max": lat[-1] if lat else float("nan"),
        "mean": sum(lat) / len(lat) if lat else float("nan"),
        "max_send_lag_ms": late_sends[0] * 1000.0,
    }


async def check_items(base: str, items: list[str]) -> list[str]:
    """Keep the items that exist and have no daily quota (a quota would turn 201s into 409s)."""
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/v1/halls/{HALL}/catalog") as r:
            catalog = await r.json()
    known = {i["id"]: i for i in catalog["items"]}
    kept = []
    for item in items:
        if item not in known:
            print(f"  skipping item {item!r}: not in hall {HALL}", file=sys.stderr)
        elif known[item].get("daily_quota") is not None:
            print(f"  skipping item {item!r}: it has a daily quota of {known[item]['daily_quota']}", file=sys.stderr)
        else:
            kept.append(item)
    return kept


def journal_tickets(db: Path) -> int:
    if not db.exists():
        raise sqlite3.OperationalError(f"no file {db}")
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM events WHERE type = 'ticket_issued'").fetchone()[0])
    finally:
        con.close()


# ------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, default=64, help="phase A: concurrent workers = client connections (default 64)")
    p.add_argument("--duration", type=float, default=10.0, help="phase A: seconds of closed-loop load (default 10)")
    p.add_argument("--count", type=int, default=None, help="phase A: issue this many tickets instead of running for --duration")
    p.add_argument("--rate", type=float, default=TARGET_RATE, help="phase B: offered tickets/s (default 200)")
    p.add_argument("--rate-duration", type=float, default=10.0, help="phase B: seconds of open-loop load (default 10)")
    p.add_argument("--port", type=int, default=None, help="server port on 127.0.0.1 (default: a free one)")
    p.add_argument("--items", default=DEFAULT_ITEMS, help="comma-separated item ids without a daily quota")
    p.add_argument("--warmup", type=int, default=200, help="tickets issued before phase A, not measured (default 200)")
    p.add_argument("--skip-a", action="store_true", help="run phase B only (on an empty hall-day)")
    p.add_argument("--skip-b", action="store_true", help="run phase A only")
    p.add_argument("--kill", action="store_true", help="stop the server with SIGKILL before the durability check")
    p.add_argument("--keep-data", action="store_true", help="keep the temporary data folder and server log")
    return p.parse_args(argv)


async def run(args: argparse.Namespace, base: str) -> tuple[int, int, int]:
    """The phases; returns (201s, errors, exit code so far)."""
    items = await check_items(base, [i.strip() for i in args.items.split(",") if i.strip()])
    if not items:
        print("no usable items", file=sys.stderr)
        return 0, 0, 2
    print(f"items: {', '.join(items)}")
    total_ok = total_err = 0

    if args.warmup > 0:
        w = Tally()
        await warm_up(base, items, args.concurrency, args.warmup, w)
        total_ok += w.ok
        total_err += w.n_errors
        print(f"warm-up: {w.ok} tickets, {w.n_errors} errors")

    tps = float("nan")
    if not args.skip_a:
        what = f"{args.count} tickets" if args.count else f"{args.duration:g} s"
        print(f"\nphase A: throughput, closed loop, {args.concurrency} workers, {what}")
        tally, elapsed, per_second = await phase_a(base, items, args.concurrency, args.duration, args.count)
        tps = tally.ok / elapsed if elapsed > 0 else float("nan")
        total_ok += tally.ok
        total_err += tally.n_errors
        print(f"  201s: {tally.ok} in {elapsed:.2f} s, errors: {tally.n_errors} {dict(tally.errors) or ''}")
        print(f"  per second: {' '.join(str(x) for x in per_second)}")
        print(f"  throughput: {tps:.0f} tickets/s")

    b: dict[str, float] = {}
    if not args.skip_b:
        print(f"\nphase B: latency, open loop at {args.rate:g}/s for {args.rate_duration:g} s")
        b = await phase_b(base, items, args.rate, args.rate_duration, args.concurrency)
        tally: Tally = b.pop("tally")  # type: ignore[assignment]
        total_ok += tally.ok
        total_err += tally.n_errors
        print(f"  sent: {b['sent']}, 201s: {b['ok']}, errors: {tally.n_errors} {dict(tally.errors) or ''}")
        print(
            f"  latency from scheduled send (ms): p50 {b['p50']:.2f}  p90 {b['p90']:.2f}  p99 {b['p99']:.2f}  "
            f"max {b['max']:.2f}  (mean {b['mean']:.2f})"
        )
        print(
            f"  rate: offered {b['offered_rate']:g}/s, sent {b['send_rate']:.1f}/s, achieved {b['achieved_rate']:.1f}/s "
            f"(largest send lag {b['max_send_lag_ms']:.1f} ms)"
        )

    args._results = (tps, b)  # for the summary after the server has stopped
    return total_ok, total_err, 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hallq-bench-"))
    data = tmp / "data"
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = Proc("server", hallq_serve(port, data), tmp / "server.log")
    print(f"server: 127.0.0.1:{port}, data {data}, {os.cpu_count()} CPUs")
    code = 0
    total_ok = total_err = 0
    try:
        server.start()
        if asyncio.run(server.wait_ready(f"{base}/api/v1/halls")):
            total_ok, total_err, code = asyncio.run(run(args, base))
        else:
            print("the server did not start:", file=sys.stderr)
            server.stop()
            print(server.log_tail(), file=sys.stderr)
            code = 2
    except KeyboardInterrupt:
        code = 130
    finally:
        rc = server.stop(kill=args.kill)
    if code in (2, 130):
        if not args.keep_data:
            shutil.rmtree(tmp, ignore_errors=True)
        return code
    print(f"\nserver stopped ({'SIGKILL' if args.kill else 'SIGTERM'}), exit code {rc}")

    db = data / "hallq.sqlite3"
    try:
        rows = journal_tickets(db)
    except sqlite3.Error as exc:
        print(f"durability: cannot read {db}: {exc}", file=sys.stderr)
        rows = -1
    verdict = "OK" if rows >= total_ok else "FAIL: fewer rows than 201s"
    if rows > total_ok:
        verdict = "OK (more rows than 201s: some requests failed after their append)"
    print(f"durability: 201s received {total_ok}, ticket_issued rows in the journal {rows}: {verdict}")

    tps, b = getattr(args, "_results", (float("nan"), {}))
    print("\nsummary")
    if not args.skip_a:
        print(f"  throughput      {tps:8.0f} tickets/s   target >= {TARGET_TPS:.0f}/s   measured/target = {tps / TARGET_TPS:.2f}"
              f"   {'met' if tps >= TARGET_TPS else 'NOT met'}")
    if b:
        p99 = b["p99"]
        note = "" if args.rate == TARGET_RATE else f" (target is at {TARGET_RATE:g}/s)"
        print(f"  p99 at {args.rate:g}/s   {p99:8.2f} ms          target < {TARGET_P99_MS:.0f} ms      target/measured = {TARGET_P99_MS / p99:.2f}"
              f" (>1 is better than target)   {'met' if p99 < TARGET_P99_MS else 'NOT met'}{note}")
        print(f"  p50/p90/max     {b['p50']:.2f} / {b['p90']:.2f} / {b['max']:.2f} ms, achieved {b['achieved_rate']:.1f}/s")
    print(f"  errors          {total_err}")
    print(f"  durability      {total_ok} x 201, {rows} rows")

    if args.keep_data:
        print(f"data and server log kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if total_err or rows < total_ok:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
