"""Connection limits: how many connections and websockets one client address, and the whole
process, may hold, kept below the process's file-descriptor limit.

The descriptors a process may open (RLIMIT_NOFILE, 1,024 under systemd unless the unit says
otherwise) are shared by clients' connections and by everything else the server opens: the
journal's files, the database and Redis pools, the static files it serves, the voice engine's
pipes. Once they run out, nobody is served, so the total is capped below that limit with a
reserve left over. Websockets are long-lived and capped lower still, leaving room for the short
requests (health, issuing tickets) that screens and kiosks make beside them. One address gets a
share only, so that one machine cannot fill the rest.

Who counts as one address is decided in one place: `address_key`, applied to the socket's peer
before any byte is read (`peer_key`) and to `request.remote` for websockets (`request_key`).
Behind a trusted proxy (server/api/proxies.py), `request.remote` is the client the proxy names,
so `request_key` counts the citizen's websockets; the socket-level cap can only ever see the
proxy, so it does not apply to a trusted proxy's connections (the total cap still does).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..domain.errors import DomainError
from ..limits import ConnectionLimits, descriptor_limit, reserve

log = logging.getLogger("hallq.connections")


def address_key(host: str | None) -> str:
    """Who counts as one client: the peer's address as aiohttp sees it, in one spelling (an
    IPv4-mapped IPv6 address is its IPv4 address). Not a whole IPv6 /64, though one subscriber
    on the internet owns one: the devices of a hall's own IPv6 LAN share theirs."""
    if not host:
        return "?"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # a Unix socket's path, say
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def peer_key(peername: Any) -> str:
    return address_key(peername[0] if isinstance(peername, tuple) and peername else None)


def request_key(request: web.Request) -> str:
    return address_key(request.remote)


class TooManyWebsockets(DomainError):
    status = 429


class Full(DomainError):
    status = 503


# Why a connection was refused, as the summary line names it.
ADDRESS, TOTAL, DESCRIPTORS = "over the per-address cap", "over the total cap", "out of file descriptors"


class Gate:
    """The counts behind the limits: open connections and websockets per address and in total,
    and the refusals since the last summary line. Lives on the event loop (no locks)."""

    def __init__(self, limits: ConnectionLimits, fd_limit: int | None = None,
                 unlimited: Callable[[str], bool] = lambda key: False) -> None:
        """unlimited(key): an address the per-address caps do not apply to (a trusted proxy, which
        carries every citizen's connections; the websocket cap then counts the forwarded client)."""
        self.limits = limits
        self.unlimited = unlimited
        self.fd_limit = fd_limit or descriptor_limit()
        ceiling = max(1, self.fd_limit - reserve(self.fd_limit))
        self.clamped = limits.max_connections > ceiling
        self.max_connections = min(limits.max_connections, ceiling) if limits.max_connections > 0 else ceiling
        wanted = limits.max_websockets or self.max_connections * 3 // 4
        self.max_websockets = max(1, min(wanted, self.max_connections))
        self.connections: Counter[str] = Counter()
        self.websockets: Counter[str] = Counter()
        self.total = 0
        self.websocket_total = 0
        self.refused_total = 0
        self._refused: Counter[str] = Counter()  # by reason, since the last log line
        self._refused_from: Counter[str] = Counter()
        self._flush: asyncio.TimerHandle | None = None
        # aiohttp's protocol of each connection -> its tracker (server/api/listener.py), so that a
        # request reaching the app can tell its connection that the head arrived in time.
        self.trackers: dict[object, Any] = {}

    def describe(self) -> str:
        limits = self.limits
        clamped = " (lowered from --max-connections to stay below the descriptor limit)" if self.clamped else ""
        return (f"file descriptors: {self.fd_limit}; connections up to {self.max_connections}{clamped}, "
                f"{limits.per_address or 'no cap'} per address; websockets up to {self.max_websockets}, "
                f"{limits.websockets_per_address or 'no cap'} per address; request heads within "
                f"{limits.header_timeout_s:g} s, idle connections closed after {limits.idle_timeout_s:g} s")

    # -- connections ---------------------------------------------------------------------
    def admit(self, key: str) -> str | None:
        """Count a new connection from `key`, or say why not (and count the refusal)."""
        if 0 < self.limits.per_address <= self.connections[key] and not self.unlimited(key):
            return self.refuse(ADDRESS, key)
        if self.total >= self.max_connections:
            return self.refuse(TOTAL, key)
        self.connections[key] += 1
        self.total += 1
        return None

    def release(self, key: str) -> None:
        self.total -= 1
        self.connections[key] -= 1
        if self.connections[key] <= 0:
            del self.connections[key]

    # -- websockets ----------------------------------------------------------------------
    def admit_websocket(self, key: str) -> None:
        """Count a websocket from `key` before its upgrade, or refuse it with 429 or 503."""
        if 0 < self.limits.websockets_per_address <= self.websockets[key]:
            self.refuse(ADDRESS, key, "websockets")
            raise TooManyWebsockets("too-many-websockets", "too many websockets from this address; close one or try again later",
                                    retry_after=5)
        if self.websocket_total >= self.max_websockets:
            self.refuse(TOTAL, key, "websockets")
            raise Full("too-many-websockets", "the server holds all the websockets it can; try again shortly", retry_after=5)
        self.websockets[key] += 1
        self.websocket_total += 1

    def release_websocket(self, key: str) -> None:
        self.websocket_total -= 1
        self.websockets[key] -= 1
        if self.websockets[key] <= 0:
            del self.websockets[key]

    # -- refusals, logged once per interval -----------------------------------------------
    def refuse(self, reason: str, key: str | None, what: str = "connections") -> str:
        self.refused_total += 1
        quiet = not self._refused and self._flush is None
        self._refused[f"{what} {reason}"] += 1
        if key is not None:
            self._refused_from[key] += 1
        if quiet:  # the first refusal after a quiet interval is logged at once, the next ones summed up
            self.flush()
            self._flush = asyncio.get_running_loop().call_later(self.limits.refusal_log_interval_s, self._timer)
        return reason

    def _timer(self) -> None:
        self._flush = None
        if self.flush():  # refusals went on: keep summing them up, a line per interval
            self._flush = asyncio.get_running_loop().call_later(self.limits.refusal_log_interval_s, self._timer)

    def flush(self) -> bool:
        """Log what was refused since the last line, in one line; False if nothing was."""
        if not self._refused:
            return False
        count = sum(self._refused.values())
        reasons = ", ".join(f"{reason} ×{n}" for reason, n in self._refused.most_common())
        top = ", ".join(f"{key} ×{n}" for key, n in self._refused_from.most_common(3))
        log.warning("refused %d: %s%s (open: %d connections, %d websockets)", count, reasons,
                    f"; most from {top}" if top else "", self.total, self.websocket_total)
        self._refused.clear()
        self._refused_from.clear()
        return True

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self.flush()

    def figures(self) -> dict[str, int]:
        """For /api/v1/health: the limits in force and what is open now."""
        return {
            "descriptors": self.fd_limit, "open": self.total, "limit": self.max_connections,
            "per_address": self.limits.per_address, "websockets": self.websocket_total,
            "websockets_limit": self.max_websockets, "websockets_per_address": self.limits.websockets_per_address,
            "refused": self.refused_total,
        }


GATE = web.AppKey("hallq-connections", Gate)


@web.middleware
async def websockets_capped(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Every websocket (screens, terminals, print agents, managers' views) is counted before its
    upgrade, so that a refusal is a plain 429 or 503 answer; its handler runs as long as it is open."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return await handler(request)
    gate, key = request.app[GATE], request_key(request)
    gate.admit_websocket(key)
    try:
        return await handler(request)
    finally:
        gate.release_websocket(key)
