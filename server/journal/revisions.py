"""Catalogue revisions: each hall's catalogue as administrators changed it, stored beside the journal.

The config files are revision 0 (the seed); every change made in the browser or imported is a
new revision holding the whole catalogue document, who made it, when, and the day from which
it is in force. Rows are only ever added (a revision still waiting for its day may be marked
withdrawn, never removed); `rev` is taken optimistically (primary key on hall
and rev), so two administrators saving at once cannot both win. Same SQLAlchemy Core tables
on SQLite and PostgreSQL as the events (tests/adapters runs both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, Date, Integer, String, Table, Text, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .. import migrations
from . import metadata

revisions_table = Table(
    "catalog_revisions",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("rev", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO 8601 with offset, hall time
    Column("by", String(40), nullable=False),
    Column("effective", Date, nullable=False),
    Column("summary", Text, nullable=False),
    Column("document", Text, nullable=False),  # the catalogue (HallConfig without users) as JSON
    # A revision still waiting for its day may be withdrawn: it stays, marked, and is never in force.
    Column("withdrawn_at", String(40), nullable=True),
    Column("withdrawn_by", String(40), nullable=True),
)


class RevisionConflict(Exception):
    """Another change took this revision number first: reload and decide again."""


@dataclass(frozen=True, slots=True)
class Revision:
    hall: str
    rev: int
    at: str
    by: str
    effective: date
    summary: str
    document: dict[str, Any] | None = None  # None in listings
    withdrawn_at: str | None = None
    withdrawn_by: str | None = None


class SQLRevisions:
    """Catalogue revisions on any database SQLAlchemy reaches (SQLite and PostgreSQL are tested)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history

    async def halls(self) -> set[str]:
        """The halls with any stored revision (one query for every hall, at start)."""
        t = revisions_table
        async with self.engine.connect() as conn:
            return {h for (h,) in await conn.execute(select(t.c.hall).distinct())}

    async def add(self, revision: Revision) -> None:
        """Store `revision`; RevisionConflict if its number is taken."""
        assert revision.document is not None
        row = {
            "hall": revision.hall, "rev": revision.rev, "at": revision.at, "by": revision.by, "effective": revision.effective,
            "summary": revision.summary, "document": json.dumps(revision.document, ensure_ascii=False),
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(revisions_table), [row])
        except IntegrityError:
            raise RevisionConflict(f"{revision.hall}: revision {revision.rev} exists already") from None

    async def latest(self, hall: str, withdrawn: bool = True) -> int:
        """The highest revision number (the next is this + 1); without `withdrawn`, the newest that counts."""
        t = revisions_table
        query = select(func.coalesce(func.max(t.c.rev), 0)).where(t.c.hall == hall)
        if not withdrawn:
            query = query.where(t.c.withdrawn_at.is_(None))
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def list(self, hall: str) -> list[Revision]:
        """Every revision of the hall, newest first, without documents."""
        t = revisions_table
        query = (
            select(t.c.rev, t.c.at, t.c.by, t.c.effective, t.c.summary, t.c.withdrawn_at, t.c.withdrawn_by)
            .where(t.c.hall == hall)
            .order_by(t.c.rev.desc())
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Revision(hall, r.rev, r.at, r.by, r.effective, r.summary, None, r.withdrawn_at, r.withdrawn_by) for r in rows]

    async def get(self, hall: str, rev: int) -> Revision | None:
        t = revisions_table
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(t).where(t.c.hall == hall, t.c.rev == rev))).first()
        if r is None:
            return None
        return Revision(hall, r.rev, r.at, r.by, r.effective, r.summary, json.loads(r.document), r.withdrawn_at, r.withdrawn_by)

    async def withdraw(self, hall: str, rev: int, at: str, by: str) -> bool:
        """Mark revision `rev` withdrawn; False if it is not there or withdrawn already."""
        t = revisions_table
        query = update(t).where(t.c.hall == hall, t.c.rev == rev, t.c.withdrawn_at.is_(None)).values(withdrawn_at=at, withdrawn_by=by)
        async with self.engine.begin() as conn:
            return (await conn.execute(query)).rowcount == 1

    async def in_force(self, hall: str, day: date) -> Revision | None:
        """The newest revision in force on `day` (None: the config files rule).

        Revisions are stored in the order of their days (a change may not take effect before a
        pending one), so the newest by number among those already in force is the one."""
        t = revisions_table
        query = (
            select(t.c.rev)
            .where(t.c.hall == hall, t.c.effective <= day, t.c.withdrawn_at.is_(None))
            .order_by(t.c.rev.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            rev = (await conn.execute(query)).scalar()
        return None if rev is None else await self.get(hall, int(rev))

    async def in_force_rev(self, hall: str, day: date) -> int:
        """Only the number of the revision in force (0: the config files): a cheap check."""
        t = revisions_table
        query = select(func.coalesce(func.max(t.c.rev), 0)).where(
            t.c.hall == hall, t.c.effective <= day, t.c.withdrawn_at.is_(None)
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
