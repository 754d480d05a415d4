"""Evaluator sessions (评价器会话): the credential of a window's evaluator screen in a hall that
does not require registered devices.

A clerk or manager who may act on the window opens one, once, on the evaluator screen; from then
on the screen shows that window and submits its ratings with this token alone. It is no staff
session: it lives in its own table, survives the clerk's logout, and every clerk action refuses
it (it is never a bearer token or a session cookie). A clerk's own session, in turn, cannot rate:
ratings at a window come only from its evaluator. The database keeps only the token's SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from .. import migrations

metadata = MetaData()

evaluator_sessions = Table(
    "evaluator_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("hall", String(40), nullable=False),
    Column("window", String(40), nullable=False),
    Column("opened_by", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)


@dataclass(frozen=True, slots=True)
class EvaluatorSession:
    """The window an evaluator screen rates for, and who opened it."""

    hall: str
    window: str
    opened_by: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EvaluatorSessions:
    TTL_S = 24 * 3600  # opened once a day, like the clerk's own login

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history

    async def open(self, hall: str, window: str, by: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        t = evaluator_sessions
        async with self.engine.begin() as conn:
            await conn.execute(delete(t).where(t.c.expires_at < now))  # the ended ones go as new ones come
            await conn.execute(
                insert(t).values(token_sha256=_digest(token), hall=hall, window=window, opened_by=by,
                                 created_at=now, expires_at=now + self.TTL_S)
            )
        return token

    async def get(self, token: str) -> EvaluatorSession | None:
        t = evaluator_sessions
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t).where(t.c.token_sha256 == _digest(token)))).first()
        if row is None or row.expires_at < self.clock():
            return None
        return EvaluatorSession(row.hall, row.window, row.opened_by)
