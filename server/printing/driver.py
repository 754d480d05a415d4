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
from .jobs import HELP_STANDS, Changed, Close, Job, KioskJobs, Output, PrintHere, PrintJobs, Record, Relay, Send, help_standing
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

    HELP_S = 30.0  # how often the kiosks' calls for staff are looked at again: lapsed, or changed by another worker
    HELP_TOPIC = "kiosk-help"  # the relay that tells the other workers a kiosk's call changed

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
        # (hall, kiosk) -> a call for staff raised (its time) or cleared (None) here while Redis
        # did not answer: written there at the next look, before the shared calls are read back.
        self._unshared: dict[tuple[str, str], datetime | None] = {}

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.bus is not None:
            self.bus.on_relay("print", self._relayed)
            self.bus.on_relay("print-settled", self._settled_elsewhere)
            self.bus.on_relay(self.HELP_TOPIC, self._help_elsewhere)
        if any(k.prints for machine in self.jobs.values() for k in machine.kiosks.values()):
            await asyncio.to_thread(escpos)  # its first import takes a while: not on the event loop
        if self.scheduler is None:
            self._tasks.append(asyncio.create_task(self._tick(), name="print-deadlines"))
            self._tasks.append(asyncio.create_task(self._help_every(), name="print-help"))
        else:
            self.scheduler.after(("print-days",), self.DAYS_S, self._days)
            self.scheduler.after(("print-help",), self.HELP_S, self._help_round)
        if self.sweep:
            self._tasks.append(asyncio.create_task(self._sweep(), name="print-sweep"))
        for hall_id, kiosk in self._direct:
            self._tasks.append(asyncio.create_task(self._print_directly(hall_id, kiosk), name=f"print-{kiosk}"))

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.drop([("print-days",), ("print-help",), *(("print", hall) for hall in self.jobs)])
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
    # With several workers the call is a flag in Redis (the bus's `flags`), which every worker
    # reads; the worker that changes it tells the others (a relay) to read it again, and every
    # worker reads it again every HELP_S anyway (a relay lost while Redis was away). Alone, the
    # server's memory is the call. Either way a call lapses after HELP_STANDS.
    @staticmethod
    def _help_key(hall: str, kiosk: str) -> str:
        return f"help:{hall}:{kiosk}"

    async def call_help(self, service: HallService, kiosk: str, asked: bool) -> KioskJobs:
        """Raise (asked) or clear this kiosk's call for a member of staff, and tell the watchers,
        here and on the other workers."""
        hall, link, now = service.hall, self.kiosk(service.hall, kiosk), self.now(service)
        flags = self.bus.flags if self.bus is not None else None
        if asked:
            at = (help_standing(link.help_at, now) if flags is None else None) or now
            if flags is not None:  # a call standing on another worker keeps its time
                held = await self._share_help(hall, kiosk, at)
                at = _moment(held) or at
            link.help_at = at
        else:
            link.help_at = None
            if flags is not None:
                await self._share_help(hall, kiosk, None)
        self._changed(hall)
        if flags is not None and self.bus is not None:
            await self.bus.relay(self.HELP_TOPIC, {"hall": hall, "kiosk": kiosk})
        return link

    async def _share_help(self, hall: str, kiosk: str, at: datetime | None) -> str | None:
        """Raise (at) or clear the kiosk's shared call; the time it holds once raised. When Redis
        does not answer, remembered to be written at the next look (None)."""
        assert self.bus is not None and self.bus.flags is not None
        key = self._help_key(hall, kiosk)
        if at is None:
            done = await self.bus.flags.clear(key)
            held = None
        else:
            held = await self.bus.flags.raise_flag(key, at.isoformat(), int(HELP_STANDS.total_seconds()))
            done = held is not None
        if done:
            self._unshared.pop((hall, kiosk), None)
        else:
            self._unshared[(hall, kiosk)] = at
        return held

    async def read_help(self, hall: str) -> None:
        """Bring this worker's view of the hall's calls for staff up to date: the shared flags
        (several workers), less the calls that have lapsed; the watchers hear of a change."""
        machine, service = self.jobs[hall], self.halls[hall]
        now = self.now(service)
        flags = self.bus.flags if self.bus is not None else None
        kiosks = list(machine.kiosks)
        for (h, kiosk), at in list(self._unshared.items()):
            if h == hall and flags is not None:
                await self._share_help(hall, kiosk, at)
        held = await flags.read([self._help_key(hall, k) for k in kiosks]) if flags is not None else None
        changed = False
        for n, kiosk in enumerate(kiosks):
            link = machine.kiosks[kiosk]
            if held is not None and (hall, kiosk) not in self._unshared:
                since = _moment(held[n])  # what every worker sees
            else:
                since = link.help_at  # one process, or Redis does not answer: what this one knows
            at = help_standing(since, now)
            if at != link.help_at:
                link.help_at, changed = at, True
        if changed:
            self._changed(hall)

    async def _help_elsewhere(self, m: dict[str, Any]) -> None:
        hall = str(m.get("hall"))
        if hall in self.jobs:
            await self.read_help(hall)

    async def _help_round(self) -> None:
        shared = self.bus is not None and self.bus.flags is not None
        try:
            for hall, machine in self.jobs.items():
                if shared or any(k.help_at is not None for k in machine.kiosks.values()):
                    await self.read_help(hall)
        finally:
            if self.scheduler is not None:
                self.scheduler.after(("print-help",), self.HELP_S, self._help_round)

    async def _help_every(self) -> None:
        while True:
            await asyncio.sleep(self.HELP_S)
            try:
                await self._help_round()
            except Exception:
                log.exception("kiosks' calls for staff not looked at again")

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
        now = self.now(service)
        kiosks = [k.view(staff=True, now=now) for k in self.jobs[service.hall].kiosks.values()]
        return {"type": "printers", "hall": service.hall, "kiosks": kiosks, "failed": self.failed_tickets(service)}

    def _changed(self, hall: str) -> None:
        if not any(h == hall for h in self.watchers.values()):
            return
        payload = json.dumps(self.hall_view(self.halls[hall]), ensure_ascii=False)
        for q, h in list(self.watchers.items()):
            if h == hall:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(payload)


def _moment(value: str | None) -> datetime | None:
    """A time kept in a shared flag (ISO 8601), None for none or one unreadable."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


PRINTING = web.AppKey("hallq-printing", Printing)  # the app's print dispatcher
