"""The translation catalogue: one JSON file per language, shared by the server and the pages.

`<lang>.json` holds one section per surface (`dashboard`, `terminal`, `display`, `kiosk`,
`mobile`, `book`, `device`, `printer`) and a `common` section for the words several surfaces
say alike. A surface's entry whose value is `"@name"` is the common entry `name`: the word is
written once per language, each surface keeps its own key for it. Every file has the same keys
and the same `{placeholders}` (tests/test_i18n.py).

The files are read once per process; a page gets the resolved words of its surface, in one
language (`words`) or, for pages that switch language without a reload, in both (`both`).
Every call returns a fresh dict: callers may add to it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
REFERENCE = "@"
FOLDER = Path(__file__).parent


@cache
def raw(lang: str) -> dict[str, dict[str, str]]:
    """The file as written, references unresolved."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    data: dict[str, dict[str, str]] = json.loads((FOLDER / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def resolve(lang: str, value: str) -> str:
    return raw(lang)["common"][value[1:]] if value.startswith(REFERENCE) else value


@cache
def _section(lang: str, surface: str) -> dict[str, str]:
    return {key: resolve(lang, value) for key, value in raw(lang)[surface].items()}


def surfaces() -> list[str]:
    return [name for name in raw(DEFAULT) if name != "common"]


def words(lang: str, surface: str) -> dict[str, str]:
    """A surface's words in one language, references resolved (zh-CN for an unknown language)."""
    return dict(_section(lang if lang in LANGUAGES else DEFAULT, surface))


def both(surface: str) -> dict[str, dict[str, str]]:
    """A surface's words in every language, for pages that switch language in the browser."""
    return {lang: words(lang, surface) for lang in LANGUAGES}


def say(lang: str, surface: str, key: str, **values: object) -> str:
    """One entry, with its {placeholders} filled in."""
    text = _section(lang if lang in LANGUAGES else DEFAULT, surface)[key]
    return text.format(**values) if values else text
