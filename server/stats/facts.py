"""Per-ticket and per-window facts of one hall-day, computed from its events (pure, no I/O).

`DayFacts` is fed the day's events in journal order and folds them with the domain's own
`apply`, so it sees exactly the state the engine saw. What it keeps:

- one `TicketFact` per ticket: issue, first call (waiting time), service segments (service
  time), how it ended, case type, outcome, rating;
- the transfers and re-queued no-shows, each attributed to the window and clerk that did it;
- per window, clerk and hour of day: seconds open, idle, calling, serving, paused, and idle
  while the window's queues had someone waiting (`WindowHour`);
- the alerts raised (for "windows with the most alerts").

The definitions are written in server/stats/__init__.py (and the README).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import events as ev
from ..domain.apply import apply
from ..domain.calendar import items_served_now
from ..domain.catalog import Catalog
from ..domain.model import HallDay, WindowStatus

WINDOW_TIMES = ("open_s", "idle_s", "calling_s", "serving_s", "paused_s", "idle_waiting_s")


@dataclass(slots=True)
class TicketFact:
    ticket: str
    number: str
    issued_at: datetime
    item_issued: str
    item: str  # the item at the end (a transfer to another item changes it)
    channel: str
    priority: bool
    appointment: bool
    status: str = "waiting"  # done | no_show | cancelled | closed_out, or the open status so far (today)
    first_called_at: datetime | None = None
    first_window: str | None = None
    first_clerk: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None  # finished, marked no-show for good, or cancelled
    window: str | None = None  # the window that finished it or marked the final no-show
    clerk: str | None = None
    service_s: float = 0.0
    serving_since: datetime | None = None
    transfers: int = 0
    requeues: int = 0
    recalls: int = 0
    case_type: str | None = None
    outcome: str | None = None
    deadline: date | None = None
    score: int | None = None
    comment: str = ""
    parts: tuple[tuple[str, str | None], ...] = ()  # (window, clerk) of each part served, in order

    @property
    def wait_s(self) -> float | None:
        if self.first_called_at is None:
            return None
        return max(0.0, (self.first_called_at - self.issued_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Handoff:
    """A ticket leaving a window without being served: a transfer or a re-queued no-show."""

    kind: str  # "transferred" | "requeued"
    ticket: str
    at: datetime
    window: str
    clerk: str | None
    item: str


@dataclass(frozen=True, slots=True)
class AlertFact:
    key: str
    kind: str
    level: str
    at: datetime
    window: str | None
    item: str | None
    clerk: str | None = None  # at the window when it was raised: the clerk's own alert count


@dataclass(slots=True)
class _WindowNow:
    status: WindowStatus
    clerk: str | None
    waiting: bool
    since: datetime


@dataclass(slots=True)
class DayResult:
    """What a hall-day's events amount to, ready to be stored and summed."""

    hall: str
    day: date
    last_seq: int
    end: datetime | None  # where the open windows' time was counted up to
    tickets: list[TicketFact]
    handoffs: list[Handoff]
    window_hours: dict[tuple[str, str, int], list[float]]  # (window, clerk, hour) -> WINDOW_TIMES
    alerts: list[AlertFact]
    ledger: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (seq, event) of cases concluded and review steps
    appointments: list[tuple[str, str]] = field(default_factory=list)  # (item, status) of the day's bookings


# Events about earlier days' tickets (promised cases, bad reviews, ratings after the day of
# service), kept for the ledgers; a late rating also counts in the day's groups (rollup.py).
_LEDGER = frozenset({"case_concluded", "review_step_recorded", "ticket_rated_late"})
# What the day change journals at midnight (server/domain/dayend.py).
_CLOSE_OUT = (ev.TicketClosedOut, ev.WindowClosed, ev.DayClosedOut)
_QUEUE_EVENTS = (ev.TicketIssued, ev.TicketCancelled, ev.TicketCalled, ev.TicketNoShow, ev.TicketTransferred, ev.ArrivalConfirmed)


class DayFacts:
    """Folds one hall-day's events into facts; feed events in order, then `result(end)`."""

    def __init__(self, catalog: Catalog, day: date) -> None:
        self.catalog = catalog
        self.tz = ZoneInfo(catalog.hall.timezone)
        self.state = HallDay(catalog.hall.id, day)
        self.tickets: dict[str, TicketFact] = {}
        self.handoffs: list[Handoff] = []
        self.alerts: list[AlertFact] = []
        self.ledger: list[tuple[int, dict[str, Any]]] = []
        self.window_hours: dict[tuple[str, str, int], list[float]] = {}
        self._windows: dict[str, _WindowNow] = {}
        self._served_cache: dict[tuple[str, int], frozenset[str]] = {}
        self.last_at: datetime | None = None

    # ------------------------------------------------------------------ feeding

    def feed(self, event: ev.Event, seq: int | None = None) -> None:
        at = event.at.astimezone(self.tz)
        if isinstance(event, _CLOSE_OUT) and event.by == "system" and self.last_at is not None:
            # The day change is no activity: windows left open, and a service under way, count
            # until the day's last event, as for a day that ended without it.
            at = min(at, self.last_at)
        state = self.state
        kind = type(event)
        # Who sits at the window *before* the event (a handover changes it afterwards).
        window_id = getattr(event, "window", None)
        clerk_before = state.windows[window_id].clerk if window_id in state.windows else None
        item_before = None
        ticket_id = getattr(event, "ticket", None)
        if ticket_id is not None and ticket_id in state.tickets:
            item_before = state.tickets[ticket_id].item
        apply(state, event, seq)
        self.last_at = at if self.last_at is None or at > self.last_at else self.last_at
        fact = self.tickets.get(ticket_id) if ticket_id else None
        clerk = clerk_before or getattr(event, "by", None)

        if kind is ev.TicketIssued:
            self.tickets[event.ticket] = TicketFact(
                ticket=event.ticket,
                number=event.number,
                issued_at=at,
                item_issued=event.item,
                item=event.item,
                channel=event.channel,
                priority=event.priority,
                appointment=event.appointment is not None,
            )
        elif fact is None:
            pass
        elif kind is ev.TicketCalled:
            if fact.first_called_at is None:
                fact.first_called_at = at
                fact.first_window = event.window
                fact.first_clerk = clerk
            fact.status = "called"
        elif kind is ev.TicketRecalled:
            fact.recalls += 1
        elif kind is ev.ServiceStarted:
            if fact.started_at is None:
                fact.started_at = at
            fact.serving_since = at
            fact.status = "serving"
            if (event.window, clerk) not in fact.parts:
                fact.parts += ((event.window, clerk),)
        elif kind is ev.ServiceFinished:
            self._stop_serving(fact, at)
            fact.status = "done"
            fact.ended_at = at
            fact.window = event.window
            fact.clerk = clerk
            fact.case_type = event.case_type
            fact.outcome = event.outcome
            fact.deadline = event.deadline
        elif kind is ev.TicketSuspended:
            self._stop_serving(fact, at)
            fact.status = "suspended"
        elif kind is ev.TicketTransferred:
            self._stop_serving(fact, at)
            fact.transfers += 1
            fact.item = event.to_item
            fact.status = "waiting"
            self.handoffs.append(Handoff("transferred", fact.ticket, at, event.window, clerk, item_before or fact.item))
        elif kind is ev.TicketNoShow:
            if event.requeued_at is not None:
                fact.requeues += 1
                fact.status = "waiting"
                self.handoffs.append(Handoff("requeued", fact.ticket, at, event.window, clerk, fact.item))
            else:
                fact.status = "no_show"
                fact.ended_at = at
                fact.window = event.window
                fact.clerk = clerk
        elif kind is ev.TicketCancelled:
            fact.status = "cancelled"
            fact.ended_at = at
        elif kind is ev.TicketEvaluated:
            fact.score = event.score
            fact.comment = event.comment
        elif kind is ev.TicketClosedOut:
            # 日终作废: neither served nor a no-show; a service under way counts its time to midnight.
            self._stop_serving(fact, at)
            fact.status = "closed_out"
            fact.ended_at = at
            fact.window = event.window
            fact.clerk = event.clerk
        elif kind is ev.ServiceFinishedLate:
            # A service that ran over midnight, finished after the close-out: served, by who finished it.
            fact.status = "done"
            fact.ended_at = at
            fact.window = event.window
            fact.clerk = event.by
            fact.case_type = event.case_type
            fact.outcome = event.outcome
            fact.deadline = event.deadline

        if kind is ev.AlertRaised:
            self.alerts.append(AlertFact(event.key, event.kind, event.level, at, event.window, event.item, clerk_before))
        if kind.type in _LEDGER:
            self.ledger.append((self.state.seq, ev.to_dict(event)))

        self._track_windows(event, at)

    def _booking_status(self, a: Any, now: datetime | None) -> str:
        """A booking still open once its check-in time is over (or on a closed day) is missed,
        swept or not: the server may have been down when its sweep was due."""
        late = timedelta(seconds=self.catalog.hall.policy.appointment_late_s)
        if a.status == "booked" and (now is None or now > a.slot_start + late):
            return "missed"
        return a.status

    def _stop_serving(self, fact: TicketFact, at: datetime) -> None:
        if fact.serving_since is not None:
            fact.service_s += max(0.0, (at - fact.serving_since).total_seconds())
            fact.serving_since = None

    # ------------------------------------------------------------------ window time

    def _served_now(self, window: str, at: datetime) -> frozenset[str]:
        conf = self.catalog.windows[window]
        if not conf.scheduled:
            return frozenset(conf.items)
        key = (window, at.hour * 60 + at.minute)
        got = self._served_cache.get(key)
        if got is None:
            got = self._served_cache[key] = items_served_now(self.catalog, window, at)
        return got

    def _has_waiting(self, window: str, at: datetime) -> bool:
        state = self.state
        if any(state.tickets[tid].callable for tid in state.pinned.get(window, ())):
            return True
        for item in self._served_now(window, at):
            for tid in state.waiting.get(item, ()):
                t = state.tickets[tid]
                if t.target_window is None and t.callable:
                    return True
        return False

    def _observe(self, window: str, at: datetime) -> None:
        w = self.state.windows.get(window)
        status = w.status if w else WindowStatus.closed
        clerk = w.clerk if w else None
        waiting = status is WindowStatus.idle and self._has_waiting(window, at)
        cur = self._windows.get(window)
        if cur is None:
            if status is not WindowStatus.closed:
                self._windows[window] = _WindowNow(status, clerk, waiting, at)
            return
        if (cur.status, cur.clerk, cur.waiting) == (status, clerk, waiting):
            return
        self._account(self.window_hours, window, cur, at)
        cur.status, cur.clerk, cur.waiting, cur.since = status, clerk, waiting, at

    def _track_windows(self, event: ev.Event, at: datetime) -> None:
        touched: set[str] = set()
        window = getattr(event, "window", None)
        if window is not None and window in self.catalog.windows:
            touched.add(window)
        if isinstance(event, _QUEUE_EVENTS):
            items = {getattr(event, "item", None), getattr(event, "to_item", None)}
            t = self.state.tickets.get(getattr(event, "ticket", ""))
            if t is not None:
                items.add(t.item)
                if t.target_window:
                    touched.add(t.target_window)
                if t.window and t.window in self.catalog.windows:
                    touched.add(t.window)
            # Only an idle window's "someone is waiting" can change with the queues.
            windows = self.state.windows
            for item in items:
                for w in self.catalog.windows_of_item.get(item, ()):  # type: ignore[arg-type]
                    if w in windows and windows[w].status is WindowStatus.idle:
                        touched.add(w)
        for w in touched:
            self._observe(w, at)

    @staticmethod
    def _account(into: dict[tuple[str, str, int], list[float]], window: str, cur: _WindowNow, until: datetime) -> None:
        if cur.status is WindowStatus.closed or until <= cur.since:
            return
        slot = {
            WindowStatus.idle: 1,
            WindowStatus.called: 2,
            WindowStatus.serving: 3,
            WindowStatus.paused: 4,
        }[cur.status]
        clerk = cur.clerk or ""
        a = cur.since
        while a < until:
            nxt = a.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            b = min(until, nxt)
            s = (b - a).total_seconds()
            acc = into.get((window, clerk, a.hour))
            if acc is None:
                acc = into[(window, clerk, a.hour)] = [0.0] * len(WINDOW_TIMES)
            acc[0] += s
            acc[slot] += s
            if cur.waiting:
                acc[5] += s
            a = b

    # ------------------------------------------------------------------ result

    def result(self, end: datetime | None = None) -> DayResult:
        """The facts so far; windows still open count as open until `end` (default: the last event).

        Does not change the builder: the current day is summed again as events arrive.
        """
        now = end  # None: the day is closed
        end = (end or self.last_at)
        if end is not None:
            end = end.astimezone(self.tz)
        hours = {k: list(v) for k, v in self.window_hours.items()}
        if end is not None:
            for window, cur in self._windows.items():
                self._account(hours, window, cur, end)
        tickets = []
        for f in self.tickets.values():
            if f.serving_since is not None and end is not None:
                # A service still running at the end: its time so far.
                copy = dataclasses.replace(f)
                self._stop_serving(copy, max(end, f.serving_since))
                tickets.append(copy)
            else:
                tickets.append(f)
        return DayResult(
            hall=self.state.hall,
            day=self.state.day,
            last_seq=self.state.seq,
            end=end,
            tickets=tickets,
            handoffs=list(self.handoffs),
            window_hours=hours,
            alerts=list(self.alerts),
            ledger=list(self.ledger),
            appointments=[(a.item, self._booking_status(a, now)) for a in self.state.appointments.values()],
        )


def facts_of_day(catalog: Catalog, day: date, events: list[tuple[int, dict[str, Any]]], end: datetime | None = None) -> DayResult:
    """The facts of one hall-day from its stored events ((seq, dict) pairs, in order)."""
    builder = DayFacts(catalog, day)
    for seq, data in events:
        builder.feed(ev.from_dict(data), seq)
    return builder.result(end)
