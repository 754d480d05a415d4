"""Waiting on a page's state without `page.wait_for_function`.

Playwright's wait_for_function re-evaluates its predicate with `eval` inside the page after
the first check, and our pages' CSP (`script-src 'self'`, no 'unsafe-eval') forbids that, so
it works only when the predicate is already true at once. `page.evaluate` goes through the
DevTools protocol, which the CSP does not govern, so polling it is safe.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def until(page: Any, expression: str, timeout: float = 5.0, every: float = 0.05) -> Any:
    """Poll `expression` in the page until it is truthy; return its value or fail with it."""
    deadline = time.monotonic() + timeout
    while True:
        value = await page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        await asyncio.sleep(every)


async def press(page: Any, key: str) -> None:
    """Press `key` once the page has finished its last request: the terminal ignores keys while
    an action is on its way (body.busy), so that a key pressed twice never acts twice."""
    await page.wait_for_selector("body:not(.busy)", state="attached")
    await page.keyboard.press(key)
