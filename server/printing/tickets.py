"""What a kiosk ticket says, from the hall's state: its facts for the layout, and its QR code's address."""

from __future__ import annotations

from server.domain.catalog import Kiosk
from server.domain.estimates import estimate, open_windows
from server.domain.model import Ticket
from server.hall import HallService

from .layout import TicketFacts


def mobile_url(kiosk: Kiosk, origin: str, ticket_id: str) -> str:
    """The address in a ticket's QR code: the mobile ticket page."""
    return f"{(kiosk.ticket_url or origin).rstrip('/')}/t/{ticket_id}"


def facts(service: HallService, kiosk: Kiosk, t: Ticket, url: str, told: tuple[int, int] | None, reprint: bool) -> TicketFacts:
    """`told`: the place and wait the citizen was told at issue; otherwise estimated now."""
    catalog = service.catalog
    ahead, wait = told if told is not None else estimate(service.held(), catalog, t)
    windows = (t.target_window,) if t.target_window else catalog.windows_of_item[t.item]
    return TicketFacts(
        hall=catalog.hall.name,
        number=t.number,
        item=catalog.items[t.item].name,
        windows=tuple(catalog.windows[w].called_as for w in windows),
        ahead=ahead,
        wait_s=wait,
        issued_at=t.issued_at,
        url=url,
        notice=kiosk.notice,
        priority=t.priority,
        appointment=t.appointment is not None,
        reprint=reprint,
        no_window=open_windows(service.held(), catalog, t.item) == 0,
    )
