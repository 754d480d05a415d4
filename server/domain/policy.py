"""The call order: whom a window calls next. One pure module, pinned down by property tests.

For the tickets a window may call now (items it serves at this hour, or pinned to it by a
transfer), in this order:

1. appointments (预约) checked in whose slot has begun: earliest slot first (one checked in
   before its slot waits in the normal lane by its check-in time until the slot begins, so an
   early arrival never jumps a queue that ageing protects);
2. priority (绿色通道) before normal, but after `priority_ratio` priority calls in a row at this
   window a waiting normal ticket gets its turn: the ratio alone keeps normal tickets from
   starving, and a normal ticket never goes before a waiting priority one otherwise;
3. within a lane, the longest-waiting ticket across all the window's queues.

Earlier releases served tickets that had waited `ageing_s` before priority ones ("aged"). When
the hall was busy nearly every normal ticket was aged, and the priority lane was switched off
exactly when it mattered (6 windows at 95 % load, 10 % priority: priority tickets waited 664 s
instead of the 58 s of the non-preemptive priority M/M/c formula). The setting is still read, so
that configurations keep loading, and does nothing; journals keep their "aged" calls.

"Longest-waiting" orders by `queued_at` (the issue time, kept across transfers; a re-queued
no-show is placed behind others), then by `ordinal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from .calendar import items_served_now
from .catalog import Catalog
from .model import HallDay, Lane, Ticket


def candidates(state: HallDay, catalog: Catalog, window: str, now: datetime) -> Iterator[Ticket]:
    """The waiting tickets this window may call now (a remote ticket once its holder has arrived)."""
    for item in items_served_now(catalog, window, now):
        for tid in state.waiting.get(item, ()):
            t = state.tickets[tid]
            if t.target_window is None and t.callable:
                yield t
    for tid in state.pinned.get(window, ()):
        t = state.tickets[tid]
        if t.callable:
            yield t


def _age_key(t: Ticket) -> tuple[datetime, float]:
    return (t.queued_at, t.ordinal)


def due(t: Ticket, now: datetime) -> bool:
    """An appointment ticket whose slot has begun: it goes before every other lane."""
    return t.appointment is not None and t.slot_start is not None and t.slot_start <= now


def _best_by_lane(tickets: Iterable[Ticket], now: datetime) -> dict[Lane, Ticket]:
    """The head of each lane among `tickets`."""
    best: dict[Lane, Ticket] = {}
    for t in tickets:
        if due(t, now):
            lane = Lane.appointment
            cur = best.get(lane)
            if cur is None or (t.slot_start, t.ordinal) < (cur.slot_start, cur.ordinal):
                best[lane] = t
            continue
        lane = Lane.priority if t.priority else Lane.normal
        cur = best.get(lane)
        if cur is None or _age_key(t) < _age_key(cur):
            best[lane] = t
    return best


def _pick(best: dict[Lane, Ticket], priority_streak: int, priority_ratio: int) -> tuple[Ticket, Lane] | None:
    if Lane.appointment in best:
        return best[Lane.appointment], Lane.appointment
    p, n = best.get(Lane.priority), best.get(Lane.normal)
    if p and n:
        if priority_streak < priority_ratio:
            return p, Lane.priority
        return n, Lane.normal
    if p:
        return p, Lane.priority
    if n:
        return n, Lane.normal
    return None


def choose_next(state: HallDay, catalog: Catalog, window: str, now: datetime) -> tuple[Ticket, Lane] | None:
    best = _best_by_lane(candidates(state, catalog, window, now), now)
    return _pick(best, state.window(window).priority_streak, catalog.hall.policy.priority_ratio)


def call_order(
    state: HallDay, catalog: Catalog, window: str, now: datetime, limit: int | None = None
) -> list[tuple[Ticket, Lane]]:
    """The waiting tickets this window may call, in the order it would call them from now on
    if nobody else arrived and no other window called: `choose_next` applied again and again.

    The window's terminal shows this as "the queue it will call from"; its first entry is
    always what `call-next` would call now.
    """
    policy = catalog.hall.policy
    remaining = {t.id: t for t in candidates(state, catalog, window, now)}
    streak = state.window(window).priority_streak
    order: list[tuple[Ticket, Lane]] = []
    while remaining and (limit is None or len(order) < limit):
        chosen = _pick(_best_by_lane(remaining.values(), now), streak, policy.priority_ratio)
        if chosen is None:
            break
        t, lane = chosen
        order.append(chosen)
        del remaining[t.id]
        # As apply() folds a TicketCalled: priority calls count up the streak, normal ones reset it.
        if lane is Lane.priority:
            streak += 1
        elif lane is Lane.normal:
            streak = 0
    return order


def requeue_place(state: HallDay, t: Ticket, places: int, now: datetime) -> tuple[datetime, float]:
    """The queue place (queued_at, ordinal) that puts a no-show behind `places` tickets of its item."""
    others = sorted(
        (state.tickets[tid] for tid in state.waiting.get(t.item, ()) if tid != t.id),
        key=_age_key,
    )
    if len(others) < places or not others:
        return now, float(t.ordinal)
    if places <= 0:
        first = others[0]
        return first.queued_at, first.ordinal - 0.5
    prev = others[places - 1]
    nxt = others[places] if places < len(others) else None
    if nxt is not None and nxt.queued_at == prev.queued_at:
        return prev.queued_at, (prev.ordinal + nxt.ordinal) / 2
    return prev.queued_at, prev.ordinal + 0.5
