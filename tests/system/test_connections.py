"""Connection floods against the real server process: one address, or many, cannot make it
unreachable; slow request heads and idle connections are closed; refusals are answered and
logged once per interval, never once per connection.

Every client here is a raw socket on loopback. Linux routes all of 127.0.0.0/8 to lo, so a
client binds its source to 127.0.0.2 (or .3, .4, …) to come from "another address"."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import time

import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

UPGRADE = ("GET /ws/v1/halls/t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture(autouse=True, scope="module")
def enough_descriptors_here():  # type: ignore[no-untyped-def]
    """This process holds the clients' ends: give it room beyond the server's 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    assert want >= 2500, f"this test needs 2,500 descriptors and the hard limit is {hard}"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def start(config_dir, tmp_path):  # type: ignore[no-untyped-def]
    servers: list[ServerProcess] = []

    async def _start(*flags: str, nofile: int | None = None) -> ServerProcess:
        server = ServerProcess(config_dir, tmp_path / "data", extra=flags, nofile=nofile)
        servers.append(server)
        await server.start()
        return server

    yield _start
    for server in servers:
        server.kill()


async def connect(server: ServerProcess, source: str, timeout: float = 10.0) -> Stream:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0)), timeout)


async def head(reader: asyncio.StreamReader, timeout: float = 15.0) -> tuple[int, dict[str, str]]:
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = raw.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}


async def open_websocket(server: ServerProcess, source: str, timeout: float = 10.0) -> tuple[int, dict[str, str], Stream]:
    reader, writer = await connect(server, source, timeout)
    writer.write(UPGRADE.format(key=base64.b64encode(os.urandom(16)).decode()).encode())
    status, headers = await head(reader, timeout)
    return status, headers, (reader, writer)


async def request(server: ServerProcess, source: str, method: str, path: str, body: dict | None = None,
                  timeout: float = 2.0) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection from `source`, answered within `timeout` or TimeoutError."""
    async def run() -> tuple[int, dict[str, str], bytes]:
        reader, writer = await connect(server, source, timeout)
        data = json.dumps(body).encode() if body is not None else b""
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        status, headers = await head(reader, timeout)
        rest = await reader.read()
        writer.close()
        return status, headers, rest

    return await asyncio.wait_for(run(), timeout)


def close_all(streams: list[Stream]) -> None:
    for _, writer in streams:
        writer.close()


def log_lines(server: ServerProcess) -> int:
    with open(server.log, "rb") as f:
        return sum(1 for _ in f)


def descriptors(server: ServerProcess) -> int:
    assert server.proc is not None
    return len(os.listdir(f"/proc/{server.proc.pid}/fd"))


async def health_from_elsewhere(server: ServerProcess, source: str = "127.0.0.2") -> dict:
    began = time.monotonic()
    status, _, body = await request(server, source, "GET", "/api/v1/health", timeout=2.0)
    assert status == 200 and time.monotonic() - began < 2.0
    return json.loads(body)


async def settled(server: ServerProcess) -> None:
    """Wait until the server holds no connection but the one asking (the start-up probe's is
    closed), so that the per-address counts below start from zero."""
    deadline = time.monotonic() + 10
    while (await health_from_elsewhere(server, "127.0.0.254"))["connections"]["open"] > 1:
        assert time.monotonic() < deadline, "the start-up probe's connection stays open"
        await asyncio.sleep(0.05)


async def hold_websockets(server: ServerProcess, sources: list[str], attempts: int) -> tuple[list[Stream], dict[int, int]]:
    """Up to `attempts` websockets per source address; stops a source at its first silence."""
    held: list[Stream] = []
    answers: dict[int, int] = {}
    for source in sources:
        for _ in range(attempts):
            try:
                status, _, stream = await open_websocket(server, source)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                answers[0] = answers.get(0, 0) + 1  # no answer: the server could not take it
                break
            answers[status] = answers.get(status, 0) + 1
            if status == 101:
                held.append(stream)
            else:
                stream[1].close()
    return held, answers


async def test_one_address_holding_websockets_leaves_the_server_to_everyone_else_under_1024_descriptors(start):
    server = await start(nofile=1024)
    held, answers = await hold_websockets(server, ["127.0.0.1"], attempts=1030)
    try:
        health = await health_from_elsewhere(server)
        status, _, body = await request(server, "127.0.0.2", "POST", "/api/v1/halls/t/tickets", {"item": "a1"})
        assert status == 201, body
        assert answers.get(0, 0) == 0, answers  # every attempt was answered, held or refused
        assert answers[101] == len(held) < 100 and answers[429] == 1030 - len(held)
        connections = health["connections"]
        assert connections["descriptors"] == 1024
        assert connections["websockets"] == len(held) == connections["websockets_per_address"]
        assert connections["limit"] < 1024 and connections["refused"] >= 1030 - len(held)
        assert log_lines(server) < 30
    finally:
        close_all(held)


async def test_websockets_from_many_addresses_stop_below_the_descriptor_limit_and_leave_room_for_requests(start):
    server = await start(nofile=1024)
    sources = [f"127.0.0.{n}" for n in range(3, 25)]  # 22 addresses × 32 websockets: more than the 672 in total
    held, answers = await hold_websockets(server, sources, attempts=33)
    try:
        health = await health_from_elsewhere(server)
        assert answers.get(0, 0) == 0, answers
        connections = health["connections"]
        assert len(held) == connections["websockets_limit"] == connections["websockets"] and answers.get(503, 0) > 0
        assert descriptors(server) < connections["limit"] < 1024
        status, _, _ = await request(server, "127.0.0.2", "POST", "/api/v1/halls/t/tickets", {"item": "a1"})
        assert status == 201
        assert log_lines(server) < 30
    finally:
        close_all(held)


async def test_slowloris_from_one_address_leaves_the_server_to_everyone_else_under_1024_descriptors(start):
    server = await start(nofile=1024)
    await settled(server)
    slow: list[Stream] = []
    answered = 0
    try:
        for _ in range(1030):
            try:
                reader, writer = await connect(server, "127.0.0.1")
            except (OSError, asyncio.TimeoutError):
                break
            writer.write(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append((reader, writer))
        health = await health_from_elsewhere(server)
        held = health["connections"]["per_address"]
        for reader, writer in slow[:held]:  # one more header line on each that the server holds
            writer.write(b"X-Slow: 1\r\n")
        for reader, _ in slow[held:]:  # the others have their answer already
            status, _ = await head(reader)
            answered += status == 429
        assert answered == 1030 - held
        assert log_lines(server) < 30
    finally:
        close_all(slow)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    """Send a request head one line every 0.1 s, as slowloris does, until the server closes."""
    writer.write(b"GET /api/v1/halls HTTP/1.1\r\n")
    while True:
        try:
            if await asyncio.wait_for(reader.read(65536), 0.1) == b"":
                return time.monotonic()
        except asyncio.TimeoutError:
            writer.write(b"X-Slow: 1\r\n")
        except ConnectionError:
            return time.monotonic()


async def test_request_heads_that_trickle_in_are_closed_after_the_header_timeout(start):
    server = await start("--header-timeout", "0.5")
    slow = [await connect(server, "127.0.0.1") for _ in range(10)]
    try:
        began = time.monotonic()
        closed_at = await asyncio.wait_for(asyncio.gather(*(trickle(*s) for s in slow)), 5)
        assert max(closed_at) - began < 2.5
        await health_from_elsewhere(server)
    finally:
        close_all(slow)


async def test_idle_connections_are_closed_after_the_idle_timeout(start):
    server = await start("--idle-timeout", "0.5")
    silent_reader, silent = await connect(server, "127.0.0.1")  # connects and never asks
    reader, writer = await connect(server, "127.0.0.1")
    try:
        writer.write(b"GET /api/v1/halls HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers = await head(reader)
        assert status == 200
        await reader.readexactly(int(headers["content-length"]))
        # Kept alive after its answer, then idle: both are closed, well before aiohttp's 75 s.
        assert await asyncio.wait_for(reader.read(), 3) == b""
        assert await asyncio.wait_for(silent_reader.read(), 3) == b""
    finally:
        close_all([(reader, writer), (silent_reader, silent)])


async def test_connections_over_the_caps_are_answered_with_a_problem_and_logged_once_per_interval(start):
    server = await start("--connections-per-address", "5", "--max-connections", "8", "--refusal-log-interval", "0.5")
    await settled(server)
    mine = [await connect(server, "127.0.0.1") for _ in range(5)]
    others = [await connect(server, "127.0.0.2") for _ in range(3)]
    try:
        flood = time.monotonic()
        for _ in range(100):  # over the per-address cap
            reader, writer = await connect(server, "127.0.0.1")
            status, headers = await head(reader)
            body = json.loads(await reader.read())
            writer.close()
            assert (status, body["status"], body["title"]) == (429, 429, "Too many requests")
            assert headers["content-type"].startswith("application/problem+json")
            assert "retry-after" in headers
        reader, writer = await connect(server, "127.0.0.3")  # the server is full
        status, headers = await head(reader)
        writer.close()
        assert status == 503 and headers["content-type"].startswith("application/problem+json")

        began = time.monotonic()
        while time.monotonic() - began < 5:  # 101 refused: the first logged at once, the rest summed up
            with open(server.log, encoding="utf-8") as f:
                refusals = [line for line in f if re.search(r"refused \d+:", line)]
            if sum(int(re.search(r"refused (\d+):", line)[1]) for line in refusals) >= 101:
                break
            await asyncio.sleep(0.1)
        assert len(refusals) <= 2 + (time.monotonic() - flood) / 0.5, refusals  # a line per interval at most
        assert sum(int(re.search(r"refused (\d+):", line)[1]) for line in refusals) == 101, refusals
        assert "127.0.0.1 ×" in refusals[-1]

        close_all(mine[:1])
        began = time.monotonic()
        while True:  # a slot freed by a closed connection is given again
            try:
                status, _, _ = await request(server, "127.0.0.1", "GET", "/api/v1/halls")
            except (OSError, asyncio.TimeoutError):
                status = 0
            if status == 200 or time.monotonic() - began > 10:
                break
            await asyncio.sleep(0.05)
        assert status == 200
    finally:
        close_all(mine + others)


async def test_websockets_over_the_caps_are_refused_before_the_upgrade(start):
    server = await start("--websockets-per-address", "3", "--max-websockets", "5")
    held: list[Stream] = []
    try:
        for _ in range(3):
            status, _, stream = await open_websocket(server, "127.0.0.1")
            assert status == 101
            held.append(stream)
        status, headers, (reader, writer) = await open_websocket(server, "127.0.0.1")
        body = json.loads(await reader.readexactly(int(headers["content-length"])))
        writer.close()
        assert (status, body["type"]) == (429, "urn:hallq:problem:too-many-websockets")
        assert headers["content-type"].startswith("application/problem+json")
        for _ in range(2):
            status, _, stream = await open_websocket(server, "127.0.0.2")
            assert status == 101
            held.append(stream)
        status, headers, (_, writer) = await open_websocket(server, "127.0.0.3")
        writer.close()
        assert status == 503 and headers["content-type"].startswith("application/problem+json")
        health = await health_from_elsewhere(server, "127.0.0.4")
        assert health["connections"]["websockets"] == 5

        close_all(held[:1])  # a screen leaves: its place is free again
        began = time.monotonic()
        while True:
            status, _, stream = await open_websocket(server, "127.0.0.3")
            if status == 101 or time.monotonic() - began > 3:
                break
            stream[1].close()
            await asyncio.sleep(0.05)
        assert status == 101
        held.append(stream)
    finally:
        close_all(held)
