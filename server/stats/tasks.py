"""The supervision's background work, started and stopped by the app's lifespan (server/api/app.py):

- one supervisor per hall: every `supervision.sweep_s` seconds it submits `Supervise` with the
  alerts it knows, so the hall's rules (server/domain/supervision.py) journal new, escalated
  and cleared alerts. On the app's one scheduler (`Sweeps`): a quiet hall (nobody waiting or
  served, no alert, case or review open) is swept again at its next event, or after QUIET_S;
- one builder: derives the statistics of closed days not derived yet (after a restart, after
  midnight), so that a manager's first query does not wait for it.

With several processes only one runs them (`Settings.background`): the alerts and derived
statistics are in the database, so every process reads the same board. The lifespan starts
them after the halls and stops them before the halls, so they never outlive the journal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from datetime import timedelta

from server.bus import Published
from server.scheduler import Scheduler

from server.hall import HallService, Unavailable
from server.stats.service import Stats, hall_today

from .supervisor import Supervisor

log = logging.getLogger("hallq.dashboard")


async def _running(service: HallService) -> None:
    """Wait until the hall's writer runs (it has when the lifespan starts this task: a safeguard)."""
    while True:
        try:
            await service.current()
            return
        except Unavailable:
            await asyncio.sleep(0.05)


async def sweep_once(service: HallService, supervisor: Supervisor) -> None:
    try:
        await supervisor.sweep()
    except asyncio.CancelledError:
        raise
    except Unavailable as exc:
        log.debug("hall %s: supervision skipped: %s", service.hall, exc)
    except Exception:
        log.exception("hall %s: supervision sweep failed", service.hall)


class Sweeps:
    """Every hall's supervision sweep as entries ("supervise", hall) of the one scheduler."""

    QUIET_S = 900.0  # a quiet hall's sweep with no event meanwhile (the ledgers of closed days may change)

    def __init__(self, scheduler: Scheduler, services: dict[str, HallService], supervisors: dict[str, Supervisor]) -> None:
        self.scheduler = scheduler
        self.services = services
        self.supervisors = supervisors
        self._heard: dict[str, object] = {}

    def key(self, hall: str) -> Hashable:
        return ("supervise", hall)

    async def start(self) -> None:
        n = max(1, len(self.services))
        for i, (hall, service) in enumerate(self.services.items()):
            # The first sweeps spread over one period, not all at once.
            self.scheduler.after(self.key(hall), i * service.catalog.hall.supervision.sweep_s / n, self._action(hall))
            listener = self._listener(hall)
            service.local.listeners.append(listener)  # type: ignore[attr-defined]
            self._heard[hall] = listener

    async def stop(self) -> None:
        for hall, listener in self._heard.items():
            self.services[hall].local.listeners.remove(listener)  # type: ignore[attr-defined]
        self._heard.clear()
        await self.scheduler.drop([self.key(hall) for hall in self.services])

    def _action(self, hall: str):  # type: ignore[no-untyped-def]
        return lambda: self._sweep(hall)

    def _listener(self, hall: str):  # type: ignore[no-untyped-def]
        def heard(_message: Published) -> None:
            self.scheduler.soon(self.key(hall), self.services[hall].catalog.hall.supervision.sweep_s, self._action(hall))

        return heard

    async def _sweep(self, hall: str) -> None:
        service, supervisor = self.services[hall], self.supervisors[hall]
        await sweep_once(service, supervisor)  # (cancelled by `stop`: nothing scheduled again)
        period = service.catalog.hall.supervision.sweep_s
        delay = max(period, self.QUIET_S) if supervisor.quiet() and not service.shared else period
        self.scheduler.after(self.key(hall), delay, self._action(hall))


async def derive(stats: Stats, services: dict[str, HallService]) -> None:
    """Derive closed days in the background; checks again every few minutes (day rollover).
    A hall whose closed days were looked at through yesterday is not looked at again until
    the day changes, and one with nothing journalled in the window is left to the first query
    (which derives, or marks empty, what it needs): a pass costs nothing per idle hall."""
    for service in services.values():
        await _running(service)
    built_to: dict[str, object] = {}
    while True:
        journalled: set[str] | None = None
        for hall, service in services.items():
            try:
                today = hall_today(service)
                start, end = today - timedelta(days=400), today - timedelta(days=1)
                if built_to.get(hall) == end:
                    continue
                if journalled is None:
                    journalled = await stats.journal.halls_since(start)  # type: ignore[attr-defined]
                if hall in journalled:
                    built = await stats.ensure_closed_days(hall, start, end)
                    if built:
                        log.info("hall %s: derived statistics of %d closed day(s)", hall, built)
                built_to[hall] = end
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hall %s: deriving statistics failed", hall)
        await asyncio.sleep(300)
