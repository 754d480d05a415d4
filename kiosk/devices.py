"""Ticket printers as devices: send bytes, ask for the printer's state, name its faults.

Network printers (raw TCP, port 9100) are driven with asyncio; USB and serial printers go
through python-escpos in a thread (they need pyusb / pyserial on the kiosk PC); a file printer
appends to a path (a device such as /dev/usb/lp0, or a plain file for trials). Before and after
a ticket, a printer that answers the ESC/POS real-time status query (DLE EOT) says whether it
is offline, out of paper or open; one that does not answer is printed to all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal

from server.domain.catalog import Printer

from .printing import escpos

State = Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "error", "unknown"]

# What a kiosk and a manager are told, per state.
MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {"ok": "打印机正常", "paper_low": "打印纸即将用完", "paper_out": "打印机缺纸", "cover_open": "打印机盖未合上",
              "offline": "打印机未连接", "error": "打印机故障", "unknown": "打印机状态未知"},
    "en": {"ok": "Printer ready", "paper_low": "Paper running low", "paper_out": "Printer out of paper",
           "cover_open": "Printer cover open", "offline": "Printer not connected", "error": "Printer error",
           "unknown": "Printer state unknown"},
}

DLE_EOT = b"\x10\x04"
STATUS_TIMEOUT_S = 0.8


class PrinterFault(Exception):
    """The ticket was not printed; `state` says why in one word, `detail` in a sentence."""

    def __init__(self, state: State, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Status:
    state: State
    detail: str = ""


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


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> int | None:
    writer.write(DLE_EOT + bytes([n]))
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(1), STATUS_TIMEOUT_S)
    except asyncio.TimeoutError:
        return None
    if not answer:
        raise ConnectionResetError("the printer closed the connection")
    return answer[0]


async def _query(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Status:
    printer = await _ask(reader, writer, 1)
    if printer is None:
        return decode_status(None, None, None)
    cause = await _ask(reader, writer, 2) if printer & 0x08 else None
    paper = await _ask(reader, writer, 4)
    return decode_status(printer, cause, paper)


def _refuse(status: Status) -> None:
    if status.state in ("paper_out", "cover_open", "error", "offline"):
        raise PrinterFault(status.state, status.detail)


async def _network(printer: Printer, data: bytes | None, timeout: float) -> Status:
    host, port = host_port(printer.address)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise PrinterFault("offline", f"cannot reach the printer at {host}:{port} ({exc.__class__.__name__})") from None
    try:
        status = await _query(reader, writer)
        if data is None:
            return status
        _refuse(status)
        writer.write(data)
        await asyncio.wait_for(writer.drain(), timeout)
        # Asked again after the ticket: a printer that ran out of paper half-way says so now.
        after = await _query(reader, writer)
        if after.state == "paper_out":
            raise PrinterFault("paper_out", "the paper ran out while printing")
        return after
    except (OSError, asyncio.TimeoutError) as exc:
        raise PrinterFault("offline", f"the connection to the printer at {host}:{port} failed ({exc.__class__.__name__})") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


def _file(printer: Printer, data: bytes | None) -> Status:
    try:
        if data is not None:
            with open(printer.address, "ab") as f:
                f.write(data)
                f.flush()
        else:
            with open(printer.address, "ab"):
                pass
    except OSError as exc:
        raise PrinterFault("offline", f"cannot write to {printer.address}: {exc.strerror or exc}") from None
    return Status("unknown" if data is None else "ok")


def _device(printer: Printer):  # type: ignore[no-untyped-def]
    """A python-escpos USB or serial printer (needs pyusb / pyserial installed)."""
    p = escpos()
    if printer.kind == "usb":
        vendor, product = (int(x, 16) for x in printer.address.split(":"))
        return p.Usb(vendor, product, timeout=0)
    device, _, baud = printer.address.partition("@")
    return p.Serial(devfile=device, baudrate=int(baud or 9600), timeout=1)


def _escpos_device(printer: Printer, data: bytes | None) -> Status:
    try:
        dev = _device(printer)
        try:
            online = dev.is_online()
            paper = dev.paper_status()  # 2 plenty, 1 low, 0 none
            status = Status("ok" if paper == 2 else "paper_low") if online and paper else Status("paper_out" if not paper else "error")
            if data is not None:
                _refuse(status)
                dev._raw(data)
            return status
        finally:
            dev.close()
    except PrinterFault:
        raise
    except Exception as exc:  # device missing, no permission, pyusb/pyserial missing
        raise PrinterFault("offline", f"the {printer.kind} printer {printer.address} is not available: {exc}") from None


async def deliver(printer: Printer, data: bytes, timeout: float = 5.0) -> Status:
    """Print `data`; raises PrinterFault when the ticket did not come out."""
    if printer.kind == "network":
        return await _network(printer, data, timeout)
    if printer.kind == "file":
        return await asyncio.to_thread(_file, printer, data)
    if printer.kind in ("usb", "serial"):
        return await asyncio.to_thread(_escpos_device, printer, data)
    raise PrinterFault("offline", "this kiosk has no printer")


async def probe(printer: Printer, timeout: float = 3.0) -> Status:
    """The printer's state now, without printing (a fault is a state here, not an error)."""
    try:
        if printer.kind == "network":
            return await _network(printer, None, timeout)
        if printer.kind == "file":
            return await asyncio.to_thread(_file, printer, None)
        if printer.kind in ("usb", "serial"):
            return await asyncio.to_thread(_escpos_device, printer, None)
    except PrinterFault as fault:
        return Status(fault.state, fault.detail)
    return Status("offline", "this kiosk has no printer")
