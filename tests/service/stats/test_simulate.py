"""`hallq simulate`: realistic days through the real engine, repeatable, consistent with the journal."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import date, datetime

import pytest

from sqlalchemy import delete

from server.bus import LocalBus
from server.cli import main
from server.config import default_config_dir, load_halls
from server.hall import HallService
from server.journal import SQLJournal, database_url, make_engine
from server.stats import store
from server.stats.service import Stats
from server.domain import events as ev
from server.domain.apply import apply
from server.domain.model import HallDay, TicketStatus, WindowStatus
from server.domain.policy import candidates
from server.stats.simulate import DaySim, Ledger, hall_days
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


# ---------------------------------------------------------------------- the simulated hall's behaviour

DEMO = load_halls(default_config_dir())["demo"]


def half_hour(seconds: float) -> int:
    """Minutes after midnight of the half hour holding `seconds` after midnight."""
    return int(seconds // 1800) * 30


def test_arrivals_rush_at_opening_and_after_lunch(monkeypatch):
    """People queue at the door before the hall opens: its first half hour brings more tickets
    than any mid-morning half hour (OPENING_RUSH times one at the morning's peak rate); the
    reopening after lunch has a smaller rush. The day's volume is the same as without them."""
    from server.stats.simulate import arrivals as arrivals_module
    from server.stats.simulate.arrivals import AFTER_LUNCH_RUSH, OPENING_RUSH, Profile, arrivals, base_weight, opening_ranges

    counts: dict[int, int] = {}
    days = hall_days(DEMO, FRIDAY, 10)
    for day in days:
        for t, _ in arrivals(DEMO, day, 0.9, random.Random(day.toordinal())):
            counts[half_hour(t)] = counts.get(half_hour(t), 0) + 1
    opening, mid_morning = counts[8 * 60 + 30], max(counts[m] for m in (570, 600, 630, 660))  # 08:30; 09:30 … 11:00
    assert 1.2 * mid_morning < opening < 2.0 * mid_morning
    reopening, afternoon = counts[13 * 60 + 30], max(counts[m] for m in (870, 900, 930, 960))  # 13:30; 14:30 … 16:00
    assert 0.8 * afternoon < reopening < 1.4 * afternoon
    assert reopening < opening

    # The profile's own figures: the first half hour holds the asked multiple of a half hour at the peak rate.
    ranges = opening_ranges(DEMO)
    profile = Profile(ranges)
    for (a, b), ratio in zip(ranges, (OPENING_RUSH, AFTER_LUNCH_RUSH)):
        first = sum(profile(a + s + 0.5) for s in range(1800))
        peak = max(base_weight(t / 3600) for t in range(int(a), int(b), 60))
        assert abs(first / (peak * 1800) - ratio) < 0.02
    # The rushes reshape the day, they add no tickets (a few more or fewer are refused by the items' hours and quotas).
    monkeypatch.setattr(arrivals_module, "OPENING_RUSH", 0.0)
    monkeypatch.setattr(arrivals_module, "AFTER_LUNCH_RUSH", 0.0)
    plain = [t for day in days for t, _ in arrivals(DEMO, day, 0.9, random.Random(day.toordinal()))]
    assert abs(len(plain) - sum(counts.values())) < 0.03 * len(plain)
    assert sum(1 for t in plain if half_hour(t) == 8 * 60 + 30) < 0.5 * opening


def played(day: date, load: float, seed: int = 1) -> DaySim:
    sim = DaySim(DEMO, day, seed, load, Ledger())
    sim.run()
    return sim


def test_who_gives_up_leaves_without_a_word_and_is_a_no_show_when_called():
    """A citizen who gives up just leaves: the clerk calls the number, recalls it, nobody comes,
    and marks a no-show (maybe re-queued, then again). Only a few cancel first, on the phone."""
    sim = played(FRIDAY, 0.9)
    by_ticket: dict[str, list[dict]] = {}
    for _, e in sim.out:
        if "ticket" in e:
            by_ticket.setdefault(e["ticket"], []).append(e)
    assert len(sim.gone) > 20
    for tid in sim.gone:
        kinds = [e["type"] for e in by_ticket[tid]]
        assert "ticket_cancelled" not in kinds and "service_started" not in kinds, kinds
        assert sim.state.tickets[tid].status in (TicketStatus.no_show, TicketStatus.waiting), kinds
        if sim.state.tickets[tid].status is TicketStatus.no_show:
            # Each call to nobody: called, recalled once, then the no-show (re-queued at most max_requeues times).
            calls = [k for k in kinds if k in ("ticket_called", "ticket_recalled", "ticket_no_show")]
            assert calls == ["ticket_called", "ticket_recalled", "ticket_no_show"] * (len(calls) // 3) and calls, kinds
            assert len(calls) // 3 <= 1 + DEMO.hall.policy.max_requeues
    cancels = [e for events in by_ticket.values() for e in events if e["type"] == "ticket_cancelled"]
    assert cancels and all(e["by"] == "holder" for e in cancels)  # the holder, from the phone's ticket page
    assert len(cancels) < len(sim.gone) / 2
    no_shows = sum(1 for t in sim.state.tickets.values() if t.status is TicketStatus.no_show)
    assert no_shows > len(sim.gone) * 0.9


@pytest.mark.parametrize("load", [0.3, 0.9])
def test_no_window_stays_idle_while_a_ticket_it_may_call_waits(load):
    """Clerks call the next ticket a few seconds after a citizen leaves, and an idle clerk calls a
    newcomer (or a re-queued ticket, or one whose item's hours began) within seconds: no window
    is idle longer than that while the queue it calls from holds a ticket it may call."""
    from server.stats.simulate.day import CALL_GAP_S, NOTICE_S, OPEN_TO_CALL_S, REACTION_S

    sim = played(date(2026, 11, 18), load)
    state = HallDay(DEMO.hall.id, sim.day)
    since: dict[str, datetime] = {}
    stretches: list[float] = []
    for seq, data in sim.out:
        e = ev.from_dict(data)
        apply(state, e, seq)
        for wid, w in state.windows.items():
            waiting = w.status is WindowStatus.idle and next(candidates(state, DEMO, wid, e.at), None) is not None
            if waiting and wid not in since:
                since[wid] = e.at
            elif not waiting and wid in since:
                stretches.append((e.at - since.pop(wid)).total_seconds())
    assert len(stretches) > 100 and not since
    # Each stretch is one short gap: after a service, after a newcomer, after opening the window.
    assert max(stretches) <= max(CALL_GAP_S[1], REACTION_S[1], OPEN_TO_CALL_S[1]) + 1e-6
    assert NOTICE_S <= 60  # an item whose hours begin is noticed within a minute and the reaction
    # A clerk idle at an empty queue still keeps the clock: every window closes for lunch and at night.
    closed: dict[str, list[str]] = {}
    for _, e in sim.out:
        if e["type"] == "window_closed":
            closed.setdefault(e["window"], []).append(datetime.fromisoformat(e["at"]).astimezone(sim.tz).strftime("%H:%M"))
    assert set(closed) == set(DEMO.windows)
    for times in closed.values():
        assert len(times) == 2 and "12:00" <= times[0] < "13:30" and times[1] >= "17:30", times


def test_a_played_plan_counts_the_wait_of_who_gave_up_until_they_left():
    """In a played plan (one window for a busy morning) many give up: their number is called
    later, to nobody; the wait the plan is judged on is theirs, until they left."""
    from server.stats.plan_sim import SLOT_S, PlanDaySim, slot_waits
    from tests.halls import small_catalog

    catalog = small_catalog()
    slots = [510 + 30 * n for n in range(7)]
    sim = PlanDaySim(catalog, date(2026, 11, 25), 1, {"a1": {s: 8.0 for s in slots}}, {s: frozenset({"w1"}) for s in slots})
    sim.run()
    called_later = [tid for tid in sim.gave_up if sim.state.tickets[tid].called_at is not None]
    assert len(called_later) > 5
    waits = slot_waits(sim, slots)
    for tid in called_later:
        t = sim.state.tickets[tid]
        left = (sim.midnight - t.issued_at).total_seconds() + sim.gave_up[tid]
        called = (t.called_at - t.issued_at).total_seconds()
        assert t.status in (TicketStatus.no_show, TicketStatus.waiting) and called > left  # waiting: re-queued
        local = t.issued_at.astimezone(sim.tz)
        slot = (local.hour * 3600 + local.minute * 60) // SLOT_S * SLOT_S // 60
        assert any(abs(w - left) < 1e-6 for w in waits[slot].waits) and called not in waits[slot].waits


def test_a_scaled_hall_copies_each_windows_a_and_b_posts_with_it():
    """The benchmarks' big hall (every window --copies times): a copied window's A and B posts
    are the copied clerks, who list it among their windows (the config check refuses otherwise)."""
    from server.stats.simulate import scaled_config

    big = scaled_config(DEMO.config, 3)
    users = {u.username: u for u in big.users}
    posted = [w for w in big.windows if w.a_post or w.b_post]
    assert len(big.windows) == 3 * len(DEMO.config.windows) and len(posted) == 3 * sum(
        1 for w in DEMO.config.windows if w.a_post or w.b_post) > 0
    for w in posted:
        for post in (w.a_post, w.b_post):
            if post:
                assert w.id in users[post].windows
