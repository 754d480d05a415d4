"""Decisions about tickets outside the counter: issue, appointments, print, cancel, evaluation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from . import commands as cmd
from . import events as ev
from .booking import check_remote
from .calendar import item_issuing
from .catalog import Catalog
from .errors import Conflict, Invalid, NotFound
from .estimates import newcomer_estimate
from .idcard import check_limits
from .model import OPEN_STATUSES, Channel, HallDay, PrintStatus, Ticket, TicketStatus
from .shares import check_online_share


def ticket_of(state: HallDay, ticket_id: str) -> Ticket:
    t = state.tickets.get(ticket_id)
    if t is None:
        raise NotFound("unknown-ticket", f"no ticket {ticket_id!r} today")
    return t


def ticket_at_counter(state: HallDay, ref: str) -> Ticket:
    """A ticket as staff name it: by today's number (unique within the hall-day), or by its id.
    Only staff, already authorised for the window, may name a ticket by number: its number is
    public, its id is the holder's secret and staff are never given it."""
    t = state.tickets.get(ref)
    if t is None:
        t = next((t for t in state.tickets.values() if t.number == ref), None)
    if t is None:
        raise NotFound("unknown-ticket", f"no ticket {ref!r} today")
    return t


def item_of(catalog: Catalog, item_id: str) -> None:
    if item_id not in catalog.items:
        raise NotFound("unknown-item", f"no service item {item_id!r} in this hall")


# Every number next_number can make: an item's prefix (one or two capitals, see the catalogue)
# and at least three digits (up to 999,999 a day per prefix, far beyond any hall).
NUMBER_PATTERN = r"[A-Z]{1,2}[0-9]{3,6}"


def next_number(state: HallDay, prefix: str) -> str:
    """Numbers restart each hall-day (A001, A002 …) and never repeat within it."""
    n = state.last_number.get(prefix, 0) + 1
    return f"{prefix}{n:03d}"


def register_appointment(state: HallDay, catalog: Catalog, c: cmd.RegisterAppointment, now: datetime) -> list[ev.Event]:
    item_of(catalog, c.item)
    if c.code in state.appointments and not state.appointments[c.code].cancelled:
        raise Conflict("duplicate-appointment", f"appointment {c.code!r} exists already")
    if c.slot_end <= c.slot_start:
        raise Invalid("bad-slot", "the slot ends before it starts")
    if c.slot_start.date() != state.day:
        raise Invalid("bad-slot", f"the slot is not on {state.day.isoformat()}")
    return [ev.AppointmentRegistered(at=now, by=c.by, code=c.code, item=c.item, slot_start=c.slot_start, slot_end=c.slot_end)]


def check_in_opens(catalog: Catalog, slot_start: datetime) -> datetime:
    """The earliest a booking of this slot may check in (a kiosk tells one that came too early)."""
    return slot_start - timedelta(seconds=catalog.hall.policy.appointment_early_s)


def check_in_another_day(catalog: Catalog, code: str, slot_start: datetime, today: date) -> None:
    """A booking typed at a kiosk on another day than its own: tell its date and when its
    check-in opens, rather than that no such code exists."""
    if slot_start.date() != today:
        opens = check_in_opens(catalog, slot_start)
        raise Conflict("appointment-another-day", f"appointment {code!r} is on {slot_start:%Y-%m-%d}; check-in opens at {opens:%H:%M} that day",
                       day=slot_start.date().isoformat(), slot_start=slot_start.isoformat(), opens_at=opens.isoformat())


def _check_in(state: HallDay, catalog: Catalog, c: cmd.IssueTicket, now: datetime) -> None:
    a = state.appointments.get(c.appointment or "")
    if a is None:
        raise NotFound("unknown-appointment", f"no appointment {c.appointment!r} today")
    if a.ticket is not None:
        raise Conflict("appointment-used", "this appointment has been checked in already")
    if a.cancelled:
        raise Conflict("appointment-cancelled", "this appointment has been cancelled")
    if a.item != c.item:
        raise Conflict("appointment-item", f"this appointment is for item {a.item!r}")
    policy = catalog.hall.policy
    earliest = check_in_opens(catalog, a.slot_start)
    latest = a.slot_start + timedelta(seconds=policy.appointment_late_s)
    if now < earliest:
        raise Conflict("appointment-early", f"check-in opens at {earliest:%H:%M}", opens_at=earliest.isoformat())
    if now > latest:
        raise Conflict(
            "appointment-late",
            f"check-in for this slot closed at {latest:%H:%M}; please take a normal ticket",
            closed_at=latest.isoformat(),
        )


def issue(state: HallDay, catalog: Catalog, c: cmd.IssueTicket, now: datetime) -> list[ev.Event]:
    item_of(catalog, c.item)
    if c.ticket in state.tickets:
        raise Conflict("duplicate-ticket-id", "ticket id in use")
    try:
        Channel(c.channel)
    except ValueError:
        raise Invalid("bad-channel", f"unknown channel {c.channel!r}") from None
    item = catalog.items[c.item]
    if item.retired:
        raise Conflict("retired", f"{item.name} is no longer offered in this hall")
    if c.remote:
        check_remote(state, catalog, c)
    if c.appointment is not None:
        _check_in(state, catalog, c, now)
    elif not item_issuing(catalog, c.item, now):
        raise Conflict("closed", f"tickets for {item.name} are not issued at this hour")
    if item.daily_quota is not None and state.issued.get(c.item, 0) >= item.daily_quota:
        raise Conflict("quota-exhausted", f"today's {item.daily_quota} tickets for {item.name} are all taken")
    if c.channel == Channel.online and c.appointment is None:
        check_online_share(state, catalog, c.item)
    if c.person_key is not None:
        check_limits(state, catalog.hall.id_cards, c.person_key, c.item, item.name)
    ahead, wait, model = newcomer_estimate(state, catalog, c.item, c.priority, appointment=c.appointment is not None)
    return [
        ev.TicketIssued(
            at=now,
            by=c.by,
            ticket=c.ticket,
            number=next_number(state, item.prefix),
            item=c.item,
            channel=c.channel,
            priority=c.priority,
            appointment=c.appointment,
            ahead=ahead,
            estimated_wait_s=wait,
            model_wait_s=model,
            remote=c.remote,
            phone_key=c.phone_key if c.remote else None,
            person_key=c.person_key,
        )
    ]


def print_flagged(t: Ticket) -> bool:
    """A ticket still in the hall whose last print failed: shown to staff for a reprint (补打)."""
    return t.print_status is PrintStatus.failed and t.status in OPEN_STATUSES


HOLDER_REPRINTS = 3  # a holder's reprints per ticket; staff may reprint more


def check_reprint(t: Ticket, staff: bool) -> None:
    """补打: only a ticket still in the hall, and by its holder only a few times. The count is the
    ticket's recorded prints (the journal's), so it holds across workers and restarts: the print
    made at issue and up to HOLDER_REPRINTS more, whoever asked for them."""
    if t.status not in OPEN_STATUSES:
        raise Conflict("ticket-closed", f"a ticket that is {t.status.value} is not printed again")
    if not staff and t.prints > HOLDER_REPRINTS:
        raise Conflict("reprint-limit", f"this ticket has been printed {t.prints} times; please ask the staff")


def record_print(state: HallDay, c: cmd.RecordPrint, now: datetime) -> list[ev.Event]:
    t = ticket_of(state, c.ticket)
    if not c.ok:
        status = PrintStatus.failed
    elif t.print_status is PrintStatus.unprinted:
        status = PrintStatus.printed
    else:
        status = PrintStatus.reprinted
    return [ev.TicketPrintRecorded(at=now, by=c.by, ticket=t.id, status=status.value, detail=c.detail,
                                   partial=c.partial and not c.ok)]


def cancel(state: HallDay, c: cmd.CancelTicket, now: datetime) -> list[ev.Event]:
    t = ticket_of(state, c.ticket)
    if t.status is not TicketStatus.waiting:
        raise Conflict("not-waiting", f"a ticket that is {t.status.value} cannot be cancelled")
    return [ev.TicketCancelled(at=now, by=c.by, ticket=t.id)]


def evaluate(state: HallDay, c: cmd.Evaluate, now: datetime) -> list[ev.Event]:
    """好差评, one rating per ticket (一次一评), only once it has been served."""
    t = ticket_of(state, c.ticket)
    if not 1 <= c.score <= 5:
        raise Invalid("bad-score", "a score is 1 (very dissatisfied) to 5 (very satisfied)")
    if t.status is not TicketStatus.done:
        raise Conflict("not-served", "a ticket can be rated once it has been served")
    if t.score is not None:
        raise Conflict("already-rated", "this ticket has been rated already")
    return [ev.TicketEvaluated(at=now, by=c.by, ticket=t.id, window=t.window, score=c.score, comment=c.comment)]


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.RegisterAppointment: register_appointment,
    cmd.IssueTicket: issue,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.RecordPrint: record_print,
    cmd.CancelTicket: cancel,
}
