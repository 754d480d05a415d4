"""The screens' call audio: the chime and espeak-ng's spoken calls, for any number the hall makes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from display.voice import ESPEAK_VOICE
from server.domain.announce import announcement
from tests.halls import small_catalog

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng (apt-get install espeak-ng)")


async def test_the_chime_is_a_wav(client):
    r = await client.get("/display/chime.wav")
    assert r.status == 200 and r.content_type == "audio/wav"
    body = await r.read()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 10_000


@needs_espeak
@pytest.mark.parametrize("number", ["A012", "YA001", "MA1000", "B10000"])
async def test_a_call_with_any_number_the_hall_makes_is_spoken(client, number):
    r = await client.get(f"/display/t/calls/{number}/w1.wav")
    assert r.status == 200, await r.text()
    body = await r.read()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 10_000


@pytest.mark.parametrize("number", ["a012", "ABC001", "A01", "A012;rm", "好001"])
async def test_anything_but_a_ticket_number_is_refused(client, number):
    r = await client.get(f"/display/t/calls/{number}/w1.wav")
    assert r.status == 422 and (await r.json())["type"] == "urn:hallq:problem:bad-number"


@needs_espeak
def test_espeak_reads_the_letters_of_a_two_letter_prefix_by_name():
    """Joined, "YA" is the syllable ya and "EA" is e; spaced, each is its letter's name."""

    def phonemes(text: str) -> str:
        return subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE, "-x", "-q", text], capture_output=True, text=True,
                              check=True).stdout

    ya = phonemes(announcement(small_catalog(), "YA001", "w1")["speech"])
    assert "w'uai51" in ya and "'ei51" in ya and "jiA" not in ya  # Y (wai) A (ei), not ya
    ea = phonemes(announcement(small_catalog(), "EA001", "w1")["speech"])
    assert "j'i51_| 'ei51" in ea  # E (yi) then A (ei)
