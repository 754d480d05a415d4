"""A staffing plan played through the domain core: the day's arrivals against the plan's windows.

`PlanDaySim` is the simulator's day (server/stats/simulate/) with two things changed: the
arrivals are Poisson with the given mean per item and half hour, and each window is open exactly
in the half hours the plan opens it (its clerk takes no break, the plan's windows are staffed);
a window leaving the plan finishes its citizen first, and over lunch and after hours the open
windows serve out their queue as clerks do. What comes out is the waits of each half hour's
arrivals (until their call, or until they gave up), for checking the plan against its targets.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ..domain import commands as c
from ..domain.calendar import item_issuing
from ..domain.catalog import Catalog
from ..domain.forecast import SLOT_MIN
from .simulate import DaySim, Ledger
from .simulate.day import _Window

SLOT_S = SLOT_MIN * 60


class PlanDaySim(DaySim):
    """One hall-day with planned arrivals and planned windows; nothing journalled."""

    def __init__(self, catalog: Catalog, day: date, seed: int, arrivals: Mapping[str, Mapping[int, float]],
                 windows: Mapping[int, frozenset[str]], replay: list[tuple[float, str]] | None = None) -> None:
        super().__init__(catalog, day, seed, 1.0, Ledger())
        self.planned_arrivals = arrivals
        self.replay = replay  # (seconds after midnight, item): these arrivals instead of Poisson ones
        self.planned = windows  # half hour (minutes after midnight) -> the window ids open then
        self.lunch = None  # the plan says when windows close
        self.slots = sorted(windows)
        self.gave_up: dict[str, float] = {}  # ticket -> seconds after midnight when its holder left

    def slot_now(self) -> int | None:
        m = int(self.t // SLOT_S) * SLOT_MIN
        return m if m in self.planned else None

    def planned_now(self, w: _Window) -> bool:
        s = self.slot_now()
        return s is None or w.id in self.planned[s]  # between the plan's half hours: serve out the queue

    def run(self, until: float | None = None) -> None:
        for s in self.slots:
            self.at(s * 60, self.follow_plan)
        self._arrivals()
        self.play_until(self.close_s + 3 * 3600)

    def follow_plan(self) -> None:
        s = self.slot_now()
        for w in self.windows.values():
            if s is not None and w.id in self.planned[s]:
                if w.status in ("closed", "lunch", "done"):
                    w.status = "closed"
                    self.open_window(w)
            elif w.status == "idle":
                self.try_call(w)

    def try_call(self, w: _Window) -> None:
        if w.status != "idle":
            return
        if not self.planned_now(w):
            if self.do(c.CloseWindow(by=w.clerk, window=w.id)):
                w.status = "closed"
                w.waiting_for_work = False
            return
        events = self.do(c.CallNext(by=w.clerk, window=w.id))
        if events:
            self.called(w, events[0].ticket)  # type: ignore[attr-defined]
            return
        if self.slot_now() is None:  # lunch or after hours, nobody left: close
            if self.do(c.CloseWindow(by=w.clerk, window=w.id)):
                w.status = "closed"
            return
        w.waiting_for_work = True  # until the day's `notice` sees a ticket it may call

    def _arrivals(self) -> None:
        rng = self.rng
        if self.replay is not None:
            for t, item in self.replay:
                if item in self.catalog.items:
                    self.at(t, self.arrive, item)
            return
        for item, slots in sorted(self.planned_arrivals.items()):
            if item not in self.catalog.items:
                continue
            for s, mean in sorted(slots.items()):
                for t in _poisson_times(rng, mean, s * 60, SLOT_S):
                    if item_issuing(self.catalog, item, self.midnight + timedelta(seconds=t)):
                        self.at(t, self.arrive, item)

    def give_up(self, tid: str) -> None:
        if self.state.tickets[tid].status.value == "waiting":
            self.gave_up[tid] = self.t
        super().give_up(tid)

    def rate(self, tid: str) -> None:  # ratings do not matter to the plan
        return

    def sweep(self) -> None:
        return


def _poisson_times(rng: random.Random, mean: float, start: float, span: float) -> list[float]:
    out, t = [], 0.0
    if mean <= 0:
        return out
    while True:
        t += rng.expovariate(mean / span)
        if t >= span:
            return out
        out.append(start + t)


@dataclass(frozen=True, slots=True)
class SlotWaits:
    """The waits (seconds) of one half hour's arrivals in a played day."""

    slot: int
    waits: tuple[float, ...]

    @property
    def mean_s(self) -> float | None:
        return sum(self.waits) / len(self.waits) if self.waits else None

    @property
    def p90_s(self) -> float | None:
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def slot_waits(sim: DaySim, slots: list[int]) -> dict[int, SlotWaits]:
    """Each half hour's arrivals' waits: until they gave up, or else until the first call or the day's end."""
    found: dict[int, list[float]] = {s: [] for s in slots}
    end = sim.now()
    gave_up: dict[str, float] = getattr(sim, "gave_up", {})
    for t in sim.state.tickets.values():
        local = t.issued_at.astimezone(sim.tz)
        s = (local.hour * 60 + local.minute) // SLOT_MIN * SLOT_MIN
        if s not in found:
            continue
        if t.id in gave_up:  # their number may be called later, to nobody
            waited = (sim.midnight + timedelta(seconds=gave_up[t.id]) - t.issued_at).total_seconds()
        elif t.called_at is not None:
            waited = (t.called_at - t.issued_at).total_seconds()
        else:
            waited = (end - t.issued_at).total_seconds()
        found[s].append(max(0.0, waited))
    return {s: SlotWaits(s, tuple(w)) for s, w in found.items()}


def play(catalog: Catalog, day: date, arrivals: Mapping[str, Mapping[int, float]], windows: Mapping[int, frozenset[str]],
         seeds: tuple[int, ...] = (1, 2), replay: list[tuple[float, str]] | None = None) -> dict[int, SlotWaits]:
    """Play the day once per seed (`replay`: these arrivals each time); each half hour's waits of all plays together."""
    merged: dict[int, list[float]] = {s: [] for s in windows}
    for seed in seeds:
        sim = PlanDaySim(catalog, day, seed, arrivals, windows, replay)
        sim.run()
        for s, w in slot_waits(sim, list(windows)).items():
            merged[s].extend(w.waits)
    return {s: SlotWaits(s, tuple(w)) for s, w in merged.items()}


__all__ = ["PlanDaySim", "SlotWaits", "play", "slot_waits"]
