"""Local stand-ins for what is outside the hall, served by aiohttp on 127.0.0.1: the provincial
好差评 platform (and the SMS gateway). They keep what they took, and can refuse, be slow or be away."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from tests.server_process import free_port


async def stored_text(engine) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table of the schema, as text: what a scan for personal data reads."""
    from sqlalchemy import select

    from server.backup import all_tables

    out: list[str] = []
    async with engine.connect() as conn:
        for table in all_tables().sorted_tables:
            out.append(str((await conn.execute(select(table))).all()))
    return "\n".join(out)


@pytest.fixture
async def outbound():  # type: ignore[no-untyped-def]
    """The app's one client for the platform and the gateway, started and stopped."""
    from server.api.outbound import Outbound

    o = Outbound()
    await o.start()
    yield o
    await o.stop()


class Loopback:
    """A stand-in served on 127.0.0.1 at a port of its own, its routes set by `routes`."""

    def __init__(self) -> None:
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Platform(Loopback):
    """The provincial 好差评 platform's rating intake.

    `mode`: "ok" takes ratings (409 for one it has), "busy" answers 503, "slow" takes the
    rating and answers only after `slow_s` (the caller times out, but the rating is in). `refuse`
    lists rating ids it refuses with 400 (a rating it will never take as it is). Every request
    is noted in `requests` (its id), what it took in `taken`, in order of arrival.
    """

    def __init__(self, id_field: str = "evaluateId") -> None:
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/evaluations"
        self.id_field = id_field
        self.mode = "ok"
        self.slow_s = 2.0
        self.refuse: set[str] = set()
        self.requests: list[str] = []
        self.taken: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.returns: list[dict[str, Any]] = []  # bad ratings it sends back to the hall (GET /returns)
        self.returns_asked: list[str] = []

    @property
    def returns_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/returns"

    async def _returns(self, request: web.Request) -> web.Response:
        self.returns_asked.append(request.query.get("hallCode", ""))
        return web.json_response({"items": self.returns})

    @property
    def ids(self) -> list[str]:
        return [b[self.id_field] for b in self.taken]

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.json()
        rid = body.get(self.id_field)
        self.requests.append(rid)
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        if self.mode == "busy":
            return web.json_response({"error": "busy"}, status=503)
        if rid in self.refuse:
            return web.json_response({"error": "bad rating"}, status=400)
        if rid in self.ids:
            return web.json_response({"error": "duplicate"}, status=409)
        self.taken.append(body)
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
        return web.json_response({"ok": True})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/evaluations", self._take)
        app.router.add_get("/returns", self._returns)


class Gateway(Loopback):
    """An SMS gateway: takes {phone, sign, text} (409 for a key it has had), or answers 503 when `busy`."""

    def __init__(self) -> None:
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/sms"
        self.busy = False
        self.requests = 0
        self.sent: list[dict[str, Any]] = []
        self._keys: set[str] = set()

    async def _take(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        if self.busy:
            return web.json_response({"error": "busy"}, status=503)
        key = request.headers.get("Idempotency-Key", "")
        if key in self._keys:
            return web.json_response({"error": "duplicate"}, status=409)
        self._keys.add(key)
        self.sent.append(body)
        return web.json_response({"ok": True})

    def to(self, phone: str) -> list[str]:
        return [m["text"] for m in self.sent if m["phone"] == phone]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/sms", self._take)
