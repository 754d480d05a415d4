"""Shared plumbing for the browser surfaces: templates, static files, page language.

Each surface package (kiosk, display, window_terminal, dashboard) keeps its own routes,
`templates/` and `static/`, and exposes `setup(app)`; this module gives them the same way
to render a page and serve its assets. Nothing is loaded from a CDN: every asset is served
from the installed packages. Shared ES modules live in server/web/static, at /static/common/. The words of every page come from
the translation catalogue in server/i18n.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..i18n import DEFAULT, LANGUAGES


def package_dir(package: str) -> Path:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    return Path(module.__file__).parent


@cache
def environment(package: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader(package, "templates"), jinja2.PackageLoader("server.web", "templates")]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env


def language(request: web.Request) -> str:
    """zh-CN unless the page asks for English (?lang=en, or the `lang` cookie)."""
    asked = request.query.get("lang") or request.cookies.get("lang") or DEFAULT
    return asked if asked in LANGUAGES else DEFAULT


def render(package: str, template: str, request: web.Request, **context: Any) -> web.Response:
    html = environment(package).get_template(template).render(lang=language(request), **context)
    resp = web.Response(text=html, content_type="text/html", charset="utf-8")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def add_static(app: web.Application, package: str, name: str) -> None:
    """Serve `<package>/static/` at /static/<name>/."""
    folder = package_dir(package) / "static"
    if folder.is_dir():
        app.router.add_static(f"/static/{name}/", folder, append_version=False)


def setup_common(app: web.Application) -> None:
    add_static(app, "server.web", "common")
    app.router.add_get("/favicon.ico", favicon)  # every browser asks; a 404 in every page's log otherwise


async def favicon(request: web.Request) -> web.Response:
    """The hall's icon (an SVG: browsers take the type from the answer, not from the name)."""
    body = (package_dir("server.web") / "static" / "favicon.svg").read_bytes()
    return web.Response(body=body, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})
