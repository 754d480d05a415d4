"""The terminal's words (from the translation catalogue) and its key bindings (one key per action)."""

from __future__ import annotations

from server.domain.catalog import CaseType
from server.domain.model import Outcome, SuspendKind
from server.i18n import words

# One key per action, shown on its button. Letters, not F-keys: browsers keep F5, F11, F12.
KEYS: list[tuple[str, str]] = [
    ("O", "open"),
    ("N", "call-next"),
    ("R", "recall"),
    ("S", "start"),
    ("F", "finish"),
    ("X", "no-show"),
    ("T", "transfer"),
    ("H", "suspend"),
    ("P", "pause"),
    ("U", "resume"),
    ("B", "handover"),
    ("E", "evaluation"),
    ("D", "reprint"),  # 补打 (bǔ dǎ): the current ticket, when its print failed
    ("C", "close"),
]

# The pause dialog's reasons, in the order offered; each is the catalogue's `pause_<reason>`.
PAUSE_REASONS = ("away", "meeting", "training", "meal", "handover")


def text(lang: str) -> dict[str, str]:
    """The terminal's words in one language."""
    return words(lang, "terminal")


def _named(lang: str, prefix: str, ids: list[str]) -> list[dict[str, str]]:
    t = text(lang)
    return [{"id": i, "name": t[f"{prefix}_{i}"]} for i in ids]


def case_types(lang: str) -> list[dict[str, str]]:
    return _named(lang, "case", [c.value for c in CaseType])


def outcomes(lang: str) -> list[dict[str, str]]:
    return _named(lang, "outcome", [o.value for o in Outcome])


def suspend_kinds(lang: str) -> list[dict[str, str]]:
    return _named(lang, "suspend", [k.value for k in SuspendKind])


def pause_reasons(lang: str) -> list[str]:
    t = text(lang)
    return [t[f"pause_{r}"] for r in PAUSE_REASONS]
