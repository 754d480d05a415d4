"""Print jobs on the server: made when a kiosk issues a ticket or someone asks for a reprint,
delivered to the kiosk's print agent (or printed by the server on a network printer), and
settled exactly once in the journal as a RecordPrint (printed / failed / reprinted).

Never twice: every job has an id; the agent remembers the ids it printed and acknowledges a
job sent again without printing it; the server sends a job until it is acknowledged or its
deadline passes, and after the deadline records it failed and never sends it again (a ticket
that comes out minutes late is picked up by the next person at the kiosk).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from server.domain import commands as cmd
from server.domain.catalog import Kiosk
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.estimates import estimate
from server.domain.tickets import print_flagged
from server.domain.model import OPEN_STATUSES, PrintStatus, Ticket
from server.bus import Bus
from server.hall import HallService
from server.tasks import cancel

from . import devices
from .printing import TicketFacts, escpos, ticket_layout, to_escpos

log = logging.getLogger("hallq.kiosk")

HOLDER_REPRINTS = 3  # a holder's own reprints per ticket; staff may reprint more


def mobile_url(kiosk: Kiosk, origin: str, ticket_id: str) -> str:
    """The address in a ticket's QR code: the mobile ticket page."""
    return f"{(kiosk.ticket_url or origin).rstrip('/')}/t/{ticket_id}"


def facts(service: HallService, kiosk: Kiosk, t: Ticket, url: str, told: tuple[int, int] | None, reprint: bool) -> TicketFacts:
    catalog = service.catalog
    ahead, wait = told if told is not None else estimate(service.state, catalog, t)
    windows = (t.target_window,) if t.target_window else catalog.windows_of_item[t.item]
    return TicketFacts(
        hall=catalog.hall.name,
        number=t.number,
        item=catalog.items[t.item].name,
        windows=tuple(catalog.windows[w].called_as for w in windows),
        ahead=ahead,
        wait_s=wait,
        issued_at=t.issued_at,
        url=url,
        notice=kiosk.notice,
        priority=t.priority,
        appointment=t.appointment is not None,
        reprint=reprint,
    )


def check_reprint(t: Ticket, staff: bool, reprints: int) -> None:
    """补打: only a ticket still in the hall, and a holder only a few times."""
    if t.status not in OPEN_STATUSES:
        raise Conflict("ticket-closed", f"a ticket that is {t.status.value} is not printed again")
    if not staff and reprints >= HOLDER_REPRINTS:
        raise Conflict("reprint-limit", f"this ticket has been reprinted {reprints} times; please ask the staff")


@dataclass(eq=False)
class Job:
    id: str
    ticket: str
    number: str
    data: bytes
    deadline: float  # time.monotonic()
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


@dataclass(eq=False)
class KioskLink:
    """One kiosk as the server sees it: its open jobs, its agent, its printer's last state."""

    service: HallService
    conf: Kiosk
    jobs: dict[str, Job] = field(default_factory=dict)
    agent: web.WebSocketResponse | None = None
    status: devices.Status = devices.Status("unknown", "no report yet")
    status_at: datetime | None = None
    direct: asyncio.Queue[Job] | None = None

    def view(self, staff: bool) -> dict[str, Any]:
        p = self.conf.printer
        out: dict[str, Any] = {
            "id": self.conf.id,
            "name": self.conf.name,
            "printer": {"state": self.status.state, "message": devices.message("zh-CN", self.status.state),
                        "message_en": devices.message("en", self.status.state),
                        "since": self.status_at.isoformat() if self.status_at else None},
            "agent": self.conf.agent,
            "connected": self.agent is not None if self.conf.agent else None,
        }
        if staff:
            out["zone"] = self.conf.zone
            out["printer"].update(kind=p.kind, address=p.address, paper_mm=p.paper_mm, detail=self.status.detail)
            out["pending"] = [{"job": j.id, "ticket": j.ticket, "number": j.number, "reprint": j.reprint} for j in self.jobs.values()]
        return out


Recorder = Callable[[HallService, cmd.RecordPrint], Awaitable[None]]


class Printing:
    """Every kiosk of every hall: jobs in, RecordPrint out; and a live view for managers."""

    TICK_S = 0.25

    def __init__(self, halls: dict[str, HallService], bus: Bus | None = None, sweep: bool = True) -> None:
        self.bus = bus
        self.sweep = sweep  # with several workers only one flags the jobs that died with a server
        self.links: dict[tuple[str, str], KioskLink] = {
            (hall_id, k.id): KioskLink(service, k) for hall_id, service in halls.items() for k in service.catalog.config.kiosks
        }
        self.issued_by: dict[str, str] = {}  # ticket id -> the kiosk that issued it
        self.late: dict[str, tuple[str, str]] = {}  # expired job id -> (hall, ticket): a late ack is still recorded
        self.reprints: dict[str, int] = {}  # ticket id -> reprints the holder asked for
        self.faults: dict[str, tuple[str, bool]] = {}  # ticket id -> why its last print failed, and if part may have come out
        self.swept: set[str] = set()  # tickets flagged at start: their jobs died with the last server
        self.watchers: dict[asyncio.Queue[str], str] = {}  # a manager's feed -> its hall
        self._tasks: list[asyncio.Task[None]] = []
        self._sends: set[asyncio.Task[None]] = set()
        self._days = {hall_id: service.state.day for hall_id, service in halls.items()}

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.bus is not None:
            self.bus.on_relay("print", self._relayed)
            self.bus.on_relay("print-settled", self._settled_elsewhere)
        if any(link.conf.printer.kind != "none" for link in self.links.values()):
            await asyncio.to_thread(escpos)  # its first import takes a while: not on the event loop
        self._tasks.append(asyncio.create_task(self._expire(), name="print-deadlines"))
        if self.sweep:
            self._tasks.append(asyncio.create_task(self._sweep(), name="print-sweep"))
        for link in self.links.values():
            if not link.conf.agent and link.conf.printer.kind != "none":
                link.direct = asyncio.Queue()
                self._tasks.append(asyncio.create_task(self._print_directly(link), name=f"print-{link.conf.id}"))

    async def stop(self) -> None:
        await cancel(self._tasks)
        for link in self.links.values():
            if link.agent is not None:
                await link.agent.close(code=1012, message=b"server restart")

    def link(self, hall: str, kiosk: str) -> KioskLink:
        found = self.links.get((hall, kiosk))
        if found is None:
            raise NotFound("unknown-kiosk", f"no kiosk {kiosk!r} in this hall (config/{hall}/kiosks.yaml)")
        return found

    # -- jobs -----------------------------------------------------------------------------
    def submit(self, link: KioskLink, t: Ticket, url: str, *, by: str, told: tuple[int, int] | None = None,
               reprint: bool = False) -> Job | None:
        """Make the job that prints `t` at this kiosk; a job already open for it is reused (a double tap prints once)."""
        if link.conf.printer.kind == "none":
            return None
        for job in link.jobs.values():
            if job.ticket == t.id:
                return job
        data = to_escpos(ticket_layout(facts(link.service, link.conf, t, url, told, reprint)), link.conf.printer)
        job = Job("j-" + secrets.token_hex(8), t.id, t.number, data, time.monotonic() + link.conf.ack_timeout_s, reprint, by)
        link.jobs[job.id] = job
        if not reprint:
            self.issued_by[t.id] = link.conf.id
        if link.direct is not None:
            link.direct.put_nowait(job)
        elif link.agent is not None:
            self._send_soon(link, link.agent, job.message())
        elif link.conf.agent and self.bus is not None and self.bus.shared:
            job.relayed = True  # the agent may be connected to another worker: hand it over
            self._later(self.bus.relay("print", {
                "hall": link.service.hall, "kiosk": link.conf.id, "job": job.id, "ticket": job.ticket,
                "number": job.number, "data": base64.b64encode(job.data).decode(), "reprint": job.reprint, "by": job.by,
                "timeout_s": link.conf.ack_timeout_s,
            }))
        self._changed(link)
        return job

    def _later(self, coro: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    def _send_soon(self, link: KioskLink, ws: web.WebSocketResponse, payload: str) -> None:
        self._later(self._send(link, ws, payload))

    async def _relayed(self, m: dict[str, Any]) -> None:
        """Another worker's job for a kiosk whose agent is connected here: deliver it."""
        link = self.links.get((str(m.get("hall")), str(m.get("kiosk"))))
        if link is None or link.agent is None or m["job"] in link.jobs:
            return
        job = Job(m["job"], m["ticket"], m["number"], base64.b64decode(m["data"]),
                  time.monotonic() + float(m["timeout_s"]) + 5.0, bool(m["reprint"]), str(m["by"]), foreign=True)
        link.jobs[job.id] = job
        self._send_soon(link, link.agent, job.message())
        self._changed(link)

    async def _settled_elsewhere(self, m: dict[str, Any]) -> None:
        """The worker holding the agent recorded our relayed job: forget it here."""
        link = self.links.get((str(m.get("hall")), str(m.get("kiosk"))))
        if link is not None and link.jobs.pop(str(m.get("job")), None) is not None:
            ok = bool(m.get("ok"))
            ticket = str(m.get("ticket"))
            if ok:
                self.faults.pop(ticket, None)
            else:
                self.faults[ticket] = (str(m.get("why") or "error"), bool(m.get("partial")))
            self._changed(link)

    def reprint(self, link: KioskLink, t: Ticket, url: str, *, by: str, staff: bool) -> Job | None:
        check_reprint(t, staff, self.reprints.get(t.id, 0))
        job = self.submit(link, t, url, by=by, reprint=True)
        if job is not None and not staff:
            self.reprints[t.id] = self.reprints.get(t.id, 0) + 1
        return job

    async def settle(self, link: KioskLink, job_id: str, ok: bool, state: str, detail: str, ticket: str | None = None,
                     partial: bool = False) -> bool:
        """An outcome for a job, from the agent or the server's own printing; journalled once.
        `partial`: it failed after some of its bytes had reached the printer (a part may have come out).
        Returns whether the sender may forget it (it is recorded, or there is nothing to record)."""
        partial = partial and not ok
        hall = link.service.hall
        job = link.jobs.get(job_id)
        if job is not None:
            ticket_id = job.ticket
        elif job_id in self.late:
            ticket_id = self.late.pop(job_id)[1]
            if not ok:
                return True  # its failure is recorded already
            detail = detail or "printed after its deadline"
        else:
            # A job from before a server restart: record a print where none is recorded, or
            # where the sweep at start flagged it failed only because the server had restarted.
            t = link.service.state.tickets.get(ticket or "")
            if t is None or not (t.print_status is PrintStatus.unprinted or (ok and t.id in self.swept)):
                return True
            ticket_id = t.id
            self.swept.discard(t.id)
            detail = detail or "printed before the server restarted"
        note = f"{link.conf.id} {job_id}" + (f": {detail}" if ok and detail else "" if ok else f": {state}: {detail}")
        try:
            await link.service.handle(cmd.RecordPrint(by=f"kiosk:{link.conf.id}", ticket=ticket_id, ok=ok, detail=note,
                                                      partial=partial))
        except DomainError as exc:  # the ticket is gone (a new day): nothing to record
            log.info("hall %s kiosk %s: print of %s not recorded: %s", hall, link.conf.id, job_id, exc.detail)
        except Exception:
            log.exception("hall %s kiosk %s: could not record job %s", hall, link.conf.id, job_id)
            return False
        done = link.jobs.pop(job_id, None)
        if ok:
            self.faults.pop(ticket_id, None)
        else:
            self.faults[ticket_id] = (f"{state}: {detail}", partial)
        if done is not None and done.foreign and self.bus is not None:
            self._later(self.bus.relay("print-settled", {"hall": hall, "kiosk": link.conf.id, "job": job_id, "ticket": ticket_id,
                                                          "ok": ok, "why": f"{state}: {detail}", "partial": partial}))
        self._changed(link)
        return True

    def report(self, link: KioskLink, state: str, detail: str) -> None:
        if state not in devices.STATES:
            state = "unknown"
        if (link.status.state, link.status.detail) != (state, detail):
            link.status = devices.Status(state, detail)  # type: ignore[arg-type]
            link.status_at = link.service.clock.now().astimezone(link.service.tz)  # the hall's time, as screens show it
            self._changed(link)

    async def _sweep(self) -> None:
        """No phantom tickets after a restart: a kiosk ticket of today whose print was never
        settled had its job in the last server's memory. Flag it failed, so the kiosk, the
        clerks and the managers see it and can reprint it."""
        journals: dict[str, list] = {}  # type: ignore[type-arg]
        for (hall_id, kiosk_id), link in self.links.items():
            if link.conf.printer.kind == "none":
                continue
            service = link.service
            if hall_id not in journals:
                try:
                    journals[hall_id] = await service.journal.read(hall_id, service.state.day)
                except Exception:
                    log.exception("hall %s: could not read the journal to sweep unprinted tickets", hall_id)
                    journals[hall_id] = []
            for s in journals[hall_id]:
                d = s.data
                if d["type"] != "ticket_issued" or d["by"] != f"kiosk:{kiosk_id}":
                    continue
                t = service.state.tickets.get(d["ticket"])
                if t is None or t.print_status is not PrintStatus.unprinted or t.status not in OPEN_STATUSES:
                    continue
                if any(j.ticket == t.id for j in link.jobs.values()):
                    continue  # issued since this server started
                self.swept.add(t.id)
                self.issued_by[t.id] = kiosk_id
                try:
                    await service.handle(cmd.RecordPrint(by=f"kiosk:{kiosk_id}", ticket=t.id, ok=False,
                                                         detail=f"{kiosk_id}: error: the server restarted before it was printed"))
                    self.faults[t.id] = ("error: the server restarted before it was printed", False)
                except DomainError:
                    pass
            self._changed(link)

    def _new_day(self) -> None:
        """What is remembered per ticket lasts one hall-day (ticket ids are never reused)."""
        for hall_id, day in list(self._days.items()):
            link = next((k for (h, _), k in self.links.items() if h == hall_id), None)
            if link is not None and link.service.state.day != day:
                self._days[hall_id] = link.service.state.day
                for memory in (self.issued_by, self.reprints, self.faults, self.late, self.swept):
                    memory.clear()

    async def _expire(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_S)
            self._new_day()
            now = time.monotonic()
            for link in self.links.values():
                for job in [j for j in link.jobs.values() if j.deadline <= now]:
                    if job.foreign:  # its owner, another worker, records what became of it
                        link.jobs.pop(job.id, None)
                        self._changed(link)
                        continue
                    connected = link.agent is not None or link.direct is not None
                    state = "error" if connected else "offline"
                    why = "no answer from the printer in time" if connected else "the kiosk's print agent is not connected"
                    # A job the agent had may be on paper already: a person looks before reprinting.
                    if await self.settle(link, job.id, False, state, why, partial=link.agent is not None):
                        self.late[job.id] = (link.service.hall, job.ticket)

    async def _print_directly(self, link: KioskLink) -> None:
        assert link.direct is not None
        while True:
            job = await link.direct.get()
            if job.id not in link.jobs or job.deadline <= time.monotonic():
                continue  # settled by its deadline already: never print late
            try:
                status = await devices.deliver(link.conf.printer, job.data, timeout=min(5.0, link.conf.ack_timeout_s / 2))
                self.report(link, status.state, status.detail)
                await self.settle(link, job.id, True, status.state, status.warning)
            except devices.PrinterFault as fault:
                self.report(link, fault.state, fault.detail)
                await self.settle(link, job.id, False, fault.state, fault.detail, partial=fault.sent)

    # -- the agent's connection ------------------------------------------------------------
    async def _send(self, link: KioskLink, ws: web.WebSocketResponse, payload: str) -> None:
        try:
            await asyncio.wait_for(ws.send_str(payload), 5.0)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            if link.agent is ws:
                await ws.close(code=1013, message=b"too slow")

    async def attach(self, link: KioskLink, ws: web.WebSocketResponse) -> None:
        old, link.agent = link.agent, ws
        if old is not None and not old.closed:
            await old.close(code=4000, message=b"replaced by a newer connection")
        p = link.conf.printer
        await self._send(link, ws, json.dumps({
            "type": "hello", "kiosk": link.conf.id, "name": link.conf.name,
            "printer": {"kind": p.kind, "address": p.address, "paper_mm": p.paper_mm, "encoding": p.encoding, "mode": p.mode},
        }, ensure_ascii=False))
        for job in list(link.jobs.values()):  # everything not acknowledged yet, oldest first
            await self._send(link, ws, job.message())
        self._changed(link)

    def detach(self, link: KioskLink, ws: web.WebSocketResponse) -> None:
        if link.agent is ws:
            link.agent = None
            self.report(link, "offline", "the print agent disconnected")
            self._changed(link)

    # -- managers' live view ------------------------------------------------------------------
    def failed_tickets(self, service: HallService) -> list[dict[str, Any]]:
        return [
            {"ticket": t.id, "number": t.number, "item": t.item, "item_name": service.catalog.items[t.item].name,
             "status": t.status.value,
             "detail": self.faults.get(t.id, ("", False))[0], "partial": self.faults.get(t.id, ("", False))[1]}
            for t in service.state.tickets.values()
            if print_flagged(t)
        ]

    def hall_view(self, service: HallService) -> dict[str, Any]:
        kiosks = [link.view(staff=True) for (hall, _), link in self.links.items() if hall == service.hall]
        return {"type": "printers", "hall": service.hall, "kiosks": kiosks, "failed": self.failed_tickets(service)}

    def _changed(self, link: KioskLink) -> None:
        if not self.watchers:
            return
        payload = json.dumps(self.hall_view(link.service), ensure_ascii=False)
        for q, hall in list(self.watchers.items()):
            if hall == link.service.hall:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(payload)
