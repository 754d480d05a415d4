"""The supervision's background work, started and stopped by the app's lifespan (server/api/app.py):

- one supervisor per hall: every `supervision.sweep_s` seconds it submits `Supervise` with the
  alerts it knows, so the hall's rules (server/domain/supervision.py) journal new, escalated
  and cleared alerts;
- one builder: derives the statistics of closed days not derived yet (after a restart, after
  midnight), so that a manager's first query does not wait for it.

With several processes only one runs them (`Settings.background`): the alerts and derived
statistics are in the database, so every process reads the same board. The lifespan starts
them after the halls and stops them before the halls, so they never outlive the journal.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

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


async def supervise(service: HallService, supervisor: Supervisor) -> None:
    await _running(service)
    while True:
        try:
            await supervisor.sweep()
        except asyncio.CancelledError:
            raise
        except Unavailable as exc:
            log.debug("hall %s: supervision skipped: %s", service.hall, exc)
        except Exception:
            log.exception("hall %s: supervision sweep failed", service.hall)
        await asyncio.sleep(service.catalog.hall.supervision.sweep_s)


async def derive(stats: Stats, services: dict[str, HallService]) -> None:
    """Derive closed days in the background; checks again every few minutes (day rollover)."""
    for service in services.values():
        await _running(service)
    while True:
        for hall, service in services.items():
            try:
                today = hall_today(service)
                built = await stats.ensure_closed_days(hall, today - timedelta(days=400), today - timedelta(days=1))
                if built:
                    log.info("hall %s: derived statistics of %d closed day(s)", hall, built)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hall %s: deriving statistics failed", hall)
        await asyncio.sleep(300)
