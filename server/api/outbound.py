"""Calls this server makes to the outside: the provincial 好差评 platform and the SMS gateway.

One aiohttp client session for the app, opened and closed by the lifespan; every failure comes
back as a `Reply` (no answer: status None) for the outbox to decide on (server/domain/provincial.py).
Only the status and the error's kind are kept: never a body, which might echo what was sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from ..hall.uploads import Reply


class Outbound:
    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(headers={"User-Agent": "hallq"})

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def post_json(self, url: str, body: dict[str, Any], key: str, timeout_s: float) -> Reply:
        """POST `body` as JSON with `Idempotency-Key: key`; the status, or None and why not."""
        if self.session is None:
            return Reply(None, "not started")
        try:
            async with self.session.post(url, json=body, headers={"Idempotency-Key": key},
                                         timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                await resp.read()
                return Reply(resp.status, "" if resp.status < 400 else resp.reason or "")
        except (TimeoutError, asyncio.TimeoutError):
            return Reply(None, "timeout")
        except aiohttp.ClientError as exc:
            return Reply(None, type(exc).__name__)

    async def get_json(self, url: str, params: dict[str, str], timeout_s: float) -> tuple[Reply, Any]:
        """GET a JSON answer: its status and body (None when there is no answer or it is not JSON)."""
        if self.session is None:
            return Reply(None, "not started"), None
        try:
            async with self.session.get(url, params=params, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                return Reply(resp.status, "" if resp.status < 400 else resp.reason or ""), data
        except (TimeoutError, asyncio.TimeoutError):
            return Reply(None, "timeout"), None
        except aiohttp.ClientError as exc:
            return Reply(None, type(exc).__name__), None
