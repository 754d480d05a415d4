"""Fuzzing: schemathesis over the whole documented API, and random frames at the websocket."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow


async def test_schemathesis_finds_no_server_error_and_no_answer_off_its_schema(config_dir, tmp_path):
    server = ServerProcess(config_dir, tmp_path / "data")
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
                token = (await r.json())["token"]
        config = tmp_path / "schemathesis.toml"
        config.write_text('[parameters]\n"path.hall" = "t"\n"path.window" = "w1"\n', encoding="utf-8")
        cmd = [
            sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            "--config-file", str(config), "run", server.url + "/api/v1/openapi.json",
            "--max-examples", "8", "--seed", "20261125",
            "-c", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "-H", f"Authorization: Bearer {token}",
        ]
        out = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=300)
    finally:
        server.kill()
    report = out.stdout + out.stderr
    m = re.search(r"(\d+) generated, (\d+) passed", report)
    assert out.returncode == 0 and m, report[-3000:]
    generated, passed = int(m.group(1)), int(m.group(2))
    print(f"\nschemathesis: {generated} requests generated, {passed} passed")
    assert generated == passed and generated > 500


frames = st.one_of(
    st.binary(max_size=512).map(lambda b: ("bytes", b)),
    st.text(max_size=512).map(lambda s: ("text", s)),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=10).map(lambda v: ("text", json.dumps(v))),
    st.fixed_dictionaries({"type": st.sampled_from(["resume", "ping", "x"]), "seq": st.integers() | st.text(max_size=5), "day": st.text(max_size=12)}).map(lambda d: ("text", json.dumps(d))),
)


async def test_random_frames_never_break_the_feed(client):
    """Whatever a client sends, the server answers or closes that one socket, and keeps serving."""
    sent = 0

    async def one(batch) -> None:  # type: ignore[no-untyped-def]
        ws = await client.ws_connect("/ws/v1/halls/t")
        first = await asyncio.wait_for(ws.receive(), 3)
        assert json.loads(first.data)["type"] == "snapshot"
        for kind, payload in batch:
            if ws.closed:
                break
            await (ws.send_bytes(payload) if kind == "bytes" else ws.send_str(payload))
        await ws.close()

    # hypothesis drives a sync function; run the async body on this test's loop, example by example
    examples: list = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(frames, min_size=1, max_size=6))
    def collect(batch):  # type: ignore[no-untyped-def]
        examples.append(batch)

    collect()
    for batch in examples:
        await one(batch)
        sent += len(batch)
    ws = await client.ws_connect("/ws/v1/halls/t")
    assert json.loads((await asyncio.wait_for(ws.receive(), 3)).data)["type"] == "snapshot"
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    assert r.status == 201
    event = json.loads((await asyncio.wait_for(ws.receive(), 3)).data)
    assert event["type"] == "event" and event["event"]["type"] == "ticket_issued"
    assert sent >= 60
