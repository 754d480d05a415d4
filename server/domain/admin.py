"""Hall administration: how a catalogue may change, what a change changes, and its record.

Pure, like the rest of the domain: the same models that validate the config files
(catalog.py) validate every edit and import; nothing is ever deleted (a department, item or
window leaves the hall by being retired, so its tickets can still be served and counted);
an edit cannot strand a ticket issued today; and `diff` says field by field what a change
does, for the confirm step and the audit.
"""

from __future__ import annotations

from collections.abc import Callable
import re
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from . import commands as cmd
from . import events as ev
from .catalog import HallConfig
from .errors import Conflict, DomainError, Invalid
from .model import OPEN_STATUSES, HallDay

KINDS = ("departments", "items", "windows", "kiosks")
EDITED = ("departments", "items", "windows")  # kiosks are devices, wired at start: config files only
NAMES = {"departments": "department", "items": "item", "windows": "window", "kiosks": "kiosk"}
MAX_ERRORS = 50


class CatalogInvalid(Invalid):
    """A change the catalogue's rules refuse; `errors` name each field (`items.<id>.prefix`)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__("catalog-invalid", detail, errors=errors)


def document(config: HallConfig) -> dict[str, Any]:
    """The catalogue as stored in a revision: everything but the staff accounts (they live apart)."""
    return config.model_dump(mode="json", exclude={"users"})


def validate(data: dict[str, Any], users: tuple[Any, ...] = ()) -> HallConfig:
    """The document as a HallConfig, or CatalogInvalid naming every field at fault."""
    try:
        return HallConfig.model_validate({**data, "users": users})
    except ValidationError as exc:
        raise CatalogInvalid(field_errors(exc, data)) from None


_PLACE = re.compile(r"^(\w+)\[(\d+)\](?: \(([^)]*)\))?(?:\.([\w.]+))?: (.*)$", re.S)


def _ident(data: dict[str, Any], kind: str, index: int) -> str:
    try:
        entry = data[kind][index]
        return str(entry.get("id") or entry.get("username") or index)
    except (KeyError, IndexError, TypeError, AttributeError):
        return str(index)


def field_errors(exc: ValidationError, data: dict[str, Any]) -> list[dict[str, str]]:
    """Pydantic's errors as `{field, message}`, entries named by id (`items.a1.prefix`), not index."""
    out = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = list(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if loc and loc[0] == "users":
            loc = []
        if not loc:  # a cross-check of the whole hall: its message names the place, by index
            m = _PLACE.match(message)
            if m:
                kind, index, _label, attr, rest = m.groups()
                field = f"{kind}.{_ident(data, kind, int(index))}" + (f".{attr}" if attr else "")
                out.append({"field": field, "message": rest})
                continue
            head = message.split(":", 1)[0]
            out.append({"field": head if head.isidentifier() else "catalog", "message": message})
            continue
        kind = str(loc.pop(0))
        parts = [kind]
        if loc and isinstance(loc[0], int) and kind in KINDS:
            parts.append(_ident(data, kind, loc.pop(0)))
        parts += [str(p) for p in loc]
        out.append({"field": ".".join(parts), "message": message})
    # A field whose own part failed also fails as a whole ("at least 1 item"): name the part only.
    parents = {f[:i] for f in (o["field"] for o in out) for i, ch in enumerate(f) if ch == "."}
    return _at_most([e for e in out if e["field"] not in parents])


def _at_most(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """An answer names the first MAX_ERRORS faults: a junk import may hold a hundred thousand."""
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], {"field": "catalog", "message": f"{len(errors) - MAX_ERRORS} more faults not listed"}]


def edit(
    config: HallConfig,
    hall: dict[str, Any] | None = None,
    upserts: dict[str, list[dict[str, Any]]] | None = None,
) -> HallConfig:
    """The catalogue with `hall` settings replaced and entries upserted by id (a new id adds one).

    Entries are never removed: to take one out of service, set `retired: true`."""
    data = document(config)
    if hall is not None:
        if hall.get("id", config.hall.id) != config.hall.id:
            raise CatalogInvalid([{"field": "hall.id", "message": f"a hall keeps its id {config.hall.id!r}"}])
        data["hall"] = {**hall, "id": config.hall.id}
    for kind, entries in (upserts or {}).items():
        if kind not in EDITED:
            raise CatalogInvalid([{"field": kind, "message": f"only {', '.join(EDITED)} are edited here"}])
        current = data[kind]
        where = {e["id"]: n for n, e in enumerate(current)}
        for entry in entries:
            ident = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(ident, str):
                raise CatalogInvalid([{"field": f"{kind}.id", "message": "every entry names its id"}])
            if ident in where:
                current[where[ident]] = entry
            else:
                where[ident] = len(current)
                current.append(entry)
    return validate(data, config.users)


def merge_import(current: HallConfig, imported: dict[str, Any], with_hall: bool = False) -> HallConfig:
    """Another hall's catalogue (or this one's export) in place of this one's.

    What the import lacks is kept and retired, never deleted; the hall keeps its id (and all
    its settings unless `with_hall`) and its kiosks (devices are wired at start)."""
    errors = id_errors(imported)
    if errors:
        raise CatalogInvalid(_at_most(errors))
    data = document(current)
    if with_hall and isinstance(imported.get("hall"), dict):
        data["hall"] = {**imported["hall"], "id": current.hall.id}
    for kind in EDITED:
        entries = imported.get(kind)
        if not isinstance(entries, list):
            raise CatalogInvalid([{"field": kind, "message": f"the import has no list of {kind}"}])
        ids = {e.get("id") for e in entries if isinstance(e, dict)}
        kept = [{**e, "retired": True} for e in data[kind] if e["id"] not in ids]
        data[kind] = [*entries, *kept]
    return validate(data, current.users)


# -- ids in documents not validated yet (imports, config files) ----------------------------------
ID_FIELDS = {"departments": ("id",), "items": ("id", "department"), "windows": ("id",), "kiosks": ("id",), "users": ("username",)}
ID_LISTS = {"windows": ("items",), "users": ("windows",)}


def _found(value: Any) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false", int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def id_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    """Every entry of a raw document is a mapping and every id in it is text. Ids key the merge
    of an import and the shared catalogue before the models see them, so a list, a number or a
    date where an id belongs is named here (`items[0].id`), not left to fail as a crash."""
    out = []
    for kind, fields in ID_FIELDS.items():
        entries = data.get(kind)
        if not isinstance(entries, list):
            continue
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                out.append({"field": f"{kind}[{n}]", "message": f"expected the {NAMES.get(kind, 'account')}'s fields, found {_found(entry)}"})
                continue
            for f in fields:
                if f in entry and not isinstance(entry[f], str):
                    out.append({"field": f"{kind}[{n}].{f}", "message": f"an id is text, found {_found(entry[f])}"})
            for f in ID_LISTS.get(kind, ()):
                values = entry.get(f)
                for m, v in enumerate(values if isinstance(values, list) else ()):
                    if not isinstance(v, str):
                        out.append({"field": f"{kind}[{n}].{f}[{m}]", "message": f"an id is text, found {_found(v)}"})
    return out


def check_change(old: HallConfig, new: HallConfig, state: HallDay | None = None) -> None:
    """The rules a change obeys beyond the models: nothing is deleted, and (for a change in force
    today) no ticket issued today is left without a window that could call it."""
    errors = []
    for kind in ("departments", "items", "windows"):
        kept = {e.id for e in getattr(new, kind)}
        for e in getattr(old, kind):
            if e.id not in kept:
                errors.append({"field": f"{kind}.{e.id}", "message": f"a {NAMES[kind]} is not deleted: retire it"})
    if errors:
        raise CatalogInvalid(errors)
    if state is None:
        return
    serving: set[str] = set()
    for w in new.windows:
        if not w.retired:
            serving.update(w.items)
    pinned = {t.target_window for t in state.tickets.values() if t.status in OPEN_STATUSES and t.target_window}
    windows = {w.id: w for w in new.windows}
    for item, ids in state.waiting.items():
        if ids and item not in serving:
            raise CatalogInvalid([{
                "field": f"items.{item}",
                "message": f"{len(ids)} ticket(s) of this item wait today and no open window would serve them",
            }])
    for w in sorted(pinned):
        if w in windows and windows[w].retired:
            raise CatalogInvalid([{"field": f"windows.{w}.retired", "message": "tickets transferred to this window wait today"}])


def check_effective(today: date, effective: date, pending: date | None) -> None:
    """A change takes effect today or later, and not before a change already waiting for its day
    (revisions are in force in the order they were made)."""
    if effective < today:
        raise Invalid("bad-effective", f"effective: {effective.isoformat()} has passed; choose today or later")
    if pending is not None and effective < pending:
        raise Conflict(
            "pending-revision",
            f"effective: a change waits for {pending.isoformat()}; this one cannot take effect before it",
            pending=pending.isoformat(),
        )


def check_withdraw(rev: int, newest: int, effective: date, today: date) -> None:
    """Only the newest revision, and only while it waits for its day, may be withdrawn: one in
    force is undone by a new change, and a later one was made on top of it."""
    if rev != newest:
        raise Conflict("not-newest", f"revision {rev} is not the newest ({newest}); withdraw that one first", newest=newest)
    if effective <= today:
        raise Conflict("in-force", f"revision {rev} is in force since {effective.isoformat()}: make a new change instead")


# -- the diff ------------------------------------------------------------------------------------
def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: value}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = _flat(before), _flat(after)
    return [
        {"field": f, "before": a.get(f), "after": b.get(f)}
        for f in sorted(set(a) | set(b))
        if a.get(f) != b.get(f) and f != "retired"
    ]


def diff(old: HallConfig, new: HallConfig) -> dict[str, Any]:
    """Field by field, what turns `old` into `new`: hall settings, then per list the entries
    added, retired, restored and changed (each with its changed fields, before and after)."""
    a, b = document(old), document(new)
    out: dict[str, Any] = {"hall": _changes(a["hall"], b["hall"])}
    for kind in KINDS:
        before = {e["id"]: e for e in a.get(kind, [])}
        after = {e["id"]: e for e in b.get(kind, [])}
        section: dict[str, list[Any]] = {"added": [], "removed": [], "retired": [], "restored": [], "changed": []}
        for ident, e in after.items():
            label = {"id": ident, "name": e.get("name", "")}
            if ident not in before:
                section["added"].append(label)
                continue
            was, now = bool(before[ident].get("retired")), bool(e.get("retired"))
            if now and not was:
                section["retired"].append(label)
            elif was and not now:
                section["restored"].append(label)
            fields = _changes(before[ident], e)
            if fields:
                section["changed"].append({**label, "fields": fields})
        section["removed"] = [{"id": i, "name": e.get("name", "")} for i, e in before.items() if i not in after]
        out[kind] = section
    return out


def is_empty(d: dict[str, Any]) -> bool:
    return not d["hall"] and not any(v for kind in KINDS for v in d[kind].values())


def summary(d: dict[str, Any]) -> str:
    """One line for the journal and the history list, e.g. "items +1 ~2 retired 1; hall notice"."""
    parts = []
    if d["hall"]:
        parts.append("hall " + ", ".join(c["field"] for c in d["hall"][:4]) + (" …" if len(d["hall"]) > 4 else ""))
    for kind in KINDS:
        s = d[kind]
        bits = [f"+{len(s['added'])}" if s["added"] else "", f"~{len(s['changed'])}" if s["changed"] else "",
                f"retired {len(s['retired'])}" if s["retired"] else "", f"restored {len(s['restored'])}" if s["restored"] else "",
                f"-{len(s['removed'])}" if s["removed"] else ""]
        bits = [x for x in bits if x]
        if bits:
            parts.append(f"{kind} " + " ".join(bits))
    return "; ".join(parts) or "no change"


def record_change(state: HallDay, c: cmd.RecordCatalogChange, now: datetime) -> list[ev.Event]:
    """The day's stream records that revision `rev` was stored, by whom and from when."""
    if c.rev < 1:
        raise Invalid("bad-revision", "revisions are numbered from 1 (0 is the config files)")
    if c.effective < state.day:
        raise Invalid("bad-effective", f"effective: {c.effective.isoformat()} has passed")
    return [ev.CatalogChanged(at=now, by=c.by, rev=c.rev, effective=c.effective, summary=c.summary[:500])]


def record_withdrawal(state: HallDay, c: cmd.RecordCatalogWithdrawal, now: datetime) -> list[ev.Event]:
    if c.rev < 1:
        raise Invalid("bad-revision", "revisions are numbered from 1 (0 is the config files)")
    return [ev.CatalogRevisionWithdrawn(at=now, by=c.by, rev=c.rev)]


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.RecordCatalogChange: record_change,
    cmd.RecordCatalogWithdrawal: record_withdrawal,
}


__all__ = [
    "CatalogInvalid", "DomainError", "check_change", "check_effective", "check_withdraw", "diff", "document", "edit", "field_errors",
    "id_errors", "is_empty", "merge_import", "record_change", "record_withdrawal", "summary", "validate",
]
