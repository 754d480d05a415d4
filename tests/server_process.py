"""Run `hallq serve` as a real process on a free loopback port, for restart and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, config: Path, data: Path, port: int | None = None) -> None:
        self.config, self.data = config, data
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--config", str(self.config), "--data", str(self.data),
             "--port", str(self.port), "--always-open", "--issue-rate", "0"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.data.parent / f"server-{self.port}.log", "ab"),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
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
        raise TimeoutError("server did not start")

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
