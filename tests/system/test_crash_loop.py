"""Crash safety: SIGKILL at random moments under mixed load, again and again; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import date
from pathlib import Path

import aiohttp
import pytest

from server.domain import events as ev
from server.domain.apply import fold
from server.domain.model import HallDay
from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

# Each round costs a server start (most of its time). Eight kill moments, one drawn in each
# eighth of the 0.2-1.2 s span of load, cover it as well as twenty uniform draws did; a soak
# sets HALLQ_CRASH_ROUNDS=100.
ROUNDS = int(os.environ.get("HALLQ_CRASH_ROUNDS", "8"))


WINDOWS = ("w1", "w2", "w3")


class Load:
    """Kiosks issue, clerks call, start, finish and the citizens rate, until the server dies."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: list[tuple[str, ...]] = []
        self.requests = 0
        self.ids: dict[str, str] = {}  # number -> id: what each citizen holds (clerks see numbers only)
        self.tokens: dict[str, str] = {}
        self.refused: list[tuple[str, int]] = []  # a clerk's request answered 401 or 403

    async def _post(self, http: aiohttp.ClientSession, path: str, body: dict | None = None, headers: dict | None = None):  # type: ignore[no-untyped-def]
        self.requests += 1
        async with http.post(self.url + path, json=body, headers=headers) as r:
            if headers and r.status in (401, 403):
                self.refused.append((path, r.status))
            return r.status, await r.json()

    async def sign_in(self) -> None:
        """The clerks log in once, before any crash, and keep their sessions, as terminals do.
        A login cut by a SIGKILL is an attempt that never succeeded: the lock-out counts it
        before the password check and forgets it only on success, so five of them (a loaded
        machine's argon2 check outlasting every round) refuse the username for 15 minutes."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            for window in WINDOWS:
                status, body = await self._post(http, "/api/v1/auth/login", {"username": f"{window}a", "password": "demo"})
                assert status == 200, body
                self.tokens[window] = body["token"]

    async def kiosk(self, http: aiohttp.ClientSession, item: str) -> None:
        while True:
            status, body = await self._post(http, "/api/v1/halls/t/tickets", {"item": item})
            if status == 201:
                self.acked.append(("issued", body["id"], body["number"]))
                self.ids[body["number"]] = body["id"]

    async def clerk(self, http: aiohttp.ClientSession, window: str) -> None:
        h = {"Authorization": f"Bearer {self.tokens[window]}"}  # a session outlives the restarts
        await self._post(http, f"/api/v1/halls/t/windows/{window}/open", headers=h)
        while True:
            status, w = await self._post(http, f"/api/v1/halls/t/windows/{window}/call-next", headers=h)
            if status != 200 or not w["ticket"]:
                # busy from before the crash, or nobody waiting: finish what is there, try again
                for action, body in (("start", None), ("finish", {"case_type": "immediate"})):
                    await self._post(http, f"/api/v1/halls/t/windows/{window}/{action}", body, headers=h)
                await asyncio.sleep(0.01)
                continue
            number = w["ticket"]["number"]
            self.acked.append(("called", number, window))
            status, _ = await self._post(http, f"/api/v1/halls/t/windows/{window}/start", headers=h)
            status, _ = await self._post(http, f"/api/v1/halls/t/windows/{window}/finish", {"case_type": "immediate"}, headers=h)
            if status == 200:
                self.acked.append(("finished", number, window))
                ticket = self.ids.get(number)  # its holder rates (unknown if the answer was lost)
                if ticket is not None:
                    status, _ = await self._post(http, f"/api/v1/halls/t/tickets/{ticket}/evaluation", {"score": random.randint(1, 5)})
                    if status == 201:
                        self.acked.append(("rated", number))

    async def run_until_killed(self, server: ServerProcess, after_s: float) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            tasks = [asyncio.create_task(self.kiosk(http, i)) for i in ("a1", "a2", "c1", "a1")]
            tasks += [asyncio.create_task(self.clerk(http, w)) for w in WINDOWS]
            await asyncio.sleep(after_s)
            server.kill()
            done, _ = await asyncio.wait(tasks, timeout=10)
            assert len(done) == len(tasks), "load tasks hung after the crash"
            for t in done:
                assert isinstance(t.exception(), (aiohttp.ClientError, asyncio.TimeoutError)), t.exception()


async def journal_and_state(url: str, with_tickets: bool = True) -> tuple[list[dict], list[dict], dict[str, dict]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
            h = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.get(url + "/api/v1/halls/t/events", headers=h) as r:
            events = (await r.json())["events"]
        async with http.get(url + "/api/v1/halls/t/windows") as r:
            windows = await r.json()
        tickets = {}
        for e in events if with_tickets else ():
            if e["type"] == "ticket_issued":
                async with http.get(f"{url}/api/v1/halls/t/tickets/{e['ticket']}") as r:
                    tickets[e["ticket"]] = await r.json()
    return events, windows, tickets


def check(load: Load, events: list[dict], windows: list[dict], tickets: dict[str, dict]) -> None:
    if not events:
        assert not load.acked
        return
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    kinds = {("issued", e["ticket"], e["number"]) for e in events if e["type"] == "ticket_issued"}
    number = {e["ticket"]: e["number"] for e in events if e["type"] == "ticket_issued"}
    kinds |= {("called", number[e["ticket"]], e["window"]) for e in events if e["type"] == "ticket_called"}
    kinds |= {("finished", number[e["ticket"]], e["window"]) for e in events if e["type"] == "service_finished"}
    kinds |= {("rated", number[e["ticket"]]) for e in events if e["type"] == "ticket_evaluated"}
    lost = [a for a in load.acked if a not in kinds]
    assert not lost, f"acknowledged but not in the journal: {lost[:5]}"
    numbers = [e["number"] for e in events if e["type"] == "ticket_issued"]
    assert len(numbers) == len(set(numbers)), "a number was reused"
    finished = [e["ticket"] for e in events if e["type"] == "service_finished"]
    assert len(finished) == len(set(finished)), "a ticket was served twice"
    # the server's state equals a replay of its journal from scratch by the pure core
    replay = fold(HallDay("t", date.fromisoformat(events[0]["at"][:10])), [ev.from_dict({k: v for k, v in e.items() if k != "seq"}) for e in events])
    for w in windows:
        mine = replay.window(w["id"])
        assert w["state"] == mine.status.value
        assert (w["ticket"] or {}).get("number") == (replay.tickets[mine.ticket].number if mine.ticket else None)
    for tid, view in tickets.items():
        assert view["status"] == replay.tickets[tid].status.value


def kill_moments(rng: random.Random, rounds: int, first: float = 0.2, last: float = 1.2) -> list[float]:
    """One random moment in each of `rounds` equal slices of [first, last], in a random order."""
    width = (last - first) / rounds
    moments = [first + (n + rng.random()) * width for n in range(rounds)]
    rng.shuffle(moments)
    return moments


async def test_repeated_sigkills_under_mixed_load_lose_nothing_acknowledged(config_dir, tmp_path):
    server = ServerProcess(config_dir, tmp_path / "data")
    load = Load(server.url)
    moments = kill_moments(random.Random(20261125), ROUNDS)
    started = time.monotonic()
    try:
        for n, after_s in enumerate(moments):
            await server.start()
            if n:  # after each restart: everything acknowledged so far is there, state = replay
                check(load, *await journal_and_state(server.url, with_tickets=False))
            else:
                await load.sign_in()
            await load.run_until_killed(server, after_s)
            assert not load.refused, f"a clerk's session did not survive a restart: {load.refused[:3]}"
        await server.start()
        events, windows, tickets = await journal_and_state(server.url)
        check(load, events, windows, tickets)
    finally:
        server.kill()
    print(f"\ncrash loop: {ROUNDS} SIGKILLs, {load.requests} requests, {len(load.acked)} acknowledged commands, "
          f"{len(events)} events, 0 lost, {time.monotonic() - started:.1f} s")
    assert len(load.acked) > ROUNDS * 10


async def test_a_torn_final_write_is_ignored_and_nothing_acknowledged_is_lost(config_dir, tmp_path):
    server = ServerProcess(config_dir, tmp_path / "data")
    load = Load(server.url)
    try:
        await server.start()
        await load.sign_in()
        await load.run_until_killed(server, 0.8)
        wal = Path(tmp_path / "data" / "hallq.sqlite3-wal")
        assert wal.exists() and wal.stat().st_size > 0
        with wal.open("ab") as f:  # a frame half-written when the power went
            f.write(os.urandom(3000))
        await server.start()
        events, windows, tickets = await journal_and_state(server.url)
        check(load, events, windows, tickets)
    finally:
        server.kill()
