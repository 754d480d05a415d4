"""A kiosk's call for a member of staff (呼叫工作人员) with two `hallq serve` workers on one port,
a private PostgreSQL database and a private redis-server: the call made on one worker shows on
the managers' board served by the other, live and on reading, and answering it on either
clears it everywhere. Each client there keeps one connection, so it stays on the worker it
landed on (the kernel spreads new connections over the workers). Then two whole apps in one
process, to stop Redis between them: a change made while it is away reaches the other worker
once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import yaml
from redis import asyncio as aioredis

from tests.halls import write_config
from tests.server_process import ServerProcess
from tests.services import PostgresDatabase, RedisServer
from tests.system.hall import workers_seen

pytestmark = pytest.mark.redis


@pytest.fixture
async def deployment(tmp_path) -> AsyncIterator[tuple[ServerProcess, RedisServer]]:  # type: ignore[no-untyped-def]
    config_dir = tmp_path / "config"
    write_config(config_dir)  # the small hall, with a kiosk that prints nothing
    (config_dir / "t" / "kiosks.yaml").write_text(
        yaml.safe_dump([{"id": "k1", "name": "一楼 自助取号机1"}], allow_unicode=True), encoding="utf-8")
    db = PostgresDatabase()
    url = await db.create()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    server = ServerProcess(config_dir, tmp_path / "data", extra=("--workers", "2", "--redis", redis.url, "--database", url))
    try:
        await server.start(timeout=60)
        yield server, redis
    finally:
        server.stop()
        redis.stop()
        await db.drop()


async def on_worker(url: str, worker: str, timeout: float = 30.0) -> aiohttp.ClientSession:
    """A client of one kept-alive connection that the kernel gave to `worker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
        async with s.get(url + "/api/v1/health") as r:
            if (await r.json())["worker"] == worker:
                return s
        await s.close()
    raise AssertionError(f"no connection landed on worker {worker} within {timeout} s")


async def pinned(s: aiohttp.ClientSession, url: str) -> str:
    async with s.get(url + "/api/v1/health") as r:
        return str((await r.json())["worker"])


async def until_heard(ws: aiohttp.ClientWebSocketResponse, kiosk: str, called: bool, timeout: float = 5.0) -> str | None:
    """The board's live view until `kiosk` shows a call (called) or none; its help_at."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"the board never showed kiosk {kiosk} {'calling' if called else 'answered'}"
        try:
            msg = await ws.receive(timeout=left)
        except asyncio.TimeoutError:
            raise AssertionError(f"the board never showed kiosk {kiosk} {'calling' if called else 'answered'}") from None
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        view = json.loads(msg.data)
        at = next(k for k in view["kiosks"] if k["id"] == kiosk)["help_at"]
        if (at is not None) == called:
            return at


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_call_made_on_one_worker_shows_and_is_answered_on_the_other(deployment):
    server, redis = deployment
    one, two = sorted(await workers_seen(server.url, 2))
    async with contextlib.AsyncExitStack() as stack:
        later = stack.push_async_callback  # closed at the end, whatever happens
        clients = {}
        for name, worker in (("kiosk", one), ("board1", one), ("staff1", one), ("board2", two), ("staff2", two)):
            clients[name] = await on_worker(server.url, worker)
            later(clients[name].close)
        async with clients["staff1"].post(server.url + "/api/v1/auth/login", json={"username": "boss", "password": "demo"}) as r:
            token = (await r.json())["token"]
        boss = {"Authorization": f"Bearer {token}"}

        async def read(name: str) -> dict[str, str | None]:
            async with clients[name].get(server.url + "/api/v1/halls/t/kiosks", headers=boss) as r:
                assert r.status == 200, await r.text()
                return {k["id"]: k["help_at"] for k in (await r.json())["kiosks"]}

        # The managers' board on each worker: its live view of the kiosks.
        boards = {}
        for name in ("board1", "board2"):
            boards[name] = await clients[name].ws_connect(server.url + f"/ws/v1/halls/t/printers?token={token}")
            later(boards[name].close)
            first = json.loads((await boards[name].receive(timeout=5)).data)
            assert first["type"] == "printers" and all(k["help_at"] is None for k in first["kiosks"])

        # A citizen presses the kiosk's button; the request reaches worker one.
        async with clients["kiosk"].post(server.url + "/api/v1/halls/t/kiosks/k1/help", json={}) as r:
            assert r.status == 202, await r.text()
            called = (await r.json())["help_at"]
        assert called is not None
        assert await until_heard(boards["board2"], "k1", True) == called  # live, on the other worker
        assert (await read("staff2"))["k1"] == called  # and on reading there
        assert await until_heard(boards["board1"], "k1", True) == called
        # The call expires on its own in Redis too: nobody answering it leaves nothing for ever.
        shared = aioredis.from_url(redis.url)
        later(shared.aclose)
        assert 0 < await shared.ttl("hallq:flag:help:t:k1") <= 30 * 60

        # Pressed again on the other worker: the same call, its first time kept.
        async with clients["staff2"].post(server.url + "/api/v1/halls/t/kiosks/k1/help", json={}) as r:
            assert r.status == 202 and (await r.json())["help_at"] == called

        # A manager answers it on worker two: gone on both boards and on worker one's reading.
        async with clients["staff2"].delete(server.url + "/api/v1/halls/t/kiosks/k1/help", headers=boss) as r:
            assert r.status == 200 and (await r.json())["help_at"] is None
        assert await until_heard(boards["board1"], "k1", False) is None
        assert await until_heard(boards["board2"], "k1", False) is None
        assert (await read("staff1"))["k1"] is None
        assert await shared.exists("hallq:flag:help:t:k1") == 0

        # Every client stayed on the worker it was given: the test crossed workers for real.
        assert [await pinned(clients[n], server.url) for n in ("kiosk", "staff1", "staff2")] == [one, one, two]


@pytest.fixture
async def two_apps(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    """Two whole apps as two workers (tests/system/test_two_apps.py), on one SQLite journal and a
    private redis-server, the small hall with one kiosk; worker one reaches Redis through a link
    that can be cut (its network to Redis), worker two directly."""
    import dataclasses

    from server.api import create_app
    from tests.services import CuttableProxy, worker_settings

    config_dir = tmp_path / "config"
    write_config(config_dir)
    (config_dir / "t" / "kiosks.yaml").write_text(
        yaml.safe_dump([{"id": "k1", "name": "一楼 自助取号机1"}], allow_unicode=True), encoding="utf-8")
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    link = CuttableProxy(redis.port)
    await link.start()
    first, second = worker_settings(config_dir, tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis.url)
    first = dataclasses.replace(first, redis_url=f"redis://127.0.0.1:{link.port}/0")
    clients = [await aiohttp_client(create_app(s)) for s in (first, second)]
    yield clients, link
    for c in clients:
        await c.close()
    await link.close()
    redis.stop()


@pytest.mark.parametrize("answered", [False, True])
async def test_a_call_changed_while_redis_was_away_reaches_the_other_worker_once_it_is_back(two_apps, answered):
    (one, two), link = two_apps
    r = await one.post("/api/v1/auth/login", json={"username": "boss", "password": "demo"})
    boss = {"Authorization": f"Bearer {(await r.json())['token']}"}

    async def board(client) -> str | None:  # type: ignore[no-untyped-def]
        r = await client.get("/api/v1/halls/t/kiosks", headers=boss)
        assert r.status == 200, await r.text()
        return (await r.json())["kiosks"][0]["help_at"]

    if answered:  # a call both workers showed, answered on worker one while it cannot reach Redis
        assert (await one.post("/api/v1/halls/t/kiosks/k1/help", json={})).status == 202
        assert await board(two) is not None
    link.cut()
    if answered:
        assert (await one.delete("/api/v1/halls/t/kiosks/k1/help", headers=boss)).status == 200
    else:  # a citizen calls while worker one cannot reach Redis: it shows the call all the same
        assert (await one.post("/api/v1/halls/t/kiosks/k1/help", json={})).status == 202
    kept = await board(one)
    assert (kept is None) == answered  # what worker one knows stands while Redis does not answer
    assert (await board(two) is None) != answered  # the other worker has not heard of it yet
    link.restore()
    deadline = time.monotonic() + 20
    while (await board(two) is None) != answered:  # worker one writes it at its next look (here: its board's read)
        assert time.monotonic() < deadline, "the other worker never learnt of the change made while Redis was away"
        assert await board(one) == kept
        await asyncio.sleep(0.05)
    assert await board(one) == kept and await board(two) == kept
