"""Ticket printers as devices: send bytes, ask for the printer's state, name its faults.

Network printers (raw TCP, port 9100) are driven with asyncio; USB and serial printers go
through python-escpos in a thread (they need pyusb / pyserial on the kiosk PC); a file printer
appends to a path (a device such as /dev/usb/lp0, or a plain file for trials); a printer
installed in the operating system gets a raw job through the Windows spooler (`win32raw`,
pywin32) or CUPS (`cups`, the `lp` command). Before and after
a ticket, a printer that answers the ESC/POS real-time status query (DLE EOT) says whether it
is offline, out of paper or open; one that does not answer is printed to all the same, whatever
its link.

A fault says whether any of the ticket's bytes had gone to the printer (`sent`): before that,
nothing came out and the job may be printed again; after it, part of the ticket (or all of it)
may have come out, so only a person decides to print it again. Once every byte, the cut
included, has gone, the ticket counts as printed even when the status check after it fails.

Light on purpose: the print agent of a kiosk PC imports this module with nothing of the server
(only the standard library here; python-escpos, pyusb, pyserial, pywin32 inside the drivers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType
import socket
import struct
import time
from dataclasses import dataclass
from typing import Literal, get_args

from typing import Protocol

log = logging.getLogger("hallq.printer")

State = Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "error", "unknown"]

STATES: tuple[str, ...] = get_args(State)
KINDS = ("network", "usb", "serial", "file", "win32raw", "cups", "none")


class Printer(Protocol):
    """What a driver needs of a printer: the catalogue's `Printer` model (the server's kiosks.yaml)
    and the agent's `Spec` (its --printer) both have it."""

    @property
    def kind(self) -> str: ...

    @property
    def address(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Spec:
    """A printer named on the kiosk PC's command line, or sent by the server in the agent's hello."""

    kind: str
    address: str = ""


_ADDRESS = {
    "network": re.compile(r"^[^\s:]+(:\d{1,5})?$|^\[[0-9A-Fa-f:]+\](:\d{1,5})?$"),
    "usb": re.compile(r"^(0x)?[0-9a-fA-F]{1,4}:(0x)?[0-9a-fA-F]{1,4}$"),
    "serial": re.compile(r"^[^@\s]+(@\d{3,7})?$"),
    "file": re.compile(r"^[^\x00-\x1f]+$"),
    "win32raw": re.compile(r"^[^\x00-\x1f]{1,220}$"),  # the name Windows lists, or \\server\share
    "cups": re.compile(r"^[A-Za-z0-9_.-]{1,127}(@[A-Za-z0-9_.:-]{1,253})?$"),
}


def parse_spec(text: str) -> Spec:
    """`network:host[:port]`, `usb:vendor:product`, `serial:device[@baud]`, `file:path`,
    `win32raw:printer name` (as Windows lists it), `cups:queue[@host]`;
    ValueError says what is wrong."""
    kind, _, address = text.partition(":")
    if kind not in KINDS or kind == "none":
        raise ValueError(f"{kind!r} is not a printer kind: {', '.join(k for k in KINDS if k != 'none')}")
    pattern = _ADDRESS[kind]
    if not address.strip() or not pattern.match(address):
        raise ValueError(f"{address!r} is not the address of a {kind} printer")
    if kind == "network":
        port = address.rpartition(":")[2] if ":" in address.rstrip("]") and not address.endswith("]") else "9100"
        if not 0 < int(port) < 65536:
            raise ValueError(f"{address!r}: the port is 1 to 65535")
    return Spec(kind, address)


@cache
def escpos() -> ModuleType:
    """python-escpos's printer module, imported without side effects on this process.

    On import it calls logging.basicConfig(), and it makes a temp folder for a pickle of its
    printer profiles in every process, even when ESCPOS_CAPABILITIES_PICKLE_DIR names one
    (the default argument of its environ.get is evaluated anyway). So: one folder reused by
    every process, named in the variable and handed to that mkdtemp call, and any handler it
    put on the root logger taken back.
    """
    folder = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
    if not folder:
        uid = os.getuid() if hasattr(os, "getuid") else "user"
        folder = str(Path(tempfile.gettempdir()) / f"hallq-escpos-{uid}")
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = folder
    Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    mkdtemp = tempfile.mkdtemp
    tempfile.mkdtemp = lambda *args, **kwargs: folder  # type: ignore[assignment]
    try:
        import escpos.printer as printer
    finally:
        tempfile.mkdtemp = mkdtemp
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
    return printer


DLE_EOT = b"\x10\x04"
STATUS_TIMEOUT_S = 0.8


class PrinterFault(Exception):
    """The ticket was not printed; `state` says why in one word, `detail` in a sentence, `sent`
    whether some of its bytes had reached the printer (then a part of it may have come out)."""

    def __init__(self, state: State, detail: str, sent: bool = False) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail
        self.sent = sent


@dataclass(frozen=True, slots=True)
class Status:
    state: State
    detail: str = ""
    warning: str = ""  # printed, with something a person should know (journalled with the print)


def decode_status(printer_byte: int | None, offline_cause: int | None, paper_byte: int | None) -> Status:
    """Read the answers to DLE EOT 1 (printer), 2 (offline cause) and 4 (paper roll sensor)."""
    if printer_byte is None:
        return Status("unknown", "the printer does not answer status queries")
    if paper_byte is not None and paper_byte & 0x60 == 0x60:
        return Status("paper_out", "the paper roll is empty")
    if printer_byte & 0x08:  # offline
        cause = offline_cause or 0
        if cause & 0x04:
            return Status("cover_open", "the printer's cover is open")
        if cause & 0x20:
            return Status("paper_out", "the printer stopped: no paper")
        return Status("error", "the printer is offline (error)")
    if paper_byte is not None and paper_byte & 0x0C == 0x0C:
        return Status("paper_low", "the paper roll is nearly empty")
    return Status("ok")


def host_port(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    return (host, int(port)) if sep else (address, 9100)


class _Link:
    """One connection to a network printer, counting what was written to it so that what its TCP
    stack acknowledged (taken into the printer's buffer) can be compared with it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.written = 1  # TCP counts the opening SYN as one byte acknowledged
        self._info: socket.socket | None = None
        raw = writer.get_extra_info("socket")
        if hasattr(socket, "TCP_INFO") and raw is not None:
            # A duplicate descriptor: the counters stay readable after asyncio closes a reset connection.
            with contextlib.suppress(OSError):
                self._info = socket.fromfd(raw.fileno(), raw.family, raw.type)

    async def send(self, data: bytes, timeout: float) -> None:
        self.writer.write(data)
        self.written += len(data)
        await asyncio.wait_for(self.writer.drain(), timeout)

    def _acked(self) -> tuple[int, int] | None:
        """(TCP state, bytes acknowledged) from Linux's tcp_info; None where it is not kept."""
        if self._info is None:
            return None
        try:
            info = self._info.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        except OSError:
            return None
        return (info[0], struct.unpack_from("Q", info, 120)[0]) if len(info) >= 128 else None

    async def taken(self, timeout: float) -> bool | None:
        """Whether the printer took every byte written: True, False (it hung up or stalled first),
        or None where the operating system cannot say."""
        deadline = time.monotonic() + timeout
        while (now := self._acked()) is not None:
            state, acked = now
            if acked >= self.written:
                return True
            if state not in TCP_OPEN or time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return None

    def close(self) -> None:
        if self._info is not None:
            self._info.close()


TCP_OPEN = (1, 8)  # ESTABLISHED, CLOSE_WAIT (the printer closed its side after reading)


async def _ask(link: _Link, n: int) -> int | None:
    await link.send(DLE_EOT + bytes([n]), STATUS_TIMEOUT_S)
    try:
        answer = await asyncio.wait_for(link.reader.read(1), STATUS_TIMEOUT_S)
    except asyncio.TimeoutError:
        return None
    if not answer:
        raise ConnectionResetError("the printer closed the connection")
    return answer[0]


async def _query(link: _Link) -> Status:
    printer = await _ask(link, 1)
    if printer is None:
        return decode_status(None, None, None)
    cause = await _ask(link, 2) if printer & 0x08 else None
    paper = await _ask(link, 4)
    return decode_status(printer, cause, paper)


def _refuse(status: Status) -> None:
    if status.state in ("paper_out", "cover_open", "error", "offline"):
        raise PrinterFault(status.state, status.detail)


def _printed(after: Status | Exception, where: str) -> Status:
    """The state after a ticket whose bytes, the cut included, all went to the printer (as far
    as the link can tell: a network printer acknowledged them, a USB or serial write returned)."""
    if isinstance(after, Exception):
        # It was printed: the printer hung up or went quiet after the cut, and printing it
        # again would give the citizen two tickets. Said in the log and in the ack's detail.
        log.warning("%s: printed, but the status check afterwards failed (%s)", where, after.__class__.__name__)
        why = f"the status check after the ticket failed ({after.__class__.__name__})"
        return Status("unknown", why, warning=f"printed; {why}")
    if after.state == "paper_out":
        raise PrinterFault("paper_out", "the paper ran out while printing: part of the ticket may have come out", sent=True)
    return after


async def _network(printer: Printer, data: bytes | None, timeout: float) -> Status:
    host, port = host_port(printer.address)
    where = f"the printer at {host}:{port}"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise PrinterFault("offline", f"cannot reach {where} ({exc.__class__.__name__})") from None
    # drain() waits only until less than 64 KiB is left to send by default; with no limit it
    # returns once every byte is with the operating system.
    writer.transport.set_write_buffer_limits(high=0)
    link = _Link(reader, writer)
    sent = False
    try:
        try:
            status = await _query(link)
            if data is None:
                return status
            _refuse(status)
            if reader.at_eof():  # it hung up after answering: nothing of the ticket went
                raise ConnectionResetError("the printer closed the connection")
            sent = True  # from here on, some of the ticket may come out
            await link.send(data, timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            during = "failed while printing" if sent else "failed"
            raise PrinterFault("offline", f"the connection to {where} {during} ({exc.__class__.__name__})", sent=sent) from None
        # Sent is not received: a printer that hangs up or stalls half-way leaves the rest of
        # the ticket in this computer's buffers, where no error shows it. Once the printer has
        # acknowledged the last byte, the cut is in its hands.
        if await link.taken(timeout) is False:
            raise PrinterFault("offline", f"{where} stopped taking the ticket half-way (it hung up or stalled)", sent=True)
        # Asked again after the ticket: a printer that ran out of paper half-way says so now.
        try:
            after: Status | Exception = await _query(link)
        except (OSError, asyncio.TimeoutError) as exc:
            after = exc
        return _printed(after, where)
    finally:
        link.close()
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


def _file(printer: Printer, data: bytes | None) -> Status:
    try:
        f = open(printer.address, "ab")
    except OSError as exc:
        raise PrinterFault("offline", f"cannot write to {printer.address}: {exc.strerror or exc}") from None
    try:
        with f:
            if data is not None:
                f.write(data)
                f.flush()
    except OSError as exc:
        raise PrinterFault("offline", f"writing to {printer.address} failed: {exc.strerror or exc}", sent=True) from None
    return Status("unknown" if data is None else "ok")


def _device(printer: Printer, timeout: float):  # type: ignore[no-untyped-def]
    """A python-escpos USB or serial printer (needs pyusb / pyserial installed), writes bounded by `timeout`."""
    p = escpos()
    if printer.kind == "usb":
        vendor, product = (int(x, 16) for x in printer.address.split(":"))
        return p.Usb(vendor, product, timeout=max(1, int(timeout * 1000)))  # milliseconds; 0 would mean no limit
    device, _, baud = printer.address.partition("@")
    dev = p.Serial(devfile=device, baudrate=int(baud or 9600), timeout=STATUS_TIMEOUT_S)  # the read timeout
    dev.device.write_timeout = timeout  # opens the port; python-escpos sets no write limit
    return dev


def _ask_device(dev, n: int) -> int | None:  # type: ignore[no-untyped-def]
    dev._raw(DLE_EOT + bytes([n]))  # a write that fails: the printer is not there
    try:
        answer = dev._read()
    except Exception:  # pyusb's read timeout, an error from a printer that does not answer
        return None
    return answer[0] if answer else None


def _query_device(dev) -> Status:  # type: ignore[no-untyped-def]
    # python-escpos's is_online() takes silence for "offline"; here silence is "unknown", as on the network.
    printer = _ask_device(dev, 1)
    if printer is None:
        return decode_status(None, None, None)
    cause = _ask_device(dev, 2) if printer & 0x08 else None
    return decode_status(printer, cause, _ask_device(dev, 4))


def _escpos_device(printer: Printer, data: bytes | None, timeout: float, device=None) -> Status:  # type: ignore[no-untyped-def]
    """Print on a USB or serial printer; `device` is an opened python-escpos printer, else one is made."""
    where = f"the {printer.kind} printer {printer.address}"
    sent = False
    try:
        dev = device if device is not None else _device(printer, timeout)
    except Exception as exc:  # device missing, no permission, pyusb/pyserial missing
        raise PrinterFault("offline", f"{where} is not available: {exc}") from None
    try:
        try:
            status = _query_device(dev)
            if data is None:
                return status
            _refuse(status)
            sent = True
            dev._raw(data)
        except PrinterFault:
            raise
        except Exception as exc:  # unplugged, a write timeout
            during = "failed while printing" if sent else "is not available"
            raise PrinterFault("offline", f"{where} {during}: {exc}", sent=sent) from None
        try:
            after: Status | Exception = _query_device(dev)
        except Exception as exc:
            after = exc
        return _printed(after, where)
    finally:
        try:
            dev.close()
        except Exception as exc:  # the ticket's fate is decided; a failed release is only logged
            log.warning("%s: could not be closed: %s", where, exc)


async def deliver(printer: Printer, data: bytes, timeout: float = 5.0) -> Status:
    """Print `data`; raises PrinterFault when the ticket did not come out (or may have only in part)."""
    return await _drive(printer, data, timeout)


async def probe(printer: Printer, timeout: float = 3.0) -> Status:
    """The printer's state now, without printing (a fault is a state here, not an error)."""
    try:
        return await _drive(printer, None, timeout)
    except PrinterFault as fault:
        return Status(fault.state, fault.detail)


async def _drive(printer: Printer, data: bytes | None, timeout: float) -> Status:
    """Each kind of printer's driver: print `data`, or with None only ask for the state."""
    from . import spooled  # the printers of the operating system (it imports this module)

    if printer.kind == "network":
        return await _network(printer, data, timeout)
    if printer.kind == "file":
        return await asyncio.to_thread(_file, printer, data)
    if printer.kind in ("usb", "serial"):
        return await asyncio.to_thread(_escpos_device, printer, data, timeout)
    if printer.kind == "win32raw":
        return await asyncio.to_thread(spooled.win32raw, printer, data)
    if printer.kind == "cups":
        return await asyncio.to_thread(spooled.cups, printer, data, timeout)
    raise PrinterFault("offline", "this kiosk has no printer")
