"""Print jobs as a state machine: plain calls, the hall's clock moved by hand, the RecordPrint
commands it answers decided and applied by the pure core. No socket, no task, no waiting."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from server.domain.catalog import Kiosk, Printer
from server.domain.commands import CancelTicket
from server.domain.errors import Conflict, NotFound
from server.domain.model import PrintStatus, Ticket
from server.printing.jobs import Changed, Close, Output, PrintHere, PrintJobs, Record, Relay, Send
from tests.halls import Engine, FakeClock

DATA = b"\x1b@\x1c&A001\n\x1dV\x00"
KIOSKS = [
    Kiosk(id="k1", name="一楼 自助取号机1", ack_timeout_s=20, printer=Printer(kind="network", address="127.0.0.1:9100")),
    Kiosk(id="k2", name="二楼 自助取号机2", agent=False, ack_timeout_s=10, printer=Printer(kind="network", address="127.0.0.1:9101")),
    Kiosk(id="k3", name="咨询台 平板"),
]


class Hall:
    """One hall's print jobs driven by hand: the engine issues and records, the clock stands still until moved."""

    def __init__(self, shared: bool = False, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.engine = Engine(clock=self.clock)
        self.jobs = PrintJobs("t", KIOSKS, shared=shared)
        self.renders = 0

    def render(self) -> bytes:
        self.renders += 1
        return DATA

    def issue(self, kiosk: str = "k1") -> tuple[Ticket, list[Output]]:
        t = self.engine.issue("a1")
        job, out = self.jobs.submit(kiosk, t, self.render, self.clock.now(), by=f"kiosk:{kiosk}")
        return t, out

    def receive(self, agent: int, message: dict) -> list[Output]:  # type: ignore[type-arg]
        return self.jobs.receive(agent, json.dumps(message), self.clock.now(), self.engine.state.tickets)

    def ack(self, agent: int, job: str, ticket: str, ok: bool = True, **kw: object) -> list[Output]:
        return self.receive(agent, {"type": "ack", "job": job, "ticket": ticket, "ok": ok, **kw})

    def journal(self, out: list[Output]) -> list[Output]:
        """Record every Record (as the driver does, the journal never failing); what follows."""
        after: list[Output] = []
        for o in out:
            if isinstance(o, Record):
                self.engine.do(o.command)
                after += self.jobs.recorded(o)
        return after

    def tick(self, seconds: float = 0) -> list[Output]:
        self.clock.advance(seconds)
        return self.jobs.tick(self.clock.now(), self.engine.state.day)

    def records(self, ticket: str) -> list[tuple[str, bool]]:
        return [(e.status, e.partial) for e in self.engine.log if e.type == "ticket_print_recorded" and e.ticket == ticket]


def sent(out: list[Output], agent: int) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(o.text) for o in out if isinstance(o, Send) and o.agent == agent]


def records(out: list[Output]) -> list[Record]:
    return [o for o in out if isinstance(o, Record)]


def test_a_ticket_goes_to_the_connected_agent_and_is_recorded_printed_once_acknowledged():
    h = Hall()
    agent, hello = h.jobs.connect("k1")
    assert [m["type"] for m in sent(hello, agent)] == ["hello"] and sent(hello, agent)[0]["printer"]["address"] == "127.0.0.1:9100"
    t, out = h.issue("k1")
    (job,) = sent(out, agent)
    assert (job["type"], job["ticket"], job["number"], base64.b64decode(job["data"])) == ("job", t.id, "A001", DATA)
    (record,) = records(out := h.ack(agent, job["job"], t.id))
    assert record.command.ok and record.command.by == "kiosk:k1" and record.command.ticket == t.id
    assert sent(out, agent) == []  # acknowledged only once the journal has it
    assert sent(h.journal(out), agent) == [{"type": "acked", "job": job["job"]}]
    assert t.print_status is PrintStatus.printed and h.jobs.kiosk("k1").jobs == {}
    assert records(h.tick(3600)) == []  # settled: its deadline means nothing now


def test_a_double_tap_reuses_the_open_job_and_renders_nothing_again():
    h = Hall()
    t, _ = h.issue("k1")
    again, out = h.jobs.reprint("k1", t, h.render, h.clock.now(), by="holder", staff=False)
    (job,) = h.jobs.kiosk("k1").jobs.values()
    assert again is job and not again.reprint and out == [] and h.renders == 1


def test_a_job_not_acknowledged_is_sent_again_after_a_reconnect_and_never_after_its_record():
    h = Hall()
    t, _ = h.issue("k1")  # no agent yet: the job waits for it
    agent, out = h.jobs.connect("k1")
    (first,) = [m for m in sent(out, agent) if m["type"] == "job"]
    h.jobs.disconnect(agent, h.clock.now())  # gone without an answer
    agent2, out = h.jobs.connect("k1")
    (again,) = [m for m in sent(out, agent2) if m["type"] == "job"]
    assert again == first
    assert sent(h.journal(h.ack(agent2, first["job"], t.id)), agent2) == [{"type": "acked", "job": first["job"]}]
    # A repeat of the ack (the agent missed `acked`): answered, nothing recorded again.
    assert h.ack(agent2, first["job"], t.id) == [Send(agent2, json.dumps({"type": "acked", "job": first["job"]}))]
    agent3, out = h.jobs.connect("k1")
    assert [m["type"] for m in sent(out, agent3)] == ["hello"]
    assert h.records(t.id) == [("printed", False)]


def test_a_job_past_its_deadline_on_the_halls_clock_is_recorded_failed_and_never_sent_late():
    h = Hall()
    t, _ = h.issue("k1")
    assert records(h.tick(19.9)) == []
    (expired,) = records(out := h.tick(0.1))
    assert expired.expired and "not connected" in expired.command.detail and not expired.command.partial
    assert records(h.tick(1)) == []  # being recorded: not twice
    h.journal(out)
    assert t.print_status is PrintStatus.failed and h.jobs.fault(t.id) == ("offline: the kiosk's print agent is not connected", False)
    agent, out = h.jobs.connect("k1")  # the agent comes back late
    assert [m["type"] for m in sent(out, agent)] == ["hello"]


def test_a_job_the_agent_had_past_its_deadline_may_be_on_paper_and_its_late_ack_is_still_recorded():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    t, out = h.issue("k1")
    (job,) = sent(out, agent)
    (expired,) = records(out := h.tick(20))
    assert expired.command.partial and "no answer from the printer in time" in expired.command.detail
    h.journal(out)
    (late,) = records(h.ack(agent, job["job"], t.id))  # it came out after all
    assert "printed after its deadline" in late.command.detail
    h.journal([late])
    assert h.ack(agent, job["job"], t.id, ok=False) == [Send(agent, json.dumps({"type": "acked", "job": job["job"]}))]
    assert h.records(t.id) == [("failed", True), ("reprinted", False)]


def test_a_repeat_ack_while_the_first_is_being_recorded_is_answered_by_the_first():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    t, out = h.issue("k1")
    (job,) = sent(out, agent)
    first = h.ack(agent, job["job"], t.id)
    assert h.ack(agent, job["job"], t.id) == [] and records(h.tick(60)) == []
    h.journal(first)
    assert h.records(t.id) == [("printed", False)]


def test_a_record_the_journal_refused_leaves_the_job_open_and_unacknowledged():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    t, out = h.issue("k1")
    (job,) = sent(out, agent)
    (record,) = records(h.ack(agent, job["job"], t.id))
    assert h.jobs.not_recorded(record) == []
    assert job["job"] in h.jobs.kiosk("k1").jobs
    (again,) = records(h.ack(agent, job["job"], t.id))  # the agent sends its result again
    assert again.command == record.command


def test_holders_reprint_a_ticket_three_times_then_only_staff_may_and_a_closed_ticket_never():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    t, out = h.issue("k1")
    for _ in range(4):  # the print at issue, then three reprints asked for by the holder
        (job,) = sent(out, agent)
        h.journal(h.ack(agent, job["job"], t.id))
        if t.prints < 4:
            _, out = h.jobs.reprint("k1", t, h.render, h.clock.now(), by="holder", staff=False)
    assert [s for s, _ in h.records(t.id)] == ["printed", "reprinted", "reprinted", "reprinted"]
    with pytest.raises(Conflict, match="printed 4 times") as refused:
        h.jobs.reprint("k1", t, h.render, h.clock.now(), by="holder", staff=False)
    assert refused.value.code == "reprint-limit"
    job, _ = h.jobs.reprint("k1", t, h.render, h.clock.now(), by="w1a", staff=True)
    assert job is not None and job.reprint and job.by == "w1a"
    other = h.engine.issue("a1")
    h.engine.do(CancelTicket(by="holder", ticket=other.id))
    with pytest.raises(Conflict) as closed:
        h.jobs.reprint("k1", other, h.render, h.clock.now(), by="w1a", staff=True)
    assert closed.value.code == "ticket-closed"


def test_failed_prints_count_towards_the_holders_limit_too():
    h = Hall()
    t, _ = h.issue("k1")
    for _ in range(4):  # nobody prints: each job expires and is recorded failed
        h.journal(h.tick(20))
        if t.prints < 4:
            h.jobs.reprint("k1", t, h.render, h.clock.now(), by="holder", staff=False)
    assert [s for s, _ in h.records(t.id)] == ["failed"] * 4
    with pytest.raises(Conflict):
        h.jobs.reprint("k1", t, h.render, h.clock.now(), by="holder", staff=False)


def test_the_server_prints_itself_for_a_kiosk_without_agent_and_never_past_the_deadline():
    h = Hall()
    t, out = h.issue("k2")
    (here,) = [o for o in out if isinstance(o, PrintHere)]
    assert here.kiosk == "k2" and here.job.data == DATA
    assert h.jobs.due("k2", here.job.id, h.clock.now())
    h.clock.advance(10)
    assert not h.jobs.due("k2", here.job.id, h.clock.now())
    (record,) = records(h.tick())
    assert "no answer from the printer in time" in record.command.detail and not record.command.partial


def test_a_kiosk_without_a_printer_makes_no_job_and_an_unknown_kiosk_is_not_found():
    h = Hall()
    t, out = h.issue("k3")
    assert out == [] and h.renders == 0
    with pytest.raises(NotFound):
        h.jobs.submit("k9", t, h.render, h.clock.now(), by="kiosk:k9")


def test_a_print_from_before_a_restart_is_recorded_where_none_is_and_a_swept_failure_is_corrected():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    t = h.engine.issue("a1")  # issued by the last server: its job is gone with it
    (swept,) = records(h.jobs.orphaned("k1", t.id))
    assert "restarted" in swept.command.detail and not swept.command.ok
    h.journal([swept])
    assert t.print_status is PrintStatus.failed and h.jobs.issued_by[t.id] == "k1"
    (record,) = records(h.ack(agent, "j-old", t.id))  # the old job did print: the agent says so now
    assert "printed before the server restarted" in record.command.detail
    h.journal([record])
    # Another old job of a ticket whose print is recorded: answered, never recorded.
    assert h.ack(agent, "j-older", t.id) == [Send(agent, json.dumps({"type": "acked", "job": "j-older"}))]
    assert h.records(t.id) == [("failed", False), ("reprinted", False)]
    t2, _ = h.issue("k1")
    assert h.jobs.orphaned("k1", t2.id) == []  # issued since this server started


def test_a_newer_agent_connection_replaces_the_older_and_a_disconnect_says_offline():
    h = Hall()
    old, _ = h.jobs.connect("k1")
    new, out = h.jobs.connect("k1")
    assert Close(old, 4000, "replaced by a newer connection") in out
    assert h.jobs.disconnect(old, h.clock.now()) == []  # the replaced one leaving changes nothing
    assert h.jobs.kiosk("k1").view(staff=False)["connected"] is True
    h.clock.advance(5)
    assert Changed("k1") in h.jobs.disconnect(new, h.clock.now())
    view = h.jobs.kiosk("k1").view(staff=True)
    assert view["connected"] is False and view["printer"]["state"] == "offline"
    assert view["printer"]["since"] == h.clock.now().isoformat()  # the hall's time


def test_status_reports_pings_and_messages_it_does_not_know():
    h = Hall()
    agent, _ = h.jobs.connect("k1")
    assert h.receive(agent, {"type": "status", "state": "paper_low", "detail": "near end"}) == [Changed("k1")]
    assert h.receive(agent, {"type": "status", "state": "paper_low", "detail": "near end"}) == []
    public = h.jobs.kiosk("k1").view(staff=False)
    assert public["printer"]["message"] == "打印纸即将用完" and "detail" not in public["printer"] and "pending" not in public
    h.receive(agent, {"type": "status", "state": "on fire"})
    assert h.jobs.kiosk("k1").status.state == "unknown"
    assert sent(h.receive(agent, {"type": "ping"}), agent) == [{"type": "pong"}]
    assert sent(h.jobs.receive(agent, "not json", h.clock.now(), {}), agent)[0]["type"] == "error"
    assert h.jobs.receive(999, '{"type": "ping"}', h.clock.now(), {}) == []  # a connection it does not know


def test_a_job_for_an_agent_held_by_another_worker_is_relayed_printed_there_and_forgotten_here():
    clock = FakeClock()
    one, two = Hall(shared=True, clock=clock), Hall(shared=True, clock=clock)
    two.engine = one.engine  # one journal
    agent, _ = two.jobs.connect("k1")
    t, out = one.issue("k1")
    (relay,) = [o for o in out if isinstance(o, Relay)]
    assert relay.topic == "print" and one.jobs.kiosk("k1").jobs[relay.message["job"]].relayed
    out = two.jobs.relayed(relay.message, clock.now())
    (job,) = sent(out, agent)
    assert job["job"] == relay.message["job"] and base64.b64decode(job["data"]) == DATA
    assert two.jobs.relayed(relay.message, clock.now()) == []  # heard twice: delivered once
    after = two.journal(two.ack(agent, job["job"], t.id))
    (settled,) = [o for o in after if isinstance(o, Relay)]
    assert settled.topic == "print-settled" and settled.message["ok"] is True
    assert one.jobs.settled_elsewhere(settled.message) == [Changed("k1")]
    assert one.jobs.kiosk("k1").jobs == {} and records(one.tick(3600)) == []  # never flagged late
    assert one.records(t.id) == [("printed", False)]


def test_a_relayed_job_whose_agent_never_answers_is_recorded_by_its_owner_only():
    clock = FakeClock()
    one, two = Hall(shared=True, clock=clock), Hall(shared=True, clock=clock)
    agent, _ = two.jobs.connect("k1")
    t, out = one.issue("k1")
    (relay,) = [o for o in out if isinstance(o, Relay)]
    two.jobs.relayed(relay.message, clock.now())
    (record,) = records(one.tick(20))
    assert record.command.ticket == t.id
    assert records(two.tick(5)) == [] and two.jobs.kiosk("k1").jobs == {}  # the owner's deadline, plus a grace
    assert two.jobs.relayed({**relay.message, "kiosk": "k9"}, clock.now()) == []


def test_a_new_day_forgets_yesterdays_tickets():
    h = Hall()
    t, _ = h.issue("k1")
    h.journal(h.tick(20))
    assert h.jobs.issued_by and h.jobs.faults
    h.jobs.tick(h.clock.now() + timedelta(days=1), h.engine.state.day + timedelta(days=1))
    assert not h.jobs.issued_by and not h.jobs.faults and not h.jobs.late
