"""The journal: each hall-day's events, appended in order at an expected position, never changed.

One implementation over SQLAlchemy Core serves SQLite (embedded default; WAL with
synchronous=FULL, so an append that returned is on disk) and PostgreSQL (several workers or
hosts). The same conformance suite (tests/conformance) runs against both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


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
