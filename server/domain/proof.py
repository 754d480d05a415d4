"""Proof of work (工作量证明): what a phone's page must compute before a booking or an online
number counts, when no SMS gateway can send the phone a one-time code. Pure.

The server hands out a challenge; the answer is any text such that SHA-256 of
"challenge:answer" (UTF-8) starts with `bits` zero bits. A person's phone finds it once in
about a second; a script that books hundreds of times pays for every one of them, and more
the more it asks from one address (`escalated_bits`).
"""

from __future__ import annotations

import hashlib
import math

# Answers are short decimal counters: a longer one is no honest answer, and hashing it costs us.
ANSWER_PATTERN = r"^[0-9]{1,16}$"
MAX_EXTRA_BITS = 4
FREE_PER_HOUR = 4


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solves(challenge: str, answer: str, bits: int) -> bool:
    """Whether `answer` is a solution of `challenge` at this difficulty."""
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{answer}".encode()).digest()) >= bits


def escalated_bits(base: int, asked_this_hour: int) -> int:
    """The difficulty for an address that has asked this many challenges this hour (this one
    included): the hall's own for the first few, then one more bit each time the count doubles,
    so a person booking for a family never notices and a script's 64th booking costs 16 times
    its first. Capped at 16 times, so that the people behind a carrier's shared address (CGNAT)
    with a script among them still book, if slowly."""
    if base <= 0:
        return 0
    if asked_this_hour < 2 * FREE_PER_HOUR:
        return base
    return base + min(MAX_EXTRA_BITS, int(math.log2(asked_this_hour / FREE_PER_HOUR)))
