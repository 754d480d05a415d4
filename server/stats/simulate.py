"""`hallq simulate`: realistic hall-days through the real engine, for demos, screenshots, benchmarks.

Every action is a command decided by the domain (`decide`) and folded (`apply`) exactly as
HallService does; the events are appended through the hall-day repository in batches (one transaction per few
thousand events instead of one per command: a simulated day takes well under a second), and
the day's statistics are derived as it goes. A discrete-event loop plays each day:

- arrivals over the hall's opening hours with a morning peak near 10:00 and an afternoon one
  near 15:00, about as many as the windows can serve (`load`), more on Mondays; the item mix
  follows the windows' capacity, short items being more frequent; items outside their
  issuing hours or over their daily quota are refused at the kiosk as in real life;
- 4 % priority (绿色通道) tickets, some online; citizens give up (cancel) after their patience
  (an hour on average); 4 % do not come when called (recalled once, sometimes re-queued);
- service times are log-normal around each item's `expected_service_s`, each clerk a little
  faster or slower; some services are suspended (the citizen fetches a document and comes
  back) or transferred to another item; outcomes include one-time notices (一次性告知);
- clerks close for lunch, take short breaks (暂停, 离岗; now and then a long one), hand over to
  the B post (AB岗) some afternoons, and close when their queues are empty after hours;
- about two thirds of the served rate the service, mostly well, worse after long waits; bad
  reviews go through their loop (assigned, verified, rectified, called back, or appealed) on
  the following working days, a few late; promised cases (承诺件) are concluded on later days,
  a few after their deadline;
- the supervisor sweeps every minute, so alerts are journalled as they would be.

The same seed gives the same journal.
"""

from __future__ import annotations

import base64
import heapq
import math
import random
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import commands as c
from ..domain import events as ev
from ..domain.apply import apply
from ..domain.calendar import add_working_days, item_issuing, opens_on
from ..domain.catalog import Catalog, HallConfig
from ..domain.decide import decide
from ..domain.errors import DomainError
from ..domain.model import HallDay, TicketStatus
from ..domain.supervision import SUPERVISOR, AlertBoard, chief_of
from ..hall.repository import HallDays
from ..journal import SQLJournal
from . import store
from .facts import DayFacts
from .rollup import day_groups

FLUSH_EVENTS = 5000
SWEEP_S = 60
WEEKDAY_FACTOR = {1: 1.15, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.9, 6: 0.8, 7: 0.8}
COMMENTS_BAD = ("等了太久", "窗口人员态度不好", "材料要求没有一次说清楚", "办事效率低", "来回跑了好几趟")
COMMENTS_GOOD = ("", "", "", "服务热情", "很快就办好了", "工作人员很耐心")
PAUSE_REASONS = ("临时离岗", "取打印材料", "业务咨询", "接听电话")


def hall_days(catalog: Catalog, end: date, n: int) -> list[date]:
    """The last `n` days up to `end` on which the hall opens (working days, its weekdays)."""
    days: list[date] = []
    d = end
    while len(days) < n:
        if opens_on(catalog.hall.opening, d, catalog.hall.calendar):
            days.append(d)
        d -= timedelta(days=1)
    return sorted(days)


def scaled_config(config: HallConfig, copies: int) -> HallConfig:
    """The hall with every window (and its clerks) `copies` times and quotas to match: a big
    city centre's volume (a benchmark's ~3,300 tickets a day) on the demo's items."""
    if copies <= 1:
        return config
    data = config.model_dump(mode="json", exclude_defaults=True)
    windows, users = [], []
    clerk_windows = {u["username"]: u for u in data.get("users", []) if u.get("role") == "clerk"}
    for w in data["windows"]:
        for k in range(1, copies + 1):
            windows.append({**w, "id": w["id"] if k == 1 else f"{w['id']}-{k}", "name": w["name"] if k == 1 else f"{w['name']}（{k}）"})
    for u in data.get("users", []):
        if u["username"] not in clerk_windows:
            users.append(u)
            continue
        for k in range(1, copies + 1):
            users.append(
                {
                    **u,
                    "username": u["username"] if k == 1 else f"{u['username']}-{k}",
                    "staff_no": (u.get("staff_no", "") + (f"-{k}" if k > 1 else "")),
                    "windows": [w if k == 1 else f"{w}-{k}" for w in u.get("windows", [])],
                }
            )
    for i in data["items"]:
        if i.get("daily_quota"):
            i["daily_quota"] = min(9999, i["daily_quota"] * copies)
    data["windows"], data["users"] = windows, users
    return HallConfig.model_validate(data)


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


@dataclass
class Ledger:
    """What the simulated hall remembers across days: open promised cases and bad reviews."""

    cases: dict[str, tuple[c.OpenCase, date, str]] = field(default_factory=dict)  # ticket -> (case, conclude on, by)
    reviews: dict[str, tuple[c.OpenReview, list[tuple[date, str]]]] = field(default_factory=dict)  # ticket -> (review, planned steps)


class DaySim:
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
        self.out: list[tuple[int, dict[str, Any]]] = []
        self.t = 0.0
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._n = 0
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        ranges = catalog.hall.opening.hours
        self.open_s = self._secs(ranges[0].start)
        self.close_s = self._secs(ranges[-1].end)
        self.lunch = (self._secs(ranges[0].end), self._secs(ranges[1].start)) if len(ranges) > 1 else None
        self.windows: dict[str, _Window] = {}
        for w in catalog.config.windows:
            clerks = sorted(catalog.clerks_of_window(w.id), key=lambda u: u.post or "Z")
            names = [u.username for u in clerks] or ["admin"]
            self.windows[w.id] = _Window(w.id, names, names[0])
        self._speed = {u.username: 0.85 + 0.35 * (zlib.crc32(u.username.encode()) % 1000) / 1000 for u in catalog.config.users}

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _secs(t: Any) -> float:
        return t.hour * 3600 + t.minute * 60

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
        self._arrivals()
        self._plan_ledger()
        t = self.open_s
        while t < self.close_s + 3600:
            self.at(t, self.sweep)
            t += SWEEP_S
        self.play_until(self.close_s + 2 * 3600 if until is None else min(until, self.close_s + 2 * 3600))

    def play_until(self, limit: float) -> None:
        """Run what is due, in time order, up to `limit` (seconds after midnight)."""
        while self._heap:
            t, _, fn, args = heapq.heappop(self._heap)
            if t > limit:
                break
            self.t = max(self.t, t)
            fn(*args)

    def _weight(self, hour: float) -> float:
        return 0.3 + math.exp(-(((hour - 10.0) / 0.8) ** 2)) + 0.8 * math.exp(-(((hour - 15.0) / 0.9) ** 2))

    def _demand(self) -> dict[str, float]:
        """Tickets a day per item that the windows could serve at `load`."""
        cat = self.catalog
        pop = {i: 600.0 / it.expected_service_s for i, it in cat.items.items()}
        ranges = cat.hall.opening.hours
        open_s = sum(self._secs(r.end) - self._secs(r.start) for r in ranges)
        demand = {i: 0.0 for i in cat.items}
        for w in cat.config.windows:
            total_p = sum(pop[i] for i in w.items)
            mean_s = sum(pop[i] * cat.items[i].expected_service_s for i in w.items) / total_p
            capacity = open_s * self.load / (mean_s + 75)
            for i in w.items:
                demand[i] += capacity * pop[i] / total_p
        return demand

    def _arrivals(self) -> None:
        rng = self.rng
        demand = self._demand()
        factor = WEEKDAY_FACTOR[self.day.isoweekday()] * rng.gauss(1.0, 0.05)
        n = int(sum(demand.values()) * factor)
        items = list(demand)
        weights = [demand[i] for i in items]
        peak = max(self._weight(h / 10) for h in range(80, 180))
        ranges = [(self._secs(r.start), self._secs(r.end)) for r in self.catalog.hall.opening.hours]
        span = sum(b - a for a, b in ranges)
        issuing: dict[tuple[str, int], bool] = {}
        made = 0
        while made < n:
            x = rng.uniform(0, span)
            for a, b in ranges:
                if x < b - a:
                    t = a + x
                    break
                x -= b - a
            if rng.random() * peak > self._weight(t / 3600):
                continue
            made += 1
            item = rng.choices(items, weights)[0]
            key = (item, int(t // 900))
            if key not in issuing:
                issuing[key] = item_issuing(self.catalog, item, self.midnight + timedelta(seconds=t))
            if not issuing[key]:
                continue  # refused at the kiosk: nobody gets a ticket
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
        patience = 1200 + rng.expovariate(1 / 2700)
        self.at(self.t + patience, self.give_up, tid)
        self.wake(item)

    def give_up(self, tid: str) -> None:
        if self.state.tickets[tid].status is TicketStatus.waiting:
            self.do(c.CancelTicket(by="kiosk", ticket=tid))

    def wake(self, item: str) -> None:
        """One idle window that serves the item notices the newcomer (not all of them at once)."""
        idle = [w for wid in self.catalog.windows_of_item[item] if (w := self.windows[wid]).waiting_for_work and w.status == "idle"]
        if idle:
            w = self.rng.choice(idle)
            w.waiting_for_work = False
            self.at(self.t + self.rng.uniform(2, 12), self.try_call, w)

    # ------------------------------------------------------------------ windows

    def open_window(self, w: _Window) -> None:
        if w.status not in ("closed", "lunch"):
            return
        if self.do(c.OpenWindow(by=w.clerk, window=w.id)):
            w.status = "idle"
            self.at(self.t + self.rng.uniform(3, 20), self.try_call, w)

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
        w.waiting_for_work = True
        self.at(self.t + 300, self.poll, w)

    def poll(self, w: _Window) -> None:
        if w.waiting_for_work and w.status == "idle":
            w.waiting_for_work = False
            self.try_call(w)

    def resume(self, w: _Window) -> None:
        if w.status == "paused" and self.do(c.Resume(by=w.clerk, window=w.id)):
            w.status = "idle"
            self.try_call(w)

    def called(self, w: _Window, tid: str) -> None:
        w.status = "busy"
        w.waiting_for_work = False
        rng = self.rng
        t = self.state.tickets[tid]
        if t.calls == 1 and rng.random() < 0.04:
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
        if self.do(c.Transfer(by=w.clerk, window=w.id, to_item=to)):
            self.wake(to)
        else:
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
        if rng.random() < 0.65:
            self.at(self.t + rng.uniform(5, 90), self.rate, tid)
        self.idle(w)

    def idle(self, w: _Window) -> None:
        w.status = "idle"
        self.at(self.t + self.rng.uniform(5, 30), self.try_call, w)

    def rate(self, tid: str) -> None:
        rng = self.rng
        t = self.state.tickets[tid]
        waited = ((t.called_at or t.issued_at) - t.issued_at).total_seconds()
        probs = (0.003, 0.004, 0.03, 0.14, 0.823) if waited < 1800 else (0.015, 0.025, 0.09, 0.22, 0.65)
        score = rng.choices((1, 2, 3, 4, 5), probs)[0]
        comment = rng.choice(COMMENTS_BAD) if score <= 2 else rng.choice(COMMENTS_GOOD)
        if self.do(c.Evaluate(by="evaluator", ticket=tid, score=score, comment=comment)) and score <= 2:
            review = c.OpenReview(ticket=tid, number=t.number, item=t.item, window=t.window, rated_on=self.day, status="new")
            self.ledger.reviews[tid] = (review, self._review_plan())

    # ------------------------------------------------------------------ supervision and ledgers

    def sweep(self) -> None:
        if self._due is None:
            horizon = add_working_days(self.day, self.catalog.hall.supervision.deadline_warning_days)
            self._due = tuple(case for case, _, _ in self.ledger.cases.values() if case.deadline <= horizon and case.accepted_on < self.day)
        cases = tuple(case for case in self._due if case.ticket in self.ledger.cases)
        reviews = tuple(r for r, _ in self.ledger.reviews.values())
        events = self.do(c.Supervise(by=SUPERVISOR, active=self.board.known(), cases=cases, reviews=reviews)) or []
        for e in events:
            self.board.fold(e)
            if isinstance(e, ev.ReviewStepRecorded):
                r, plan = self.ledger.reviews[e.ticket]
                self.ledger.reviews[e.ticket] = (_with_status(r, e.step), plan)

    def _review_plan(self) -> list[tuple[date, str]]:
        rng = self.rng
        d1 = add_working_days(self.day, 1 if rng.random() < 0.9 else 3)
        if rng.random() < 0.08:
            d2 = add_working_days(d1, 1)
            return [(d1, "appealed"), (d2, "appeal_upheld" if rng.random() < 0.5 else "appeal_rejected"), (add_working_days(d2, 1), "rectified"), (add_working_days(d2, 1), "called_back")]
        d2 = add_working_days(d1, rng.choice((0, 1, 1, 2, 4)))
        return [(d1, "verified"), (d2, "rectified"), (add_working_days(d2, rng.choice((0, 0, 1))), "called_back")]

    def _plan_ledger(self) -> None:
        rng = self.rng
        for tid, (case, on, by) in list(self.ledger.cases.items()):
            if on <= self.day:
                self.at(self.open_s + rng.uniform(600, 20000), self.conclude, tid)
        for tid, (_, plan) in list(self.ledger.reviews.items()):
            if plan and plan[0][0] <= self.day:
                self.at(self.open_s + rng.uniform(1800, 18000), self.review_step, tid)

    def conclude(self, tid: str) -> None:
        case, _, by = self.ledger.cases.pop(tid)
        self.do(c.ConcludeCase(by=by, case=case))

    def review_step(self, tid: str) -> None:
        r, plan = self.ledger.reviews[tid]
        if r.status == "new" or not plan:
            return
        _, step = plan.pop(0)
        if step == "rectified" and r.status not in ("verified", "appeal_rejected"):
            plan.clear()
            step = "called_back" if r.status == "rectified" else ""
        if step in ("appeal_upheld", "appeal_rejected"):
            by = "manager" if "manager" in self.catalog.users else "admin"
        else:
            chief = chief_of(self.catalog, r.item)
            by = chief.username if chief else ("manager" if "manager" in self.catalog.users else "admin")
        if step and self.do(c.RecordReviewStep(by=by, review=r, step=step, note=f"{step}: 已处理")):
            r = _with_status(r, step)
        if r.status in ("called_back", "appeal_upheld") or not plan:
            self.ledger.reviews.pop(tid, None)
        else:
            self.ledger.reviews[tid] = (r, plan)
            if plan[0][0] <= self.day:
                self.at(self.t + self.rng.uniform(600, 3600), self.review_step, tid)

    def end_of_day(self) -> None:
        """Promised cases accepted today join the ledger with the day they will be concluded."""
        rng = self.rng
        for f in self.facts.tickets.values():
            if f.case_type == "promised" and f.deadline is not None and f.status == "done":
                days = self.catalog.items[f.item].promised_days or 1
                k = days + rng.randint(1, 3) if rng.random() < 0.04 else rng.randint(max(1, days // 3), days)
                case = c.OpenCase(ticket=f.ticket, number=f.number, item=f.item, window=f.window, accepted_on=self.day, deadline=f.deadline)
                self.ledger.cases[f.ticket] = (case, add_working_days(self.day, k), f.clerk or "admin")


def _with_status(r: c.OpenReview, status: str) -> c.OpenReview:
    return c.OpenReview(ticket=r.ticket, number=r.number, item=r.item, window=r.window, rated_on=r.rated_on, status=status)


@dataclass
class DayReport:
    day: date
    tickets: int
    events: int
    seconds: float


async def simulate(
    catalog: Catalog,
    journal: SQLJournal,
    days: list[date],
    seed: int = 1,
    load: float = 0.9,
    progress: Callable[[DayReport], None] | None = None,
    until: datetime | None = None,
    day_sim: Callable[[Catalog, date, int, float, Ledger], DaySim] | None = None,
) -> list[DayReport]:
    """Play `days` (in order) into the journal and derive their statistics; days that already
    hold events are left alone (a second run adds only what is missing). With `until`, the
    day of `until` is played up to that time and left open: a server started afterwards goes
    on from there (a live board for demos and screenshots). `day_sim`: another day than
    DaySim's (bench/forecast.py's known arrival process)."""
    repo = HallDays(journal, catalog.hall.id)  # no bus: nobody follows days played offline
    existing = await repo.days(min(days), max(days)) if days else {}
    ledger = Ledger()
    reports = []
    for day in days:
        started = time.perf_counter()
        sim = (day_sim or DaySim)(catalog, day, seed, load, ledger)
        partial = until is not None and day == until.date()
        if partial:
            assert until is not None
            local = until.astimezone(sim.tz)
            sim.run(until=local.hour * 3600 + local.minute * 60 + local.second)
        else:
            sim.run()
            sim.end_of_day()
        if day in existing:
            continue
        for n in range(0, len(sim.out), FLUSH_EVENTS):
            batch = sim.out[n : n + FLUSH_EVENTS]
            # At the positions the day was decided at: a conflict (another writer on a day that
            # held nothing when we looked) stops the run rather than being decided again.
            await repo.append(day, batch[0][0] - 1, [e for _, e in batch])
        result = sim.facts.result()
        if not partial:
            async with journal.engine.begin() as conn:
                await store.save_day(conn, result, day_groups(result, catalog))
        report = DayReport(day, len(sim.state.tickets), len(sim.out), time.perf_counter() - started)
        reports.append(report)
        if progress:
            progress(report)
    return reports


def default_end(catalog: Catalog, today: date) -> date:
    """The last day before `today` on which the hall opened."""
    return hall_days(catalog, today - timedelta(days=1), 1)[0]


__all__ = ["DaySim", "DayReport", "Ledger", "default_end", "hall_days", "scaled_config", "simulate"]


async def run(
    config_dir: Any,
    data_dir: Any,
    database: str | None,
    hall: str,
    n_days: int,
    seed: int = 1,
    end: date | None = None,
    load: float = 0.8,
    catalog: Catalog | None = None,
    say: Callable[[str], None] = print,
    today: datetime | None = None,
) -> list[DayReport]:
    """What `hallq simulate` does: open the journal, play the days, say how it went; with
    `today` (a time), also play that day up to that time, left open for a live server."""
    from ..config import load_halls
    from ..journal import database_url, make_engine

    if catalog is None:
        halls = load_halls(config_dir)
        if hall not in halls:
            raise SystemExit(f"no hall {hall!r} in {config_dir} (there are: {', '.join(halls)})")
        catalog = halls[hall]
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    journal = SQLJournal(make_engine(database_url(data_dir, database)))
    try:
        await journal.create()
        await store.create(journal.engine)
        tz = ZoneInfo(catalog.hall.timezone)
        last = end or default_end(catalog, (today or datetime.now(tz)).astimezone(tz).date())
        days = hall_days(catalog, last, n_days)
        if today is not None and today.astimezone(tz).date() > days[-1]:
            days.append(today.astimezone(tz).date())
        say(f"simulating {len(days)} hall-days of {catalog.hall.id} ({catalog.hall.name}), {days[0]} … {days[-1]}, seed {seed}, load {load}")
        started = time.perf_counter()

        def progress(r: DayReport) -> None:
            say(f"  {r.day} {r.day:%a}: {r.tickets:5d} tickets, {r.events:6d} events, {r.seconds:5.2f} s")

        reports = await simulate(catalog, journal, days, seed=seed, load=load, progress=progress, until=today)
        took = time.perf_counter() - started
        skipped = len(days) - len(reports)
        say(
            f"done: {sum(r.tickets for r in reports):,} tickets, {sum(r.events for r in reports):,} events in {took:.1f} s"
            + (f"; {skipped} day(s) already in the journal were left alone" if skipped else "")
        )
        return reports
    finally:
        await journal.close()
