"""`hallq serve --trusted-proxies 127.0.0.1` behind a real nginx with the shipped site file (TLS,
websocket upgrade): the citizens are told apart by the address nginx forwards, and a forged
X-Forwarded-For or -Proto from anyone else is ignored. The citizens come from 127.0.0.2 and
127.0.0.3 (Linux routes all of 127/8 to the loopback), nginx reaches hallq from 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from tests.server_process import ServerProcess
from tests.system.nginx import Nginx

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def citizen(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0), ssl=False, force_close=True))


@pytest.fixture
async def behind_nginx(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = ServerProcess(ROOT / "config", tmp_path / "data",
                           extra=("--trusted-proxies", "127.0.0.1", "--websockets-per-address", "1"))
    nginx = Nginx(tmp_path / "nginx", server.port)
    await server.start()
    try:
        nginx.start()
        try:
            yield server, nginx
        finally:
            nginx.stop()
    finally:
        server.stop()


async def register(http: aiohttp.ClientSession, base: str, headers: dict[str, str] | None = None) -> int:
    async with http.post(f"{base}/api/v1/halls/demo/devices", json={"kind": "kiosk", "place": "k1"}, headers=headers) as r:
        return r.status


async def test_nginx_passes_tickets_and_websockets_and_each_citizen_is_their_own_address(behind_nginx) -> None:
    server, nginx = behind_nginx
    async with citizen("127.0.0.2") as a, citizen("127.0.0.3") as b:
        # A kiosk ticket through the proxy: its phone link is https, as nginx said (X-Forwarded-Proto).
        async with a.post(f"{nginx.url}/api/v1/halls/demo/kiosks/k1/tickets", json={"item": "market_setup"},
                          headers={"X-Forwarded-Proto": "http"}) as r:
            assert r.status == 201, await r.text()
            assert (await r.json())["mobile_url"].startswith(f"https://127.0.0.1:{nginx.https_port}/")
        # The lobby's websocket through the upgrade; one per citizen's address (--websockets-per-address 1).
        lobby = await a.ws_connect(f"wss://127.0.0.1:{nginx.https_port}/ws/v1/halls/demo")
        first = await asyncio.wait_for(lobby.receive_json(), 30)
        assert first["type"] == "snapshot"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await a.ws_connect(f"wss://127.0.0.1:{nginx.https_port}/ws/v1/halls/demo")
        assert refused.value.status == 429
        other = await b.ws_connect(f"wss://127.0.0.1:{nginx.https_port}/ws/v1/halls/demo")  # another citizen: room
        assert (await asyncio.wait_for(other.receive_json(), 30))["type"] == "snapshot"
        await lobby.close()
        await other.close()

        # Device registrations are limited per address (10 at once): 127.0.0.2 runs out, and a
        # forged X-Forwarded-For sent to nginx does not buy it more; 127.0.0.3 is not held back.
        statuses = [await register(a, nginx.url) for _ in range(10)]
        assert statuses == [201] * 10
        assert await register(a, nginx.url) == 429
        assert await register(a, nginx.url, {"X-Forwarded-For": "10.9.9.9"}) == 429
        assert await register(b, nginx.url) == 201

        # The figures are for the monitoring host: nginx refuses /metrics to the citizens.
        async with a.get(f"{nginx.url}/metrics") as r:
            assert r.status == 403

        # Straight to hallq, not through the proxy: the headers of an untrusted peer mean nothing.
        assert await register(a, server.url, {"X-Forwarded-For": "10.8.8.8"}) == 429
        async with a.post(f"{server.url}/api/v1/halls/demo/kiosks/k1/tickets", json={"item": "market_setup"},
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.8.8.8"}) as r:
            assert (await r.json())["mobile_url"].startswith(f"http://127.0.0.1:{server.port}/")

    log = server.log.read_text()
    assert log.count("registered from 127.0.0.2") == 10 and log.count("registered from 127.0.0.3") == 1
    assert "from 127.0.0.1 " not in log and "10.9.9.9" not in log and "10.8.8.8" not in log
    access = [line for line in log.splitlines() if "hallq.access" in line]  # the access log sees the citizens too
    assert any(re.search(r"POST /api/v1/halls/\{hall\}/kiosks/\{kiosk\}/tickets 201 .* from 127\.0\.0\.2$", a) for a in access)
    assert any(re.search(r"GET /ws/v1/halls/\{hall\} 101 .* from 127\.0\.0\.3$", a) for a in access)
    assert not any("/devices" in a and a.endswith("from 127.0.0.1") for a in access)
    access = nginx.access_log()
    assert "127.0.0.2" in access and "/ws/v1/halls/demo" in access and "?" not in access


def test_a_trusted_proxy_that_is_no_address_is_refused_before_anything_starts(tmp_path: Path, capsys) -> None:
    from server.cli import main

    assert main(["serve", "--data", str(tmp_path / "data"), "--trusted-proxies", "127.0.0.1,nginx.local"]) == 2
    assert "'nginx.local' is not IPv4 or IPv6 address or network" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
