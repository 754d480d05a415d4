"""The translation catalogue: every language says every word, with the same placeholders, and every
word a template, a module or a page's script asks for is there (a static scan of the sources)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.printing import devices, jobs
from kiosk.routes import mobile_text
from server.domain.catalog import CaseType
from server.domain.model import Outcome, SuspendKind
from server.domain.settings import Schedule
from server import i18n
from window_terminal import text as terminal_text

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Which sources speak with which section of the catalogue.
SOURCES: dict[str, list[str]] = {
    "dashboard": ["dashboard/templates/*.html", "dashboard/static/*.js", "server/api/supervision.py"],
    "terminal": ["window_terminal/templates/*.html", "window_terminal/static/*.js", "window_terminal/routes.py"],
    "display": ["display/templates/*.html", "display/static/*.js"],
    "kiosk": ["kiosk/templates/kiosk.html", "kiosk/static/kiosk.js", "kiosk/static/care.js", "kiosk/static/parts.js"],
    "mobile": ["kiosk/templates/mobile.html", "kiosk/templates/mobile_missing.html", "kiosk/static/mobile.js"],
    "book": ["kiosk/templates/book.html", "kiosk/static/book.js"],
    "device": ["server/web/static/device.js"],
}

# A key written out: {{ t.key }}, t["key"], text(lang)["key"], t("key"), this.t("key"), data-t="key", dataset.t = "key".
NAMED = [
    re.compile(r"\b(?:t|text)\.([a-z][\w-]*)\b(?!\s*\()"),
    re.compile(r"\b(?:t|text|text\((?:[^()]|\([^()]*\))*\))\[\s*[\"']([\w-]+)[\"']\s*\]"),
    re.compile(r"\bt\(\s*[\"'`]([\w-]+)[\"'`]\s*[,)]"),
    re.compile(r"data-t=\"([\w-]+)\""),
    re.compile(r"dataset\.t\s*=\s*\"([\w-]+)\""),
    re.compile(r"\blabel:\s*\"([\w-]+)\""),  # the admin form's fields name their label's key
]
# A key made up at run time from a written prefix: t(`state_${w.state}`), t['err_' ~ code].
PREFIXED = [
    re.compile(r"(?:\bt\(|\[)\s*`([\w-]+)\$\{"),
    re.compile(r"\blabel:\s*`([\w-]+)\$\{"),
    re.compile(r"\b(?:t|text)\[\s*[\"']([\w-]+)[\"']\s*[~+]"),
]
NOT_KEYS = {"get", "items", "keys", "values", "split", "replace", "length"}


def scan(surface: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The keys and the key prefixes each source of a surface uses, by file."""
    named: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for pattern in SOURCES[surface]:
        files = sorted(ROOT.glob(pattern))
        assert files, pattern
        for f in files:
            source = f.read_text(encoding="utf-8")
            name = str(f.relative_to(ROOT))
            named[name] = {m for p in NAMED for m in p.findall(source)} - NOT_KEYS
            prefixes[name] = {m for p in PREFIXED for m in p.findall(source)}
    return named, prefixes


def spoken(surface: str) -> dict[str, str]:
    """What the pages of a surface get: the mobile ticket adds the domain's rating words."""
    return mobile_text()["zh-CN"] if surface == "mobile" else i18n.words("zh-CN", surface)


def test_every_language_has_every_key_and_no_other() -> None:
    first = i18n.raw(i18n.DEFAULT)
    for lang in i18n.LANGUAGES:
        data = i18n.raw(lang)
        assert list(data) == list(first), lang
        for section, entries in data.items():
            missing, extra = set(first[section]) - set(entries), set(entries) - set(first[section])
            assert not missing and not extra, (lang, section, missing, extra)
            assert all(isinstance(v, str) for v in entries.values()), (lang, section)


def test_placeholders_match_between_languages() -> None:
    for surface in ["common", *i18n.surfaces()]:
        for key, value in i18n.raw(i18n.DEFAULT)[surface].items():
            shown = {lang: i18n.resolve(lang, i18n.raw(lang)[surface][key]) for lang in i18n.LANGUAGES}
            names = {lang: sorted(PLACEHOLDER.findall(text)) for lang, text in shown.items()}
            assert len({tuple(n) for n in names.values()}) == 1, (surface, key, names)


def test_common_words_are_referred_to_alike_in_every_language_and_each_is_used() -> None:
    used: set[str] = set()
    for surface in i18n.surfaces():
        for key, value in i18n.raw(i18n.DEFAULT)[surface].items():
            for lang in i18n.LANGUAGES:
                other = i18n.raw(lang)[surface][key]
                # a word is common in every language or in none: otherwise it is not one word
                assert other.startswith(i18n.REFERENCE) == value.startswith(i18n.REFERENCE), (lang, surface, key)
                if other.startswith(i18n.REFERENCE):
                    assert other == value, (lang, surface, key)
                    assert other[1:] in i18n.raw(lang)["common"], (lang, surface, key, other)
            if value.startswith(i18n.REFERENCE):
                used.add(value[1:])
    assert used == set(i18n.raw(i18n.DEFAULT)["common"]), set(i18n.raw(i18n.DEFAULT)["common"]) - used


def test_no_surface_writes_out_a_common_word_again() -> None:
    for lang in i18n.LANGUAGES:
        common = set(i18n.raw(lang)["common"].values())
        for surface in i18n.surfaces():
            for key, value in i18n.raw(lang)[surface].items():
                if not value.startswith(i18n.REFERENCE) and value in common:
                    other = {k for k, v in i18n.raw(lang)["common"].items() if v == value}
                    # the same text in one language may be two words in the other (窗口: Window, Windows)
                    assert all(
                        i18n.resolve(o, i18n.raw(o)[surface][key]) != i18n.raw(o)["common"][c]
                        for c in other for o in i18n.LANGUAGES if o != lang
                    ), (lang, surface, key, value)


@pytest.mark.parametrize("surface", sorted(SOURCES))
def test_every_key_the_sources_use_is_in_the_catalogue(surface: str) -> None:
    have = spoken(surface)
    named, prefixes = scan(surface)
    assert any(named.values()), surface  # the scan sees the sources' words at all
    for source, keys in named.items():
        assert not keys - set(have), (source, sorted(keys - set(have)))
    for source, found in prefixes.items():
        for prefix in found:
            assert any(k.startswith(prefix) and k != prefix for k in have), (source, prefix)


SAY = re.compile(r"""\b(?:say|words)\(\s*[^,()]+,\s*["'](\w+)["']\s*(?:,\s*["']([\w-]+)["'])?""")

BOTH = re.compile(r"""\bboth\(\s*["'](\w+)["']\s*\)""")


def test_every_surface_and_key_python_names_is_in_the_catalogue() -> None:
    """say(lang, "surface", "key"), words(lang, "surface") and both("surface") anywhere in the server and the surfaces."""
    seen = 0
    for package in ("server", "kiosk", "display", "window_terminal", "dashboard"):
        for f in sorted((ROOT / package).rglob("*.py")):
            for surface, key in SAY.findall(f.read_text(encoding="utf-8")):
                seen += 1
                assert surface in i18n.surfaces(), (f, surface)
                assert not key or key in i18n.words(i18n.DEFAULT, surface), (f, surface, key)
            for surface in BOTH.findall(f.read_text(encoding="utf-8")):
                seen += 1
                assert surface in i18n.surfaces(), (f, surface)
    assert seen >= 12, seen


def test_the_scan_catches_a_missing_key() -> None:
    source = 'x = t("no_such_word") + t.another_missing + t[\'third\'] + text(f(x))["fourth"]; y = t(`state_${s}`)'
    keys = {m for p in NAMED for m in p.findall(source)}
    assert keys == {"no_such_word", "another_missing", "third", "fourth"}
    assert {m for p in PREFIXED for m in p.findall(source)} == {"state_"}


def test_the_words_made_from_names_are_all_there() -> None:
    for lang in i18n.LANGUAGES:
        assert [c["id"] for c in terminal_text.case_types(lang)] == [c.value for c in CaseType]
        assert [o["id"] for o in terminal_text.outcomes(lang)] == [o.value for o in Outcome]
        assert [k["id"] for k in terminal_text.suspend_kinds(lang)] == [k.value for k in SuspendKind]
        assert len(terminal_text.pause_reasons(lang)) == len(terminal_text.PAUSE_REASONS)
        assert set(i18n.words(lang, "printer")) == set(devices.STATES)
        assert {jobs.message(lang, s) for s in devices.STATES} <= set(i18n.words(lang, "printer").values())


def test_a_page_gets_one_language_and_an_unknown_one_falls_back_to_chinese() -> None:
    assert i18n.words("en", "display")["title"] == "Service hall"
    assert i18n.words("fr", "display") == i18n.words("zh-CN", "display")
    assert i18n.both("kiosk")["en"]["lang"] == "中文" and i18n.both("kiosk")["zh-CN"]["lang"] == "English"
    assert i18n.say("en", "terminal", "asked", number="A001") == "Asked A001 to rate"
    words = i18n.words("en", "display")
    words["title"] = "changed"
    assert i18n.words("en", "display")["title"] == "Service hall"  # each caller gets its own copy


# The admin form's labels that write a field's range, and the field whose items it is.
LABEL_RANGES = {"f_weekdays": (Schedule, "weekdays"), "f_opening_weekdays": (Schedule, "weekdays")}


def test_a_range_a_label_writes_is_the_models() -> None:
    """The form's limits come from the models (dashboard/forms.py); a label that spells a range out
    must say the same, in every language."""
    for lang in i18n.LANGUAGES:
        for key, label in i18n.words(lang, "dashboard").items():
            found = re.findall(r"(?<![\d:])(\d+)-(\d+)(?![\d:])", label)
            if not key.startswith("f_") or not found:
                continue
            assert key in LABEL_RANGES, (lang, key, label)
            model, field = LABEL_RANGES[key]
            schema = model.model_json_schema()["properties"][field]["items"]
            assert found == [(str(schema["minimum"]), str(schema["maximum"]))], (lang, key, label)
