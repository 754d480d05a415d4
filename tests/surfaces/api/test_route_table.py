"""Every API route is declared in the one route table of server/api; the surfaces add only pages."""

from __future__ import annotations

from server.api import Settings, create_app
from server.api.routes import api_routes


def _api(path: str) -> bool:
    return path.startswith(("/api/", "/ws/")) or path == "/metrics"


def test_every_api_route_of_the_app_comes_from_the_route_table(settings: Settings) -> None:
    app = create_app(settings)
    served = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource and _api(r.resource.canonical) and r.method != "HEAD"}
    declared = {(d.method, d.path) for d in api_routes()}  # type: ignore[attr-defined]
    assert len(declared) >= 90
    assert served == declared
    handlers = {r.handler.__module__ for r in app.router.routes() if r.resource and _api(r.resource.canonical)}
    assert all(m.startswith("server.api.") for m in handlers)
