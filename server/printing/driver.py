"""The print jobs' asyncio driver: feeds `PrintJobs` (one per hall) with the hall's clock, the
agents' websockets, the bus's relays and the server's own printers, and carries out what it
answers: messages written in order per agent connection, jobs printed here, relays, RecordPrint
commands journalled through the hall's service, and the managers' live view."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from server.bus import Bus
from server.domain.errors import DomainError
from server.domain.model import OPEN_STATUSES, PrintStatus, Ticket
from server.domain.tickets import print_flagged
from server.hall import HallService
from server.tasks import cancel

from . import devices
from .jobs import Changed, Close, Job, KioskJobs, Output, PrintHere, PrintJobs, Record, Relay, Send
from server.scheduler import Scheduler
from .layout import escpos, ticket_layout, to_escpos
from .tickets import facts

log = logging.getLogger("hallq.printing")


class Outbox:
    """One agent connection's messages, written in order by one task; a connection that does
    not take a message within SEND_TIMEOUT_S is closed (its agent reconnects and gets it again)."""

    SEND_TIMEOUT_S = 5.0

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self.task = asyncio.create_task(self._write(), name="print-agent-writer")

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            if isinstance(item, tuple):
                await self.ws.close(code=item[0], message=item[1].encode())
                return
            try:
                await asyncio.wait_for(self.ws.send_str(item), self.SEND_TIMEOUT_S)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                await self.ws.close(code=1013, message=b"too slow")
                return


class Printing:
    """Every kiosk of every hall: jobs in, RecordPrint out; and a live view for managers."""

    TICK_S = 0.25  # how often the hall's clock is read for deadlines (a test's clock moves by hand)

    DAYS_S = 60.0  # on the scheduler: how often halls with no open job are told the hall's day

    def __init__(self, halls: dict[str, HallService], bus: Bus | None = None, sweep: bool = True,
                 scheduler: Scheduler | None = None) -> None:
        """scheduler: the app's one scheduler; then only halls with open jobs are ticked every
        TICK_S (the others learn of a new day within DAYS_S), else one task ticks every hall."""
        self.halls = halls
        self.scheduler = scheduler
        self.bus = bus
        self.sweep = sweep  # with several workers only one flags the jobs that died with a server
        shared = bus is not None and bus.shared
        self.jobs = {hall_id: PrintJobs(hall_id, service.catalog.config.kiosks, shared=shared) for hall_id, service in halls.items()}
        self.watchers: dict[asyncio.Queue[str], str] = {}  # a manager's feed -> its hall
        self._outboxes: dict[tuple[str, int], Outbox] = {}  # (hall, agent connection) -> its writer
        self._direct: dict[tuple[str, str], asyncio.Queue[Job]] = {
            (hall_id, kiosk): asyncio.Queue() for hall_id, machine in self.jobs.items() for kiosk, k in machine.kiosks.items() if k.direct
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.bus is not None:
            self.bus.on_relay("print", self._relayed)
            self.bus.on_relay("print-settled", self._settled_elsewhere)
        if any(k.prints for machine in self.jobs.values() for k in machine.kiosks.values()):
            await asyncio.to_thread(escpos)  # its first import takes a while: not on the event loop
        if self.scheduler is None:
            self._tasks.append(asyncio.create_task(self._tick(), name="print-deadlines"))
        else:
            self.scheduler.after(("print-days",), self.DAYS_S, self._days)
        if self.sweep:
            self._tasks.append(asyncio.create_task(self._sweep(), name="print-sweep"))
        for hall_id, kiosk in self._direct:
            self._tasks.append(asyncio.create_task(self._print_directly(hall_id, kiosk), name=f"print-{kiosk}"))

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.drop([("print-days",), *(("print", hall) for hall in self.jobs)])
        await cancel(self._tasks)
        for box in list(self._outboxes.values()):
            with contextlib.suppress(Exception):
                await box.ws.close(code=1012, message=b"server restart")
        await cancel(list(self._pending))

    @staticmethod
    def now(service: HallService) -> datetime:
        """The hall's time: deadlines and printer states follow the hall's clock."""
        return service.clock.now().astimezone(service.tz)

    def kiosk(self, hall: str, kiosk: str) -> KioskJobs:
        return self.jobs[hall].kiosk(kiosk)

    # -- jobs -----------------------------------------------------------------------------
    def submit(self, service: HallService, kiosk: str, t: Ticket, url: str, *, by: str,
               told: tuple[int, int] | None = None) -> Job | None:
        """Print `t` at this kiosk (None: it has no printer); a job already open for it is reused."""
        job, out = self.jobs[service.hall].submit(kiosk, t, self._render(service, kiosk, t, url, told, False), self.now(service), by=by)
        self._run(service.hall, out)
        return job

    def reprint(self, service: HallService, kiosk: str, t: Ticket, url: str, *, by: str, staff: bool) -> Job | None:
        """补打, within the holder's limit (Conflict beyond it)."""
        job, out = self.jobs[service.hall].reprint(kiosk, t, self._render(service, kiosk, t, url, None, True), self.now(service),
                                                   by=by, staff=staff)
        self._run(service.hall, out)
        return job

    def _render(self, service: HallService, kiosk: str, t: Ticket, url: str, told: tuple[int, int] | None,
                reprint: bool) -> Callable[[], bytes]:
        """The ticket's printer bytes, made only if the machine needs a new job."""
        conf = self.kiosk(service.hall, kiosk).conf
        return lambda: to_escpos(ticket_layout(facts(service, conf, t, url, told, reprint)), conf.printer)

    async def issuing_kiosk(self, service: HallService, ticket_id: str) -> str | None:
        """The kiosk that issued a ticket; for one issued before this server started, the journal says (by = "kiosk:<id>")."""
        known = self.jobs[service.hall].issued_by.get(ticket_id)
        if known is not None:
            return known
        for stored in await service.events(service.held().day, types=("ticket_issued",)):
            if stored.data["ticket"] == ticket_id:
                by = str(stored.data["by"])
                return by.removeprefix("kiosk:") if by.startswith("kiosk:") else None
        return None

    # -- carrying out what the machine answers ----------------------------------------------
    def _run(self, hall: str, outputs: list[Output]) -> None:
        changed = False
        for out in outputs:
            if isinstance(out, Send):
                box = self._outboxes.get((hall, out.agent))
                if box is not None:
                    box.queue.put_nowait(out.text)
            elif isinstance(out, Close):
                box = self._outboxes.get((hall, out.agent))
                if box is not None:
                    box.queue.put_nowait((out.code, out.reason))
            elif isinstance(out, PrintHere):
                self._direct[(hall, out.kiosk)].put_nowait(out.job)
            elif isinstance(out, Relay):
                if self.bus is not None:
                    self._spawn(self.bus.relay(out.topic, out.message))
            elif isinstance(out, Record):
                self._spawn(self._record(hall, out))
            elif isinstance(out, Changed):
                changed = True
        if changed:
            self._changed(hall)
        if self.scheduler is not None and self._open(hall):
            self.scheduler.soon(("print", hall), self.TICK_S, lambda: self._tick_hall(hall))

    def _open(self, hall: str) -> bool:
        """Whether the hall's machine has jobs whose deadlines need its clock."""
        machine = self.jobs[hall]
        return bool(machine.settling) or any(k.jobs for k in machine.kiosks.values())

    def _tick_hall(self, hall: str) -> None:
        service = self.halls[hall]
        self._run(hall, self.jobs[hall].tick(self.now(service), service.held().day))  # (ticks again while jobs are open)

    def _days(self) -> None:
        assert self.scheduler is not None
        for hall, machine in self.jobs.items():
            if machine.day != self.halls[hall].held().day:
                self._tick_hall(hall)
        self.scheduler.after(("print-days",), self.DAYS_S, self._days)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(self, hall: str, r: Record) -> None:
        machine, service = self.jobs[hall], self.halls[hall]
        try:
            await service.handle(r.command)
        except DomainError as exc:  # the ticket is gone (a new day): nothing to record
            log.info("hall %s kiosk %s: print of %s not recorded: %s", hall, r.kiosk, r.job or r.command.ticket, exc.detail)
        except Exception:
            log.exception("hall %s kiosk %s: could not record job %s", hall, r.kiosk, r.job or r.command.ticket)
            self._run(hall, machine.not_recorded(r))
            return
        self._run(hall, machine.recorded(r))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_S)
            for hall, machine in self.jobs.items():
                service = self.halls[hall]
                self._run(hall, machine.tick(self.now(service), service.held().day))

    async def _sweep(self) -> None:
        """No phantom tickets after a restart: a kiosk ticket of today whose print was never
        settled had its job in the last server's memory (PrintJobs.orphaned)."""
        for hall, machine in self.jobs.items():
            printing = {kiosk for kiosk, k in machine.kiosks.items() if k.prints}
            if not printing:
                continue
            service = self.halls[hall]
            try:
                stored = await service.events(service.held().day, types=("ticket_issued",))
            except Exception:
                log.exception("hall %s: could not read the journal to sweep unprinted tickets", hall)
                continue
            for s in stored:
                d = s.data
                kiosk = str(d.get("by", "")).removeprefix("kiosk:")
                if d["type"] != "ticket_issued" or not str(d["by"]).startswith("kiosk:") or kiosk not in printing:
                    continue
                t = service.held().tickets.get(d["ticket"])
                if t is None or t.print_status is not PrintStatus.unprinted or t.status not in OPEN_STATUSES:
                    continue
                self._run(hall, machine.orphaned(kiosk, t.id))

    async def _print_directly(self, hall: str, kiosk: str) -> None:
        machine, service, queue = self.jobs[hall], self.halls[hall], self._direct[(hall, kiosk)]
        printer = machine.kiosk(kiosk).conf.printer
        timeout = min(5.0, machine.kiosk(kiosk).conf.ack_timeout_s / 2)
        while True:
            job = await queue.get()
            if not machine.due(kiosk, job.id, self.now(service)):
                continue  # settled by its deadline already: never print late
            try:
                status = await devices.deliver(printer, job.data, timeout=timeout)
                out = machine.report(kiosk, status.state, status.detail, self.now(service))
                out += machine.settle(kiosk, job.id, True, status.state, status.warning, service.held().tickets)
            except devices.PrinterFault as fault:
                out = machine.report(kiosk, fault.state, fault.detail, self.now(service))
                out += machine.settle(kiosk, job.id, False, fault.state, fault.detail, service.held().tickets, partial=fault.sent)
            self._run(hall, out)

    # -- other workers ------------------------------------------------------------------------
    async def _relayed(self, m: dict[str, Any]) -> None:
        service = self.halls.get(str(m.get("hall")))
        if service is not None:
            self._run(service.hall, self.jobs[service.hall].relayed(m, self.now(service)))

    async def _settled_elsewhere(self, m: dict[str, Any]) -> None:
        machine = self.jobs.get(str(m.get("hall")))
        if machine is not None:
            self._run(machine.hall, machine.settled_elsewhere(m))

    # -- the agent's connection ------------------------------------------------------------
    async def serve_agent(self, service: HallService, kiosk: str, ws: web.WebSocketResponse) -> None:
        """A print agent's websocket, prepared: every message it sends goes to the machine."""
        hall, machine = service.hall, self.jobs[service.hall]
        agent, out = machine.connect(kiosk)
        box = self._outboxes[(hall, agent)] = Outbox(ws)
        self._run(hall, out)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                self._run(hall, machine.receive(agent, msg.data, self.now(service), service.held().tickets))
        finally:
            del self._outboxes[(hall, agent)]
            self._run(hall, machine.disconnect(agent, self.now(service)))
            await cancel([box.task])

    # -- a citizen calls for help at a kiosk (适老化): the managers' live view shows it ------------
    def call_help(self, service: HallService, kiosk: str, asked: bool) -> KioskJobs:
        """Raise (asked) or clear this kiosk's call for a member of staff, and tell the watchers."""
        link = self.kiosk(service.hall, kiosk)
        link.help_at = (link.help_at or self.now(service)) if asked else None
        self._changed(service.hall)
        return link

    # -- managers' live view ------------------------------------------------------------------
    def failed_tickets(self, service: HallService) -> list[dict[str, Any]]:
        machine = self.jobs[service.hall]
        return [
            {"ticket": t.id, "number": t.number, "item": t.item, "item_name": service.catalog.items[t.item].name,
             "status": t.status.value, "detail": machine.fault(t.id)[0], "partial": machine.fault(t.id)[1]}
            for t in service.held().tickets.values()
            if print_flagged(t)
        ]

    def hall_view(self, service: HallService) -> dict[str, Any]:
        kiosks = [k.view(staff=True) for k in self.jobs[service.hall].kiosks.values()]
        return {"type": "printers", "hall": service.hall, "kiosks": kiosks, "failed": self.failed_tickets(service)}

    def _changed(self, hall: str) -> None:
        if not any(h == hall for h in self.watchers.values()):
            return
        payload = json.dumps(self.hall_view(self.halls[hall]), ensure_ascii=False)
        for q, h in list(self.watchers.items()):
            if h == hall:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(payload)


PRINTING = web.AppKey("hallq-printing", Printing)  # the app's print dispatcher
