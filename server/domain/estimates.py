"""Estimates for citizens: people ahead and expected wait, from the day's own figures.

An estimate, not a promise. "Ahead" counts the waiting tickets that compete for the same windows
and rank before this one (appointments, then priority, then by queue time). The wait is what
a pool of windows needs to reach this ticket:

- only the windows that serve the ticket's item count, and of a ticket ahead of another item
  only the share of it that falls on ours: each of its open windows weighs as one over the
  number of items that window serves (a window dedicated to that item takes more of it than a
  comprehensive window that serves ten);
- while none of them is open (before opening, at lunch) the wait is told as from their opening;
- when every one of those windows is busy, the ticket itself waits for one more of them to
  free: (work ahead + one service − the free windows' share) ÷ windows, so a pure pool of c
  windows with n ahead is told (n + 1 − free) × service ÷ c, the M/M/c value;
- a ticket ahead counts for the share of its item's tickets that stayed until called today
  (some give up and leave);
- service times are the day's own mean per item, drawn towards the item's expected time while
  the day has few services of it (`PRIOR_SERVICES` services' weight);
- the result is scaled by the day's own calibration: how the waits of the walk-ins called so far
  compare with what this model told them (`calibration`).

`estimate_with_range` gives the interval a citizen may be told: the spread of a wait for m departures from
a pool (an Erlang distribution: mean m·S/c, deviation √m·S/c) widened while service times are
still unsure. The figures were checked on simulated days: bench/estimates.py.
"""

from __future__ import annotations

import math

from .catalog import Catalog
from .model import HallDay, Ticket, TicketStatus, WindowStatus

_WORKING = (WindowStatus.idle, WindowStatus.called, WindowStatus.serving)
PRIOR_SERVICES = 5  # the item's expected service time counts as this many services of the day
PRIOR_WAIT_S = 3600.0  # an hour of waits modelled right, before the day's own calibrate the model
Z80 = 1.2816  # the 10th and 90th percentiles of a normal distribution: an 80 % interval


def mean_service_s(state: HallDay, catalog: Catalog, item: str) -> float:
    expected = float(catalog.items[item].expected_service_s)
    f = state.figures.get(item)
    if f and f.count:
        return (f.total_s + PRIOR_SERVICES * expected) / (f.count + PRIOR_SERVICES)
    return expected


def staying_share(state: HallDay, item: str) -> float:
    """The share of the item's waiting tickets expected to stay until called: the day's own
    give-ups (cancelled before their call) against its services, drawn towards all staying."""
    f = state.figures.get(item)
    if f is None or not f.left:
        return 1.0
    return 1 - f.left / (f.left + f.count + PRIOR_SERVICES)


def _open(state: HallDay, windows: tuple[str, ...]) -> list[str]:
    return [w for w in windows if w in state.windows and state.windows[w].status in _WORKING]


def open_windows(state: HallDay, catalog: Catalog, item: str) -> int:
    return len(_open(state, catalog.windows_of_item[item]))


def _rank(t: Ticket) -> tuple:
    lane = 0 if t.appointment else 1 if t.priority else 2
    return (lane, t.queued_at, t.ordinal)


def _ahead_of(state: HallDay, catalog: Catalog, t: Ticket) -> dict[str, int]:
    """Per item, the waiting tickets ranked before `t` among those competing for its windows."""
    mine = _rank(t)
    out: dict[str, int] = {}
    for item in catalog.pool_of_item[t.item]:
        n = 0
        for tid in state.waiting.get(item, ()):
            o = state.tickets[tid]
            if o.target_window == t.target_window and _rank(o) < mine:
                n += 1
        if n:
            out[item] = n
    return out


def _ahead_of_newcomer(state: HallDay, catalog: Catalog, item: str, priority: bool, appointment: bool) -> dict[str, int]:
    """`_ahead_of` for a ticket issued now, in constant time per item for walk-ins (the kiosk's
    hot path). Tickets transferred to one window wait for that window alone, so they are not
    ahead of a newcomer."""
    pool = catalog.pool_of_item[item]
    out: dict[str, int] = {}
    if appointment:  # rare: a check-in ranks behind the appointments already here
        for i in pool:
            n = sum(1 for tid in state.waiting.get(i, ())
                    if (o := state.tickets[tid]).appointment is not None and o.target_window is None)
            if n:
                out[i] = n
        return out
    for i in pool:
        out[i] = state.front.get(i, 0) if priority else len(state.waiting.get(i, ()))
    for ids in state.pinned.values():
        for tid in ids:
            o = state.tickets[tid]
            if o.item in pool and (o.front or not priority):
                out[o.item] -= 1
    return {i: n for i, n in out.items() if n > 0}


def _wait(state: HallDay, catalog: Catalog, item: str, ahead: dict[str, int]) -> tuple[float, float, float]:
    """(expected wait, departures it waits for, the service time it is counted in) for a ticket
    of `item` behind `ahead`."""
    windows = _open(state, catalog.windows_of_item[item])
    if windows:
        free = sum(1 for w in windows if state.windows[w].status is WindowStatus.idle)
    else:  # before opening or at lunch: the wait once the item's windows open
        windows = list(catalog.windows_of_item[item])
        free = len(windows)
    ours = set(windows)
    k = max(1, len(windows))
    service = mean_service_s(state, catalog, item)
    work = 0.0
    for other, n in ahead.items():
        theirs = _open(state, catalog.windows_of_item[other]) or list(catalog.windows_of_item[other])
        weight = {w: 1 / len(catalog.windows[w].items) for w in theirs}
        share = sum(v for w, v in weight.items() if w in ours) / sum(weight.values()) if ours and theirs else 1.0
        work += n * share * staying_share(state, other) * mean_service_s(state, catalog, other)
    departures = work / service + 1 - free  # in services of this item
    if departures <= 0:
        return 0.0, 0.0, service
    return departures * service / k, departures, service / k


def calibration(state: HallDay) -> float:
    """How much longer (> 1) or shorter (< 1) than modelled today's walk-ins waited, drawn
    towards 1 while the day has few of them (PRIOR_WAIT_S of waits modelled right), within
    [0.5, 2]: what the model cannot see (give-ups of other items, clerks slow to call, windows
    whose other items take more than their share) the day's own waits show.

    The walk-ins still waiting count too once they have waited longer than they were told (what
    they will have waited is at least that): learning only from those already called, the day
    would learn from the short waits first, and a queue growing at opening would be told ever
    less as it grew."""
    memo = state.calibrated
    if memo is not None and memo[0] == state.seq and memo[1] == state.last_at:
        return memo[2]
    waited, modelled = state.waited_s, state.modelled_wait_s
    now = state.last_at
    if now is not None:
        for ids in state.waiting.values():
            for tid in ids:
                t = state.tickets[tid]
                if t.model_wait_s is None or t.called_at is not None or t.appointment is not None or t.remote or t.transfers:
                    continue
                so_far = (now - t.issued_at).total_seconds()
                if so_far > t.model_wait_s:
                    waited += so_far
                    modelled += t.model_wait_s
    factor = min(2.0, max(0.5, (waited + PRIOR_WAIT_S) / (modelled + PRIOR_WAIT_S)))
    state.calibrated = (state.seq, now, factor)
    return factor


def newcomer_estimate(state: HallDay, catalog: Catalog, item: str, priority: bool = False,
                      appointment: bool = False) -> tuple[int, int, int]:
    """(people ahead, expected wait, the model's wait before calibration) for a ticket issued now."""
    ahead = _ahead_of_newcomer(state, catalog, item, priority, appointment)
    wait, _, _ = _wait(state, catalog, item, ahead)
    return sum(ahead.values()), round(wait * calibration(state)), round(wait)


def ahead(state: HallDay, catalog: Catalog, t: Ticket) -> int:
    """Waiting tickets ranked before `t` among those competing for its windows."""
    if t.status is not TicketStatus.waiting:
        return 0
    return sum(_ahead_of(state, catalog, t).values())


def estimate_with_range(state: HallDay, catalog: Catalog, t: Ticket) -> tuple[int, int, tuple[int, int]]:
    """(people ahead, expected wait, an 80 % interval around it) for a waiting ticket, from one
    reading of the queue. The interval is wider while the day has few services."""
    if t.status is not TicketStatus.waiting:
        return 0, 0, (0, 0)
    before = _ahead_of(state, catalog, t)
    wait, departures, per_departure = _wait(state, catalog, t.item, before)
    factor = calibration(state)
    wait, per_departure = wait * factor, per_departure * factor
    if departures <= 0:
        span = (0, round(per_departure))  # a window is free: called at once, or after one service
    else:
        f = state.figures.get(t.item)
        seen = f.count if f else 0
        spread = Z80 * per_departure * math.sqrt(departures) + wait * Z80 / math.sqrt(seen + PRIOR_SERVICES)
        span = (max(0, round(wait - spread)), round(wait + spread))
    return sum(before.values()), round(wait), span


def estimate(state: HallDay, catalog: Catalog, t: Ticket) -> tuple[int, int]:
    ahead_, wait, _ = estimate_with_range(state, catalog, t)
    return ahead_, wait
