"""The journal's database going away and coming back (PostgreSQL behind a relay we can cut):
requests during the outage get a clear 503, never a wrong answer; afterwards the workers
reconnect by themselves and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from server.api import create_app
from server.journal import SQLJournal, database_url, make_engine
from tests.halls import FakeClock
from tests.services import CuttableProxy, PostgresDatabase, RedisServer, worker_settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def outage(aiohttp_client, tmp_path, config_dir):  # type: ignore[no-untyped-def]
    db = PostgresDatabase()
    url = await db.create()
    parts = urlsplit(url)
    proxy = CuttableProxy(parts.port or 5432, parts.hostname or "127.0.0.1")
    await proxy.start()
    via_proxy = url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}")
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    clients = [await aiohttp_client(create_app(s)) for s in worker_settings(config_dir, tmp_path, via_proxy, redis.url)]
    yield clients, proxy, url
    for c in clients:
        await c.close()
    await proxy.close()
    redis.stop()
    await db.drop()


async def test_postgres_going_away_and_coming_back(outage):
    (one, two), proxy, url = outage
    acked = {}
    for client in (one, two, one):
        r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
        assert r.status == 201
        t = await r.json()
        acked[t["id"]] = t["number"]
    proxy.cut()
    for client in (one, two):
        for method, path, body in (("POST", "/api/v1/halls/t/tickets", {"item": "a1"}),
                                   ("GET", "/api/v1/halls/t/queues", None),
                                   ("GET", f"/api/v1/halls/t/tickets/{next(iter(acked))}", None),
                                   ("GET", "/api/v1/health", None)):
            r = await client.request(method, path, json=body)
            assert r.status == 503, (path, r.status, await r.text())
            assert r.content_type == "application/problem+json"
            assert "Retry-After" in r.headers or (await r.json())["status"] == 503
    proxy.restore()
    for client in (one, two):
        for _ in range(100):  # the pool reconnects by itself
            r = await client.get("/api/v1/health")
            if r.status == 200:
                break
            await asyncio.sleep(0.1)
        assert r.status == 200
    for client in (two, one):
        r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
        assert r.status == 201, await r.text()
        t = await r.json()
        acked[t["id"]] = t["number"]
    assert sorted(acked.values()) == ["A001", "A002", "A003", "A004", "A005"]
    queues = await (await two.get("/api/v1/halls/t/queues")).json()
    assert next(q for q in queues["items"] if q["item"] == "a1")["waiting"] == 5
    journal = SQLJournal(make_engine(database_url(None, url), timeout_s=30))  # the check, not the system under test
    try:
        stored = await journal.read("t", FakeClock().now().date())
    finally:
        await journal.close()
    assert {e.data["ticket"]: e.data["number"] for e in stored if e.data["type"] == "ticket_issued"} == acked
