"""The bus between server processes, over Redis pub/sub.

Each process publishes what its halls journal on `hallq:bus:{hall}` and listens on
`hallq:bus:*` with one connection. Its own listeners hear its messages at once, in process;
the Redis echo of its own messages is recognised by `origin` and skipped.

Redis pub/sub keeps nothing: a message sent while a process is disconnected is gone for it.
That is fine because the journal, not the bus, is the record: every message carries its
journal position, and once Redis confirms the subscription again every subscription here is
marked `lagged` and woken, so each listener re-reads the journal from the last position it saw. A publish that
fails waits in a bounded outbox and goes out, in order, once Redis answers again; it never
fails the command whose events are already durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from datetime import date
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import Flags, LocalBus, Published
from .flags import RedisFlags
from ..tasks import cancel

log = logging.getLogger("hallq.bus")

PREFIX = "hallq:bus:"
RELAY = "hallq:relay:"  # small messages between processes (a print job for the worker holding the agent)
OUTBOX = 10_000  # messages kept while Redis is away; beyond that listeners catch up from the journal
RETRY_S = (0.1, 0.2, 0.5, 1.0, 2.0)
SUBSCRIBE_WAIT_S = 10.0  # a subscription Redis does not confirm by then: reconnect


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def encode(message: Published, origin: str) -> str:
    return json.dumps(
        {"o": origin, "h": message.hall, "d": message.day.isoformat(), "s": message.first_seq, "e": message.events},
        ensure_ascii=False, separators=(",", ":"),
    )


def decode(raw: bytes | str) -> tuple[str, Published]:
    m = json.loads(raw)
    return m["o"], Published(m["h"], date.fromisoformat(m["d"]), int(m["s"]), tuple(m["e"]))


class RedisBus(LocalBus):
    shared = True

    def __init__(self, url: str, *, max_connections: int = 16, timeout_s: float = 2.0) -> None:
        super().__init__()
        self.url = url
        self.origin = secrets.token_hex(6)
        # redis-py's plain pool raises when its connections run out; this one waits (bounded).
        self.pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout_s,
            socket_connect_timeout=timeout_s, socket_timeout=timeout_s, health_check_interval=5,
        )
        self.redis = aioredis.Redis(connection_pool=self.pool)
        self.flags: Flags | None = RedisFlags(self.redis)
        self.healthy = False
        self._outbox: deque[tuple[str, str]] = deque(maxlen=OUTBOX)  # (channel, message)
        self._flush = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self.connections = 0

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="bus-listen"),
            asyncio.create_task(self._sender(), name="bus-send"),
        ]
        with contextlib.suppress(asyncio.TimeoutError):  # start anyway: it keeps trying
            await asyncio.wait_for(self._connected.wait(), 5.0)

    async def publish(self, message: Published) -> None:
        await super().publish(message)  # this process's listeners, at once
        self._outbox.append((PREFIX + message.hall, encode(message, self.origin)))
        self._flush.set()

    async def relay(self, topic: str, message: dict[str, Any]) -> None:
        """Best effort: a relay lost while Redis is away is covered by its sender's deadline."""
        try:
            await self.redis.publish(RELAY + topic, json.dumps({"o": self.origin, "m": message}, ensure_ascii=False))
        except (RedisError, OSError) as exc:
            log.warning("bus: relay %s not sent: %r", topic, exc)

    async def _relayed(self, channel: str, raw: bytes | str) -> None:
        topic = channel.removeprefix(RELAY)
        handler = self._relays.get(topic)
        if handler is None:
            return
        try:
            m = json.loads(raw)
            if m["o"] != self.origin:
                await handler(m["m"])
        except Exception:
            log.exception("bus: relay %s failed", topic)

    async def _sender(self) -> None:
        """Send the outbox in order; on failure keep the message and try again after a pause."""
        failures = 0
        while True:
            await self._flush.wait()
            self._flush.clear()
            while self._outbox:
                channel, raw = self._outbox[0]
                try:
                    await self.redis.publish(channel, raw)
                except (RedisError, OSError) as exc:
                    if failures == 0:
                        log.warning("bus: publish failed (%r); %d message(s) wait", exc, len(self._outbox))
                    await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                    failures += 1
                    continue
                if failures:
                    log.info("bus: publishing again after %d failure(s)", failures)
                failures = 0
                self._outbox.popleft()

    async def _listen(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            # Subscribe confirmations are kept: Redis hears others' messages for us only from the
            # moment it reads our PSUBSCRIBE, which its confirmation proves; sending it does not.
            pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
            try:
                await pubsub.psubscribe(PREFIX + "*", RELAY + "*")
                asked, subscribed = loop.time(), False
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if not subscribed:
                        if msg is not None and msg.get("type") == "psubscribe" and _text(msg["channel"]) == PREFIX + "*":
                            subscribed = True
                            self._subscribed(failures)
                            failures = 0
                        elif loop.time() - asked > SUBSCRIBE_WAIT_S:
                            raise RedisTimeoutError(f"no answer to PSUBSCRIBE within {SUBSCRIBE_WAIT_S} s")
                        continue
                    if msg is None or msg.get("type") != "pmessage":
                        continue
                    channel = _text(msg["channel"])
                    if channel.startswith(RELAY):
                        await self._relayed(channel, msg["data"])
                        continue
                    try:
                        origin, message = decode(msg["data"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("bus: an unreadable message on %r", msg.get("channel"))
                        continue
                    if origin != self.origin:
                        await super().publish(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self.healthy or failures == 0:
                    log.warning("bus: lost Redis (%r); listeners fall back to the journal", exc)
                self.healthy = False
                self._poke_all()
                await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _subscribed(self, failures: int) -> None:
        """Redis delivers to us again. Whatever was published before this moment is in the
        journal (events are stored before they are published), so a listener told to re-read
        it now misses nothing, whichever of the processes came back first."""
        if failures or self.connections:
            log.info("bus: connected to Redis again")
        self.healthy = True
        self._connected.set()
        self.connections += 1
        self._poke_all()

    def _poke_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.poke(date.min)

    async def close(self) -> None:
        await cancel(self._tasks)
        self._tasks = []
        await self.redis.aclose()
        await self.pool.aclose()
        await super().close()

    def stats(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "outbox": len(self._outbox), "connections": self.connections}
