"""Trusted reverse proxies: whose X-Forwarded-For and X-Forwarded-Proto are believed.

Behind nginx every connection comes from the proxy. With `--trusted-proxies` naming it (addresses
or networks), a request whose socket peer is one of them is taken to come from the client the
header names: aiohttp-remotes' `XForwardedFiltered` walks X-Forwarded-For from the right past
the trusted hops and sets `request.remote` (and `request.scheme` from X-Forwarded-Proto) on the
request every later middleware and handler sees, so the per-address ticket and registration
limits, the websocket caps, the log lines and the device records name the citizen. The headers
of any other peer are ignored: a phone that sends its own X-Forwarded-For is still itself.

The peer check is ours (XForwardedFiltered alone would believe anyone's header; XForwardedStrict
refuses requests that do not come through exactly the listed hops, and a client's forged header
that nginx appends to would then cost the citizen a 400 rather than be ignored).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp_remotes import XForwardedFiltered
from aiohttp_remotes.utils import parse_trusted_element

from .connections import address_key
from .errors import problem

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_proxies(text: str) -> tuple[str, ...]:
    """`--trusted-proxies "127.0.0.1, 10.0.0.0/8"` -> each entry, checked (ValueError names a bad one)."""
    entries = tuple(e.strip() for e in text.replace(" ", ",").split(",") if e.strip())
    parse_trusted_element(entries)
    return entries


class TrustedProxies:
    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.entries = tuple(entries)
        self.networks = [ipaddress.ip_network(e, strict=False) for e in self.entries]
        self._forwarded = XForwardedFiltered(set(self.entries)) if self.entries else None

    def trusts(self, host: str | None) -> bool:
        """Whether the socket peer `host` is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address_key(host))
        except ValueError:
            return False
        return any(ip in net for net in self.networks if net.version == ip.version)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._forwarded is None:
            return await handler(request)
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        if not (isinstance(peer, tuple) and peer and self.trusts(peer[0])):
            return await handler(request)  # not from a proxy: its X-Forwarded-* headers mean nothing
        try:
            return await self._forwarded.middleware(request, handler)
        except web.HTTPBadRequest:  # two X-Forwarded-For headers, or one that is not addresses
            return problem(400, "bad-forwarded-header", "Bad request",
                           "the proxy's X-Forwarded-For header is not one list of addresses")


PROXIES = web.AppKey("hallq-trusted-proxies", TrustedProxies)
