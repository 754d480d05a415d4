"""The real server process: a clean restart and a SIGKILL lose nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def server(config_dir, tmp_path):  # type: ignore[no-untyped-def]
    s = ServerProcess(config_dir, tmp_path / "data")
    yield s
    s.kill()


async def snapshot(http: aiohttp.ClientSession, url: str, ids: list[str], admin: dict) -> dict:
    async def get(path: str, **kw) -> object:  # type: ignore[no-untyped-def]
        async with http.get(url + path, **kw) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    return {
        "windows": await get("/api/v1/halls/t/windows"),
        "queues": await get("/api/v1/halls/t/queues"),
        "tickets": [await get(f"/api/v1/halls/t/tickets/{i}") for i in ids],
        "events": await get("/api/v1/halls/t/events", headers=admin),
    }


async def test_a_restart_on_the_same_data_finds_exactly_the_same_state(server):
    await server.start()
    async with aiohttp.ClientSession() as http:
        async def post(path: str, body: dict | None = None, headers: dict | None = None, status: int = 200) -> dict:
            async with http.post(server.url + path, json=body, headers=headers) as r:
                assert r.status == status, await r.text()
                return await r.json()

        async def login(user: str) -> dict:
            token = (await post("/api/v1/auth/login", {"username": user, "password": "demo"}))["token"]
            return {"Authorization": f"Bearer {token}"}

        w1, w2, w3 = await login("w1a"), await login("w2a"), await login("w3a")
        ids = [(await post("/api/v1/halls/t/tickets", {"item": item}, status=201))["id"] for item in ("a1", "a2", "b1", "b1", "c1", "a1")]
        for h, w in ((w1, "w1"), (w2, "w2"), (w3, "w3")):
            await post(f"/api/v1/halls/t/windows/{w}/open", headers=h)
        await post("/api/v1/halls/t/windows/w1/call-next", headers=w1)
        await post("/api/v1/halls/t/windows/w1/start", headers=w1)
        await post("/api/v1/halls/t/windows/w1/finish", {"case_type": "promised"}, headers=w1)
        await post("/api/v1/halls/t/windows/w2/call-next", headers=w2)
        await post("/api/v1/halls/t/windows/w2/no-show", {"requeue": True}, headers=w2)
        await post("/api/v1/halls/t/windows/w3/call-next", headers=w3)
        await post("/api/v1/halls/t/windows/w3/start", headers=w3)
        await post("/api/v1/halls/t/windows/w3/transfer", {"window": "w1"}, headers=w3)
        await post("/api/v1/halls/t/windows/w2/call-next", headers=w2)
        await post("/api/v1/halls/t/windows/w2/start", headers=w2)
        await post("/api/v1/halls/t/windows/w2/suspend", {"kind": "waiting_step"}, headers=w2)
        await post("/api/v1/halls/t/windows/w2/pause", {"reason": "去档案室"}, headers=w2)
        await post("/api/v1/halls/t/windows/w1/call-next", headers=w1)
        before = await snapshot(http, server.url, ids, await login("admin"))

    server.stop()
    await server.start()
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
            admin = {"Authorization": f"Bearer {(await r.json())['token']}"}
        after = await snapshot(http, server.url, ids, admin)
    assert after == before
    states = {w["id"]: w["state"] for w in after["windows"]}
    assert states == {"w1": "called", "w2": "paused", "w3": "idle"}


async def test_sigkill_while_issuing_loses_no_acknowledged_ticket(server):
    acknowledged: dict[str, str] = {}
    for round_ in range(3):
        await server.start()
        stop_at = time.monotonic() + 0.6 + 0.4 * round_

        async def kiosk(http: aiohttp.ClientSession, item: str) -> None:
            while True:
                try:
                    async with http.post(server.url + "/api/v1/halls/t/tickets", json={"item": item}) as r:
                        if r.status == 201:
                            body = await r.json()
                            acknowledged[body["id"]] = body["number"]
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    return

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            kiosks = [asyncio.create_task(kiosk(http, item)) for item in ("a1", "a2", "c1") * 3]
            while time.monotonic() < stop_at:
                await asyncio.sleep(0.05)
            server.kill()  # SIGKILL in the middle of the load
            await asyncio.wait_for(asyncio.gather(*kiosks), 10)
    assert len(acknowledged) > 50
    await server.start()
    # several at once (hundreds of them), well inside the server's 64 connections per address
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http:
        async def look_up(ticket_id: str, number: str) -> None:
            async with http.get(f"{server.url}/api/v1/halls/t/tickets/{ticket_id}") as r:
                assert r.status == 200, f"acknowledged ticket {number} lost"
                assert (await r.json())["number"] == number

        await asyncio.gather(*(look_up(t, n) for t, n in acknowledged.items()))
        async with http.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
            admin = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.get(server.url + "/api/v1/halls/t/events", headers=admin) as r:
            events = (await r.json())["events"]
    numbers = [e["number"] for e in events if e["type"] == "ticket_issued"]
    assert len(numbers) == len(set(numbers)), "a number was reused after a crash"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


async def test_hallq_serve_serves_the_shipped_demo_hall(tmp_path):
    """The README's quick start: the demo hall from config/, its demo accounts, a ticket for an
    item both a dedicated and a comprehensive window serve, called at the comprehensive one."""
    from pathlib import Path

    server = ServerProcess(Path(__file__).resolve().parents[2] / "config", tmp_path / "data")
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/api/v1/halls/demo/catalog") as r:
                catalog = await r.json()
            kinds = {w["id"]: w["kind"] for w in catalog["windows"]}
            shared = [i["id"] for i in catalog["items"]
                      if {kinds[w["id"]] for w in catalog["windows"] if i["id"] in w["items"]} == {"dedicated", "comprehensive"}]
            assert len(catalog["departments"]) >= 8 and len(catalog["items"]) >= 30 and len(kinds) >= 12 and shared
            async with http.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
                assert r.status == 200
                admin = {"Authorization": "Bearer " + (await r.json())["token"]}
            async with http.post(server.url + "/api/v1/halls/demo/tickets", json={"item": shared[0]}) as r:
                assert r.status == 201, await r.text()
                ticket = await r.json()
            pooled = next(w["id"] for w in catalog["windows"] if w["kind"] == "comprehensive" and shared[0] in w["items"])
            async with http.post(server.url + f"/api/v1/halls/demo/windows/{pooled}/open", headers=admin) as r:
                assert r.status == 200, await r.text()
            async with http.post(server.url + f"/api/v1/halls/demo/windows/{pooled}/call-next", headers=admin) as r:
                assert (await r.json())["ticket"]["number"] == ticket["number"]
    finally:
        server.stop()
