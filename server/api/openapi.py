"""The OpenAPI 3.1 document, built from the routes and the same models that validate bodies.

A handler states its contract with `@contract(...)`: the request body model (the one it
validates with), the answer model, the status, who may call it. The document is assembled
from the app's router when it is first asked for (the routes are frozen once the app has
started), so a route cannot exist without appearing in it, and the schema tests check real
answers against it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from .. import __version__
from . import schemas

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Contract:
    summary: str
    response: Any = None  # a model, list[model], or None for no body
    status: int = 200
    body: type[BaseModel] | None = None
    auth: str = "public"  # public | staff | manager | device (X-Device-Token) | evaluator (device or X-Evaluator-Token)
    errors: tuple[int, ...] = ()
    query: tuple[tuple[str, str, bool], ...] = ()  # (name, description, required)
    tags: tuple[str, ...] = field(default_factory=tuple)


def contract(summary: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(handler: Callable[..., Any]) -> Callable[..., Any]:
        handler.__contract__ = Contract(summary, **kw)  # type: ignore[attr-defined]
        return handler

    return mark


def _schema_of(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    adapter = TypeAdapter(annotation)
    schema = adapter.json_schema(ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    return schema


def build(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = {schemas.Problem}
    defs: dict[str, Any] = {}
    for route in app.router.routes():
        handler = route.handler
        c: Contract | None = getattr(handler, "__contract__", None)
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if c is None or path is None or route.method == "HEAD":
            continue
        op: dict[str, Any] = {"summary": c.summary, "tags": list(c.tags) or [path.split("/")[3] if path.count("/") > 3 else "api"]}
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "pattern": r"^[^/]+$"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        params += [{"name": n, "in": "query", "required": r, "description": d, "schema": {"type": "string"}} for n, d, r in c.query]
        if params:
            op["parameters"] = params
        if c.body is not None:
            models.add(c.body)
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=c.body.__name__)}}},
            }
        responses: dict[str, Any] = {}
        if c.response is None:
            responses[str(c.status)] = {"description": "done"}
        else:
            responses[str(c.status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": _schema_of(c.response, defs)}},
            }
        problem = {"content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}}
        errors = set(c.errors) | {400, 404, 413, 422, 503}
        if c.auth != "public":
            errors |= {401, 403}
            op["security"] = {"device": [{"device": []}], "evaluator": [{"evaluator": []}, {"device": []}]}.get(
                c.auth, [{"bearer": []}])
        for code in sorted(errors):
            responses[str(code)] = {"description": "problem", **problem}
        op["responses"] = responses
        paths.setdefault(path, {})[route.method.lower()] = op
    _, top = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF)
    defs.update(top.get("$defs", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hallq",
            "version": __version__,
            "description": "Queue numbers, lobby screens and e-supervision for government service halls (政务服务中心).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(defs.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "device": {"type": "apiKey", "in": "header", "name": "X-Device-Token"},
                "evaluator": {"type": "apiKey", "in": "header", "name": "X-Evaluator-Token"},
            },
        },
    }


SPEC = web.AppKey("openapi", dict)
routes = web.RouteTableDef()


def spec_of(app: web.Application) -> dict[str, Any]:
    """The app's document, built on the first request for it: building it takes longer than the
    rest of an app's start-up, and most processes (and every test's app) never serve it."""
    if not app[SPEC]:
        app[SPEC].update(build(app))
    return app[SPEC]


@routes.get("/api/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(spec_of(request.app))


@routes.get("/api/v1/docs")
async def docs(request: web.Request) -> web.Response:
    """A plain page listing every operation, rendered on the server (no CDN, no script)."""
    spec = spec_of(request.app)
    rows = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            auth = "🔒 " if op.get("security") else ""
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            codes = ", ".join(op["responses"])
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{auth}{html.escape(op['summary'])}</td><td>{html.escape(body.rsplit('/', 1)[-1])}</td><td>{codes}</td></tr>"
            )
    page = (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>hallq API</title>"
        "<link rel='stylesheet' href='/static/common/docs.css'>"
        "<h1>hallq API v1</h1><p>The machine-readable document: <a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>."
        " 🔒 needs <code>Authorization: Bearer</code> from <code>POST /api/v1/auth/login</code>. Errors are"
        " <code>application/problem+json</code>.</p><table><tr><th>method</th><th>path</th><th>what</th><th>body</th>"
        "<th>answers</th></tr>" + "".join(rows) + "</table></html>"
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def setup(app: web.Application) -> None:
    """The document's place; it is built from the routes on its first request (see spec_of)."""
    app[SPEC] = {}
