"""A pool of identical windows (one item, exponential service, Poisson arrivals) played through
the domain core: the queueing-theory case against which the call policy and the wait estimates
are checked (tests/domain/test_priority_lane.py, bench/estimates.py). Pure: no I/O, a seeded
random generator, a clock that is just a number."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..domain import commands as cmd
from ..domain.apply import apply
from ..domain.catalog import Catalog, HallConfig
from ..domain.decide import decide
from ..domain.model import HallDay

START = datetime(2026, 11, 25, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_PUBLICS = {"content": "-", "legal_basis": "-", "procedure": "-", "requirements": "-", "time_limit": "-", "fee": "-"}


def pool_catalog(windows: int, service_s: float, priority_ratio: int = 2) -> Catalog:
    return Catalog(HallConfig.model_validate({
        "hall": {"id": "pool", "name": "pool", "enforce_hours": False, "policy": {"priority_ratio": priority_ratio}},
        "departments": [{"id": "d", "name": "d"}],
        "items": [{"id": "i", "name": "i", "department": "d", "prefix": "A", "publics": _PUBLICS,
                   "expected_service_s": max(30, round(service_s))}],
        "windows": [{"id": f"w{n}", "name": f"w{n}", "kind": "dedicated", "items": ["i"]} for n in range(windows)],
        "users": [{"username": "admin", "name": "admin", "role": "admin"}],
    }))


@dataclass(slots=True)
class Run:
    served: list[Served]
    # the most priority calls one window made in a row while a normal ticket waited for it
    longest_priority_run: int = 0


@dataclass(frozen=True, slots=True)
class Served:
    priority: bool
    told_s: int  # the wait the ticket was told when issued
    waited_s: float  # from issue to call
    ahead: int


def play(windows: int, load: float, service_s: float, tickets: int, *, priority_share: float = 0.0,
         priority_ratio: int = 2, seed: int = 1) -> Run:
    """`tickets` arrivals at `load` (the share of the pool's capacity), each served for an
    exponential time of mean `service_s`; every window calls the next ticket as soon as it is
    free. Returns the tickets in order of issue. The whole run is one hall day: waits scale with
    the service time, so a short one (30 s, the least an item may expect) plays many tickets."""
    rng = random.Random(seed)
    catalog = pool_catalog(windows, service_s, priority_ratio)
    state = HallDay("pool", START.date())
    rate = load * windows / service_s
    t = 0.0
    issued: dict[str, tuple[float, bool, int, int]] = {}
    called: dict[str, float] = {}

    def do(command: cmd.Command, at: float) -> list:
        now = START + timedelta(seconds=at)
        events = decide(state, catalog, command, now)
        for e in events:
            apply(state, e)
        return events

    for n in range(windows):
        do(cmd.OpenWindow(by="admin", window=f"w{n}"), 0.0)
    idle = [f"w{n}" for n in range(windows)]
    finishing: list[tuple[float, str]] = []  # (time, window)
    arrivals = 0
    next_arrival = rng.expovariate(rate)

    run = Run([])
    streak = {f"w{n}": 0 for n in range(windows)}

    def call(window: str, at: float) -> bool:
        normal_waiting = len(state.waiting.get("i", ())) > state.front.get("i", 0)
        events = do(cmd.CallNext(by="admin", window=window), at)
        if not events:
            return False
        called[events[0].ticket] = at
        if events[0].lane == "priority" and normal_waiting:
            streak[window] += 1
            run.longest_priority_run = max(run.longest_priority_run, streak[window])
        elif events[0].lane != "priority":
            streak[window] = 0
        do(cmd.StartService(by="admin", window=window), at)
        heapq.heappush(finishing, (at + rng.expovariate(1 / service_s), window))
        return True

    if tickets / rate > 23 * 3600:
        raise ValueError("the run does not fit in one day: fewer tickets or a shorter service time")
    while arrivals < tickets or finishing:
        if arrivals < tickets and (not finishing or next_arrival <= finishing[0][0]):
            t = next_arrival
            arrivals += 1
            priority = rng.random() < priority_share
            (e,) = do(cmd.IssueTicket(by="kiosk", ticket=f"t{arrivals}", item="i", priority=priority), t)
            issued[e.ticket] = (t, priority, e.estimated_wait_s, e.ahead)
            if idle and call(idle[-1], t):
                idle.pop()
            next_arrival = t + rng.expovariate(rate)
        else:
            t, window = heapq.heappop(finishing)
            do(cmd.FinishService(by="admin", window=window, case_type="immediate"), t)
            if not call(window, t):
                idle.append(window)
    run.served = [Served(p, told, called[tid] - at, ahead) for tid, (at, p, told, ahead) in issued.items()]
    return run
