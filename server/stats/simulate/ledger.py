"""What the simulated hall does beyond the counter: ratings, supervision, the ledgers across days.

About two thirds of the served rate the service, mostly well, worse after long waits; bad
reviews go through their loop (assigned, verified, rectified, called back, or appealed) on the
following working days, a few late; promised cases (承诺件) are concluded on later days, a few
after their deadline; the supervisor sweeps every minute, so alerts are journalled as they
would be. `LedgerDay` is a part of the simulated day (`DaySim`), kept here for its size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ...domain import commands as c
from ...domain import events as ev
from ...domain.calendar import add_working_days
from ...domain.supervision import SUPERVISOR, AlertBoard, chief_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...domain.catalog import Catalog
    from ...domain.model import HallDay
    from ..facts import DayFacts

COMMENTS_BAD = ("等了太久", "窗口人员态度不好", "材料要求没有一次说清楚", "办事效率低", "来回跑了好几趟")
COMMENTS_GOOD = ("", "", "", "服务热情", "很快就办好了", "工作人员很耐心")
RATED_SHARE = 0.65  # of the served, who rate the service


@dataclass
class Ledger:
    """What the simulated hall remembers across days: open promised cases and bad reviews."""

    cases: dict[str, tuple[c.OpenCase, date, str]] = field(default_factory=dict)  # ticket -> (case, conclude on, by)
    reviews: dict[str, tuple[c.OpenReview, list[tuple[date, str]]]] = field(default_factory=dict)  # ticket -> (review, planned steps)


def _with_status(r: c.OpenReview, status: str) -> c.OpenReview:
    return c.OpenReview(ticket=r.ticket, number=r.number, item=r.item, window=r.window, rated_on=r.rated_on, status=status)


class LedgerDay:
    """Ratings, the supervisor's sweeps, promised cases and bad reviews of one simulated day."""

    catalog: Catalog
    day: date
    rng: random.Random
    ledger: Ledger
    state: HallDay
    facts: DayFacts
    board: AlertBoard
    open_s: float
    t: float
    _due: tuple[c.OpenCase, ...] | None

    if TYPE_CHECKING:  # DaySim's
        def do(self, command: c.Command) -> list[ev.Event] | None: ...
        def at(self, t: float, fn: Callable[..., None], *args: object) -> None: ...

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
