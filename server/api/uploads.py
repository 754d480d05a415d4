"""The outboxes on the dashboard: 好差评 ratings pending, sent and refused for a hall
(server/hall/uploads.py), and the text messages of its SMS outbox (server/hall/sms.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.context import json
from server.api.openapi import contract
from server.api.appointments import SMS
from server.api.stats import reader
from server.hall.uploads import RatingUploader
from server.journal.outbox import Upload

routes = web.RouteTableDef()
UPLOADERS = web.AppKey("hallq.uploaders", dict)

# What the panel shows of an upload: where it is, never who rated (no ticket id, no comment).
SHOWN = ("number", "item", "window", "score", "channel", "rated_at")


def _row(u: Upload) -> dict[str, Any]:
    return {
        "rating": u.rating, "day": u.day.isoformat(), **{k: u.record.get(k) for k in SHOWN}, "bad": u.bad,
        "attempts": u.attempts, "next_at": u.next_at.isoformat() if u.next_at else None, "last_status": u.last_status,
        "last_error": u.last_error, "sent_at": u.sent_at,
    }


@routes.get("/api/v1/halls/{hall}/uploads")
@contract("好差评 upload: ratings pending, sent and refused by the provincial platform", response=None, auth="manager",
          tags=("supervision",))
async def uploads(request: web.Request) -> web.Response:
    hall, _ = await reader(request)
    uploader: RatingUploader = request.app[UPLOADERS][hall.hall]
    s = hall.catalog.hall.provincial
    store = uploader.store
    return json({
        "hall": hall.hall,
        "enabled": s.enabled,
        "endpoint": s.endpoint,
        "counts": await store.counts(hall.hall),
        "pending": [_row(u) for u in await store.listed(hall.hall, "pending", 20)],
        "refused": [_row(u) for u in await store.listed(hall.hall, "refused", 20)],
        "sms": {"enabled": hall.catalog.hall.sms.enabled, "gateway": hall.catalog.hall.sms.gateway,
                "counts": await request.app[SMS][hall.hall].store.counts(hall.hall)},
    })
