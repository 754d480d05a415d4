"""The dashboard's background work, owned by the app: started at startup, cancelled at shutdown.

- one supervisor per hall: every `supervision.sweep_s` seconds it submits `Supervise` with the
  alerts it knows, so the hall's rules (server/domain/supervision.py) journal new, escalated
  and cleared alerts;
- one builder: derives the statistics of closed days not derived yet (after a restart, after
  midnight), so that a manager's first query does not wait for it.

With several processes only one runs them (`Settings.background`): the alerts and derived
statistics are in the database, so every process reads the same board.

The tasks wait until the halls run (whatever the order of the app's cleanup contexts) and
are cancelled on shutdown already (which comes before any cleanup, so they never outlive the
halls or the journal) and again, harmlessly, when their cleanup context ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from server.api.context import CTX
from server.hall import HallService, Unavailable
from server.stats.service import Stats, hall_today

from .supervisor import Supervisor

log = logging.getLogger("hallq.dashboard")

SUPERVISORS = web.AppKey("hallq.supervisors", dict)
_TASKS = web.AppKey("hallq.dashboard.tasks", list)


async def _running(service: HallService) -> None:
    """Wait until the hall's writer runs (the app's lifecycle starts it after ours)."""
    while True:
        try:
            await service.current()
            return
        except Unavailable:
            await asyncio.sleep(0.05)


async def _supervise(service: HallService, supervisor: Supervisor) -> None:
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


async def _derive(stats: Stats, services: dict[str, HallService]) -> None:
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


async def _cancel(app: web.Application) -> None:
    tasks = app[_TASKS]
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("dashboard task ended with an error")
    tasks.clear()


def install(app: web.Application, stats: Stats) -> None:
    context = app[CTX]
    supervisors = {hall: Supervisor(service, stats) for hall, service in context.halls.items()}
    app[SUPERVISORS] = supervisors
    app[_TASKS] = []

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await stats.create()
        tasks = app[_TASKS]
        if not context.settings.background:  # another process of the deployment sweeps and derives
            yield
            return
        for hall, service in context.halls.items():
            tasks.append(asyncio.create_task(_supervise(service, supervisors[hall]), name=f"supervisor-{hall}"))
        tasks.append(asyncio.create_task(_derive(stats, context.halls), name="stats-builder"))
        yield
        await _cancel(app)

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(_cancel)
