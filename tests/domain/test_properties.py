"""Invariants of the pure engine over random command sequences (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.domain import commands as c
from server.domain import dayend
from server.domain import events as ev
from server.domain.apply import fold
from server.domain.decide import decide
from server.domain.errors import Conflict, DomainError
from server.domain.windows import actions as window_actions
from server.domain.estimates import ahead
from server.domain.model import OPEN_STATUSES, HallDay, TicketStatus, WindowStatus
from server.domain.policy import candidates, due
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


TERMINAL_PROBES = {
    "open": lambda w: c.OpenWindow(by="x", window=w),
    "call-next": lambda w: c.CallNext(by="x", window=w),
    "call": lambda w: c.CallTicket(by="x", window=w, ticket=""),
    "recall": lambda w: c.Recall(by="x", window=w),
    "start": lambda w: c.StartService(by="x", window=w),
    "finish": lambda w: c.FinishService(by="x", window=w, case_type="immediate"),
    "no-show": lambda w: c.NoShow(by="x", window=w),
    "transfer": lambda w: c.Transfer(by="x", window=w),
    "suspend": lambda w: c.Suspend(by="x", window=w, kind=""),
    "pause": lambda w: c.Pause(by="x", window=w, reason=""),
    "resume": lambda w: c.Resume(by="x", window=w),
    "close": lambda w: c.CloseWindow(by="x", window=w),
    "handover": lambda w: c.Handover(by="x", window=w),
    "evaluation": lambda w: c.RequestEvaluation(by="x", window=w),
}


class HallMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.e = Engine(CATALOG, FakeClock(MORNING))
        self.finished: set[str] = set()
        self.ended: dict[str, TicketStatus] = {}  # tickets done or cancelled: they stay so
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

    def told_matches_asked(self, events: list[ev.Event]) -> None:
        """The people ahead a new ticket is told (kiosk, 201) are those its page shows after."""
        for issued in events:
            t = self.e.state.tickets[issued.ticket]
            assert issued.ahead == ahead(self.e.state, CATALOG, t), "told and asked disagree on who is ahead"

    @rule(item=st.sampled_from(ITEMS), priority=st.booleans())
    def issue(self, item: str, priority: bool) -> None:
        self.e._ids += 1
        self.told_matches_asked(self.try_do(c.IssueTicket(by="kiosk", ticket=f"t{self.e._ids}", item=item, priority=priority)))

    @rule(item=st.sampled_from(ITEMS), offset=st.integers(-600, 600))
    def appointment(self, item: str, offset: int) -> None:
        self.appointments += 1
        code = f"AP{self.appointments}"
        start = self.e.clock.now() + timedelta(seconds=offset)
        if start.date() != self.e.state.day:
            return
        self.try_do(c.RegisterAppointment(by="boss", code=code, item=item, slot_start=start, slot_end=start + timedelta(minutes=30)))
        self.e._ids += 1
        self.told_matches_asked(self.try_do(c.IssueTicket(by="kiosk", ticket=f"t{self.e._ids}", item=item, appointment=code)))

    @rule(seconds=st.one_of(st.integers(0, 300), st.sampled_from([1799, 1800, 3600])))
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
        booked = [t for t in pool if due(t, now)]
        if booked:
            assert called.lane == "appointment", "an appointment in its slot waited behind a walk-in"
            assert chosen.slot_start == min(t.slot_start for t in booked), "not the earliest slot first"
            return
        assert called.lane in ("priority", "normal"), "an appointment went first before its slot began"
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

    @rule(
        window=st.sampled_from(WINDOWS),
        turns=st.lists(st.sampled_from(["finish", "no_show", "suspend", "transfer_item", "transfer_window"]), min_size=1, max_size=4),
        kind=st.sampled_from(["fetching_materials", "documents_left", "waiting_step"]),
        to_item=st.sampled_from(ITEMS),
        to_window=st.sampled_from(WINDOWS),
    )
    def serve_round(self, window: str, turns: list[str], kind: str, to_item: str, to_window: str) -> None:
        """Call, then finish, mark a no-show, suspend (挂起) or transfer, once per turn: the
        clerk's everyday loop with its less common turns."""
        for turn in turns:
            self.call_next(window)
            if self.e.state.window(window).status is not WindowStatus.called:
                return
            if turn == "no_show":
                self.no_show(window, False)
                continue
            self.try_do(c.StartService(by="x", window=window))
            if turn == "finish":
                self.finish(window, "immediate")
            elif turn == "suspend":
                self.suspend(window, kind)
            else:
                self.transfer(window, to_item if turn == "transfer_item" else to_window)

    @precondition(lambda self: self.e.state.tickets)
    @rule(window=st.sampled_from(WINDOWS), data=st.data())
    def call_chosen_from_the_window_list(self, window: str, data: st.DataObject) -> None:
        """指呼 as a clerk does it: from the tickets the window may call, or one it set aside."""
        now = self.e.clock.now()
        pool = sorted(t.id for t in candidates(self.e.state, CATALOG, window, now))
        pool += sorted(t.id for t in self.e.state.tickets.values() if t.status is TicketStatus.suspended and t.window == window)
        if pool:
            self.try_do(c.CallTicket(by="x", window=window, ticket=data.draw(st.sampled_from(pool))))

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

    @precondition(lambda self: self.e.state.closed_out_at is None and len(self.e.log) >= 20)  # leave the day a life first
    @rule(late=st.integers(0, 9 * 3600), serving=st.booleans())
    def midnight(self, late: int, serving: bool) -> None:
        """日终清号, noticed at once or hours later (a restart): every open ticket is closed out
        with what it was, every window closed, and deciding it again adds nothing."""
        state = self.e.state
        for w in WINDOWS if serving else ():  # services under way at midnight
            if state.window(w).status is WindowStatus.idle:
                self.try_do(c.CallNext(by="x", window=w))
            if state.window(w).status is WindowStatus.called:
                self.e.do(c.StartService(by="x", window=w))
        was = {t.id: t.status for t in state.tickets.values() if t.status in OPEN_STATUSES}
        open_windows = {w.id for w in state.windows.values() if w.status is not WindowStatus.closed}
        self.e.clock.t = dayend.day_end(state.day, CATALOG) + timedelta(seconds=late)
        events = self.e.do(c.CloseOutDay(by="system"))
        assert {e.ticket: TicketStatus(e.status) for e in events if isinstance(e, ev.TicketClosedOut)} == was
        assert {e.window for e in events if isinstance(e, ev.WindowClosed)} == open_windows
        assert all(t.status not in OPEN_STATUSES for t in state.tickets.values())
        assert all(w.status is WindowStatus.closed for w in state.windows.values())
        assert set(state.overnight.values()) == {t for t, status in was.items() if status is TicketStatus.serving}
        assert self.e.do(c.CloseOutDay(by="system")) == []
        for t in was:
            self.ended[t] = TicketStatus.closed_out

    @precondition(lambda self: self.e.state.closed_out_at is not None)
    @rule(data=st.data(), case=st.sampled_from(["immediate", "promised"]))
    def finish_late(self, data: st.DataObject, case: str) -> None:
        """The finish of a service that ran over midnight, recorded in its own day, once."""
        window = data.draw(st.sampled_from(sorted(self.e.state.overnight) + WINDOWS))
        try:
            events = dayend.finish_late(self.e.state, CATALOG, c.FinishService(by="x", window=window, case_type=case), self.e.clock.now())
        except DomainError:
            return
        for e in events:
            fold(self.e.state, [e])
            assert e.ticket not in self.finished, "a ticket was served twice"
            assert self.ended.get(e.ticket) is TicketStatus.closed_out, "only a service closed out while served ends late"
            self.finished.add(e.ticket)
            self.ended[e.ticket] = TicketStatus.done
        self.e.log.extend(events)

    @invariant()
    def a_ticket_done_or_cancelled_stays_so(self) -> None:
        for tid, status in self.ended.items():
            assert self.e.state.tickets[tid].status is status, f"{tid} left {status.value}"
        for t in self.e.state.tickets.values():
            if t.status in (TicketStatus.done, TicketStatus.cancelled):
                self.ended.setdefault(t.id, t.status)

    @invariant()
    def no_window_may_call_a_ticket_that_is_not_waiting_or_set_aside(self) -> None:
        """指呼 never reaches a ticket that is called, served, done, cancelled or a no-show, so
        no ticket can be served twice; nor a ticket transferred to another window."""
        state, now = self.e.state, self.e.clock.now()
        for w in WINDOWS:
            if state.window(w).status is not WindowStatus.idle:
                continue
            for t in state.tickets.values():
                if t.status is TicketStatus.suspended:
                    continue
                if t.status is TicketStatus.waiting and t.target_window in (None, w):
                    continue
                try:
                    decide(state, CATALOG, c.CallTicket(by="x", window=w, ticket=t.id), now)
                except DomainError:
                    continue
                raise AssertionError(f"{w} may call {t.number}, which is {t.status.value} (for {t.target_window})")

    @invariant()
    def the_terminal_offers_exactly_what_decide_accepts(self) -> None:
        """windows.actions (the state machine as a table) against decide itself: an action is
        offered when decide does not refuse it as a conflict whatever its input (a dummy input
        refused as invalid still counts as open, since the clerk will give a real one)."""
        state, now = self.e.state, self.e.clock.now()
        for w in WINDOWS:
            accepted = []
            for name, probe in TERMINAL_PROBES.items():
                try:
                    decide(state, CATALOG, probe(w), now)
                except Conflict:
                    continue
                except DomainError:
                    pass
                accepted.append(name)
            assert sorted(window_actions(state, CATALOG, w, now)) == sorted(accepted), w

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
        if e.state.closed_out_at is not None:  # nothing waits on a closed day, and nothing more is called
            assert not e.state.waiting or not any(e.state.waiting.values())
            with pytest.raises(DomainError):
                e.do(c.OpenWindow(by="x", window="w1"))
            return
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
        # A ticket set aside (挂起) can always be taken up again by the window that holds it.
        for t in [t for t in e.state.tickets.values() if t.status is TicketStatus.suspended]:
            e.do(c.CallTicket(by="x", window=t.window, ticket=t.id))
            e.do(c.NoShow(by="x", window=t.window))


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
    e.clock.advance(1)
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
        else:
            assert lane == "normal" and (run >= POLICY.priority_ratio or not any(w.priority for w in waiting))
            run = 0
        served.append(t.id)
        e.do(c.StartService(by="x", window="w1"))
        e.do(c.FinishService(by="x", window="w1", case_type="immediate"))
    assert sorted(served) == sorted(e.state.tickets)  # each ticket served exactly once


@settings(max_examples=100, deadline=None)
@given(young=st.integers(1, 10), waited=st.integers(0, 4 * 3600))
def test_however_long_a_normal_ticket_waited_a_priority_one_goes_first_until_the_ratio(young: int, waited: int):
    """Waiting long does not demote the priority lane: the ratio alone gives the normal ticket
    its turn, after `priority_ratio` priority calls at this window."""
    e = Engine(CATALOG, FakeClock(MORNING))
    e.do(c.OpenWindow(by="x", window="w1"))
    old = e.issue("a1")
    e.clock.advance(waited)
    for _ in range(young):
        e.issue("a1", priority=True)
    calls = []
    for _ in range(min(young, POLICY.priority_ratio) + 1):
        t = e.call_next("w1")
        calls.append((t.id, t.priority, e.log[-1].lane))
        e.act(c.StartService, "w1")
        e.act(c.FinishService, "w1", case_type="immediate")
    assert [(p, lane) for _, p, lane in calls[:-1]] == [(True, "priority")] * (len(calls) - 1)
    assert calls[-1] == (old.id, False, "normal")