"""Registered devices (登记设备): kiosks, lobby and window screens, evaluators and print agents.

A device that has no token registers: it gets a six-digit code to show (read aloud to the
manager) and a claim secret it keeps. A manager approves the device by its code, naming it and,
for a kiosk or print agent, the kiosk it is, for a window screen or evaluator the window. The
device then claims its token once with the claim secret. Tokens are 256 random bits of which
the database keeps only the SHA-256, like staff sessions; a revoked device's token is refused
from the next request on. Everything is in the database, so every worker of a hall agrees.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Column, Float, MetaData, String, Table, and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.catalog import Catalog
from .. import migrations
from ..domain.errors import Conflict, Invalid, NotFound

metadata = MetaData()

Kind = Literal["kiosk", "lobby_screen", "window_screen", "evaluator", "print_agent"]
KINDS: tuple[str, ...] = ("kiosk", "lobby_screen", "window_screen", "evaluator", "print_agent")
KIOSK_KINDS = frozenset({"kiosk", "print_agent"})  # bound to a kiosk of kiosks.yaml
WINDOW_KINDS = frozenset({"window_screen", "evaluator"})  # bound to a window
SCREEN_KINDS = frozenset({"kiosk", "lobby_screen", "window_screen", "evaluator"})  # may open the hall's feed

devices = Table(
    "devices",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("hall", String(40), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("place", String(64), nullable=False),  # where the device says it is (kiosk or window id), "" if nowhere
    Column("code", String(6), nullable=False),
    Column("claim_sha256", String(64), nullable=False),
    Column("token_sha256", String(64), nullable=True, unique=True),
    Column("status", String(10), nullable=False),  # pending | approved | revoked
    Column("name", String(80), nullable=False),
    Column("kiosk", String(40), nullable=True),
    Column("window", String(40), nullable=True),
    Column("address", String(64), nullable=False),
    Column("registered_at", Float, nullable=False),
    Column("approved_at", Float, nullable=True),
    Column("approved_by", String(40), nullable=True),
    Column("claimed_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("revoked_by", String(40), nullable=True),
    Column("last_seen", Float, nullable=True),
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device as stored (never its token or claim secret)."""

    id: str
    hall: str
    kind: str
    place: str
    code: str
    status: str
    name: str
    kiosk: str | None
    window: str | None
    address: str
    registered_at: float
    approved_at: float | None
    approved_by: str | None
    claimed_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    last_seen: float | None

    @classmethod
    def of(cls, row: Any) -> Device:
        return cls(**{name: getattr(row, name) for name in cls.__slots__})  # type: ignore[attr-defined]

    @property
    def bound_to(self) -> str | None:
        return self.kiosk if self.kind in KIOSK_KINDS else self.window if self.kind in WINDOW_KINDS else None


class Devices:
    """The hall's registered devices, in the database beside the staff accounts."""

    SEEN_EVERY_S = 30.0  # last_seen is written at most this often per device

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._seen: dict[str, float] = {}

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history

    async def register(self, hall: str, kind: str, place: str, name: str, address: str,
                       pending_ttl_s: float) -> tuple[Device, str]:
        """A new pending device with a code no other pending device of the hall shows; returns it and its claim secret."""
        now = self.clock()
        claim = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            # Registrations nobody approved in time are forgotten (approvals and revocations are kept).
            await conn.execute(delete(devices).where(
                devices.c.hall == hall, devices.c.status == "pending", devices.c.registered_at < now - pending_ttl_s
            ))
            taken = set((await conn.execute(
                select(devices.c.code).where(devices.c.hall == hall, devices.c.status == "pending")
            )).scalars())
            code = f"{secrets.randbelow(10**6):06d}"
            while code in taken:
                code = f"{secrets.randbelow(10**6):06d}"
            device_id = secrets.token_urlsafe(12)
            await conn.execute(insert(devices).values(
                id=device_id, hall=hall, kind=kind, place=place, code=code, claim_sha256=_digest(claim), token_sha256=None,
                status="pending", name=name, kiosk=None, window=None, address=address[:64], registered_at=now,
            ))
        return await self.get(hall, device_id), claim

    async def get(self, hall: str, device_id: str) -> Device:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(devices).where(devices.c.id == device_id, devices.c.hall == hall))).first()
        if row is None:
            raise NotFound("unknown-device", f"no device {device_id!r} in this hall")
        return Device.of(row)

    async def of_hall(self, hall: str, pending_ttl_s: float) -> list[Device]:
        """Pending registrations not yet expired, approved devices, and the revoked ones (newest first)."""
        fresh = self.clock() - pending_ttl_s
        query = select(devices).where(
            devices.c.hall == hall, or_(devices.c.status != "pending", devices.c.registered_at >= fresh)
        ).order_by(devices.c.registered_at.desc())
        async with self.engine.connect() as conn:
            return [Device.of(r) for r in (await conn.execute(query)).all()]

    async def approve(self, catalog: Catalog, device_id: str, code: str, name: str, place: str | None, by: str,
                      pending_ttl_s: float) -> Device:
        hall = catalog.hall.id
        device = await self.get(hall, device_id)
        if device.status == "approved":
            raise Conflict("device-approved", f"device {device_id} is approved already")
        if device.status == "revoked":
            raise Conflict("device-revoked", f"device {device_id} was revoked: it registers again for a new code")
        if device.registered_at < self.clock() - pending_ttl_s:
            raise Conflict("registration-expired", "this registration has expired: the device shows a new code")
        if not hmac.compare_digest(device.code, code):
            raise Conflict("wrong-code", "this is not the code the device shows")
        place = place or device.place or None
        kiosk = window = None
        if device.kind in KIOSK_KINDS:
            if place not in catalog.kiosks:
                raise Invalid("unknown-kiosk", f"a {device.kind} is bound to one of the hall's kiosks: {sorted(catalog.kiosks)}")
            kiosk = place
        elif device.kind in WINDOW_KINDS:
            if place not in catalog.windows:
                raise Invalid("unknown-window", f"a {device.kind} is bound to one of the hall's windows")
            window = place
        now = self.clock()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(devices).where(devices.c.id == device_id, devices.c.status == "pending")
                .values(status="approved", name=name, kiosk=kiosk, window=window, approved_at=now, approved_by=by)
            )
        if done.rowcount != 1:  # another manager (or worker) decided first
            raise Conflict("device-approved", f"device {device_id} is no longer pending")
        return await self.get(hall, device_id)

    async def claim(self, hall: str, device_id: str, claim: str, pending_ttl_s: float) -> tuple[Device, str | None]:
        """The device asks for its token: None while pending; the token once, right after approval."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(devices).where(devices.c.id == device_id, devices.c.hall == hall))).first()
        if row is None or not hmac.compare_digest(row.claim_sha256, _digest(claim)):
            raise NotFound("unknown-device", "no such registration: register again")
        device = Device.of(row)
        if device.status == "revoked":
            raise Conflict("device-revoked", "this registration was refused or revoked: register again")
        if device.status == "pending":
            if device.registered_at < self.clock() - pending_ttl_s:
                raise NotFound("unknown-device", "this registration has expired: register again")
            return device, None
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(devices).where(devices.c.id == device_id, devices.c.status == "approved", devices.c.token_sha256.is_(None))
                .values(token_sha256=_digest(token), claimed_at=now, last_seen=now)
            )
        if done.rowcount != 1:
            raise Conflict("token-taken", "this device's token was handed out already")
        return await self.get(hall, device_id), token

    async def revoke(self, hall: str, device_id: str, by: str) -> Device:
        device = await self.get(hall, device_id)
        if device.status == "revoked":
            raise Conflict("device-revoked", f"device {device_id} is revoked already")
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(devices).where(devices.c.id == device_id, devices.c.status != "revoked")
                .values(status="revoked", revoked_at=self.clock(), revoked_by=by)
            )
        if done.rowcount != 1:
            raise Conflict("device-revoked", f"device {device_id} is revoked already")
        self._seen.pop(device_id, None)
        return await self.get(hall, device_id)

    async def by_token(self, token: str) -> Device | None:
        """The approved device holding this token (None for an unknown or revoked one); notes when it was seen."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(devices).where(devices.c.token_sha256 == _digest(token)))).first()
        if row is None or row.status != "approved":
            return None
        device = Device.of(row)
        now = self.clock()
        if now - self._seen.get(device.id, 0.0) >= self.SEEN_EVERY_S:
            self._seen[device.id] = now
            async with self.engine.begin() as conn:
                await conn.execute(update(devices).where(devices.c.id == device.id).values(last_seen=now))
        return device

    async def seen(self, device_ids: set[str]) -> None:
        """Devices whose websockets are open are alive: note it (their requests may be rare)."""
        if device_ids:
            now = self.clock()
            async with self.engine.begin() as conn:
                await conn.execute(update(devices).where(devices.c.id.in_(sorted(device_ids))).values(last_seen=now))

    async def revoked_among(self, device_ids: set[str]) -> set[str]:
        """Which of these devices are no longer approved (revoked on this or another worker)."""
        if not device_ids:
            return set()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(devices.c.id).where(and_(devices.c.id.in_(sorted(device_ids)), devices.c.status != "approved"))
            )).scalars()
            return set(rows)
