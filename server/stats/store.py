"""The derived tables: each closed hall-day's facts and groups, stored beside the journal.

Derived means rebuildable: every row here is computed from the journal's events by
server/stats/facts.py and can be dropped and built again (`VERSION` names the rules that
built a row; a row of another version is rebuilt on the next query). The journal stays the
only source of truth; these tables exist so that a query over a quarter reads a few
thousand pre-grouped rows instead of millions of events.

- `stat_days`: which hall-days are built, up to which journal position, with which rules;
- `stat_groups`: per day, dimension and key, the counts and window seconds (one column each,
  so the database sums them) and the raw waiting and service times (packed little-endian
  float64 arrays, sorted, so that percentiles over any period stay exact);
- `stat_tickets`: one row per ticket (for audits, exports and cross-day case tracking);
- `stat_window_hours`: per day, window, clerk and hour, the window's seconds by state;
- `stat_ledger`: the events about earlier days' tickets (promised cases concluded, steps of
  the bad-review loop), so that open cases and reviews are found without reading every day.
"""

from __future__ import annotations

import json
import sys
import time
from array import array
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,

    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .. import migrations
from .facts import WINDOW_TIMES, DayResult
from .rollup import COUNTS, Group, Groups

_KNOWN = frozenset(COUNTS)

VERSION = 5  # 4: the channel dimension and the appointment counts; 5: ratings credit every part, late ratings

metadata = MetaData()

stat_meta = Table("stat_meta", metadata, Column("version", Integer, primary_key=True, autoincrement=False))

stat_days = Table(
    "stat_days",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("built_at", Float, nullable=False),
)

stat_groups = Table(
    "stat_groups",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("dim", String(12), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("key", String(60), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in COUNTS),
    *(Column(name, Float, nullable=False, default=0.0) for name in WINDOW_TIMES),
    Column("extra", Text, nullable=True),  # counts of kinds unknown to this version (JSON), normally none
    Column("n_waits", Integer, nullable=False),
    Column("n_services", Integer, nullable=False),
    Column("waits", LargeBinary, nullable=False),
    Column("services", LargeBinary, nullable=False),
)

stat_tickets = Table(
    "stat_tickets",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("ticket", String(40), primary_key=True),
    Column("number", String(10), nullable=False),
    Column("item_issued", String(40), nullable=False),
    Column("item", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("priority", Boolean, nullable=False),
    Column("appointment", Boolean, nullable=False),
    Column("status", String(12), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("first_called_at", DateTime(timezone=True)),
    Column("first_window", String(40)),
    Column("first_clerk", String(40)),
    Column("ended_at", DateTime(timezone=True)),
    Column("window", String(40)),
    Column("clerk", String(40)),
    Column("wait_s", Float),
    Column("service_s", Float),
    Column("transfers", Integer, nullable=False),
    Column("requeues", Integer, nullable=False),
    Column("recalls", Integer, nullable=False),
    Column("case_type", String(12)),
    Column("outcome", String(20)),
    Column("deadline", Date),
    Column("score", Integer),
    Column("comment", Text),
)
Index("stat_tickets_cases", stat_tickets.c.hall, stat_tickets.c.case_type, stat_tickets.c.deadline)
Index("stat_tickets_scores", stat_tickets.c.hall, stat_tickets.c.score)

stat_ledger = Table(
    "stat_ledger",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("ticket", String(40), nullable=False),
    Column("data", Text, nullable=False),
)

stat_window_hours = Table(
    "stat_window_hours",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("window", String(40), primary_key=True),
    Column("clerk", String(40), primary_key=True),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    *(Column(name, Float, nullable=False) for name in WINDOW_TIMES),
)


def _pack(values: array) -> bytes:
    if sys.byteorder == "big":  # stored little-endian everywhere
        values = array("d", values)
        values.byteswap()
    return values.tobytes()


def _unpack(raw: bytes) -> array:
    values = array("d")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _reset_if_other_version(conn: Connection) -> None:
    """Rows made by another VERSION are deleted: they are derived, the next queries (and the
    background builder) fill the tables again from the journal. The tables themselves come
    from the migrations (server/migrations), like every other table."""
    current = conn.execute(select(stat_meta.c.version)).scalar()
    if current != VERSION:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))
        conn.execute(insert(stat_meta).values(version=VERSION))


async def create(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_reset_if_other_version)


def _ticket_row(hall: str, day: date, t: Any) -> dict[str, Any]:
    return {
        "hall": hall,
        "day": day,
        "ticket": t.ticket,
        "number": t.number,
        "item_issued": t.item_issued,
        "item": t.item,
        "channel": t.channel,
        "priority": t.priority,
        "appointment": t.appointment,
        "status": t.status,
        "issued_at": t.issued_at,
        "first_called_at": t.first_called_at,
        "first_window": t.first_window,
        "first_clerk": t.first_clerk,
        "ended_at": t.ended_at,
        "window": t.window,
        "clerk": t.clerk,
        "wait_s": t.wait_s,
        "service_s": t.service_s if t.started_at is not None else None,
        "transfers": t.transfers,
        "requeues": t.requeues,
        "recalls": t.recalls,
        "case_type": t.case_type,
        "outcome": t.outcome,
        "deadline": t.deadline,
        "score": t.score,
        "comment": t.comment or None,
    }


async def save_day(conn: AsyncConnection, result: DayResult, groups: Groups) -> None:
    """Replace whatever was derived for this hall-day (in the caller's transaction)."""
    hall, day = result.hall, result.day
    for table in (stat_groups, stat_tickets, stat_window_hours, stat_ledger, stat_days):
        await conn.execute(delete(table).where(table.c.hall == hall, table.c.day == day))
    rows = []
    for dim, keys in groups.items():
        for key, g in keys.items():
            extra = {k: v for k, v in g.counts.items() if v and k not in _KNOWN}
            rows.append(
                {
                    "hall": hall,
                    "dim": dim,
                    "day": day,
                    "key": key,
                    **{name: g.counts[name] for name in COUNTS},
                    **dict(zip(WINDOW_TIMES, g.times)),
                    "extra": json.dumps(extra, separators=(",", ":")) if extra else None,
                    "n_waits": len(g.waits),
                    "n_services": len(g.services),
                    # Sorted, so that many days' values are sorted runs.
                    "waits": _pack(array("d", sorted(g.waits))),
                    "services": _pack(array("d", sorted(g.services))),
                }
            )
    if rows:
        await conn.execute(insert(stat_groups), rows)
    tickets = [_ticket_row(hall, day, t) for t in result.tickets]
    for n in range(0, len(tickets), 2000):
        await conn.execute(insert(stat_tickets), tickets[n : n + 2000])
    hours = [
        {"hall": hall, "day": day, "window": w, "clerk": clerk, "hour": hour, **dict(zip(WINDOW_TIMES, secs))}
        for (w, clerk, hour), secs in result.window_hours.items()
    ]
    if hours:
        await conn.execute(insert(stat_window_hours), hours)
    ledger = [
        {"hall": hall, "day": day, "seq": seq, "type": e["type"], "ticket": e["ticket"], "data": json.dumps(e, ensure_ascii=False)}
        for seq, e in result.ledger
    ]
    if ledger:
        await conn.execute(insert(stat_ledger), ledger)
    await conn.execute(
        insert(stat_days).values(hall=hall, day=day, version=VERSION, last_seq=result.last_seq, built_at=time.time())
    )


async def mark_empty(conn: AsyncConnection, hall: str, days: list[date]) -> None:
    """Record past days without events, so they are not looked for again."""
    if days:
        await conn.execute(delete(stat_days).where(stat_days.c.hall == hall, stat_days.c.day.in_(days)))
        await conn.execute(
            insert(stat_days), [{"hall": hall, "day": d, "version": VERSION, "last_seq": 0, "built_at": time.time()} for d in days]
        )


async def built_days(engine: AsyncEngine, hall: str, start: date, end: date) -> dict[date, tuple[int, int]]:
    """day -> (version, last_seq) of the days built in [start, end]."""
    t = stat_days
    query = select(t.c.day, t.c.version, t.c.last_seq).where(t.c.hall == hall, t.c.day >= start, t.c.day <= end)
    async with engine.connect() as conn:
        return {d: (v, s) for d, v, s in await conn.execute(query)}


async def load_groups(
    engine: AsyncEngine, hall: str, dims: tuple[str, ...], start: date, end: date, values: frozenset[str] | None = None
) -> Groups:
    """The stored groups of these dimensions over [start, end], summed across days by the
    database; the raw times only for the dimensions in `values` (default: all)."""
    t = stat_groups
    out: Groups = {d: {} for d in dims}
    where = (t.c.hall == hall, t.c.dim.in_(dims), t.c.day >= start, t.c.day <= end)
    sums = select(
        t.c.dim, t.c.key, *(func.sum(t.c[n]) for n in (*COUNTS, *WINDOW_TIMES, "n_waits", "n_services"))
    ).where(*where).group_by(t.c.dim, t.c.key)
    wanted = tuple(d for d in dims if values is None or d in values)
    async with engine.connect() as conn:
        for dim, key, *figures in await conn.execute(sums):
            g = out[dim][key] = Group()
            g.counts.update({n: int(v) for n, v in zip(COUNTS, figures) if v})
            g.times = [float(v or 0.0) for v in figures[len(COUNTS) : len(COUNTS) + len(WINDOW_TIMES)]]
            g.n_waits, g.n_services = int(figures[-2] or 0), int(figures[-1] or 0)
        for dim, key, extra in await conn.execute(select(t.c.dim, t.c.key, t.c.extra).where(*where, t.c.extra.is_not(None))):
            out[dim][key].counts.update(json.loads(extra))
        if wanted:
            blobs: dict[tuple[str, str], tuple[list[bytes], list[bytes]]] = {}
            query = select(t.c.dim, t.c.key, t.c.waits, t.c.services).where(
                t.c.hall == hall, t.c.dim.in_(wanted), t.c.day >= start, t.c.day <= end
            )
            for dim, key, waits, services in await conn.execute(query):
                w, s = blobs.setdefault((dim, key), ([], []))
                w.append(waits)
                s.append(services)
            for (dim, key), (w, s) in blobs.items():
                g = out[dim][key]
                g.waits, g.services = _unpack(b"".join(w)), _unpack(b"".join(s))
    return out
