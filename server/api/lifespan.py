"""The app's one lifespan: every service and background task, started in a listed order and
stopped in the reverse order, so that nothing runs unowned and nothing outlives what it uses."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..scheduler import Scheduler
from ..tasks import cancel

log = logging.getLogger("hallq")

Action = Callable[[], "Awaitable[object] | None"]  # a coroutine function, or a plain one (a close())


async def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    start: Action
    stop: Action = _nothing


@dataclass(slots=True)
class Lifespan:
    """Steps in start-up order; `run` is the app's cleanup context.

    A step that fails to start stops the steps started before it, in reverse, and the error
    goes on to aiohttp (the app does not start). `running` names the steps started and not
    stopped yet; `tasks` the background tasks this lifespan owns.
    """

    steps: list[Step] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    tasks: dict[str, list[asyncio.Task[Any]]] = field(default_factory=dict)

    def add(self, name: str, start: Action = _nothing, stop: Action = _nothing) -> None:
        if any(s.name == name for s in self.steps):
            raise ValueError(f"lifespan step {name!r} is added twice")
        self.steps.append(Step(name, start, stop))

    def add_tasks(self, name: str, make: Callable[[], dict[str, Coroutine[Any, Any, None]]]) -> None:
        """A step whose start creates background tasks (named by the keys of `make()`) and whose
        stop cancels them and waits until each has ended."""

        async def start() -> None:
            self.tasks[name] = [asyncio.create_task(coro, name=task) for task, coro in make().items()]

        async def stop() -> None:
            await cancel(self.tasks.pop(name, ()))

        self.add(name, start, stop)

    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    async def run(self, _app: web.Application) -> AsyncIterator[None]:
        try:
            for step in self.steps:
                await _done(step.start())
                self.running.append(step.name)
                log.debug("started: %s", step.name)
            yield
        finally:
            await self._stop_all()

    async def _stop_all(self) -> None:
        by_name = {s.name: s for s in self.steps}
        while self.running:
            name = self.running.pop()
            try:
                await _done(by_name[name].stop())
            except Exception:  # the others still stop: nothing is left running
                log.exception("stopping %s failed", name)
            log.debug("stopped: %s", name)


async def _done(result: object) -> None:
    if inspect.isawaitable(result):
        await result


LIFESPAN = web.AppKey("hallq-lifespan", Lifespan)
SCHEDULER = web.AppKey("hallq-scheduler", Scheduler)  # every hall's timed work (server/scheduler.py)
