"""Print jobs as a state machine without I/O, in the manner of python-websockets' protocol objects:
tickets to print, the print agents' connections and messages, printers' states and the hall's
time go in; what to send to which agent, what the server prints itself, what to hand to other
workers and which RecordPrint commands to journal come out, as lists of outputs. No socket, no
task, no clock: the driver (`driver.py`) moves the bytes and says what time it is.

A job is made when a kiosk issues a ticket or someone asks for a reprint, delivered to the
kiosk's print agent (or printed by the server on a network printer), and settled exactly once
in the journal as a RecordPrint (printed / failed / reprinted).

Never twice: every job has an id; the agent remembers the ids it printed and acknowledges a
job sent again without printing it; a job is sent until it is acknowledged or its deadline
passes (every reconnect sends again what is open), and after the deadline it is recorded
failed and never sent again (a ticket that comes out minutes late is picked up by the next
person at the kiosk). A Record is journalled by the driver, which then tells the machine
`recorded()` or `not_recorded()`: only a recorded job is forgotten and acknowledged.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from server.domain import commands as cmd
from server.domain.catalog import Kiosk
from server.domain.errors import NotFound
from server.domain.model import PrintStatus, Ticket
from server.domain.tickets import check_reprint

from server.i18n import say

from .devices import STATES, Status


def message(lang: str, state: str) -> str:
    """What a kiosk and a manager are told of a printer's state (the catalogue's `printer` section)."""
    return say(lang, "printer", state)

FOREIGN_GRACE = timedelta(seconds=5)  # a job relayed from another worker outlives that worker's deadline a little

# A kiosk's call for a member of staff (呼叫工作人员) stands until a member of staff answers it on
# the board, or this long: by then the citizen has been helped or has gone, and a call left
# standing would only teach the staff to ignore the panel.
HELP_STANDS = timedelta(minutes=30)


def help_standing(since: datetime | None, now: datetime) -> datetime | None:
    """A call made at `since`, if it still stands at `now`."""
    return since if since is not None and now - since < HELP_STANDS else None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    ticket: str
    number: str
    data: bytes
    deadline: datetime  # the hall's time
    reprint: bool
    by: str
    # With several workers: `relayed` jobs were handed to the worker holding the kiosk's agent
    # (this worker still owns their deadline); `foreign` ones came from another worker for our
    # agent (that worker owns their deadline; we only deliver and settle them).
    relayed: bool = False
    foreign: bool = False

    def message(self) -> str:
        return json.dumps({"type": "job", "job": self.id, "ticket": self.ticket, "number": self.number,
                           "data": base64.b64encode(self.data).decode()})


# -- outputs: what the driver carries out --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Send:
    """A message for one agent connection (written in order, per connection)."""
    agent: int
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close an agent connection (a newer one replaced it)."""
    agent: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class PrintHere:
    """A job the server prints itself: the kiosk has no agent, its printer is on the network."""
    kiosk: str
    job: Job


@dataclass(frozen=True, slots=True)
class Relay:
    """For the other workers (the bus's relay): `print` a job for an agent held elsewhere,
    `print-settled` a relayed job recorded here."""
    topic: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Record:
    """Journal `command`, then tell the machine recorded(this) or not_recorded(this).
    `why` is what the managers' view says of a failure; `agent` hears `acked` once recorded;
    `expired`: its deadline passed (a late ack is still recorded)."""
    kiosk: str
    job: str  # "" for a ticket whose job died with the last server
    command: cmd.RecordPrint
    why: str = ""
    agent: int | None = None
    expired: bool = False


@dataclass(frozen=True, slots=True)
class Changed:
    """The managers' view of this kiosk changed."""
    kiosk: str


Output = Send | Close | PrintHere | Relay | Record | Changed


def acked(agent: int, job: str) -> Send:
    return Send(agent, json.dumps({"type": "acked", "job": job}))


@dataclass(eq=False)
class KioskJobs:
    """One kiosk as the server sees it: its open jobs, its agent, its printer's last state."""

    conf: Kiosk
    jobs: dict[str, Job] = field(default_factory=dict)
    agent: int | None = None  # the connection of its print agent
    status: Status = Status("unknown", "no report yet")
    status_at: datetime | None = None
    help_at: datetime | None = None  # a citizen at this kiosk asked for a member of staff (呼叫工作人员)

    @property
    def prints(self) -> bool:
        return self.conf.printer.kind != "none"

    @property
    def direct(self) -> bool:
        """The server prints to this kiosk's printer itself."""
        return self.prints and not self.conf.agent

    def view(self, staff: bool, now: datetime | None = None) -> dict[str, Any]:
        """As the managers (staff) or the kiosk's own screen see it; `now`: leave out a lapsed call for staff."""
        p = self.conf.printer
        help_at = self.help_at if now is None else help_standing(self.help_at, now)
        out: dict[str, Any] = {
            "id": self.conf.id,
            "name": self.conf.name,
            "printer": {"state": self.status.state, "message": message("zh-CN", self.status.state),
                        "message_en": message("en", self.status.state),
                        "since": self.status_at.isoformat() if self.status_at else None},
            "agent": self.conf.agent,
            "connected": self.agent is not None if self.conf.agent else None,
            "help_at": help_at.isoformat() if help_at else None,
        }
        if staff:
            out["zone"] = self.conf.zone
            out["printer"].update(kind=p.kind, address=p.address, paper_mm=p.paper_mm, detail=self.status.detail)
            out["pending"] = [{"job": j.id, "ticket": j.ticket, "number": j.number, "reprint": j.reprint} for j in self.jobs.values()]
        return out


class PrintJobs:
    """The print jobs of one hall's kiosks. `shared`: other workers may hold a kiosk's agent."""

    def __init__(self, hall: str, kiosks: Iterable[Kiosk], *, shared: bool = False) -> None:
        self.hall = hall
        self.shared = shared
        self.kiosks = {k.id: KioskJobs(k) for k in kiosks}
        self.day: date | None = None
        # What is remembered per ticket lasts one hall-day (ticket ids are never reused).
        self.issued_by: dict[str, str] = {}  # ticket id -> the kiosk that issued it
        self.late: dict[str, str] = {}  # expired job id -> its ticket: a late ack is still recorded
        self.faults: dict[str, tuple[str, bool]] = {}  # ticket id -> why its last print failed, and if part may have come out
        self.swept: set[str] = set()  # tickets flagged at start: their jobs died with the last server
        self.settling: set[str] = set()  # jobs whose Record is on its way to the journal
        self._agents: dict[int, str] = {}  # agent connection -> its kiosk
        self._next_agent = 0

    def kiosk(self, kiosk: str) -> KioskJobs:
        found = self.kiosks.get(kiosk)
        if found is None:
            raise NotFound("unknown-kiosk", f"no kiosk {kiosk!r} in this hall (config/{self.hall}/kiosks.yaml)")
        return found

    # -- jobs ---------------------------------------------------------------------------------
    def submit(self, kiosk: str, t: Ticket, render: Callable[[], bytes], now: datetime, *, by: str,
               reprint: bool = False) -> tuple[Job | None, list[Output]]:
        """The job that prints `t` at this kiosk; one already open for it is reused (a double tap
        prints once). `render` makes the printer's bytes, only for a new job. None: no printer."""
        k = self.kiosk(kiosk)
        if not k.prints:
            return None, []
        for job in k.jobs.values():
            if job.ticket == t.id:
                return job, []
        relayed = k.conf.agent and k.agent is None and self.shared  # the agent may be connected to another worker
        job = Job("j-" + secrets.token_hex(8), t.id, t.number, render(), now + timedelta(seconds=k.conf.ack_timeout_s),
                  reprint, by, relayed=relayed)
        k.jobs[job.id] = job
        if not reprint:
            self.issued_by[t.id] = kiosk
        out: list[Output] = []
        if k.direct:
            out.append(PrintHere(kiosk, job))
        elif k.agent is not None:
            out.append(Send(k.agent, job.message()))
        elif relayed:
            out.append(Relay("print", {
                "hall": self.hall, "kiosk": kiosk, "job": job.id, "ticket": job.ticket, "number": job.number,
                "data": base64.b64encode(job.data).decode(), "reprint": job.reprint, "by": job.by,
                "timeout_s": k.conf.ack_timeout_s,
            }))
        out.append(Changed(kiosk))
        return job, out

    def reprint(self, kiosk: str, t: Ticket, render: Callable[[], bytes], now: datetime, *, by: str,
                staff: bool) -> tuple[Job | None, list[Output]]:
        """补打: the domain's limit (the ticket's recorded prints), then a job as for any print."""
        check_reprint(t, staff)
        return self.submit(kiosk, t, render, now, by=by, reprint=True)

    def due(self, kiosk: str, job_id: str, now: datetime) -> bool:
        """Whether the server may still print this job itself: open, not settling, not past its deadline."""
        job = self.kiosk(kiosk).jobs.get(job_id)
        return job is not None and job_id not in self.settling and now < job.deadline

    def settle(self, kiosk: str, job_id: str, ok: bool, state: str, detail: str, tickets: Mapping[str, Ticket], *,
               ticket: str | None = None, partial: bool = False, agent: int | None = None) -> list[Output]:
        """An outcome for a job, from its agent (`agent`) or the server's own printing.
        `partial`: it failed after some of its bytes had reached the printer (a part may have come out).
        `tickets`: the hall-day's, for a job from before a restart, known by its ticket only."""
        partial = partial and not ok
        k = self.kiosk(kiosk)
        if job_id in self.settling:
            return []  # a repeat while the first is being recorded: that one's `acked` answers both
        job = k.jobs.get(job_id)
        if job is not None:
            ticket_id = job.ticket
        elif job_id in self.late:
            if not ok:
                return self._acked(agent, job_id)  # its failure is recorded already
            ticket_id = self.late[job_id]
            detail = detail or "printed after its deadline"
        else:
            # A job from before a server restart: record a print where none is recorded, or
            # where the sweep at start flagged it failed only because the server had restarted.
            t = tickets.get(ticket or "")
            if t is None or not (t.print_status is PrintStatus.unprinted or (ok and t.id in self.swept)):
                return self._acked(agent, job_id)
            ticket_id = t.id
            self.swept.discard(t.id)
            detail = detail or "printed before the server restarted"
        note = f"{kiosk} {job_id}" + (f": {detail}" if ok and detail else "" if ok else f": {state}: {detail}")
        self.settling.add(job_id)
        command = cmd.RecordPrint(by=f"kiosk:{kiosk}", ticket=ticket_id, ok=ok, detail=note, partial=partial)
        return [Record(kiosk, job_id, command, why=f"{state}: {detail}", agent=agent)]

    def recorded(self, r: Record) -> list[Output]:
        """The journal has `r` (or has nothing to record: the ticket is gone with its day)."""
        self.settling.discard(r.job)
        k = self.kiosk(r.kiosk)
        done = k.jobs.pop(r.job, None)
        self.late.pop(r.job, None)
        c = r.command
        if c.ok:
            self.faults.pop(c.ticket, None)
        else:
            self.faults[c.ticket] = (r.why, c.partial)
        if r.expired:
            self.late[r.job] = c.ticket
        out: list[Output] = self._acked(r.agent, r.job) if r.job else []
        if done is not None and done.foreign:
            out.append(Relay("print-settled", {"hall": self.hall, "kiosk": r.kiosk, "job": r.job, "ticket": c.ticket,
                                               "ok": c.ok, "why": r.why, "partial": c.partial}))
        out.append(Changed(r.kiosk))
        return out

    def not_recorded(self, r: Record) -> list[Output]:
        """The journal failed: the job stays open (its agent sends its result again, or its deadline comes back)."""
        self.settling.discard(r.job)
        return []

    @staticmethod
    def _acked(agent: int | None, job_id: str) -> list[Output]:
        return [acked(agent, job_id)] if agent is not None else []

    def tick(self, now: datetime, day: date) -> list[Output]:
        """The hall's time: a new day forgets yesterday's tickets; jobs past their deadline are recorded failed."""
        if self.day != day:
            if self.day is not None:
                self.issued_by.clear()
                self.late.clear()
                self.faults.clear()
                self.swept.clear()
            self.day = day
        out: list[Output] = []
        for kiosk, k in self.kiosks.items():
            for job in [j for j in k.jobs.values() if j.deadline <= now and j.id not in self.settling]:
                if job.foreign:  # its owner, another worker, records what became of it
                    del k.jobs[job.id]
                    out.append(Changed(kiosk))
                    continue
                connected = k.agent is not None or k.direct
                state = "error" if connected else "offline"
                why = "no answer from the printer in time" if connected else "the kiosk's print agent is not connected"
                self.settling.add(job.id)
                # A job the agent had may be on paper already: a person looks before reprinting.
                command = cmd.RecordPrint(by=f"kiosk:{kiosk}", ticket=job.ticket, ok=False, detail=f"{kiosk} {job.id}: {state}: {why}",
                                          partial=k.agent is not None)
                out.append(Record(kiosk, job.id, command, why=f"{state}: {why}", expired=True))
        return out

    def orphaned(self, kiosk: str, ticket: str) -> list[Output]:
        """A kiosk ticket of today never settled and with no job here: its job died with the last
        server. Flag it failed, so the kiosk, the clerks and the managers see it and can reprint it."""
        k = self.kiosk(kiosk)
        if any(j.ticket == ticket for j in k.jobs.values()):
            return []  # issued since this server started
        self.swept.add(ticket)
        self.issued_by[ticket] = kiosk
        why = "error: the server restarted before it was printed"
        return [Record(kiosk, "", cmd.RecordPrint(by=f"kiosk:{kiosk}", ticket=ticket, ok=False, detail=f"{kiosk}: {why}"), why=why)]

    # -- other workers ------------------------------------------------------------------------
    def relayed(self, m: Mapping[str, Any], now: datetime) -> list[Output]:
        """Another worker's job for a kiosk whose agent is connected here: deliver it."""
        k = self.kiosks.get(str(m.get("kiosk")))
        if k is None or k.agent is None or m["job"] in k.jobs:
            return []
        job = Job(m["job"], m["ticket"], m["number"], base64.b64decode(m["data"]),
                  now + timedelta(seconds=float(m["timeout_s"])) + FOREIGN_GRACE, bool(m["reprint"]), str(m["by"]), foreign=True)
        k.jobs[job.id] = job
        return [Send(k.agent, job.message()), Changed(k.conf.id)]

    def settled_elsewhere(self, m: Mapping[str, Any]) -> list[Output]:
        """The worker holding the agent recorded our relayed job: forget it here."""
        k = self.kiosks.get(str(m.get("kiosk")))
        if k is None or k.jobs.pop(str(m.get("job")), None) is None:
            return []
        ticket = str(m.get("ticket"))
        if m.get("ok"):
            self.faults.pop(ticket, None)
        else:
            self.faults[ticket] = (str(m.get("why") or "error"), bool(m.get("partial")))
        return [Changed(k.conf.id)]

    # -- the agent's connection ---------------------------------------------------------------
    def connect(self, kiosk: str) -> tuple[int, list[Output]]:
        """A print agent connected: it replaces an older connection, hears hello, then every job
        not acknowledged yet, oldest first (a job sent before and not answered is sent again)."""
        k = self.kiosk(kiosk)
        self._next_agent += 1
        agent, old = self._next_agent, k.agent
        k.agent = agent
        self._agents[agent] = kiosk
        out: list[Output] = []
        if old is not None:
            out.append(Close(old, 4000, "replaced by a newer connection"))
        p = k.conf.printer
        out.append(Send(agent, json.dumps({
            "type": "hello", "kiosk": kiosk, "name": k.conf.name,
            "printer": {"kind": p.kind, "address": p.address, "paper_mm": p.paper_mm, "encoding": p.encoding, "mode": p.mode},
        }, ensure_ascii=False)))
        out.extend(Send(agent, job.message()) for job in k.jobs.values())
        out.append(Changed(kiosk))
        return agent, out

    def disconnect(self, agent: int, now: datetime) -> list[Output]:
        kiosk = self._agents.pop(agent, None)
        if kiosk is None or self.kiosks[kiosk].agent != agent:
            return []
        self.kiosks[kiosk].agent = None
        return [*self.report(kiosk, "offline", "the print agent disconnected", now), Changed(kiosk)]

    def receive(self, agent: int, text: str, now: datetime, tickets: Mapping[str, Ticket]) -> list[Output]:
        """One message from an agent: {type: ack, job, ticket, ok, sent?, state?, detail?} (sent: a
        failure after bytes had reached the printer), {type: status, state, detail?}, {type: ping}."""
        kiosk = self._agents.get(agent)
        if kiosk is None:
            return []
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "ack" and isinstance(data, dict) and isinstance(data.get("job"), str):
            ok = data.get("ok") is True
            return self.settle(kiosk, data["job"], ok, str(data.get("state") or ("ok" if ok else "error")),
                               str(data.get("detail") or "")[:300], tickets, ticket=data.get("ticket"),
                               partial=data.get("sent") is True, agent=agent)
        if kind == "status" and isinstance(data, dict):
            return self.report(kiosk, str(data.get("state")), str(data.get("detail") or "")[:300], now)
        if kind == "ping":
            return [Send(agent, '{"type":"pong"}')]
        return [Send(agent, '{"type":"error","detail":"expected {type: ack|status|ping}"}')]

    def report(self, kiosk: str, state: str, detail: str, now: datetime) -> list[Output]:
        """A printer's state, from its agent or the server's own printing, as of the hall's `now`."""
        if state not in STATES:
            state = "unknown"
        k = self.kiosk(kiosk)
        if (k.status.state, k.status.detail) == (state, detail):
            return []
        k.status = Status(state, detail)  # type: ignore[arg-type]
        k.status_at = now
        return [Changed(kiosk)]

    def fault(self, ticket: str) -> tuple[str, bool]:
        return self.faults.get(ticket, ("", False))
