"""刷身份证取号 at the edge: a kiosk's card read becomes a one-time card token for the kiosk page.

The print agent on the kiosk PC reads the card (kiosk/cardreader.py) and posts the number here;
the number is checked (GB 11643), turned into the person's keyed hash (HMAC-SHA256 with the
server's secret, as for phone numbers) and forgotten. The answer is a short-lived one-time
token, the masked number, whether the holder is offered the priority lane (老年人优先, from the
birth date in the number) and how many numbers the card may still take today; the agent hands
it to the kiosk page, which sends the token with the ticket it takes (server/api/tickets.py).
No answer, log line or stored row ever holds the whole number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from aiohttp import web
from pydantic import Field

from ..domain import idcard
from ..domain.errors import Conflict, Invalid, NotFound
from ..hall import HallService
from . import models
from .context import body, hall_of, json
from .openapi import contract
from .devices import device
from .tickets import ISSUE_LIMIT

routes = web.RouteTableDef()

CARD_TTL_S = 120.0  # a card read is good for one ticket within this time


class CardRead(models.Body):
    id_number: Annotated[str, Field(min_length=1, max_length=32)]


@dataclass(frozen=True, slots=True)
class Read:
    hall: str
    kiosk: str
    person_key: str
    senior: bool
    expires: float
    bookings: tuple[str, ...] = ()  # the codes of the holder's bookings of today, in the answer's order


class CardReads:
    """One-time tokens for card reads, kept in memory for CARD_TTL_S (a restart: read the card again)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._reads: dict[str, Read] = {}

    def person_key(self, number: str) -> str:
        return hmac.new(self._secret, f"id-card:{idcard.normalize(number)}".encode(), hashlib.sha256).hexdigest()[:32]

    def add(self, hall: str, kiosk: str, person_key: str, senior: bool, bookings: tuple[str, ...] = ()) -> str:
        now = time.monotonic()
        for token in [t for t, r in self._reads.items() if r.expires <= now]:
            del self._reads[token]
        token = secrets.token_urlsafe(18)
        self._reads[token] = Read(hall, kiosk, person_key, senior, now + CARD_TTL_S, bookings)
        return token

    def take(self, hall: str, kiosk: str, token: str) -> Read:
        """The read behind a token, once and at its own kiosk: a second ticket needs the card again."""
        read = self._reads.get(token)
        if read is None or (read.hall, read.kiosk) != (hall, kiosk) or read.expires <= time.monotonic():
            raise Conflict("card-expired", "put the ID card on the reader again")
        del self._reads[token]
        return read


CARDS = web.AppKey("hallq-cards", CardReads)


def kiosk_of(request: web.Request, hall: HallService) -> str:
    kiosk = request.match_info["kiosk"]
    if kiosk not in hall.catalog.kiosks:
        raise NotFound("unknown-kiosk", f"no kiosk {kiosk!r} in this hall")
    return kiosk


@routes.post("/api/v1/halls/{hall}/kiosks/{kiosk}/card")
@contract("A card read by the kiosk's print agent: a one-time token, the masked number, the senior lane, numbers left today",
          body=CardRead, response=None, errors=(403, 404, 409), tags=("kiosks",))
async def card(request: web.Request) -> web.Response:
    hall = hall_of(request)
    kiosk = kiosk_of(request, hall)
    rules = hall.catalog.hall.id_cards
    if not rules.enabled:
        raise Conflict("cards-off", "this hall does not take numbers by ID card")
    await device(request, hall, {"print_agent", "kiosk"}, bound=kiosk)  # the kiosk's own devices, where the hall requires them
    await request.app[ISSUE_LIMIT].take(f"{hall.hall}|card:{request.remote}")  # no trying numbers in bulk
    req = await body(request, CardRead)
    state = await hall.current()
    if not idcard.valid(req.id_number, state.day):
        raise Invalid("bad-id-number", "this is not a valid ID number (GB 11643 check character); read the card again")
    key = request.app[CARDS].person_key(req.id_number)
    senior = idcard.senior(req.id_number, state.day, rules)
    taken = idcard.taken_today(state, key)
    # The card holder's bookings of today, to check in: what and when, never their codes (the
    # kiosk names one by its place in this list, with the token).
    mine = [a for a in sorted(state.appointments.values(), key=lambda a: a.slot_start) if a.person_key == key and a.status == "booked"]
    token = request.app[CARDS].add(hall.hall, kiosk, key, senior, tuple(a.code for a in mine))
    booked = [{"booking": n, "item": a.item, "item_name": hall.catalog.items[a.item].name if a.item in hall.catalog.items else a.item,
               "slot_start": a.slot_start.isoformat()} for n, a in enumerate(mine)]
    return json({"card": token, "masked": idcard.mask(req.id_number), "senior": senior, "bookings": booked,
                 "left_today": max(0, rules.per_day - taken), "per_day": rules.per_day, "expires_in_s": CARD_TTL_S})
