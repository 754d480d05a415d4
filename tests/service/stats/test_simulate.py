"""`hallq simulate`: realistic days through the real engine, repeatable, consistent with the journal."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date

from sqlalchemy import delete

from server.bus import LocalBus
from server.cli import main
from server.config import default_config_dir, load_halls
from server.hall import HallService
from server.journal import SQLJournal, database_url, make_engine
from server.stats import store
from server.stats.service import Stats
from server.stats.simulate import hall_days
from tests.halls import TZ, FakeClock

FRIDAY = date(2026, 11, 20)


async def cli(*args: str) -> int:
    """`hallq …` as typed, in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(main, list(args))


def journal_rows(data) -> list[tuple]:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(data / "hallq.sqlite3")
    try:
        return con.execute("SELECT day, seq, type, data FROM events ORDER BY day, seq").fetchall()
    finally:
        con.close()


async def test_the_same_seed_gives_the_same_journal_and_the_days_are_realistic(tmp_path, capsys):
    for name in ("one", "two"):
        assert await cli("simulate", "--data", str(tmp_path / name), "--days", "2", "--end", FRIDAY.isoformat(), "--seed", "3") == 0
    out = capsys.readouterr().out
    assert "2026-11-19 Thu" in out and "2026-11-20 Fri" in out
    one, two = journal_rows(tmp_path / "one"), journal_rows(tmp_path / "two")
    assert one == two and len(one) > 2000
    types = {row[2] for row in one}
    assert {"ticket_issued", "ticket_called", "service_finished", "ticket_evaluated", "ticket_no_show", "window_paused",
            "ticket_transferred", "ticket_suspended", "ticket_cancelled", "alert_raised"} <= types
    # A third run adds nothing: the days are in the journal already.
    assert await cli("simulate", "--data", str(tmp_path / "one"), "--days", "2", "--end", FRIDAY.isoformat(), "--seed", "9") == 0
    assert journal_rows(tmp_path / "one") == one


async def test_simulated_days_fold_in_the_engine_and_their_statistics_equal_a_rebuild(tmp_path):
    catalog = load_halls(default_config_dir())["demo"]
    data = tmp_path / "data"
    assert await cli("simulate", "--data", str(data), "--days", "3", "--end", FRIDAY.isoformat()) == 0
    days = hall_days(catalog, FRIDAY, 3)
    journal = SQLJournal(make_engine(database_url(data, None)))
    try:
        # The hall-day as the server would load it: every event folds, every window closed at night.
        from datetime import datetime

        service = HallService(catalog, journal, LocalBus(), FakeClock(datetime(2026, 11, 20, 20, 0, tzinfo=TZ)))
        await service.start()
        assert all(w.status.value == "closed" for w in service.state.windows.values())
        assert len(service.state.tickets) > 200
        await service.stop()

        stats = Stats(journal, {"demo": service})
        derived = {by: await stats.query("demo", days[0], days[-1], by) for by in ("window", "hour", "clerk")}
        assert derived["window"]["total"]["issued"] > 600 and derived["window"]["total"]["served"] > 500
        async with journal.engine.begin() as conn:
            await conn.execute(delete(store.stat_days))
        for by, answer in derived.items():
            again = await stats.query("demo", days[0], days[-1], by)
            assert again["rows"] == answer["rows"] and again["total"] == answer["total"], by
    finally:
        await journal.close()
