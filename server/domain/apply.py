"""apply(state, event) -> state: fold one event into a hall-day.

The state is updated in place and returned: a hall-day holds thousands of tickets and
copying it per event would cost more than the rest of the engine. Callers that need the
state before an event re-fold from the journal (server/hall does so after a failed append).
Apply never refuses: every check happened in `decide`, and the journal is the truth.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch

from . import events as ev
from .model import (
    Appointment,
    Channel,
    HallDay,
    Outcome,
    PrintStatus,
    ServiceFigures,
    SuspendKind,
    Ticket,
    TicketStatus,
    WindowStatus,
)


def apply(state: HallDay, event: ev.Event, seq: int | None = None) -> HallDay:
    """Fold `event` into `state`; `seq` is its journal number (default: the next one)."""
    state.seq = state.seq + 1 if seq is None else seq
    _apply(event, state)
    if state.last_at is None or event.at > state.last_at:
        state.last_at = event.at
    return state


def fold(state: HallDay, events: list[ev.Event]) -> HallDay:
    for e in events:
        apply(state, e)
    return state


def enqueue(state: HallDay, t: Ticket) -> None:
    t.status = TicketStatus.waiting
    t.window = None
    state.waiting.setdefault(t.item, {})[t.id] = None
    if t.front:
        state.front[t.item] = state.front.get(t.item, 0) + 1
    if t.target_window:
        state.pinned.setdefault(t.target_window, {})[t.id] = None


def dequeue(state: HallDay, t: Ticket) -> None:
    if t.id in state.waiting.get(t.item, ()):
        del state.waiting[t.item][t.id]
        if t.front:
            state.front[t.item] -= 1
    if t.target_window:
        state.pinned.get(t.target_window, {}).pop(t.id, None)


def _hold(state: HallDay, t: Ticket, window: str, status: WindowStatus, at: datetime) -> None:
    w = state.window_for_update(window)
    w.ticket = t.id
    w.status = status
    w.since = at
    t.window = window


def _end_segment(t: Ticket, at: datetime) -> None:
    """A service segment ends (finish, suspend, transfer): add it to the ticket's service time."""
    if t.segment_start is not None:
        t.service_s += max(0.0, (at - t.segment_start).total_seconds())
        t.segment_start = None


def _release(state: HallDay, window: str, at: datetime) -> None:
    w = state.window_for_update(window)
    w.ticket = None
    w.status = WindowStatus.idle
    w.since = at


@singledispatch
def _apply(event: ev.Event, state: HallDay) -> None:
    raise TypeError(f"no fold for {type(event).__name__}")


@_apply.register
def _(e: ev.AppointmentRegistered, state: HallDay) -> None:
    state.appointments[e.code] = Appointment(
        e.code, e.item, e.slot_start, e.slot_end, channel=e.channel, phone_key=e.phone_key,
        phone_masked=e.phone_masked, booked_at=e.at, person_key=e.person_key,
    )


@_apply.register
def _(e: ev.TicketIssued, state: HallDay) -> None:
    prefix = e.number.rstrip("0123456789")
    state.last_number[prefix] = int(e.number[len(prefix):])
    state.issued[e.item] = state.issued.get(e.item, 0) + 1
    t = Ticket(
        id=e.ticket,
        number=e.number,
        item=e.item,
        ordinal=state.seq,
        issued_at=e.at,
        queued_at=e.at,
        channel=Channel(e.channel),
        priority=e.priority,
        appointment=e.appointment,
        remote=e.remote,
        phone_key=e.phone_key,
        person_key=e.person_key,
        model_wait_s=e.model_wait_s,
    )
    if e.appointment:
        a = state.appointments[e.appointment]
        a.ticket = e.ticket
        t.slot_start = a.slot_start
    state.tickets[t.id] = t
    enqueue(state, t)


@_apply.register
def _(e: ev.TicketPrintRecorded, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    t.print_status = PrintStatus(e.status)
    t.prints += 1


@_apply.register
def _(e: ev.TicketCancelled, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    if t.status is TicketStatus.waiting and t.called_at is None:
        state.figures.setdefault(t.item, ServiceFigures()).left += 1
    dequeue(state, t)
    t.status = TicketStatus.cancelled
    t.finished_at = e.at


@_apply.register
def _(e: ev.TicketEvaluated, state: HallDay) -> None:
    state.tickets[e.ticket].score = e.score


@_apply.register
def _(e: ev.WindowOpened, state: HallDay) -> None:
    w = state.window_for_update(e.window)
    w.status = WindowStatus.idle
    w.clerk = e.clerk
    w.since = e.at
    w.ticket = None
    w.pause_reason = w.pause_until = None
    if e.carried_from is not None:
        state.carried_from = e.carried_from


@_apply.register
def _(e: ev.TicketCalled, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    if t.status is TicketStatus.suspended:
        t.suspended_s += (e.at - t.suspended_at).total_seconds() if t.suspended_at else 0.0
        t.suspended_at = None
        t.suspend_kind = None
    else:
        dequeue(state, t)
        if t.called_at is None and t.model_wait_s is not None and t.appointment is None and not t.remote and not t.transfers:
            state.modelled_wait_s += t.model_wait_s
            state.waited_s += (e.at - t.issued_at).total_seconds()
    t.status = TicketStatus.called
    t.target_window = None
    t.calls += 1
    if t.called_at is None:
        t.called_at = e.at
    t.last_called_at = e.at
    _hold(state, t, e.window, WindowStatus.called, e.at)
    w = state.window_for_update(e.window)
    w.calls += 1
    if e.lane == "priority":
        w.priority_streak += 1
    elif e.lane in ("normal", "aged"):
        w.priority_streak = 0


@_apply.register
def _(e: ev.TicketRecalled, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    t.recalls += 1
    t.last_called_at = e.at


@_apply.register
def _(e: ev.ServiceStarted, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    t.status = TicketStatus.serving
    if t.started_at is None:
        t.started_at = e.at
    t.segment_start = e.at
    part = (e.window, state.window(e.window).clerk)
    if part not in t.served_by:
        t.served_by += (part,)
    _hold(state, t, e.window, WindowStatus.serving, e.at)


def _done(t: Ticket, e: ev.ServiceFinished) -> None:
    t.status = TicketStatus.done
    t.finished_at = e.at
    t.case_type = e.case_type
    t.outcome = Outcome(e.outcome)
    t.missing = e.missing
    t.deadline = e.deadline


@_apply.register
def _(e: ev.ServiceFinished, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    _end_segment(t, e.at)
    _done(t, e)
    _release(state, e.window, e.at)
    if t.started_at is not None:
        f = state.figures.setdefault(t.item, ServiceFigures())
        f.count += 1
        f.total_s += t.service_s


@_apply.register
def _(e: ev.TicketNoShow, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    _release(state, e.window, e.at)
    if e.requeued_at is not None:
        t.requeues += 1
        t.queued_at = e.requeued_at
        if e.requeued_ordinal is not None:
            t.ordinal = e.requeued_ordinal
        enqueue(state, t)
    else:
        t.status = TicketStatus.no_show
        t.window = None
        t.finished_at = e.at


@_apply.register
def _(e: ev.TicketTransferred, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    _end_segment(t, e.at)
    _release(state, e.window, e.at)
    t.transfers += 1
    t.item = e.to_item
    t.target_window = e.to_window
    # The citizen keeps their place: the queue position stays the original issue time.
    t.queued_at = t.issued_at
    enqueue(state, t)


@_apply.register
def _(e: ev.TicketSuspended, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    _end_segment(t, e.at)
    _release(state, e.window, e.at)
    t.status = TicketStatus.suspended
    t.window = e.window
    t.suspend_kind = SuspendKind(e.kind)
    t.suspended_at = e.at


@_apply.register
def _(e: ev.WindowPaused, state: HallDay) -> None:
    w = state.window_for_update(e.window)
    w.status = WindowStatus.paused
    w.pause_reason = e.reason
    w.pause_until = e.until
    w.since = e.at


@_apply.register
def _(e: ev.WindowResumed, state: HallDay) -> None:
    w = state.window_for_update(e.window)
    w.status = WindowStatus.idle
    w.pause_reason = w.pause_until = None
    w.since = e.at


@_apply.register
def _(e: ev.WindowClosed, state: HallDay) -> None:
    w = state.window_for_update(e.window)
    w.status = WindowStatus.closed
    w.ticket = None
    w.pause_reason = w.pause_until = None
    w.since = e.at


@_apply.register
def _(e: ev.WindowHandedOver, state: HallDay) -> None:
    state.window_for_update(e.window).clerk = e.to_clerk


# 网上预约 and 远程取号 (server/domain/booking.py).
@_apply.register
def _(e: ev.AppointmentRescheduled, state: HallDay) -> None:
    a = state.appointments[e.code]
    a.slot_start, a.slot_end = e.slot_start, e.slot_end


@_apply.register
def _(e: ev.AppointmentCancelled, state: HallDay) -> None:
    state.appointments[e.code].cancelled = True


@_apply.register
def _(e: ev.AppointmentMissed, state: HallDay) -> None:
    state.appointments[e.code].missed = True


@_apply.register
def _(e: ev.ArrivalConfirmed, state: HallDay) -> None:
    state.tickets[e.ticket].arrived_at = e.at


# 日终清号: the day change (server/domain/dayend.py).
@_apply.register
def _(e: ev.TicketClosedOut, state: HallDay) -> None:
    t = state.tickets[e.ticket]
    dequeue(state, t)
    _end_segment(t, e.at)
    if t.window is not None and state.windows.get(t.window) is not None and state.windows[t.window].ticket == t.id:
        _release(state, t.window, e.at)
    if e.status == TicketStatus.serving and e.window is not None:
        state.overnight[e.window] = t.id
    t.closed_out_from = e.status
    t.status = TicketStatus.closed_out
    t.finished_at = e.at


@_apply.register
def _(e: ev.DayClosedOut, state: HallDay) -> None:
    state.closed_out_at = e.at
    state.left_open = e.windows


@_apply.register
def _(e: ev.ServiceFinishedLate, state: HallDay) -> None:
    """Only the ticket changes: its window closed with the day, its time was counted to midnight."""
    state.overnight.pop(e.window, None)
    _done(state.tickets[e.ticket], e)


# 好差评 after the day of service (server/domain/ratings.py): the ticket's own day is closed.
@_apply.register
def _(e: ev.TicketRatedLate, state: HallDay) -> None:
    state.rated_late.add(e.ticket)


def _unchanged(e: ev.Event, state: HallDay) -> None:
    """Events journalled for others: the hall-day's state does not change."""


for _type in (
    ev.EvaluationRequested,  # the evaluator hears it on the feed
    # 电子监察: alerts, promised cases and bad reviews reach across hall-days;
    # server/domain/supervision.py folds them into its own boards.
    ev.AlertRaised, ev.AlertCleared, ev.CaseConcluded, ev.ReviewStepRecorded,
    # Hall administration: the service re-reads the catalogue revision in force when it folds
    # a change; a withdrawn revision was never in force.
    ev.CatalogChanged, ev.CatalogRevisionWithdrawn,
):
    _apply.register(_type, _unchanged)
