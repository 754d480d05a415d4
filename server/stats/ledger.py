"""Ledgers across hall-days: promised cases still open (限时办结) and bad reviews (差评整改).

Both come from the derived tables of closed days plus the current day's facts: accepted
promised cases and ratings from the tickets, conclusions and review steps from the events
about earlier tickets (`stat_ledger`). The closed days' part changes only when a day closes
or someone acts on an old case or review, so callers may keep it (`Stored*`) and lay the
current day over it (`*_now`), which is cheap.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, select

from ..domain.calendar import add_working_days
from ..domain.commands import OpenCase, OpenReview
from ..domain.provincial import RETURN_KEY
from ..domain.settings import RATING_DAYS_MAX
from ..domain.supervision import CLOSED_REVIEW, chief_of, review_due
from ..journal.outbox import rating_returns
from .facts import DayResult
from .service import Stats, hall_today
from .store import stat_ledger, stat_tickets

BAD = 2  # scores 1 and 2 are bad reviews (差评)
LOOKBACK_DAYS = 400

__all__ = ["BAD", "CLOSED_REVIEW", "Review", "open_cases", "reviews", "review_view", "service_day", "stored_cases",
           "stored_reviews"]


@dataclass
class Review:
    ticket: str
    number: str
    item: str
    window: str | None
    clerk: str | None
    rated_on: date
    score: int
    comment: str
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.steps[-1]["step"] if self.steps else "new"

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_REVIEW

    def open(self) -> OpenReview:
        return OpenReview(ticket=self.ticket, number=self.number, item=self.item, window=self.window, rated_on=self.rated_on, status=self.status)


def _step(e: dict[str, Any]) -> dict[str, Any]:
    return {k: e.get(k) for k in ("step", "at", "by", "note", "to")}


# ------------------------------------------------------------------------------ promised cases


async def stored_cases(stats: Stats, hall: str, today: date, due_by: date | None = None) -> list[OpenCase]:
    """Promised cases accepted before `today` and not concluded before it, due by `due_by`."""
    t, lg = stat_tickets, stat_ledger
    concluded = exists().where(lg.c.hall == t.c.hall, lg.c.type == "case_concluded", lg.c.ticket == t.c.ticket)
    cond = [
        t.c.hall == hall, t.c.case_type == "promised", t.c.deadline.is_not(None),
        t.c.day >= today - timedelta(days=LOOKBACK_DAYS), t.c.day < today, ~concluded,
    ]
    if due_by is not None:
        cond.append(t.c.deadline <= due_by)
    query = select(t.c.ticket, t.c.number, t.c.item, t.c.window, t.c.day, t.c.deadline).where(and_(*cond))
    await stats.ensure_closed_days(hall, today - timedelta(days=LOOKBACK_DAYS), today - timedelta(days=1))
    if stats.unjournalled(hall, today - timedelta(days=LOOKBACK_DAYS), today - timedelta(days=1)):
        return []  # nothing was journalled on those days: nothing derived either
    async with stats.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [OpenCase(ticket=tk, number=n, item=i, window=w, accepted_on=d, deadline=dl) for tk, n, i, w, d, dl in rows]


def cases_now(stored: list[OpenCase], current: DayResult) -> list[OpenCase]:
    """The stored open cases less those concluded today."""
    done = {e["ticket"] for _, e in current.ledger if e["type"] == "case_concluded"}
    return [c for c in stored if c.ticket not in done]


async def open_cases(stats: Stats, hall: str, due_by: date | None = None) -> list[OpenCase]:
    today = hall_today(stats.halls[hall])
    return cases_now(await stored_cases(stats, hall, today, due_by), await stats.today(hall))


# ------------------------------------------------------------------------------ bad reviews


async def stored_reviews(stats: Stats, hall: str, today: date, start: date | None = None, end: date | None = None) -> dict[str, Review]:
    """Bad reviews rated on closed days in [start, end] with the steps recorded before `today`, and
    the bad ratings the provincial platform sent back (rated up to today)."""
    start = start or today - timedelta(days=LOOKBACK_DAYS)
    end_returned = min(end or today, today)  # sent back today: open from today (no day of the journal to close)
    end = min(end or today, today - timedelta(days=1))
    if end_returned < start:
        return {}
    # Nothing journalled on those days (a quiet township centre): nothing derived to read either,
    # only what the province may have sent back.
    journalled = end >= start and not stats.unjournalled(hall, start, end)
    if journalled:
        await stats.ensure_closed_days(hall, start, end)
    t, lg = stat_tickets, stat_ledger
    query = select(t.c.ticket, t.c.number, t.c.item, t.c.window, t.c.clerk, t.c.day, t.c.score, t.c.comment).where(
        t.c.hall == hall, t.c.score <= BAD, t.c.day >= start, t.c.day <= end
    )
    late = select(lg.c.day, lg.c.data).where(
        lg.c.hall == hall, lg.c.type == "ticket_rated_late", lg.c.day >= start, lg.c.day <= end
    ).order_by(lg.c.day, lg.c.seq)
    # 差评回传: bad ratings the provincial platform sent back, keyed "province:<its rating id>".
    rr = rating_returns
    returned = select(rr.c.rating, rr.c.number, rr.c.item, rr.c.window, rr.c.rated_on, rr.c.score, rr.c.comment).where(
        rr.c.hall == hall, rr.c.rated_on >= start, rr.c.rated_on <= end_returned)
    # Bad reviews are few: their steps are picked out here rather than joined.
    steps = (
        select(lg.c.data)
        .where(lg.c.hall == hall, lg.c.type == "review_step_recorded", lg.c.day >= start)
        .order_by(lg.c.day, lg.c.seq)
    )
    async with stats.engine.connect() as conn:
        found: dict[str, Review] = {}
        if journalled:
            found = {tk: Review(tk, n, i, w, c, d, s, cm or "") for tk, n, i, w, c, d, s, cm in await conn.execute(query)}
            for day, data in await conn.execute(late):
                review = late_review(json.loads(data), day)
                if review is not None:
                    found[review.ticket] = review
        for rid, n, i, w, d, s, cm in await conn.execute(returned):
            found[RETURN_KEY + rid] = Review(RETURN_KEY + rid, n or "—", i, w, None, d, s, cm or "")
        if not found:
            return found
        for (data,) in await conn.execute(steps):
            e = json.loads(data)
            if e["ticket"] in found:
                found[e["ticket"]].steps.append(_step(e))
    return found


def late_review(e: dict[str, Any], rated_on: date) -> Review | None:
    """A bad rating given after the day of service (`ticket_rated_late`): its loop runs from the
    day it was given, about the window and clerk that finished the service."""
    if e["score"] > BAD:
        return None
    window, clerk = e["parts"][-1] if e["parts"] else (None, None)
    return Review(e["ticket"], e["number"], e["item"], window, clerk, rated_on, e["score"], e.get("comment") or "")


def reviews_now(stored: dict[str, Review], current: DayResult, include_today: bool = True) -> list[Review]:
    """The stored reviews with today's steps, and (if asked) today's own bad ratings, late ones too."""
    found = {k: copy.deepcopy(r) for k, r in stored.items()}
    if include_today:
        for f in current.tickets:
            if f.score is not None and f.score <= BAD:
                found[f.ticket] = Review(f.ticket, f.number, f.item, f.window, f.clerk, current.day, f.score, f.comment)
        for _, e in current.ledger:
            review = late_review(e, current.day) if e["type"] == "ticket_rated_late" else None
            if review is not None:
                found[review.ticket] = review
    for _, e in current.ledger:
        if e["type"] == "review_step_recorded" and e["ticket"] in found:
            found[e["ticket"]].steps.append(_step(e))
    return sorted(found.values(), key=lambda r: (r.rated_on, r.number))


async def reviews(stats: Stats, hall: str, start: date | None = None, end: date | None = None) -> list[Review]:
    """Bad reviews rated in [start, end] (default: the look-back up to today), with every step."""
    today = hall_today(stats.halls[hall])
    stored = await stored_reviews(stats, hall, today, start, end)
    include_today = (start is None or start <= today) and (end is None or end >= today)
    return reviews_now(stored, await stats.today(hall), include_today)


def review_view(stats: Stats, hall: str, r: Review) -> dict[str, Any]:
    catalog = stats.halls[hall].catalog
    chief = chief_of(catalog, r.item)
    status = r.status
    assignee = next((s.get("to") for s in r.steps if s["step"] == "assigned"), None) or (chief.username if chief else None)

    def name(username: str | None) -> str | None:  # pages show people by name, not by login
        user = catalog.users.get(username or "")
        return user.name if user else None

    return {
        "ticket": r.ticket,
        "number": r.number,
        "item": r.item,
        "item_name": catalog.items[r.item].name if r.item in catalog.items else r.item,
        "window": r.window,
        "window_name": catalog.windows[r.window].name if r.window in catalog.windows else r.window,
        "clerk": r.clerk,
        "rated_on": r.rated_on.isoformat(),
        "score": r.score,
        "comment": r.comment,
        "status": status,
        "closed": r.closed,
        "assignee": assignee,
        "assignee_name": name(assignee),
        "due": None if r.closed else review_due(r.open(), catalog).isoformat(),
        "steps": [{**s, "by_name": name(s.get("by"))} for s in r.steps],
    }


def warning_horizon(today: date, days: int) -> date:
    return add_working_days(today, days)


# ------------------------------------------------------------------------------ late ratings


async def service_day(stats: Stats, hall: str, ticket_id: str) -> date | None:
    """The closed hall-day of a ticket its holder may want to rate (好差评 after the day of service):
    served within the longest rating window (`RATING_DAYS_MAX`), or a promised case concluded
    within it (today included), so that a rating a little too late is told it closed rather than
    that the ticket is unknown. None otherwise; the rule decides on what the journal holds."""
    service = stats.halls[hall]
    today = hall_today(service)
    start, end = today - timedelta(days=RATING_DAYS_MAX), today - timedelta(days=1)
    await stats.ensure_closed_days(hall, start, end)
    t, lg = stat_tickets, stat_ledger
    served = select(t.c.day).where(t.c.hall == hall, t.c.day >= start, t.c.day <= end, t.c.ticket == ticket_id)
    concluded = select(lg.c.data).where(
        lg.c.hall == hall, lg.c.type == "case_concluded", lg.c.day >= start, lg.c.day <= end, lg.c.ticket == ticket_id
    )
    async with stats.engine.connect() as conn:
        day = (await conn.execute(served)).scalar()
        if day is not None:
            return day  # type: ignore[no-any-return]
        data = (await conn.execute(concluded)).scalar()
    if data is not None:
        return date.fromisoformat(json.loads(data)["accepted_on"])
    for s in await service.events(today, types=("case_concluded",)):
        if s.data["ticket"] == ticket_id:
            return date.fromisoformat(s.data["accepted_on"])
    return None
