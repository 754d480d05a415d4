"""A GA 467 ID-card reader simulated on a pseudo-terminal: the one outside double of the card tests.

`SimulatedReader().port` is the pty's slave path, which the driver opens as its serial port; the
thread answers the protocol's frames on the master side. Put a card with `card = "…"` (18
characters), take it away with `card = None`. The text it sends is a real card's layout (UCS-2:
name, sex, nation, birth, address, number …) and a photo of 1024 bytes, so the driver is seen to
pick out the number alone.
"""

from __future__ import annotations

import os
import select
import threading
import tty

from kiosk.cardreader import FIND, PREAMBLE, READ, SELECT, answer_frame, xor

NAME, ADDRESS = "张三丰", "北京市东城区景山前街4号"


def card_text(number: str) -> bytes:
    def field(text: str, size: int) -> bytes:
        return text.encode("utf-16-le").ljust(size, " ".encode("utf-16-le")[:1])[:size]

    return (field(NAME, 30) + field("1", 2) + field("01", 4) + field(number[6:14], 16) + field(ADDRESS, 70)
            + field(number, 36) + field("北京市公安局东城分局", 30) + field("20200101", 16) + field("20400101", 16) + field("", 36))


class SimulatedReader:
    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.card: str | None = None
        self.frames: list[tuple[int, int]] = []  # the commands it was sent
        self.bad_checksum = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self._slave)

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n and not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                out += os.read(self.master, n - len(out))
        return out

    def _serve(self) -> None:
        while not self._stop.is_set():
            head = self._read(7)
            if len(head) < 7:
                continue
            assert head[:5] == PREAMBLE, head
            body = self._read(int.from_bytes(head[5:7], "big"))
            assert xor(head[5:7] + body[:-1]) == body[-1], "the driver's check byte is wrong"
            cmd = (body[0], body[1])
            self.frames.append(cmd)
            os.write(self.master, self._answer(cmd))

    def _answer(self, cmd: tuple[int, int]) -> bytes:
        card = self.card
        if cmd == FIND:
            return answer_frame(0x9F if card else 0x80, b"\x00" * 4)
        if cmd == SELECT:
            return answer_frame(0x90 if card else 0x81, b"\x00" * 8)
        if cmd == READ and card:
            text, photo = card_text(card), bytes(range(256)) * 4
            out = answer_frame(0x90, len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo)
            return out[:-1] + bytes([out[-1] ^ 0xFF]) if self.bad_checksum else out
        return answer_frame(0x41)
