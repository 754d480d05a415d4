"""One suite, every journal: SQLite (embedded) and PostgreSQL keep the same promises."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from server.journal import SequenceConflict, SQLJournal, events_table, make_engine
from tests.services import postgres_url

DAY = date(2026, 11, 25)


async def _postgres() -> SQLJournal:
    journal = SQLJournal(make_engine(await postgres_url()))
    await journal.create()
    return journal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def journal(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        j = SQLJournal(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}"))
        await j.create()
    else:
        j = await _postgres()
    yield j
    await j.close()


@pytest.fixture
def hall() -> str:
    return "h" + uuid.uuid4().hex[:12]  # a fresh stream, so a shared PostgreSQL needs no cleaning


def ev(n: int, text: str = "") -> dict:
    return {"type": "ticket_issued", "n": n, "text": text}


async def test_appended_events_read_back_in_order_with_their_positions(journal, hall):
    await journal.append(hall, DAY, 0, [ev(1), ev(2)])
    await journal.append(hall, DAY, 2, [ev(3, "请到5号窗口办理")])
    stored = await journal.read(hall, DAY)
    assert [s.seq for s in stored] == [1, 2, 3]
    assert [s.data["n"] for s in stored] == [1, 2, 3]
    assert stored[2].data["text"] == "请到5号窗口办理"
    assert [s.seq for s in await journal.read(hall, DAY, since=2)] == [3]
    assert await journal.last_seq(hall, DAY) == 3


async def test_an_append_at_a_taken_position_conflicts_and_stores_nothing(journal, hall):
    await journal.append(hall, DAY, 0, [ev(1), ev(2)])
    with pytest.raises(SequenceConflict):
        await journal.append(hall, DAY, 1, [ev(20), ev(30), ev(40)])  # 2 is taken; 3 and 4 must not land either
    assert [s.data["n"] for s in await journal.read(hall, DAY)] == [1, 2]


async def test_of_concurrent_appends_at_one_position_exactly_one_wins(journal, hall):
    results = await asyncio.gather(*(journal.append(hall, DAY, 0, [ev(i), ev(i)]) for i in range(8)), return_exceptions=True)
    winners = [r for r in results if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, SequenceConflict) for r in results if r is not None)
    stored = await journal.read(hall, DAY)
    assert len(stored) == 2 and stored[0].data["n"] == stored[1].data["n"]


async def test_halls_and_days_are_separate_streams(journal, hall):
    other = hall + "x"
    await journal.append(hall, DAY, 0, [ev(1)])
    await journal.append(other, DAY, 0, [ev(2)])
    await journal.append(hall, date(2026, 11, 26), 0, [ev(3)])
    assert [s.data["n"] for s in await journal.read(hall, DAY)] == [1]
    assert [s.data["n"] for s in await journal.read(other, DAY)] == [2]
    assert await journal.last_seq(hall, date(2026, 11, 27)) == 0


async def test_an_empty_append_is_a_no_op(journal, hall):
    await journal.append(hall, DAY, 0, [])
    assert await journal.read(hall, DAY) == []


async def test_a_read_can_ask_for_some_types_only(journal, hall):
    await journal.append(hall, DAY, 0, [ev(1), {"type": "alert_raised", "n": 2}, ev(3), {"type": "alert_cleared", "n": 4}])
    got = await journal.read(hall, DAY, 1, types={"alert_raised", "alert_cleared"})
    assert [(s.seq, s.data["type"]) for s in got] == [(2, "alert_raised"), (4, "alert_cleared")]


# -- catalogue revisions (server/journal/revisions.py), on the same backends -------------------
from server.journal.revisions import Revision, RevisionConflict, SQLRevisions  # noqa: E402


@pytest.fixture
async def revisions(journal):  # type: ignore[no-untyped-def]
    store = SQLRevisions(journal.engine)
    await store.create()
    return store


def rev(hall: str, n: int, effective: date, by: str = "admin") -> Revision:
    return Revision(hall, n, "2026-11-25T09:00:00+08:00", by, effective, f"change {n}", {"n": n, "name": "综合窗口"})


async def test_revisions_read_back_with_who_when_and_document(revisions, hall):
    assert await revisions.latest(hall) == 0
    assert await revisions.in_force(hall, DAY) is None
    await revisions.add(rev(hall, 1, DAY))
    await revisions.add(rev(hall, 2, date(2026, 12, 1), by="boss"))
    assert await revisions.latest(hall) == 2
    listed = await revisions.list(hall)
    assert [(r.rev, r.by, r.effective, r.document) for r in listed] == [(2, "boss", date(2026, 12, 1), None), (1, "admin", DAY, None)]
    got = await revisions.get(hall, 1)
    assert got is not None and got.document == {"n": 1, "name": "综合窗口"} and got.summary == "change 1"


async def test_the_revision_in_force_is_the_newest_whose_day_has_come(revisions, hall):
    await revisions.add(rev(hall, 1, DAY))
    await revisions.add(rev(hall, 2, date(2026, 12, 1)))
    assert (await revisions.in_force(hall, DAY)).rev == 1  # type: ignore[union-attr]
    assert await revisions.in_force_rev(hall, date(2026, 11, 30)) == 1
    assert (await revisions.in_force(hall, date(2026, 12, 1))).rev == 2  # type: ignore[union-attr]
    assert await revisions.in_force_rev(hall, date(2026, 11, 24)) == 0


async def test_of_two_changes_taking_one_revision_number_exactly_one_wins(revisions, hall):
    results = await asyncio.gather(*(revisions.add(rev(hall, 1, DAY, by=f"u{n}")) for n in range(4)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, RevisionConflict) for r in results if r is not None)
    assert len(await revisions.list(hall)) == 1


async def test_a_withdrawn_revision_is_never_in_force_and_its_number_is_not_reused(revisions, hall):
    await revisions.add(rev(hall, 1, DAY))
    await revisions.add(rev(hall, 2, date(2026, 12, 1)))
    assert await revisions.withdraw(hall, 2, "2026-11-25T10:00:00+08:00", "boss")
    assert not await revisions.withdraw(hall, 2, "2026-11-25T10:01:00+08:00", "boss")
    assert await revisions.in_force_rev(hall, date(2026, 12, 2)) == 1
    assert (await revisions.in_force(hall, date(2026, 12, 2))).rev == 1  # type: ignore[union-attr]
    assert (await revisions.latest(hall), await revisions.latest(hall, withdrawn=False)) == (2, 1)
    listed = await revisions.list(hall)
    assert (listed[0].rev, listed[0].withdrawn_by) == (2, "boss")
    with pytest.raises(RevisionConflict):
        await revisions.add(rev(hall, 2, DAY))


async def test_an_acknowledged_append_is_on_disk_not_in_a_cache(journal):
    """A SIGKILL test cannot show this (the OS keeps what a killed process wrote), so ask the
    database: SQLite syncs every commit of its write-ahead log, PostgreSQL waits for its flush."""
    from sqlalchemy import text

    async with journal.engine.connect() as conn:
        if journal.engine.dialect.name == "sqlite":
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
        else:
            assert (await conn.execute(text("SHOW synchronous_commit"))).scalar() in ("on", "remote_write", "remote_apply")
            assert (await conn.execute(text("SHOW fsync"))).scalar() == "on"


async def test_the_write_probe_passes_and_keeps_nothing(journal, hall):
    # Health's probe: a write that the journal takes and forgets (two at once, as two load balancers ask).
    await journal.append(hall, DAY, 0, [ev(1)])
    await asyncio.gather(journal.check_writable(), journal.check_writable())
    async with journal.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).where(events_table.c.hall == ""))).scalar_one() == 0
    assert [s.data["n"] for s in await journal.read(hall, DAY)] == [1]
