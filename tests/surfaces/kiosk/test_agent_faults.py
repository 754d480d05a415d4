"""A printer that hangs up: half-way through a ticket, or right after its cut. Never twice: a
ticket the printer got part of is flagged for a person and never printed again by itself; one
it got whole is printed, even when the status check after it fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.halls import write_config
from tests.surfaces.kiosk.conftest import kiosks, wait_until
from tests.surfaces.kiosk.fakes import CUT
from tests.surfaces.kiosk.test_agent import _status_is, acks_from_a_server_that_loses_them, agent_running, k1_url, print_events


@pytest.fixture
def config_dir(tmp_path: Path, printer_ports: dict[str, int]) -> Path:
    """k1 and k2 print pictures (about 50 KB a ticket): longer than the printer's receive buffer,
    so a printer that hangs up half-way leaves most of the ticket unsent."""
    folder = tmp_path / "config"
    write_config(folder)
    config = kiosks(printer_ports)
    config[0]["printer"]["mode"] = config[1]["printer"]["mode"] = "image"
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder


TICKET = b"\x1b@" + bytes(range(256)) * 160 + b"\n\x1dV\x00"  # a 40 KB ticket, a picture's size


async def test_a_job_the_printer_hung_up_on_half_way_is_reported_sent_and_never_printed_again_by_itself(printer, tmp_path):
    printer.hang_up, printer.keep = "mid-job", 1024
    acks = await acks_from_a_server_that_loses_them(printer, tmp_path / "state.json", TICKET, 3)
    assert printer.hung_up == 1 and printer.data == TICKET[:1024]  # one attempt, cut short; nothing after it
    assert all(a["job"] == "j-1" and a["ok"] is False and a["sent"] is True for a in acks)
    assert "half-way" in acks[0]["detail"]


async def test_a_job_whose_printer_hung_up_after_the_cut_counts_as_printed_and_is_printed_once(printer, tmp_path):
    printer.hang_up = "after-cut"
    acks = await acks_from_a_server_that_loses_them(printer, tmp_path / "state.json", TICKET, 3)
    assert printer.hung_up == 1 and printer.data == TICKET and printer.cuts == 1
    assert all(a["job"] == "j-1" and a["ok"] is True for a in acks)
    assert acks[0]["state"] == "unknown" and "status check" in acks[0]["detail"]


async def test_a_ticket_cut_short_by_the_printer_is_flagged_partial_and_a_reprint_prints_it_once_when_the_printer_is_back(
    client, server, printer, login, tmp_path
):
    printer.hang_up, printer.keep = "mid-job", 1024
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        t = await (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})).json()
        await wait_until(lambda: _status_is(client, t["id"], "failed"))
        (failed,) = await print_events(client, login, t["id"])
        assert failed["partial"] is True and "half-way" in failed["detail"]
        kiosks_now = await (await client.get("/api/v1/halls/t/kiosks", headers=await login("boss"))).json()
        assert [(f["number"], f["partial"]) for f in kiosks_now["failed"]] == [("A001", True)]
        assert len(printer.data) == 1024 and CUT not in printer.data

        printer.hang_up = None  # a person checked the printer: it works again
        r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print", headers=await login("boss"), json={})
        assert r.status == 202, await r.text()
        await printer.wait_for_cuts(1)
        await wait_until(lambda: _status_is(client, t["id"], "reprinted"))
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:  # restarted: nothing again
        await asyncio.wait_for(agent.connected.wait(), 5)
        await asyncio.sleep(0.5)
    assert printer.cuts == 1 and printer.hung_up == 1
    assert [(e["status"], e["partial"]) for e in await print_events(client, login, t["id"])] == [
        ("failed", True), ("reprinted", False)]


async def test_a_ticket_whose_printer_hung_up_after_the_cut_is_recorded_printed_with_a_warning(
    client, server, printer, login, tmp_path
):
    printer.hang_up = "after-cut"
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        t = await (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"})).json()
        await wait_until(lambda: _status_is(client, t["id"], "printed"))
        (printed,) = await print_events(client, login, t["id"])
        assert "status check" in printed["detail"] and printed["partial"] is False
    async with agent_running(k1_url(server), tmp_path / "k1.json") as agent:
        await asyncio.wait_for(agent.connected.wait(), 5)
        await asyncio.sleep(0.5)
    assert printer.cuts == 1 and printer.hung_up == 1


async def test_the_server_printing_itself_flags_a_ticket_cut_short_without_printing_it_again(client, printer2, login):
    """k2 (agent: false): the server prints to the network printer itself, with the same rule."""
    printer2.hang_up, printer2.keep = "mid-job", 512
    t = await (await client.post("/api/v1/halls/t/kiosks/k2/tickets", json={"item": "a1"})).json()
    await wait_until(lambda: _status_is(client, t["id"], "failed"))
    (failed,) = await print_events(client, login, t["id"])
    printer2.hang_up = None
    await asyncio.sleep(0.5)
    assert failed["partial"] is True and "half-way" in failed["detail"]
    assert printer2.hung_up == 1 and printer2.data[512:] == b"" and CUT not in printer2.data
