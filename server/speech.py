"""Speech made on the server by espeak-ng's Mandarin voice (`apt-get install espeak-ng`), for
pages whose browser has no Chinese voice: the lobby's calls and the kiosk's read-aloud (适老化).
Only text the server composes is spoken (calls, the hall's own words), never text a client sends.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path

ESPEAK_VOICE = "cmn-latn-pinyin"  # the plain `cmn` voice reads 请 and 号 in the wrong tone
ESPEAK_SPEED = 150  # words a minute


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
