"""What bounds the public channels per request: the proof of work a booking or an online number
carries, the booking-code lock-out and the changes one code may make (see SECURITY.md)."""

from __future__ import annotations

import time
from datetime import datetime

from aiohttp import web

from ..domain.errors import Forbidden
from ..hall import HallService
from ..hall.booking import load_secret
from ..hall.proof import Challenges
from . import models, schemas
from .context import CTX, hall_of, json
from .openapi import contract
from .security import Buckets, Lockout

routes = web.RouteTableDef()
CHALLENGES = web.AppKey("hallq-challenges", Challenges)
CODE_LOOKUPS = web.AppKey("hallq-code-lookups", Lockout)
CODE_CHANGES = web.AppKey("hallq-code-changes", Buckets)

# A booking is moved or cancelled a few times at most: a leaked code cannot churn the slots.
CHANGES_PER_HOUR = 10


@routes.post("/api/v1/halls/{hall}/challenge")
@contract("A proof-of-work challenge for a booking or an online number: find an answer such that SHA-256 of "
          "'challenge:answer' starts with `bits` zero bits, and send both as `proof`", response=schemas.Challenge,
          tags=("appointments",))
async def challenge(request: web.Request) -> web.Response:
    hall = hall_of(request)
    rules = hall.catalog.hall.booking
    c = request.app[CHALLENGES].issue(hall.hall, rules.proof_bits, rules.proof_ttl_s, f"{hall.hall}|{request.remote}")
    resp = json({"challenge": c.text, "bits": c.bits, "expires_at": datetime.fromtimestamp(c.expires_at, hall.tz).isoformat()})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def redeem(request: web.Request, hall: HallService, proof: models.Proof | None) -> None:
    """Accept a public booking or online number only with a solved, fresh, unused challenge (unless
    the hall turned the check off). With an SMS gateway, a one-time code would take its place."""
    if hall.catalog.hall.booking.proof_bits <= 0:
        return
    if proof is None:
        raise Forbidden("proof-required", f"solve a challenge first (POST /api/v1/halls/{hall.hall}/challenge) "
                        "and send it with its answer as proof")
    request.app[CHALLENGES].redeem(hall.hall, proof.challenge, proof.answer)


def setup(app: web.Application) -> None:
    settings = app[CTX].settings
    clock = (lambda: settings.clock.now().timestamp()) if settings.clock is not None else time.time
    app[CHALLENGES] = Challenges(load_secret(settings.data_dir), clock)
    app[CODE_LOOKUPS] = Lockout(clock)
    app[CODE_CHANGES] = Buckets(CHANGES_PER_HOUR / 3600, CHANGES_PER_HOUR)
