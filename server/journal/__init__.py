"""The journal: each hall-day's events, appended in order at an expected position, never changed.

One implementation over SQLAlchemy Core serves SQLite (embedded default; WAL with
synchronous=FULL, so an append that returned is on disk) and PostgreSQL (several workers or
hosts). The same conformance suite (tests/adapters) runs against both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import Unavailable as Unavailable
from .engine import is_database_fault as is_database_fault
from .engine import is_timeout as is_timeout
from .engine import make_engine as make_engine
from .engine import sqlite_write_probe

from .. import migrations

metadata = MetaData()

events_table = Table(
    "events",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("data", Text, nullable=False),
)


class SequenceConflict(Exception):
    """Another writer appended at the expected position first: catch up and decide again."""


@dataclass(frozen=True, slots=True)
class Stored:
    seq: int
    data: dict[str, Any]


def _decode(rows: Sequence[Any]) -> list[Stored]:
    return [Stored(seq, json.loads(data)) for seq, data in rows]


class Journal(Protocol):
    async def append(self, hall: str, day: date, expected: int, events: Sequence[dict[str, Any]]) -> None:
        """Store `events` as seq expected+1, expected+2 … atomically, or raise SequenceConflict."""

    async def read(self, hall: str, day: date, since: int = 0, types: Collection[str] | None = None) -> list[Stored]:
        """The events of one hall-day after `since`, in order (only these `types`, if given)."""

    async def last_seq(self, hall: str, day: date) -> int: ...

    async def check_writable(self) -> None:
        """Write to the journal's storage and keep nothing; raises Unavailable when it cannot."""

    async def close(self) -> None: ...


def database_url(data_dir: Path | None, url: str | None) -> str:
    """An async SQLAlchemy URL: the given one (postgresql:// gets asyncpg) or SQLite in data_dir."""
    if url:
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+asyncpg://" + url[len(plain):]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
        return url
    assert data_dir is not None
    return f"sqlite+aiosqlite:///{data_dir / 'hallq.sqlite3'}"


class SQLJournal:
    """The journal on any SQL database SQLAlchemy reaches (SQLite and PostgreSQL are tested)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history

    async def append(self, hall: str, day: date, expected: int, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        rows = [
            {"hall": hall, "day": day, "seq": expected + n, "type": e["type"], "data": json.dumps(e, ensure_ascii=False)}
            for n, e in enumerate(events, start=1)
        ]
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(events_table), rows)
        except IntegrityError:
            raise SequenceConflict(f"{hall} {day}: position {expected + 1} is taken") from None

    async def read(self, hall: str, day: date, since: int = 0, types: Collection[str] | None = None) -> list[Stored]:
        t = events_table
        query = select(t.c.seq, t.c.data).where(t.c.hall == hall, t.c.day == day, t.c.seq > since).order_by(t.c.seq)
        if types is not None:
            query = query.where(t.c.type.in_(sorted(types)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        if len(rows) > 500:  # a long catch-up: decode off the event loop, so the hall is not held up
            return await asyncio.to_thread(_decode, rows)
        return _decode(rows)

    async def last_seq(self, hall: str, day: date) -> int:
        t = events_table
        query = select(func.coalesce(func.max(t.c.seq), 0)).where(t.c.hall == hall, t.c.day == day)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def check_writable(self) -> None:
        async with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # A rolled-back write never reaches an SQLite file: commit one that changes nothing.
                raw = await conn.get_raw_connection()
                await conn.run_sync(lambda _sync: sqlite_write_probe(raw.dbapi_connection))
            else:
                # A row no hall can have (hall ids are never empty, positions start at 1), never
                # committed: a read-only server (a standby after failover, read-only transactions)
                # refuses the insert itself.
                async with conn.begin() as tx:
                    await conn.execute(insert(events_table).values(hall="", day=date(1970, 1, 1), seq=0, type="", data=""))
                    await tx.rollback()

    async def close(self) -> None:
        await self.engine.dispose()

    async def days(self, hall: str, start: date, end: date, types: Collection[str] | None = None) -> dict[date, int]:
        """The hall-days in [start, end] that hold events (of these `types`, if given), each with
        the last seq of such an event (statistics, audits, the day change)."""
        t = events_table
        query = (
            select(t.c.day, func.max(t.c.seq))
            .where(t.c.hall == hall, t.c.day >= start, t.c.day <= end)
            .group_by(t.c.day)
        )
        if types is not None:
            query = query.where(t.c.type.in_(sorted(types)))
        async with self.engine.connect() as conn:
            return {d: int(s) for d, s in await conn.execute(query)}
