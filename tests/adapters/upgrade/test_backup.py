"""`hallq backup` while a hall serves, and `hallq restore` into an empty place: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from server.config import default_config_dir
from tests.server_process import ServerProcess
from tests.services import PostgresDatabase
from tests.adapters.upgrade.test_upgrade import hallq, pg_rows


async def backup_while_issuing(server: ServerProcess, archive: Path, data: Path, *db: str) -> list[str]:
    """Issue tickets without pause; once 50 are acknowledged, back up; return the ids
    acknowledged before the backup began (and check that issuing went on during it)."""
    acked: list[str] = []
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as s:
        async with s.get(server.url + "/api/v1/halls/demo/catalog") as r:
            items = [i["id"] for i in (await r.json())["items"]]

        async def issue() -> None:
            for n in range(20_000):  # bounded; stops as soon as the backup is done
                if stop.is_set():
                    return
                async with s.post(server.url + "/api/v1/halls/demo/tickets", json={"item": items[n % len(items)]}) as r:
                    if r.status == 201:
                        acked.append((await r.json())["id"])

        task = asyncio.create_task(issue())
        deadline = time.monotonic() + 60
        while len(acked) < 50 and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.02)
        before = list(acked)
        assert len(before) >= 50
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "backup", "--data", str(data), *db, str(archive),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        assert b"with the phone key" in out
        during = len(acked) - len(before)
        stop.set()
        await task
    assert during > 0, "tickets were issued while the backup ran"
    return before


async def every_ticket_is_there(server: ServerProcess, ids: list[str]) -> None:
    async with aiohttp.ClientSession() as s:
        for ticket in ids:
            async with s.get(f"{server.url}/api/v1/halls/demo/tickets/{ticket}") as r:
                assert r.status == 200, f"ticket {ticket} acknowledged before the backup is not in the restored hall"


@pytest.mark.slow
async def test_a_backup_made_while_tickets_are_issued_restores_every_ticket_acknowledged_before_it(tmp_path):
    live, restored, archive = tmp_path / "live", tmp_path / "restored", tmp_path / "hall.tar.gz"
    server = ServerProcess(default_config_dir(), live)
    await server.start()
    try:
        before = await backup_while_issuing(server, archive, live)
    finally:
        server.stop()
    assert archive.stat().st_mode & 0o077 == 0  # it holds the phone key: the operator's eyes only

    done = hallq("restore", "--data", str(restored), str(archive))
    assert done.returncode == 0, done.stderr
    assert (restored / "phone.key").read_bytes() == (live / "phone.key").read_bytes()  # phone hashes still match

    again = hallq("restore", "--data", str(restored), str(archive))  # never over a hall's data
    assert again.returncode == 2 and "already holds data" in again.stderr and again.stderr.count("\n") == 1

    server = ServerProcess(default_config_dir(), restored)
    await server.start()
    try:
        await every_ticket_is_there(server, before)
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_postgresql_hall_backs_up_while_serving_and_restores_into_an_empty_database(tmp_path):
    source, target = PostgresDatabase(), PostgresDatabase()
    url, other = await source.create(), await target.create()
    try:
        server = ServerProcess(default_config_dir(), tmp_path / "live", extra=("--database", url))
        await server.start()
        try:
            before = await backup_while_issuing(server, tmp_path / "hall.tar.gz", tmp_path / "live", "--database", url)
        finally:
            server.stop()
        done = hallq("restore", "--data", str(tmp_path / "restored"), "--database", other, str(tmp_path / "hall.tar.gz"))
        assert done.returncode == 0, done.stderr
        original, copy = await pg_rows(url), await pg_rows(other)
        backed_up = {(r["day"], r["seq"]) for r in copy["events"]}
        assert backed_up <= {(r["day"], r["seq"]) for r in original["events"]}  # one consistent moment, nothing invented
        server = ServerProcess(default_config_dir(), tmp_path / "restored", extra=("--database", other))
        await server.start()
        try:
            await every_ticket_is_there(server, before)
        finally:
            server.stop()
    finally:
        await source.drop()
        await target.drop()


def test_restore_refuses_what_is_not_a_backup_in_one_line(tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not an archive")
    answer = hallq("restore", "--data", str(tmp_path / "d"), str(bogus))
    assert answer.returncode == 2 and "not a hallq backup" in answer.stderr and "Traceback" not in answer.stderr
