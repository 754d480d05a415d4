"""The terminal's queue is the call policy's own order: `call_order` agrees with `choose_next`
now, and a window that keeps calling (nobody new, the clock still) calls exactly that list."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain import commands as c
from server.domain.errors import DomainError
from server.domain.policy import call_order, choose_next
from tests.halls import MORNING, Engine, FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)
WINDOWS = ["w1", "w2", "w3"]

issue = st.tuples(st.just("issue"), st.sampled_from(["a1", "a2", "b1", "c1"]), st.booleans())
step = st.one_of(
    issue, issue, issue,  # mostly arrivals, so queues grow long enough to interleave lanes
    st.tuples(st.just("appointment"), st.sampled_from(["a1", "a2", "b1"]), st.integers(-900, 900)),
    st.tuples(st.just("wait"), st.sampled_from([10, 120, 600, 1799, 1800])),
    st.tuples(st.just("serve"), st.sampled_from(WINDOWS)),
    st.tuples(st.just("transfer"), st.sampled_from(WINDOWS), st.sampled_from(WINDOWS)),
)


def _try(e: Engine, command: c.Command) -> list:
    try:
        return e.do(command)
    except DomainError:
        return []


def _run(e: Engine, steps: list) -> None:
    for w in WINDOWS:
        e.do(c.OpenWindow(by="x", window=w))
    n = 0
    for s in steps:
        if s[0] == "issue":
            e._ids += 1
            _try(e, c.IssueTicket(by="kiosk", ticket=f"t{e._ids}", item=s[1], priority=s[2]))
        elif s[0] == "appointment":
            n += 1
            start = e.clock.now() + timedelta(seconds=s[2])
            _try(e, c.RegisterAppointment(by="boss", code=f"AP{n}", item=s[1], slot_start=start, slot_end=start + timedelta(minutes=30)))
            e._ids += 1
            _try(e, c.IssueTicket(by="kiosk", ticket=f"t{e._ids}", item=s[1], appointment=f"AP{n}"))
        elif s[0] == "wait":
            e.clock.advance(s[1])
        elif s[0] == "serve":
            if _try(e, c.CallNext(by="x", window=s[1])):
                e.do(c.StartService(by="x", window=s[1]))
                e.do(c.FinishService(by="x", window=s[1], case_type="immediate"))
        elif s[0] == "transfer" and s[1] != s[2]:
            if _try(e, c.CallNext(by="x", window=s[1])):
                e.do(c.Transfer(by="x", window=s[1], to_window=s[2]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, max_size=60), window=st.sampled_from(WINDOWS))
def test_a_window_calls_its_queue_in_exactly_the_order_the_terminal_shows(steps, window):
    e = Engine(CATALOG, FakeClock(MORNING))
    _run(e, steps)
    now = e.clock.now()
    order = call_order(e.state, CATALOG, window, now)
    head = choose_next(e.state, CATALOG, window, now)
    assert (order[0] if order else None) == head
    assert call_order(e.state, CATALOG, window, now, limit=3) == order[:3]
    called = []
    while (t := e.call_next(window)) is not None:
        called.append((t.id, e.log[-1].lane))
        e.do(c.StartService(by="x", window=window))
        e.do(c.FinishService(by="x", window=window, case_type="immediate"))
    assert called == [(t.id, lane.value) for t, lane in order]
