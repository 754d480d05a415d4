"""The print agent against a real server and a loopback TCP printer that records every byte."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.server import serve

from kiosk.agent import Agent, feed_url
from tests.surfaces.kiosk.conftest import wait_until
from tests.surfaces.kiosk.fakes import CUT, FakePrinter, qr_payloads
from tests.server_process import ServerProcess


@contextlib.asynccontextmanager
async def agent_running(url: str, state: Path, **kw):  # type: ignore[no-untyped-def]
    agent = Agent(url, state, status_every=kw.pop("status_every", 0), max_backoff=kw.pop("max_backoff", 0.3), **kw)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        yield agent
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def k1_url(server) -> str:  # type: ignore[no-untyped-def]
    return feed_url(server.base, "t", "k1")


async def ticket(client, ticket_id: str) -> dict:  # type: ignore[no-untyped-def]
    return await (await client.get(f"/api/v1/halls/t/tickets/{ticket_id}")).json()


async def print_events(client, login, ticket_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/halls/t/events", headers=await login("boss"))
    return [e for e in (await r.json())["events"] if e["type"] == "ticket_print_recorded" and e["ticket"] == ticket_id]


async def test_the_agent_prints_a_ticket_in_gb18030_with_its_number_a_qr_to_the_mobile_ticket_and_a_cut(
    client, server, printer, login, tmp_path
):
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})
        assert r.status == 201, await r.text()
        t = await r.json()
        assert t["print"]["state"] == "queued" and t["mobile_url"] == f"{server.base}/t/{t['id']}"
        await printer.wait_for_cuts(1)
        data = printer.data
        assert "甲一".encode("gb18030") in data  # the item's name, in the printer's Chinese code page
        assert "测试大厅".encode("gb18030") in data and "请到：1号窗口".encode("gb18030") in data
        assert t["number"].encode() in data and t["number"] == "A001"
        assert qr_payloads(data) == [t["mobile_url"].encode()]
        assert data.index(b"\x1c&") < data.index("甲一".encode("gb18030")) < data.index(CUT)
        await wait_until(lambda: _status_is(client, t["id"], "printed"))
        (recorded,) = await print_events(client, login, t["id"])
        assert recorded["status"] == "printed" and recorded["by"] == "kiosk:k1"
        assert printer.cuts == 1


async def _status_is(client, ticket_id: str, status: str) -> bool:  # type: ignore[no-untyped-def]
    return (await ticket(client, ticket_id))["print_status"] == status


async def test_a_printer_switched_off_flags_the_ticket_and_a_reprint_prints_it_once_it_is_back(
    client, server, printer, login, tmp_path
):
    await printer.stop()  # the printer is off: its port refuses connections
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        t = await (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})).json()
        await wait_until(lambda: _status_is(client, t["id"], "failed"))
        (failed,) = await print_events(client, login, t["id"])
        # Nothing reached the printer: safe to print again, and said so.
        assert failed["status"] == "failed" and "offline" in failed["detail"] and failed["partial"] is False
        kiosks = await (await client.get("/api/v1/halls/t/kiosks", headers=await login("boss"))).json()
        assert [(f["number"], f["partial"]) for f in kiosks["failed"]] == [("A001", False)]
        assert next(k for k in kiosks["kiosks"] if k["id"] == "k1")["printer"]["state"] == "offline"
        public = await (await client.get("/api/v1/halls/t/kiosks/k1")).json()
        assert public["printer"]["state"] == "offline" and "address" not in public["printer"]

        await printer.start()  # switched on again, the same printer: what it prints from now on is recorded
        await asyncio.sleep(0.5)
        assert printer.cuts == 0  # the failed job is not printed late by itself once the printer is back
        r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print", json={})  # the kiosk's reprint button
        assert r.status == 202, await r.text()
        assert (await r.json())["kiosk"] == "k1"
        await printer.wait_for_cuts(1)
        await wait_until(lambda: _status_is(client, t["id"], "reprinted"))
        assert "补打".encode("gb18030") in printer.data and qr_payloads(printer.data) == [t["mobile_url"].encode()]
        kiosks = await (await client.get("/api/v1/halls/t/kiosks", headers=await login("boss"))).json()
        assert kiosks["failed"] == [] and next(k for k in kiosks["kiosks"] if k["id"] == "k1")["pending"] == []
    # The agent stops and starts again with its state file: nothing is sent or printed twice.
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        await asyncio.sleep(0.5)
    assert printer.cuts == 1 and printer.data.count("补打".encode("gb18030")) == 1
    assert [e["status"] for e in await print_events(client, login, t["id"])] == ["failed", "reprinted"]


async def test_an_agent_acknowledges_a_job_sent_again_from_its_state_file_without_printing_it_twice(printer, tmp_path):
    """A server that lost the agent's ack sends the job again after the reconnect, even to a restarted agent."""
    acks = await acks_from_a_server_that_loses_them(printer, tmp_path / "state.json", b"\x1b@\x1c&A001\n\x1dV\x00", 3)
    assert printer.cuts == 1
    assert all(a["ok"] and a["job"] == "j-1" for a in acks)


async def acks_from_a_server_that_loses_them(printer: FakePrinter, state: Path, data: bytes, n: int) -> list[dict]:
    """Acks of one job (`data`) from a server that forgets each ack and sends the job again: `n`
    from one agent, then one more from a restarted agent with the same state file. After the
    first ack the printer works again (`hang_up` off): a job printed again would come out whole."""
    job = {"type": "job", "job": "j-1", "ticket": "T1", "number": "A001", "data": base64.b64encode(data).decode()}
    acks: list[dict] = []

    async def forgetful_server(ws):  # type: ignore[no-untyped-def]
        await ws.send(json.dumps({"type": "hello", "kiosk": "k1", "name": "k1",
                                  "printer": {"kind": "network", "address": f"127.0.0.1:{printer.port}"}}))
        await ws.send(json.dumps(job))
        async for raw in ws:
            msg = json.loads(raw)
            if msg["type"] == "ack":
                acks.append(msg)
                printer.hang_up = None
                await ws.close()  # the ack is "lost": the next connection gets the job again

    async with serve(forgetful_server, "127.0.0.1", 0) as srv:
        url = f"ws://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
        async with agent_running(url, state):
            await wait_until(lambda: _count(acks, n))
        async with agent_running(url, state):  # a restarted agent process
            await wait_until(lambda: _count(acks, n + 1))
    return acks


async def _count(items: list, n: int) -> bool:  # type: ignore[type-arg]
    return len(items) >= n


async def test_a_job_nobody_prints_by_its_deadline_is_flagged_and_never_printed_late(client, server, printer, login, tmp_path,
                                                                                     clock):
    t = await (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})).json()
    clock.advance(3)  # the kiosk's deadline, on the hall's clock
    await wait_until(lambda: _status_is(client, t["id"], "failed"))
    (failed,) = await print_events(client, login, t["id"])
    assert "not connected" in failed["detail"]
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:  # the agent comes back late
        await asyncio.wait_for(agent.connected.wait(), 5)
        await asyncio.sleep(0.5)
    assert printer.cuts == 0


async def test_paper_out_on_the_sensor_is_reported_and_the_ticket_is_flagged(client, server, printer, login, tmp_path):
    printer.paper = "out"
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        t = await (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})).json()
        await wait_until(lambda: _status_is(client, t["id"], "failed"))
        (failed,) = await print_events(client, login, t["id"])
        assert "paper_out" in failed["detail"]
        assert CUT not in printer.data
        public = await (await client.get("/api/v1/halls/t/kiosks/k1")).json()
        assert public["printer"]["state"] == "paper_out" and public["printer"]["message"] == "打印机缺纸"
        printer.paper = "low"  # paper loaded, nearly at the end of the roll: printing goes on, with a warning
        r = await client.post(f"/api/v1/halls/t/tickets/{t['number']}/print", headers=await login("w1a"), json={})
        assert r.status == 202
        await printer.wait_for_cuts(1)
        await wait_until(lambda: _status_is(client, t["id"], "reprinted"))
        await wait_until(lambda: _printer_state_is(client, "paper_low"))  # the agent's report follows its ack


async def _printer_state_is(client, state: str) -> bool:  # type: ignore[no-untyped-def]
    return (await (await client.get("/api/v1/halls/t/kiosks/k1")).json())["printer"]["state"] == state


@pytest.mark.slow
async def test_the_agent_reconnects_by_itself_after_the_server_restarts(config_dir, tmp_path, printer):
    server = ServerProcess(config_dir, tmp_path / "data")
    await server.start()
    try:
        async with agent_running(feed_url(server.url, "t", "k1"), tmp_path / "k1.json") as agent:
            await asyncio.wait_for(agent.connected.wait(), 5)
            server.kill()
            await wait_until(lambda: _false(agent.connected.is_set()))
            await server.start()
            await asyncio.wait_for(agent.connected.wait(), 10)
            async with aiohttp.ClientSession() as http:
                async with http.post(server.url + "/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}) as r:
                    assert r.status == 201
                    t = await r.json()
            await printer.wait_for_cuts(1)
            assert qr_payloads(printer.data) == [t["mobile_url"].encode()]
    finally:
        server.kill()


async def _false(value: bool) -> bool:
    return not value


@pytest.mark.slow
async def test_a_ticket_whose_job_died_with_the_server_is_flagged_when_it_starts_again(config_dir, tmp_path):
    server = ServerProcess(config_dir, tmp_path / "data")
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.url + "/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}) as r:
                t = await r.json()
            server.kill()  # before any agent took the job, before its deadline
            await server.start()

            async def flagged() -> bool:
                async with http.get(f"{server.url}/api/v1/halls/t/tickets/{t['id']}") as r:
                    return (await r.json())["print_status"] == "failed"

            await wait_until(flagged)
            async with http.post(server.url + "/api/v1/auth/login", json={"username": "boss", "password": "demo"}) as r:
                token = (await r.json())["token"]
            async with http.get(server.url + "/api/v1/halls/t/kiosks", headers={"Authorization": f"Bearer {token}"}) as r:
                failed = (await r.json())["failed"]
            assert [f["ticket"] for f in failed] == [t["id"]] and "restarted" in failed[0]["detail"]
    finally:
        server.kill()
