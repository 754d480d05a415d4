"""Loading halls from the files in a config directory, with errors that name file and field.

Layout: one folder per hall, `DIR/<hall>/`, holding `hall.yaml`, `departments.yaml`,
`items.yaml`, `windows.yaml`, `users.yaml` and optionally `kiosks.yaml` (each a mapping or a
list, as in config/demo/).
A hall whose hall.yaml names `catalog_from: <hall>` takes that hall's departments and items
(the shared 事项清单), as far as its own windows serve them; its own departments.yaml and
items.yaml, then optional, add local ones. `parent` and `level` place it in the region
(config/examples/region/ shows a city, a county and a township).
The models that validate them are the engine's own catalogue (server/domain/catalog.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..domain.admin import id_errors
from ..domain.catalog import Catalog, HallConfig
from ..domain.national import CalendarYear
from ..domain.catalog import post_warnings
from ..domain.region import Region, RegionError
from .reading import Budget, ConfigError, ImportLimits, load_yaml, unzip

FILES = {"hall": "hall.yaml", "departments": "departments.yaml", "items": "items.yaml", "windows": "windows.yaml", "users": "users.yaml", "kiosks": "kiosks.yaml"}
OPTIONAL = ("users", "kiosks")
log = logging.getLogger("hallq.config")

__all__ = ["Budget", "ConfigError", "ImportLimits", "default_config_dir", "dump_hall", "load_hall", "load_halls", "parse_files", "unzip"]


def default_config_dir() -> Path:
    """The demo halls: `config/` beside the packages in a source checkout or an editable install,
    else the copy shipped inside the package (`server/demo_halls`, put there by setup.py), else
    ./config."""
    here = Path(__file__).resolve().parents[2] / "config"
    if (here / "demo" / "hall.yaml").is_file():
        return here
    shipped = Path(__file__).resolve().parents[1] / "demo_halls"
    return shipped if shipped.is_dir() else Path.cwd() / "config"


def _read(path: Path, parsed: dict[str, Any] | None = None) -> Any:
    """A config file, as strictly as an import (server/config/reading.py), without its time limit:
    nothing waits on the server while it starts. `parsed`: texts read already in this load (a
    province's township folders repeat the same windows over and over), by text: shared, so
    what is read is never changed (load_hall builds new lists; validation copies)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if parsed is None:
        return load_yaml(text, str(path), Budget(timed=False))
    if text not in parsed:
        parsed[text] = load_yaml(text, str(path), Budget(timed=False))
    return parsed[text]


def _entry_label(data: dict[str, Any], key: str, index: int) -> str:
    try:
        entry = data[key][index]
        ident = entry.get("id") or entry.get("username")
        return f"[{index}] ({ident})" if ident else f"[{index}]"
    except Exception:
        return f"[{index}]"


def _explain(folder: Path, data: dict[str, Any], exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if not loc:
            m = re.match(r"^(\w+)", msg)
            key = m.group(1) if m and m.group(1) in FILES else "hall"
            lines.append(f"{folder / FILES[key]}: {msg}")
            continue
        key = str(loc.pop(0))
        field = ""
        if loc and isinstance(loc[0], int):
            field = _entry_label(data, key, loc.pop(0))
        rest = ".".join(str(p) for p in loc)
        where = f"{field}.{rest}" if field and rest else field or rest or key
        lines.append(f"{folder / FILES.get(key, key)}: {where}: {msg}")
    return "\n".join(lines)


def _shared(folder: Path, data: dict[str, Any], source: HallConfig) -> None:
    """Put the shared catalogue's departments and items that this hall's windows serve before its own."""
    served = {i for w in data.get("windows", []) if isinstance(w, dict) for i in (w.get("items") or [])}
    for key, shared in (("items", source.items), ("departments", source.departments)):
        local = {entry.get("id") for entry in data.get(key, []) if isinstance(entry, dict)}
        for entry in shared:
            if entry.id in local:
                raise ConfigError(f"{folder / FILES[key]}: {entry.id}: is in the shared catalogue of "
                                  f"{source.hall.id!r} already (give the local one another id)")
    items = [i for i in source.items if i.id in served]
    used = {i.department for i in items}
    departments = [d for d in source.departments if d.id in used]
    data["items"] = [i.model_dump(mode="json", exclude_defaults=True) for i in items] + list(data.get("items", []))
    data["departments"] = [d.model_dump(mode="json", exclude_defaults=True) for d in departments] + list(data.get("departments", []))


def load_hall(folder: Path, sources: dict[str, HallConfig] | None = None, parsed: dict[str, Any] | None = None) -> HallConfig:
    data: dict[str, Any] = {}
    source: HallConfig | None = None
    hall_data = _read(folder / FILES["hall"], parsed)
    if isinstance(hall_data, dict) and hall_data.get("catalog_from"):
        source = (sources or {}).get(str(hall_data["catalog_from"]))
        if source is None:
            raise ConfigError(f"{folder / FILES['hall']}: catalog_from: no hall {hall_data['catalog_from']!r} to share a catalogue with")
    for key, name in FILES.items():
        path = folder / name
        if (key in OPTIONAL or (source is not None and key in ("departments", "items"))) and not path.exists():
            continue
        value = _read(path, parsed)
        if key == "hall":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a mapping of the hall's settings")
        elif not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list of {key}")
        data[key] = value
    bad = id_errors(data)
    if bad:
        lines = []
        for e in bad:
            kind, _, rest = e["field"].partition("[")
            lines.append(f"{folder / FILES[kind]}: [{rest}: {e['message']}")
        raise ConfigError("\n".join(lines))
    if source is not None:
        _shared(folder, data, source)
    try:
        config = HallConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(folder, data, exc)) from None
    if config.hall.id != folder.name:
        raise ConfigError(f"{folder / FILES['hall']}: id: {config.hall.id!r} differs from its folder name {folder.name!r}")
    return config


def load_halls(config_dir: Path) -> dict[str, Catalog]:
    """Every hall below `config_dir`; usernames are unique across halls (login names no hall)."""
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: no such config directory")
    halls: dict[str, Catalog] = {}
    owner: dict[str, str] = {}
    configs: dict[str, HallConfig] = {}
    parsed: dict[str, Any] = {}
    for folder in _in_catalogue_order(sorted(p for p in config_dir.iterdir() if (p / FILES["hall"]).is_file()), parsed):
        config = load_hall(folder, configs, parsed)
        configs[config.hall.id] = config
        for warning in post_warnings(config):  # accepted, shown on the board (AB岗, server/domain/catalog.py)
            log.warning("%s: %s", folder / FILES["windows"], warning)
        for u in config.users:
            if u.username in owner:
                raise ConfigError(f"{folder / FILES['users']}: username {u.username!r} is used in hall {owner[u.username]!r} too")
            owner[u.username] = config.hall.id
        halls[config.hall.id] = Catalog(config)
    if not halls:
        raise ConfigError(f"{config_dir}: no hall folders (each needs a {FILES['hall']})")
    try:
        Region.of(c.hall for c in halls.values())
    except RegionError as exc:
        raise ConfigError(f"{config_dir}: {exc}") from None
    return halls


def _in_catalogue_order(folders: list[Path], parsed: dict[str, Any] | None = None) -> list[Path]:
    """Halls that share another's catalogue come after it (a loop is reported by load_hall)."""
    source: dict[str, str | None] = {}
    for folder in folders:
        data = _read(folder / FILES["hall"], parsed)
        source[folder.name] = str(data["catalog_from"]) if isinstance(data, dict) and data.get("catalog_from") else None
    done: list[Path] = []
    by_name = {f.name: f for f in folders}
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen or name not in by_name:
            return
        if name in path:
            raise ConfigError(f"{by_name[name] / FILES['hall']}: catalog_from: the halls' catalog_from form a loop")
        parent = source.get(name)
        if parent:
            visit(parent, path + (name,))
        seen.add(name)
        done.append(by_name[name])

    for f in folders:
        visit(f.name, ())
    return done


# -- export and import (hall administration) ---------------------------------------------------
def dump_hall(config: HallConfig, users: tuple[Any, ...] | None = None) -> dict[str, str]:
    """The hall as the YAML files `load_hall` reads (file name -> text): what an export holds.

    Defaults are left out, as in hand-written files; `users` (no passwords, ever) replaces the
    config's accounts when given (the live set, with changes made on the staff page)."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    if users is not None:
        data["users"] = [u.model_dump(mode="json", exclude_defaults=True) for u in users]
    # An export holds the whole catalogue, shared entries included: it names no catalog_from.
    data["hall"] = {"id": config.hall.id, **{k: v for k, v in data.get("hall", {}).items() if k != "catalog_from"}}
    out = {}
    for key, name in FILES.items():
        value = data.get(key, {} if key == "hall" else [])
        if key in OPTIONAL and not value:
            continue
        out[name] = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=120)
    return out


def parse_files(files: dict[str, str], budget: Budget | None = None) -> dict[str, Any]:
    """YAML texts by file name (as `dump_hall` makes them) as the raw data of a hall, unvalidated,
    read strictly and within `budget` (one budget for all the files of an import)."""
    names = {name: key for key, name in FILES.items()}
    data: dict[str, Any] = {}
    given: dict[str, str] = {}
    budget = budget or Budget()
    for name, text in files.items():
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        key = names.get(base) or names.get(base.removesuffix(".yml") + ".yaml")
        if key is None:
            raise ConfigError(f"{name}: not a hall config file (expected one of {', '.join(FILES.values())})")
        if key in given:
            raise ConfigError(f"{name}: {given[key]} is in the import too; give each file once")
        given[key] = name
        value = load_yaml(text, name, budget)
        if key == "hall" and not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a mapping of the hall's settings")
        if key != "hall" and not isinstance(value, list):
            raise ConfigError(f"{name}: expected a list of {key}")
        data[key] = value
    missing = [FILES[k] for k in ("departments", "items", "windows") if k not in data]
    if missing:
        raise ConfigError(f"{', '.join(missing)}: missing from the import")
    return data


CALENDAR_DIR = "calendar"


def load_calendar_years(config_dir: Path) -> list[CalendarYear]:
    """The national calendar's years published after this release, as files in
    `DIR/calendar/` (one year a file, `2027.yaml`, in the shape of server/domain/national_calendar.json)."""
    folder = config_dir / CALENDAR_DIR
    if not folder.is_dir():
        return []
    years: list[CalendarYear] = []
    for path in sorted(folder.glob("*.y*ml")) + sorted(folder.glob("*.json")):
        try:
            years.append(CalendarYear.model_validate(_read(path)))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'year'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{path}: {problems}") from None
    return years
