"""The staffing plan from the journal: what the forecast learns from, the plan checked by play.

Reading lives here; the rules do not: the forecast is server/domain/forecast.py, the Erlang-C
plan server/domain/staffing.py, and the check plays the planned day through the domain core
(server/stats/plan_sim.py). The history comes from the derived per-ticket rows of closed days
(server/stats/store.py), which the caller makes sure are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain import events as ev
from ..domain.apply import apply
from ..domain.catalog import Catalog
from ..domain.model import HallDay
from ..domain.forecast import LEVEL, SLOT_MIN, DayCounts, Model, day_kinds, fit, issuing_only, mape, naive, slot_label, slots_of, total_interval
from ..domain.staffing import Demand, SlotPlan, plan_day, window_groups
from ..journal import SQLJournal
from . import store
from .plan_sim import SlotWaits, play
from .service import build_day

OVERHEAD_S = (0.0, 300.0)  # the calling and idle-with-people-waiting time per ticket is bounded to this
RECENT_DAYS = 56  # service times and the usual open windows are taken from this many recent days
CHECK_ROUNDS = 3


@dataclass
class Learnt:
    """What the journal says: past days' walk-in arrivals, each item's handling time, the usual
    open windows per weekday and hour, and each past day's booked arrivals and waits."""

    history: list[DayCounts] = field(default_factory=list)
    handling: dict[str, float] = field(default_factory=dict)
    cv2: dict[str, float] = field(default_factory=dict)  # of the handling times
    usual: dict[int, dict[tuple[str, int], float]] = field(default_factory=dict)  # weekday -> (window, hour) -> share open
    booked: dict[date, dict[str, dict[int, int]]] = field(default_factory=dict)
    waits: dict[date, dict[int, list[float]]] = field(default_factory=dict)  # day -> half hour -> waits of its arrivals


def slot_of(at: datetime, tz: ZoneInfo) -> int:
    """The half hour of a time (minutes after midnight, hall time); a naive time is hall time
    (SQLite gives back the wall clock the events were written with)."""
    local = at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)
    return (local.hour * 60 + local.minute) // SLOT_MIN * SLOT_MIN


async def learn(engine: AsyncEngine, catalog: Catalog, until: date) -> Learnt:
    """The history before `until` (its closed days must be built), `history_weeks` long."""
    hall, tz = catalog.hall.id, ZoneInfo(catalog.hall.timezone)
    start = until - timedelta(weeks=catalog.hall.staffing.history_weeks)
    recent = until - timedelta(days=RECENT_DAYS)
    t = store.stat_tickets
    out = Learnt()
    counts: dict[date, dict[str, dict[int, int]]] = {}
    service: dict[str, list[float]] = {}
    called = 0
    query = select(t.c.day, t.c.item_issued, t.c.issued_at, t.c.appointment, t.c.service_s, t.c.wait_s, t.c.first_called_at).where(
        t.c.hall == hall, t.c.day >= start, t.c.day < until)
    async with engine.connect() as conn:
        for day, item, issued_at, appointment, service_s, wait_s, first_called in await conn.execute(query):
            s = slot_of(issued_at, tz)
            into = out.booked.setdefault(day, {}) if appointment else counts.setdefault(day, {})
            row = into.setdefault(item, {})
            row[s] = row.get(s, 0) + 1
            counts.setdefault(day, {})
            if wait_s is not None:
                out.waits.setdefault(day, {}).setdefault(s, []).append(float(wait_s))
            if day >= recent and service_s is not None:
                service.setdefault(item, []).append(float(service_s))
            if day >= recent and first_called is not None:
                called += 1
        h = store.stat_window_hours
        hours = select(h.c.day, h.c.window, h.c.hour, func.sum(h.c.open_s), func.sum(h.c.calling_s + h.c.idle_waiting_s)).where(
            and_(h.c.hall == hall, h.c.day >= recent, h.c.day < until)).group_by(h.c.day, h.c.window, h.c.hour)
        spent = 0.0
        per_weekday: dict[int, dict[tuple[str, int], float]] = {}
        days_of: dict[int, set[date]] = {}
        for day, window, hour, open_s, overhead in await conn.execute(hours):
            spent += float(overhead or 0.0)
            wd = day.isoweekday()
            days_of.setdefault(wd, set()).add(day)
            key = (window, int(hour))
            per_weekday.setdefault(wd, {})[key] = per_weekday.get(wd, {}).get(key, 0.0) + min(1.0, float(open_s or 0.0) / 3600)
    out.history = [DayCounts(d, c) for d, c in sorted(counts.items())]
    out.usual = {wd: {k: v / len(days_of[wd]) for k, v in found.items()} for wd, found in per_weekday.items()}
    overhead = min(OVERHEAD_S[1], max(OVERHEAD_S[0], spent / called)) if called else 60.0
    out.handling = {
        i: (sum(v) / len(v) if (v := service.get(i)) else item.expected_service_s) + overhead for i, item in catalog.items.items()
    }
    for i, v in service.items():
        if len(v) >= 20 and i in out.handling:
            m = out.handling[i]
            out.cv2[i] = min(4.0, sum((x - m + overhead) ** 2 for x in v) / len(v) / (m * m))
    return out


def hall_limit(catalog: Catalog) -> float:
    """The hall's 90th percentile threshold for a half hour's arrivals as a whole."""
    return float(catalog.hall.staffing.p90_wait_s or catalog.hall.supervision.wait_s[0])


def _usual(catalog: Catalog, learnt: Learnt, day: date, slot: int) -> dict[str, float]:
    found = learnt.usual.get(day.isoweekday()) or {}
    return {g.key: round(sum(found.get((w, slot // 60), 0.0) for w in g.windows), 1) for g in window_groups(catalog)}


def forecast(catalog: Catalog, learnt: Learnt, day: date, known: Mapping[str, Mapping[int, int]] | None = None,
             model: Model | None = None) -> tuple[Model, dict[str, dict[int, Any]]]:
    model = model or fit(learnt.history, catalog.hall.calendar)
    return model, issuing_only(catalog, day, model.predict(day, slots_of(catalog.hall.opening), known), known)


def plan(catalog: Catalog, learnt: Learnt, day: date, known: Mapping[str, Mapping[int, int]] | None = None,
         check: bool = True, seeds: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """The plan's answer for `day` (see the API's schema): forecast, windows per half hour and
    group, Erlang-C's waits and, with `check`, the waits of the day played with the plan."""
    slots = slots_of(catalog.hall.opening)
    model, fc = forecast(catalog, learnt, day, known)
    demand = {s: {i: Demand(row[s].mean, learnt.handling.get(i, catalog.items[i].expected_service_s), learnt.cv2.get(i, 1.0))
                  for i, row in fc.items() if i in catalog.items} for s in slots}
    groups = window_groups(catalog)
    target, limit = catalog.hall.staffing.target_wait_s, hall_limit(catalog)
    least: dict[int, dict[str, int]] = {}
    plans = plan_day(catalog, day, slots, demand, least)
    played: dict[int, SlotWaits] = {}
    rounds = 0
    while check and rounds < CHECK_ROUNDS:
        rounds += 1
        means = {i: {s: row[s].mean for s in slots} for i, row in fc.items()}
        played = play(catalog, day, means, opened(groups, plans), seeds)
        missed = [s for s in slots if not _met(played[s], target, limit)]
        if not missed or rounds == CHECK_ROUNDS:
            break
        for s in missed:
            p = plans[s]
            spare = [g for g in groups if p.open[g.key] < len(g.windows) and p.queues[g.key].a > 0]
            if spare:
                g = max(spare, key=lambda g: (p.queues[g.key].a / max(1, p.open[g.key]), g.key))
                least.setdefault(s, dict(p.open))[g.key] = p.open[g.key] + 1
        plans = plan_day(catalog, day, slots, demand, least)
    return _answer(catalog, learnt, day, model, fc, plans, played, rounds, known)


def opened(groups: list[Any], plans: Mapping[int, SlotPlan]) -> dict[int, frozenset[str]]:
    """Which windows the plan opens each half hour: a group's first ones."""
    return {s: frozenset(w for g in groups for w in g.windows[: p.open[g.key]]) for s, p in plans.items()}


def _met(w: SlotWaits, target: float, limit: float) -> bool:
    return w.mean_s is None or (w.mean_s <= target and (w.p90_s or 0.0) <= limit)


def _answer(catalog: Catalog, learnt: Learnt, day: date, model: Model, fc: dict[str, dict[int, Any]],
            plans: Mapping[int, SlotPlan], played: Mapping[int, SlotWaits], rounds: int,
            known: Mapping[str, Mapping[int, int]] | None) -> dict[str, Any]:
    groups = window_groups(catalog)
    target, limit = catalog.hall.staffing.target_wait_s, hall_limit(catalog)
    known = known or {}
    rows = []
    for s, p in plans.items():
        mean = sum(r[s].mean for r in fc.values())
        booked = sum(k.get(s, 0) for k in known.values())
        usual = _usual(catalog, learnt, day, s)
        arrivals = sum(q.a / q.s for q in p.queues.values() if q.s) or 1.0
        erl_mean = sum(q.mean_wait_s * q.a / q.s for q in p.queues.values() if q.s) / arrivals
        erl_p90 = max((q.quantile_s() for q in p.queues.values() if q.a > 0), default=0.0)
        w = played.get(s)
        rows.append({
            "start": slot_label(s), "end": slot_label(s + SLOT_MIN),
            "arrivals": total_interval(mean - booked, model.sigma, booked).as_dict(), "booked": booked,
            "windows": p.windows, "usual": round(sum(usual.values()), 1),
            "open": {g.key: p.open[g.key] for g in groups},
            "open_windows": [wid for g in groups for wid in g.windows[: p.open[g.key]]],
            "usual_open": usual,
            "short": {g.key: round(p.open[g.key] - usual[g.key], 1) for g in groups if p.open[g.key] - usual[g.key] >= 0.5},
            "idle": {g.key: round(usual[g.key] - p.open[g.key], 1) for g in groups if usual[g.key] - p.open[g.key] >= 0.5},
            "lacking": p.short, "unserved": p.unserved,
            "erlang": {"mean_wait_s": _s(erl_mean), "p90_wait_s": _s(erl_p90)},
            "simulated": None if w is None else {"mean_wait_s": _s(w.mean_s), "p90_wait_s": _s(w.p90_s), "tickets": len(w.waits),
                                                 "met": _met(w, target, limit)},
        })
    day_mean = sum(sum(r[s].mean for s in r) for r in fc.values())
    booked_total = sum(sum(k.values()) for k in known.values())
    checked = [r["simulated"]["met"] for r in rows if r["simulated"] and r["simulated"]["tickets"]]
    return {
        "hall": catalog.hall.id, "day": day.isoformat(), "weekday": day.isoweekday(), "kinds": sorted(day_kinds(day, catalog.hall.calendar)),
        "target_wait_s": target, "p90_wait_s": limit, "level": LEVEL,
        "history": {"days": model.days, "from": learnt.history[0].day.isoformat() if learnt.history else None,
                    "to": learnt.history[-1].day.isoformat() if learnt.history else None, "sigma": round(model.sigma, 3)},
        "total": total_interval(day_mean - booked_total, model.sigma, booked_total).as_dict(), "booked": booked_total,
        "groups": [{"key": g.key, "kind": g.kind, "name": _group_name(catalog, g.windows),
                    "windows": [{"id": w, "name": catalog.windows[w].name} for w in g.windows], "items": list(g.items)} for g in groups],
        "items": [{"id": i, "name": catalog.items[i].name, "handling_s": round(learnt.handling.get(i, 0.0)),
                   "arrivals": total_interval(sum(r[s].mean for s in r) - sum(known.get(i, {}).values()), model.sigma,
                                              sum(known.get(i, {}).values())).as_dict()}
                  for i, r in fc.items() if i in catalog.items],
        "slots": rows,
        "check": {"rounds": rounds, "met_share": round(sum(checked) / len(checked), 3) if checked else None},
    }


def _group_name(catalog: Catalog, windows: tuple[str, ...]) -> str:
    first = catalog.windows[windows[0]].name
    return first if len(windows) == 1 else f"{first} ×{len(windows)}"


def _s(v: float | None) -> float | None:
    return None if v is None else (None if v == float("inf") else round(v, 1))


def accuracy(catalog: Catalog, learnt: Learnt, days: list[date]) -> list[dict[str, Any]]:
    """For each past day: the forecast made the evening before against what came, beside the
    naive "same weekday last week", and the share of half hours whose actual waits met the target."""
    slots = slots_of(catalog.hall.opening)
    target, limit = catalog.hall.staffing.target_wait_s, hall_limit(catalog)
    by_day = {h.day: h for h in learnt.history}
    out = []
    for d in days:
        actual = by_day.get(d)
        if actual is None:
            continue
        before = Learnt(history=[h for h in learnt.history if h.day < d])
        if len(before.history) < 5:
            continue
        booked = learnt.booked.get(d, {})
        _, fc = forecast(catalog, before, d, booked)
        naive_fc = naive(before.history, d)
        got = {s: sum(r.get(s, 0) for r in actual.counts.values()) + sum(r.get(s, 0) for r in booked.values()) for s in slots}
        want = {s: sum(r[s].mean for r in fc.values()) for s in slots}
        row: dict[str, Any] = {
            "day": d.isoformat(), "actual": sum(got.values()), "forecast": round(sum(want.values()), 1),
            "mape_half_hour": _r(mape((want[s], got[s]) for s in slots)),
            "error_day": _r(mape([(sum(want.values()), sum(got.values()))])),
        }
        if naive_fc is not None:
            nv = {s: sum(r.get(s, 0.0) for r in naive_fc.values()) + sum(r.get(s, 0) for r in booked.values()) for s in slots}
            row["naive"] = {"forecast": sum(nv.values()), "mape_half_hour": _r(mape((nv[s], got[s]) for s in slots)),
                            "error_day": _r(mape([(sum(nv.values()), sum(got.values()))]))}
        waits = learnt.waits.get(d, {})
        judged = [_met(SlotWaits(s, tuple(waits[s])), target, limit) for s in slots if waits.get(s)]
        row["waits_met_share"] = _r(sum(judged) / len(judged)) if judged else None
        out.append(row)
    return out


def plan_lines(answer: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The plan as a table, one line per half hour: arrivals, windows and waits, then the windows open per group."""
    groups = answer["groups"]
    header = ["day", "start", "end", "arrivals", "arrivals_low", "arrivals_high", "booked", "windows", "usual_windows",
              "open_windows", "erlang_mean_wait_s", "erlang_p90_wait_s", "simulated_mean_wait_s", "simulated_p90_wait_s",
              "met", "lacking", *(f"open {g['name']}" for g in groups)]
    lines = []
    for s in answer["slots"]:
        sim = s["simulated"] or {}
        lines.append([
            answer["day"], s["start"], s["end"], s["arrivals"]["mean"], s["arrivals"]["low"], s["arrivals"]["high"], s["booked"],
            s["windows"], s["usual"], " ".join(s["open_windows"]), s["erlang"]["mean_wait_s"], s["erlang"]["p90_wait_s"],
            sim.get("mean_wait_s"), sim.get("p90_wait_s"), sim.get("met"), " ".join(s["lacking"]), *(s["open"][g["key"]] for g in groups),
        ])
    return header, lines


async def folded(journal: SQLJournal, hall: str, day: date) -> HallDay:
    """A hall-day's state folded from its journal (a later day holds its bookings)."""
    state = HallDay(hall, day)
    for stored in await journal.read(hall, day):
        apply(state, ev.from_dict(stored.data), stored.seq)
    return state


def booked_of(state: HallDay, tz: ZoneInfo) -> dict[str, dict[int, int]]:
    """The day's bookings not cancelled, per item and half hour of their slot: known arrivals."""
    out: dict[str, dict[int, int]] = {}
    for a in state.appointments.values():
        if not a.cancelled:
            s = slot_of(a.slot_start, tz)
            out.setdefault(a.item, {})[s] = out.get(a.item, {}).get(s, 0) + 1
    return out


async def build_closed(journal: SQLJournal, catalog: Catalog, start: date, end: date) -> int:
    """Derive the closed days of [start, end] whose rows are missing or stale (what the server's
    statistics do on first need; `hallq plan` runs without a server)."""
    hall = catalog.hall.id
    built = await store.built_days(journal.engine, hall, start, end)
    todo = [d for d, seq in sorted((await journal.days(hall, start, end)).items()) if built.get(d) != (store.VERSION, seq)]
    for day in todo:
        result, groups = build_day(catalog, day, [(s.seq, s.data) for s in await journal.read(hall, day)])
        async with journal.engine.begin() as conn:
            await store.save_day(conn, result, groups)
    return len(todo)


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


__all__ = ["Learnt", "accuracy", "booked_of", "build_closed", "folded", "forecast", "hall_limit", "learn", "opened", "plan", "plan_lines", "slot_of"]
