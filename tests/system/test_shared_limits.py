"""Two workers of one deployment (two whole apps, one journal, one private redis-server): the
per-address limits hold for the deployment. An address that spent its burst of tickets on one
worker is refused on the other; another address is not; with Redis gone each worker limits on
its own rather than refusing everyone."""

from __future__ import annotations

import dataclasses

import pytest

from server.api import create_app
from tests.services import RedisServer, worker_settings

pytestmark = pytest.mark.redis


@pytest.fixture
async def pair(aiohttp_client, tmp_path, config_dir):  # type: ignore[no-untyped-def]
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    settings = [dataclasses.replace(s, issue_rate_per_s=0.01, issue_burst=4,
                                    trusted_proxies=("127.0.0.1",))
                for s in worker_settings(config_dir, tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis.url)]
    clients = [await aiohttp_client(create_app(s)) for s in settings]
    yield clients, redis
    for c in clients:
        await c.close()
    redis.stop()


async def issue(client, address: str) -> int:  # type: ignore[no-untyped-def]
    # The test apps are reached over loopback: the address is told by a trusted proxy's header.
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"}, headers={"X-Forwarded-For": address})
    return r.status


async def test_an_addresss_burst_is_shared_by_the_workers(pair) -> None:
    (one, two), _ = pair
    assert [await issue(one, "198.51.100.7") for _ in range(2)] == [201, 201]
    assert [await issue(two, "198.51.100.7") for _ in range(2)] == [201, 201]
    assert await issue(one, "198.51.100.7") == 429 and await issue(two, "198.51.100.7") == 429
    r = await two.post("/api/v1/halls/t/tickets", json={"item": "a1"}, headers={"X-Forwarded-For": "198.51.100.7"})
    assert int(r.headers["Retry-After"]) > 0 and (await r.json())["type"] == "urn:hallq:problem:rate-limited"
    assert await issue(two, "198.51.100.8") == 201  # another citizen


async def test_without_redis_each_worker_limits_on_its_own(pair) -> None:
    (one, two), redis = pair
    redis.stop()
    assert [await issue(one, "198.51.100.9") for _ in range(5)] == [201] * 4 + [429]
    assert await issue(two, "198.51.100.9") == 201  # the other worker's own bucket
