"""The current code on the data of earlier code: it migrates, serves, and keeps every row.

The fixtures in tests/adapters/upgrade/data/ were made by tests/adapters/upgrade/make_release_data.py run with
the code of release v0.1.0 (SQLite and PostgreSQL) and of commit 48be888 (before the revision
columns that made an upgraded hall unable to start).
"""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import MetaData, text

from server import migrations
from server.backup import all_tables
from server.config import default_config_dir
from server.journal import make_engine
from tests.server_process import ServerProcess
from tests.services import PostgresDatabase
from tests.adapters.upgrade.make_release_data import PASSWORD

DATA = Path(__file__).parent / "data"
KEPT = ("events", "passwords", "sessions", "catalog_revisions", "devices", "evaluator_sessions", "staff_changes",
        "staff_accounts")


def unpack(name: str, into: Path) -> Path:
    with tarfile.open(DATA / name) as tar:
        tar.extractall(into, filter="data")
    return into / "data"


def sqlite_rows(path: Path) -> dict[str, list[dict]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        have = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: [dict(r) for r in db.execute(f"SELECT * FROM {t}")] for t in KEPT if t in have}


def kept(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> None:
    """Every row of before is in after, with the same values in the columns it had (an upgrade
    may add columns, never change or lose a value)."""
    for table, rows in before.items():
        if not rows:
            continue
        columns = list(rows[0])
        now = {tuple(r[c] for c in columns) for r in after[table]}
        lost = [r for r in rows if tuple(r[c] for c in columns) not in now]
        assert not lost, f"{table}: {len(lost)} rows of the old code are gone or changed, e.g. {lost[0]}"


def hallq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=120)


async def serves_the_old_hall(server: ServerProcess) -> None:
    """Log in with the password set under the old code, find the revision it saved and the
    two simulated days in the statistics (rebuilt from the kept journal)."""
    async with aiohttp.ClientSession() as s:
        async with s.post(server.url + "/api/v1/auth/login", json={"username": "w01a", "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
        async with s.post(server.url + "/api/v1/auth/login", json={"username": "admin", "password": "demo"}) as r:
            admin = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with s.get(server.url + "/api/v1/halls/demo/admin/catalog", headers=admin) as r:
            catalog = await r.json()
            assert catalog["rev"] == 1 and catalog["document"]["hall"]["name"].endswith("（升级测试）")
        async with s.get(server.url + "/api/v1/halls/demo/stats?from=2026-11-26&to=2026-11-27&by=day", headers=admin) as r:
            rows = (await r.json())["rows"]
            assert sum(row["issued"] for row in rows) == 282  # what the old code's simulation issued
        async with s.get(server.url + "/api/v1/health") as r:
            health = await r.json()
            assert r.status == 200 and health["version"] and health["schema_revision"] == migrations.head()


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["v0.1.0-sqlite.tar.gz", "48be888-sqlite.tar.gz"])
async def test_an_embedded_data_directory_of_earlier_code_upgrades_serves_and_keeps_every_row(tmp_path, fixture):
    data = unpack(fixture, tmp_path)
    before = sqlite_rows(data / "hallq.sqlite3")
    assert sum(len(v) for v in before.values()) > 1600 and before["events"] and before["passwords"]

    server = ServerProcess(default_config_dir(), data, env={"HALLQ_DEMO_PASSWORD": "demo"})
    await server.start(timeout=60)
    try:
        await serves_the_old_hall(server)
    finally:
        server.stop()
    assert "database schema upgraded from the tables of before migrations to" in server.log.read_text()

    kept(before, sqlite_rows(data / "hallq.sqlite3"))
    with sqlite3.connect(data / "hallq.sqlite3") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrations.head(),)]


async def load_dump(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(gzip.decompress((DATA / "v0.1.0-postgres.sql.gz").read_bytes()).decode())
    finally:
        await conn.close()


async def pg_rows(url: str) -> dict[str, list[dict]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t}")] for t in KEPT}
    finally:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.slow
async def test_a_postgresql_database_of_the_release_is_refused_until_migrated_then_serves_every_row(tmp_path):
    db = PostgresDatabase()
    url = await db.create()
    try:
        await load_dump(url)
        before = await pg_rows(url)
        assert len(before["events"]) > 1600

        # Several workers or hosts share it: `hallq serve` does not migrate it, it says what to run.
        refused = hallq("serve", "--database", url, "--data", str(tmp_path / "d"), "--port", "1")
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "hallq migrate" in refused.stderr and "Traceback" not in refused.stderr

        done = hallq("migrate", "--database", url, "--data", str(tmp_path / "d"))
        assert done.returncode == 0, done.stderr
        assert f"upgraded from the tables of before migrations to {migrations.head()}" in done.stderr
        assert hallq("migrate", "--database", url, "--data", str(tmp_path / "d")).returncode == 0  # again: nothing to do

        server = ServerProcess(default_config_dir(), tmp_path / "d", extra=("--database", url),
                               env={"HALLQ_DEMO_PASSWORD": "demo"})
        await server.start(timeout=60)
        try:
            await serves_the_old_hall(server)
        finally:
            server.stop()
        kept(before, await pg_rows(url))
    finally:
        await db.drop()


@pytest.mark.slow
async def test_a_database_written_by_a_newer_release_is_refused_in_one_line(tmp_path):
    data = unpack("v0.1.0-sqlite.tar.gz", tmp_path)
    engine = make_engine(f"sqlite+aiosqlite:///{data / 'hallq.sqlite3'}")
    await migrations.upgrade(engine)
    await engine.dispose()
    with sqlite3.connect(data / "hallq.sqlite3") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (("serve", "--port", "1"), ("migrate",)):
        answer = hallq(*command, "--data", str(data))
        assert answer.returncode == 2
        assert answer.stderr.count("\n") == 1 and "newer release" in answer.stderr and "Traceback" not in answer.stderr


async def compare(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        await migrations.upgrade(engine)
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), models))
    finally:
        await engine.dispose()


models: MetaData = all_tables()


async def test_the_migrations_make_exactly_the_tables_of_the_code_on_sqlite(tmp_path):
    """A table or column changed in the code without its migration fails here."""
    assert await compare(f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}") == []


@pytest.mark.postgres
async def test_the_migrations_make_exactly_the_tables_of_the_code_on_postgresql():
    db = PostgresDatabase()
    url = await db.create()
    try:
        assert await compare(url.replace("postgresql://", "postgresql+asyncpg://")) == []
    finally:
        await db.drop()


async def test_a_new_database_is_made_at_the_newest_revision_and_upgrading_it_again_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'n.sqlite3'}")
    try:
        assert (await migrations.status(engine)).state == "empty"
        made = await migrations.upgrade(engine)
        assert (made.state, made.done()) == ("empty", f"database created at schema revision {migrations.head()}")
        again = await migrations.upgrade(engine)
        assert (again.state, again.current, again.done()) == ("current", migrations.head(), None)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == migrations.head()
    finally:
        await engine.dispose()
