"""Two workers (two whole apps on one journal and a private redis-server): a kiosk issues on
one, its print agent is connected to the other, and the ticket is printed once and recorded."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from kiosk.agent import feed_url
from server.api import create_app
from server.printing.driver import PRINTING
from tests.surfaces.kiosk.conftest import wait_until
from tests.surfaces.kiosk.test_agent import agent_running
from tests.services import RedisServer, worker_settings

pytestmark = pytest.mark.redis


@pytest.fixture
async def workers(aiohttp_server, tmp_path, config_dir):  # type: ignore[no-untyped-def]
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    servers = []
    for settings in worker_settings(config_dir, tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis.url):
        s = await aiohttp_server(create_app(settings))
        s.base = str(s.make_url("")).rstrip("/")
        servers.append(s)
    yield servers
    for s in servers:
        await s.close()
    redis.stop()


async def test_a_job_issued_on_one_worker_is_printed_by_the_agent_on_the_other(workers, printer, tmp_path):
    one, two = workers
    async with agent_running(feed_url(two.base, "t", "k1"), tmp_path / "k1.json") as agent, aiohttp.ClientSession() as http:
        await asyncio.wait_for(agent.connected.wait(), 5)
        async with http.post(one.base + "/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}) as r:
            assert r.status == 201, await r.text()
            t = await r.json()
        await printer.wait_for_cuts(1)
        assert t["number"].encode() in printer.data

        async def printed_on(server) -> bool:  # type: ignore[no-untyped-def]
            async with http.get(server.base + f"/api/v1/halls/t/tickets/{t['id']}") as r:
                return (await r.json())["print_status"] == "printed"

        await wait_until(lambda: printed_on(one))
        assert await printed_on(two)
        # The issuing worker forgets the job once the other recorded it: it never flags it late.
        await wait_until(lambda: _no_jobs(one))
        one.app[PRINTING].halls["t"].clock.advance(4)  # past the kiosk's 3 s deadline, on the hall's clock
        await asyncio.sleep(0.5)  # two ticks of the deadline's check
        assert await printed_on(one) and printer.cuts == 1


async def _no_jobs(server) -> bool:  # type: ignore[no-untyped-def]
    return not server.app[PRINTING].kiosk("t", "k1").jobs
