"""Reading hall config files within limits: a zip as a bounded stream, and strict YAML.

The same reader serves the config folder at start and an import through the API. An import
comes from a manager's browser, so everything about it is bounded: the zip's entries and the
bytes they unpack to (counted while reading: the sizes a zip declares are the sender's word),
the YAML values, their nesting, and the time it all takes. Strict YAML refuses what would mean
something other than it says: a key given twice (YAML keeps the last silently), and anchors
and aliases (one value shared in many places, or a "billion laughs").
"""

from __future__ import annotations

import gc
import io
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode
from yaml.resolver import Resolver

try:  # libyaml parses about five times faster; the pure-Python parser is the fallback
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class ImportLimits:
    """How much of a hall's config files one import (or one file at start) may hold.

    A city's whole catalogue (about 700 items with their six publics) is about 2.7 MB of YAML,
    25,000 values nested 5 deep, read in about a third of a second on a busy two-core machine."""

    max_bytes: int = 4 * 1024 * 1024  # the request body of an import (a zip, or JSON holding the files)
    max_unpacked_bytes: int = 8 * 1024 * 1024  # what a zip's files unpack to, all together
    max_entries: int = 32  # entries in a zip, folders included
    max_nodes: int = 200_000  # YAML values (scalars, lists, mappings) in all the files of an import
    max_depth: int = 32  # YAML nesting
    parse_s: float | None = 1.0  # reading, parsing and checking an import, off the event loop (None: no limit)


class Budget:
    """What is left of the limits while one import (or one config file) is read."""

    CHECK_EVERY = 512  # values between looks at the clock

    def __init__(self, limits: ImportLimits | None = None, timed: bool = True) -> None:
        self.limits = limits or ImportLimits()
        seconds = self.limits.parse_s if timed else None
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.nodes = 0
        self.unpacked = 0

    def in_time(self, where: str) -> None:
        if self.deadline is None:
            return
        time.sleep(0)  # lets the event loop's thread take the GIL now, not after the interpreter's switch interval
        if time.monotonic() > self.deadline:
            raise ConfigError(f"{where}: reading took longer than {self.limits.parse_s:g} s (the import's time limit); "
                              "import fewer or smaller files")

    def node(self, where: str) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise ConfigError(f"{where}: more than {self.limits.max_nodes} values in the import; no hall's catalogue holds so many")
        if self.nodes % self.CHECK_EVERY == 0:
            self.in_time(where)

    def unpack(self, where: str, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.max_unpacked_bytes:
            raise ConfigError(f"{where}: the files unpack to more than {self.limits.max_unpacked_bytes // 1024} KiB")
        self.in_time(where)


# -- strict YAML ---------------------------------------------------------------------------------
class _StrictLoader(Composer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc, valid-type]
    """libyaml's events composed in Python, so that every value is counted, its depth and the
    clock checked, and anchors refused before anything is built."""

    def __init__(self, stream: str, name: str, budget: Budget) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.name = name
        self.budget = budget
        self.depth = 0

    def _at(self, node_or_event: Any) -> str:
        return f"{self.name}: line {node_or_event.start_mark.line + 1}"

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ConfigError(f"{self._at(event)}: anchors and aliases (& and *) are not accepted: write the value out")
        self.budget.node(self._at(event))
        if self.depth >= self.budget.limits.max_depth:
            raise ConfigError(f"{self._at(event)}: nested more than {self.budget.limits.max_depth} deep")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                continue  # SafeConstructor refuses a list or mapping as a key itself
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(f"{self.name}: line {line}: merge keys (<<) are not accepted: write the keys out")
            key = self.construct_object(key_node)
            if key in first:
                raise ConfigError(f"{self.name}: line {line}: duplicate key {key!r} (first on line {first[key]}); "
                                  "YAML would keep only the last")
            first[key] = line
        return super().construct_mapping(node, deep)


def load_yaml(text: str, name: str, budget: Budget | None = None) -> Any:
    """One YAML document as plain data, strictly (see the module), within `budget`; ConfigError
    names `name`, the line and what is wrong."""
    loader = _StrictLoader(text, name, budget or Budget())
    try:
        with _no_collections():
            return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    except RecursionError:  # below max_depth only if the interpreter's own limit was set lower
        raise ConfigError(f"{name}: nested too deep") from None
    finally:
        loader.dispose()


@contextmanager
def _no_collections() -> Iterator[None]:
    """No cyclic garbage collection while a document is built. Its nodes, events and marks (about
    eight objects a value, none in a cycle: reference counting frees them) would set off full
    collections that walk the whole process holding the GIL: 0.75 s stalls of the event loop
    measured with 200,000 values. The budget bounds how long collection waits."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- zip -------------------------------------------------------------------------------------------
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # each read of these unpacks a bounded amount
_CHUNK = 64 * 1024


def unzip(raw: bytes, budget: Budget) -> dict[str, str]:
    """The YAML files of a zip (name -> text), read as bounded streams within `budget`."""
    limits = budget.limits
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = z.infolist()
            if len(infos) > limits.max_entries:
                raise ConfigError(f"the zip holds {len(infos)} entries; a hall's config files are at most {limits.max_entries}")
            files = {}
            for info in infos:
                name = info.filename
                if info.is_dir() or not name.endswith((".yaml", ".yml")) or name.startswith("__MACOSX"):
                    continue
                if info.compress_type not in _METHODS:
                    raise ConfigError(f"{name}: compressed with method {info.compress_type}; an export uses deflate")
                if info.flag_bits & 0x1:
                    raise ConfigError(f"{name}: encrypted")
                files[name] = _read_entry(z, info, budget).decode("utf-8")
            return files
    except ConfigError:
        raise
    except UnicodeDecodeError:
        raise ConfigError("the zip holds a file that is not UTF-8 text") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
            zlib.error) as exc:
        raise ConfigError(f"not a zip of YAML files: {exc}") from None


def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    chunks = []
    try:
        with z.open(info) as f:
            while chunk := f.read(_CHUNK):
                budget.unpack(info.filename, len(chunk))
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ConfigError(f"{info.filename}: damaged: {exc}") from None
    return b"".join(chunks)
