"""A big hall for the scale tests and the scale benchmark: 40 windows with a clerk each, 10
service items in 5 departments, and the load that drives it through real server processes:
clerks calling, starting and finishing, kiosks issuing, screens listening on websockets."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from server.domain.catalog import HallConfig
from tests.halls import PUBLICS, write_config

HALL = "city"
WINDOWS = 40


def big_config(hall: str = HALL) -> HallConfig:
    departments = [{"id": f"d{d}", "name": f"部门{d}"} for d in range(5)]
    items = [
        {"id": f"i{n}", "name": f"事项{n}", "department": f"d{n % 5}", "prefix": "ABCDEFGHJK"[n], "publics": PUBLICS}
        for n in range(10)
    ]
    windows, users = [], [{"username": "boss", "name": "经理", "role": "manager"}]
    for n in range(1, WINDOWS + 1):
        if n <= 30:  # dedicated: the two items of one department
            d = n % 5
            served = [f"i{d}", f"i{d + 5}"]
            windows.append({"id": f"w{n:02d}", "name": f"{n}号窗口", "kind": "dedicated", "items": served})
        else:
            windows.append({"id": f"w{n:02d}", "name": f"{n}号窗口", "kind": "comprehensive", "items": [i["id"] for i in items]})
        users.append({"username": f"c{n:02d}", "name": f"办事员{n}", "staff_no": f"S{n:03d}", "role": "clerk",
                      "windows": [f"w{n:02d}"], "post": "A"})
    return HallConfig.model_validate({
        "hall": {"id": hall, "name": "市政务服务中心", "demo": True},
        "departments": departments, "items": items, "windows": windows, "users": users,
    })


def write_big_config(folder: Path) -> Path:
    write_config(folder, big_config())
    return folder


def fresh_session() -> aiohttp.ClientSession:
    """A session that opens a new connection per request, so SO_REUSEPORT spreads them over workers."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


async def workers_seen(url: str, want: int, timeout: float = 60.0) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    async with fresh_session() as s:
        while len(seen) < want and time.monotonic() < deadline:
            try:
                async with s.get(url + "/api/v1/health") as r:
                    if r.status == 200:
                        seen.add((await r.json())["worker"])
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    return seen


@dataclass
class Screen:
    """A public websocket listener: the (seq, type, number) of every event it was sent."""

    url: str
    start_seq: int = -1
    events: list[tuple[int, str, str | None]] = field(default_factory=list)
    closed: str | None = None
    latency_ms: list[float] = field(default_factory=list)

    async def run(self, stop: asyncio.Event, called_at: dict[str, float] | None = None) -> None:
        async with fresh_session() as s, s.ws_connect(self.url + f"/ws/v1/halls/{HALL}", heartbeat=None) as ws:
            while not stop.is_set():
                try:
                    msg = await asyncio.wait_for(ws.receive(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    self.closed = f"{msg.type} {ws.close_code}"
                    return
                m = json.loads(msg.data)
                if m["type"] == "snapshot":
                    if self.start_seq < 0:
                        self.start_seq = m["seq"]
                    else:
                        self.closed = f"a second snapshot at {m['seq']}"
                elif m["type"] == "event":
                    e = m["event"]
                    self.events.append((m["seq"], e["type"], e.get("number")))
                    if called_at is not None and e["type"] == "ticket_called":
                        sent = called_at.get(e["number"])
                        if sent is not None:
                            self.latency_ms.append((time.perf_counter() - sent) * 1000)


@dataclass
class Load:
    url: str
    tickets: dict[str, str] = field(default_factory=dict)  # acknowledged: ticket id -> number
    called: list[str] = field(default_factory=list)  # numbers the clerks were told they called
    finished: int = 0
    errors: dict[int, int] = field(default_factory=dict)  # status -> count (4xx conflicts are normal)
    called_at: dict[str, float] = field(default_factory=dict)

    def _error(self, status: int) -> None:
        self.errors[status] = self.errors.get(status, 0) + 1

    async def kiosk(self, n: int, stop: asyncio.Event, every_s: float) -> None:
        items = [f"i{(n + k) % 10}" for k in range(10)]
        k = 0
        async with aiohttp.ClientSession() as s:
            while not stop.is_set():
                try:
                    async with s.post(self.url + f"/api/v1/halls/{HALL}/tickets", json={"item": items[k % 10]}) as r:
                        if r.status == 201 or r.status == 200:
                            t = await r.json()
                            self.tickets[t["id"]] = t["number"]
                        else:
                            self._error(r.status)
                except aiohttp.ClientError:
                    self._error(0)
                k += 1
                await asyncio.sleep(every_s)

    async def login(self, n: int) -> str:
        """A clerk's token (logging in costs a memory-hard hash: done before the clock runs)."""
        async with aiohttp.ClientSession() as s:
            async with s.post(self.url + "/api/v1/auth/login", json={"username": f"c{n:02d}", "password": "demo"}) as r:
                return str((await r.json())["token"])

    async def clerk(self, n: int, token: str, stop: asyncio.Event) -> None:
        window = f"w{n:02d}"
        base = self.url + f"/api/v1/halls/{HALL}/windows/{window}/"
        async with aiohttp.ClientSession() as s:
            h = {"Authorization": f"Bearer {token}"}

            async def act(name: str, body: dict | None = None) -> dict | None:
                try:
                    async with s.post(base + name, json=body or {}, headers=h) as r:
                        if r.status == 200:
                            return await r.json()
                        self._error(r.status)
                except aiohttp.ClientError:
                    self._error(0)
                return None

            await act("open")
            while not stop.is_set():
                sent = time.perf_counter()
                w = await act("call-next")
                ticket = (w or {}).get("ticket") if (w or {}).get("state") == "called" else None
                number = ticket["number"] if ticket else None
                if number is None:
                    await asyncio.sleep(0.2)
                    continue
                self.called.append(number)
                self.called_at[number] = sent
                if await act("start") is not None and await act("finish", {"case_type": "immediate"}) is not None:
                    self.finished += 1
