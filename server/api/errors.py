"""The one place where failures become answers: application/problem+json, never a traceback."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..domain.errors import DomainError
from ..i18n import LANGUAGES, both, say
from ..journal import Unavailable, is_database_fault
from .observe import REQUEST_ID

log = logging.getLogger("hallq.api")

PROBLEM = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": f"urn:hallq:problem:{code}", "title": title, "status": status, "detail": detail, **extra}
    rid = REQUEST_ID.get()
    if rid != "-":  # the id of the log lines about this request (server/api/observe.py)
        body["request_id"] = rid
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM,
        charset="utf-8",
    )


# pydantic's error types, by the word a page shows for them (server/i18n "problems": v_…).
_KINDS = {"missing": "missing", "string_too_short": "string_too_short", "string_too_long": "string_too_long",
          "too_short": "too_short", "too_long": "too_long", "greater_than_equal": "greater_than_equal",
          "less_than_equal": "less_than_equal", "greater_than": "greater_than", "less_than": "less_than",
          "int_parsing": "int", "int_type": "int", "int_from_float": "int", "float_parsing": "number", "float_type": "number",
          "bool_parsing": "bool", "bool_type": "bool", "literal_error": "choice", "enum": "choice",
          "string_pattern_mismatch": "pattern", "extra_forbidden": "extra", "datetime_parsing": "time",
          "datetime_from_date_parsing": "time", "date_parsing": "time", "date_from_datetime_parsing": "time",
          "time_parsing": "time", "datetime_type": "time", "date_type": "time", "time_type": "time"}


def _says(key: str, ctx: dict[str, Any] | None = None) -> dict[str, str]:
    """One problem in each page language: what a page shows instead of the English detail."""
    ctx = {k: v for k, v in (ctx or {}).items() if isinstance(v, (int, float, str))}
    try:
        return {lang: say(lang, "problems", key, **ctx) for lang in LANGUAGES}
    except (KeyError, IndexError):  # a limit the error did not carry
        return {lang: say(lang, "problems", "v_other") for lang in LANGUAGES}


def _validation(exc: ValidationError) -> web.Response:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] in ("json_invalid", "json_type") for e in errors):
        return problem(400, "malformed-json", "Malformed JSON", "the body is not a JSON object", says=_says("malformed-json"))
    fields = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"],
               "says": _says(f"v_{_KINDS.get(e['type'], 'other')}", e.get("ctx"))} for e in errors]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    says = {lang: "；".join(f["says"][lang] for f in fields) if lang != "en" else "; ".join(f["says"][lang] for f in fields)
            for lang in LANGUAGES}
    return problem(422, "invalid-body", "Invalid request", detail, errors=fields, says=says)


_WORDED = frozenset(k for k in both("problems")["en"] if not k.startswith("v_"))

_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict", 422: "Invalid request", 423: "Locked", 429: "Too many requests", 503: "Service unavailable"}


def _unavailable(detail: str) -> web.Response:
    resp = problem(503, "unavailable", "Service unavailable", detail)
    resp.headers["Retry-After"] = "2"
    return resp


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        extra = dict(exc.extra)
        if exc.code in _WORDED:  # a refusal a page shows as it is: in the page's language too
            extra["says"] = _says(exc.code)
        resp = problem(exc.status, exc.code, _TITLES.get(exc.status, "Refused"), exc.detail, **extra)
        if "retry_after" in exc.extra:
            resp.headers["Retry-After"] = str(exc.extra["retry_after"])
        return resp
    except ValidationError as exc:
        return _validation(exc)
    except Unavailable as exc:
        return _unavailable(str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}.get(exc.status, "http-error")
        resp = problem(exc.status, code, exc.reason, exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason)
        for name in ("Allow", "WWW-Authenticate", "Retry-After"):
            if name in exc.headers:
                resp.headers[name] = exc.headers[name]
        return resp
    except Exception as exc:
        if isinstance(exc, (SQLAlchemyError, sqlite3.Error)) and is_database_fault(exc):
            # Raised outside a bounded connection block: still the database's fault, not a bug.
            log.warning("database fault on %s %s: %r", request.method, request.path, exc)
            return _unavailable("the journal is unavailable, please try again")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "internal", "Internal error", "the server failed on this request; it has been logged")
