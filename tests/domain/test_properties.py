"""Invariants of the pure engine over random command sequences (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.domain import commands as c
from server.domain import events as ev
from server.domain.apply import fold
from server.domain.errors import DomainError
from server.domain.model import HallDay, TicketStatus, WindowStatus
from server.domain.policy import candidates
from tests.halls import MORNING, Engine, FakeClock, small_catalog

WINDOWS = ["w1", "w2", "w3"]
ITEMS = ["a1", "a2", "b1", "c1"]
CATALOG = small_catalog(enforce_hours=False)
POLICY = CATALOG.hall.policy


def _projection(state: HallDay) -> tuple:
    tickets = tuple(
        sorted((t.id, t.number, t.item, t.status, t.window, t.queued_at, t.ordinal, t.score) for t in state.tickets.values())
    )
    windows = tuple(sorted((w.id, w.status, w.clerk, w.ticket, w.priority_streak) for w in state.windows.values()))
    waiting = tuple(sorted((i, tuple(sorted(ids))) for i, ids in state.waiting.items()))
    return state.seq, tickets, windows, waiting


class HallMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.e = Engine(CATALOG, FakeClock(MORNING))
        self.finished: set[str] = set()
        self.appointments = 0
        # consecutive priority calls at a window while a normal ticket was callable there
        self.priority_run = {w: 0 for w in WINDOWS}

    @initialize(opened=st.lists(st.sampled_from(WINDOWS), unique=True, min_size=1))
    def open_windows(self, opened: list[str]) -> None:
        for w in opened:
            self.e.do(c.OpenWindow(by="x", window=w))

    def try_do(self, command: c.Command) -> list[ev.Event]:
        before = _projection(self.e.state)
        try:
            return self.e.do(command)
        except DomainError:
            assert _projection(self.e.state) == before, "a refused command changed the state"
            return []

    @rule(item=st.sampled_from(ITEMS), priority=st.booleans())
    def issue(self, item: str, priority: bool) -> None:
        self.e._ids += 1
        self.try_do(c.IssueTicket(by="kiosk", ticket=f"t{self.e._ids}", item=item, priority=priority))

    @rule(item=st.sampled_from(ITEMS), offset=st.integers(-600, 600))
    def appointment(self, item: str, offset: int) -> None:
        self.appointments += 1
        code = f"AP{self.appointments}"
        start = self.e.clock.now() + timedelta(seconds=offset)
        if start.date() != self.e.state.day:
            return
        self.try_do(c.RegisterAppointment(by="boss", code=code, item=item, slot_start=start, slot_end=start + timedelta(minutes=30)))
        self.e._ids += 1
        self.try_do(c.IssueTicket(by="kiosk", ticket=f"t{self.e._ids}", item=item, appointment=code))

    @rule(seconds=st.one_of(st.integers(0, 300), st.sampled_from([POLICY.ageing_s - 1, POLICY.ageing_s])))
    def advance(self, seconds: int) -> None:
        if (self.e.clock.now() + timedelta(seconds=seconds)).date() == self.e.state.day:
            self.e.clock.advance(seconds)

    @rule(window=st.sampled_from(WINDOWS))
    def call_next(self, window: str) -> None:
        now = self.e.clock.now()
        pool = list(candidates(self.e.state, CATALOG, window, now))
        events = self.try_do(c.CallNext(by="x", window=window))
        if not events:
            if self.e.state.windows.get(window) and self.e.state.windows[window].status is WindowStatus.idle:
                assert not pool, "an idle window found nobody although tickets were callable"
            return
        (called,) = events
        chosen = self.e.state.tickets[called.ticket]
        assert chosen in pool
        aged_before = now - timedelta(seconds=POLICY.ageing_s)
        booked = [t for t in pool if t.appointment]
        if booked:
            assert called.lane == "appointment", "a checked-in appointment waited behind a walk-in"
            return
        aged = [t for t in pool if t.queued_at <= aged_before]
        if aged:
            self.priority_run[window] = 0
            oldest = min((t.queued_at, t.ordinal) for t in aged)
            assert called.lane == "aged" and (chosen.queued_at, chosen.ordinal) == oldest, "ageing was not respected"
            return
        oldest_in_lane = min((t.queued_at, t.ordinal) for t in pool if t.priority == chosen.priority)
        assert (chosen.queued_at, chosen.ordinal) == oldest_in_lane, "not the longest-waiting ticket of its lane"
        # Fairness: after `priority_ratio` priority calls in a row, a waiting normal ticket goes next.
        if chosen.priority:
            if any(not t.priority for t in pool):
                assert self.priority_run[window] < POLICY.priority_ratio, "normal tickets starved behind priority"
            self.priority_run[window] += 1
        else:
            assert not any(t.priority for t in pool) or self.priority_run[window] >= POLICY.priority_ratio, (
                "a normal ticket went before priority without the ratio being reached"
            )
            self.priority_run[window] = 0

    @rule(window=st.sampled_from(WINDOWS), finish=st.booleans(), n=st.integers(1, 4))
    def serve_round(self, window: str, finish: bool, n: int) -> None:
        """Call, then finish or mark a no-show, n times: the clerk's everyday loop."""
        for _ in range(n):
            self.call_next(window)
            if self.e.state.window(window).status is not WindowStatus.called:
                return
            if finish:
                self.try_do(c.StartService(by="x", window=window))
                self.finish(window, "immediate")
            else:
                self.no_show(window, False)

    @rule(item=st.sampled_from(ITEMS), priority=st.booleans(), n=st.integers(1, 5))
    def crowd(self, item: str, priority: bool, n: int) -> None:
        for _ in range(n):
            self.issue(item, priority)

    @rule(window=st.sampled_from(WINDOWS), action=st.sampled_from(["open", "start", "recall", "close", "resume", "handover"]))
    def simple(self, window: str, action: str) -> None:
        kind = {
            "open": c.OpenWindow,
            "start": c.StartService,
            "recall": c.Recall,
            "close": c.CloseWindow,
            "resume": c.Resume,
            "handover": c.Handover,
        }[action]
        self.try_do(kind(by="x", window=window))

    @rule(window=st.sampled_from(WINDOWS), case=st.sampled_from(["immediate", "promised", "joint", "escalated"]))
    def finish(self, window: str, case: str) -> None:
        for e in self.try_do(c.FinishService(by="x", window=window, case_type=case)):
            assert e.ticket not in self.finished, "a ticket was served twice"
            self.finished.add(e.ticket)

    @rule(window=st.sampled_from(WINDOWS), requeue=st.booleans())
    def no_show(self, window: str, requeue: bool) -> None:
        self.try_do(c.NoShow(by="x", window=window, requeue=requeue))

    @rule(window=st.sampled_from(WINDOWS), to=st.sampled_from(ITEMS + WINDOWS))
    def transfer(self, window: str, to: str) -> None:
        kw = {"to_window": to} if to in WINDOWS else {"to_item": to}
        self.try_do(c.Transfer(by="x", window=window, **kw))

    @rule(window=st.sampled_from(WINDOWS), kind=st.sampled_from(["fetching_materials", "documents_left", "waiting_step"]))
    def suspend(self, window: str, kind: str) -> None:
        self.try_do(c.Suspend(by="x", window=window, kind=kind))

    @precondition(lambda self: self.e.state.tickets)
    @rule(window=st.sampled_from(WINDOWS), data=st.data())
    def call_chosen(self, window: str, data: st.DataObject) -> None:
        ticket = data.draw(st.sampled_from(sorted(self.e.state.tickets)))
        self.try_do(c.CallTicket(by="x", window=window, ticket=ticket))

    @rule(window=st.sampled_from(WINDOWS))
    def pause(self, window: str) -> None:
        self.try_do(c.Pause(by="x", window=window, reason="午休"))

    @precondition(lambda self: self.e.state.tickets)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.try_do(c.CancelTicket(by="holder", ticket=data.draw(st.sampled_from(sorted(self.e.state.tickets)))))

    @invariant()
    def numbers_are_unique(self) -> None:
        numbers = [t.number for t in self.e.state.tickets.values()]
        assert len(numbers) == len(set(numbers))

    @invariant()
    def a_ticket_is_held_by_at_most_one_window(self) -> None:
        held: dict[str, str] = {}
        for w in self.e.state.windows.values():
            if w.status in (WindowStatus.called, WindowStatus.serving):
                assert w.ticket is not None
                assert w.ticket not in held, "two windows hold one ticket"
                held[w.ticket] = w.id
                t = self.e.state.tickets[w.ticket]
                assert t.window == w.id
                assert t.status.value == w.status.value
            else:
                assert w.ticket is None
        for t in self.e.state.tickets.values():
            if t.status in (TicketStatus.called, TicketStatus.serving):
                assert held.get(t.id) == t.window

    @invariant()
    def the_waiting_index_matches_the_tickets(self) -> None:
        s = self.e.state
        indexed = [tid for ids in s.waiting.values() for tid in ids]
        assert len(indexed) == len(set(indexed))
        assert set(indexed) == {t.id for t in s.tickets.values() if t.status is TicketStatus.waiting}
        for item, ids in s.waiting.items():
            assert all(s.tickets[i].item == item for i in ids)
            assert s.front.get(item, 0) == sum(1 for i in ids if s.tickets[i].priority or s.tickets[i].appointment)

    @invariant()
    def state_is_the_fold_of_the_events(self) -> None:
        refolded = fold(HallDay(self.e.state.hall, self.e.state.day), [ev.from_dict(ev.to_dict(x)) for x in self.e.log])
        assert _projection(refolded) == _projection(self.e.state)

    def teardown(self) -> None:
        """Every waiting ticket is eventually called once every window is open and working."""
        e = self.e
        for w in WINDOWS:
            state = e.state.window(w).status
            if state is WindowStatus.closed:
                e.do(c.OpenWindow(by="x", window=w))
            elif state is WindowStatus.paused:
                e.do(c.Resume(by="x", window=w))
            elif state is WindowStatus.called:
                e.do(c.NoShow(by="x", window=w))
            elif state is WindowStatus.serving:
                e.do(c.FinishService(by="x", window=w, case_type="immediate"))
        waiting = sum(1 for t in e.state.tickets.values() if t.status is TicketStatus.waiting)
        for _ in range(waiting + 1):
            for w in WINDOWS:
                if e.do(c.CallNext(by="x", window=w)):
                    e.do(c.NoShow(by="x", window=w))
        left = [t.number for t in e.state.tickets.values() if t.status is TicketStatus.waiting]
        assert not left, f"tickets never called: {left}"


HallMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestHallProperties = HallMachine.TestCase


@settings(max_examples=200, deadline=None)
@given(arrivals=st.lists(st.booleans(), min_size=1, max_size=40), gaps=st.lists(st.integers(0, 120), min_size=40, max_size=40))
def test_priority_is_served_first_yet_normal_tickets_get_a_turn_every_ratio_calls(arrivals: list[bool], gaps: list[int]):
    e = Engine(CATALOG, FakeClock(MORNING))
    e.do(c.OpenWindow(by="x", window="w1"))
    for prio, gap in zip(arrivals, gaps):
        e.clock.advance(gap)
        e.issue("a1", priority=prio)
    e.clock.advance(1)  # long runs may age tickets: an aged call resets the run, as in the policy
    run = 0
    served: list[str] = []
    while True:
        waiting = [t for t in e.state.tickets.values() if t.status is TicketStatus.waiting]
        t = e.call_next("w1")
        if t is None:
            break
        lane = e.log[-1].lane
        normal_waiting = any(not w.priority for w in waiting)
        if lane == "priority":
            assert not normal_waiting or run < POLICY.priority_ratio
            run += 1
        elif lane == "normal":
            assert run >= POLICY.priority_ratio or not any(w.priority for w in waiting)
            run = 0
        else:
            run = 0
        served.append(t.id)
        e.do(c.StartService(by="x", window="w1"))
        e.do(c.FinishService(by="x", window="w1", case_type="immediate"))
    assert sorted(served) == sorted(e.state.tickets)  # each ticket served exactly once


@settings(max_examples=100, deadline=None)
@given(young=st.integers(1, 10), waited=st.integers(0, 3600))
def test_ageing_bounds_the_wait_of_a_normal_ticket(young: int, waited: int):
    e = Engine(CATALOG, FakeClock(MORNING))
    e.do(c.OpenWindow(by="x", window="w1"))
    old = e.issue("a1")
    e.clock.advance(waited)
    for _ in range(young):
        e.issue("a1", priority=True)
    first = e.call_next("w1")
    if waited >= POLICY.ageing_s:
        assert first.id == old.id and e.log[-1].lane == "aged"
    else:
        assert first.priority
