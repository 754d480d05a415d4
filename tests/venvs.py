"""Fresh virtualenvs that hold only what a package declares it needs, made in a second or two.

`python -m venv --without-pip`, then a `.pth` line pointing at a folder of links to exactly the
distributions of the requirements' closure (each distribution's top-level files and its
.dist-info, taken from this interpreter's site-packages), then the package's own wheel installed
by pip (`pip --python`). Nothing else of this environment is importable there, so an import a
package forgot to declare fails as it would on a clean machine, without downloading anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def closure(requirements: list[str]) -> set[str]:
    """The names of the distributions these requirements need (markers without extras apply;
    `name[extra]` brings that extra's requirements), recursively."""
    found: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        dist = metadata.distribution(req.name)
        key = (dist.metadata["Name"].lower(), frozenset(req.extras))
        if key in found:
            continue
        found.add(key)
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ("", *req.extras)):
                sub.marker = None
                todo.append(sub)
    return {name for name, _ in found}


def link_distributions(names: set[str], folder: Path) -> None:
    """Links in `folder` to each distribution's top-level modules, packages and metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        dist = metadata.distribution(name)
        base = Path(dist.locate_file(""))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source, target = base / top, folder / top
            if source.exists() and not target.exists() and not top.endswith(".pth"):
                target.symlink_to(source)


def make_venv(where: Path, requirements: list[str], wheel: Path | None = None) -> Path:
    """A virtualenv at `where` holding the closure of `requirements` (and `wheel`, installed
    without its dependencies, which `requirements` must then list); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True, env=clean_env()).stdout.strip())
    deps = where / "deps"
    link_distributions(closure(requirements), deps)
    (site / "deps.pth").write_text(f"{deps}\n")
    if wheel is not None:
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                        "--no-index", str(wheel)], check=True, env=clean_env())
    return python


def build_wheel(root: Path, into: Path) -> Path:
    """The wheel of the tracked tree at `root` (built from a copy: no build/ left in the checkout)."""
    import shutil

    files = subprocess.run(["git", "-C", str(root), "ls-files", "-co", "--exclude-standard"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    src = into / "src"
    for name in files:
        if (root / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(into / "dist"), str(src)],
                   check=True, env=clean_env())
    (wheel,) = (into / "dist").glob("hallq-*.whl")
    return wheel


def clean_env() -> dict[str, str]:
    """This environment without what would let the tests' own checkout be imported or configure hallq."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HALLQ_DATA", "HALLQ_DATABASE", "HALLQ_REDIS")}


def wheel_requirements(wheel: Path, extras: tuple[str, ...] = ()) -> list[str]:
    """The Requires-Dist lines of a built wheel that apply without extras (or with `extras`)."""
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    out = []
    for line in lines:
        if line.startswith("Requires-Dist:"):
            req = Requirement(line.split(":", 1)[1].strip())
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", *extras)):
                out.append(str(req).split(";")[0].strip())
    return out
