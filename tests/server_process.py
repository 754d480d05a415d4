"""Run `hallq serve` as a real process on a free loopback port, for restart and crash tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp


# Below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 on
# Linux): a port the OS picked for us from that range may be handed to any outgoing connection
# before our server binds it, which on a busy machine (parallel test workers, load tests) it was.
# A random port below it, checked free, can only be taken by another test picking the same one.
PORTS = range(20000, 32000)
_pick = random.SystemRandom()  # not the global generator, which tests seed alike in every worker


def free_port() -> int:
    for _ in range(200):
        port = _pick.choice(PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


class ServerProcess:
    def __init__(
        self, config: Path, data: Path, port: int | None = None, extra: tuple[str, ...] = (), env: dict[str, str] | None = None,
        nofile: int | None = None,
    ) -> None:
        """nofile: the server's descriptor limit (RLIMIT_NOFILE), as a service manager would set it."""
        self.config, self.data, self.extra, self.env, self.nofile = config, data, extra, env or {}, nofile
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"server-{self.port}.log"

    async def start(self, timeout: float = 60) -> None:
        """Start and wait until it answers. A server that exits is seen at once; the deadline is
        only for one that hangs, so it is generous: on a loaded 2-core machine a start (imports,
        the demo password's argon2 hash, the journal) has taken 39 s."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--config", str(self.config), "--data", str(self.data),
             "--port", str(self.port), "--always-open", "--issue-rate", "0", *self.extra],
            stdout=open(self.log, "ab"),  # all it prints, so tests can read it
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            preexec_fn=self._limit if self.nofile else None,
        )
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                try:
                    async with s.get(self.url + "/api/v1/halls") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await _sleep(0.05)
        self.stop()  # a server that answers after the test gave up would run on, unowned (SIGTERM: workers too)
        raise TimeoutError("server did not start")

    def _limit(self) -> None:  # runs in the child, before exec
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)


class Api:
    """A small client of the real server for browser tests: posts as a logged-in member of staff."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession()
        self.tokens: dict[str, str] = {}

    async def _headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who not in self.tokens:
            async with self.http.post(self.url + "/api/v1/auth/login", json={"username": who, "password": "demo"}) as r:
                self.tokens[who] = (await r.json())["token"]
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def post(self, path: str, body: dict | None = None, who: str | None = None, status: int | None = None) -> dict:
        async with self.http.post(self.url + path, json=body, headers=await self._headers(who)) as r:
            if status is None:
                assert r.status < 300, await r.text()
            else:
                assert r.status == status, await r.text()
            return await r.json()

    async def get(self, path: str, who: str | None = None) -> dict | list:
        async with self.http.get(self.url + path, headers=await self._headers(who)) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def close(self) -> None:
        await self.http.close()
