"""The screens' call audio: the chime and espeak-ng's spoken calls, for any number the hall makes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from display.voice import ESPEAK_SPEED, ESPEAK_VOICE, SpeechCache
from server.domain.announce import announcement
from tests.halls import small_catalog

ADMIN = "/api/v1/halls/t/admin"
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


def digest(wav: bytes | None) -> str:
    return hashlib.sha256(wav or b"").hexdigest()[:16]


def espeak_wav(folder: Path, *args: str) -> str:
    """The digest of what espeak-ng itself makes of these arguments, with the server's voice and speed."""
    out = folder / "expected.wav"
    subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED), "-w", str(out), *args], check=True,
                   capture_output=True, timeout=30)
    return digest(out.read_bytes())


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A server file a call must never read aloud."""
    path = tmp_path / "secret.txt"
    path.write_text("hallq secret one two three four five six\n", encoding="utf-8")
    return path


@needs_espeak
async def test_text_that_looks_like_an_option_is_spoken_as_text_never_obeyed(tmp_path, secret):
    """A window named "-f/some/file" (or any text with a leading dash) reaches the engine as text:
    the WAV is espeak-ng saying those characters, not espeak-ng reading the file."""
    text = f"-f{secret}"
    wav = await SpeechCache().wav(text)
    assert wav is not None and wav[:4] == b"RIFF"
    assert digest(wav) != espeak_wav(tmp_path, "-f", str(secret)), "the engine read the file"
    assert digest(wav) == espeak_wav(tmp_path, "--", text)


@needs_espeak
async def test_a_manager_cannot_make_a_call_read_a_server_file(client, login, tmp_path, secret):
    """The template a manager edits is refused when it would be an option; whatever happens, the
    public WAV of a call is never the engine reading the file."""
    h = await login("boss")
    doc = await (await client.get(ADMIN + "/catalog", headers=h)).json()
    hall = doc["document"]["hall"]
    await client.post(ADMIN + "/catalog", json={"base_rev": 0, "hall": {**hall, "voice": {**hall["voice"], "template": f"-f{secret}"}}},
                      headers=h)
    r = await client.get("/display/t/calls/A001/w1.wav")
    assert r.status == 200, await r.text()
    wav = await r.read()
    assert digest(wav) != espeak_wav(tmp_path, "-f", str(secret)), "the call read the file"
    assert digest(wav) == espeak_wav(tmp_path, "--", announcement(small_catalog(), "A001", "w1")["speech"])


@pytest.mark.parametrize(
    "template",
    [
        "-f/etc/passwd",
        "  --stdin {number}",
        "-w /tmp/x.wav 请 {number} 号",
        "请 {number.__class__} 号",
        "请 {number:>99999999} 号",
        "请 {number!r} 号",
        "请 {0} 号 到 {window}",
        "请 {ticket} 号",
        "请 {number} 号\x00到 {window}",
        "请 {number} 号\n到 {window}",
        "请" * 200 + " {number}",
        "",
    ],
    ids=["file-option", "leading-space-dash", "output-option", "attribute", "huge-width", "conversion", "positional",
         "unknown-name", "nul", "newline", "too-long", "empty"],
)
async def test_a_voice_template_that_is_not_plain_text_with_the_two_places_is_refused(client, login, template):
    h = await login("boss")
    doc = await (await client.get(ADMIN + "/catalog", headers=h)).json()
    hall = doc["document"]["hall"]
    for dry_run in (True, False):
        r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "dry_run": dry_run,
                                                        "hall": {**hall, "voice": {**hall["voice"], "template": template}}}, headers=h)
        assert r.status == 422, await r.text()
        assert r.content_type == "application/problem+json"
        assert "hall.voice.template" in [e["field"] for e in (await r.json())["errors"]]
    after = await (await client.get(ADMIN + "/catalog", headers=h)).json()
    assert after["rev"] == 0 and after["document"] == doc["document"] and len(after["revisions"]) == 1
