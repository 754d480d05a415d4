"""好差评: what a rating given in the hall becomes on the provincial 好差评 platform. Pure.

Since the 2019 national rules every rating given in a hall (at the window's evaluator or on the
citizen's phone) reaches the province's 好差评 system. hallq keeps an outbox of them
(server/outbox, driven by server/hall/uploads.py); this module says which journal events are
ratings, what a rating carries (`record`), how a province names its fields (`to_platform`,
`Provincial.fields` in the hall's settings), what an answer of the platform means (`outcome`)
and when a refused-for-now upload is tried again (`retry_after`).

Idempotence: a rating's id comes from its ticket's id (一次一评: one rating per ticket), sent with
every attempt, so a platform that got it before answers "duplicate" and nothing counts twice.
It is a hash of the ticket's id, never the id itself: that opens the citizen's mobile ticket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .delivery import due, outcome, retry_after
from .ratings import BAD_AT_MOST, LEVELS
from .settings import DEFAULT_FIELDS, RATING_FIELDS

__all__ = ["DEFAULT_FIELDS", "RATING_FIELDS", "RETURN_KEY", "Returned", "channel_of", "due", "follow_up", "from_platform", "returned", "is_bad", "outcome", "rating_id", "record", "retry_after", "to_platform"]

# 评价渠道 of the national scheme: 1 = 窗口评价器 (window), 2 = 移动端 (the citizen's phone).
CHANNELS: dict[str, str] = {"window": "1", "mobile": "2"}

RATING_TYPES = frozenset({"ticket_evaluated"})
TICKET_TYPES = frozenset({"ticket_issued"})

@dataclass(frozen=True, slots=True)
class Ticket:
    """What the upload needs of a rated ticket, from its `ticket_issued` event."""

    number: str
    item: str


def rating_id(ticket: str) -> str:
    """The rating's id on the platform: stable for one ticket, and no way back to the ticket's id."""
    return hashlib.sha256(f"hallq-rating:{ticket}".encode()).hexdigest()[:32]


def channel_of(rating: dict[str, Any]) -> str:
    """A rating given on a window's evaluator is recorded by it ("evaluator-<window>",
    server/api/terminal.py); one from the citizen's phone by its holder."""
    return "window" if str(rating.get("by", "")).startswith("evaluator") else "mobile"


def is_bad(score: int) -> bool:
    """差评: the scores that open the follow-up loop (server/domain/supervision.py)."""
    return score <= BAD_AT_MOST


def record(rating: dict[str, Any], ticket: Ticket | None, *, hall_code: str, region_code: str,
           item_name: str | None = None, window_name: str | None = None) -> dict[str, Any]:
    """A `ticket_evaluated` event (as journalled) as hallq's rating record: RATING_FIELDS and the window's id.

    Never a person's data: no phone, no ID number, no name; the comment is the citizen's own words."""
    score = int(rating["score"])
    return {
        "rating_id": rating_id(rating["ticket"]),
        "hall_code": hall_code,
        "region_code": region_code,
        "channel": CHANNELS[channel_of(rating)],
        "number": ticket.number if ticket else "",
        "item": item_name or (ticket.item if ticket else ""),
        "item_code": ticket.item if ticket else "",
        "window": window_name or rating.get("window") or "",
        "window_id": rating.get("window") or "",  # hallq's own (for a rating sent back), never sent
        "score": score,
        "level": LEVELS[score],
        "efficiency": rating.get("efficiency"),
        "proficiency": rating.get("proficiency"),
        "attitude": rating.get("attitude"),
        "reasons": ",".join(rating.get("reasons") or ()),
        "comment": rating.get("comment") or "",
        "rated_at": rating["at"],
    }


def to_platform(rec: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """The record under the platform's names; a hallq field the mapping leaves out is not sent."""
    return {fields[k]: v for k, v in rec.items() if k in fields}


RETURN_KEY = "province:"  # a returned bad rating's key in the follow-up loop (in place of a ticket id)


@dataclass(frozen=True, slots=True)
class Returned:
    """A bad rating the platform sent back to the hall for follow-up (差评回传)."""

    rating_id: str
    score: int
    comment: str
    rated_on: date
    number: str = ""
    item: str = ""  # hallq's item id when the platform names one of the hall's items
    window: str | None = None


def from_platform(row: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """A platform's row under hallq's names (the mapping read backwards); unknown names are dropped."""
    back = {theirs: ours for ours, theirs in fields.items()}
    return {back[k]: v for k, v in row.items() if k in back}


def returned(row: dict[str, Any], fields: dict[str, str]) -> Returned | None:
    """A returned row as a bad rating, or None when it is not one (no id, no date, not 1 or 2)."""
    rec = from_platform(row, fields)
    try:
        score = int(rec["score"])
        rated_on = datetime.fromisoformat(str(rec["rated_at"])).date()
        rating = str(rec["rating_id"]).strip()
    except (KeyError, TypeError, ValueError):
        return None
    if not rating or len(rating) > 60 or not 1 <= score <= 5 or not is_bad(score):
        return None
    return Returned(rating, score, str(rec.get("comment") or "")[:500], rated_on, str(rec.get("number") or "")[:20],
                    str(rec.get("item_code") or "")[:40], None)


def follow_up(r: Returned, ours: dict[str, Any] | None) -> Returned | None:
    """Whether a returned bad rating opens a review here: not when hallq rated it bad itself (that
    review is open already); with the hall's own number, item and window when the rating is one
    of hallq's (`ours`: its upload record), changed on the platform since."""
    if ours is None:
        return r
    if is_bad(int(ours.get("score") or 5)):
        return None
    return Returned(r.rating_id, r.score, r.comment, r.rated_on, str(ours.get("number") or ""),
                    str(ours.get("item_code") or ""), str(ours.get("window_id") or "") or None)
