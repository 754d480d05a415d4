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


def _validation(exc: ValidationError) -> web.Response:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] in ("json_invalid", "json_type") for e in errors):
        return problem(400, "malformed-json", "Malformed JSON", "the body is not a JSON object")
    fields = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]} for e in errors]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return problem(422, "invalid-body", "Invalid request", detail, errors=fields)


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
        resp = problem(exc.status, exc.code, _TITLES.get(exc.status, "Refused"), exc.detail, **exc.extra)
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
