"""A ticket printer on a loopback TCP port: records every byte, answers status from a fake paper sensor."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct

DLE_EOT = b"\x10\x04"
CUT = b"\x1dV"  # GS V: the paper cut ends every ticket


class FakePrinter:
    """Speaks just enough ESC/POS: DLE EOT 1/2/4 are answered, everything is recorded.

    `hang_up` makes it accept a connection and then drop it: "mid-job" once it has taken `keep`
    bytes of a ticket, keeping only those, with a reset (as a printer that reboots or loses its
    link does); "after-cut" as soon as a ticket's cut has arrived, closing before it answers the
    status query that follows. Its receive buffer is small, like a printer's, so the rest of a
    long ticket is still on its way when it hangs up mid-job."""

    RECEIVE_BUFFER = 4096

    def __init__(self, port: int) -> None:
        self.port = port
        self.received = bytearray()
        self.paper = "ok"  # ok | low | out: what the paper roll sensor says
        self.hang_up: str | None = None  # None | "mid-job" | "after-cut"
        self.keep = 1024
        self.hung_up = 0  # connections dropped by hang_up
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.got_data = asyncio.Event()

    async def start(self) -> FakePrinter:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RECEIVE_BUFFER)  # inherited by accepted sockets
        sock.bind(("127.0.0.1", self.port))
        self._server = await asyncio.start_server(self._serve, sock=sock)
        return self

    async def stop(self) -> None:
        """Switch the printer off: the port is closed and open connections are cut."""
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def _answer(self, n: int) -> bytes:
        if n == 1:  # printer status: bit 3 = offline
            return b"\x1a" if self.paper == "out" else b"\x12"
        if n == 2:  # offline cause: bit 5 = stopped for paper end
            return b"\x32" if self.paper == "out" else b"\x12"
        if n == 4:  # paper roll sensor: bits 2-3 near end, bits 5-6 paper end
            return {"ok": b"\x12", "low": b"\x1e", "out": b"\x72"}[self.paper]
        return b"\x12"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        job = 0  # bytes of tickets (not status queries) on this connection
        try:
            while chunk := await reader.read(65536):
                printed = re.sub(rb"\x10\x04[\x01-\x04]", b"", chunk)
                if self.hang_up == "mid-job" and job + len(printed) >= self.keep:
                    self.received += chunk[: self.keep - job]  # the chunk is all ticket bytes by then
                    self._reset(writer)
                    return
                self.received += chunk
                job += len(printed)
                if len(chunk) > 3:
                    self.got_data.set()
                if self.hang_up == "after-cut" and CUT in printed:
                    self.hung_up += 1
                    return  # closed (finally), after reading the whole ticket
                m = re.search(rb"\x10\x04([\x01-\x04])$", chunk)
                if m:
                    writer.write(self._answer(m.group(1)[0]))
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        """Drop the connection with a reset, what is unread thrown away."""
        self.hung_up += 1
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    @property
    def data(self) -> bytes:
        """What was printed, without the status queries."""
        return re.sub(rb"\x10\x04[\x01-\x04]", b"", bytes(self.received))

    @property
    def cuts(self) -> int:
        return self.data.count(CUT)

    async def wait_for_cuts(self, n: int, timeout: float = 5.0) -> None:
        async def _wait() -> None:
            while self.cuts < n:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(_wait(), timeout)


def qr_payloads(data: bytes) -> list[bytes]:
    """Contents of the native QR codes (GS ( k, function 80: store the data) in printer bytes."""
    out = []
    for m in re.finditer(rb"\x1d\(k(..)1P0", data, re.S):
        length = m.group(1)[0] + 256 * m.group(1)[1] - 3
        out.append(data[m.end(): m.end() + length])
    return out
