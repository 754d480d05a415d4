"""Several `hallq serve` workers on one port, on a private PostgreSQL database and a private
redis-server: clerks and kiosks hit whichever worker the kernel gives them, screens listen
on whichever worker they land on, and the journal is checked afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import date

import aiohttp
import pytest

from server.journal import SQLJournal, database_url, make_engine
from tests.system.hall import HALL, WINDOWS, Load, Screen, workers_seen, write_big_config
from tests.server_process import ServerProcess
from tests.services import PostgresDatabase, RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

# Seconds of load: enough for hundreds of tickets and calls over four workers (a benchmark's
# longer runs: bench/scale.py, or HALLQ_SCALE_SECONDS).
SECONDS = float(os.environ.get("HALLQ_SCALE_SECONDS", "10"))


@pytest.fixture
async def deployment(tmp_path):  # type: ignore[no-untyped-def]
    db = PostgresDatabase()
    url = await db.create()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    config = write_big_config(tmp_path / "config")
    yield db, url, redis, config
    redis.stop()
    await db.drop()


async def start(tmp_path, url: str, redis: RedisServer, config, workers: int) -> ServerProcess:  # type: ignore[no-untyped-def]
    (tmp_path / "data").mkdir(exist_ok=True)
    server = ServerProcess(config, tmp_path / "data", extra=("--workers", str(workers), "--redis", redis.url, "--database", url))
    await server.start(timeout=60)
    try:
        assert len(await workers_seen(server.url, workers)) == workers, "every worker answers on the one port"
    except BaseException:
        server.stop()  # SIGTERM: its workers stop with it; left running they would load every later test
        raise
    return server


async def stored_events(db_url: str, server_url: str) -> list:
    async with aiohttp.ClientSession() as s, s.get(server_url + f"/api/v1/halls/{HALL}/queues") as r:
        day = date.fromisoformat((await r.json())["day"])
    journal = SQLJournal(make_engine(database_url(None, db_url), timeout_s=30))  # the check, not the system under test
    try:
        return await journal.read(HALL, day)
    finally:
        await journal.close()


def check_journal(stored: list, load: Load) -> dict[str, int]:
    seqs = [s.seq for s in stored]
    assert seqs == list(range(1, len(seqs) + 1)), "positions are contiguous"
    issued = [s.data for s in stored if s.data["type"] == "ticket_issued"]
    numbers = [e["number"] for e in issued]
    assert len(numbers) == len(set(numbers)), "no number given twice"
    by_id = {e["ticket"]: e["number"] for e in issued}
    lost = {t: n for t, n in load.tickets.items() if by_id.get(t) != n}
    assert not lost, f"acknowledged tickets missing from the journal: {list(lost.items())[:5]}"
    calls = [s.data["ticket"] for s in stored if s.data["type"] == "ticket_called"]
    assert len(calls) == len(set(calls)), "no ticket called twice"
    called_numbers = {by_id[t] for t in calls}
    assert set(load.called) <= called_numbers, "every call a clerk was told of is journalled"
    assert len(load.called) == len(set(load.called))
    return {"events": len(stored), "issued": len(issued), "called": len(calls)}


def check_screens(screens: list[Screen], stored: list) -> None:
    truth = {s.seq: (s.data["type"], s.data.get("number")) for s in stored}
    for screen in screens:
        assert screen.closed is None, f"a screen was dropped or restarted: {screen.closed}"
        seqs = [e[0] for e in screen.events]
        assert seqs == list(range(screen.start_seq + 1, screen.start_seq + 1 + len(seqs))), "in order, nothing missed"
        assert seqs and seqs[-1] == len(stored), "a screen saw everything up to the last event"
        for seq, typ, number in screen.events:
            t_type, t_number = truth[seq]
            assert typ == t_type and (typ != "ticket_issued" or number == t_number)


async def last_seq(db_url: str, server_url: str) -> int:
    stored = await stored_events(db_url, server_url)
    return stored[-1].seq if stored else 0


async def until(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait for `condition()` (sync or async); the deadline is for a hang, not for a busy machine."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        done = condition()
        if asyncio.iscoroutine(done):
            done = await done
        if done:
            return
        assert asyncio.get_running_loop().time() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def busy_hall(url: str, db_url: str, screens: int, kiosks: int, clerks: int):  # type: ignore[no-untyped-def]
    """Screens listen, then kiosks issue (one ticket per 0.1 s each) and clerks call, start and
    finish until the block ends; after it the load has stopped and every screen has heard the
    journal's last event (or stopped listening: check_screens says why)."""
    stop, listening = asyncio.Event(), asyncio.Event()
    listeners = [Screen(url) for _ in range(screens)]
    screen_tasks = [asyncio.create_task(s.run(listening)) for s in listeners]
    await until(lambda: all(s.start_seq >= 0 or s.closed for s in listeners) or any(t.done() for t in screen_tasks),
                "every screen has its snapshot")
    load = Load(url)
    tokens = [await load.login(n) for n in range(1, clerks + 1)]
    tasks = [asyncio.create_task(load.kiosk(n, stop, 0.1)) for n in range(kiosks)]
    tasks += [asyncio.create_task(load.clerk(n, token, stop)) for n, token in enumerate(tokens, start=1)]
    try:
        yield load, listeners
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        last = await last_seq(db_url, url)

        def heard_all() -> bool:
            return all(s.closed or (s.events and s.events[-1][0] >= last) or s.start_seq >= last for s in listeners)

        try:
            await until(lambda: heard_all() or any(t.done() for t in screen_tasks), "the last events reach every screen")
        finally:
            listening.set()
            await asyncio.gather(*screen_tasks)


async def test_four_workers_forty_clerks_ten_kiosks(tmp_path, deployment):
    _, url, redis, config = deployment
    server = await start(tmp_path, url, redis, config, 4)
    try:
        async with busy_hall(server.url, url, screens=12, kiosks=10, clerks=WINDOWS) as (load, screens):
            await asyncio.sleep(SECONDS)
        stored = await stored_events(url, server.url)
        counts = check_journal(stored, load)
        check_screens(screens, stored)
        # Only that the load was real: throughput is a benchmark's business (bench/scale.py), and
        # this machine may be shared with other work while the suite runs.
        assert counts["issued"] > 5 * SECONDS and len(load.called) > 5 * SECONDS, counts
        assert load.errors.get(500, 0) == 0 and load.errors.get(503, 0) == 0, load.errors
        print(f"\n4 workers, {SECONDS:.0f} s: {counts}, finished {load.finished}, refusals {load.errors}")
    finally:
        server.stop()


async def test_redis_restarting_during_calls(tmp_path, deployment):
    """Redis goes away for two seconds in the middle of the day: commands keep working (the
    journal is the record), screens on every worker catch up from the journal, nothing is lost."""
    _, url, redis, config = deployment
    server = await start(tmp_path, url, redis, config, 2)
    try:
        async with busy_hall(server.url, url, screens=6, kiosks=4, clerks=12) as (load, screens):
            await asyncio.sleep(2.0)
            before = len(load.tickets)
            await asyncio.to_thread(redis.restart, 2.0)
            await asyncio.sleep(4.0)
        assert len(await workers_seen(server.url, 2)) == 2
        async with aiohttp.ClientSession() as s:
            for _ in range(100):  # both workers report the bus back within a few seconds
                healths = []
                for _ in range(6):
                    async with s.get(server.url + "/api/v1/health") as r:
                        healths.append((await r.json())["bus"])
                if all(healths):
                    break
                await asyncio.sleep(0.1)
            assert all(healths), "the workers reconnect to Redis by themselves"
        stored = await stored_events(url, server.url)
        check_journal(stored, load)
        check_screens(screens, stored)
        assert len(load.tickets) > before + 20, "tickets were issued during and after the outage"
        assert load.errors.get(500, 0) == 0, load.errors
    finally:
        server.stop()
