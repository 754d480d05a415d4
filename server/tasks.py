"""Background tasks' end: cancel them and wait until each has stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def cancel(tasks: Iterable[asyncio.Task[object] | None]) -> None:
    """Cancel every task (None is skipped), then wait for each, so none outlives its owner."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    for t in live:
        with contextlib.suppress(asyncio.CancelledError):
            await t
