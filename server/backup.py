"""`hallq backup` and `hallq restore`: a hall's whole data as one archive, made while it serves.

The archive (a .tar.gz) holds `manifest.json` (release, schema revision, what kind of copy),
the keys the data needs to be read back (`keys/phone.key`: phone numbers are stored only as
hashes keyed by it), and the data itself:
- SQLite (the embedded default): `hallq.sqlite3`, a consistent copy made by SQLite's online
  backup API, which a serving hall's WAL writes do not disturb;
- PostgreSQL: `tables/<table>.jsonl`, every row of every table read in one REPEATABLE READ
  transaction (one consistent moment), restored through the same SQLAlchemy tables.
Restore goes only into an empty data directory or an empty database, never over a hall's data.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import __version__, migrations
from .hall.booking import SECRET_ENV
from .journal import database_url, make_engine

FORMAT = 1
LONG_S = 3600.0  # a whole hall is read or written in one block: not a request's deadline
SQLITE_FILE = "hallq.sqlite3"
KEY_FILE = "phone.key"


class BackupError(Exception):
    """Said to the operator in one line."""


def all_tables() -> MetaData:
    """Every table of the current schema, from the modules that own them."""
    from .auth import metadata as accounts
    from .auth.devices import metadata as devices
    from .auth.evaluators import metadata as evaluators
    from .journal import calendar as _calendar, metadata as journal, outbox as _outbox, revisions as _revisions, sms as _sms  # noqa: F401 (tables)
    from .stats.store import metadata as stats

    merged = MetaData()
    for md in (journal, accounts, devices, evaluators, stats):
        for table in md.tables.values():
            table.to_metadata(merged)
    return merged


def _key(data_dir: Path) -> bytes | None:
    env = os.environ.get(SECRET_ENV)
    if env:
        return env.encode()
    path = data_dir / KEY_FILE
    return path.read_bytes().strip() if path.exists() else None


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page under a read transaction: one consistent moment, writers go on
    finally:
        dst.close()
        src.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return {"$t": value.isoformat(), "$k": "datetime" if isinstance(value, datetime) else "date"}
    if isinstance(value, (bytes, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if value.get("$k") == "datetime":
            return datetime.fromisoformat(value["$t"])
        if value.get("$k") == "date":
            return date.fromisoformat(value["$t"])
    return value


async def _dump_tables(engine: AsyncEngine, tar: tarfile.TarFile) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")  # every table at one moment
        for table in all_tables().sorted_tables:
            rows = (await conn.execute(select(table))).mappings().all()
            lines = "".join(json.dumps({k: _jsonable(v) for k, v in r.items()}, ensure_ascii=False) + "\n" for r in rows)
            _add(tar, f"tables/{table.name}.jsonl", lines.encode())
            counts[table.name] = len(rows)
    return counts


async def backup(data_dir: Path, database: str | None, file: Path) -> dict[str, Any]:
    url = database_url(data_dir, database)
    engine = make_engine(url, timeout_s=LONG_S)
    try:
        found = await migrations.status(engine)
        if found.state in ("empty", "ahead"):
            raise BackupError(f"nothing to back up at {url.split('@')[-1]}" if found.state == "empty" else
                              f"the database was written by a newer hallq (schema {found.current}): back it up with that release")
        manifest: dict[str, Any] = {"format": FORMAT, "hallq": __version__, "schema": found.current,
                                    "made_at": datetime.now().astimezone().isoformat(timespec="seconds")}
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(file.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the phone key
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            if url.startswith("sqlite"):
                manifest["kind"] = "sqlite"
                with tempfile.TemporaryDirectory() as tmp:
                    copy = Path(tmp) / SQLITE_FILE
                    await asyncio.to_thread(_copy_sqlite, _sqlite_path(url), copy)
                    tar.add(copy, SQLITE_FILE)
            else:
                manifest["kind"] = "tables"
                manifest["rows"] = await _dump_tables(engine, tar)
            key = _key(data_dir)
            if key is not None:
                _add(tar, f"keys/{KEY_FILE}", key)
            manifest["keys"] = [KEY_FILE] if key is not None else []
            _add(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        os.replace(partial, file)
        return manifest
    finally:
        await engine.dispose()


def _member(tar: tarfile.TarFile, name: str) -> bytes | None:
    try:
        f = tar.extractfile(name)
    except KeyError:
        return None
    return f.read() if f is not None else None


async def restore(data_dir: Path, database: str | None, file: Path) -> dict[str, Any]:
    try:
        tar = tarfile.open(file, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{file}: not a hallq backup ({exc.__class__.__name__})") from None
    with tar:
        raw = _member(tar, "manifest.json")
        manifest = json.loads(raw) if raw else None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{file}: not a hallq backup of format {FORMAT}")
        url = database_url(data_dir, database)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(url, timeout_s=LONG_S)
        try:
            if (await migrations.status(engine)).state != "empty":
                raise BackupError(f"the target already holds data ({url.split('@')[-1]}): restore only into an empty "
                                  "data directory or database")
            if manifest["kind"] == "sqlite":
                data = _member(tar, SQLITE_FILE)
                if data is None:
                    raise BackupError(f"{file}: the database copy is missing")
                if url.startswith("sqlite"):
                    await engine.dispose()
                    target = _sqlite_path(url)
                    target.unlink(missing_ok=True)
                    target.write_bytes(data)
                    os.chmod(target, 0o600)
                else:
                    await _sqlite_into(engine, data)
            else:
                if manifest.get("schema") != migrations.head():
                    raise BackupError(f"this backup has schema {manifest.get('schema')}; restore it with the release that "
                                      f"made it ({manifest.get('hallq')}), then upgrade with `hallq migrate`")
                await migrations.upgrade(engine)
                async with engine.begin() as conn:
                    for table in all_tables().sorted_tables:
                        if table.name == "stat_meta":
                            await conn.execute(table.delete())
                        lines = (_member(tar, f"tables/{table.name}.jsonl") or b"").decode().splitlines()
                        rows = [{k: _from_json(v) for k, v in json.loads(line).items()} for line in lines if line]
                        if rows:
                            await conn.execute(insert(table), rows)
            key = _member(tar, f"keys/{KEY_FILE}")
            if key is not None:
                fd = os.open(data_dir / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(key)
        finally:
            await engine.dispose()
    engine = make_engine(url, timeout_s=LONG_S)
    try:
        found = await migrations.upgrade(engine)  # a backup of an older release comes up to this one
    finally:
        await engine.dispose()
    return {**manifest, "upgraded": found.done()}


async def _sqlite_into(engine: AsyncEngine, data: bytes) -> None:
    """A SQLite backup restored into PostgreSQL (moving a hall to a bigger deployment)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SQLITE_FILE
        path.write_bytes(data)
        source = make_engine(f"sqlite+aiosqlite:///{path}", timeout_s=LONG_S)
        try:
            await migrations.upgrade(source)
            await migrations.upgrade(engine)
            async with source.connect() as src, engine.begin() as dst:
                for table in all_tables().sorted_tables:
                    rows = [dict(r) for r in (await src.execute(select(table))).mappings().all()]
                    if table.name == "stat_meta":
                        await dst.execute(table.delete())
                    if rows:
                        await dst.execute(insert(table), rows)
        finally:
            await source.dispose()


def main(args: argparse.Namespace) -> int:
    try:
        if args.command == "backup":
            m = asyncio.run(backup(args.data, args.database, args.file))
            print(f"backup written to {args.file}: hallq {m['hallq']}, schema {m['schema']}, {m['kind']}"
                  + (", with the phone key" if m["keys"] else ", no phone key (none made yet)")
                  + ". It holds the key: keep it where only operators can read it.")
        else:
            m = asyncio.run(restore(args.data, args.database, args.file))
            print(f"restored {args.file} (hallq {m['hallq']}, made {m['made_at']}) into "
                  f"{args.database.split('@')[-1] if args.database else args.data}"
                  + (f"; {m['upgraded']}" if m.get("upgraded") else ""))
        return 0
    except (BackupError, migrations.SchemaError) as exc:
        print(f"hallq: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hallq: {exc}", file=sys.stderr)
        return 2


__all__ = ["BackupError", "all_tables", "backup", "restore"]
