"""Printers installed in the operating system. CUPS: the real driver runs a stand-in `lp` and
`lpstat` on PATH (the CUPS daemon is the outside here): the ticket's bytes go to `lp` raw, a
disabled queue or a refusal is a fault before anything was queued. Windows: only the spooler's
status bits can be checked on this machine (win32print exists on Windows alone)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from server.printing import devices, spooled

TICKET = b"\x1b@\x1c&A001 \xb2\xe2\n\x1dV\x00"


@pytest.fixture
def cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of stand-in CUPS commands, first on PATH; `queue-state` says what lpstat reports."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    out = tmp_path / "spool"
    out.mkdir()
    (tmp_path / "queue-state").write_text("idle")
    scripts = {
        "lp": f"""#!/bin/sh
echo "$@" > {out}/args
if [ -f {tmp_path}/refuse ]; then echo "lp: The printer or class does not exist." >&2; exit 1; fi
cat > {out}/job.bin
echo "request id is pos80-1 (1 file(s))"
""",
        "lpstat": f"""#!/bin/sh
state=$(cat {tmp_path}/queue-state)
if [ "$state" = missing ]; then echo "lpstat: Invalid destination name in list \\"$3\\"." >&2; exit 1; fi
if [ "$state" = disabled ]; then echo "printer $3 disabled since Sat 05 Dec 2026 -"; exit 0; fi
echo "printer $3 is idle.  enabled since Sat 05 Dec 2026"
""",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


async def test_a_cups_queue_gets_the_ticket_raw_through_lp(cups: Path) -> None:
    status = await devices.deliver(devices.Spec("cups", "pos80"), TICKET)
    assert status.state == "ok"
    assert (cups / "spool" / "job.bin").read_bytes() == TICKET
    assert (cups / "spool" / "args").read_text().split() == ["-d", "pos80", "-o", "raw", "-t", "hallq", "ticket"]
    await devices.deliver(devices.Spec("cups", "pos80@cups.hall.lan"), TICKET)
    assert (cups / "spool" / "args").read_text().split()[:4] == ["-h", "cups.hall.lan", "-d", "pos80"]


async def test_a_disabled_or_unknown_queue_is_a_fault_before_anything_is_queued(cups: Path) -> None:
    (cups / "queue-state").write_text("disabled")
    with pytest.raises(devices.PrinterFault) as fault:
        await devices.deliver(devices.Spec("cups", "pos80"), TICKET)
    assert (fault.value.state, fault.value.sent) == ("offline", False) and "disabled" in fault.value.detail
    assert not (cups / "spool" / "job.bin").exists()
    assert (await devices.probe(devices.Spec("cups", "pos80"))).state == "offline"
    (cups / "queue-state").write_text("missing")
    assert (await devices.probe(devices.Spec("cups", "pos80"))).state == "offline"
    (cups / "queue-state").write_text("idle")
    assert (await devices.probe(devices.Spec("cups", "pos80"))).state == "ok"


async def test_a_job_lp_refuses_was_not_queued_and_may_be_sent_again(cups: Path) -> None:
    (cups / "refuse").write_text("")
    with pytest.raises(devices.PrinterFault) as fault:
        await devices.deliver(devices.Spec("cups", "pos80"), TICKET)
    assert fault.value.sent is False and "does not exist" in fault.value.detail


@pytest.mark.parametrize(("flags", "state"), [
    (0, "ok"), (0x10, "paper_out"), (0x10 | 0x80, "paper_out"), (0x400000, "cover_open"), (0x80, "offline"),
    (0x1000, "offline"), (0x1, "offline"), (0x2, "error"), (0x8, "error"), (0x800, "paper_low"), (0x4000, "ok"),
])
def test_the_windows_spoolers_status_bits_name_the_printers_state(flags: int, state: str) -> None:
    assert spooled.decode_win32_status(flags).state == state


async def test_a_win32raw_printer_off_windows_is_offline_and_says_why() -> None:
    with pytest.raises(devices.PrinterFault) as fault:
        await devices.deliver(devices.Spec("win32raw", "POS-80C"), TICKET)
    assert fault.value.state == "offline" and "pywin32" in fault.value.detail and not fault.value.sent
