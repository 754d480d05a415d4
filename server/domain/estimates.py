"""Estimates for citizens: people ahead and expected wait, from the day's own figures.

An estimate, not a promise: "ahead" counts the waiting tickets that compete for the same
windows and rank before this one (appointments, then priority, then by queue time); the
wait divides their expected service by the windows serving the item that are open now
(at least one, so a hall before opening still gives a figure).
"""

from __future__ import annotations

from .catalog import Catalog
from .model import HallDay, Ticket, TicketStatus, WindowStatus

_WORKING = (WindowStatus.idle, WindowStatus.called, WindowStatus.serving)


def mean_service_s(state: HallDay, catalog: Catalog, item: str) -> float:
    f = state.figures.get(item)
    if f and f.count:
        return f.total_s / f.count
    return float(catalog.items[item].expected_service_s)


def open_windows(state: HallDay, catalog: Catalog, item: str) -> int:
    return sum(
        1
        for w in catalog.windows_of_item[item]
        if w in state.windows and state.windows[w].status in _WORKING
    )


def wait_for(state: HallDay, catalog: Catalog, item: str, ahead: int) -> int:
    per_window = ahead * mean_service_s(state, catalog, item)
    return round(per_window / max(1, open_windows(state, catalog, item)))


def _rank(t: Ticket) -> tuple:
    lane = 0 if t.appointment else 1 if t.priority else 2
    return (lane, t.queued_at, t.ordinal)


def ahead(state: HallDay, catalog: Catalog, t: Ticket) -> int:
    """Waiting tickets ranked before `t` among those competing for its windows."""
    if t.status is not TicketStatus.waiting:
        return 0
    mine = _rank(t)
    count = 0
    for item in catalog.pool_of_item[t.item]:
        for tid in state.waiting.get(item, ()):
            o = state.tickets[tid]
            if o.target_window == t.target_window and _rank(o) < mine:
                count += 1
    return count


def ahead_of_newcomer(state: HallDay, catalog: Catalog, item: str, priority: bool, appointment: bool = False) -> int:
    """`ahead` for a ticket issued now, the same count as `ahead` gives it once issued; in
    constant time per item for walk-ins (the kiosk's hot path). Tickets transferred to one
    window wait for that window alone, so they are not ahead of a newcomer."""
    pool = catalog.pool_of_item[item]
    if appointment:  # rare: a check-in ranks behind the appointments already here
        waiting = (state.tickets[tid] for i in pool for tid in state.waiting.get(i, ()))
        return sum(1 for t in waiting if t.appointment is not None and t.target_window is None)
    pinned = [t for t in (state.tickets[tid] for ids in state.pinned.values() for tid in ids) if t.item in pool]
    if priority:
        return sum(state.front.get(i, 0) for i in pool) - sum(1 for t in pinned if t.front)
    return sum(len(state.waiting.get(i, ())) for i in pool) - len(pinned)


def estimate(state: HallDay, catalog: Catalog, t: Ticket) -> tuple[int, int]:
    n = ahead(state, catalog, t)
    return n, wait_for(state, catalog, t.item, n)
