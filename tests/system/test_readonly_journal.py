"""The SQLite journal turning read-only under a running server (a disk remounted read-only
after an error, a file made immutable, a backup tool's lock): health says so, login and every
write answer 503 (never 500), and once the fault is gone the same process serves again.

The tests run as root, whom a chmod does not stop (CAP_DAC_OVERRIDE). The immutable flag
(`chattr +i`) does: the kernel refuses to open the file for writing and refuses writes through
descriptors opened before, for root too (only the flag itself needs CAP_LINUX_IMMUTABLE). It is
set on the database and its -wal; never on the -shm, which SQLite writes through a shared
mapping: the kernel answers a write to an immutable mapping with SIGBUS, killing the process
(a fault no server can answer)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.api import Settings, create_app
from tests.halls import FakeClock
from tests.services import need

LOGIN = {"username": "w1a", "password": "demo"}


@contextmanager
def immutable(*files: Path) -> Iterator[None]:
    chattr = shutil.which("chattr")
    if chattr is None:
        need("chattr", "apt-get install -y e2fsprogs; the test makes the journal immutable, which stops root too")
    present = [str(f) for f in files if f.exists()]
    done = subprocess.run([str(chattr), "+i", *present], capture_output=True, text=True)
    if done.returncode != 0:
        need("chattr +i", f"{done.stderr.strip()} (needs CAP_LINUX_IMMUTABLE and a file system with the flag)")
    try:
        yield
    finally:
        subprocess.run([str(chattr), "-i", *present], check=True)


@pytest.fixture
async def served(aiohttp_client, tmp_path: Path, config_dir: Path):  # type: ignore[no-untyped-def]
    settings = Settings(config_dir=config_dir, data_dir=tmp_path / "data", clock=FakeClock(), issue_rate_per_s=0,
                        background=False)
    client = await aiohttp_client(create_app(settings))
    db = settings.data_dir / "hallq.sqlite3"
    return client, (db, db.with_name(db.name + "-wal"))


async def _ask(client, method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(10):  # a hang fails here, not at the end of the suite
        r = await client.request(method, path, json=body)
        payload = await r.json(content_type=None)
    if r.status >= 400:
        assert r.content_type == "application/problem+json", (path, r.status, payload)
    return r.status, payload


async def test_readonly_journal_is_reported_refused_with_503_and_recovered(served):
    client, files = served
    assert (await _ask(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"}))[0] == 201
    status, health = await _ask(client, "GET", "/api/v1/health")
    assert (status, health["journal"]) == (200, True)
    with immutable(*files):
        started = time.monotonic()
        status, health = await _ask(client, "GET", "/api/v1/health")
        assert status == 503, health
        assert "writ" in str(health["detail"])
        # Several at once, so the server opens new connections to the journal while it is read-only.
        answers = await asyncio.gather(
            *[_ask(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"}) for _ in range(3)],
            *[_ask(client, "POST", "/api/v1/auth/login", LOGIN) for _ in range(3)],
        )
        assert [s for s, _ in answers] == [503] * 6, answers
        assert time.monotonic() - started < 5
        # What is already stored can still be read.
        status, queues = await _ask(client, "GET", "/api/v1/halls/t/queues")
        assert status == 200
        assert next(q for q in queues["items"] if q["item"] == "a1")["waiting"] == 1
    # The fault is gone: the same process serves at once, no restart.
    status, health = await _ask(client, "GET", "/api/v1/health")
    assert (status, health["journal"]) == (200, True), health
    status, ticket = await _ask(client, "POST", "/api/v1/halls/t/tickets", {"item": "a1"})
    assert (status, ticket["number"]) == (201, "A002"), ticket
    status, session = await _ask(client, "POST", "/api/v1/auth/login", LOGIN)
    assert status == 200, session
