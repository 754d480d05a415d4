"""How the hall's state looks in answers. Public views carry no personal data of citizens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..domain.catalog import Catalog, User
from ..domain.events import TicketIssued
from ..domain.estimates import estimate_with_range, newcomer_estimate, open_windows
from ..domain.announce import announcement
from ..domain.commands import ServedTicket
from ..domain.ratings import late_rating_open, rating_closes
from ..domain.calendar import item_issuing, item_opens_at
from ..domain.model import HallDay, Ticket, TicketStatus, WindowState
from ..domain.posts import post_of


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_url(hall: str, ticket_id: str) -> str:
    return f"/api/v1/halls/{hall}/tickets/{ticket_id}"


def ticket_view(state: HallDay, catalog: Catalog, t: Ticket, told: tuple[int, int] | None = None) -> dict[str, Any]:
    """`told`: the (ahead, wait) already known, e.g. the figures journalled at issue."""
    ahead, wait, span = estimate_with_range(state, catalog, t)
    if told is not None:
        ahead, wait = told
    window = catalog.windows.get(t.window or "") if t.status is not TicketStatus.waiting else None
    out: dict[str, Any] = {
        "id": t.id,
        "number": t.number,
        "item": t.item,
        "item_name": catalog.items[t.item].name,
        "status": t.status.value,
        "priority": t.priority,
        "appointment": t.appointment is not None,
        "channel": t.channel.value,
        "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at),
        "ahead": ahead,
        "estimated_wait_s": wait,
        "estimated_wait_range_s": list(span),
        "window": window.id if window else None,
        "window_name": window.name if window else None,
        "windows": list(catalog.windows_of_item[t.item]) if t.target_window is None else [t.target_window],
        "recalls": t.recalls,
        "transfers": t.transfers,
        "print_status": t.print_status.value,
        "status_url": status_url(state.hall, t.id),
    }
    if t.remote:
        out.update(remote=True, arrived=t.arrived_at is not None, confirm_ahead=catalog.hall.booking.confirm_ahead)
    if t.closed_out_from is not None:  # 日终作废: the hall-day ended with it open
        out.update(closed_out_from=t.closed_out_from, day=state.day.isoformat())
    if t.status is TicketStatus.suspended:
        out["suspend_kind"] = t.suspend_kind.value if t.suspend_kind else None
    if t.status is TicketStatus.done:
        out.update(
            case_type=t.case_type,
            outcome=t.outcome.value if t.outcome else None,
            missing=list(t.missing),
            deadline=iso(t.deadline),
            rated=t.score is not None,
        )
    return out


def earlier_ticket_view(state: HallDay, catalog: Catalog, t: Ticket, served: ServedTicket, today: date) -> dict[str, Any]:
    """A ticket of an earlier hall-day as its holder sees it: final, with whether it may still be
    rated (好差评 after the day of service, server/domain/ratings.py) and until when."""
    out = ticket_view(state, catalog, t)
    out["day"] = state.day.isoformat()
    if t.status is TicketStatus.done:
        out.update(rated=served.rated or t.score is not None, rating_open=late_rating_open(served, catalog, today),
                   rating_closes=rating_closes(served, catalog).isoformat())
    return out


# What a ticket's holder alone may know: staff answers and the staff feed leave these out (a
# ticket id opens, cancels and rates the ticket; a booking code, a phone's and an ID card's keys are the citizen's).
HOLDER_SECRETS = ("id", "status_url")
EVENT_SECRETS = ("ticket", "code", "phone_key", "person_key")


def counter_ticket_view(state: HallDay, catalog: Catalog, t: Ticket) -> dict[str, Any]:
    """A ticket as the staff at a counter see it: everything but what only its holder may know;
    staff name it by its number (unique within the hall-day)."""
    view = ticket_view(state, catalog, t)
    for key in HOLDER_SECRETS:
        view.pop(key, None)
    return view


def staff_event(state: HallDay, data: dict[str, Any]) -> dict[str, Any]:
    """A journalled event as the staff feed sends it: the ticket named by its number, never by id."""
    out = {k: v for k, v in data.items() if k not in EVENT_SECRETS}
    t = state.tickets.get(data["ticket"]) if isinstance(data.get("ticket"), str) else None
    if t is not None:
        out.setdefault("number", t.number)
    return out


def issued_view(state: HallDay, catalog: Catalog, issued: TicketIssued) -> dict[str, Any]:
    """The answer to taking a number: the ticket, the windows to go to, and the figures told at
    issue (the ones journalled with it, not a recount)."""
    view = ticket_view(state, catalog, state.tickets[issued.ticket], told=(issued.ahead, issued.estimated_wait_s))
    view["window_hint"] = "、".join(catalog.windows[w].name for w in view["windows"])
    return view


def public_ticket_view(catalog: Catalog, t: Ticket) -> dict[str, Any]:
    """A ticket as a lobby screen may show it: its number, never its id (the holder's secret)."""
    window = catalog.windows.get(t.window or "") if t.status is not TicketStatus.waiting else None
    return {
        "number": t.number,
        "item": t.item,
        "item_name": catalog.items[t.item].name,
        "status": t.status.value,
        "window": window.id if window else None,
        "window_name": window.name if window else None,
        "called_at": iso(t.last_called_at),
    }


def clerk_view(catalog: Catalog, username: str | None, window: str | None = None) -> dict[str, Any] | None:
    """A clerk as screens show them: name, staff number and post (at `window`: AB岗) are public
    by design (DESIGN §3); the account name is not (it is half of a login)."""
    clerk = catalog.users.get(username or "")
    if clerk is None:
        return None
    post = post_of(catalog, window, clerk.username) if window in catalog.windows else clerk.post
    return {"name": clerk.name, "staff_no": clerk.staff_no, "post": post}


def window_view(state: HallDay, catalog: Catalog, w: WindowState, public: bool = False) -> dict[str, Any]:
    """A window as the lobby sees it (`public`) or its staff do: a clerk's name and staff number
    are public by design; neither view carries the ticket's id."""
    conf = catalog.windows[w.id]
    ticket = state.tickets[w.ticket] if w.ticket else None
    return {
        "id": w.id,
        "name": conf.name,
        "called_as": conf.called_as,
        "kind": conf.kind,
        "zone": conf.zone,
        "state": w.status.value,
        "since": iso(w.since),
        "ticket": None if ticket is None else public_ticket_view(catalog, ticket) if public else counter_ticket_view(state, catalog, ticket),
        "clerk": clerk_view(catalog, w.clerk, w.id) if w.status.value != "closed" else None,
        "pause": {"reason": w.pause_reason, "until": iso(w.pause_until)} if w.pause_reason else None,
    }


def queues_view(state: HallDay, catalog: Catalog, now: datetime, only: set[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for item in catalog.config.items:
        if only is not None and item.id not in only:
            continue
        ahead, wait, _ = newcomer_estimate(state, catalog, item.id)
        issued = state.issued.get(item.id, 0)
        issuing = item_issuing(catalog, item.id, now)
        rows.append(
            {
                "item": item.id,
                "name": item.name,
                "department": item.department,
                "prefix": item.prefix,
                "waiting": state.waiting_count(item.id),
                "ahead_of_newcomer": ahead,
                "estimated_wait_s": wait,
                "open_windows": open_windows(state, catalog, item.id),
                "issuing": issuing,
                # closed hours: when it issues next (the kiosk's home screen says when the hall opens)
                "opens_at": None if issuing else iso(item_opens_at(catalog, item.id, now)),
                "quota_left": None if item.daily_quota is None else max(0, item.daily_quota - issued),
            }
        )
    return rows


def catalog_view(catalog: Catalog, rev: int = 0) -> dict[str, Any]:
    """What the hall offers now: retired departments, items and windows are left out (they stay
    in the catalogue for the tickets issued before, see server/domain/admin.py)."""
    c = catalog.config
    retired = {i.id for i in c.items if i.retired}
    return {
        "hall": {"id": c.hall.id, "name": c.hall.name, "timezone": c.hall.timezone, "notice": c.hall.notice},
        "rev": rev,
        "departments": [{"id": d.id, "name": d.name} for d in c.departments if not d.retired],
        "items": [
            {
                "id": i.id,
                "name": i.name,
                "department": i.department,
                "prefix": i.prefix,
                "case_type": i.case_type.value,
                "promised_days": i.promised_days,
                "daily_quota": i.daily_quota,
                "materials": list(i.materials),
                "publics": i.publics.model_dump(),
            }
            for i in c.items
            if not i.retired
        ],
        "windows": [
            {"id": w.id, "name": w.name, "kind": w.kind, "zone": w.zone, "items": [i for i in w.items if i not in retired]}
            for w in c.windows
            if not w.retired
        ],
    }


def recent_calls(state: HallDay, catalog: Catalog, limit: int = 10) -> list[dict[str, Any]]:
    """The latest calls (and recalls), newest first, as the lobby lists them."""
    called = [t for t in state.tickets.values() if t.last_called_at is not None and t.window]
    called.sort(key=lambda t: t.last_called_at, reverse=True)  # type: ignore[arg-type,return-value]
    return [call_view(catalog, t.number, t.window, iso(t.last_called_at)) for t in called[:limit] if t.window]


def call_view(catalog: Catalog, number: str, window: str, at: str | None) -> dict[str, Any]:
    """A call as screens show and speak it."""
    return {
        "number": number,
        "window": window,
        "window_name": catalog.windows[window].name,
        "at": at,
        **announcement(catalog, number, window),
    }


def hall_snapshot(state: HallDay, catalog: Catalog, now: datetime, public: bool) -> dict[str, Any]:
    """Everything a screen needs to draw the hall; public snapshots carry no ticket ids."""
    hall = catalog.hall
    return {
        "hall": {"id": hall.id, "name": hall.name, "notice": hall.notice, "timezone": hall.timezone,
                 "voice": {"repeat": hall.voice.repeat, "screens": list(hall.voice.screens),
                           "max_age_s": hall.voice.max_age_s}},
        "day": state.day.isoformat(),
        "seq": state.seq,
        "now": now.isoformat(),
        "windows": [
            window_view(state, catalog, state.window(w.id), public=public)
            for w in catalog.config.windows
            if not w.retired or state.window(w.id).status.value != "closed"
        ],
        "queues": queues_view(state, catalog, now),
        "recent_calls": recent_calls(state, catalog),
    }


def user_view(u: User) -> dict[str, Any]:
    """A staff account as managers see it (never a password or its hash)."""
    return {
        "username": u.username,
        "name": u.name,
        "staff_no": u.staff_no,
        "role": u.role.value,
        "windows": list(u.windows),
        "post": u.post,
        "department": u.department,
    }
