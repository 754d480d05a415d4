"""Two whole apps, as two workers are, on one journal and a private redis-server: what one
worker takes, the other knows at once (reads), shows on its screens, and its accounts follow."""

from __future__ import annotations

import asyncio
import json

import pytest

from server.api import create_app
from tests.services import RedisServer, worker_settings

pytestmark = pytest.mark.redis


@pytest.fixture
async def pair(aiohttp_client, tmp_path, config_dir):  # type: ignore[no-untyped-def]
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    clients = [await aiohttp_client(create_app(s))
               for s in worker_settings(config_dir, tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis.url)]
    yield clients
    for c in clients:
        await c.close()
    redis.stop()


async def login(client, username: str, password: str = "demo") -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status == 200, await r.text()
    return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def next_event(ws) -> dict:  # type: ignore[no-untyped-def]
    while True:
        m = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
        if m["type"] == "event":
            return m


async def test_a_ticket_taken_on_one_worker_is_known_and_shown_on_the_other(pair):
    one, two = pair
    health = await (await two.get("/api/v1/health")).json()
    assert health["worker"] == "w2" and health["bus"] is True and health["status"] == "ok"
    ws = await two.ws_connect("/ws/v1/halls/t")
    snapshot = json.loads((await ws.receive()).data)
    assert snapshot["type"] == "snapshot"
    r = await one.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    ticket = await r.json()
    # The phone asks the other worker right away: it knows the ticket.
    r = await two.get(f"/api/v1/halls/t/tickets/{ticket['id']}")
    assert r.status == 200 and (await r.json())["number"] == "A001"
    # A clerk on the other worker calls it; screens on both hear the call in order.
    ws_one = await one.ws_connect("/ws/v1/halls/t")
    await ws_one.receive()
    headers = await login(two, "w1a")
    assert (await two.post("/api/v1/halls/t/windows/w1/open", json={}, headers=headers)).status == 200
    assert (await two.post("/api/v1/halls/t/windows/w1/call-next", json={}, headers=headers)).status == 200
    seen_two = [await next_event(ws) for _ in range(3)]
    assert [(m["seq"], m["event"]["type"]) for m in seen_two] == [(1, "ticket_issued"), (2, "window_opened"), (3, "ticket_called")]
    seen_one = [await next_event(ws_one) for _ in range(2)]
    assert [(m["seq"], m["event"]["type"]) for m in seen_one] == [(2, "window_opened"), (3, "ticket_called")]
    assert seen_one[1]["call"]["number"] == "A001"


async def test_an_account_added_on_one_worker_logs_in_on_the_other(pair):
    one, two = pair
    boss = await login(one, "boss")
    r = await one.post("/api/v1/halls/t/staff", headers=boss, json={
        "username": "w2b", "name": "钱二", "staff_no": "S22", "role": "clerk", "windows": ["w2"], "post": "B",
        "password": "longenough1"})
    assert r.status == 201, await r.text()
    boss_two = await login(two, "boss")
    for _ in range(50):  # the other worker reads the change within a few seconds
        staff = await (await two.get("/api/v1/halls/t/staff", headers=boss_two)).json()
        if any(a["username"] == "w2b" for a in staff):
            break
        await asyncio.sleep(0.1)
    r = await two.post("/api/v1/auth/login", json={"username": "w2b", "password": "longenough1"})
    assert r.status == 200, await r.text()
    # Disabled on the other worker: its sessions stop working on the first one too.
    token = {"Authorization": f"Bearer {(await r.json())['token']}"}
    assert (await one.get("/api/v1/auth/session", headers=token)).status == 200
    r = await two.patch("/api/v1/halls/t/staff/w2b", headers=boss_two, json={"disabled": True})
    assert r.status == 200, await r.text()
    for _ in range(50):
        if (await one.get("/api/v1/auth/session", headers=token)).status == 401:
            break
        await asyncio.sleep(0.1)
    assert (await one.get("/api/v1/auth/session", headers=token)).status == 401
