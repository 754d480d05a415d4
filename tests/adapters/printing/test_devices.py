"""Printers other than the network's: the agent's --printer spec, a file printer, and USB and
serial printers through python-escpos. The hardware is the one thing stood in for: python-escpos's
Dummy printer, or a stand-in for pyusb's device handle under python-escpos's real Usb class."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.agent import parse_printer
from server.domain.catalog import Printer
from server.printing import devices
from server.printing.layout import escpos

TICKET = b"\x1b@\x1c&A001\n\x1dV\x00"
STATUS_QUERIES = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04")


SPECS = {
    "network:192.168.1.50:9100": ("network", "192.168.1.50:9100"),
    "network:printer.local": ("network", "printer.local"),
    "usb:0x0416:0x5011": ("usb", "0x0416:0x5011"),
    "serial:/dev/ttyS0@19200": ("serial", "/dev/ttyS0@19200"),
    "serial:COM3@9600": ("serial", "COM3@9600"),
    "file:/dev/usb/lp0": ("file", "/dev/usb/lp0"),
    "win32raw:POS-80C (副本 1)": ("win32raw", "POS-80C (副本 1)"),  # as Windows names a printer, spaces and all
    "cups:pos80": ("cups", "pos80"),
    "cups:pos80@cups.hall.lan": ("cups", "pos80@cups.hall.lan"),
}


@pytest.mark.parametrize("spec", SPECS)
def test_the_agents_printer_spec_names_the_kind_and_the_address(spec: str):
    kind, address = SPECS[spec]
    assert parse_printer(spec) == devices.Spec(kind, address)
    # The same printer in a kiosk's config on the server is accepted too, as the same kind and address.
    assert (Printer(kind=kind, address=address).kind, Printer(kind=kind, address=address).address) == (kind, address)


@pytest.mark.parametrize("wrong", ["lpt:1", "usb:printer", "network:", "file:", "network:host:99999", "win32raw:",
                                   "win32raw:bad\nname", "cups:two words", "cups:", "none:", "cups"])
def test_a_printer_spec_that_names_no_printer_is_refused(wrong: str):
    with pytest.raises(ValueError):
        parse_printer(wrong)


async def test_a_file_printer_gets_each_ticket_appended_byte_for_byte(tmp_path: Path):
    path = tmp_path / "lp0"
    printer = Printer(kind="file", address=str(path))
    assert (await devices.deliver(printer, TICKET)).state == "ok"
    assert (await devices.deliver(printer, TICKET.replace(b"A001", b"A002"))).state == "ok"
    assert path.read_bytes() == TICKET + TICKET.replace(b"A001", b"A002")
    assert (await devices.probe(printer)).state == "unknown"  # a file says nothing of paper


async def test_a_file_printer_that_cannot_be_opened_is_offline_and_nothing_was_sent(tmp_path: Path):
    printer = Printer(kind="file", address=str(tmp_path / "no such folder" / "lp0"))
    with pytest.raises(devices.PrinterFault) as fault:
        await devices.deliver(printer, TICKET)
    assert fault.value.state == "offline" and fault.value.sent is False
    assert (await devices.probe(printer)).state == "offline"


def silent_printer(answers: dict[int, bytes] | None = None):  # type: ignore[no-untyped-def]
    """A serial printer as python-escpos drives it, answering the DLE EOT queries with `answers`
    (a serial read that times out returns nothing)."""

    class Silent(escpos().Dummy):  # type: ignore[misc, name-defined]
        def _read(self) -> bytes:
            last = self._output_list[-1]
            return (answers or {}).get(last[-1], b"") if last.startswith(b"\x10\x04") else b""

    return Silent()


SERIAL = Printer(kind="serial", address="/dev/ttyS0@9600")


def test_a_serial_printer_that_does_not_answer_status_queries_is_printed_to_like_a_network_one():
    dev = silent_printer()
    status = devices._escpos_device(SERIAL, TICKET, 2.0, device=dev)
    assert status.state == "unknown" and status.warning == ""
    assert dev.output == STATUS_QUERIES[0] + TICKET + STATUS_QUERIES[0]  # asked, printed, asked again


def test_a_serial_printer_that_says_it_has_no_paper_is_not_printed_to():
    dev = silent_printer({1: b"\x1a", 2: b"\x32", 4: b"\x72"})
    with pytest.raises(devices.PrinterFault) as fault:
        devices._escpos_device(SERIAL, TICKET, 2.0, device=dev)
    assert fault.value.state == "paper_out" and fault.value.sent is False
    assert TICKET not in dev.output


def test_a_serial_printer_with_paper_prints_and_reports_it_low():
    dev = silent_printer({1: b"\x12", 4: b"\x1e"})
    assert devices._escpos_device(SERIAL, TICKET, 2.0, device=dev).state == "paper_low"
    assert TICKET in dev.output


class UsbHandle:
    """Stands in for pyusb's Device under python-escpos's Usb: records writes with their time limit;
    reads time out, as with a printer that does not answer status queries."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.writes: list[tuple[int, bytes, int]] = []
        self.fail_after = fail_after

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        if self.fail_after is not None and len(self.writes) >= self.fail_after:
            raise OSError("[Errno 110] Operation timed out")  # pyusb's USBTimeoutError is an OSError
        self.writes.append((endpoint, bytes(data), timeout))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> bytes:
        raise OSError("[Errno 110] Operation timed out")


def usb_printer(handle: UsbHandle, timeout: float):  # type: ignore[no-untyped-def]
    printer = Printer(kind="usb", address="0x0416:0x5011")
    dev = devices._device(printer, timeout)  # python-escpos's own Usb, as the agent makes it
    dev._device = handle  # the opened USB device
    return printer, dev


def test_a_usb_printer_that_does_not_answer_status_is_printed_to_with_a_write_time_limit():
    handle = UsbHandle()
    printer, dev = usb_printer(handle, 2.5)
    try:
        assert devices._escpos_device(printer, TICKET, 2.5, device=dev).state == "unknown"
    finally:
        dev.close = lambda: None  # nothing for python-escpos to release: the handle is not pyusb's
    assert [data for _, data, _ in handle.writes] == [STATUS_QUERIES[0], TICKET, STATUS_QUERIES[0]]
    assert {limit for _, _, limit in handle.writes} == {2500}  # milliseconds; 0 would wait for ever


def test_a_usb_write_that_fails_mid_ticket_is_a_fault_after_bytes_were_sent():
    handle = UsbHandle(fail_after=1)  # the status query goes, the ticket does not
    printer, dev = usb_printer(handle, 1.0)
    try:
        with pytest.raises(devices.PrinterFault) as fault:
            devices._escpos_device(printer, TICKET, 1.0, device=dev)
    finally:
        dev.close = lambda: None
    assert fault.value.state == "offline" and fault.value.sent is True
