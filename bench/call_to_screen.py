"""Benchmark: call to screen, the time from a clerk's call to every lobby screen's receipt.

What it measures. A real `hallq serve` runs as a subprocess on 127.0.0.1 with a fresh SQLite
journal (demo hall, --always-open). A second process, this script in `--role clients` mode,
holds --clients websocket clients (default 1,000) on WS /ws/v1/halls/demo (public feed, no
?window filter) and records, for every message it receives, (client index, time.monotonic_ns()
at receipt, the start of the message). The main process (the driver) issues tickets for
`medical_reimburse` (no daily quota, served by window w06), logs in as w06a, opens w06 and
then, --calls times (default 50), every --gap seconds (default 0.2):

    t0 = monotonic_ns(); POST .../windows/w06/call-next    (the measured call)
    at t0 + gap/2: POST .../windows/w06/no-show             (frees the window; not measured)

Each ticket_called message carries event.number; latency = receipt - t0 of the call with
that number, for every (client, call). CLOCK_MONOTONIC is system-wide on Linux, so times
taken in different processes compare. Lost = clients x calls - call messages received. Every
client must also see the feed's events in strictly increasing seq order (gaps are counted).

The floor. In the same run, after the hallq server has stopped, a bare aiohttp websocket
server (this script in `--role floor` mode, a third process) takes the same number of clients
(a fresh `--role clients` process). The driver sends it the real call message and the real
no-show message captured from the hallq run; each round it takes t0 and POSTs /broadcast,
and the floor server loops `await ws.send_str(payload)` over its clients (the call payload
with its seq replaced by the round's id, so the same size), and likewise a no-show-sized
broadcast at t0 + gap/2. Same rounds, same percentiles; the ratio hallq/floor is printed.

Targets (the issue): p99 < 60 ms at 1,000 clients on a 2-core machine, and p99 within
1.5x the floor. Besides the percentiles it prints, per call, the first client's latency (the
server's own path: HTTP, decide, journal fsync, feed) and the spread first -> last receipt
(the fan-out), the REST round trip, and the CPU time each process spent per call.

Run from the repository root:

    python bench/call_to_screen.py
    python bench/call_to_screen.py --clients 200 --calls 20 --gap 0.15

Exit code: 0 when the measurement ran (whether or not the targets are met); 1 when a call
message was lost or duplicated, the order was broken, a client was disconnected or a REST
call failed; 2 when the server, the floor or the client process did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import pickle
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from processes import REPO, Proc, free_port, hallq_serve  # bench/processes.py
HALL = "demo"
ITEM = "medical_reimburse"  # no daily quota, no restricted issuing hours; served by w06 (and nobody else)
WINDOW = "w06"
CLERK = "w06a"
PASSWORD = os.environ.get("HALLQ_DEMO_PASSWORD", "demo")

TARGET_P99_MS = 60.0
TARGET_RATIO = 1.5
CONNECT_CONCURRENCY = 64
PREFIX_CHARS = 240  # the part of each message the client process keeps (seq, event type, number)

RE_SEQ = re.compile(r'"seq":(\d+)')
RE_EVENT_TYPE = re.compile(r'"event":\{"type":"([a-z_]+)"')
RE_NUMBER = re.compile(r'"number":"([^"]+)"')


def raise_nofile(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (children inherit it); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (nan when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# =============================================================================== role: clients


async def clients_role(args: argparse.Namespace) -> int:
    """Hold `args.clients` websockets on `args.url`; print READY, record until STOP (stdin) or the deadline."""
    raise_nofile(args.clients + 256)
    n = args.clients
    deadline = time.monotonic() + args.deadline
    records: list[tuple[int, int, str]] = []  # (client, monotonic_ns at receipt, message prefix)
    full: dict[str, str] = {}  # the first complete call / no-show message seen by client 0
    closes: list[tuple[int, str]] = []
    connect_errors: list[str] = []
    ready = asyncio.Event()
    connected = [0]
    stop = asyncio.Event()
    sockets: list[aiohttp.ClientWebSocketResponse | None] = [None] * n
    monotonic_ns = time.monotonic_ns
    TEXT, BINARY = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY

    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, connect=30))
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> None:
        try:
            async with gate:
                ws = await session.ws_connect(args.url, autoping=True, heartbeat=None, max_msg_size=8 * 1024 * 1024,
                                              compress=0)
                first = await asyncio.wait_for(ws.receive(), 30)  # the snapshot (or the floor's hello)
                if first.type is not TEXT:
                    connect_errors.append(f"client {i}: first message {first.type!r}")
                    await ws.close()
                    return
            sockets[i] = ws
            connected[0] += 1
            if connected[0] == n:
                ready.set()
            append = records.append
            while True:
                msg = await ws.receive()
                t = monotonic_ns()
                if msg.type is TEXT:
                    data = msg.data
                    append((i, t, data[:PREFIX_CHARS]))
                    if i == 0 and len(full) < 2:
                        m = RE_EVENT_TYPE.search(data, 0, PREFIX_CHARS)
                        if m and m.group(1) in ("ticket_called", "ticket_no_show") and m.group(1) not in full:
                            full[m.group(1)] = data
                elif msg.type is BINARY:
                    append((i, t, ""))
                else:  # CLOSE / CLOSING / CLOSED / ERROR
                    if not stop.is_set():
                        closes.append((i, f"{msg.type.name} {ws.close_code} {msg.extra!r}"))
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            if not stop.is_set():
                connect_errors.append(f"client {i}: {type(exc).__name__}: {exc}")

    tasks = [asyncio.create_task(one(i)) for i in range(n)]

    async def wait_ready() -> None:
        while not ready.is_set() and time.monotonic() < deadline:
            if len(connect_errors) + len(closes) > 0 and connected[0] + len(connect_errors) + len(closes) >= n:
                return
            try:
                await asyncio.wait_for(ready.wait(), 0.2)
            except asyncio.TimeoutError:
                pass

    t_start = time.monotonic()
    await wait_ready()
    if not ready.is_set():
        print(f"FAILED connected={connected[0]} errors={len(connect_errors)} {connect_errors[:3]}", flush=True)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        return 2
    print(f"READY {connected[0]} {time.monotonic() - t_start:.2f}", flush=True)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(reader.readline(), min(1.0, max(0.01, deadline - time.monotonic())))
        except asyncio.TimeoutError:
            continue
        if not line or line.strip() == b"STOP":
            break
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ws in sockets:
        if ws is not None and not ws.closed:
            with _suppress():
                await asyncio.wait_for(ws.close(), 1)
    await session.close()
    with open(args.out, "wb") as f:
        pickle.dump({"records": records, "full": full, "closes": closes, "errors": connect_errors}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    print(f"DONE {len(records)}", flush=True)
    return 0


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], Exception)


# =============================================================================== role: floor


async def floor_role(args: argparse.Namespace) -> int:
    """The bare broadcast: an aiohttp websocket server that loops ws.send_str over its clients."""
    from aiohttp import web

    raise_nofile(args.clients + 256)
    clients: set[web.WebSocketResponse] = set()
    templates: dict[str, str] = {}

    async def ws_handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        await ws.send_str('{"type":"snapshot","seq":0}')
        clients.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            clients.discard(ws)
        return ws

    async def template(request: web.Request) -> web.Response:
        templates.update(await request.json())
        return web.json_response({"ok": True, "clients": len(clients)})

    async def broadcast(request: web.Request) -> web.Response:
        kind = request.query.get("kind", "call")
        rid = int(request.query.get("id", "0"))
        payload = RE_SEQ.sub(f'"seq":{rid}', templates[kind], count=1)
        sent = 0
        for ws in list(clients):
            try:
                await ws.send_str(payload)
                sent += 1
            except (ConnectionError, RuntimeError):
                pass
        return web.json_response({"sent": sent})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"clients": len(clients)})

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    app.router.add_post("/template", template)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.deadline)
    except asyncio.TimeoutError:
        pass
    for ws in list(clients):
        with _suppress():
            await asyncio.wait_for(ws.close(), 1)
    await runner.cleanup()
    return 0


# =============================================================================== the driver


class ClientsProc:
    """The `--role clients` child: READY on stdout when all are connected, STOP on stdin, then a pickle."""

    def __init__(self, url: str, n: int, out: Path, deadline: float) -> None:
        self.cmd = [sys.executable, str(Path(__file__).resolve()), "--role", "clients", "--url", url,
                    "--clients", str(n), "--out", str(out), "--deadline", f"{deadline:.0f}"]
        self.out = out
        self.proc: asyncio.subprocess.Process | None = None
        self.ready_line = ""

    async def start(self, timeout: float) -> bool:
        self.proc = await asyncio.create_subprocess_exec(*self.cmd, cwd=REPO, stdin=asyncio.subprocess.PIPE,
                                                         stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            line = b"TIMEOUT (no READY)"
        self.ready_line = line.decode(errors="replace").strip()
        return self.ready_line.startswith("READY")

    async def finish(self, timeout: float = 60.0) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(b"STOP\n")
            await self.proc.stdin.drain()
            self.proc.stdin.close()
        except (ConnectionError, BrokenPipeError):
            pass
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return None
        try:
            with open(self.out, "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError):
            return None

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Result:
    name: str
    n: int
    k: int
    latencies: list[float] = field(default_factory=list)  # ms, every (client, call)
    first: list[float] = field(default_factory=list)  # ms, per call: the first client's latency
    spread: list[float] = field(default_factory=list)  # ms, per call: last - first receipt
    rest: list[float] = field(default_factory=list)  # ms, per call: the triggering request's round trip
    lost: int = 0
    duplicates: int = 0
    unexpected: int = 0
    order_broken: int = 0  # clients that saw a seq not above the one before
    gaps: int = 0  # missing seqs in the feed (hallq: all events; floor: broadcasts)
    closes: list[tuple[int, str]] = field(default_factory=list)
    request_errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU ms per call
    elapsed: float = 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p)

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicates or self.order_broken or self.gaps or self.closes or self.request_errors)


def analyse(res: Result, data: dict[str, Any], t0: dict[str, int], key: str) -> None:
    """key: 'number' (hallq: call number -> t0) or 'seq' (floor: round id -> t0)."""
    per_client_last = [-1] * res.n
    per_client_seen: list[set[str]] = [set() for _ in range(res.n)]
    receipts: dict[str, list[int]] = {c: [] for c in t0}
    lat: list[float] = []
    for i, t, prefix in data["records"]:
        m = RE_SEQ.search(prefix)
        kind = RE_EVENT_TYPE.search(prefix)
        if m is None or not prefix.startswith('{"type":"event"'):
            continue  # snapshot, tick, pong
        seq = int(m.group(1))
        last = per_client_last[i]
        if last >= 0:
            if seq <= last:
                res.order_broken += 1
            elif seq > last + 1:
                res.gaps += seq - last - 1
        per_client_last[i] = seq
        if kind is None or kind.group(1) != "ticket_called":
            continue
        if key == "number":
            num = RE_NUMBER.search(prefix, kind.end())
            call = num.group(1) if num else "?"
        else:
            call = str(seq)
        if call not in t0:
            res.unexpected += 1
            continue
        if call in per_client_seen[i]:
            res.duplicates += 1
            continue
        per_client_seen[i].add(call)
        lat.append((t - t0[call]) / 1e6)
        receipts[call].append(t)
    received = sum(len(s) for s in per_client_seen)
    res.lost = res.n * res.k - received  # a call that failed at the REST call counts as lost too
    res.latencies = sorted(lat)
    for c, ts in receipts.items():
        if ts:
            res.first.append((min(ts) - t0[c]) / 1e6)
            res.spread.append((max(ts) - min(ts)) / 1e6)
    res.first.sort()
    res.spread.sort()
    res.rest.sort()
    res.closes = list(data["closes"])


async def sleep_until(ns: int) -> None:
    delay = (ns - time.monotonic_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


async def run_hallq(args: argparse.Namespace, tmp: Path) -> tuple[Result | None, dict[str, str], str]:
    """The hallq phase; returns (result or None when something did not start, captured messages, error)."""
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = Proc("hallq server", hallq_serve(port, tmp / "data"), tmp / "server.log")
    res = Result("hallq", args.clients, args.calls)
    clients: ClientsProc | None = None
    server.start()
    try:
        if not await server.wait_ready(f"{base}/api/v1/halls"):
            server.stop()
            return None, {}, "the hallq server did not start:\n" + server.log_tail()
        print(f"hallq server: 127.0.0.1:{port}, pid {server.pid}")
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=4)) as s:
            # Tickets first (K calls + a few spare), so the clients' feed carries only the calls and no-shows.
            for _ in range(args.calls + 5):
                async with s.post(f"{base}/api/v1/halls/{HALL}/tickets", json={"item": ITEM}) as r:
                    if r.status != 201:
                        return None, {}, f"issuing a ticket: HTTP {r.status} {(await r.text())[:300]}"
            async with s.post(f"{base}/api/v1/auth/login", json={"username": CLERK, "password": PASSWORD}) as r:
                if r.status != 200:
                    return None, {}, f"login {CLERK}: HTTP {r.status} {(await r.text())[:300]}"
                token = (await r.json())["token"]
            headers = {"Authorization": f"Bearer {token}"}
            win = f"{base}/api/v1/halls/{HALL}/windows/{WINDOW}"
            async with s.post(f"{win}/open", json={}, headers=headers) as r:
                if r.status != 200:
                    return None, {}, f"open {WINDOW}: HTTP {r.status} {(await r.text())[:300]}"

            clients = ClientsProc(f"ws://127.0.0.1:{port}/ws/v1/halls/{HALL}", args.clients, tmp / "hallq-clients.pickle",
                                  deadline=120 + args.calls * args.gap * 2 + 60)
            if not await clients.start(timeout=120):
                await clients.kill()
                return None, {}, f"the client process did not connect: {clients.ready_line}\n" + server.log_tail()
            print(f"clients: {clients.ready_line.split()[1]} connected in {clients.ready_line.split()[2]} s, pid {clients.proc.pid}")
            await asyncio.sleep(1.0)  # let the connect storm settle

            t0: dict[str, int] = {}
            cpu0 = {"server": cpu_seconds(server.pid), "clients": cpu_seconds(clients.proc.pid)}
            start = time.monotonic_ns()
            gap_ns = int(args.gap * 1e9)
            for k in range(args.calls):
                due = start + k * gap_ns
                await sleep_until(due)
                t = time.monotonic_ns()
                try:
                    async with s.post(f"{win}/call-next", json={}, headers=headers) as r:
                        body = await r.json() if r.status == 200 else await r.text()
                        done = time.monotonic_ns()
                        if r.status != 200 or not (body.get("ticket") or {}).get("number"):
                            res.request_errors.append(f"call-next {k}: HTTP {r.status} {str(body)[:200]}")
                            continue
                        t0[body["ticket"]["number"]] = t
                        res.rest.append((done - t) / 1e6)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    res.request_errors.append(f"call-next {k}: {exc!r}")
                    continue
                await sleep_until(due + gap_ns // 2)
                try:
                    async with s.post(f"{win}/no-show", json={}, headers=headers) as r:
                        if r.status != 200:
                            res.request_errors.append(f"no-show {k}: HTTP {r.status} {(await r.text())[:200]}")
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    res.request_errors.append(f"no-show {k}: {exc!r}")
            await sleep_until(start + args.calls * gap_ns + int(0.5e9))  # the last messages' way
            res.elapsed = (time.monotonic_ns() - start) / 1e9
            res.cpu = {"server": (cpu_seconds(server.pid) - cpu0["server"]) * 1000 / args.calls,
                       "clients": (cpu_seconds(clients.proc.pid) - cpu0["clients"]) * 1000 / args.calls}
        data = await clients.finish()
        if data is None:
            return None, {}, "the client process did not hand back its records"
        if data["errors"]:
            res.request_errors.extend(data["errors"][:5])
        analyse(res, data, t0, "number")
        return res, data["full"], ""
    finally:
        if clients is not None:
            await clients.kill()
        rc = server.stop()
        if rc not in (0, -signal.SIGTERM, None):
            print(f"hallq server exit code {rc}:\n{server.log_tail(10)}", file=sys.stderr)


async def run_floor(args: argparse.Namespace, tmp: Path, full: dict[str, str]) -> tuple[Result | None, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    deadline = 120 + args.calls * args.gap * 2 + 60
    floor = Proc("floor server", [sys.executable, str(Path(__file__).resolve()), "--role", "floor", "--port", str(port),
                                  "--clients", str(args.clients), "--deadline", f"{deadline:.0f}"], tmp / "floor.log")
    res = Result("floor", args.clients, args.calls)
    clients: ClientsProc | None = None
    floor.start()
    try:
        if not await floor.wait_ready(f"{base}/health"):
            floor.stop()
            return None, "the floor server did not start:\n" + floor.log_tail()
        print(f"floor server: 127.0.0.1:{port}, pid {floor.pid}")
        clients = ClientsProc(f"ws://127.0.0.1:{port}/ws", args.clients, tmp / "floor-clients.pickle", deadline=deadline)
        if not await clients.start(timeout=120):
            await clients.kill()
            return None, f"the client process did not connect to the floor: {clients.ready_line}\n" + floor.log_tail()
        print(f"clients: {clients.ready_line.split()[1]} connected in {clients.ready_line.split()[2]} s, pid {clients.proc.pid}")
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=4)) as s:
            async with s.post(f"{base}/template", json={"call": full["ticket_called"], "other": full["ticket_no_show"]}) as r:
                if r.status != 200:
                    return None, f"floor template: HTTP {r.status}"
            await asyncio.sleep(1.0)
            t0: dict[str, int] = {}
            cpu0 = {"server": cpu_seconds(floor.pid), "clients": cpu_seconds(clients.proc.pid)}
            start = time.monotonic_ns()
            gap_ns = int(args.gap * 1e9)
            for k in range(args.calls):
                due = start + k * gap_ns
                rid = 2 * k + 1  # the call's id, as its "seq"; the filler broadcast takes 2k+2
                await sleep_until(due)
                t = time.monotonic_ns()
                try:
                    async with s.post(f"{base}/broadcast", params={"kind": "call", "id": str(rid)}) as r:
                        await r.read()  # the whole answer, so `done` is when it arrived
                        done = time.monotonic_ns()
                        if r.status != 200:
                            res.request_errors.append(f"broadcast {k}: HTTP {r.status}")
                            continue
                        t0[str(rid)] = t
                        res.rest.append((done - t) / 1e6)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    res.request_errors.append(f"broadcast {k}: {exc!r}")
                    continue
                await sleep_until(due + gap_ns // 2)
                try:
                    async with s.post(f"{base}/broadcast", params={"kind": "other", "id": str(rid + 1)}) as r:
                        await r.read()
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    res.request_errors.append(f"filler {k}: {exc!r}")
            await sleep_until(start + args.calls * gap_ns + int(0.5e9))
            res.elapsed = (time.monotonic_ns() - start) / 1e9
            res.cpu = {"server": (cpu_seconds(floor.pid) - cpu0["server"]) * 1000 / args.calls,
                       "clients": (cpu_seconds(clients.proc.pid) - cpu0["clients"]) * 1000 / args.calls}
        data = await clients.finish()
        if data is None:
            return None, "the client process did not hand back its records (floor)"
        analyse(res, data, t0, "seq")
        return res, ""
    finally:
        if clients is not None:
            await clients.kill()
        floor.stop()


def report(r: Result) -> None:
    print(f"\n{r.name}: {r.n} clients x {r.k} calls in {r.elapsed:.1f} s")
    print(f"  call -> receipt (ms), all {len(r.latencies)}: p50 {r.pct(50):.2f}  p90 {r.pct(90):.2f}  p99 {r.pct(99):.2f}"
          f"  max {r.latencies[-1] if r.latencies else float('nan'):.2f}")
    print(f"  first client per call (ms):   p50 {percentile(r.first, 50):.2f}  max {r.first[-1] if r.first else float('nan'):.2f}"
          f"   fan-out spread first->last: p50 {percentile(r.spread, 50):.2f}  max {r.spread[-1] if r.spread else float('nan'):.2f}")
    print(f"  triggering request round trip (ms): p50 {percentile(r.rest, 50):.2f}  max {r.rest[-1] if r.rest else float('nan'):.2f}")
    print(f"  CPU per round (call + no-show or filler, ms): server {r.cpu.get('server', float('nan')):.1f}, client process {r.cpu.get('clients', float('nan')):.1f}")
    print(f"  lost {r.lost}, duplicates {r.duplicates}, unexpected {r.unexpected}, order broken {r.order_broken}, "
          f"seq gaps {r.gaps}, disconnects {len(r.closes)}, request errors {len(r.request_errors)}")
    for c in r.closes[:5]:
        print(f"    disconnect: client {c[0]}: {c[1]}")
    for e in r.request_errors[:5]:
        print(f"    error: {e}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000, help="websocket clients (default 1000)")
    p.add_argument("--calls", type=int, default=50, help="calls, and floor broadcasts (default 50)")
    p.add_argument("--gap", type=float, default=0.2, help="seconds from one call to the next; the no-show goes at half (default 0.2)")
    p.add_argument("--port", type=int, default=None, help="hallq server port on 127.0.0.1 (default: a free one)")
    p.add_argument("--skip-floor", action="store_true", help="measure hallq only")
    p.add_argument("--keep-data", action="store_true", help="keep the temporary folder (journal, logs, records)")
    # internal: the child roles
    p.add_argument("--role", choices=("driver", "clients", "floor"), default="driver", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--deadline", type=float, default=600.0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.role == "driver" and not (1 <= a.clients <= 20000 and 1 <= a.calls <= 10000 and 0.01 <= a.gap <= 10):
        p.error("--clients 1..20000, --calls 1..10000, --gap 0.01..10")
    return a


async def drive(args: argparse.Namespace, tmp: Path) -> int:
    print(f"call to screen: {args.clients} clients, {args.calls} calls every {args.gap:g} s (no-show at +{args.gap / 2:g} s), "
          f"{os.cpu_count()} CPUs, load average {load_average()}")
    hallq, full, err = await run_hallq(args, tmp)
    if hallq is None:
        print(err, file=sys.stderr)
        return 2
    report(hallq)
    floor = None
    if not args.skip_floor:
        if "ticket_called" not in full or "ticket_no_show" not in full:
            print("no call / no-show message captured from the hallq run: cannot build the floor's payload", file=sys.stderr)
            return 2
        print(f"\nfloor payload: the captured call message, {len(full['ticket_called'].encode())} bytes "
              f"(no-show filler {len(full['ticket_no_show'].encode())} bytes)")
        floor, err = await run_floor(args, tmp, full)
        if floor is None:
            print(err, file=sys.stderr)
            return 2
        report(floor)

    print(f"\nsummary ({args.clients} clients, {args.calls} calls, load average {load_average()})")
    print(f"  {'':8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}  lost")
    for r in (hallq, floor):
        if r is not None:
            print(f"  {r.name:8} {r.pct(50):8.2f} {r.pct(90):8.2f} {r.pct(99):8.2f} {r.latencies[-1] if r.latencies else float('nan'):8.2f}  {r.lost}")
    p99 = hallq.pct(99)
    note = "" if args.clients == 1000 else " (the target is at 1000 clients)"
    print(f"  hallq p99 {p99:.2f} ms, target < {TARGET_P99_MS:.0f} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'}"
          f" (measured/target = {p99 / TARGET_P99_MS:.2f}){note}")
    if floor is not None:
        r50 = hallq.pct(50) / floor.pct(50)
        r99 = p99 / floor.pct(99)
        print(f"  hallq/floor: p50 {r50:.2f}x, p99 {r99:.2f}x; target p99 <= {TARGET_RATIO:g}x: "
              f"{'met' if r99 <= TARGET_RATIO else 'NOT met'}")
    failed = hallq.failed or (floor is not None and floor.failed)
    print(f"  delivery: {'OK' if not failed else 'FAILED (lost, duplicated, out of order, disconnected or request errors)'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "clients":
        return asyncio.run(clients_role(args))
    if args.role == "floor":
        return asyncio.run(floor_role(args))
    limit = raise_nofile(2 * args.clients + 512)  # inherited by the server, the floor and the client process
    if limit < args.clients + 256:
        print(f"RLIMIT_NOFILE is {limit}: too low for {args.clients} clients", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="hallq-bench-screen-"))
    try:
        return asyncio.run(drive(args, tmp))
    except KeyboardInterrupt:
        return 130
    finally:
        if args.keep_data:
            print(f"data, logs and records kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
