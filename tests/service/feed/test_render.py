"""The feed's rendering, pure: no personal data reaches a public screen, whatever the events (hypothesis)."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from server.domain import commands as c
from server.domain import events as ev
from server.domain.errors import DomainError
from server.feed import render
from tests.halls import MORNING, Engine, FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)
WINDOWS = ["w1", "w2", "w3"]
ITEMS = ["a1", "a2", "b1", "c1"]
ACCOUNTS = ["admin", "boss", "w1a", "w1b", "w2a", "w3a"]
# Every personal value the tests make carries this mark: ticket ids, appointment codes, phone keys
# and masks, comments, notes, missing materials, print failure details.
MARK = "PRIVATE"
PERSONAL = {"ticket", "code", "phone_key", "phone_masked", "comment", "note", "missing", "detail", "appointment",
            "reasons", "summary", "key", "to", "by"}


def assert_public(text: str) -> None:
    assert MARK not in text, f"personal data on a public screen: {text}"
    for account in ACCOUNTS:
        assert f'"{account}"' not in text, f"the account name {account!r} on a public screen"


def hall(engine: Engine) -> render.HallView:
    return render.HallView(engine.state, engine.catalog, engine.clock.now())


# -- any event, however odd its fields ------------------------------------------------------


def _field_value(name: str, hint: typing.Any, tickets: list[str]) -> st.SearchStrategy[typing.Any]:
    optional = type(None) in typing.get_args(hint)
    if name in ("window", "to_window"):
        base: st.SearchStrategy[typing.Any] = st.sampled_from(WINDOWS)
    elif name in ("item", "to_item"):
        base = st.sampled_from(ITEMS)
    elif name in ("clerk", "from_clerk", "to_clerk", "by", "to"):
        base = st.sampled_from(ACCOUNTS)
    elif name == "ticket":
        base = st.sampled_from(tickets) | st.text(min_size=1, max_size=8).map(lambda s: f"{MARK}-{s}")
    elif name in PERSONAL:
        base = st.text(max_size=12).map(lambda s: f"{MARK}{s}")
        if name in ("missing", "reasons"):
            base = st.lists(base, max_size=3)
    elif name in ("at", "until", "slot_start", "slot_end", "requeued_at"):
        base = st.integers(0, 36_000).map(lambda s: (MORNING + timedelta(seconds=s)).isoformat())
    elif name in ("accepted_on", "rated_on", "effective", "deadline", "moved_from", "carried_from", "from_day"):
        base = st.just(MORNING.date().isoformat())
    else:
        origin = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        kind = origin[0]
        base = (st.booleans() if kind is bool else st.integers(0, 99) if kind is int
                else st.floats(0, 99, allow_nan=False) if kind is float else st.text(alphabet="abcxyz_", max_size=8))
    return st.none() | base if optional else base


@st.composite
def any_event(draw: st.DrawFn, tickets: list[str]) -> dict[str, typing.Any]:
    cls = draw(st.sampled_from(sorted(ev.EVENT_TYPES.values(), key=lambda k: k.type)))
    hints = typing.get_type_hints(cls)
    data: dict[str, typing.Any] = {"type": cls.type}
    for f in dataclasses.fields(cls):
        data[f.name] = draw(_field_value(f.name, hints[f.name], tickets))
    return data


def _busy_hall() -> Engine:
    """A hall mid-morning: windows open, tickets with personal ids called and being served."""
    e = Engine(CATALOG, FakeClock(MORNING))
    for w in WINDOWS:
        e.do(c.OpenWindow(by=f"{w}a", window=w))
    for n, item in enumerate(["a1", "a2", "b1", "c1", "a1", "b1"]):
        e.do(c.IssueTicket(by="kiosk", ticket=f"{MARK}-t{n}", item=item))
    e.do(c.CallNext(by="w1a", window="w1"))
    e.do(c.CallNext(by="w2a", window="w2"))
    e.do(c.StartService(by="w2a", window="w2"))
    return e


BUSY = _busy_hall()


@settings(max_examples=150, deadline=None)
@given(data=any_event(list(BUSY.state.tickets)))
def test_no_event_puts_personal_data_on_a_public_screen(data: dict[str, typing.Any]):
    message = render.event_message(BUSY.state.seq + 1, data, hall(BUSY))
    if message.public is not None:
        assert_public(message.public)
        body = json.loads(message.public)
        assert set(body["event"]) <= render.PUBLIC_FIELDS | set(render.CLERK_FIELDS)
    assert data["type"] in render.PUBLIC_TYPES or message.public is None  # supervision and bookings stay with staff
    # staff name tickets by number too: the id is its holder's secret
    if isinstance(data.get("ticket"), str):
        assert data["ticket"] not in json.dumps(json.loads(message.staff)["event"], ensure_ascii=False)


# -- a hall running through random days --------------------------------------------------------


class PublicScreens(RuleBasedStateMachine):
    """Random commands through the pure core; every public message and snapshot along the way
    is checked, and so is what a staff screen receives for tickets' ids."""

    def __init__(self) -> None:
        super().__init__()
        self.e = Engine(CATALOG, FakeClock(MORNING))
        self.n = 0
        self.seen: list[str] = []

    types: set[str] = set()  # the public event types the runs rendered (the test's reach)

    def do(self, command: c.Command) -> None:
        try:
            events = self.e.do(command)
        except DomainError:
            return
        view = hall(self.e)
        for i, event in enumerate(events):
            data = ev.to_dict(event)
            message = render.event_message(self.e.state.seq - len(events) + 1 + i, data, view)
            if message.public is not None:
                assert_public(message.public)
                self.seen.append(data["type"])
            for t in self.e.state.tickets:
                assert t not in message.staff, "a staff message carried a ticket id"

    def ticket(self, data: st.DataObject) -> str | None:
        ids = sorted(self.e.state.tickets)
        return data.draw(st.sampled_from(ids)) if ids else None

    @initialize(opened=st.lists(st.sampled_from(WINDOWS), unique=True, min_size=1))
    def open_windows(self, opened: list[str]) -> None:
        for w in opened:
            self.do(c.OpenWindow(by=f"{w}a", window=w))

    @rule(item=st.sampled_from(ITEMS), priority=st.booleans(), booked=st.booleans())
    def issue(self, item: str, priority: bool, booked: bool) -> None:
        self.n += 1
        code = None
        if booked:
            code = f"{MARK}AP{self.n}"
            start = self.e.clock.now()
            self.do(c.RegisterAppointment(by="boss", code=code, item=item, slot_start=start, slot_end=start + timedelta(minutes=30)))
        self.do(c.IssueTicket(by="kiosk", ticket=f"{MARK}-{self.n}", item=item, priority=priority, appointment=code))

    @rule(window=st.sampled_from(WINDOWS), action=st.sampled_from(["open", "call", "recall", "start", "close", "resume", "handover"]))
    def window(self, window: str, action: str) -> None:
        by = f"{window}a"
        command = {
            "open": c.OpenWindow, "call": c.CallNext, "recall": c.Recall, "start": c.StartService,
            "close": c.CloseWindow, "resume": c.Resume,
        }.get(action)
        self.do(command(by=by, window=window) if command else c.Handover(by=by, window=window, to="w1b" if window == "w1" else None))

    @rule(window=st.sampled_from(WINDOWS), outcome=st.sampled_from(["completed", "one_time_notice"]))
    def finish(self, window: str, outcome: str) -> None:
        self.do(c.FinishService(by=f"{window}a", window=window, case_type="immediate", outcome=outcome,
                                missing=(f"{MARK}材料",) if outcome != "completed" else (), note=f"{MARK}备注"))

    @rule(window=st.sampled_from(WINDOWS), score=st.integers(1, 5),
          end=st.sampled_from(["completed", "one_time_notice", "transfer", "no_show"]))
    def serve(self, window: str, score: int, end: str) -> None:
        by = f"{window}a"
        self.do(c.OpenWindow(by=by, window=window))
        self.do(c.CallNext(by=by, window=window))
        served = self.e.state.window(window).ticket
        if end == "no_show":
            return self.do(c.NoShow(by=by, window=window))
        self.do(c.StartService(by=by, window=window))
        if end == "transfer":
            return self.do(c.Transfer(by=by, window=window, to_item="b1"))
        self.finish(window, end)
        if served is not None:
            self.do(c.Evaluate(by="citizen", ticket=served, score=score, comment=f"{MARK} 电话13800138000"))

    @rule(data=st.data(), score=st.integers(1, 5))
    def evaluate(self, data: st.DataObject, score: int) -> None:
        if (t := self.ticket(data)) is not None:
            self.do(c.Evaluate(by="citizen", ticket=t, score=score, comment=f"{MARK} 电话13800138000"))

    @rule(data=st.data(), ok=st.booleans())
    def printed_or_cancelled(self, data: st.DataObject, ok: bool) -> None:
        if (t := self.ticket(data)) is not None:
            self.do(c.RecordPrint(by="kiosk", ticket=t, ok=ok, detail=f"{MARK} paper out"))
            if not ok:
                self.do(c.CancelTicket(by="citizen", ticket=t))

    @rule(window=st.sampled_from(WINDOWS), to=st.sampled_from(ITEMS + WINDOWS), requeue=st.booleans())
    def move(self, window: str, to: str, requeue: bool) -> None:
        by = f"{window}a"
        if requeue:
            self.do(c.NoShow(by=by, window=window, requeue=True))
        elif to in ITEMS:
            self.do(c.Transfer(by=by, window=window, to_item=to))
        else:
            self.do(c.Transfer(by=by, window=window, to_window=to))

    @rule(window=st.sampled_from(WINDOWS), minutes=st.integers(1, 60))
    def pause(self, window: str, minutes: int) -> None:
        self.do(c.Pause(by=f"{window}a", window=window, reason="培训", until=self.e.clock.now() + timedelta(minutes=minutes)))

    @rule(seconds=st.integers(0, 600))
    def advance(self, seconds: int) -> None:
        self.e.clock.advance(seconds)

    def teardown(self) -> None:
        PublicScreens.types.update(self.seen)

    @invariant()
    def snapshots_are_public(self) -> None:
        assert_public(render.snapshot_message(hall(self.e), public=True))


COVERED = {"ticket_issued", "ticket_called", "service_finished", "ticket_evaluated", "ticket_print_recorded",
           "ticket_cancelled", "window_handed_over", "ticket_transferred"}


def _scripted_day() -> set[str]:
    """One day through the same machine that surely renders every event of COVERED, whatever
    the random runs draw (their draws follow the test's own digest: moving or renaming the file
    changes them)."""
    m = PublicScreens()
    m.open_windows(["w1", "w2"])
    for item in ("a1", "a1", "b1", "b1"):
        m.issue(item, priority=False, booked=False)
    m.serve("w1", 5, "completed")
    m.serve("w1", 3, "transfer")  # the second a1 goes to b1
    m.do(c.RecordPrint(by="kiosk", ticket=f"{MARK}-4", ok=False, detail=f"{MARK} paper out"))
    m.do(c.CancelTicket(by="citizen", ticket=f"{MARK}-4"))
    m.window("w1", "handover")
    m.snapshots_are_public()
    m.teardown()
    return set(m.seen)


def test_public_screens_never_carry_personal_data_in_random_halls():
    PublicScreens.types.clear()
    assert COVERED <= _scripted_day()
    # Derandomized: the same runs every time (a random 50 runs once missed every hand-over).
    run_state_machine_as_test(PublicScreens, settings=settings(max_examples=80, stateful_step_count=40, deadline=None,
                                                               derandomize=True, database=None,
                                                               suppress_health_check=[HealthCheck.too_slow]))
    # the runs rendered the events that carry personal data, or the check proves little
    assert COVERED <= PublicScreens.types
