"""Config files: the demo hall is complete, and a broken file is named with its field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from server.config import ConfigError, default_config_dir, load_halls

DEMO = default_config_dir()


def test_the_demo_hall_is_a_city_service_centre():
    c = load_halls(DEMO)["demo"]
    assert c.hall.demo
    assert len(c.departments) >= 8 and len(c.items) >= 30 and len(c.windows) == 12
    for item in c.config.items:
        assert all(v.strip() for v in item.publics.model_dump().values()), item.id
        assert item.materials, item.id
    kinds = Counter(w.kind for w in c.config.windows)
    assert kinds["comprehensive"] >= 2
    assert {i.case_type.value for i in c.config.items} == {"immediate", "promised", "joint", "escalated"}
    both = [
        i for i, ws in c.windows_of_item.items()
        if {c.windows[w].kind for w in ws} == {"dedicated", "comprehensive"}
    ]
    assert both, "some items go to both a dedicated and a comprehensive window"
    for w in c.config.windows:
        posts = sorted(u.post for u in c.clerks_of_window(w.id))
        assert posts == ["A", "B"], w.id
    assert {"admin"} <= set(c.users)


def test_check_config_says_what_the_demo_holds():
    out = subprocess.run([sys.executable, "-m", "server.cli", "check-config"], capture_output=True, text=True, check=True)
    assert "demo (city): 示范市政务服务中心" in out.stdout and "config OK" in out.stdout
    assert "demo-town (township, under demo-county, catalogue of demo)" in out.stdout


@pytest.fixture
def broken(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "cfg"
    shutil.copytree(DEMO, folder)

    def edit(name: str, change) -> Path:  # type: ignore[no-untyped-def]
        path = folder / "demo" / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return folder

    return edit


def _first_item(data: list) -> dict:
    return data[0]


@pytest.mark.parametrize(
    "name,change,expected",
    [
        ("items.yaml", lambda d: _first_item(d).update(department="nobody"), ["items.yaml", "department", "nobody"]),
        ("items.yaml", lambda d: _first_item(d).update(prefix=d[1]["prefix"]), ["items.yaml", "prefix", "appears twice"]),
        ("items.yaml", lambda d: _first_item(d)["publics"].pop("fee"), ["items.yaml", "publics.fee", "Field required"]),
        ("items.yaml", lambda d: _first_item(d).update(hours={"hours": ["12:00-08:00"]}), ["items.yaml", "hours", "before it starts"]),
        ("windows.yaml", lambda d: _first_item(d).update(items=[]), ["windows.yaml", "items"]),
        ("windows.yaml", lambda d: _first_item(d).update(kind="sideways"), ["windows.yaml", "kind"]),
        ("users.yaml", lambda d: d.append({"username": "x9", "name": "某", "role": "clerk", "windows": ["w99"]}), ["users.yaml", "w99"]),
        ("hall.yaml", lambda d: d.update(timezone="Mars/Olympus"), ["hall.yaml", "timezone"]),
    ],
)
def test_a_broken_file_is_named_with_its_field(broken, name, change, expected):
    folder = broken(name, change)
    with pytest.raises(ConfigError) as err:
        load_halls(folder)
    for word in expected:
        assert word in str(err.value)


def test_invalid_yaml_is_named(tmp_path):
    folder = tmp_path / "cfg"
    shutil.copytree(DEMO, folder)
    (folder / "demo" / "windows.yaml").write_text("- id: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="windows.yaml: not valid YAML"):
        load_halls(folder)
    out = subprocess.run([sys.executable, "-m", "server.cli", "check-config", "--config", str(folder)], capture_output=True, text=True)
    assert out.returncode == 2 and "windows.yaml" in out.stderr and "Traceback" not in out.stderr
