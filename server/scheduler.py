"""One scheduler for every hall's timed work: a heap of next deadlines, one task.

A deployment of thousands of halls must not pay for a loop per hall per kind of timed work
(supervision sweeps, booking sweeps, feed heartbeats, print-job deadlines, the day change):
each sleeping loop costs a wake-up per period whether or not the hall has anything to do.
Here each piece of timed work is an entry under a key (("supervise", hall), ("feed", hall) …)
with the monotonic time it is next due; the scheduler's one task sleeps until the earliest
deadline, or until an event brings an entry forward (`soon`), and runs what is due. An entry
runs once; periodic work schedules its next run when it has done (so a slow run never
overlaps itself) and may choose a later one when the hall is quiet.

An action is a plain function (run inline: it must not block) or one returning a coroutine
(run as a task of its own; `drop` cancels it and waits). Nothing here knows about halls; the
clock is injectable, so tests move time by hand and call `run_due` (no real waiting).
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

log = logging.getLogger("hallq.scheduler")

Action = Callable[[], "Awaitable[Any] | None"]


class Scheduler:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Hashable]] = []
        self._entries: dict[Hashable, tuple[float, int, Action]] = {}
        self._running: dict[Hashable, asyncio.Task[Any]] = {}
        self._n = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.runs = 0  # actions run so far (tests, benchmarks)

    # -- entries --------------------------------------------------------------------------------
    def at(self, key: Hashable, when: float, action: Action) -> None:
        """Run `action` at monotonic time `when` (replacing what `key` had pending)."""
        pending = self._entries.get(key)
        if pending is not None and pending[0] == when:
            self._entries[key] = (when, pending[1], action)
            return
        self._n += 1
        self._entries[key] = (when, self._n, action)
        heapq.heappush(self._heap, (when, self._n, key))
        if self._heap[0][1] == self._n and self._wake is not None:
            self._wake.set()  # earlier than what the task sleeps towards

    def after(self, key: Hashable, delay: float, action: Action) -> None:
        self.at(key, self.clock() + max(0.0, delay), action)

    def soon(self, key: Hashable, within: float, action: Action) -> None:
        """An event happened: run `key` within `within` seconds (earlier if it was due earlier).
        Does nothing while `key` runs (it schedules its own next run when done)."""
        if key in self._running:
            return
        when = self.clock() + max(0.0, within)
        pending = self._entries.get(key)
        if pending is None or pending[0] > when:
            self.at(key, when, action)

    def when(self, key: Hashable) -> float | None:
        """When `key` is next due (None: nothing pending)."""
        pending = self._entries.get(key)
        return pending[0] if pending else None

    def pending(self) -> int:
        return len(self._entries)

    def cancel(self, key: Hashable) -> None:
        """Forget what `key` had pending (a run under way goes on; see `drop`)."""
        self._entries.pop(key, None)

    async def drop(self, keys: Iterable[Hashable]) -> None:
        """Forget these keys' entries, cancel their runs under way and wait until they ended."""
        tasks = []
        for key in list(keys):
            self._entries.pop(key, None)
            task = self._running.get(key)
            if task is not None:
                task.cancel()
                tasks.append(task)
        for task in tasks:
            try:
                await task
            except BaseException:  # noqa: BLE001 - cancelled, or failed: either way it ended
                pass

    def keys(self) -> list[Hashable]:
        return list(self._entries)

    # -- running --------------------------------------------------------------------------------
    def next_due(self) -> float:
        """The earliest pending deadline (inf: nothing pending)."""
        while self._heap:
            when, n, key = self._heap[0]
            pending = self._entries.get(key)
            if pending is not None and pending[1] == n:
                return when
            heapq.heappop(self._heap)  # replaced or cancelled since
        return math.inf

    def run_due(self) -> int:
        """Start every entry due by now; returns how many."""
        now = self.clock()
        ran = 0
        while self.next_due() <= now:
            _, _, key = heapq.heappop(self._heap)
            _, _, action = self._entries.pop(key)
            ran += 1
            self.runs += 1
            try:
                result = action()
            except Exception:
                log.exception("timed work %r failed", key)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._running[key] = task
                task.add_done_callback(lambda t, key=key: self._ended(key, t))
        return ran

    def _ended(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("timed work %r failed", key, exc_info=task.exception())

    async def idle(self) -> None:
        """Wait until no run is under way (tests)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def run(self) -> None:
        """The one task: sleep until the earliest deadline (or an earlier entry), run what is due."""
        self._wake = asyncio.Event()
        while True:
            self.run_due()
            delay = self.next_due() - self.clock()
            if delay <= 0:
                await asyncio.sleep(0)  # let the runs just started go first
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), None if math.isinf(delay) else delay)
            except asyncio.TimeoutError:
                pass

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="scheduler")

    async def stop(self) -> None:
        await self.drop(list(self._running))
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._task = None
        self._wake = None
