"""Request ids, the access log, and log lines that carry both: what the hall's IT staff read.

Each request gets an id (the proxy's `X-Request-Id` when it sent a plain one, else a new one),
answered in the `X-Request-Id` header and inside every problem+json body (`request_id`), and
put on every log line written while the request is handled (`RequestIdFilter`). The access log
(logger `hallq.access`) names the route's pattern, never the path as sent (ticket ids, booking
codes and device ids ride in paths) nor the query string (session and device tokens ride in
websockets' queries): `GET /api/v1/halls/{hall}/tickets/{ticket} 200 312B 4.1ms hall=demo
from 203.0.113.7` — the client as the trusted proxy named it (server/api/proxies.py).
Refusals (429, 503: limits, a full server) are summed up in one line per interval instead, so
that a flood cannot fill the log (the connection gate does the same for refused sockets).
`--log-format json` writes every line as one JSON object.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from aiohttp import web

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("hallq_request_id", default="-")
HEADER = "X-Request-Id"
_PLAIN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access = logging.getLogger("hallq.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusals:
    """Refused requests, logged at once after a quiet spell and then one line per `interval_s`."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._counts: Counter[str] = Counter()
        self._from: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def note(self, what: str, address: str) -> None:
        self._counts[what] += 1
        self._from[address] += 1
        if self._timer is None:  # the first after a quiet spell: said at once, the next ones summed up
            self.flush()
            self._timer = asyncio.get_running_loop().call_later(self.interval_s, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.flush():
            self._timer = asyncio.get_running_loop().call_later(self.interval_s, self._tick)

    def flush(self) -> bool:
        if not self._counts:
            return False
        top = ", ".join(f"{a} ×{n}" for a, n in self._from.most_common(3))
        access.info("refused %d: %s; most from %s", sum(self._counts.values()),
                    ", ".join(f"{w} ×{n}" for w, n in self._counts.most_common(5)), top)
        self._counts.clear()
        self._from.clear()
        return True

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()


REFUSALS = web.AppKey("hallq-refusals", Refusals)


def current() -> str | None:
    found = REQUEST_ID.get()
    return None if found == "-" else found


def route_of(request: web.Request) -> str:
    """The route's pattern, never the path as sent."""
    info = request.match_info
    resource = info.route.resource if info is not None and info.route is not None else None
    if resource is None or info.http_exception is not None:
        return "(no route)"
    return resource.canonical


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    sent = request.headers.get(HEADER, "")
    rid = sent if _PLAIN.match(sent) else secrets.token_hex(8)
    token = REQUEST_ID.set(rid)
    started = time.perf_counter()
    status, size = 500, 0
    try:
        response = await handler(request)
        status = response.status
        size = response.body_length if response.prepared else (response.content_length or 0)
        if not response.prepared:
            response.headers[HEADER] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[HEADER] = rid
        raise
    finally:
        refusals = request.app.get(REFUSALS)
        if status in (429, 503) and refusals is not None:
            refusals.note(f"{status} {request.method} {route_of(request)}", request.remote or "?")
        else:
            hall = request.match_info.get("hall") if request.match_info is not None else None
            access.info("%s %s %d %dB %.1fms%s from %s", request.method, route_of(request), status, size,
                        (time.perf_counter() - started) * 1000, f" hall={hall}" if hall else "", request.remote or "?")
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the request id (or "-") on every record, for the formats below."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, worker: str = "") -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", "-")}
        if self.worker:
            line["worker"] = self.worker
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(fmt: str = "text", worker: str = "") -> None:
    """The process's log: text (one line, with the request id) or JSON lines, on standard error."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    name = f" {worker}" if worker else ""
    handler.setFormatter(JsonFormatter(worker) if fmt == "json" else
                         logging.Formatter(f"%(asctime)s{name} %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
