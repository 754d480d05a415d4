"""Small flags shared by the processes of a deployment, kept in Redis beside the bus: a kiosk's
call for a member of staff, which any worker shows and any worker clears.

A flag is raised once (the first raiser's value is kept until it is cleared or expires), cleared,
and read; each expires on its own, so a flag nobody clears does not outlive its use. Best effort:
when Redis does not answer, the methods say so (None, False) and the caller keeps what it knows
in its own memory; a later read puts it right."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger("hallq.bus")

PREFIX = "hallq:flag:"
ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisFlags:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def raise_flag(self, key: str, value: str, ttl_s: int) -> str | None:
        """Raise `key` with `value` for `ttl_s` seconds unless it is raised already; the value it
        holds now (the first raiser's), or None if Redis did not answer."""
        try:
            async with self.redis.pipeline(transaction=True) as p:
                p.set(PREFIX + key, value, nx=True, ex=max(1, int(ttl_s)))
                p.get(PREFIX + key)
                _, held = await p.execute()
        except ERRORS as exc:
            log.warning("bus: flag %s not raised in Redis: %r", key, exc)
            return None
        return _text(held) or value

    async def clear(self, key: str) -> bool:
        try:
            await self.redis.delete(PREFIX + key)
        except ERRORS as exc:
            log.warning("bus: flag %s not cleared in Redis: %r", key, exc)
            return False
        return True

    async def read(self, keys: list[str]) -> list[str | None] | None:
        """The values of `keys` (None where not raised), or None if Redis did not answer."""
        if not keys:
            return []
        try:
            values = await self.redis.mget([PREFIX + k for k in keys])
        except ERRORS as exc:
            log.warning("bus: flags not read from Redis: %r", exc)
            return None
        return [_text(v) for v in values]
