"""ID-card readers on the kiosk PC (刷身份证取号): drivers that give the print agent a card's number.

Standard library and pyserial only. Two kinds of reader:

- `GA467Reader`: readers that speak the serial protocol of GA 467 (the SAM module's interface
  for second-generation ID cards; most desk readers over RS-232 or a USB serial port). Each
  command frame is `AA AA AA 96 69`, a two-byte length (big-endian, counting what follows), the
  command and its parameter, data, and an XOR check byte over the length through the data; an
  answer has the same preamble and length, three status bytes SW1 SW2 SW3 (90: done, 9F: a
  card found), data and the check byte. The driver finds the card (20 01), selects it (20 02)
  and reads its fixed information (30 01), whose text part is UCS-2: of it only the 36 bytes
  of the citizen ID number are decoded; the name, address and the photo that come with the
  same answer are never decoded and the buffer is dropped at once. A card that stays on the
  reader is read once: the next read needs it taken away and put back.
- `WedgeReader`: readers that type the number as a keyboard would (18 characters and Enter),
  read from the character device they type into (their serial/CDC mode, or a tty).

Neither logs a number: `masked` is what a log line may show. The number is checked properly
(GB 11643) by the server, which keeps only a keyed hash of it (server/api/cards.py).
"""

from __future__ import annotations

import os
import re
import select
import time
from typing import Protocol

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
FIND, SELECT, READ = (0x20, 0x01), (0x20, 0x02), (0x30, 0x01)
SW_OK, SW_FOUND = 0x90, 0x9F
TEXT_ID_NUMBER = slice(122, 158)  # name 30, sex 2, nation 4, birth 16, address 70 bytes come before it
SHAPE = re.compile(r"^\d{17}[\dX]$")


def masked(number: str) -> str:
    return f"{number[:3]}{'*' * max(0, len(number) - 5)}{number[-2:]}" if len(number) > 5 else "*" * len(number)


def xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def frame(cmd: int, para: int, data: bytes = b"") -> bytes:
    """A command frame of GA 467."""
    body = bytes([cmd, para]) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def answer_frame(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """An answer frame of GA 467 (what a reader sends; the test's simulated reader uses it too)."""
    body = bytes([sw1, sw2, sw3]) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


class ReaderFault(Exception):
    """The reader is away, or answered what the protocol does not allow."""


class CardReader(Protocol):
    def read(self, timeout: float) -> str | None:
        """The next card's number (18 characters), or None if none came within `timeout` seconds."""

    def close(self) -> None: ...


class GA467Reader:
    POLL_S = 0.2

    def __init__(self, port: str, baudrate: int = 115200, timeout: float = 1.0) -> None:
        import serial  # pyserial: only a kiosk with a serial reader needs it

        self.port = serial.serial_for_url(port, baudrate=baudrate, timeout=timeout)
        self._present = False  # the last card is still on the reader

    def close(self) -> None:
        self.port.close()

    def _exchange(self, cmd: tuple[int, int]) -> tuple[int, bytes]:
        self.port.reset_input_buffer()
        self.port.write(frame(*cmd))
        self.port.flush()
        head = self._exact(7)
        if head[:5] != PREAMBLE:
            raise ReaderFault("the reader's answer does not begin with the GA 467 preamble")
        length = int.from_bytes(head[5:7], "big")
        if not 4 <= length <= 4096:
            raise ReaderFault(f"an answer of {length} bytes is not one of GA 467")
        rest = self._exact(length)
        if xor(head[5:7] + rest[:-1]) != rest[-1]:
            raise ReaderFault("the answer's check byte is wrong")
        return rest[2], rest[3:-1]

    def _exact(self, n: int) -> bytes:
        got = self.port.read(n)
        if len(got) != n:
            raise ReaderFault("the reader did not answer in time")
        return got

    def poll(self) -> str | None:
        """One look: the number of a card newly put on the reader, else None."""
        sw3, _ = self._exchange(FIND)
        if sw3 != SW_FOUND:
            self._present = False
            return None
        if self._present:
            return None  # still the card read before
        sw3, _ = self._exchange(SELECT)
        if sw3 != SW_OK:
            return None
        sw3, data = self._exchange(READ)
        if sw3 != SW_OK or len(data) < 4 + TEXT_ID_NUMBER.stop:
            return None
        number = data[4:][TEXT_ID_NUMBER].decode("utf-16-le", errors="replace").strip().upper()
        del data  # the rest of the card (name, address, photo) is never decoded
        if not SHAPE.match(number):
            return None
        self._present = True
        return number

    def read(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            number = self.poll()
            if number is not None:
                return number
            if time.monotonic() >= deadline:
                return None
            time.sleep(self.POLL_S)


class WedgeReader:
    """Characters as typed: a number is 18 characters of its shape ended by Enter, typed faster
    than a person types (`max_gap_s` between keys); anything else is dropped."""

    def __init__(self, fd: int, max_gap_s: float = 0.2) -> None:
        self.fd = fd
        self.max_gap_s = max_gap_s
        self._buffer = ""
        self._last = 0.0

    @classmethod
    def open(cls, path: str, max_gap_s: float = 0.2) -> WedgeReader:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
        if os.isatty(fd):
            import tty

            tty.setraw(fd)
        return cls(fd, max_gap_s)

    def close(self) -> None:
        os.close(self.fd)

    def read(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 64).decode("ascii", errors="replace")
            if not chunk:
                raise ReaderFault("the reader is gone")
            now = time.monotonic()
            for ch in chunk:
                if self._buffer and now - self._last > self.max_gap_s:
                    self._buffer = ""  # a pause: a person typing, or a broken read
                self._last = now
                if ch in "\r\n":
                    number, self._buffer = self._buffer.upper(), ""
                    if SHAPE.match(number):
                        return number
                elif len(self._buffer) < 32:
                    self._buffer += ch
        return None


def open_reader(spec: str) -> CardReader:
    """`serial:PORT[@BAUD]` (GA 467) or `wedge:PATH` (a reader that types)."""
    kind, _, where = spec.partition(":")
    if kind == "serial" and where:
        port, _, baud = where.partition("@")
        return GA467Reader(port, int(baud or 115200))
    if kind == "wedge" and where:
        return WedgeReader.open(where)
    raise ValueError(f"{spec!r}: a card reader is serial:PORT[@BAUD] or wedge:PATH")
