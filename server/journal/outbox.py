"""The 好差评 upload outbox, stored beside the journal: one row per rating, kept until sent or refused.

A rating is put in once (its id, the ticket's, is the primary key with the hall), in the order
of the hall's journal (day, seq), in the same transaction that moves the hall's read position
(`outbox_positions`): a restart neither loses nor repeats one. The sender takes a hall's oldest
pending row only (in order per hall), and records each attempt. Same SQLAlchemy Core tables on
SQLite and PostgreSQL; created by the migrations (0003).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from . import metadata

rating_uploads = Table(
    "rating_uploads",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("rating", String(40), primary_key=True),  # the rated ticket's id: one rating per ticket
    Column("day", Date, nullable=False),  # where the rating is in the hall's journal: the order of sending
    Column("seq", Integer, nullable=False),
    Column("record", Text, nullable=False),  # hallq's rating record (server/domain/provincial.py), JSON
    Column("bad", Boolean, nullable=False),
    Column("state", String(10), nullable=False),  # pending | sent | refused
    Column("attempts", Integer, nullable=False),
    Column("next_at", String(40), nullable=True),  # ISO time of the next attempt (None: now)
    Column("last_status", Integer, nullable=True),  # the platform's last HTTP status (None: no answer)
    Column("last_error", String(200), nullable=False),
    Column("sent_at", String(40), nullable=True),
    Index("ix_rating_uploads_order", "hall", "state", "day", "seq"),
)

outbox_positions = Table(
    "outbox_positions",
    metadata,
    Column("kind", String(20), primary_key=True),  # which outbox reads the journal: "ratings", "sms"
    Column("hall", String(40), primary_key=True),
    Column("day", Date, nullable=False),
    Column("seq", Integer, nullable=False),
)


rating_returns = Table(
    "rating_returns",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("rating", String(60), primary_key=True),  # the platform's rating id: taken once
    Column("number", String(20), nullable=False),
    Column("item", String(40), nullable=False),
    Column("window", String(40), nullable=True),
    Column("score", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("rated_on", Date, nullable=False),
    Column("received_at", String(40), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Upload:
    hall: str
    rating: str
    day: date
    seq: int
    record: dict[str, Any]
    bad: bool
    state: str
    attempts: int
    next_at: datetime | None
    last_status: int | None
    last_error: str
    sent_at: str | None


def _upload(row: Any) -> Upload:
    return Upload(row.hall, row.rating, row.day, row.seq, json.loads(row.record), row.bad, row.state, row.attempts,
                  datetime.fromisoformat(row.next_at) if row.next_at else None, row.last_status, row.last_error, row.sent_at)


class Positions:
    """Where each outbox has read a hall's journal up to."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, kind: str, hall: str) -> tuple[date, int] | None:
        p = outbox_positions
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(p.c.day, p.c.seq).where(p.c.kind == kind, p.c.hall == hall))).first()
        return (row.day, row.seq) if row else None


async def _move(conn: Any, kind: str, hall: str, day: date, seq: int) -> None:
    p = outbox_positions
    where = and_(p.c.kind == kind, p.c.hall == hall)
    done = await conn.execute(update(p).where(where).values(day=day, seq=seq))
    if done.rowcount == 0:
        await conn.execute(insert(p).values(kind=kind, hall=hall, day=day, seq=seq))


class RatingUploads:
    KIND = "ratings"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.positions = Positions(engine)

    async def put(self, hall: str, found: list[tuple[date, int, str, dict[str, Any], bool]], day: date, seq: int) -> int:
        """Add the ratings found (day, seq, rating id, record, bad) that are not in yet, and move the
        hall's read position to (day, seq), in one transaction; returns how many were new."""
        t = rating_uploads
        new = 0
        async with self.engine.begin() as conn:
            if found:
                ids = [r for _, _, r, _, _ in found]
                have = set((await conn.execute(select(t.c.rating).where(t.c.hall == hall, t.c.rating.in_(ids)))).scalars())
                rows = [
                    {"hall": hall, "rating": r, "day": d, "seq": s, "record": json.dumps(rec, ensure_ascii=False), "bad": bad,
                     "state": "pending", "attempts": 0, "next_at": None, "last_status": None, "last_error": "", "sent_at": None}
                    for d, s, r, rec, bad in found if r not in have
                ]
                if rows:
                    await conn.execute(insert(t), rows)
                new = len(rows)
            await _move(conn, self.KIND, hall, day, seq)
        return new

    async def head(self, hall: str) -> Upload | None:
        """The hall's oldest pending rating: the only one the sender may try (in order per hall)."""
        t = rating_uploads
        query = select(t).where(t.c.hall == hall, t.c.state == "pending").order_by(t.c.day, t.c.seq).limit(1)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _upload(row) if row else None

    async def record_attempt(self, u: Upload, state: str, status: int | None, error: str, next_at: datetime | None,
                             sent_at: str | None) -> None:
        t = rating_uploads
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t).where(t.c.hall == u.hall, t.c.rating == u.rating, t.c.state == "pending").values(
                    state=state, attempts=u.attempts + 1, last_status=status, last_error=error[:200],
                    next_at=next_at.isoformat() if next_at else None, sent_at=sent_at))

    async def record_of(self, hall: str, rating: str) -> dict[str, Any] | None:
        t = rating_uploads
        async with self.engine.connect() as conn:
            found = (await conn.execute(select(t.c.record).where(t.c.hall == hall, t.c.rating == rating))).scalar()
        return None if found is None else json.loads(found)

    async def put_returned(self, hall: str, found: list[Any], at: str) -> int:
        """Bad ratings the platform sent back (server/domain/provincial.Returned), each once."""
        r = rating_returns
        if not found:
            return 0
        async with self.engine.begin() as conn:
            have = set((await conn.execute(select(r.c.rating).where(r.c.hall == hall, r.c.rating.in_([x.rating_id for x in found])))).scalars())
            rows = [{"hall": hall, "rating": x.rating_id, "number": x.number, "item": x.item, "window": x.window, "score": x.score,
                     "comment": x.comment, "rated_on": x.rated_on, "received_at": at} for x in found if x.rating_id not in have]
            if rows:
                await conn.execute(insert(r), rows)
        return len(rows)

    async def counts(self, hall: str) -> dict[str, int]:
        t = rating_uploads
        query = select(t.c.state, func.count()).where(t.c.hall == hall).group_by(t.c.state)
        async with self.engine.connect() as conn:
            found = dict((await conn.execute(query)).all())
        return {s: int(found.get(s, 0)) for s in ("pending", "sent", "refused")}

    async def listed(self, hall: str, state: str, limit: int = 50) -> list[Upload]:
        """The newest `limit` rows in this state (the dashboard's panel)."""
        t = rating_uploads
        query = select(t).where(t.c.hall == hall, t.c.state == state).order_by(t.c.day.desc(), t.c.seq.desc()).limit(limit)
        async with self.engine.connect() as conn:
            return [_upload(r) for r in (await conn.execute(query)).all()]
