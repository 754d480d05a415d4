"""The feed's state machine without sockets or real time: what goes to whom, whom it drops, when
it reads the journal. The hall is the pure core driven by hand; the clock is a number."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from server.domain import commands as c
from server.domain import events as ev
from server.domain.model import HallDay
from server.feed import render
from server.feed.machine import CatchUp, Close, FeedMachine, Output, Send
from tests.halls import MORNING, Engine, FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)
DAY = MORNING.date().isoformat()


QUEUE, HARD, TIMEOUT = 8, 40, 5.0  # small limits: the same rules, a few messages deep


class Floor:
    """A hall's pure core, its journal as a list, and a feed machine, all driven by hand. Every
    message sent is written at once (acknowledged), except to the clients in `slow`."""

    def __init__(self, history: int = 2000, tick_s: float = 15.0, slow: tuple[str, ...] = ()) -> None:
        self.e = Engine(CATALOG, FakeClock(MORNING))
        self.journal: list[dict[str, Any]] = []
        self.t = 0.0  # the monotonic clock the driver would pass in
        self.slow = set(slow)
        self.feed = FeedMachine(self.e.state.day, 0, history, tick_s, now=self.t,
                                queue_size=QUEUE, hard_limit=HARD, send_timeout_s=TIMEOUT)

    def written(self, outputs: list[Output]) -> list[Output]:
        for o in outputs:
            if isinstance(o, Send) and o.client not in self.slow:
                self.feed.sent(o.client, self.t)
        return outputs

    def hall(self) -> render.HallView:
        return render.HallView(self.e.state, self.e.catalog, self.e.clock.now())

    def journalled(self, command: c.Command) -> tuple[int, tuple[dict[str, Any], ...]]:
        events = tuple(ev.to_dict(e) for e in self.e.do(command))
        first = len(self.journal) + 1
        self.journal.extend(events)
        return first, events

    def do(self, command: c.Command) -> list[Output]:
        """The command's events reach the feed from the bus."""
        first, events = self.journalled(command)
        return self.written(self.feed.publish(self.e.state.day, first, events, self.hall()))

    def issue(self, item: str = "a1") -> list[Output]:
        self.e._ids += 1
        return self.do(c.IssueTicket(by="kiosk", ticket=f"secret-{self.e._ids}", item=item))

    def window(self, command: type[c.WindowCommand], window: str = "w1", **kw: Any) -> list[Output]:
        return self.do(command(by=f"{window}a", window=window, **kw))

    def connect(self, key: str, **kw: Any) -> list[Output]:
        return self.written(self.feed.connect(key, self.hall(), **kw))

    def receive(self, key: str, text: str) -> list[Output]:
        return self.written(self.feed.receive(key, text, self.hall()))

    def publish(self, first: int, *events: dict[str, Any]) -> list[Output]:
        return self.written(self.feed.publish(self.e.state.day, first, events, self.hall()))

    def read_journal(self, catch_up: CatchUp) -> list[Output]:
        """What the driver does for a CatchUp: read the journal after `since` and publish it."""
        return self.publish(catch_up.since + 1, *self.journal[catch_up.since:])

    def later(self, seconds: float) -> list[Output]:
        self.t += seconds
        return self.written(self.feed.timer(self.hall(), self.t))


def to(key: str, outputs: list[Output]) -> list[dict[str, Any]]:
    return [json.loads(o.payload) for o in outputs if isinstance(o, Send) and o.client == key]


def closed(outputs: list[Output]) -> dict[str, int]:
    return {o.client: o.code for o in outputs if isinstance(o, Close)}  # type: ignore[misc]


def test_a_screen_gets_a_snapshot_then_every_event_in_order():
    f = Floor()
    f.issue()
    (snap,) = to("lobby", f.connect("lobby"))
    assert snap["type"] == "snapshot" and snap["seq"] == 1
    assert next(q for q in snap["state"]["queues"] if q["item"] == "a1")["waiting"] == 1
    opened, called = to("lobby", f.window(c.OpenWindow)) + to("lobby", f.window(c.CallNext))
    assert (opened["seq"], called["seq"]) == (2, 3)
    assert called["event"] == {"type": "ticket_called", "at": called["event"]["at"], "window": "w1", "number": "A001",
                               "lane": called["event"]["lane"]}
    assert called["call"]["text"] == "请 A001 号 到 1号窗口 办理"
    assert called["windows"][0]["state"] == "called" and called["windows"][0]["ticket"]["number"] == "A001"
    assert "secret-1" not in json.dumps([snap, opened, called])


def test_staff_hear_every_event_with_accounts_and_the_lobby_only_the_floor_with_clerks_by_name():
    f = Floor()
    f.connect("lobby"), f.connect("desk", staff=True)
    opened = f.window(c.OpenWindow)
    (public,), (staff,) = to("lobby", opened), to("desk", opened)
    assert public["seq"] == staff["seq"] == 1
    assert public["event"]["clerk"] == {"name": "张一", "staff_no": "S11", "post": "A"}
    assert staff["event"]["clerk"] == "w1a" and staff["event"]["by"] == "w1a"
    start = f.e.clock.now()
    booked = f.do(c.RegisterAppointment(by="boss", code="AP1", item="a1", slot_start=start, slot_end=start + timedelta(minutes=30)))
    assert to("lobby", booked) == [] and to("desk", booked)[0]["event"]["type"] == "appointment_registered"


def test_a_window_screen_hears_only_its_window():
    f = Floor()
    f.connect("w2-screen", window="w2")
    f.issue()
    assert to("w2-screen", f.window(c.OpenWindow, "w1")) == []
    (m,) = to("w2-screen", f.window(c.OpenWindow, "w2"))
    assert m["event"]["type"] == "window_opened" and m["event"]["window"] == "w2"


def test_a_resume_within_the_history_replays_what_was_missed_then_goes_on_live_nothing_twice():
    f = Floor()
    (snap,) = to("lobby", f.connect("lobby"))
    f.issue(), f.window(c.OpenWindow)
    live = to("lobby", f.window(c.CallNext))
    # it reconnects from its snapshot's position: a replay, not a snapshot
    f.feed.disconnect("lobby")
    back = to("lobby", f.connect("lobby", since=snap["seq"], day=DAY))
    assert back[0] == {"type": "resumed", "seq": 0} and [m["seq"] for m in back[1:]] == [1, 2, 3]
    assert back[3] == live[0]  # the same message, the call included
    # in band: the same again
    again = to("lobby", f.receive("lobby", json.dumps({"type": "resume", "seq": 1, "day": DAY})))
    assert again[0] == {"type": "resumed", "seq": 1} and again[1:] == back[2:]
    assert [m["seq"] for m in to("lobby", f.window(c.Recall))] == [4]


def test_a_resume_from_the_future_another_day_without_a_day_or_beyond_the_history_gets_a_snapshot():
    f = Floor(history=3)
    f.connect("lobby")
    for _ in range(5):  # two more than the feed keeps
        f.issue()
    for since, day in ((99, DAY), (0, "2020-01-01"), (1, DAY)):
        (m,) = to("lobby", f.receive("lobby", json.dumps({"type": "resume", "seq": since, "day": day})))
        assert m["type"] == "snapshot" and m["seq"] == 5, (since, day)
        assert next(q for q in m["state"]["queues"] if q["item"] == "a1")["waiting"] == 5
    assert to("new", f.connect("new", since=2))[0]["type"] == "snapshot"  # a position means nothing without its day
    assert [m["seq"] for m in to("new", f.connect("new", since=2, day=DAY))] == [2, 3, 4, 5]
    assert [m["seq"] for m in to("lobby", f.issue())] == [6]  # live after a snapshot, nothing twice


def test_a_ticket_subscription_hears_its_ticket_and_its_people_ahead_once_a_second():
    f = Floor()
    f.issue(), f.issue()
    (first,) = to("phone", f.connect("phone", ticket="secret-2"))
    assert first["type"] == "ticket" and first["ticket"]["id"] == "secret-2" and first["ticket"]["ahead"] == 1
    assert to("phone", f.window(c.OpenWindow)) == []
    assert to("phone", f.window(c.CallNext)) == []  # another ticket's call: its people-ahead are sent at the check
    (ahead,) = to("phone", f.later(1.0))
    assert ahead["ticket"]["ahead"] == 0 and "secret-1" not in json.dumps(ahead)
    assert to("phone", f.later(1.0)) == []  # nothing new, nothing sent
    f.window(c.StartService), f.window(c.FinishService, case_type="immediate")
    (called,) = to("phone", f.window(c.CallNext))
    assert called["ticket"]["status"] == "called" and called["ticket"]["window"] == "w1"


def test_a_gap_in_the_bus_is_filled_from_the_journal_and_nothing_is_sent_twice():
    f = Floor()
    f.connect("lobby")
    f.journalled(c.IssueTicket(by="kiosk", ticket="lost-1", item="a1"))  # journalled, never heard
    f.journalled(c.IssueTicket(by="kiosk", ticket="lost-2", item="a1"))
    outputs = f.issue()
    (catch_up,) = [o for o in outputs if isinstance(o, CatchUp)]
    assert catch_up.since == 0 and to("lobby", outputs) == []
    assert [m["seq"] for m in to("lobby", f.read_journal(catch_up))] == [1, 2, 3]
    assert to("lobby", f.publish(3, f.journal[2])) == []  # the bus's late copy
    assert f.feed.lagged() == [CatchUp(f.e.state.day, 3)]  # the bus says it dropped some: read after 3


def test_the_heartbeat_is_due_every_tick_with_the_day_the_position_and_the_halls_clock():
    f = Floor(tick_s=15.0)
    f.connect("lobby"), f.connect("w3-screen", window="w3")
    f.issue()
    assert f.feed.deadline() == 1.0  # the once-a-second check comes first
    assert to("lobby", f.later(13.0)) == []
    (tick,) = to("lobby", f.later(2.0))
    assert tick == {"type": "tick", "seq": 1, "day": DAY, "now": f.e.clock.now().isoformat(), "every_s": 15.0}
    assert len(to("w3-screen", f.later(15.0))) == 1 and to("lobby", f.later(1.0)) == []


def test_a_client_still_a_queue_behind_at_the_check_is_dropped_and_the_others_keep_hearing():
    f = Floor(slow=("stuck",))
    f.connect("stuck"), f.connect("fine")
    for _ in range(QUEUE):  # with its snapshot, one more than the queue holds
        f.issue()
    assert closed(f.later(1.0)) == {"stuck": 1013}
    assert set(f.feed.listening()) == {"fine"}
    outputs = f.issue()
    assert to("stuck", outputs) == [] and len(to("fine", outputs)) == 1
    assert to("stuck", f.later(15.0)) == []  # not even the heartbeat
    # it comes back and resumes like any client
    f.feed.disconnect("stuck")
    f.slow.clear()
    assert to("stuck", f.connect("stuck", since=QUEUE, day=DAY)) == [{"type": "resumed", "seq": QUEUE}, to("fine", outputs)[0]]


def test_a_client_a_queue_behind_whose_writing_moves_is_kept():
    f = Floor(slow=("slow",))
    f.connect("slow")
    for _ in range(QUEUE - 1):
        f.issue()
    assert closed(f.later(1.0)) == {}
    for _ in range(QUEUE):  # written, one by one, a second apart: slow, but moving
        f.feed.sent("slow", f.t)
        assert closed(f.later(1.0)) == {}
    assert closed(f.later(TIMEOUT + 1)) == {}  # and nothing waits any more


def test_a_client_whose_writing_stalls_is_dropped_after_the_send_timeout():
    f = Floor(slow=("stalled",))
    f.connect("stalled")
    f.issue()
    f.feed.sent("stalled", f.t)  # the snapshot went at 0 s; the event waits ever after
    assert closed(f.later(TIMEOUT)) == {}
    assert closed(f.later(1.0)) == {"stalled": 1013}


def test_a_burst_beyond_the_hard_limit_drops_a_client_at_once():
    f = Floor(slow=("late",))
    f.connect("late")  # its snapshot is one
    burst = [{"type": "window_resumed", "at": MORNING.isoformat(), "by": "w1a", "window": "w1"} for _ in range(HARD)]
    outputs = f.publish(1, *burst)
    assert len(to("late", outputs)) == HARD - 1 and closed(outputs) == {"late": 1013}


def test_frames_a_ping_a_pong_a_bad_one_an_error_binary_or_ten_bad_ones_a_close():
    f = Floor()
    f.connect("screen")
    assert to("screen", f.receive("screen", '{"type":"ping"}')) == [{"type": "pong", "seq": 0}]
    for bad in ("{not json", "[]", '{"type":"resume","seq":"1"}', '{"type":"resume","seq":true}', '"x"'):
        outputs = f.receive("screen", bad)
        assert to("screen", outputs)[0]["type"] == "error" and closed(outputs) == {}
    for _ in range(4):
        assert closed(f.receive("screen", "?")) == {}
    assert closed(f.receive("screen", "?")) == {"screen": 1008}
    assert f.feed.receive_binary("screen") == [Close("screen", 1003, "text frames only")]


def test_a_new_hall_day_redraws_every_screen_and_the_day_before_is_not_heard():
    f = Floor()
    f.connect("lobby")
    f.issue()
    before = f.e.state
    f.e.state = HallDay(before.hall, before.day + timedelta(days=1))
    event = {"type": "window_opened", "at": MORNING.isoformat(), "by": "w1a", "window": "w1", "clerk": "w1a"}
    outputs = f.publish(1, event)
    assert [m["type"] for m in to("lobby", outputs)] == ["snapshot", "event"]
    assert to("lobby", outputs)[0]["state"]["day"] == f.e.state.day.isoformat()
    assert f.feed.publish(before.day, 2, (f.journal[0],), f.hall()) == []


def test_a_catalogue_change_redraws_every_screen_from_one_snapshot_per_audience():
    f = Floor()
    for key in ("a", "b"):
        f.connect(key)
    f.connect("desk", staff=True), f.connect("w1-screen", window="w1")
    f.issue()
    f.connect("phone", ticket="secret-1")  # a holder's page follows its ticket, not the hall
    change = {"type": "catalog_changed", "at": MORNING.isoformat(), "by": "admin", "rev": 1, "effective": DAY, "summary": ""}
    outputs = f.publish(2, change)
    snapshots = {o.client: o.payload for o in outputs if isinstance(o, Send) and '"snapshot"' in o.payload[:20]}
    assert set(snapshots) == {"a", "b", "desk", "w1-screen"} and to("phone", outputs) == []
    assert snapshots["a"] is snapshots["b"] is snapshots["w1-screen"] and snapshots["desk"] is not snapshots["a"]
    assert [m["type"] for m in to("a", outputs)] == ["event", "snapshot"]


def test_screens_that_keep_up_leave_only_the_heartbeat_to_the_timer():
    """A province's thousands of feeds: the once-a-second look is needed only for a client with
    messages not written yet or one following a ticket (server/api/realtime.py plans by it)."""
    f = Floor(tick_s=15.0, slow=("slow",))
    assert not f.feed.watching() and f.feed.next_tick() == 15.0
    f.connect("screen")
    f.issue()
    assert not f.feed.watching()  # written at once: nothing to look at
    f.connect("slow")
    assert f.feed.watching()  # its snapshot waits to be written
    f.feed.disconnect("slow")
    assert not f.feed.watching()
    f.connect("phone", ticket="secret-1")
    assert f.feed.watching()  # its people-ahead are sent at the once-a-second look
