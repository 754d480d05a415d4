"""`GET /metrics`: the Prometheus text format (prometheus-client), for the hall's IT staff.

What it says, per hall (and item): tickets issued and served since the hall-day began (counters
that restart at the day change), people waiting, the longest wait, today's alerts raised by
level; per process: websocket clients, open connections, the bus's state, printers in a fault
state, and the journal's append latency (a histogram). The figures of a hall are read from its
hall-day as folded (the journal's), the alerts from the journal's own events, at each scrape.

Nothing personal and no secrets: counts, item and window ids, kiosk ids. The shipped nginx site
answers /metrics only to the hosts it allows (docs/deploy.md).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..domain.model import TicketStatus
from ..journal import SQLJournal
from ..printing.driver import PRINTING
from .connections import GATE
from .context import CTX

routes = web.RouteTableDef()

OK_PRINTER_STATES = ("ok", "unknown")
# The text format every Prometheus reads (what generate_latest writes for these plain names).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class TimedJournal(SQLJournal):
    """The journal, with each append's time observed (group commit: one append serves many tickets)."""

    def __init__(self, *args: Any, histogram: Histogram, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._histogram = histogram

    async def append(self, hall: str, day: date, expected: int, events: Any) -> None:
        started = time.perf_counter()
        try:
            await super().append(hall, day, expected, events)
        finally:
            self._histogram.observe(time.perf_counter() - started)


class Figures:
    """The registry of one app: the append histogram, and the figures read at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.append_seconds = Histogram(
            "hallq_journal_append_seconds", "Time to append one batch of events to the journal (fsync included)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=self.registry)
        self.snapshot: list[Metric] = []
        self.alerts: dict[str, tuple[date, int, Counter[str]]] = {}  # hall -> (day, last seq read, raised by level)
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:  # prometheus_client's collector protocol
        yield from self.snapshot

    async def _alerts(self, hall: Any) -> Counter[str]:
        day = hall.held().day
        known_day, seq, levels = self.alerts.get(hall.hall, (day, 0, Counter()))
        if known_day != day:
            seq, levels = 0, Counter()
        for stored in await hall.events(day, since=seq, types=("alert_raised",)):
            levels[str(stored.data.get("level", ""))] += 1
            seq = max(seq, stored.seq)
        self.alerts[hall.hall] = (day, seq, levels)
        return levels

    async def refresh(self, app: web.Application) -> None:
        context = app[CTX]
        issued = CounterMetricFamily("hallq_tickets_issued", "Tickets issued since the hall-day began", labels=["hall", "item"])
        served = CounterMetricFamily("hallq_tickets_served", "Tickets served (finished) since the hall-day began",
                                     labels=["hall", "item"])
        waiting = GaugeMetricFamily("hallq_people_waiting", "Tickets waiting to be called", labels=["hall", "item"])
        longest = GaugeMetricFamily("hallq_longest_wait_seconds", "The longest wait of a ticket still waiting",
                                    labels=["hall", "item"])
        alerts = CounterMetricFamily("hallq_alerts_raised", "Supervision alerts raised since the hall-day began",
                                     labels=["hall", "level"])
        printers = GaugeMetricFamily("hallq_printer_fault", "1 for a kiosk printer in a fault state (paper out, offline …)",
                                     labels=["hall", "kiosk", "state"])
        printing = app.get(PRINTING)
        for hall_id, hall in context.halls.items():
            state = await hall.current()
            now = hall.clock.now()
            done = Counter(t.item for t in state.tickets.values() if t.status is TicketStatus.done)
            for item in hall.catalog.items:
                issued.add_metric([hall_id, item], state.issued.get(item, 0))
                served.add_metric([hall_id, item], done.get(item, 0))
                queue = [state.tickets[t] for t in state.waiting.get(item, ())]
                waiting.add_metric([hall_id, item], len(queue))
                longest.add_metric([hall_id, item], max((max(0.0, (now - t.queued_at).total_seconds()) for t in queue), default=0.0))
            for level, n in sorted((await self._alerts(hall)).items()):
                alerts.add_metric([hall_id, level], n)
            if printing is not None:
                for kiosk_id, k in printing.jobs[hall_id].kiosks.items():
                    if k.prints and k.status.state not in OK_PRINTER_STATES:
                        printers.add_metric([hall_id, kiosk_id, k.status.state], 1)
        gate = app[GATE]
        sockets = GaugeMetricFamily("hallq_websocket_clients", "Websockets open on this process (screens, terminals, agents)")
        sockets.add_metric([], gate.websocket_total)
        connections = GaugeMetricFamily("hallq_connections", "Client connections open on this process")
        connections.add_metric([], gate.total)
        bus = GaugeMetricFamily("hallq_bus_up", "1 when the bus between processes carries messages", labels=["kind"])
        bus.add_metric(["redis" if context.settings.redis_url else "local"], 1 if context.bus.healthy else 0)
        self.snapshot = [issued, served, waiting, longest, alerts, printers, sockets, connections, bus]


FIGURES = web.AppKey("hallq-metrics", Figures)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    figures = request.app[FIGURES]
    await figures.refresh(request.app)
    return web.Response(body=generate_latest(figures.registry), headers={"Content-Type": CONTENT_TYPE})
