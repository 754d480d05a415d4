"""The print agent's card relay (刷身份证取号): from the kiosk's card reader to the hall server, and
the server's answer to the kiosk page on this PC.

A thread waits on the reader (kiosk/cardreader.py); each number read is posted to the server
(POST /api/v1/halls/{hall}/kiosks/{kiosk}/card, with the agent's device token), which checks it
and answers a one-time token, the masked number and the senior lane. That answer, never the
number, goes to the kiosk page over a websocket served on 127.0.0.1 (`--card-port`), open only
to pages of the hall server's origin. Log lines show the masked number only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from .cardreader import CardReader, ReaderFault, masked

log = logging.getLogger("hallq.cards")


class CardRelay:
    READ_S = 1.0  # how long one wait on the reader lasts (the thread checks for a stop between)

    def __init__(self, reader: Callable[[], CardReader], server: str, hall: str, kiosk: str, port: int,
                 token: Callable[[], str | None] = lambda: None) -> None:
        self.open_reader = reader
        self.endpoint = f"{server.rstrip('/')}/api/v1/halls/{hall}/kiosks/{kiosk}/card"
        self.origin = server.rstrip("/")
        self.port = port
        self.token = token
        self.pages: set[ServerConnection] = set()
        self.listening = asyncio.Event()
        self.reads = 0

    async def _page(self, ws: ServerConnection) -> None:
        self.pages.add(ws)
        try:
            await ws.wait_closed()
        finally:
            self.pages.discard(ws)

    async def tell(self, message: dict[str, Any]) -> None:
        text = json.dumps(message, ensure_ascii=False)
        for ws in list(self.pages):
            with contextlib.suppress(Exception):
                await ws.send(text)

    async def relay(self, number: str) -> None:
        """Post one read to the server and hand the page its answer."""
        from .agent import post_json  # the agent's one HTTP client: the standard library's

        headers = {"X-Device-Token": t} if (t := self.token()) else {}
        try:
            status, answer = await post_json(self.endpoint, {"id_number": number}, headers)
            ok = status == 200
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out (URLError and socket.timeout are OSErrors)
            log.warning("card %s: the server did not answer (%s)", masked(number), exc.__class__.__name__)
            await self.tell({"type": "card_error", "problem": "", "limit": None})
            return
        self.reads += 1
        if ok:
            log.info("card %s read", masked(number))
            await self.tell({"type": "card", **{k: answer[k] for k in ("card", "masked", "senior", "left_today", "per_day", "bookings")}})
        else:
            log.info("card %s refused: %s", masked(number), answer.get("type"))
            await self.tell({"type": "card_error", "problem": answer.get("type", ""), "limit": answer.get("limit")})

    async def run(self, stop: asyncio.Event) -> None:
        async with serve(self._page, "127.0.0.1", self.port, origins=[self.origin, None]):
            self.listening.set()
            reader = None
            try:
                while not stop.is_set():
                    try:
                        if reader is None:
                            reader = await asyncio.to_thread(self.open_reader)
                        number = await asyncio.to_thread(reader.read, self.READ_S)
                    except (OSError, ReaderFault) as exc:  # unplugged, or garbled: open it again shortly
                        log.warning("card reader: %s", exc)
                        if reader is not None:
                            with contextlib.suppress(Exception):
                                reader.close()
                        reader = None
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(stop.wait(), 2.0)
                        continue
                    if number is not None:
                        await self.relay(number)
            finally:
                if reader is not None:
                    reader.close()


async def alongside(main: Callable[[asyncio.Event], Awaitable[None]], relay: CardRelay, stop: asyncio.Event | None = None) -> None:
    """Run the agent (`main(stop)`) with the relay beside it; both stop together."""
    stop = stop or asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="card-relay")
    try:
        await main(stop)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task
