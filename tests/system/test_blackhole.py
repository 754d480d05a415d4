"""PostgreSQL behind a network that silently drops packets (a firewall or NAT state lost, a
switch gone mad): nothing is refused, nothing answers. Ticket issuing, login and health must
answer a clear 503 within 5 s, not hang for the outage; once packets flow again the same
process serves again, with nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest

from server.api import Settings, create_app
from server.journal import SQLJournal, database_url, make_engine
from tests.halls import FakeClock
from tests.server_process import free_port
from tests.services import PostgresDatabase

pytestmark = [pytest.mark.postgres]


class BlackholeProxy:
    """A TCP relay on 127.0.0.1 in front of PostgreSQL. `blackhole()` swallows every byte in
    both directions from then on, keeping the sockets open: a connection that lost packets
    never carries anything again (as when a firewall forgets its connections), and one opened
    during the outage is accepted but never reaches the server. `restore()` lets new
    connections through again."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.dark = False
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._dead: list[asyncio.Event] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        dead = asyncio.Event()
        self._dead.append(dead)
        if self.dark:
            dead.set()
            await _swallow(reader)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if dead.is_set():
                        continue  # swallowed: the peer never hears, and nobody says so
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def blackhole(self) -> None:
        self.dark = True
        for dead in self._dead:
            dead.set()

    def restore(self) -> None:
        self.dark = False

    async def close(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def _swallow(reader: asyncio.StreamReader) -> None:
    try:
        while await reader.read(65536):
            pass
    except OSError:
        pass


@pytest.fixture
async def blackholed(aiohttp_client, tmp_path, config_dir):  # type: ignore[no-untyped-def]
    db = PostgresDatabase()
    url = await db.create()
    parts = urlsplit(url)
    proxy = BlackholeProxy(parts.port or 5432, parts.hostname or "127.0.0.1")
    await proxy.start()
    netloc = f"127.0.0.1:{proxy.port}"
    via_proxy = url.replace(parts.netloc, f"{parts.username}@{netloc}" if parts.username else netloc)

    async def serve(**limits: float):  # type: ignore[no-untyped-def]
        settings = Settings(config_dir=config_dir, data_dir=tmp_path / "data", clock=FakeClock(), issue_rate_per_s=0,
                            database_url=via_proxy, **limits)
        return await aiohttp_client(create_app(settings))

    yield serve, proxy, url
    await proxy.close()
    await db.drop()


async def _timed(client, method: str, path: str, body: object = None) -> tuple[int, float, dict[str, object]]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    async with asyncio.timeout(10):  # far beyond the 5 s promised: a hang fails here, not at the suite's end
        r = await client.request(method, path, json=body)
        payload = await r.json(content_type=None) if r.content_type.endswith("json") else {"text": await r.text()}
    took = time.monotonic() - started
    if r.status >= 400:
        assert r.content_type == "application/problem+json", (path, r.status, payload)
    return r.status, took, payload


async def _until(client, method: str, path: str, body: object, want: int, within: float = 15.0) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Ask again until the answer is `want` (each answer is bounded by the server's own deadline)."""
    deadline = time.monotonic() + within
    while True:
        status, _, payload = await _timed(client, method, path, body)
        if status == want:
            return payload
        assert status == 503, (path, status, payload)
        assert time.monotonic() < deadline, f"{path} still answers {status} after {within} s"


LOGIN = {"username": "w1a", "password": "demo"}


async def test_blackholed_postgres_answers_503_within_5s_with_default_limits(blackholed):
    serve, proxy, url = blackholed
    client = await serve()
    first = await _timed(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"})
    assert first[0] == 201
    proxy.blackhole()
    # Both at once: the default limits alone must bound each answer.
    answers = await asyncio.gather(_timed(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"}),
                                   _timed(client, "POST", "/api/v1/auth/login", LOGIN),
                                   _timed(client, "GET", "/api/v1/health"))
    for (status, took, payload), what in zip(answers, ("issue", "login", "health")):
        assert status == 503, (what, status, payload)
        assert took < 5.0, (what, took)
    proxy.restore()
    issued = await _until(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"}, 201)
    assert issued["number"] == "A002"  # the one refused during the outage was never stored
    assert "token" in await _until(client, "POST", "/api/v1/auth/login", LOGIN, 200)


async def test_blackhole_again_and_again_the_same_process_recovers(blackholed):
    serve, proxy, url = blackholed
    client = await serve(db_timeout_s=0.5)
    numbers = []
    for _round in range(3):
        payload = await _until(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"}, 201)
        numbers.append(payload["number"])
        await _until(client, "POST", "/api/v1/auth/login", LOGIN, 200)
        proxy.blackhole()
        for method, path, body in (("POST", "/api/v1/halls/t/tickets", {"item": "a1"}),
                                   ("POST", "/api/v1/auth/login", LOGIN),
                                   ("GET", "/api/v1/health", None)):
            status, took, payload = await _timed(client, method, path, body)
            assert status == 503, (path, status, payload)
            assert took < 2.5, (path, took)
        proxy.restore()
    health = await _until(client, "GET", "/api/v1/health", None, 200)
    assert health["journal"] is True
    assert numbers == ["A001", "A002", "A003"]
    journal = SQLJournal(make_engine(database_url(None, url), timeout_s=30))  # the check, not the system under test
    try:
        stored = await journal.read("t", FakeClock().now().date())
    finally:
        await journal.close()
    assert [e.data["number"] for e in stored if e.data["type"] == "ticket_issued"] == numbers
