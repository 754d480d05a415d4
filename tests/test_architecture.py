"""The layers of docs/architecture.md, held by reading every module's imports (ast, function-level
imports and `importlib.import_module("literal")` included).

The rules and their known exceptions are the two tables below; adjust them there. A rule that no
longer matches any module, and an exception that no longer excuses anything, fail too, so the
tables cannot silently drift from the tree.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "kiosk", "display", "window_terminal", "dashboard")
SURFACES = ("kiosk", "display", "window_terminal", "dashboard")
STDLIB = "<stdlib>"  # any module of sys.stdlib_module_names

# The domain's standard library: data, time arithmetic and text; nothing that waits, stores,
# sends, reads a clock or draws a random number (no asyncio, socket, os, time, random, logging).
PURE_STDLIB = ("__future__", "collections", "dataclasses", "datetime", "enum", "functools", "hashlib",
               "json", "math", "re", "string", "types", "typing", "unicodedata", "zoneinfo")
PURE_LIBRARIES = ("pydantic",)  # validation models for the catalogue and settings


@dataclass(frozen=True)
class Rule:
    name: str
    applies_to: tuple[str, ...]  # module prefixes
    forbid: tuple[str, ...] = ()  # import prefixes never allowed ...
    allow_only: tuple[str, ...] | None = None  # ... or the only ones allowed (STDLIB: the standard library)
    exempt: tuple[str, ...] = ()  # exact module names the rule skips
    closure: bool = False  # follow hallq imports (and the packages Python runs first) from applies_to


RULES = (
    Rule("domain is pure", ("server.domain",), allow_only=("server.domain", *PURE_STDLIB, *PURE_LIBRARIES)),
    Rule("adapters know only the domain", ("server.journal", "server.bus", "server.auth", "server.config",
                                           "server.migrations"),
         forbid=("server.hall", "server.stats", "server.api", "server.web", *SURFACES)),
    Rule("shared helpers need only the standard library", ("server.tasks", "server.limits", "server.scheduler"), allow_only=(STDLIB,)),
    Rule("services know no HTTP", ("server.hall", "server.stats"), forbid=("server.api", "server.web", "aiohttp", *SURFACES)),
    # create_app (server/api/__init__.py) loads the surfaces by name: it and the CLI are the composition roots.
    Rule("the server never imports a surface", ("server",), forbid=SURFACES, exempt=("server.api", "server.cli")),
    *(Rule(f"{s} imports no other surface", (s,), forbid=tuple(o for o in SURFACES if o != s)) for s in SURFACES),
    # What kiosk/agent.py needs on a kiosk PC: its websocket (its registration call is the
    # standard library's) the printer drivers, with their own libraries, and the ID-card
    # readers' drivers (kiosk/cardreader.py, pyserial) and relay (kiosk/cardrelay.py); nothing else of
    # hallq (deploy/agent-requirements.txt; tests/system/test_agent_install.py runs it so).
    Rule("the print agent stays light", ("kiosk.agent",), closure=True, allow_only=(
        STDLIB, "websockets", "escpos", "usb", "serial", "win32print",
        "kiosk.agent", "kiosk.cardreader", "kiosk.cardrelay", "server.printing.devices", "server.printing.spooled")),
    Rule("the translation catalogue is plain data", ("server.i18n",), allow_only=(STDLIB,)),
    # The protocols as plain objects (python-websockets' sans-I/O manner): fed events and the
    # time, they return what to send; their drivers own the sockets, the clock and the journal.
    # What a screen and an answer show: plain functions of the hall's state (no server.api, no aiohttp).
    Rule("the feed's rendering and views are pure", ("server.feed.render", "server.feed.views"),
         allow_only=("server.domain", "server.feed.views", *PURE_STDLIB)),
    Rule("the feed and print-job machines do no I/O", ("server.feed.machine", "server.printing.jobs"),
         forbid=("asyncio", "socket", "time", "aiohttp", "sqlalchemy", "redis", "server.journal", "server.bus",
                 "server.api", "server.hall")),
)

_KIOSK_INIT = ("kiosk/__init__.py imports the kiosk's pages inside setup(), which only the server calls: "
               "`python -m kiosk.agent` runs the package's __init__ without them")
# (rule name, importing module, imported prefix): why it is allowed for now.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("domain is pure", "server.domain.national", "importlib"):
        "packaged() reads national_calendar.json shipped inside the package, once at import: data, not an adapter",
    ("services know no HTTP", "server.stats.schemas", "server.api"): "answer models of the statistics routes",
    **{("the print agent stays light", "kiosk", name): _KIOSK_INIT
       for name in ("kiosk.booking", "kiosk.care", "kiosk.routes", "server.web")},
    ("the print agent stays light", "kiosk", "aiohttp"): "kiosk/__init__.py's type annotation, under TYPE_CHECKING",
}


def under(name: str, prefix: str) -> bool:
    if prefix == STDLIB:
        return name.split(".")[0] in sys.stdlib_module_names
    return name == prefix or name.startswith(prefix + ".")


def module_files(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `module` imports, wherever the statement stands, resolved to a dotted name."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:  # `from x import y` imports x.y when y is a module of ours
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")):
            names.add(node.args[0].value)
    return names


def closure(start: list[str], graph: dict[str, set[str]], allowed) -> list[str]:
    """The modules Python runs for `start`: each allowed import of ours, and every package above it."""
    seen: list[str] = []
    todo = list(start)
    while todo:
        module = todo.pop()
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        for name in [module, *parents]:
            if name in graph and name not in seen:
                seen.append(name)
                todo.extend(i for i in graph[name] if i in graph and allowed(i))
    return seen


def violations(root: Path = ROOT, rules=RULES) -> tuple[set[tuple[str, str, str]], list[str]]:
    """(rule, module, import) for every import a rule forbids, and the rules that matched no module."""
    known = module_files(root)
    graph = {module: imports_of(module, path, known) for module, path in known.items()}
    found, idle = set(), []
    for rule in rules:
        def allowed(name: str, rule: Rule = rule) -> bool:
            if any(under(name, p) for p in rule.forbid):
                return False
            return rule.allow_only is None or any(under(name, p) for p in rule.allow_only)

        modules = [m for m in graph if any(under(m, p) for p in rule.applies_to) and m not in rule.exempt]
        if rule.closure:
            modules = closure(modules, graph, allowed)
        if not modules:
            idle.append(rule.name)
        found |= {(rule.name, m, name) for m in modules for name in graph[m] if not allowed(name)}
    return found, idle


def test_every_import_keeps_to_the_layers() -> None:
    found, idle = violations()
    excused = {v for v in found if any(r == v[0] and m == v[1] and under(v[2], p) for r, m, p in EXCEPTIONS)}
    broken = sorted(found - excused)
    assert not broken, "forbidden imports (rule, module, import):\n" + "\n".join(map(str, broken))
    assert not idle, f"rules that match no module any more: {idle}"
    stale = [e for e in EXCEPTIONS if not any(e[0] == r and e[1] == m and under(i, e[2]) for r, m, i in found)]
    assert not stale, f"exceptions that excuse nothing any more, remove them: {stale}"


def test_a_forbidden_import_inside_a_function_is_found(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "server" / "domain").mkdir()
    (tmp_path / "server" / "domain" / "__init__.py").write_text("from . import rules\n")
    (tmp_path / "server" / "domain" / "rules.py").write_text(
        "import datetime\n\ndef load():\n    import sqlalchemy\n    from ..hall import HallService\n")
    (tmp_path / "server" / "hall.py").write_text("import importlib\nimportlib.import_module('kiosk')\n")
    (tmp_path / "display" / "routes.py").write_text("from dashboard import charts\n")

    found, _ = violations(tmp_path)

    assert found == {
        ("domain is pure", "server.domain.rules", "sqlalchemy"),
        ("domain is pure", "server.domain.rules", "server.hall"),
        ("services know no HTTP", "server.hall", "kiosk"),
        ("the server never imports a surface", "server.hall", "kiosk"),
        ("display imports no other surface", "display.routes", "dashboard"),
    }
