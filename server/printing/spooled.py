"""Printers installed in the operating system, sent the ticket's ESC/POS bytes as a raw job:
`win32raw` through the Windows spooler (pywin32's win32print), `cups` through CUPS's `lp`.
The spooler takes the job; whether it came out only the Windows spooler's status can hint at,
and CUPS says nothing of the paper: a job the spooler took counts as printed.
Light like devices.py: the print agent imports it with nothing of the server.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess

from .devices import Printer, PrinterFault, State, Status, _printed, _refuse


# The Windows spooler's printer status bits (winspool.h PRINTER_STATUS_*), the worst first.
WIN32_STATUS: tuple[tuple[int, State, str], ...] = (
    (0x00000010, "paper_out", "the printer is out of paper"),
    (0x00400000, "cover_open", "the printer's cover is open"),
    (0x00000008, "error", "the paper is jammed"),
    (0x00000040, "error", "the printer has a paper problem"),
    (0x00000002, "error", "the printer is in an error state"),
    (0x00000080, "offline", "the printer is offline"),
    (0x00001000, "offline", "the printer is not available"),
    (0x00000001, "offline", "the printer is paused"),
    (0x00000800, "paper_low", "the paper roll is nearly empty"),
)


def decode_win32_status(flags: int) -> Status:
    """What the Windows spooler says of a printer (GetPrinter level 2's Status)."""
    for bit, state, detail in WIN32_STATUS:
        if flags & bit:
            return Status(state, detail)
    return Status("ok")


def win32raw(printer: Printer, data: bytes | None) -> Status:
    """A printer installed in Windows, sent the ticket's ESC/POS bytes as a RAW spooler job (pywin32)."""
    where = f"the Windows printer {printer.address!r}"
    try:
        import win32print  # type: ignore[import-not-found]
    except ImportError:
        raise PrinterFault("offline", "win32raw printers need Windows and pywin32 (pip install pywin32)") from None
    try:
        handle = win32print.OpenPrinter(printer.address)
    except Exception as exc:  # pywintypes.error: no such printer, no right to it
        raise PrinterFault("offline", f"{where} cannot be opened: {exc}") from None
    sent = False
    try:
        status = decode_win32_status(win32print.GetPrinter(handle, 2)["Status"])
        if data is None:
            return status
        _refuse(status)
        try:
            win32print.StartDocPrinter(handle, 1, ("hallq ticket", None, "RAW"))
            try:
                win32print.StartPagePrinter(handle)
                sent = True
                written = win32print.WritePrinter(handle, data)
                win32print.EndPagePrinter(handle)
            finally:
                win32print.EndDocPrinter(handle)
        except Exception as exc:
            raise PrinterFault("offline", f"{where} {'failed while printing' if sent else 'refused the ticket'}: {exc}",
                               sent=sent) from None
        if written != len(data):
            raise PrinterFault("error", f"{where} took {written} of the ticket's {len(data)} bytes", sent=True)
        try:
            after: Status | Exception = decode_win32_status(win32print.GetPrinter(handle, 2)["Status"])
        except Exception as exc:
            after = exc
        return _printed(after, where)
    finally:
        with contextlib.suppress(Exception):
            win32print.ClosePrinter(handle)


def cups(printer: Printer, data: bytes | None, timeout: float) -> Status:
    """A CUPS queue (`queue` or `queue@server`), sent the ticket raw with `lp`; `lpstat` says
    whether the queue is enabled. CUPS says nothing of the paper: a queued ticket counts as printed."""
    queue, _, host = printer.address.partition("@")
    where = f"the CUPS queue {printer.address}"
    server = ["-h", host] if host else []
    lpstat = shutil.which("lpstat")
    status = Status("unknown", "lpstat is not installed") if lpstat is None else Status("ok")
    if lpstat is not None:
        try:
            found = subprocess.run([lpstat, *server, "-p", queue], capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            found = None
            status = Status("unknown", f"lpstat failed: {exc.__class__.__name__}")
        if found is not None and found.returncode != 0:
            status = Status("offline", f"{where}: {(found.stderr or found.stdout).strip()[:200]}")
        elif found is not None and "disabled" in found.stdout:
            status = Status("offline", f"{where} is disabled")
    if data is None:
        return status
    _refuse(status)
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterFault("offline", "the lp command is missing (install cups-client / cups-bsd)")
    try:
        done = subprocess.run([lp, *server, "-d", queue, "-o", "raw", "-t", "hallq ticket"], input=data,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # it may have queued the job: not risked twice
        raise PrinterFault("offline", f"{where}: lp did not answer within {timeout:g} s", sent=True) from None
    except OSError as exc:
        raise PrinterFault("offline", f"{where}: lp could not run: {exc}") from None
    if done.returncode != 0:  # lp refused it: nothing was queued
        raise PrinterFault("offline", f"{where} refused the ticket: {done.stderr.decode(errors='replace').strip()[:200]}")
    return Status("ok")
