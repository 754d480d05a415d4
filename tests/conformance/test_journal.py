"""One suite, every journal: SQLite (embedded) and PostgreSQL keep the same promises."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date

import pytest

from server.journal import SequenceConflict, SQLJournal, make_engine

DAY = date(2026, 11, 25)
PG_URL = os.environ.get("HALLQ_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _postgres() -> SQLJournal:
    journal = SQLJournal(make_engine(PG_URL))
    try:
        await asyncio.wait_for(journal.create(), 5)
    except Exception as exc:
        await journal.close()
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"PostgreSQL is required under CI=true but {PG_URL} failed: {exc!r}") from exc
        pytest.skip(f"no PostgreSQL at {PG_URL} ({exc.__class__.__name__}); set HALLQ_TEST_POSTGRES to run these")
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
