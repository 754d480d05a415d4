"""The print agent in a hall that requires registered devices: it registers from the command
line's process, waits for a manager's approval, keeps its token privately, then prints; once
revoked its connection is closed and it registers again."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
import yaml

from kiosk.agent import feed_url
from tests.halls import small_config, write_config
from tests.surfaces.kiosk.conftest import kiosks, wait_until
from tests.surfaces.kiosk.test_agent import agent_running


@pytest.fixture
def config_dir(tmp_path: Path, printer_ports: dict[str, int]) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(devices={"required": True}))
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks(printer_ports), allow_unicode=True), encoding="utf-8")
    return folder


async def kiosk_token(client, boss) -> dict:  # type: ignore[no-untyped-def]
    reg = await (await client.post("/api/v1/halls/t/devices", json={"kind": "kiosk", "place": "k1"})).json()
    await client.post(f"/api/v1/halls/t/devices/{reg['id']}/approve", headers=boss, json={"code": reg["code"], "name": "k1", "kiosk": "k1"})
    token = (await (await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})).json())["token"]
    return {"X-Device-Token": token}


async def test_the_agent_registers_waits_for_approval_keeps_its_token_privately_and_prints(client, server, printer, login, tmp_path, capsys):
    boss = await login("boss")
    kiosk = await kiosk_token(client, boss)
    device_file = tmp_path / "agent" / "t-k1.device"
    async with agent_running(feed_url(server.base, "t", "k1"), tmp_path / "k1.json", device_file=device_file,
                             register_every=0.2) as agent:
        code = await wait_until(lambda: _code(agent))
        assert f"registration code: {code}" in capsys.readouterr().out
        assert not agent.connected.is_set() and not device_file.exists()
        (pending,) = [d for d in await (await client.get("/api/v1/halls/t/devices", headers=boss)).json() if d["status"] == "pending"]
        assert (pending["kind"], pending["place"], pending["code"]) == ("print_agent", "k1", code)
        r = await client.post(f"/api/v1/halls/t/devices/{pending['id']}/approve", headers=boss,
                              json={"code": code, "name": "一楼 打印代理", "kiosk": "k1"})
        assert r.status == 200, await r.text()
        await asyncio.wait_for(agent.connected.wait(), 10)
        assert stat.S_IMODE(device_file.stat().st_mode) == 0o600 and stat.S_IMODE(device_file.parent.stat().st_mode) == 0o700
        token = device_file.read_text().strip()
        assert len(token) >= 40

        r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}, headers=kiosk)
        assert r.status == 201, await r.text()
        await printer.wait_for_cuts(1)
        assert b"A001" in printer.data

        # Revoked: the open connection is closed, the token file goes, and a new code is shown.
        r = await client.post(f"/api/v1/halls/t/devices/{pending['id']}/revoke", json={}, headers=boss)
        assert r.status == 200
        await wait_until(lambda: _code(agent))
        assert agent.code != code and not device_file.exists() and not agent.connected.is_set()
        r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}, headers=kiosk)
        assert r.status == 201  # the kiosk still issues; its paper waits for an approved agent
        await asyncio.sleep(0.5)
        assert printer.cuts == 1


async def _code(agent):  # type: ignore[no-untyped-def]
    return agent.code


async def test_an_agent_with_another_kiosks_token_is_refused(client, server, login):
    boss = await login("boss")
    reg = await (await client.post("/api/v1/halls/t/devices", json={"kind": "print_agent", "place": "k3"})).json()
    await client.post(f"/api/v1/halls/t/devices/{reg['id']}/approve", headers=boss, json={"code": reg["code"], "name": "k3", "kiosk": "k3"})
    token = (await (await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})).json())["token"]
    import aiohttp

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/v1/halls/t/kiosks/k1", headers={"X-Device-Token": token})
    assert refused.value.status == 403
    ws = await client.ws_connect("/ws/v1/halls/t/kiosks/k3", headers={"X-Device-Token": token})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    await ws.close()
