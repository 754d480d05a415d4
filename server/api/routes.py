"""Every API route of the server in one table: `/api/v1/...` and the `/ws/v1/...` feeds.

The handlers live in one module per resource beside this one; the surfaces (display, kiosk,
window_terminal, dashboard) add only their pages and static files. The order is the order of
registration, which decides between overlapping paths: keep it.
"""

from __future__ import annotations

from aiohttp import web

from . import (
    admin,
    appointments,
    auth,
    calendar,
    cards,
    devices,
    guard,
    halls,
    kiosks,
    metrics,
    openapi,
    plan,
    realtime,
    region,
    stats,
    supervision,
    terminal,
    tickets,
    uploads,
    windows,
)

API_TABLES: tuple[tuple[str, web.RouteTableDef], ...] = (
    ("auth", auth.routes),  # log in and out, accounts, clerks
    ("calendar", calendar.routes),  # the national calendar of working days
    ("halls", halls.routes),  # halls, their catalogue and state
    ("tickets", tickets.routes),  # issue, look up, cancel, rate
    ("windows", windows.routes),  # the window actions (open, call, finish …)
    ("devices", devices.routes),  # device registration and revocation
    ("realtime", realtime.routes),  # the screens' websocket feed
    ("guard", guard.routes),  # proof-of-work challenges for public bookings
    ("appointments", appointments.routes),  # 网上预约 and 远程取号
    ("openapi", openapi.routes),  # the API document and its page
    ("kiosks", kiosks.routes),  # kiosk tickets, reprints, print agents' and printers' feeds
    ("cards", cards.routes),  # 刷身份证取号: a kiosk's card read as a one-time token
    ("terminal", terminal.routes),  # the window terminal's queue, the evaluator
    ("stats", stats.routes),  # statistics and their exports
    ("supervision", supervision.routes),  # 电子监察: board, alerts, charts, bulletin, reviews, cases
    ("admin", admin.routes),  # hall administration: catalogue revisions, export, import
    ("region", region.routes),  # the region's view of a hall
    ("plan", plan.routes),  # 排班建议: tomorrow's windows from the forecast
    ("metrics", metrics.routes),  # /metrics for Prometheus (outside /api/v1: the usual place)
    ("uploads", uploads.routes),  # 好差评 upload to the provincial platform: pending, sent, refused
)


def api_routes() -> list[web.AbstractRouteDef]:
    """Every API route, in registration order."""
    return [route for _, table in API_TABLES for route in table]
