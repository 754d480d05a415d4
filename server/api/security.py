"""Security headers on every answer, and the token buckets that bound ticket issuing (in this
process's memory, or shared by the deployment's processes through Redis: server/bus/limits.py)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..domain.errors import DomainError

log = logging.getLogger("hallq.limits")

# No inline or remote script anywhere: pages load their ES modules from /static only.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:  # a websocket or stream has sent its headers already
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response


class TooMany(DomainError):
    status = 429


class Buckets:
    """Token buckets per key (a client address, a kiosk): `rate` per second, up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}
        self._shared: Any = None  # a RedisBuckets (server/bus/limits.py): the deployment's buckets
        self._name = ""
        self._failing = False

    def share(self, store: Any, name: str) -> None:
        """Keep the buckets in `store`, under `name`, for every process of the deployment."""
        self._shared, self._name = store, name

    async def take(self, key: str, what: str = "tickets") -> None:
        """Take a token for `key`, or raise TooMany (429 with Retry-After)."""
        if self.rate <= 0:
            return
        if self._shared is not None:
            try:
                retry = await self._shared.take(f"{self._name}|{key}", self.rate, self.burst)
            except self._shared.errors as exc:  # Redis is away: each process limits on its own meanwhile
                if not self._failing:
                    log.warning("shared %s limit unavailable, limiting in this process: %r", self._name, exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("shared %s limit back", self._name)
                self._failing = False
                if retry > 0:
                    raise TooMany("rate-limited", f"too many {what} from here; try again in {retry} s", retry_after=retry)
                return
        self.take_here(key, what)

    def take_here(self, key: str, what: str = "tickets") -> None:
        """The bucket in this process's memory."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, last = self._tokens.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            retry = math.ceil((1.0 - tokens) / self.rate)
            self._tokens[key] = (tokens, now)
            raise TooMany("rate-limited", f"too many {what} from here; try again in {retry} s", retry_after=retry)
        self._tokens[key] = (tokens - 1.0, now)
        if len(self._tokens) > 10_000:  # forget full buckets, so the table stays small
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] + (now - v[1]) * self.rate < self.burst}


class Lockout:
    """Failures per key (a client address): after `failures` of them within `window_s`, the key is
    refused until `window_s` after the last one. Guessing a secret (a booking code) then costs an
    address a window per few guesses, while a citizen who mistypes once or twice never notices."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failed: dict[str, tuple[int, float]] = {}  # key -> (failures, last failure)

    def check(self, key: str, window_s: float, failures: int, what: str) -> None:
        count, last = self._failed.get(key, (0, 0.0))
        retry = math.ceil(last + window_s - self.clock())
        if count >= failures and retry > 0:
            raise TooMany("rate-limited", f"too many {what} from here; try again in {retry} s", retry_after=retry)

    def fail(self, key: str, window_s: float) -> None:
        now = self.clock()
        count, last = self._failed.get(key, (0, now))
        self._failed[key] = (1 if now - last >= window_s else count + 1, now)
        if len(self._failed) > 10_000:  # forget failures whose window has passed
            self._failed = {k: v for k, v in self._failed.items() if now - v[1] < window_s}
