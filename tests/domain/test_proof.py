"""The proof-of-work rule in the pure core: counting zero bits, checking answers, escalating per address."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from server.domain.proof import MAX_EXTRA_BITS, escalated_bits, leading_zero_bits, solves


@given(st.binary(min_size=32, max_size=32))
def test_leading_zero_bits_counts_as_the_binary_string_does(digest):
    as_text = "".join(f"{b:08b}" for b in digest)
    assert leading_zero_bits(digest) == len(as_text) - len(as_text.lstrip("0"))


def test_an_answer_solves_only_its_own_challenge_at_its_difficulty():
    challenge = "v1.t.1764032400.8.00ff.abcd"
    answer = next(str(n) for n in range(100_000) if solves(challenge, str(n), 8))
    assert leading_zero_bits(hashlib.sha256(f"{challenge}:{answer}".encode()).digest()) >= 8
    assert not solves(challenge + "0", answer, 8) or not solves(challenge + "1", answer, 8)
    assert solves(challenge, "anything", 0)


def test_difficulty_rises_with_an_addresses_asking_and_stops_at_the_cap():
    assert [escalated_bits(15, n) for n in (1, 7, 8, 16, 32, 64, 10**6)] == [15, 15, 16, 17, 18, 19, 15 + MAX_EXTRA_BITS]
    assert MAX_EXTRA_BITS == 4 and escalated_bits(0, 10**6) == 0  # a hall without the check stays without it
