"""Proof-of-work challenges that need no storage: signed, time-limited, single-use in memory.

A challenge is `v1.{hall}.{expires}.{bits}.{nonce}.{signature}`, the signature an HMAC-SHA256
over the rest with a key derived from the server's secret, so any worker sharing the secret
can check it and nobody can mint an easier one. A redeemed challenge is remembered until it
expires, so one solution buys one booking (per process: see SECURITY.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.errors import Conflict, Forbidden
from ..domain.proof import escalated_bits, solves

HOUR_S = 3600.0
MAX_REMEMBERED = 200_000


@dataclass(frozen=True, slots=True)
class Challenge:
    text: str
    bits: int
    expires_at: float


class Challenges:
    """Issue and redeem challenges for every hall of this process."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = hmac.new(secret, b"hallq proof-of-work challenges", hashlib.sha256).digest()
        self.clock = clock
        self._used: dict[str, float] = {}  # signature -> expiry
        self._asked: dict[str, tuple[int, float]] = {}  # address -> (challenges this hour, hour began)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def _asked_this_hour(self, address: str, now: float) -> int:
        count, began = self._asked.get(address, (0, now))
        if now - began >= HOUR_S:
            count, began = 0, now
        self._asked[address] = (count + 1, began)
        if len(self._asked) > 50_000:  # forget past hours, so the table stays small
            self._asked = {a: v for a, v in self._asked.items() if now - v[1] < HOUR_S}
        return count + 1

    def issue(self, hall: str, base_bits: int, ttl_s: float, address: str) -> Challenge:
        now = self.clock()
        bits = escalated_bits(base_bits, self._asked_this_hour(address, now))
        expires = int(now + ttl_s)
        payload = f"v1.{hall}.{expires}.{bits}.{secrets.token_hex(16)}"
        return Challenge(f"{payload}.{self._sign(payload)}", bits, expires)

    def redeem(self, hall: str, challenge: str, answer: str) -> None:
        """Accept a solved challenge of this hall once, or say why not."""
        parts = challenge.split(".")
        if len(parts) != 6 or parts[0] != "v1" or parts[1] != hall or not parts[2].isdigit() or not parts[3].isdigit():
            raise Forbidden("proof-invalid", "this is not a challenge of this hall: ask for a new one")
        payload, signature = challenge.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload), signature):
            raise Forbidden("proof-invalid", "this is not a challenge of this hall: ask for a new one")
        now = self.clock()
        if int(parts[2]) < now:
            raise Forbidden("proof-expired", "the challenge has expired: ask for a new one")
        if not solves(challenge, answer, int(parts[3])):
            raise Forbidden("proof-invalid", "the answer does not solve the challenge")
        if signature in self._used:
            raise Conflict("proof-used", "this challenge has been used already: ask for a new one")
        if len(self._used) > MAX_REMEMBERED:
            self._used = {s: e for s, e in self._used.items() if e >= now}
        self._used[signature] = float(parts[2])
