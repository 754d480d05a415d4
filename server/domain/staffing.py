"""排班建议: how many windows of each kind to open each half hour, from Erlang-C. Pure.

Windows that serve the same items on the same schedule are one *group* (the hall's two market
windows, say): the plan says how many of a group to open. In each half hour, each item's
offered load (arrivals × handling time, in erlangs) is spread over the open groups that serve
it then (综合定时办理 schedules respected), always to the least loaded one, so that a
comprehensive window takes the overflow of the dedicated ones as a hall's call policy does;
each group is then an M/M/c queue (Erlang-C, stationary within the half hour):

    P(wait) = C(c, a),   mean wait = C · s / (c − a),   P(wait > t) = C · exp(−(c − a) t / s)

The plan adds windows, worst group first, until every group keeps its mean wait under the
hall's target and its 90th percentile under the alert threshold (P(wait > threshold) ≤ 10 %),
then takes back any window whose removal keeps that true: the fewest windows, group by group.
A group that cannot meet the target with all its windows open is *short*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .calendar import items_served_now
from .catalog import Catalog
from .queueing import erlang_c

CHUNKS = 16  # each item's load is spread in this many parts
TAIL = 0.1  # the 90th percentile: P(wait > threshold) at most this


@dataclass(frozen=True, slots=True)
class Group:
    """Windows that serve the same items on the same schedule: interchangeable for the plan."""

    key: str
    kind: str
    windows: tuple[str, ...]
    items: tuple[str, ...]


def window_groups(catalog: Catalog) -> list[Group]:
    """The hall's open-able windows grouped by kind, items and schedule, in the hall's order."""
    found: dict[tuple[object, ...], list[str]] = {}
    for w in catalog.config.windows:
        if w.retired:
            continue
        found.setdefault((w.kind, tuple(sorted(w.items)), w.scheduled), []).append(w.id)
    return [Group(ws[0], k[0], tuple(ws), tuple(k[1])) for k, ws in found.items()]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Queue:
    """One group's half hour as an M/M/c queue: `a` erlangs on `c` windows, handling `s` seconds.

    `cv2`, the squared coefficient of variation of handling times, scales the waits by
    (1 + cv2) / 2 (Allen–Cunneen): 1, exponential handling, is Erlang-C itself; a hall's
    services vary less, and an M/M/1 window would otherwise look hopeless under a 20-minute
    alert threshold."""

    c: int
    a: float
    s: float
    cv2: float = 1.0

    @property
    def scale_s(self) -> float:
        return self.s * (1 + self.cv2) / 2

    @property
    def stable(self) -> bool:
        return self.a <= 0 or (self.c > 0 and self.a < self.c)

    @property
    def p_wait(self) -> float:
        return erlang_c(self.c, self.a)

    @property
    def mean_wait_s(self) -> float:
        if self.a <= 0:
            return 0.0
        return self.p_wait * self.scale_s / (self.c - self.a) if self.stable else math.inf

    def p_longer(self, t: float) -> float:
        """P(wait > t)."""
        if self.a <= 0:
            return 0.0
        return self.p_wait * math.exp(-(self.c - self.a) * t / self.scale_s) if self.stable else 1.0

    def quantile_s(self, q: float = 1 - TAIL) -> float:
        """The wait that a share `q` of arrivals do not exceed."""
        if self.a <= 0:
            return 0.0
        if not self.stable:
            return math.inf
        pw = self.p_wait
        return 0.0 if pw <= 1 - q else self.scale_s / (self.c - self.a) * math.log(pw / (1 - q))

    def meets(self, mean_s: float, p90_s: float) -> bool:
        return self.mean_wait_s <= mean_s and self.p_longer(p90_s) <= TAIL

    def shortfall(self, mean_s: float, p90_s: float) -> tuple[float, float]:
        """How short a group is: its erlangs beyond its windows, then how far from the targets."""
        return (max(0.0, self.a - self.c), self.excess(mean_s, p90_s) if self.stable else 0.0)

    def excess(self, mean_s: float, p90_s: float) -> float:
        """How far from the targets (above 1: missed), for choosing where a window helps most."""
        if not self.stable:
            return math.inf
        return max(self.mean_wait_s / mean_s, self.p_longer(p90_s) / TAIL)


@dataclass(frozen=True, slots=True)
class Demand:
    """An item's half hour: expected arrivals, the mean handling time (seconds per ticket) and
    its squared coefficient of variation."""

    arrivals: float
    handling_s: float
    cv2: float = 1.0

    @property
    def load(self) -> float:
        return self.arrivals * self.handling_s


@dataclass
class SlotPlan:
    """One half hour's plan: windows per group, their queues, and what could not be met."""

    open: dict[str, int]
    queues: dict[str, Queue]
    limits: dict[str, float]  # group -> its 90th percentile threshold
    short: list[str] = field(default_factory=list)  # groups that miss the targets with all windows open
    unserved: list[str] = field(default_factory=list)  # items with arrivals that no window serves now

    @property
    def windows(self) -> int:
        return sum(self.open.values())


def allocate(demand: Mapping[str, Demand], serving: Mapping[str, frozenset[str]], open_: Mapping[str, int]) -> tuple[dict[str, Queue], list[str]]:
    """Spread each item's load over the open groups serving it now, least loaded first.

    Returns the groups' queues and the items with arrivals that no open group serves."""
    loads = {g: 0.0 for g in serving}
    rates = {g: 0.0 for g in serving}
    spread = {g: 0.0 for g in serving}  # load-weighted cv2
    unserved: list[str] = []
    options = {i: [g for g, items in serving.items() if i in items and open_.get(g, 0) > 0] for i in demand}
    for item in sorted(demand, key=lambda i: (len(options[i]), -demand[i].load, i)):
        d = demand[item]
        if d.arrivals <= 0:
            continue
        if not options[item]:
            unserved.append(item)
            continue
        for _ in range(CHUNKS):
            g = min(options[item], key=lambda g: ((loads[g] + d.load / CHUNKS) / open_[g], g))
            loads[g] += d.load / CHUNKS
            rates[g] += d.arrivals / CHUNKS
            spread[g] += d.cv2 * d.load / CHUNKS
    queues = {g: Queue(open_.get(g, 0), loads[g], loads[g] / rates[g] if rates[g] else 0.0, spread[g] / loads[g] if loads[g] else 1.0)
              for g in serving}
    return queues, unserved


def plan_slot(
    groups: list[Group],
    serving: Mapping[str, frozenset[str]],
    demand: Mapping[str, Demand],
    slot_s: float,
    target_s: float,
    limit_of: Mapping[str, float],
    least: Mapping[str, int] | None = None,
) -> SlotPlan:
    """The fewest open windows per group that meet the targets in one half hour of `slot_s`.

    `serving`: group -> the items its windows serve in this half hour; `demand`: item -> its
    half hour; `limit_of`: item -> its 90th percentile threshold; `least`: windows a group keeps
    open whatever Erlang-C says (what a simulation found missing)."""
    per_s = {i: Demand(d.arrivals / slot_s, d.handling_s, d.cv2) for i, d in demand.items()}
    size = {g.key: len(g.windows) for g in groups}
    least = dict(least or {})
    open_ = {g.key: min(size[g.key], least.get(g.key, 0)) for g in groups}

    def limits(queues: dict[str, Queue]) -> dict[str, float]:
        return {g: min((limit_of[i] for i in serving[g] if per_s.get(i, Demand(0, 0)).arrivals > 0), default=math.inf) for g in queues}

    def state() -> tuple[dict[str, Queue], list[str], dict[str, float]]:
        queues, unserved = allocate(per_s, serving, open_)
        return queues, unserved, limits(queues)

    short: set[str] = set()
    while True:
        queues, unserved, lim = state()
        # open a window where the unserved items' load would go: the smallest group that serves most of it
        choices = [g.key for g in groups if open_[g.key] < size[g.key] and any(i in serving[g.key] for i in unserved)]
        if choices:
            best = max(choices, key=lambda g: (sum(per_s[i].load for i in unserved if i in serving[g]), -len(serving[g]), g))
            open_[best] += 1
            continue
        missed = [g for g, q in queues.items() if q.a > 0 and g not in short and not q.meets(target_s, lim[g])]
        if not missed:
            break
        worst = max(missed, key=lambda g: (queues[g].excess(target_s, lim[g]), g))
        if open_[worst] < size[worst]:
            open_[worst] += 1
            continue
        # the group is full: a group sharing its items takes some of its load, or it is short
        shared = [g.key for g in groups if g.key != worst and open_[g.key] < size[g.key] and serving[g.key] & serving[worst]]
        if shared:
            open_[min(shared, key=lambda g: (queues[g].a / max(1, open_[g]), g))] += 1
        else:
            short.add(worst)
    # take back what is not needed, the least loaded group first, until no window can go
    never = set(unserved)  # items no window can serve now (the plan cannot help them)
    short = {g for g, q in queues.items() if q.a > 0 and not q.meets(target_s, lim[g])}  # a full group may be helped since

    def fits() -> bool:
        queues2, unserved2, lim2 = state()
        return set(unserved2) <= never and all(
            q.a <= 0 or k in short or q.meets(target_s, lim2[k]) for k, q in queues2.items()
        ) and all(queues2[k].a <= 0 or queues2[k].shortfall(target_s, lim2[k]) <= queues[k].shortfall(target_s, lim[k]) for k in short)

    removed = True
    while removed:
        removed = False
        for g in sorted(open_, key=lambda g: (queues[g].a / max(1, open_[g]), g)):
            if open_[g] <= least.get(g, 0):
                continue
            open_[g] -= 1
            if fits():
                removed = True
            else:
                open_[g] += 1
    queues, unserved, lim = state()
    short_now = sorted(g for g, q in queues.items() if q.a > 0 and not q.meets(target_s, lim[g]))
    return SlotPlan(dict(open_), queues, lim, short_now, sorted(unserved))


def plan_day(
    catalog: Catalog,
    day: date,
    slots: tuple[int, ...],
    demand: Mapping[int, Mapping[str, Demand]],
    least: Mapping[int, Mapping[str, int]] | None = None,
    slot_s: float = 1800.0,
) -> dict[int, SlotPlan]:
    """The plan of each half hour of a day (`slots`: minutes after midnight)."""
    groups = window_groups(catalog)
    tz = ZoneInfo(catalog.hall.timezone)
    limits = item_limits(catalog)
    out = {}
    for s in slots:
        middle = datetime.combine(day, time(s // 60, s % 60), tz) + timedelta(seconds=slot_s / 2)
        serving = {g.key: items_served_now(catalog, g.key, middle) for g in groups}
        out[s] = plan_slot(groups, serving, demand.get(s, {}), slot_s, catalog.hall.staffing.target_wait_s, limits,
                           (least or {}).get(s))
    return out


def item_limits(catalog: Catalog) -> dict[str, float]:
    """Each item's 90th percentile threshold: the hall's staffing setting, else the item's (or
    the hall's) first wait alert threshold."""
    staffing = catalog.hall.staffing
    hall_first = catalog.hall.supervision.wait_s[0]
    return {
        i: float(staffing.p90_wait_s or (item.alerts.wait_s[0] if item.alerts.wait_s else hall_first))
        for i, item in catalog.items.items()
    }


__all__ = ["Demand", "Group", "Queue", "SlotPlan", "allocate", "erlang_c", "item_limits", "plan_day", "plan_slot", "window_groups"]
