"""Migration 0003 (the outboxes) on a database of the previous release (revision 0002) holding a
hall's day: it upgrades, keeps every event, and the upload outbox works on it (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from server import migrations
from server.journal import SQLJournal, make_engine
from server.journal.outbox import RatingUploads
from tests.services import PostgresDatabase

DAY = date(2026, 11, 24)
EVENTS = [
    {"type": "ticket_issued", "at": "2026-11-24T09:00:00+08:00", "by": "kiosk", "ticket": "tk1", "number": "A001", "item": "a1",
     "channel": "kiosk"},
    {"type": "ticket_evaluated", "at": "2026-11-24T09:20:00+08:00", "by": "holder", "ticket": "tk1", "window": "w1", "score": 2,
     "comment": "慢"},
]


def _to(conn, target: str) -> None:  # type: ignore[no-untyped-def]
    script = migrations._script()
    context = MigrationContext.configure(conn, opts={"fn": lambda rev, _c: script._upgrade_revs(target, rev)})
    with Operations.context(context):
        context.run_migrations()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def url(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
        return
    db = PostgresDatabase()
    made = await db.create()
    try:
        yield made.replace("postgresql://", "postgresql+asyncpg://")
    finally:
        await db.drop()


async def test_a_database_at_revision_0002_upgrades_keeps_its_events_and_takes_ratings(url):
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0002")
        journal = SQLJournal(engine)
        await journal.append("t", DAY, 0, EVENTS)  # what the previous release wrote
        found = await migrations.status(engine)
        assert (found.state, found.current) == ("behind", "0002")
        async with engine.connect() as conn:
            assert "rating_uploads" not in await conn.run_sync(lambda c: inspect(c).get_table_names())

        done = await migrations.upgrade(engine)
        assert done.done() == f"database schema upgraded from 0002 to {migrations.head()}"
        assert [s.data for s in await journal.read("t", DAY)] == EVENTS
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == migrations.head()

        store = RatingUploads(engine)
        assert await store.counts("t") == {"pending": 0, "sent": 0, "refused": 0}
        assert await store.put("t", [(DAY, 2, "r1", {"score": 2}, True)], DAY, 2) == 1
        assert await store.put("t", [(DAY, 2, "r1", {"score": 2}, True)], DAY, 2) == 0  # once per rating
        assert await store.positions.get("ratings", "t") == (DAY, 2)
        head = await store.head("t")
        assert head is not None and (head.rating, head.bad, head.record) == ("r1", True, {"score": 2})
    finally:
        migrations._current.discard(engine.url.render_as_string(hide_password=False))
        await engine.dispose()
