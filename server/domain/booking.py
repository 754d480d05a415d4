"""网上预约 and 远程取号: bookable slots, booking rules, and remote tickets' arrival. Pure.

Slots come from the item's hours (or the hall's), on the days the official calendar opens
(holidays off, swapped working days 调休 on) and not in the hall's `booking.closed_days`.
A slot's capacity is the item's `booking.capacity`, or else the share of the serving windows'
capacity that is not kept for walk-ins: for each window serving the item at that time,
slot length ÷ the item's expected service time × (1 − walk_in_share), divided among the
bookable items the window serves then; summed, rounded down.

A booking belongs to the hall-day of its slot: it is decided against that day's folded state,
so the capacity check and the journal's expected position make overbooking impossible. Over
the whole day, bookings and online numbers together hold no more than the online share of the
item's day (server/domain/shares.py), whatever the slots' own capacities add up to.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import commands as cmd
from . import events as ev
from .calendar import items_served_now, opens_on
from .catalog import Catalog, Item
from .errors import Conflict, Invalid, NotFound
from .model import OPEN_STATUSES, Appointment, HallDay, TicketStatus
from .shares import check_online_share, online_left

PHONE_PATTERN = r"^1[3-9][0-9]{9}$"  # a mainland mobile number; the API's models validate with it too
# Booking codes avoid 0/O and 1/I, which citizens misread and kiosks' keyboards confuse.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def _item(catalog: Catalog, item_id: str) -> Item:
    item = catalog.items.get(item_id)
    if item is None:
        raise NotFound("unknown-item", f"no service item {item_id!r} in this hall")
    return item


def valid_phone(phone: str) -> bool:
    """A mainland mobile number (11 digits, 1 then 3–9)."""
    return re.fullmatch(PHONE_PATTERN.strip("^$"), phone) is not None


def mask_phone(phone: str) -> str:
    """138****1234: the only form of a phone number any answer or page shows."""
    return f"{phone[:3]}****{phone[-4:]}"


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int


def _bookable_at(catalog: Catalog, window: str, at: datetime) -> list[str]:
    return [i for i in items_served_now(catalog, window, at) if catalog.items[i].booking.slots]


def slot_capacity(catalog: Catalog, item: Item, start: datetime, end: datetime) -> int:
    if item.booking.capacity is not None:
        return item.booking.capacity
    share = 1.0 - catalog.hall.booking.walk_in_share
    seconds = (end - start).total_seconds()
    total = 0.0
    for w in catalog.windows_of_item[item.id]:
        bookable = _bookable_at(catalog, w, start)
        if item.id in bookable:
            total += seconds / item.expected_service_s * share / len(bookable)
    return math.floor(total + 1e-9)


def slots_of_day(catalog: Catalog, item_id: str, day: date) -> list[Slot]:
    """The bookable slots of an item on a day, with their capacity (none on closed days)."""
    item = catalog.items[item_id]
    if not item.booking.slots or item.retired or day in catalog.hall.booking.closed_days:
        return []
    schedule = item.hours or catalog.hall.opening
    if not opens_on(schedule, day, catalog.hall.calendar):
        return []
    tz = ZoneInfo(catalog.hall.timezone)
    step = timedelta(minutes=item.booking.slot_minutes)
    out: list[Slot] = []
    for r in schedule.hours:
        start = datetime.combine(day, r.start, tz)
        stop = datetime.combine(day, r.end, tz) if r.end != time(23, 59) else datetime.combine(day + timedelta(days=1), time(0), tz)
        while start + step <= stop:
            capacity = slot_capacity(catalog, item, start, start + step)
            if capacity > 0:
                out.append(Slot(start, start + step, capacity))
            start += step
    return out


def booked_in(state: HallDay, item: str, start: datetime) -> int:
    """Bookings that hold a place in the slot: all but the cancelled ones."""
    return sum(1 for a in state.appointments.values() if a.item == item and a.slot_start == start and not a.cancelled)


def places_left(state: HallDay, catalog: Catalog, item: str, slot: Slot, now: datetime) -> int:
    """What a slot still offers: none once begun; no more than the online share of its day leaves."""
    if slot.start <= now:
        return 0
    return max(0, min(slot.capacity - booked_in(state, item, slot.start), online_left(state, catalog, item)))


def is_active(a: Appointment, catalog: Catalog, now: datetime) -> bool:
    """A booking still to be used: not cancelled, checked in or missed, and its check-in not over."""
    if a.cancelled or a.missed or a.ticket is not None:
        return False
    return now <= a.slot_start + timedelta(seconds=catalog.hall.policy.appointment_late_s)


def held_by(state: HallDay, catalog: Catalog, phone_key: str, now: datetime) -> int:
    return sum(1 for a in state.appointments.values() if a.phone_key == phone_key and is_active(a, catalog, now))


def check_day(catalog: Catalog, day: date, now: datetime) -> None:
    """A day that may be booked: from today up to `booking.days_ahead` days after it."""
    today = now.astimezone(ZoneInfo(catalog.hall.timezone)).date()
    if day < today:
        raise Invalid("past-day", f"{day.isoformat()} is in the past: choose today or a later day")
    ahead = catalog.hall.booking.days_ahead
    if day > today + timedelta(days=ahead):
        raise Invalid("too-far-ahead", f"appointments are taken up to {ahead} days ahead")


def _slot(state: HallDay, catalog: Catalog, item_id: str, start: datetime, now: datetime) -> Slot:
    item = _item(catalog, item_id)
    if not item.booking.slots:
        raise Conflict("not-bookable", f"{item.name} cannot be booked online; please take a number in the hall")
    check_day(catalog, start.date(), now)
    if start.date() != state.day:
        raise Invalid("bad-slot", f"the slot is not on {state.day.isoformat()}")
    slot = next((s for s in slots_of_day(catalog, item_id, state.day) if s.start == start), None)
    if slot is None:
        raise NotFound("unknown-slot", f"{item.name} has no slot at {start:%Y-%m-%d %H:%M}")
    if start <= now:
        raise Conflict("slot-started", f"the slot at {start:%H:%M} has begun: choose a later one")
    if booked_in(state, item_id, start) >= slot.capacity:
        raise Conflict("slot-full", f"the slot at {start:%H:%M} is fully booked: please choose another", capacity=slot.capacity)
    return slot


def book(state: HallDay, catalog: Catalog, c: cmd.BookAppointment, now: datetime) -> list[ev.Event]:
    existing = state.appointments.get(c.code)
    if existing is not None and not existing.cancelled:
        raise Conflict("duplicate-appointment", f"appointment {c.code!r} exists already")
    slot = _slot(state, catalog, c.item, c.slot_start, now)
    check_online_share(state, catalog, c.item)
    limit = catalog.hall.booking.max_active_per_phone
    if c.held_elsewhere + held_by(state, catalog, c.phone_key, now) >= limit:
        raise Conflict(
            "booking-limit", f"this phone number holds {limit} bookings already: use or cancel one first", limit=limit
        )
    same = any(
        a.phone_key == c.phone_key and a.item == c.item and is_active(a, catalog, now) for a in state.appointments.values()
    )
    if same:
        raise Conflict("already-booked", "this phone number has booked this service on this day already")
    return [
        ev.AppointmentRegistered(
            at=now, by=c.by, code=c.code, item=c.item, slot_start=slot.start, slot_end=slot.end, channel=c.channel,
            phone_key=c.phone_key, phone_masked=c.phone_masked, moved_from=c.moved_from, person_key=c.person_key,
        )
    ]


def appointment_of(state: HallDay, code: str) -> Appointment:
    a = state.appointments.get(code)
    if a is None:
        raise NotFound("unknown-appointment", f"no appointment {code!r}")
    return a


def check_changeable(a: Appointment, catalog: Catalog, now: datetime) -> None:
    if a.cancelled:
        raise Conflict("appointment-cancelled", "this appointment has been cancelled")
    if a.ticket is not None:
        raise Conflict("appointment-used", "this appointment has been checked in already")
    if not is_active(a, catalog, now):
        raise Conflict("appointment-missed", "the time of this appointment is over")


def reschedule(state: HallDay, catalog: Catalog, c: cmd.RescheduleAppointment, now: datetime) -> list[ev.Event]:
    a = appointment_of(state, c.code)
    check_changeable(a, catalog, now)
    if c.slot_start == a.slot_start:
        raise Conflict("same-slot", "the appointment is in this slot already")
    slot = _slot(state, catalog, a.item, c.slot_start, now)
    return [ev.AppointmentRescheduled(at=now, by=c.by, code=a.code, slot_start=slot.start, slot_end=slot.end)]


def cancel(state: HallDay, catalog: Catalog, c: cmd.CancelAppointment, now: datetime) -> list[ev.Event]:
    a = appointment_of(state, c.code)
    check_changeable(a, catalog, now)
    return [ev.AppointmentCancelled(at=now, by=c.by, code=a.code, reason=c.reason)]


def release_missed(state: HallDay, catalog: Catalog, c: cmd.ReleaseMissed, now: datetime) -> list[ev.Event]:
    """爽约: every booking whose check-in time ran out unused is released and recorded."""
    return [
        ev.AppointmentMissed(at=now, by=c.by, code=a.code)
        for a in state.appointments.values()
        if not (a.cancelled or a.missed or a.ticket is not None) and not is_active(a, catalog, now)
    ]


def check_remote(state: HallDay, catalog: Catalog, c: cmd.IssueTicket) -> None:
    """远程取号: the item allows it, and the phone holds no other open remote ticket for it."""
    item = catalog.items[c.item]
    if not item.booking.remote:
        raise Conflict("remote-off", f"{item.name} cannot be queued for remotely; please take a number in the hall")
    if c.priority or c.appointment is not None:
        raise Invalid("remote-plain", "a remote ticket is a normal ticket: no priority lane, no appointment")
    if not c.phone_key:
        raise Invalid("phone-required", "a remote ticket needs the holder's phone number")
    for t in state.tickets.values():
        if t.remote and t.phone_key == c.phone_key and t.status in OPEN_STATUSES and c.item in (t.item,):
            raise Conflict("remote-limit", f"this phone number holds an open remote ticket for {item.name} already ({t.number})")


def confirm_arrival(state: HallDay, c: cmd.ConfirmArrival, now: datetime) -> list[ev.Event]:
    t = state.tickets.get(c.ticket)
    if t is None:
        raise NotFound("unknown-ticket", f"no ticket {c.ticket!r} today")
    if not t.remote:
        raise Conflict("not-remote", "only a remote ticket needs its arrival confirmed")
    if t.arrived_at is not None:
        return []  # confirmed before: nothing new to record
    if t.status is not TicketStatus.waiting:
        raise Conflict("not-waiting", f"a ticket that is {t.status.value} cannot confirm arrival")
    return [ev.ArrivalConfirmed(at=now, by=c.by, ticket=t.id)]


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.BookAppointment: book,
    cmd.RescheduleAppointment: reschedule,
    cmd.CancelAppointment: cancel,
    cmd.ReleaseMissed: release_missed,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.ConfirmArrival: confirm_arrival,
}
