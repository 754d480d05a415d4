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


@dataclass(slots=True)
class _Append:
    hall: str
    day: date
    expected: int
    rows: list[dict[str, Any]]
    done: asyncio.Future[None]


class SQLJournal:
    """The journal on any SQL database SQLAlchemy reaches (SQLite and PostgreSQL are tested).

    Group commit across halls: appends that arrive while a transaction is on its way to disk
    wait and go together in the next one, whichever halls they are for, so one commit (one
    fsync) serves many halls' writers. Each append keeps its own expected position: the batch
    is inserted at once, and only if a position is taken is it inserted again one append at a
    time, each in a savepoint, so the one that lost the race hears SequenceConflict and the
    others are stored all the same.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._waiting: list[_Append] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0  # transactions that stored appends (tests, benchmarks)
        self.redone = 0  # batches a taken position made redo one append at a time

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history

    async def append(self, hall: str, day: date, expected: int, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        rows = [
            {"hall": hall, "day": day, "seq": expected + n, "type": e["type"], "data": json.dumps(e, ensure_ascii=False)}
            for n, e in enumerate(events, start=1)
        ]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Append(hall, day, expected, rows, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="journal-group-commit")
        await asyncio.shield(done)  # a cancelled writer's append is stored or refused all the same

    async def _flush(self) -> None:
        while self._waiting:
            # One append per stream in a transaction: two on one hall-day would race for its
            # position inside the batch, and their writers would hear of it only together.
            batch, later, streams = [], [], set()
            for a in self._waiting:
                (later if (a.hall, a.day) in streams else batch).append(a)
                streams.add((a.hall, a.day))
            self._waiting = later
            try:
                refused = await self._store(batch)
            except BaseException as exc:
                for a in batch:
                    if not a.done.done():
                        a.done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for a in batch:
                if a.done.done():
                    continue
                if id(a) in refused:
                    a.done.set_exception(SequenceConflict(f"{a.hall} {a.day}: position {a.expected + 1} is taken"))
                else:
                    a.done.set_result(None)

    async def _store(self, batch: list[_Append]) -> set[int]:
        """Store the batch in one transaction; returns the appends refused (position taken)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(events_table), [row for a in batch for row in a.rows])
            self.commits += 1
            return set()
        except IntegrityError:
            if len(batch) == 1:
                return {id(batch[0])}
        refused: set[int] = set()
        self.redone += 1
        async with self.engine.begin() as conn:  # one at a time: which of them lost the race
            for a in batch:
                try:
                    async with conn.begin_nested():
                        await conn.execute(insert(events_table), a.rows)
                except IntegrityError:
                    refused.add(id(a))
        self.commits += 1
        return refused

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

    async def read_halls(self, day: date, since: dict[str, int]) -> dict[str, list[Stored]]:
        """The events of many halls' `day` after each one's position in `since`, in one query
        (the region's table of a province)."""
        if not since:
            return {}
        t = events_table
        low = min(since.values())
        query = (select(t.c.hall, t.c.seq, t.c.data)
                 .where(t.c.day == day, t.c.hall.in_(sorted(since)), t.c.seq > low).order_by(t.c.hall, t.c.seq))
        async with self.engine.connect() as conn:
            rows = [(h, seq, data) for h, seq, data in (await conn.execute(query)).all() if seq > since[h]]
        out: dict[str, list[Stored]] = {}
        for h, seq, data in rows:
            out.setdefault(h, []).append(Stored(seq, json.loads(data)))
        return out

    async def halls_since(self, start: date) -> set[str]:
        """The halls with events on `start` or later (one query for every hall, at start: the
        others have nothing to load or close out)."""
        t = events_table
        async with self.engine.connect() as conn:
            return {h for (h,) in await conn.execute(select(t.c.hall).where(t.c.day >= start).distinct())}

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
        if self._flusher is not None:
            try:
                await self._flusher
            except BaseException:  # noqa: BLE001 - its appenders heard of it
                pass
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
