"""排班建议's API: tomorrow's plan (and its CSV), today's forecast against arrivals, past accuracy.

Managers, admins and chiefs read it (the access policy's read-figures, as every figure of the
dashboard). The rules are in server/domain/forecast.py and server/domain/staffing.py, the
reading of the journal in server/stats/staffing.py; a plan plays its day a few times through
the domain core, so answers are kept a few minutes per hall, day and bookings.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from .context import hall_of, json
from .openapi import contract
from .schemas import Out
from ..domain.calendar import opens_on
from ..domain.errors import Invalid
from ..domain.forecast import SLOT_MIN, opening_days, slot_label, slots_of, total_interval
from ..hall import HallService
from .stats import STATS, WORDS, catalog_names, csv_response, reader, worded, worded_in
from ..stats.service import hall_today
from ..stats.staffing import Learnt, accuracy, booked_of, folded, forecast, learn, plan, plan_lines, slot_of

routes = web.RouteTableDef()

PLANS = web.AppKey("hallq.plans", dict)
KEEP_S = 300.0
AHEAD_DAYS = 14


class Interval(Out):
    mean: float
    low: float
    high: float


class PlanSlot(Out):
    start: str
    end: str
    arrivals: Interval
    booked: int
    windows: int
    usual: float
    open: dict[str, int]
    open_windows: list[str]
    usual_open: dict[str, float]
    short: dict[str, float]
    idle: dict[str, float]
    lacking: list[str]
    unserved: list[str]
    erlang: dict[str, float | None]
    simulated: dict[str, Any] | None


class Plan(Out):
    hall: str
    day: str
    weekday: int
    kinds: list[str]
    target_wait_s: int
    p90_wait_s: float
    level: float
    history: dict[str, Any]
    total: Interval
    booked: int
    groups: list[dict[str, Any]]
    items: list[dict[str, Any]]
    slots: list[PlanSlot]
    check: dict[str, Any]


class TodaySlot(Out):
    start: str
    end: str
    forecast: Interval
    actual: int | None


class TodayForecast(Out):
    hall: str
    day: str
    now: str
    open: bool
    total: Interval
    so_far: dict[str, float]
    slots: list[TodaySlot]


class Accuracy(Out):
    hall: str
    days: list[dict[str, Any]]


def _day(request: web.Request, hall: HallService) -> date:
    """`?day=` (default: the next opening day): today or an opening day up to AHEAD_DAYS ahead."""
    today = hall_today(hall)
    text = request.query.get("day")
    if not text:
        return opening_days(hall.catalog, today, 1)[0]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid("bad-query", "day is a date written YYYY-MM-DD") from None
    if not today <= day <= today + timedelta(days=AHEAD_DAYS):
        raise Invalid("bad-query", f"a plan is made for today or the next {AHEAD_DAYS} days")
    if not opens_on(hall.catalog.hall.opening, day, hall.catalog.hall.calendar):
        raise Invalid("closed-day", f"the hall does not open on {day.isoformat()}")
    return day


async def _learnt(request: web.Request, hall: HallService) -> Learnt:
    today = hall_today(hall)
    stats = request.app[STATS]
    await stats.ensure_closed_days(hall.hall, today - timedelta(weeks=hall.catalog.hall.staffing.history_weeks), today)
    return await learn(stats.engine, hall.catalog, today)


async def _booked(hall: HallService, day: date) -> dict[str, dict[int, int]]:
    """The bookings of `day` not cancelled, per item and half hour of their slot."""
    state = await hall.current() if day == hall_today(hall) else await folded(hall.journal, hall.hall, day)
    return booked_of(state, hall.tz)


async def _plan(request: web.Request) -> dict[str, Any]:
    hall, _ = await reader(request)
    day = _day(request, hall)
    known = await _booked(hall, day)
    key = (hall.hall, day, hall_today(hall), repr(sorted((i, sorted(s.items())) for i, s in known.items())))
    kept = request.app[PLANS].get(key)
    if kept is not None and time.monotonic() - kept[0] < KEEP_S:
        return kept[1]
    learnt = await _learnt(request, hall)
    answer = await asyncio.to_thread(plan, hall.catalog, learnt, day, known)
    plans = request.app[PLANS]
    for k in [k for k, (at, _) in plans.items() if time.monotonic() - at >= KEEP_S]:
        del plans[k]
    plans[key] = (time.monotonic(), answer)
    return answer


DAY = (("day", "YYYY-MM-DD: today or an opening day up to 14 days ahead (default: the next opening day)", False),)


@routes.get("/api/v1/halls/{hall}/plan")
@contract("排班建议: the forecast arrivals and the fewest windows per group each half hour of a day, checked by simulation",
          response=Plan, auth="manager", query=DAY, tags=("statistics",))
async def get_plan(request: web.Request) -> web.Response:
    return json(await _plan(request))


@routes.get("/api/v1/halls/{hall}/plan.csv")
@contract("The plan as CSV (UTF-8 with BOM): one line per half hour", response=None, auth="manager", query=(*DAY, WORDS), tags=("statistics",))
async def plan_csv(request: web.Request) -> web.StreamResponse:
    answer = await _plan(request)
    header, lines = plan_lines(answer)
    if lang := worded_in(request):  # the windows open and the groups short of windows by name
        groups = {g["key"]: g["name"] for g in answer["groups"]}
        names = {"open_windows": catalog_names(hall_of(request).catalog, lang)["window"], "lacking": groups}
        header, lines = worded(header, lines, lang, names=names)
    return csv_response(header, lines, f"hallq-{answer['hall']}-plan-{answer['day']}")


@routes.get("/api/v1/halls/{hall}/plan/today")
@contract("Today's forecast arrivals per half hour against the arrivals so far", response=TodayForecast, auth="manager",
          tags=("statistics",))
async def today_forecast(request: web.Request) -> web.Response:
    hall, _ = await reader(request)
    day = hall_today(hall)
    now = hall.clock.now().astimezone(hall.tz)
    known = await _booked(hall, day)
    learnt = await _learnt(request, hall)
    model, fc = await asyncio.to_thread(forecast, hall.catalog, learnt, day, known)
    result = await request.app[STATS].today(hall.hall)
    came: dict[int, int] = {}
    for t in result.tickets:
        s = slot_of(t.issued_at, hall.tz)
        came[s] = came.get(s, 0) + 1
    minute = now.hour * 60 + now.minute
    slots = slots_of(hall.catalog.hall.opening)
    booked = {s: sum(k.get(s, 0) for k in known.values()) for s in slots}
    is_open = opens_on(hall.catalog.hall.opening, day, hall.catalog.hall.calendar)
    mean = {s: sum(r[s].mean for r in fc.values()) if is_open else 0.0 for s in slots}
    rows = [{"start": slot_label(s), "end": slot_label(s + SLOT_MIN),
             "forecast": total_interval(mean[s] - booked[s], model.sigma, booked[s]).as_dict(),
             "actual": came.get(s, 0) if s <= minute else None} for s in slots]
    past = [s for s in slots if s + SLOT_MIN <= minute]
    total = sum(mean.values())
    return json({
        "hall": hall.hall, "day": day.isoformat(), "now": now.isoformat(), "open": is_open,
        "total": total_interval(total - sum(booked.values()), model.sigma, sum(booked.values())).as_dict(),
        "so_far": {"forecast": round(sum(mean[s] for s in past), 1), "actual": sum(came.get(s, 0) for s in past)},
        "slots": rows,
    })


@routes.get("/api/v1/halls/{hall}/plan/accuracy")
@contract("The forecast's accuracy over past days beside the naive same-weekday-last-week, and the waits met",
          response=Accuracy, auth="manager", query=(("days", "how many past opening days, 1 to 60 (default 20)", False),),
          tags=("statistics",))
async def plan_accuracy(request: web.Request) -> web.Response:
    hall, _ = await reader(request)
    try:
        n = int(request.query.get("days") or 20)
    except ValueError:
        raise Invalid("bad-query", "days is a whole number from 1 to 60") from None
    if not 1 <= n <= 60:
        raise Invalid("bad-query", "days is a whole number from 1 to 60")
    learnt = await _learnt(request, hall)
    days = [h.day for h in learnt.history][-n:]
    rows = await asyncio.to_thread(accuracy, hall.catalog, learnt, days)
    return json({"hall": hall.hall, "days": rows})
