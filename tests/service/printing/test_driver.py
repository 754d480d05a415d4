"""The print jobs' driver over a real hall service and SQLite journal, printing itself to a file
printer (a kiosk without an agent): jobs are printed, journalled, and the holder's reprint limit,
counted from the journal, holds for a new service started over the same journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.domain.catalog import Catalog, Kiosk, Printer
from server.domain.errors import Conflict
from server.hall import HallService, new_ticket_id
from server.journal import SQLJournal, make_engine
from server.printing.driver import Printing
from tests.halls import FakeClock, small_config
from tests.surfaces.kiosk.conftest import wait_until
from tests.surfaces.kiosk.fakes import CUT


def catalog(paper: Path) -> Catalog:
    kiosk = Kiosk(id="k1", name="一楼 自助取号机1", agent=False, printer=Printer(kind="file", address=str(paper)))
    return Catalog(small_config().model_copy(update={"kiosks": [kiosk]}))


class Started:
    """A hall service and its print dispatcher over the journal in `path`, as a server starts them."""

    def __init__(self, path: Path, paper: Path, clock: FakeClock) -> None:
        self.journal = SQLJournal(make_engine(f"sqlite+aiosqlite:///{path}"))
        self.service = HallService(catalog(paper), self.journal, LocalBus(), clock)
        self.printing = Printing({"t": self.service})

    async def __aenter__(self) -> Started:
        await self.journal.create()
        await self.service.start()
        await self.printing.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.printing.stop()
        await self.service.stop()
        await self.journal.close()


async def printed(service: HallService, ticket: str, prints: int) -> bool:
    return (await service.current()).tickets[ticket].prints >= prints


async def test_the_holders_reprint_limit_holds_for_a_new_service_over_the_same_sqlite_journal(tmp_path: Path):
    clock, journal, paper = FakeClock(), tmp_path / "hall.sqlite3", tmp_path / "paper.bin"
    async with Started(journal, paper, clock) as hall:
        ticket = new_ticket_id()
        await hall.service.handle(c.IssueTicket(by="kiosk:k1", ticket=ticket, item="a1", channel="kiosk"))
        t = hall.service.state.tickets[ticket]
        assert hall.printing.submit(hall.service, "k1", t, "http://hall/t/x", by="kiosk:k1") is not None
        for prints in range(1, 4):  # printed at issue, then reprinted at the holder's request
            await wait_until(lambda: printed(hall.service, ticket, prints))
            hall.printing.reprint(hall.service, "k1", t, "http://hall/t/x", by="holder", staff=False)
        await wait_until(lambda: printed(hall.service, ticket, 4))
        with pytest.raises(Conflict, match="printed 4 times"):
            hall.printing.reprint(hall.service, "k1", t, "http://hall/t/x", by="holder", staff=False)
    assert paper.read_bytes().count(CUT) == 4

    async with Started(journal, paper, clock) as hall:  # restarted: nothing of the last one's memory
        t = (await hall.service.current()).tickets[ticket]
        with pytest.raises(Conflict) as refused:
            hall.printing.reprint(hall.service, "k1", t, "http://hall/t/x", by="holder", staff=False)
        assert refused.value.code == "reprint-limit"
        assert hall.printing.reprint(hall.service, "k1", t, "http://hall/t/x", by="w1a", staff=True) is not None
        await wait_until(lambda: printed(hall.service, ticket, 5))
    assert paper.read_bytes().count(CUT) == 5
