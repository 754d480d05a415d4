"""区域总览: a hall and every hall below it (city → county → township), live today, with the sums."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from aiohttp import web

from server.api.context import CTX, json
from server.api.openapi import contract
from server.hall import HallService
from server.stats.facts import DayResult
from server.api.stats import STATS, reader

from . import boards
from .supervision import SUPERVISORS

routes = web.RouteTableDef()


@dataclass
class _Counts:
    """What a hall's region row is made of, summable over halls (the rates are taken at the end)."""

    issued: int = 0
    served: int = 0
    no_show: int = 0
    open_windows: int = 0
    windows: int = 0
    alerts_red: int = 0
    alerts_yellow: int = 0
    waiting_s: list[float] = field(default_factory=list)  # how long each waiting ticket has waited
    waits: list[float] = field(default_factory=list)  # issue -> first call, of tickets called today
    scores: list[int] = field(default_factory=list)

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(_Counts)))

    def figures(self) -> dict[str, Any]:
        return {
            "issued": self.issued, "served": self.served, "waiting": len(self.waiting_s), "no_show": self.no_show,
            "longest_wait_s": round(max(self.waiting_s), 1) if self.waiting_s else None,
            "mean_wait_s": round(sum(self.waits) / len(self.waits), 1) if self.waits else None,
            "open_windows": self.open_windows, "windows": self.windows,
            "alerts_red": self.alerts_red, "alerts_yellow": self.alerts_yellow, "rated": len(self.scores),
            "good_rate": round(sum(1 for s in self.scores if s >= 4) / len(self.scores), 4) if self.scores else None,
        }


async def _counts(request: web.Request, service: HallService, today: DayResult) -> _Counts:
    """One hall's live counts of today, for the region's table."""
    state = await service.current()
    now = service.clock.now()
    board = await request.app[SUPERVISORS][service.hall].catch_up()
    levels = [a.level for a in board.active.values()]
    return _Counts(
        issued=len(today.tickets),
        served=sum(1 for t in today.tickets if t.status == "done"),
        no_show=sum(1 for t in today.tickets if t.status == "no_show"),
        open_windows=sum(1 for w in state.windows.values() if w.status.value != "closed"),
        windows=len(service.catalog.windows),
        alerts_red=levels.count("red"),
        alerts_yellow=levels.count("yellow"),
        waiting_s=[(now - t.issued_at).total_seconds() for t in today.tickets if t.status == "waiting"],
        waits=[w for w in (t.wait_s for t in today.tickets) if w is not None],
        scores=[t.score for t in today.tickets if t.score is not None],
    )


@routes.get("/api/v1/halls/{hall}/region")
@contract("The hall and every hall below it (city → county → township), live today, with the sums",
          response=boards.Region, auth="manager", tags=("supervision",))
async def region(request: web.Request) -> web.Response:
    hall, _ = await reader(request)
    context = request.app[CTX]
    rows, total = [], _Counts()
    below = context.region.below(hall.hall)
    facts = await request.app[STATS].today_many(below)  # a province: one query, not one per hall
    for h in below:
        service = context.halls[h]
        counts = await _counts(request, service, facts[h])
        total += counts
        conf = service.catalog.hall
        rows.append({"id": h, "name": conf.name, "level": conf.level, "parent": conf.parent,
                     "depth": context.region.depth(h) - context.region.depth(hall.hall), "today": counts.figures()})
    state = await hall.current()
    return json({"hall": hall.hall, "name": hall.catalog.hall.name, "day": state.day.isoformat(),
                 "now": hall.clock.now().isoformat(), "halls": rows, "total": total.figures()})
