"""The small test hall with three kiosks: k1 prints through its agent, k2 is printed to by the
server, k3 has no printer. Each printer is a FakePrinter on its own loopback port."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.halls import write_config
from tests.surfaces.kiosk.fakes import FakePrinter
from tests.server_process import free_port


@pytest.fixture
def printer_ports() -> dict[str, int]:
    return {"k1": free_port(), "k2": free_port()}


def kiosks(ports: dict[str, int], ack_timeout_s: int = 3) -> list[dict]:
    return [
        {"id": "k1", "name": "一楼 自助取号机1", "agent": True, "ack_timeout_s": ack_timeout_s,
         "printer": {"kind": "network", "address": f"127.0.0.1:{ports['k1']}", "paper_mm": 80}},
        {"id": "k2", "name": "二楼 自助取号机2", "agent": False, "ack_timeout_s": ack_timeout_s,
         "printer": {"kind": "network", "address": f"127.0.0.1:{ports['k2']}", "paper_mm": 58, "encoding": "gbk"}},
        {"id": "k3", "name": "咨询台 平板", "agent": True},
    ]


@pytest.fixture
def config_dir(tmp_path: Path, printer_ports: dict[str, int]) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks(printer_ports), allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
async def printer(printer_ports):  # type: ignore[no-untyped-def]
    p = await FakePrinter(printer_ports["k1"]).start()
    yield p
    await p.stop()


@pytest.fixture
async def printer2(printer_ports):  # type: ignore[no-untyped-def]
    p = await FakePrinter(printer_ports["k2"]).start()
    yield p
    await p.stop()


@pytest.fixture
async def server(aiohttp_server, settings):  # type: ignore[no-untyped-def]
    """The whole app on a real loopback port: print agents and websockets clients connect to it."""
    from server.api import create_app

    s = await aiohttp_server(create_app(settings))
    s.base = str(s.make_url("")).rstrip("/")
    s.ws = s.base.replace("http://", "ws://")
    return s


@pytest.fixture
async def client(aiohttp_client, server):  # type: ignore[no-untyped-def]
    return await aiohttp_client(server)


async def wait_until(predicate, timeout: float = 5.0, every: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns something true (bounded)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout} s (last: {value!r})")
        await asyncio.sleep(every)
