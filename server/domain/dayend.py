"""日终清号: the day change. What is still open when a hall-day ends is closed out, not lost.

Numbers, queues and windows belong to one hall-day. When it ends, every ticket still waiting,
called, being served or suspended is closed out (void from then on, with the state it was in
and the window that held it), every window still open is closed, and a last event marks the day
as closed: deciding the close-out again changes nothing, which is what lets several workers or
a restart try it without ever recording it twice.

The windows open at midnight start the new day open, with the same clerk, when the day change is
noticed soon after midnight (not after a server was down over the night). A service that ran
over midnight may still be finished at its window the day after: that finish is recorded in the
ticket's own hall-day, so its case type and outcome are not lost either.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import commands as cmd
from . import events as ev
from .catalog import Catalog
from .events import DayClosedOut, ServiceFinishedLate, TicketClosedOut
from .errors import Conflict
from .model import OPEN_STATUSES, HallDay, Ticket, TicketStatus, WindowStatus
from .windows import finished

# A day change noticed later than this after midnight (the server was stopped over it) opens no
# window by itself: nobody can tell whether the clerks of last night are still at the counter.
CARRY_OVER_S = 15 * 60


def day_end(day: date, catalog: Catalog) -> datetime:
    """The instant `day` ends in the hall: the midnight that begins the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(catalog.hall.timezone))


def close_out(state: HallDay, catalog: Catalog, c: cmd.CloseOutDay, now: datetime) -> list[ev.Event]:
    """Close out an ended day; nothing when it is closed out already."""
    if state.closed_out_at is not None:
        return []
    end = day_end(state.day, catalog)
    if now < end:
        raise Conflict("day-not-over", f"hall-day {state.day.isoformat()} has not ended yet")
    out: list[ev.Event] = []
    for t in state.tickets.values():
        if t.status not in OPEN_STATUSES:
            continue
        holder = t.window if t.status is not TicketStatus.waiting else None
        clerk = state.windows[holder].clerk if holder in state.windows else None
        out.append(TicketClosedOut(at=end, by=c.by, ticket=t.id, number=t.number, item=t.item, status=t.status.value,
                                   window=holder, clerk=clerk))
    tickets = len(out)
    left_open = tuple(w.id for w in state.windows.values() if w.status is not WindowStatus.closed)
    out.extend(ev.WindowClosed(at=end, by=c.by, window=w) for w in left_open)
    out.append(DayClosedOut(at=end, by=c.by, tickets=tickets, windows=left_open, recorded_at=now))
    return out


def carry_over(state: HallDay, catalog: Catalog, c: cmd.CarryOverWindows, now: datetime) -> list[ev.Event]:
    """Open the windows the day before left open, once, on the day right after it."""
    if state.carried_from is not None or c.from_day + timedelta(days=1) != state.day:
        return []
    if (now - day_end(c.from_day, catalog)).total_seconds() > CARRY_OVER_S:
        return []
    out: list[ev.Event] = []
    for window, clerk in c.windows:
        conf = catalog.windows.get(window)
        if conf is None or conf.retired or state.window(window).status is not WindowStatus.closed:
            continue
        out.append(ev.WindowOpened(at=now, by=c.by, window=window, clerk=clerk, carried_from=c.from_day))
    return out


def overnight_case(previous: HallDay, today: HallDay, window: str) -> Ticket | None:
    """The service that ran over midnight at `window` and may still be finished there: closed
    out while being served, not finished since, on the day before `today`, while the window has
    taken nobody else today (once it has, a finish is about today's citizen)."""
    ticket = previous.overnight.get(window)
    if ticket is None or previous.day + timedelta(days=1) != today.day:
        return None
    if today.window(window).calls:
        return None
    return previous.tickets[ticket]


def finish_late(previous: HallDay, catalog: Catalog, c: cmd.FinishService, now: datetime) -> list[ev.Event]:
    """Record the finish of the service that ran over midnight at `c.window`, in its own day."""
    ticket = previous.overnight.get(c.window)
    if ticket is None:
        raise Conflict("window-state", "no service that ran over midnight is left to finish at this window",
                       window_state="closed")
    return [finished(ServiceFinishedLate, catalog, previous.tickets[ticket], c, now)]


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.CloseOutDay: close_out,
    cmd.CarryOverWindows: carry_over,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {}
