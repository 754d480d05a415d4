"""What the online channels may take of an item's day, so that walk-ins always find numbers. Pure.

An item's day is its `daily_quota`, or else what its windows can serve in its hours: for each
window serving the item, the item's open seconds ÷ its expected service time, divided among
the items the window serves. Bookings (网上预约, of any channel) and online numbers (远程取号 and
other tickets of the `online` channel) together hold at most (1 − `booking.walk_in_share`) of
it, rounded down; the rest is left to the kiosk and the counter. A booking that was cancelled
or missed holds nothing; an online ticket holds its place once issued, as the quota counts it.

The share is what one address, many addresses or many phone numbers can take at most: the
limit that an attacker cannot multiply.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from .catalog import Catalog
from .errors import Conflict
from .model import Channel, HallDay


def _open_seconds(catalog: Catalog, item_id: str) -> float:
    item = catalog.items[item_id]
    total = 0.0
    for r in (item.hours or catalog.hall.opening).hours:
        start = datetime.combine(date.min, r.start)
        end = datetime.combine(date.min, r.end) if r.end != time(23, 59) else datetime.combine(date.min, time(0)) + timedelta(days=1)
        total += (end - start).total_seconds()
    return total


def day_capacity(catalog: Catalog, item_id: str) -> int:
    """The numbers an item's open day holds: its daily quota, or its windows' capacity."""
    item = catalog.items[item_id]
    if item.daily_quota is not None:
        return item.daily_quota
    seconds = _open_seconds(catalog, item_id)
    total = sum(seconds / item.expected_service_s / len(catalog.windows[w].items) for w in catalog.windows_of_item[item_id])
    return math.floor(total + 1e-9)


def online_allowance(catalog: Catalog, item_id: str) -> int:
    """The most that bookings and online numbers of an item may hold on one day."""
    return math.floor(day_capacity(catalog, item_id) * (1.0 - catalog.hall.booking.walk_in_share) + 1e-9)


def online_held(state: HallDay, item_id: str) -> int:
    """Places of the day the online channels hold: live or used bookings, and online tickets."""
    booked = sum(1 for a in state.appointments.values() if a.item == item_id and not (a.cancelled or a.missed))
    online = sum(1 for t in state.tickets.values() if t.item == item_id and t.channel is Channel.online and t.appointment is None)
    return booked + online


def online_left(state: HallDay, catalog: Catalog, item_id: str) -> int:
    return max(0, online_allowance(catalog, item_id) - online_held(state, item_id))


def check_online_share(state: HallDay, catalog: Catalog, item_id: str) -> None:
    """Refuse a booking or an online number once the online channels hold their share of the day."""
    if online_left(state, catalog, item_id) > 0:
        return
    item = catalog.items[item_id]
    allowance = online_allowance(catalog, item_id)
    raise Conflict(
        "online-share-exhausted",
        f"the {allowance} places of {item.name} on {state.day.isoformat()} that may be taken online are all taken: "
        "please choose another day or take a number in the hall",
        allowance=allowance,
    )
