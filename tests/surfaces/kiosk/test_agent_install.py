"""The print agent installed as a kiosk PC gets it: a fresh virtualenv holding only the agent's
requirements (deploy/agent-requirements.txt: websockets, python-escpos, and the drivers this
machine has) and the hallq wheel without its dependencies. `hallq-agent` there connects to a real
server and prints a kiosk's ticket on the loopback printer; importing it loads nothing of the
server but the printer drivers, and none of the server's libraries."""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.surfaces.kiosk.conftest import wait_until
from tests.venvs import clean_env, make_venv

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow
HEAVY = ("aiohttp", "pydantic", "sqlalchemy", "alembic", "argon2", "numpy", "openpyxl", "pypinyin", "jinja2", "yaml")


def agent_requirements() -> list[str]:
    """The agent's requirements that apply here and are installed here (pyusb, pyserial, pywin32
    are drivers of printer kinds this test does not use); websockets and python-escpos must be."""
    found = []
    for line in (ROOT / "deploy" / "agent-requirements.txt").read_text().splitlines():
        text = line.split("#")[0].strip()
        if not text:
            continue
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        found.append(str(req))
    assert {Requirement(r).name for r in found} >= {"websockets", "python-escpos"}
    return found


@pytest.fixture(scope="module")
def agent_venv(tmp_path_factory: pytest.TempPathFactory, hallq_wheel: Path) -> Path:
    where = tmp_path_factory.mktemp("agent")
    return make_venv(where / "venv", agent_requirements(), hallq_wheel).parent


def test_the_agent_imports_none_of_the_servers_libraries(agent_venv: Path, tmp_path: Path) -> None:
    probe = ("import json, sys, time; t = time.perf_counter(); import kiosk.agent; t = time.perf_counter() - t; "
             "print(json.dumps({'s': t, 'modules': sorted(sys.modules)}))")
    done = subprocess.run([str(agent_venv / "python"), "-c", probe], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    ours = {m for m in found["modules"] if m.split(".")[0] in ("server", "kiosk")}
    assert ours == {"server", "server.printing", "server.printing.devices", "kiosk", "kiosk.agent"}
    assert not [m for m in found["modules"] if m.split(".")[0] in HEAVY]
    print(f"import kiosk.agent: {found['s'] * 1000:.0f} ms")  # the figure docs/deploy.md may quote
    for heavy in ("aiohttp", "pydantic", "sqlalchemy"):  # and they are not even installed there
        assert subprocess.run([str(agent_venv / "python"), "-c", f"import {heavy}"], cwd=tmp_path, env=clean_env(),
                              capture_output=True).returncode != 0


async def test_the_installed_agent_prints_a_kiosk_ticket_on_the_loopback_printer(
        agent_venv: Path, server, client, printer, tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    proc = subprocess.Popen([str(agent_venv / "hallq-agent"), "--server", server.base, "--hall", "t", "--kiosk", "k1",
                             "--state", str(tmp_path / "k1.json"), "--device-file", str(tmp_path / "k1.device"),
                             "--status-every", "0"],
                            cwd=tmp_path, env={**clean_env(), "PYTHONUNBUFFERED": "1"}, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)
    try:
        async def connected() -> bool:
            assert proc.poll() is None, log.read_text()
            return "connected to" in log.read_text()

        await wait_until(connected, timeout=60)
        r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})
        assert r.status == 201, await r.text()
        t = await r.json()
        await printer.wait_for_cuts(1, timeout=30)
        assert t["number"].encode() in printer.data and "甲一".encode("gb18030") in printer.data

        async def printed() -> bool:
            return f"({t['number']}) printed" in log.read_text()

        await wait_until(printed, timeout=30)  # and the agent says so (its acknowledgement follows)
    finally:
        proc.terminate()
        proc.wait(10)
    assert "Traceback" not in log.read_text()
