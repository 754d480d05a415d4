"""Real servers for the tests that need them: a private redis-server on a free port, and the
shared PostgreSQL. Without the binary or the server a test skips, except under CI=true."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.server_process import free_port

PG_URL = os.environ.get("HALLQ_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def need(what: str, why: str) -> None:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{what} is required under CI=true: {why}")
    pytest.skip(f"{what} is not here: {why}")


class RedisServer:
    """`redis-server` on 127.0.0.1 and a port of its own, keeping nothing on disk."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            need("redis-server", "apt-get install -y redis-server")
        self.folder = folder
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


@pytest.fixture
def redis_server(tmp_path):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


_pg_answered = False


async def postgres_url() -> str:
    """The test PostgreSQL's URL, after checking (once per run) that it answers."""
    global _pg_answered
    if _pg_answered:
        return PG_URL
    from server.journal import SQLJournal, make_engine

    journal = SQLJournal(make_engine(PG_URL))
    try:
        import asyncio

        await asyncio.wait_for(journal.create(), 5)
    except Exception as exc:
        need("PostgreSQL", f"{PG_URL} failed: {exc!r}; set HALLQ_TEST_POSTGRES")
    finally:
        await journal.close()
    _pg_answered = True
    return PG_URL


def fresh_hall() -> str:
    return "h" + uuid.uuid4().hex[:12]


class PostgresDatabase:
    """A database of its own on the test PostgreSQL server, dropped afterwards (server processes
    that serve a fixed hall id need a journal nobody else wrote in)."""

    def __init__(self) -> None:
        self.name = "hallq_" + uuid.uuid4().hex[:12]
        base = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
        self.admin_url = base
        self.url = base.rsplit("/", 1)[0] + "/" + self.name

    async def create(self) -> str:
        import asyncio

        import asyncpg

        try:
            conn = await asyncio.wait_for(asyncpg.connect(self.admin_url), 5)
        except Exception as exc:
            need("PostgreSQL", f"{self.admin_url} failed: {exc!r}; set HALLQ_TEST_POSTGRES")
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        return self.url

    async def drop(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


class CuttableProxy:
    """A TCP relay on 127.0.0.1 in front of a real server: `cut()` drops every connection and
    refuses new ones (the server restarting, or the network to it gone), `restore()` lets them in.
    `hold(marker)` keeps what a client sends, from its first chunk containing `marker` on, from
    reaching the server (a slow link: the request is sent, the server has not read it yet) until
    `release()`; `held` is set once something is held."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        import asyncio

        self.target = (target_host, target_port)
        self.port = free_port()
        self.open = True
        self._server = None
        self._writers: set = set()
        self._marker: bytes | None = None
        self._held: dict = {}  # upstream writer -> what its client sent, in order
        self.held = asyncio.Event()

    async def start(self) -> None:
        import asyncio

        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader, writer) -> None:  # type: ignore[no-untyped-def]
        import asyncio

        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src, dst, upstream: bool) -> None:  # type: ignore[no-untyped-def]
            try:
                while data := await src.read(65536):
                    if upstream and self._marker is not None and (dst in self._held or self._marker in data):
                        self._held.setdefault(dst, []).append(data)
                        self.held.set()
                        continue
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        self.open = False
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.open = True

    def hold(self, marker: bytes) -> None:
        self._marker = marker

    def release(self) -> None:
        """Deliver what was held, in order, and stop holding."""
        self._marker = None
        self.held.clear()
        for dst, chunks in self._held.items():
            if not dst.is_closing():
                dst.write(b"".join(chunks))
        self._held.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def worker_settings(config_dir: Path, tmp_path: Path, database_url: str, redis_url: str, n: int = 2):  # type: ignore[no-untyped-def]
    """Settings of `n` whole apps as the workers of one deployment: one journal, one Redis bus,
    one clock, a data directory each; no issue rate limit."""
    from server.api import Settings
    from tests.halls import FakeClock

    clock = FakeClock()
    return [
        Settings(config_dir=config_dir, data_dir=tmp_path / f"data{k}", clock=clock, issue_rate_per_s=0,
                 database_url=database_url, redis_url=redis_url, worker=f"w{k}")
        for k in range(1, n + 1)
    ]
