"""One simulated hall-day: citizens and clerks as a discrete-event loop over the domain core.

Every action is a command decided by the domain (`decide`) and folded (`apply`) exactly as
HallService does; the events are collected for the journal and the day's statistics derived
as it goes.
"""

from __future__ import annotations

import base64
import heapq
import math
import random
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain import commands as c
from ...domain import events as ev
from ...domain.apply import apply
from ...domain.catalog import Catalog
from ...domain.decide import decide
from ...domain.errors import DomainError
from ...domain.model import HallDay, TicketStatus
from ...domain.policy import choose_next
from ...domain.supervision import AlertBoard
from ..facts import DayFacts
from .arrivals import arrivals, opening_ranges
from .ledger import RATED_SHARE, Ledger, LedgerDay

SWEEP_S = 60
NOTICE_S = 60  # an idle clerk looks at the terminal's queue at least this often (items whose hours begin)
REACTION_S = (2.0, 12.0)  # an idle clerk's delay between a ticket appearing and pressing "call"
CALL_GAP_S = (3.0, 15.0)  # after a citizen leaves the counter, until the clerk calls the next
OPEN_TO_CALL_S = (3.0, 20.0)  # from opening the window (in the morning, after lunch) to the first call
PATIENCE_MIN_S, PATIENCE_MEAN_S = 1200.0, 2700.0  # a citizen gives up after 20 min + an exponential 45 min
CANCEL_SHARE = {False: 0.1, True: 0.5}  # of those who give up, who cancel on the phone (a number taken online: True)
ABSENT_AT_FIRST_CALL = 0.04  # not at the counter when first called: recalled once, then a no-show
PAUSE_REASONS = ("临时离岗", "取打印材料", "业务咨询", "接听电话")


def _token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.getrandbits(72).to_bytes(9, "big")).decode()


@dataclass
class _Window:
    id: str
    clerks: list[str]
    clerk: str
    status: str = "closed"  # closed | idle | busy | paused | lunch | done
    lunched: bool = False
    waiting_for_work: bool = False
    returned: deque[str] = field(default_factory=deque)
    pauses: list[tuple[float, float, str]] = field(default_factory=list)  # (at, seconds, reason)


class DaySim(LedgerDay):
    """One simulated hall-day through decide/apply; events collected for the journal."""

    def __init__(self, catalog: Catalog, day: date, seed: int, load: float, ledger: Ledger) -> None:
        self.catalog = catalog
        self.day = day
        self.tz = ZoneInfo(catalog.hall.timezone)
        self.rng = random.Random(seed * 1_000_003 + day.toordinal())
        self.load = load
        self.ledger = ledger
        self.state = HallDay(catalog.hall.id, day)
        self.facts = DayFacts(catalog, day)
        self.board = AlertBoard(day)
        self._due: tuple[c.OpenCase, ...] | None = None
        self.gone: set[str] = set()  # tickets whose holders left without telling anyone
        self.out: list[tuple[int, dict[str, Any]]] = []
        self.t = 0.0
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._n = 0
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        ranges = opening_ranges(catalog)
        self.open_s = ranges[0][0]
        self.close_s = ranges[-1][1]
        self.lunch = (ranges[0][1], ranges[1][0]) if len(ranges) > 1 else None
        self.windows: dict[str, _Window] = {}
        for w in catalog.config.windows:
            clerks = sorted(catalog.clerks_of_window(w.id), key=lambda u: u.post or "Z")
            names = [u.username for u in clerks] or ["admin"]
            self.windows[w.id] = _Window(w.id, names, names[0])
        self._items = {w.id: w.items for w in catalog.config.windows}
        self._speed = {u.username: 0.85 + 0.35 * (zlib.crc32(u.username.encode()) % 1000) / 1000 for u in catalog.config.users}

    # ------------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        return self.midnight + timedelta(seconds=self.t)

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        self._n += 1
        heapq.heappush(self._heap, (t, self._n, fn, args))

    def do(self, command: c.Command) -> list[ev.Event] | None:
        try:
            events = decide(self.state, self.catalog, command, self.now())
        except DomainError:
            return None
        for e in events:
            apply(self.state, e)
            self.facts.feed(e, self.state.seq)
            self.out.append((self.state.seq, ev.to_dict(e)))
        return events

    # ------------------------------------------------------------------ the day

    def run(self, until: float | None = None) -> None:
        """Play the day; with `until` (seconds after midnight) stop there, the day still open."""
        rng = self.rng
        for w in self.windows.values():
            self.at(self.open_s + rng.uniform(-300, 240), self.open_window, w)
            for _ in range(rng.choice((0, 1, 1, 2))):
                long = rng.random() < 0.06
                secs = rng.uniform(1900, 3000) if long else rng.uniform(240, 1200)
                w.pauses.append((rng.uniform(self.open_s + 1800, self.close_s - 3600), secs, rng.choice(PAUSE_REASONS)))
            w.pauses.sort()
            # The clerk's own clock, for a window idle at an empty queue: a break, lunch, the day's end.
            lunch = [self.lunch[0] + rng.uniform(0, 90)] if self.lunch else []
            for at in [p[0] for p in w.pauses] + lunch + [self.close_s + rng.uniform(0, 120)]:
                self.at(at, self.look_up, w)
        self._arrivals()
        self._plan_ledger()
        t = self.open_s
        while t < self.close_s + 3600:
            self.at(t, self.sweep)
            t += SWEEP_S
        self.play_until(self.close_s + 2 * 3600 if until is None else min(until, self.close_s + 2 * 3600))

    def play_until(self, limit: float) -> None:
        """Run what is due, in time order, up to `limit` (seconds after midnight)."""
        seen, looked = self.state.seq, self.t
        while self._heap:
            t, _, fn, args = heapq.heappop(self._heap)
            if t > limit:
                break
            self.t = max(self.t, t)
            fn(*args)
            if self.state.seq != seen or self.t - looked >= NOTICE_S:
                seen, looked = self.state.seq, self.t
                self.notice()

    def notice(self) -> None:
        """Every clerk idle at an empty queue sees on the terminal when a ticket they may call is
        waiting (a newcomer, a re-queued no-show, a transfer, an item whose hours began) and calls
        after a moment; the first to call gets it, the others find the queue empty again."""
        now = self.now()
        waiting, pinned = self.state.waiting, self.state.pinned
        for w in self.windows.values():
            if not (w.waiting_for_work and w.status == "idle"):
                continue
            if not (pinned.get(w.id) or any(waiting.get(i) for i in self._items[w.id])):
                continue  # nothing waits for it at all (the usual case): no need to ask the call policy
            if choose_next(self.state, self.catalog, w.id, now) is not None:
                w.waiting_for_work = False
                self.at(self.t + self.rng.uniform(*REACTION_S), self.try_call, w)

    def look_up(self, w: _Window) -> None:
        """A clerk idle at an empty queue looks at the clock: time for a break, lunch or the day's end."""
        if w.waiting_for_work and w.status == "idle":
            w.waiting_for_work = False
            self.try_call(w)

    def _arrivals(self) -> None:
        for t, item in arrivals(self.catalog, self.day, self.load, self.rng):
            self.at(t, self.arrive, item)

    # ------------------------------------------------------------------ citizens

    def arrive(self, item: str) -> None:
        rng = self.rng
        r = rng.random()
        channel = "online" if r < 0.1 else "staff" if r < 0.13 else "kiosk"
        priority = channel != "online" and rng.random() < 0.04
        events = self.do(c.IssueTicket(by=channel, ticket=_token(rng), item=item, channel=channel, priority=priority))
        if not events:
            return
        tid = events[0].ticket  # type: ignore[attr-defined]
        patience = PATIENCE_MIN_S + rng.expovariate(1 / PATIENCE_MEAN_S)
        self.at(self.t + patience, self.give_up, tid)

    def give_up(self, tid: str) -> None:
        """The holder's patience is over: most leave without telling anyone (the ticket waits on
        and becomes a no-show when called); a few cancel it on the phone's ticket page first."""
        t = self.state.tickets[tid]
        if t.status is not TicketStatus.waiting:
            return
        if self.rng.random() < CANCEL_SHARE[t.channel == "online"]:
            self.do(c.CancelTicket(by="holder", ticket=tid))
        else:
            self.gone.add(tid)

    # ------------------------------------------------------------------ windows

    def open_window(self, w: _Window) -> None:
        if w.status not in ("closed", "lunch"):
            return
        if self.do(c.OpenWindow(by=w.clerk, window=w.id)):
            w.status = "idle"
            self.at(self.t + self.rng.uniform(*OPEN_TO_CALL_S), self.try_call, w)

    def try_call(self, w: _Window) -> None:
        if w.status != "idle":
            return
        rng = self.rng
        if self.lunch and not w.lunched and self.lunch[0] <= self.t < self.lunch[1]:
            w.lunched = True
            if self.do(c.CloseWindow(by=w.clerk, window=w.id)):
                w.status = "lunch"
                if rng.random() < 0.3 and len(w.clerks) > 1:
                    w.clerk = w.clerks[1]  # the B post takes the afternoon
                self.at(self.lunch[1] + rng.uniform(-120, 420), self.open_window, w)
            return
        if w.pauses and w.pauses[0][0] <= self.t:
            _, secs, reason = w.pauses.pop(0)
            until = self.now() + timedelta(seconds=round(secs / 60) * 60 + 60)
            if self.do(c.Pause(by=w.clerk, window=w.id, reason=reason, until=until)):
                w.status = "paused"
                self.at(self.t + secs, self.resume, w)
                return
        while w.returned:
            tid = w.returned.popleft()
            if self.state.tickets[tid].status is TicketStatus.suspended and self.do(c.CallTicket(by=w.clerk, window=w.id, ticket=tid)):
                self.called(w, tid)
                return
        events = self.do(c.CallNext(by=w.clerk, window=w.id))
        if events:
            self.called(w, events[0].ticket)  # type: ignore[attr-defined]
            return
        if self.t >= self.close_s:
            if self.do(c.CloseWindow(by=w.clerk, window=w.id)):
                w.status = "done"
            return
        w.waiting_for_work = True  # until `notice` or `look_up`

    def resume(self, w: _Window) -> None:
        if w.status == "paused" and self.do(c.Resume(by=w.clerk, window=w.id)):
            w.status = "idle"
            self.try_call(w)

    def called(self, w: _Window, tid: str) -> None:
        w.status = "busy"
        w.waiting_for_work = False
        rng = self.rng
        t = self.state.tickets[tid]
        if tid in self.gone or (t.calls == 1 and rng.random() < ABSENT_AT_FIRST_CALL):
            self.at(self.t + rng.uniform(40, 60), self.recall, w, tid)
        else:
            self.at(self.t + rng.uniform(15, 80), self.start, w, tid)

    def recall(self, w: _Window, tid: str) -> None:
        self.do(c.Recall(by=w.clerk, window=w.id))
        self.at(self.t + self.rng.uniform(40, 70), self.no_show, w, tid)

    def no_show(self, w: _Window, tid: str) -> None:
        requeue = self.rng.random() < 0.3 and self.state.tickets[tid].requeues < self.catalog.hall.policy.max_requeues
        if self.do(c.NoShow(by=w.clerk, window=w.id, requeue=requeue)) or self.do(c.NoShow(by=w.clerk, window=w.id)):
            self.idle(w)

    def start(self, w: _Window, tid: str) -> None:
        if not self.do(c.StartService(by=w.clerk, window=w.id)):
            self.idle(w)
            return
        rng = self.rng
        t = self.state.tickets[tid]
        item = self.catalog.items[t.item]
        sigma = 0.5
        mean = item.expected_service_s * self._speed.get(w.clerk, 1.0)
        secs = max(30.0, rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma))
        r = rng.random()
        if r < 0.02 and t.suspended_s == 0 and not t.transfers:
            self.at(self.t + secs * rng.uniform(0.2, 0.6), self.suspend, w, tid)
        elif r < 0.035 and not t.transfers:
            self.at(self.t + secs * rng.uniform(0.1, 0.4), self.transfer, w, tid)
        else:
            self.at(self.t + secs, self.finish, w, tid)

    def suspend(self, w: _Window, tid: str) -> None:
        if self.do(c.Suspend(by=w.clerk, window=w.id, kind="fetching_materials")):
            self.at(self.t + self.rng.uniform(300, 1500), self.come_back, w, tid)
        self.idle(w)

    def come_back(self, w: _Window, tid: str) -> None:
        w.returned.append(tid)
        if w.status == "idle" and w.waiting_for_work:
            w.waiting_for_work = False
            self.try_call(w)

    def transfer(self, w: _Window, tid: str) -> None:
        t = self.state.tickets[tid]
        dept = self.catalog.items[t.item].department
        same = [i for i in self.catalog.items if i != t.item and self.catalog.items[i].department == dept]
        others = same or [i for i in self.catalog.items if i != t.item]
        to = self.rng.choice(others)
        if not self.do(c.Transfer(by=w.clerk, window=w.id, to_item=to)):
            self.at(self.t, self.finish, w, tid)
            return
        self.idle(w)

    def finish(self, w: _Window, tid: str) -> None:
        rng = self.rng
        t = self.state.tickets[tid]
        item = self.catalog.items[t.item]
        r = rng.random()
        outcome, missing = "completed", ()
        if r < 0.07 and item.materials:
            outcome, missing = "one_time_notice", tuple(rng.sample(item.materials, min(2, len(item.materials))))
        elif r < 0.12:
            outcome = "consultation"
        elif r < 0.14:
            outcome = "not_accepted"
        if not self.do(c.FinishService(by=w.clerk, window=w.id, case_type=item.case_type.value, outcome=outcome, missing=missing)):
            self.idle(w)
            return
        if rng.random() < RATED_SHARE:
            self.at(self.t + rng.uniform(5, 90), self.rate, tid)
        self.idle(w)

    def idle(self, w: _Window) -> None:
        """Done with a citizen: the clerk calls the next one after a short gap."""
        w.status = "idle"
        self.at(self.t + self.rng.uniform(*CALL_GAP_S), self.try_call, w)
