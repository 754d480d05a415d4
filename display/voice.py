"""Call audio made on the server, for screens whose browser has no Chinese voice.

A chime (two soft tones) is synthesised with the standard library. Speech comes from
espeak-ng's Mandarin voice when it is installed (`apt-get install espeak-ng`); without it a
screen plays the chime alone and shows the call.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

from server.speech import ESPEAK_SPEED, ESPEAK_VOICE, SpeechCache, espeak

__all__ = ["ESPEAK_SPEED", "ESPEAK_VOICE", "RATE", "SpeechCache", "chime", "espeak"]

RATE = 22050


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
