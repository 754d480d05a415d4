"""Group commit across halls (server/journal): appends of many halls that wait together go in
one transaction, each at its own expected position; one that lost its position is refused
alone. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from server.journal import SequenceConflict, SQLJournal, make_engine
from tests.services import postgres_url

DAY = date(2026, 11, 25)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def journal(request, tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}" if request.param == "sqlite" else await postgres_url()
    j = SQLJournal(make_engine(url))
    await j.create()
    yield j
    await j.close()


def halls(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]  # fresh streams, so a shared PostgreSQL needs no cleaning
    return [f"g{run}-{i:03d}" for i in range(n)]


def ev(n: int) -> dict:
    return {"type": "ticket_issued", "n": n}


async def test_appends_of_many_halls_that_wait_together_share_one_transaction(journal):
    names = halls(40)
    before = journal.commits
    await asyncio.gather(*(journal.append(h, DAY, 0, [ev(1), ev(2)]) for h in names))
    assert journal.commits - before == 1  # all forty were waiting when the first transaction began
    for h in names:
        assert [(s.seq, s.data["n"]) for s in await journal.read(h, DAY)] == [(1, 1), (2, 2)]


async def test_a_taken_position_refuses_only_its_own_append_and_the_rest_of_the_batch_is_stored(journal):
    a, b, c = halls(3)
    await journal.append(b, DAY, 0, [ev(1)])  # b's position 1 is taken
    results = await asyncio.gather(
        journal.append(a, DAY, 0, [ev(10)]),
        journal.append(b, DAY, 0, [ev(20), ev(21)]),  # stale: expects 0
        journal.append(c, DAY, 0, [ev(30)]),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], SequenceConflict)
    assert [s.data["n"] for s in await journal.read(a, DAY)] == [10]
    assert [s.data["n"] for s in await journal.read(b, DAY)] == [1]  # nothing of the loser, not even position 2
    assert [s.data["n"] for s in await journal.read(c, DAY)] == [30]


async def test_two_appends_at_one_position_in_one_batch_store_exactly_one(journal):
    (h,) = halls(1)
    results = await asyncio.gather(
        journal.append(h, DAY, 0, [ev(1)]), journal.append(h, DAY, 0, [ev(2)]), return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "SequenceConflict"]
    stored = await journal.read(h, DAY)
    winner = 1 if results[0] is None else 2
    assert [(s.seq, s.data["n"]) for s in stored] == [(1, winner)]


async def test_two_appends_of_one_stream_never_share_a_transaction(journal):
    """Two workers racing for one hall-day's position wait for separate transactions: the first
    is stored, the second hears it lost. (Batched together, two workers booking a later day's
    slot once overfilled it.)"""
    a, b = halls(2)
    before, redone = journal.commits, journal.redone
    results = await asyncio.gather(
        journal.append(a, DAY, 0, [ev(1)]),
        journal.append(a, DAY, 0, [ev(2)]),  # the same position of the same stream
        journal.append(b, DAY, 0, [ev(3)]),
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], SequenceConflict) and results[2] is None
    assert journal.commits - before == 1  # a's first and b's together; a's second refused on its own,
    assert journal.redone == redone  # after them: their transaction never had to find out who lost
    assert [s.data["n"] for s in await journal.read(a, DAY)] == [1]
