"""Call audio made on the server, for screens whose browser has no Chinese voice.

A chime (two soft tones) is synthesised with the standard library. Speech comes from
espeak-ng's Mandarin voice when it is installed (`apt-get install espeak-ng`); without it a
screen plays the chime alone and shows the call.
"""

from __future__ import annotations

import asyncio
import io
import math
import shutil
import struct
import tempfile
import wave
from collections import OrderedDict
from functools import cache
from pathlib import Path

RATE = 22050
ESPEAK_VOICE = "cmn-latn-pinyin"  # the plain `cmn` voice reads 请 and 号 in the wrong tone
ESPEAK_SPEED = 150  # words a minute


@cache
def chime() -> bytes:
    """A two-note 叮咚 chime as a 16-bit mono WAV."""
    frames = bytearray()
    for freq, seconds in ((880.0, 0.35), (659.25, 0.55)):
        n = int(RATE * seconds)
        for i in range(n):
            envelope = math.exp(-3.0 * i / n) * min(1.0, i / (RATE * 0.01))
            sample = 0.45 * envelope * (math.sin(2 * math.pi * freq * i / RATE) + 0.3 * math.sin(4 * math.pi * freq * i / RATE))
            frames += struct.pack("<h", int(max(-1.0, min(1.0, sample)) * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def espeak() -> str | None:
    return shutil.which("espeak-ng")


class SpeechCache:
    """WAVs of recent announcements, made once each by espeak-ng (about 20 ms a sentence)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = asyncio.Lock()

    async def wav(self, text: str) -> bytes | None:
        if text in self._items:
            self._items.move_to_end(text)
            return self._items[text]
        binary = espeak()
        if binary is None:
            return None
        async with self._lock:
            data = await _speak(binary, text)
        if data is None:
            return None
        self._items[text] = data
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return data


async def _speak(binary: str, text: str) -> bytes | None:
    """espeak-ng's WAV of `text`. The text goes in on standard input, never in the arguments:
    there a hall's words ("-f/etc/passwd", from a template or a window's name) would be options."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "call.wav"
        proc = await asyncio.create_subprocess_exec(
            binary, "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED), "-w", str(out), "--stdin",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(proc.communicate(text.encode("utf-8")), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        if proc.returncode != 0 or not out.exists():
            return None
        return out.read_bytes()
