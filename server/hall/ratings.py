"""Ratings after the day of service (好差评), for a HallService: a ticket of an earlier hall-day as
its day's journal holds it, with what the days after hold about it (the conclusion of its
promised case, a late rating given already). The rule (server/domain/ratings.py, `evaluate_late`)
decides on today's hall-day, where the rating is journalled.

Only the days where either can lie are read: a late rating is given within
`RATING_DAYS_MAX` days of the ticket's day or of its conclusion, and a conclusion older than that
opens nothing any more; so at most twice that many days, and of them only the events of the two
types, whatever the hall's setting is now or was when an earlier rating was given.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..domain import events as ev
from ..domain.commands import ServedTicket
from ..domain.errors import NotFound
from ..domain.model import HallDay, Ticket
from ..domain.settings import RATING_DAYS_MAX

if TYPE_CHECKING:
    from . import HallService

LATER = (ev.CaseConcluded.type, ev.TicketRatedLate.type)
# Folding a busy day costs a few hundred milliseconds; an ended day changes little (a late finish
# the morning after), so the last few asked for are kept and caught up from their position.
KEPT_DAYS = 4


async def _folded(service: HallService, day: date) -> HallDay:
    """The ended hall-day `day` as the journal holds it now. Its own fold, never the writer's
    (`day_before`), which only the writer task may advance."""
    kept = service.earlier
    state = kept.pop(day, None)
    if state is None:
        state = await service.repo.load(day)
    else:
        await service.repo.catch_up(state)  # folds only what is beyond its position, once
    kept[day] = state  # the most recent last
    while len(kept) > KEPT_DAYS:
        del kept[next(iter(kept))]
    return state


async def served_ticket(service: HallService, day: date, ticket_id: str) -> tuple[HallDay, Ticket, ServedTicket]:
    """The ticket `ticket_id` of the earlier hall-day `day`, with its late-rating facts; NotFound
    when that day holds no such ticket."""
    today = (await service.current()).day
    state = await _folded(service, day) if day < today else None
    t = state.tickets.get(ticket_id) if state is not None else None
    if state is None or t is None:
        raise NotFound("unknown-ticket", f"no ticket {ticket_id!r} on {day.isoformat()}")
    span = timedelta(days=RATING_DAYS_MAX)
    first = (day + timedelta(days=1), min(day + span, today))
    last = (max(day + timedelta(days=1), today - span), today)
    ranges = [(first[0], today)] if last[0] <= first[1] + timedelta(days=1) else [first, last]  # one read when they meet
    later: set[date] = set()
    for start, end in ranges:
        if start <= end:
            later.update(await service.repo.days(start, end, types=LATER))
    concluded_on, rated = None, t.score is not None
    for d in sorted(later):
        for s in await service.repo.read(d, 0, LATER):
            if s.data.get("ticket") != ticket_id:
                continue
            if s.data["type"] == ev.CaseConcluded.type:
                concluded_on = d
            else:
                rated = True
    parts = t.served_by or (((t.window, None),) if t.window else ())
    served = ServedTicket(
        ticket=t.id, served_on=day, number=t.number, item=t.item, channel=t.channel.value,
        appointment=t.appointment is not None, status=t.status.value, finished_at=t.finished_at,
        case_type=t.case_type, parts=parts, rated=rated, concluded_on=concluded_on,
    )
    return state, t, served
