"""What each audience of the feed receives, as pure functions of an event and the hall's views.

Public screens get no ticket ids and no personal data: an event reaches them only if its type is
of the hall floor (PUBLIC_TYPES), with only the fields a lobby may show (PUBLIC_FIELDS), clerks
named by name and staff number instead of their account, and tickets by number. Staff get the
events with their clerks' account names but, like public screens, tickets by number: a ticket id
is its holder's secret, and staff at a counter never need it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import views
from ..domain.catalog import Catalog
from ..domain.model import HallDay, Ticket

# Events of the hall floor that screens show; supervision (alerts, reviews, cases) and
# appointments stay with staff.
PUBLIC_TYPES = frozenset({
    "ticket_issued", "ticket_called", "ticket_recalled", "service_started", "service_finished", "ticket_no_show",
    "ticket_transferred", "ticket_suspended", "ticket_cancelled", "ticket_print_recorded", "ticket_evaluated",
    "evaluation_requested", "ticket_closed_out", "window_opened", "window_paused", "window_resumed", "window_closed",
    "window_handed_over", "catalog_changed",
})
# Fields of an event that a public screen may see; ticket ids, appointment codes, comments
# and the missing-materials list stay with staff.
PUBLIC_FIELDS = frozenset({"type", "at", "window", "number", "item", "to_item", "to_window", "reason", "until", "kind",
                           "case_type", "outcome", "lane", "status", "rev", "effective"})
# Fields that name a clerk by account: public screens get the clerk's name and staff number instead.
CLERK_FIELDS = ("clerk", "from_clerk", "to_clerk")
# Events after which a ticket's people-ahead may have changed for tickets it does not name.
MOVES_QUEUES = frozenset({"ticket_called", "ticket_cancelled", "ticket_transferred", "ticket_no_show"})


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class HallView:
    """The views a message is rendered from: the hall-day as folded, the catalogue in force, the
    hall's clock reading, and the day before (its tickets may still be followed)."""

    state: HallDay
    catalog: Catalog
    now: datetime
    previous: HallDay | None = None

    def ticket(self, ticket_id: str) -> tuple[HallDay, Ticket] | None:
        for state in (self.state, self.previous):
            t = state.tickets.get(ticket_id) if state is not None else None
            if t is not None:
                return state, t
        return None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One journalled event as every audience receives it, serialised once."""

    seq: int
    public: str | None  # None: not for public screens
    staff: str
    windows: frozenset[str]  # the windows it concerns (window screens hear only their own)
    tickets: frozenset[str]  # the ticket it concerns (one-ticket subscriptions)


def public_event(data: dict[str, Any], hall: HallView) -> dict[str, Any]:
    """A journalled event as a lobby screen may see it: no ticket id, code, phone, comment or
    account name; the ticket by its number, clerks by name and staff number."""
    out = {k: v for k, v in data.items() if k in PUBLIC_FIELDS}
    for key in CLERK_FIELDS:
        if key in data:
            out[key] = views.clerk_view(hall.catalog, data[key], data.get("window"))
    t = hall.state.tickets.get(data["ticket"]) if isinstance(data.get("ticket"), str) else None
    if t is not None:
        out["number"] = t.number
    return out


def event_message(seq: int, data: dict[str, Any], hall: HallView) -> Outgoing:
    """The messages for one event: `public` only for the hall floor's events, `staff` always;
    both with the windows and queues it changed and, for a call, what screens show and speak."""
    state, catalog = hall.state, hall.catalog
    windows = {w for w in (data.get("window"), data.get("to_window")) if isinstance(w, str) and w}
    items: set[str] = {i for i in (data.get("item"), data.get("to_item")) if isinstance(i, str) and i}
    ticket_id = data.get("ticket") if isinstance(data.get("ticket"), str) else None
    t = state.tickets.get(ticket_id) if ticket_id else None
    if t is not None:
        items.add(t.item)
    body: dict[str, Any] = {"type": "event", "seq": seq, "event": public_event(data, hall)}
    staff: dict[str, Any] = {"type": "event", "seq": seq, "event": views.staff_event(state, data)}
    if data["type"] in ("ticket_called", "ticket_recalled"):
        body["call"] = staff["call"] = views.call_view(catalog, data["number"], data["window"], data["at"])
    body["queues"] = staff["queues"] = views.queues_view(state, catalog, hall.now, only=items) if items else []
    shown = sorted(w for w in windows if w in catalog.windows)
    body["windows"] = [views.window_view(state, catalog, state.window(w), public=True) for w in shown]
    staff["windows"] = [views.window_view(state, catalog, state.window(w)) for w in shown]
    public = dumps(body) if data["type"] in PUBLIC_TYPES else None
    return Outgoing(seq, public, dumps(staff), frozenset(windows), frozenset({ticket_id} if ticket_id else ()))


def snapshot_message(hall: HallView, public: bool) -> str:
    """Everything a screen needs to draw the hall; a public one carries no ticket id."""
    body = views.hall_snapshot(hall.state, hall.catalog, hall.now, public=public)
    return dumps({"type": "snapshot", "seq": hall.state.seq, "state": body})


def ticket_message(seq: int, hall: HallView, ticket_id: str) -> str:
    """One ticket as its holder's page follows it (the id is theirs: they subscribed with it)."""
    found = hall.ticket(ticket_id)
    view = views.ticket_view(found[0], hall.catalog, found[1]) if found else None
    return dumps({"type": "ticket", "seq": seq, "ticket": view})


def tick_message(seq: int, day: date, now: datetime, every_s: float | None = None) -> str:
    """every_s: the ticks' period, so a screen knows how long a silence means a hung server."""
    body: dict[str, object] = {"type": "tick", "seq": seq, "day": day.isoformat(), "now": now.isoformat()}
    if every_s is not None:
        body["every_s"] = every_s
    return dumps(body)
