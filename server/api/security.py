"""Security headers on every answer, and the token buckets that bound ticket issuing."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..domain.errors import DomainError

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

    def take(self, key: str, what: str = "tickets") -> None:
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
