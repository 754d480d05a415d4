"""Decisions at the counter: the window's state machine and what each action does to a ticket.

    closed --open--> idle --call-next/call--> called --start--> serving --finish--> idle
                      |  ^                     | recall           | suspend / transfer
                      |  +------ no-show ------+ transfer         v
                      +--pause--> paused --resume--> idle      (ticket suspended / waiting)
    idle/paused --close--> closed;  idle/paused --handover--> same state, other post's clerk
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import commands as cmd
from . import events as ev
from .calendar import add_working_days
from .catalog import CaseType, Catalog, Role, User
from .errors import Conflict, Forbidden, Invalid, NotFound
from .model import HallDay, Lane, Outcome, SuspendKind, Ticket, TicketStatus, WindowState, WindowStatus
from .policy import choose_next, requeue_place
from .ratings import rateable_at
from .tickets import item_of, ticket_at_counter

S = WindowStatus


def _window(state: HallDay, catalog: Catalog, window_id: str) -> WindowState:
    if window_id not in catalog.windows:
        raise NotFound("unknown-window", f"no window {window_id!r} in this hall")
    return state.window(window_id)


# The window state machine: the states each counter action needs (the terminal's names). The
# deciders below check it, and `actions` tells the terminal which buttons the window allows now.
NEEDS: dict[str, tuple[WindowStatus, ...]] = {
    "open": (S.closed,),
    "call-next": (S.idle,),
    "call": (S.idle,),
    "recall": (S.called,),
    "start": (S.called,),
    "finish": (S.serving,),
    "no-show": (S.called,),
    "transfer": (S.called, S.serving),
    "suspend": (S.serving,),
    "pause": (S.idle,),
    "resume": (S.paused,),
    "close": (S.idle, S.paused),
    "handover": (S.idle, S.paused),
}


def _require(w: WindowState, need: str, *, action: str) -> None:
    allowed = NEEDS[need]
    if w.status not in allowed:
        names = " or ".join(a.value for a in allowed)
        raise Conflict(
            "window-state",
            f"cannot {action} while the window is {w.status.value} (needs {names})",
            window_state=w.status.value,
        )


def _current(state: HallDay, w: WindowState) -> Ticket:
    assert w.ticket is not None
    return state.tickets[w.ticket]


def open_window(state: HallDay, catalog: Catalog, c: cmd.OpenWindow, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "open", action="open")
    if catalog.windows[c.window].retired:
        raise Conflict("retired", f"window {c.window!r} is retired and is not opened any more")
    return [ev.WindowOpened(at=now, by=c.by, window=c.window, clerk=c.by)]


def _call(c: cmd.WindowCommand, t: Ticket, lane: Lane, now: datetime) -> ev.Event:
    return ev.TicketCalled(at=now, by=c.by, window=c.window, ticket=t.id, number=t.number, lane=lane.value)


def call_next(state: HallDay, catalog: Catalog, c: cmd.CallNext, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "call-next", action="call the next ticket")
    chosen = choose_next(state, catalog, c.window, now)
    if chosen is None:
        return []
    t, lane = chosen
    return [_call(c, t, lane, now)]


def call_ticket(state: HallDay, catalog: Catalog, c: cmd.CallTicket, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "call", action="call a ticket")
    t = ticket_at_counter(state, c.ticket)
    if t.status is TicketStatus.waiting:
        may = t.target_window == c.window or (t.target_window is None and c.window in catalog.windows_of_item[t.item])
        if not may:
            raise Conflict("not-served-here", f"ticket {t.number} is not for this window")
    elif t.status is TicketStatus.suspended:
        if t.window != c.window and c.window not in catalog.windows_of_item[t.item]:
            raise Conflict("not-served-here", f"ticket {t.number} is suspended at another window")
    else:
        raise Conflict("not-callable", f"ticket {t.number} is {t.status.value}, not waiting or suspended")
    return [_call(c, t, Lane.chosen, now)]


def recall(state: HallDay, catalog: Catalog, c: cmd.Recall, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "recall", action="recall")
    t = _current(state, w)
    return [ev.TicketRecalled(at=now, by=c.by, window=c.window, ticket=t.id, number=t.number)]


def start(state: HallDay, catalog: Catalog, c: cmd.StartService, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "start", action="start a service")
    return [ev.ServiceStarted(at=now, by=c.by, window=c.window, ticket=_current(state, w).id)]


def finish(state: HallDay, catalog: Catalog, c: cmd.FinishService, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "finish", action="finish")
    return [finished(ev.ServiceFinished, catalog, _current(state, w), c, now)]


def finished(kind: type[ev.ServiceFinished], catalog: Catalog, t: Ticket, c: cmd.FinishService, now: datetime) -> ev.ServiceFinished:
    """The finish of `t` as `c` asks it (四件管理, 一次性告知), at the counter or after midnight."""
    try:
        case_type = CaseType(c.case_type)
    except ValueError:
        raise Invalid("bad-case-type", f"case type is one of {[x.value for x in CaseType]}") from None
    try:
        outcome = Outcome(c.outcome)
    except ValueError:
        raise Invalid("bad-outcome", f"outcome is one of {[x.value for x in Outcome]}") from None
    missing = tuple(m.strip() for m in c.missing if m.strip())
    if outcome is Outcome.one_time_notice and not missing:
        raise Invalid("missing-list", "a one-time notice (一次性告知) lists every missing material")
    deadline = None
    if case_type is CaseType.promised and outcome is Outcome.completed:
        days = catalog.items[t.item].promised_days or 1
        deadline = add_working_days(now.date(), days, catalog.hall.calendar)
    return kind(
        at=now, by=c.by, window=c.window, ticket=t.id, case_type=case_type.value, outcome=outcome.value,
        missing=missing, note=c.note, deadline=deadline,
    )


def no_show(state: HallDay, catalog: Catalog, c: cmd.NoShow, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "no-show", action="mark a no-show")
    t = _current(state, w)
    requeued_at = ordinal = None
    if c.requeue:
        policy = catalog.hall.policy
        if t.requeues >= policy.max_requeues:
            raise Conflict("requeue-limit", f"ticket {t.number} has been re-queued {t.requeues} time(s) already")
        requeued_at, ordinal = requeue_place(state, t, policy.no_show_requeue_places, now)
    return [
        ev.TicketNoShow(
            at=now, by=c.by, window=c.window, ticket=t.id, requeued_at=requeued_at, requeued_ordinal=ordinal
        )
    ]


def transfer(state: HallDay, catalog: Catalog, c: cmd.Transfer, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "transfer", action="transfer")
    t = _current(state, w)
    if (c.to_item is None) == (c.to_window is None):
        raise Invalid("transfer-target", "transfer to exactly one of: an item, a window")
    if c.to_item is not None:
        item_of(catalog, c.to_item)
        if c.to_item == t.item:
            raise Invalid("transfer-target", f"ticket {t.number} is for this item already")
        if catalog.items[c.to_item].retired:
            raise Conflict("retired", f"item {c.to_item!r} is retired")
    if c.to_window is not None:
        if c.to_window not in catalog.windows:
            raise NotFound("unknown-window", f"no window {c.to_window!r} in this hall")
        if catalog.windows[c.to_window].retired:
            raise Conflict("retired", f"window {c.to_window!r} is retired")
        if c.to_window == c.window:
            raise Invalid("transfer-target", "a ticket cannot be transferred to its own window")
    return [
        ev.TicketTransferred(
            at=now, by=c.by, window=c.window, ticket=t.id, to_item=c.to_item or t.item, to_window=c.to_window
        )
    ]


def suspend(state: HallDay, catalog: Catalog, c: cmd.Suspend, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "suspend", action="suspend")
    try:
        kind = SuspendKind(c.kind)
    except ValueError:
        raise Invalid("bad-suspend-kind", f"kind is one of {[k.value for k in SuspendKind]}") from None
    return [ev.TicketSuspended(at=now, by=c.by, window=c.window, ticket=_current(state, w).id, kind=kind.value)]


def pause(state: HallDay, catalog: Catalog, c: cmd.Pause, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "pause", action="pause")
    if not c.reason.strip():
        raise Invalid("pause-reason", "a leave notice (离岗告示) says why the window is paused")
    if c.until is not None and c.until <= now:
        raise Invalid("pause-until", "the return time is in the past")
    return [ev.WindowPaused(at=now, by=c.by, window=c.window, reason=c.reason.strip(), until=c.until)]


def resume(state: HallDay, catalog: Catalog, c: cmd.Resume, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "resume", action="resume")
    return [ev.WindowResumed(at=now, by=c.by, window=c.window)]


def close(state: HallDay, catalog: Catalog, c: cmd.CloseWindow, now: datetime) -> list[ev.Event]:
    w = _window(state, catalog, c.window)
    _require(w, "close", action="close")
    return [ev.WindowClosed(at=now, by=c.by, window=c.window)]


def handover(state: HallDay, catalog: Catalog, c: cmd.Handover, now: datetime) -> list[ev.Event]:
    """AB岗: the B post takes over when A leaves (or back)."""
    w = _window(state, catalog, c.window)
    _require(w, "handover", action="hand over")
    if c.to is not None:
        to = catalog.users.get(c.to)
        if to is None or to.role is not Role.clerk or c.window not in to.windows:
            raise Invalid("handover-to", f"{c.to!r} holds no post at this window")
    else:
        to = other_post(catalog, w)
        if to is None:
            raise Conflict("no-other-post", "this window has no clerk on the other post")
    if to.username == w.clerk:
        raise Conflict("handover-self", f"{to.username} holds the window already")
    return [ev.WindowHandedOver(at=now, by=c.by, window=c.window, from_clerk=w.clerk, to_clerk=to.username)]


def check_on_duty(state: HallDay, catalog: Catalog, window: str, user: User, action: str) -> None:
    """AB岗: once a window is handed over, only the clerk on duty acts at it. The other post's
    clerk may still take it over (a hand-over) or open it; chiefs and managers act as before."""
    w = state.window(window)
    if user.role is not Role.clerk or action in ("open", "handover") or w.clerk is None or w.clerk == user.username:
        return
    on_duty = catalog.users.get(w.clerk)
    raise Forbidden("not-on-duty", f"{on_duty.name if on_duty else w.clerk} is on duty at this window; take it over first",
                    on_duty=on_duty.name if on_duty else None)


def other_post(catalog: Catalog, w: WindowState) -> User | None:
    """AB岗: the clerk on the post of the window its current clerk does not hold (B, unless the
    current clerk is the B post); server/domain/posts.py says who holds which."""
    a, b = catalog.posts[w.id]
    other = a if w.clerk is not None and w.clerk == b else b
    return catalog.users.get(other) if other else None


def actions(state: HallDay, catalog: Catalog, window: str, now: datetime) -> list[str]:
    """The counter actions the window's state allows now, for the terminal's buttons: those whose
    needed state it is in, less those refused whatever the input (a retired window is not
    opened, a hand-over needs a clerk on the other post, 主动邀评 a service still open to the
    evaluator). An action that needs input (a reason, a ticket, a target) is offered."""
    w = _window(state, catalog, window)
    if state.closed_out_at is not None:  # the day has ended: its windows act no more (decide.py)
        return []
    out = [name for name, allowed in NEEDS.items() if w.status in allowed]
    if "open" in out and catalog.windows[window].retired:
        out.remove("open")
    if "handover" in out:
        to = other_post(catalog, w)
        if to is None or to.username == w.clerk:
            out.remove("handover")
    rateable = rateable_at(state, window, now)
    if rateable is not None and w.ticket in (None, rateable.id):  # not with another citizen at the counter (ratings.py)
        out.append("evaluation")
    return out


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.OpenWindow: open_window,
    cmd.CallNext: call_next,
    cmd.CallTicket: call_ticket,
    cmd.Recall: recall,
    cmd.StartService: start,
    cmd.FinishService: finish,
    cmd.NoShow: no_show,
    cmd.Transfer: transfer,
    cmd.Suspend: suspend,
    cmd.Pause: pause,
    cmd.Resume: resume,
    cmd.CloseWindow: close,
    cmd.Handover: handover,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {}
