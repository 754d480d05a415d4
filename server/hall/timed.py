"""A hall's outbox on the app's one scheduler: a look now and then, sooner when a retry falls due.

The 好差评 upload and the SMS outbox each have a `step()` that does what is due and says when
it next wants to look (None: at its usual pace). Run as a loop per hall, a province of 1,500
halls would wake 1,500 tasks every few seconds for nothing; here each hall's outbox is one
entry of the scheduler (server/scheduler.py), and a hall whose outbox is off is looked at only
every `idle_s` (an admin may turn it on), without a task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from ..scheduler import Scheduler

IDLE_S = 60.0  # a hall whose outbox is off looks again this often (the admin page may turn it on)


def every(scheduler: Scheduler, key: Hashable, step: Callable[[], Awaitable[float | None]], enabled: Callable[[], bool],
          poll_s: float, log: logging.Logger, what: str, idle_s: float = IDLE_S) -> None:
    """Schedule `step` under `key`: at once, then every `poll_s` (or sooner, as `step` asks)."""

    def due() -> Awaitable[Any] | None:
        if not enabled():
            scheduler.after(key, idle_s, due)
            return None
        return look()

    async def look() -> None:
        try:
            wait = await step()
        except Exception as exc:  # the database is away: try again at the next look
            log.warning("%s: %r", what, exc)
            wait = None
        scheduler.after(key, min(poll_s, wait) if wait is not None else poll_s, due)

    scheduler.after(key, 0.0, due)
