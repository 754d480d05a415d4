"""Hall administration (后台管理): the catalogue, windows, schedules, calendar and notices, in the browser.

The API under /api/v1/halls/{hall}/admin/… (managers and admins) previews and saves changes,
lists the revisions, exports the hall as its config files and imports them back. Every rule
lives in server/domain/admin.py and the catalogue's own models; the service stores the
revision, records a `catalog_changed` event and takes the change (server/hall).
"""

from __future__ import annotations

import asyncio
import io
import math
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from server.api import models, schemas
from server.api.context import allowed, body, hall_of, json
from server.api.openapi import contract
from server.auth import Staff
from server.api.security import TooMany
from server.config import Budget, ConfigError, ImportLimits, dump_hall, parse_files, unzip
from server.domain import admin
from server.domain.catalog import Action, HallConfig
from server.domain.errors import Invalid, NotFound
from server.hall import HallService
from server.journal.revisions import Revision

routes = web.RouteTableDef()

ADMIN = "/api/v1/halls/{hall}/admin"


async def _admin(request: web.Request) -> tuple[HallService, Staff]:
    hall = hall_of(request)
    # Reading the catalogue's revisions is reading; changing them is editing the catalogue.
    who = await allowed(request, Action.read_records if request.method == "GET" else Action.edit_catalog, hall)
    if hall.revisions is None:
        raise NotFound("no-revisions", "this hall's catalogue is not stored in a database")
    return hall, who


def _info(r: Revision | None, in_force: int, today: date) -> dict[str, Any]:
    if r is None:  # revision 0: the config files the server started from
        return {"rev": 0, "at": None, "by": "config", "effective": None, "summary": "config files",
                "in_force": in_force == 0, "pending": False, "withdrawn": None}
    withdrawn = {"at": r.withdrawn_at, "by": r.withdrawn_by} if r.withdrawn_at else None
    return {"rev": r.rev, "at": r.at, "by": r.by, "effective": r.effective.isoformat(), "summary": r.summary,
            "in_force": r.rev == in_force, "pending": r.effective > today and not withdrawn, "withdrawn": withdrawn}


def _plan_view(hall: HallService, plan: dict[str, Any], saved: bool, ignored: list[str] | None = None) -> dict[str, Any]:
    return {"hall": hall.hall, "saved": saved, "base": plan["base"], "rev": plan["rev"], "effective": plan["effective"].isoformat(),
            "summary": plan["summary"], "diff": plan["diff"], "ignored": ignored or []}


async def _plan_or_save(hall: HallService, who: Staff, base_rev: int, new: Any, effective: date | None, dry_run: bool,
                        ignored: list[str] | None = None) -> web.Response:
    if dry_run:
        return json(_plan_view(hall, await hall.plan_change(base_rev, new, effective), False, ignored))
    plan = await hall.change_catalog(base_rev, new, effective, who.user.username)
    return json(_plan_view(hall, plan, True, ignored), status=201)


@routes.get(ADMIN + "/catalog")
@contract("The catalogue to edit (the newest revision) and the revisions so far", response=schemas.AdminCatalog,
          auth="manager", tags=("admin",))
async def get_catalog(request: web.Request) -> web.Response:
    hall, _ = await _admin(request)
    today = (await hall.current()).day
    rev, effective, config = await hall.latest_catalog()
    assert hall.revisions is not None
    revisions = [_info(r, hall.rev, today) for r in await hall.revisions.list(hall.hall)] + [_info(None, hall.rev, today)]
    return json({"hall": hall.hall, "rev": rev, "in_force": hall.rev, "effective": effective.isoformat() if effective else None,
                 "today": today.isoformat(), "document": admin.document(config), "revisions": revisions})


@routes.post(ADMIN + "/catalog")
@contract("Preview (dry_run) or save a change of the catalogue: hall settings, departments, items, windows",
          body=models.CatalogEdit, response=schemas.CatalogPlan, status=201, auth="manager", errors=(409,), tags=("admin",))
async def change_catalog(request: web.Request) -> web.Response:
    hall, who = await _admin(request)
    req = await body(request, models.CatalogEdit)
    _, _, base = await hall.latest_catalog()
    upserts = {kind: getattr(req, kind) for kind in admin.EDITED if getattr(req, kind)}
    new = admin.edit(base, hall=req.hall, upserts=upserts)
    return await _plan_or_save(hall, who, req.base_rev, new, req.effective, req.dry_run)


@routes.get(ADMIN + "/revisions/{rev}")
@contract("One revision: who, when, from which day, its catalogue and what it changed", response=schemas.RevisionDetail,
          auth="manager", tags=("admin",))
async def get_revision(request: web.Request) -> web.Response:
    hall, _ = await _admin(request)
    assert hall.revisions is not None
    try:
        rev = int(request.match_info["rev"])
    except ValueError:
        raise Invalid("bad-revision", "a revision is a whole number") from None
    today = (await hall.current()).day
    stored = await hall.revisions.get(hall.hall, rev) if rev > 0 else None
    if rev != 0 and stored is None:
        raise NotFound("unknown-revision", f"no revision {rev}")
    config = admin.validate(stored.document, hall.catalog.config.users) if stored and stored.document else hall.seed
    before = hall.seed
    if rev > 1:
        prev = await hall.revisions.get(hall.hall, rev - 1)
        if prev is not None and prev.document is not None:
            before = admin.validate(prev.document, hall.catalog.config.users)
    return json({**_info(stored, hall.rev, today), "document": admin.document(config), "diff": admin.diff(before, config)})


@routes.post(ADMIN + "/revisions/{rev}/withdraw")
@contract("Withdraw the newest revision while it still waits for its day (it stays, marked, never in force)",
          response=schemas.RevisionInfo, auth="manager", errors=(409,), tags=("admin",))
async def withdraw_revision(request: web.Request) -> web.Response:
    hall, who = await _admin(request)
    try:
        rev = int(request.match_info["rev"])
    except ValueError:
        raise Invalid("bad-revision", "a revision is a whole number") from None
    withdrawn = await hall.withdraw_revision(rev, who.user.username)
    return json(_info(withdrawn, hall.rev, (await hall.current()).day))


@routes.get(ADMIN + "/export")
@contract("The hall's configuration in force as config/<hall>/*.yaml files in a zip (accounts without passwords)",
          auth="manager", tags=("admin",))
async def export(request: web.Request) -> web.Response:
    hall, _ = await _admin(request)
    await hall.current()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in dump_hall(hall.config, users=hall.catalog.config.users).items():
            z.writestr(f"{hall.hall}/{name}", text)
    filename = f"{hall.hall}-config-rev{hall.rev}.zip"
    return web.Response(body=buf.getvalue(), content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_import(raw: bytes, zipped: bool, query: Mapping[str, str], base: HallConfig,
                 limits: ImportLimits) -> tuple[models.CatalogImport, HallConfig, list[str]]:
    """In the import thread: the body unpacked, parsed and merged into `base`, within `limits`."""
    budget = Budget(limits)
    try:
        if zipped:
            try:
                req = models.CatalogImport.model_validate({
                    "base_rev": query.get("base_rev", "-1"), "files": unzip(raw, budget), "with_hall": query.get("with_hall", "false"),
                    "effective": query.get("effective") or None, "dry_run": query.get("dry_run", "false"),
                })
            except ValidationError as exc:
                raise Invalid("bad-import", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
        else:
            req = models.CatalogImport.model_validate_json(raw or b"{}")
        data = parse_files(req.files, budget)
    except ConfigError as exc:
        raise Invalid("bad-import", str(exc)) from None
    ignored = [name for name in ("users", "kiosks") if data.get(name)]
    return req, admin.merge_import(base, data, with_hall=req.with_hall), ignored


class ImportReader:
    """Imports are read one at a time per process, in a thread of their own: a big or slow one
    costs that thread its time limit, never the event loop every hall of the process runs on."""

    def __init__(self, limits: ImportLimits) -> None:
        self.limits = limits
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="hallq-import")
        self._free = asyncio.Semaphore(1)

    async def read(self, *args: Any) -> tuple[models.CatalogImport, HallConfig, list[str]]:
        wait = self.limits.parse_s or 10.0
        try:
            await asyncio.wait_for(self._free.acquire(), wait)
        except asyncio.TimeoutError:
            raise TooMany("import-busy", "another import is being read; try again in a moment", retry_after=math.ceil(wait)) from None
        future = asyncio.get_running_loop().run_in_executor(self._pool, _read_import, *args, self.limits)
        # The slot is free when the thread is, even if this request is gone: the reader stops at its own deadline.
        future.add_done_callback(lambda _: self._free.release())
        return await asyncio.shield(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


IMPORTS = web.AppKey("admin-imports", ImportReader)


def setup(app: web.Application, limits: ImportLimits) -> None:
    """The import reader; the app's lifespan closes its thread pool."""
    app[IMPORTS] = ImportReader(limits)


@routes.post(ADMIN + "/import")
@contract("Preview (dry_run) or apply hall config files (an export, or another hall's) in place of the catalogue",
          body=models.CatalogImport, response=schemas.CatalogPlan, status=201, auth="manager", errors=(409, 413, 429), tags=("admin",))
async def import_catalog(request: web.Request) -> web.Response:
    """JSON `{base_rev, files: {name: yaml text}, …}`, or a zip as exported (application/zip) with
    `?base_rev=&effective=&with_hall=&dry_run=` in the query; within the import limits (SECURITY.md)."""
    hall, who = await _admin(request)
    reader = request.app[IMPORTS]
    raw = await _read_limited(request, reader.limits.max_bytes)
    _, _, base = await hall.latest_catalog()
    req, new, ignored = await reader.read(raw, request.content_type == "application/zip", dict(request.query), base)
    return await _plan_or_save(hall, who, req.base_rev, new, req.effective, req.dry_run, ignored)
