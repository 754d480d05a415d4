"""`hallq init DIR`: a starter configuration for a hall of one's own, from the templates in
starter_hall/ (one hall, three departments, four items, three windows, one kiosk, an admin, a
manager and three clerks). Nobody has a password: each is set before its first login
(`hallq user passwd NAME`); the hall is not a demo, so no account takes the demo password, and
its devices must be approved by a manager."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from . import ConfigError, load_halls

TEMPLATES = Path(__file__).resolve().parent / "starter_hall"
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def write_starter(config_dir: Path, hall_id: str = "hall", hall_name: str = "政务服务中心",
                  timezone: str = "Asia/Shanghai") -> Path:
    """Write DIR/<hall_id>/*.yaml and check that they load; returns the hall's folder. Refuses a
    folder that already holds that hall (ConfigError), so nothing of a running hall is overwritten."""
    if not ID.match(hall_id):
        raise ConfigError(f"{hall_id!r} is not a hall id: lower-case letters, digits, - and _")
    if any(ch in hall_name for ch in "\"\\\n") or not hall_name.strip():
        raise ConfigError(f"{hall_name!r} is not a hall name (one line, no quotes)")
    folder = config_dir / hall_id
    if folder.exists():
        raise ConfigError(f"{folder}: already exists; nothing written")
    folder.mkdir(parents=True)
    values = {"hall_id": hall_id, "hall_name": hall_name, "timezone": timezone, "config_dir": str(config_dir)}
    for template in sorted(TEMPLATES.glob("*.yaml")):
        text = Template(template.read_text(encoding="utf-8")).substitute(values)
        (folder / template.name).write_text(text, encoding="utf-8")
    try:
        load_halls(config_dir)
    except ConfigError:
        for written in folder.iterdir():
            written.unlink()
        folder.rmdir()
        raise
    return folder
