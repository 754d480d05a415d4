"""Rate limits that hold for a whole deployment: token buckets kept in Redis, so that N worker
processes (or hosts) allow an address its rate once, not N times. One Lua script takes a token
atomically on Redis's own clock; a bucket left alone expires once it would be full again.
Used by server/api/security.py's `Buckets` when `--redis` is given; only then is redis-py needed."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import RedisError

PREFIX = "hallq:limit:"

# KEYS[1] the bucket; ARGV rate per second, burst. Returns 0 (taken) or the seconds to wait.
TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local retry = 0
if tokens < 1 then
  retry = math.ceil((1 - tokens) / rate)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return retry
"""


class RedisBuckets:
    """The shared store of `Buckets` (server/api/security.py)."""

    errors: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)

    def __init__(self, redis: Any) -> None:
        self._take = redis.register_script(TAKE)

    async def take(self, key: str, rate: float, burst: int) -> int:
        """0 if a token was taken from the bucket `key`, else the seconds until there is one."""
        return int(await self._take(keys=[PREFIX + key], args=[repr(float(rate)), int(burst)]))
