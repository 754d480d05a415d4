"""A new user's first hour, on the built wheel: install it (not editable) into a fresh virtualenv
that holds only its declared dependencies, then in an empty folder `hallq init`, `hallq
check-config`, `hallq user passwd admin`, `hallq serve` (which prints its address), and a kiosk
that a manager approves issues a ticket. The demo halls ship inside the package."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.server_process import free_port
from tests.venvs import clean_env, make_venv, wheel_requirements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, hallq_wheel: Path) -> Path:
    """The bin/ folder of a virtualenv holding the wheel and only what it declares it needs."""
    where = tmp_path_factory.mktemp("install")
    python = make_venv(where / "venv", wheel_requirements(hallq_wheel), hallq_wheel)
    return python.parent


def run(bin_dir: Path, cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(bin_dir / "hallq"), *args], cwd=cwd, env=clean_env(), input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_the_package_is_the_one_imported_and_ships_the_demo(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "python"), "-c", "import server, pytest"], cwd=tmp_path, env=clean_env(),
                           capture_output=True, text=True)
    assert "No module named 'pytest'" in where.stderr  # no test extras in this environment
    found = subprocess.run([str(installed / "python"), "-c", "import server; print(server.__file__)"], cwd=tmp_path,
                           env=clean_env(), capture_output=True, text=True, check=True).stdout
    assert found.startswith(str(installed.parent)), found
    out = run(installed, tmp_path, "check-config")  # no --config: the demo halls inside the package
    assert re.search(r"^demo \(city\): 示范市政务服务中心: \d+ departments", out, re.M) and "config OK" in out
    assert list(tmp_path.iterdir()) == []  # it wrote nothing where it was run


async def test_init_check_serve_and_a_kiosk_ticket_in_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    out = run(installed, tmp_path, "init", "conf", "--hall", "myhall", "--name", "测试市政务服务中心")
    assert "hallq user passwd admin --config conf" in out
    out = run(installed, tmp_path, "check-config", "--config", "conf")
    assert "myhall (city): 测试市政务服务中心: 3 departments, 4 items, 3 windows (1 comprehensive), 5 accounts" in out
    refused = subprocess.run([str(installed / "hallq"), "init", "conf", "--hall", "myhall"], cwd=tmp_path,
                             env=clean_env(), capture_output=True, text=True)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    run(installed, tmp_path, "user", "passwd", "admin", "--config", "conf", stdin="first-password-1\n")

    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([str(installed / "hallq"), "serve", "--config", "conf", "--port", str(port), "--always-open",
                             "--log-format", "json"],
                            cwd=tmp_path, env={**clean_env(), "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = await _address_printed(proc, tmp_path / "serve.log")
        assert url == f"http://127.0.0.1:{port}/"
        async with aiohttp.ClientSession(base_url=url) as http:
            # No account has a password but the one set above; the demo password opens nothing here.
            async with http.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"}) as r:
                assert r.status == 401
            async with http.post("/api/v1/auth/login", json={"username": "admin", "password": "first-password-1"}) as r:
                assert r.status == 200, await r.text()
                admin = {"Authorization": f"Bearer {(await r.json())['token']}"}
            # A kiosk nobody approved cannot issue; the admin approves the code it shows.
            async with http.post("/api/v1/halls/myhall/tickets", json={"item": "hrss_card"}) as r:
                assert r.status == 401, await r.text()
            async with http.post("/api/v1/halls/myhall/devices", json={"kind": "kiosk", "place": "k1"}) as r:
                assert r.status == 201
                reg = await r.json()
            async with http.post(f"/api/v1/halls/myhall/devices/{reg['id']}/approve", headers=admin,
                                 json={"code": reg["code"], "name": "一楼取号机", "kiosk": "k1"}) as r:
                assert r.status == 200, await r.text()
            async with http.post(f"/api/v1/halls/myhall/devices/{reg['id']}/claim", json={"claim": reg["claim"]}) as r:
                token = (await r.json())["token"]
            async with http.post("/api/v1/halls/myhall/tickets", json={"item": "hrss_card"},
                                 headers={"X-Device-Token": token}) as r:
                assert r.status == 201, await r.text()
                assert (await r.json())["number"] == "D001"
                ticket_request = r.headers["X-Request-Id"]
            # The pages come from the package's templates and static files too.
            for page in ("/kiosk/myhall/k1", "/display/myhall/lobby", "/dashboard/myhall/", "/terminal/myhall"):
                async with http.get(page) as r:
                    assert r.status == 200 and "测试市政务服务中心" in await r.text(), page
            async with http.get("/metrics") as r:
                assert 'hallq_tickets_issued_total{hall="myhall",item="hrss_card"} 1.0' in await r.text()
    finally:
        proc.terminate()
        proc.wait(20)
    assert (tmp_path / "data").is_dir()  # the journal lives in ./data of the folder it was started in
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    assert any(line["logger"] == "hallq" and "hall myhall" in line["message"] for line in lines)
    (issued,) = [line for line in lines if line["logger"] == "hallq.access" and line["request_id"] == ticket_request]
    assert issued["message"].startswith("POST /api/v1/halls/{hall}/tickets 201") and token not in issued["message"]


async def _address_printed(proc: subprocess.Popen, log: Path, timeout: float = 90) -> str:
    """The address `hallq serve` prints once it listens (a start on a busy machine takes seconds)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"^hallq: serving on (\S+)$", log.read_text(), re.M)
        if found:
            return found.group(1)
        assert proc.poll() is None, log.read_text()
        await asyncio.sleep(0.05)
    raise TimeoutError(log.read_text())
