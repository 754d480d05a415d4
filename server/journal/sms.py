"""The SMS outbox, stored beside the journal: the phone numbers still needed (encrypted), and the
messages queued, sent or given up (server/hall/sms.py drives them, server/domain/sms.py decides).

A phone number is stored only here, encrypted with AES-GCM under a key derived from the server's
phone secret and bound to its row (hall and subject), and deleted as soon as no message may
still be due. A message's key (kind and subject) is its primary key with the hall: it is queued
once. Same SQLAlchemy Core tables on SQLite and PostgreSQL; created by the migrations (0003).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Date, Index, Integer, String, Table, Text, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from . import metadata

sms_contacts = Table(
    "sms_contacts",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("subject", String(80), primary_key=True),  # "booking:<code>" or "ticket:<ticket id>"
    Column("day", Date, nullable=False),  # the booking's slot day or the ticket's day: gone after it
    Column("phone", Text, nullable=False),  # AES-GCM: nonce and ciphertext, base64
    Column("added_at", String(40), nullable=False),
)

sms_messages = Table(
    "sms_messages",
    metadata,
    Column("hall", String(40), primary_key=True),
    Column("key", String(100), primary_key=True),  # kind:subject (server/domain/sms.py)
    Column("subject", String(80), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(10), nullable=False),  # pending | sent | failed | dropped (opted out, number gone)
    Column("attempts", Integer, nullable=False),
    Column("next_at", String(40), nullable=True),
    Column("last_error", String(200), nullable=False),
    Column("queued_at", String(40), nullable=False),
    Column("sent_at", String(40), nullable=True),
    Index("ix_sms_messages_state", "hall", "state", "queued_at"),
)


class PhoneBox:
    """Encrypts a phone number for one row; a row's ciphertext does not open under another row's name."""

    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(hmac.new(secret, b"hallq sms phone numbers", hashlib.sha256).digest())

    def seal(self, phone: str, hall: str, subject: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, phone.encode(), f"{hall}|{subject}".encode())).decode()

    def open(self, sealed: str, hall: str, subject: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], f"{hall}|{subject}".encode()).decode()


@dataclass(frozen=True, slots=True)
class Contact:
    subject: str
    day: date


@dataclass(frozen=True, slots=True)
class Message:
    hall: str
    key: str
    subject: str
    kind: str
    text: str
    state: str
    attempts: int
    next_at: datetime | None
    last_error: str
    queued_at: str
    sent_at: str | None


class SmsStore:
    def __init__(self, engine: AsyncEngine, secret: bytes) -> None:
        self.engine = engine
        self.box = PhoneBox(secret)

    # -- phone numbers -----------------------------------------------------------------------
    async def remember(self, hall: str, subject: str, day: date, phone: str, at: str) -> None:
        c = sms_contacts
        sealed = self.box.seal(phone, hall, subject)
        async with self.engine.begin() as conn:
            await conn.execute(delete(c).where(c.c.hall == hall, c.c.subject == subject))
            await conn.execute(insert(c).values(hall=hall, subject=subject, day=day, phone=sealed, added_at=at))

    async def contacts(self, hall: str) -> list[Contact]:
        c = sms_contacts
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(c.c.subject, c.c.day).where(c.c.hall == hall).order_by(c.c.subject))).all()
        return [Contact(s, d) for s, d in rows]

    async def phone(self, hall: str, subject: str) -> str | None:
        c = sms_contacts
        async with self.engine.connect() as conn:
            sealed = (await conn.execute(select(c.c.phone).where(c.c.hall == hall, c.c.subject == subject))).scalar()
        return None if sealed is None else self.box.open(sealed, hall, subject)

    async def forget(self, hall: str, subjects: list[str], drop_pending: bool = False) -> None:
        """Delete these phone numbers (and, on opt-out, the messages still waiting for them)."""
        if not subjects:
            return
        c, m = sms_contacts, sms_messages
        async with self.engine.begin() as conn:
            await conn.execute(delete(c).where(c.c.hall == hall, c.c.subject.in_(subjects)))
            if drop_pending:
                await conn.execute(update(m).where(m.c.hall == hall, m.c.subject.in_(subjects), m.c.state == "pending")
                                   .values(state="dropped", next_at=None))

    # -- messages ----------------------------------------------------------------------------
    async def queued(self, hall: str) -> dict[str, frozenset[str]]:
        """The kinds queued or sent (in any state) per subject."""
        m = sms_messages
        found: dict[str, set[str]] = {}
        async with self.engine.connect() as conn:
            for subject, kind in await conn.execute(select(m.c.subject, m.c.kind).where(m.c.hall == hall)):
                found.setdefault(subject, set()).add(kind)
        return {s: frozenset(k) for s, k in found.items()}

    async def queue(self, hall: str, subject: str, kind: str, text: str, at: str) -> bool:
        m = sms_messages
        k = f"{kind}:{subject}"
        async with self.engine.begin() as conn:
            if (await conn.execute(select(m.c.key).where(m.c.hall == hall, m.c.key == k))).first():
                return False
            await conn.execute(insert(m).values(hall=hall, key=k, subject=subject, kind=kind, text=text, state="pending",
                                                attempts=0, next_at=None, last_error="", queued_at=at, sent_at=None))
        return True

    async def pending(self, hall: str) -> list[Message]:
        m = sms_messages
        query = select(m).where(m.c.hall == hall, m.c.state == "pending").order_by(m.c.queued_at, m.c.key)
        async with self.engine.connect() as conn:
            return [_message(r) for r in (await conn.execute(query)).all()]

    async def record_attempt(self, msg: Message, state: str, error: str, next_at: datetime | None, sent_at: str | None) -> None:
        m = sms_messages
        async with self.engine.begin() as conn:
            await conn.execute(update(m).where(m.c.hall == msg.hall, m.c.key == msg.key, m.c.state == "pending").values(
                state=state, attempts=msg.attempts + 1, last_error=error[:200],
                next_at=next_at.isoformat() if next_at else None, sent_at=sent_at))

    async def counts(self, hall: str) -> dict[str, int]:
        m = sms_messages
        async with self.engine.connect() as conn:
            found = dict((await conn.execute(select(m.c.state, func.count()).where(m.c.hall == hall).group_by(m.c.state))).all())
        return {s: int(found.get(s, 0)) for s in ("pending", "sent", "failed", "dropped")}


def _message(r) -> Message:  # type: ignore[no-untyped-def]
    return Message(r.hall, r.key, r.subject, r.kind, r.text, r.state, r.attempts,
                   datetime.fromisoformat(r.next_at) if r.next_at else None, r.last_error, r.queued_at, r.sent_at)
