"""Loading halls from the files in a config directory, with errors that name file and field.

Layout: one folder per hall, `DIR/<hall>/`, holding `hall.yaml`, `departments.yaml`,
`items.yaml`, `windows.yaml`, `users.yaml` and optionally `kiosks.yaml` (each a mapping or a
list, as in config/demo/).
The models that validate them are the engine's own catalogue (server/domain/catalog.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..domain.catalog import Catalog, HallConfig

FILES = {"hall": "hall.yaml", "departments": "departments.yaml", "items": "items.yaml", "windows": "windows.yaml", "users": "users.yaml", "kiosks": "kiosks.yaml"}
OPTIONAL = ("users", "kiosks")


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the field."""


def default_config_dir() -> Path:
    """The `config/` folder beside the packages (a source checkout or editable install), else ./config."""
    here = Path(__file__).resolve().parents[2] / "config"
    return here if here.is_dir() else Path.cwd() / "config"


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


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


def load_hall(folder: Path) -> HallConfig:
    data: dict[str, Any] = {}
    for key, name in FILES.items():
        path = folder / name
        if key in OPTIONAL and not path.exists():
            continue
        value = _read(path)
        if key == "hall":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a mapping of the hall's settings")
        elif not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list of {key}")
        data[key] = value
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
    for folder in sorted(p for p in config_dir.iterdir() if (p / FILES["hall"]).is_file()):
        config = load_hall(folder)
        for u in config.users:
            if u.username in owner:
                raise ConfigError(f"{folder / FILES['users']}: username {u.username!r} is used in hall {owner[u.username]!r} too")
            owner[u.username] = config.hall.id
        halls[config.hall.id] = Catalog(config)
    if not halls:
        raise ConfigError(f"{config_dir}: no hall folders (each needs a {FILES['hall']})")
    return halls


# -- export and import (hall administration) ---------------------------------------------------
def dump_hall(config: HallConfig, users: tuple[Any, ...] | None = None) -> dict[str, str]:
    """The hall as the YAML files `load_hall` reads (file name -> text): what an export holds.

    Defaults are left out, as in hand-written files; `users` (no passwords, ever) replaces the
    config's accounts when given (the live set, with changes made on the staff page)."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    if users is not None:
        data["users"] = [u.model_dump(mode="json", exclude_defaults=True) for u in users]
    data["hall"] = {"id": config.hall.id, **data.get("hall", {})}
    out = {}
    for key, name in FILES.items():
        value = data.get(key, {} if key == "hall" else [])
        if key in OPTIONAL and not value:
            continue
        out[name] = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=120)
    return out


def parse_files(files: dict[str, str]) -> dict[str, Any]:
    """YAML texts by file name (as `dump_hall` makes them) as the raw data of a hall, unvalidated."""
    names = {name: key for key, name in FILES.items()}
    data: dict[str, Any] = {}
    for name, text in files.items():
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        key = names.get(base) or names.get(base.removesuffix(".yml") + ".yaml")
        if key is None:
            raise ConfigError(f"{name}: not a hall config file (expected one of {', '.join(FILES.values())})")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name}: not valid YAML: {exc}") from None
        if key == "hall" and not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a mapping of the hall's settings")
        if key != "hall" and not isinstance(value, list):
            raise ConfigError(f"{name}: expected a list of {key}")
        data[key] = value
    missing = [FILES[k] for k in ("departments", "items", "windows") if k not in data]
    if missing:
        raise ConfigError(f"{', '.join(missing)}: missing from the import")
    return data
