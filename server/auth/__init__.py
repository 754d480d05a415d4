"""Staff accounts: argon2 password hashes and bearer sessions, stored beside the journal.

Passwords are never stored or logged in clear: the database keeps argon2id hashes, and a
session keeps only the SHA-256 of its token. Accounts of a demo hall that have no password
set take the demo password (one hash, made at start).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.catalog import Catalog, User

metadata = MetaData()

passwords = Table(
    "passwords",
    metadata,
    Column("username", String(40), primary_key=True),
    Column("hash", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(40), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Staff:
    """An authenticated member of staff and the hall their account belongs to."""

    user: User
    hall: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    SESSION_TTL_S = 12 * 3600

    def __init__(self, engine: AsyncEngine, halls: dict[str, Catalog], demo_password: str = "demo") -> None:
        self.engine = engine
        self.staff = {u.username: Staff(u, hall) for hall, c in halls.items() for u in c.config.users}
        self._demo_halls = {hall for hall, c in halls.items() if c.hall.demo}
        self._demo_password = demo_password
        self._demo_hash: str | None = None

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        if self._demo_halls:
            self._demo_hash = await asyncio.to_thread(_hasher.hash, self._demo_password)
        self._demo_password = ""

    @property
    def demo_accounts(self) -> list[str]:
        return sorted(name for name, s in self.staff.items() if s.hall in self._demo_halls)

    async def _stored_hash(self, username: str) -> str | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(passwords.c.hash).where(passwords.c.username == username))).first()
        return row[0] if row else None

    async def set_password(self, username: str, password: str, by: str) -> None:
        if username not in self.staff:
            raise KeyError(username)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        now = time.time()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(passwords).where(passwords.c.username == username).values(hash=hashed, updated_at=now, updated_by=by)
            )
            if done.rowcount == 0:
                await conn.execute(insert(passwords).values(username=username, hash=hashed, updated_at=now, updated_by=by))
            # A new password ends every session of the old one.
            await conn.execute(delete(sessions).where(sessions.c.username == username))

    async def verify(self, username: str, password: str) -> Staff | None:
        staff = self.staff.get(username)
        hashed = await self._stored_hash(username) if staff else None
        if hashed is None and staff and staff.hall in self._demo_halls:
            hashed = self._demo_hash
        if hashed is None:
            # Spend the same time as a real check, so timing does not tell which names exist.
            hashed = self._demo_hash or await asyncio.to_thread(_hasher.hash, secrets.token_hex(8))
            staff = None
        try:
            ok = await asyncio.to_thread(_hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            ok = False
        return staff if ok and staff else None

    async def open_session(self, staff: Staff) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(sessions).values(
                    token_sha256=_digest(token), username=staff.user.username, created_at=now, expires_at=now + self.SESSION_TTL_S
                )
            )
        return token

    async def session(self, token: str) -> Staff | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions.c.username, sessions.c.expires_at).where(sessions.c.token_sha256 == _digest(token))
                )
            ).first()
        if row is None or row[1] < time.time():
            return None
        return self.staff.get(row[0])

    async def close_session(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_sha256 == _digest(token)))
