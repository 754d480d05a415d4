"""AB岗 in config files: a wrong post is an error naming the file and field; a missing B post is
a warning; every demo hall's windows have an A post, and the demo halls' warnings are known."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from server.config import ConfigError, default_config_dir, load_halls

DEMO = default_config_dir()


def test_every_window_of_the_demo_halls_has_two_posts_and_the_halls_load_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="hallq.config"):
        halls = load_halls(DEMO)
    for catalog in halls.values():
        for w in catalog.config.windows:
            a, b = catalog.posts[w.id]
            assert a is not None and b is not None and a != b, w.id
    assert caplog.records == []
    # 互为AB岗: the township's two clerks cover each other.
    assert halls["demo-town"].posts == {"t01": ("t01a", "t02a"), "t02": ("t02a", "t01a")}


def _without_b(tmp_path: Path) -> Path:
    """The demo halls, but the county's police window without its B post."""
    config = _copy(tmp_path)
    path = config / "demo-county" / "windows.yaml"
    windows = yaml.safe_load(path.read_text(encoding="utf-8"))
    del windows[0]["b_post"]
    path.write_text(yaml.safe_dump(windows, allow_unicode=True), encoding="utf-8")
    return config


def test_a_window_without_a_b_post_loads_with_a_warning(tmp_path, caplog):
    config = _without_b(tmp_path)
    with caplog.at_level(logging.WARNING, logger="hallq.config"):
        halls = load_halls(config)
    assert halls["demo-county"].posts["c01"] == ("c01a", None)
    assert [r.getMessage() for r in caplog.records] == [
        f"{config / 'demo-county' / 'windows.yaml'}: windows[0] (c01).b_post: no B post (AB岗): nobody is offered the window when c01a is away"
    ]


def _copy(tmp_path: Path) -> Path:
    for hall in ("demo", "demo-county", "demo-town"):
        shutil.copytree(DEMO / hall, tmp_path / hall)
    return tmp_path


@pytest.mark.parametrize(
    ("b_post", "message"),
    [
        ("t01a", "windows[0] (t01).b_post: 't01a' holds the A post already; the B post is another person"),
        ("town-manager", "windows[0] (t01).b_post: 'town-manager' is a manager, not a clerk"),
        ("nobody", "windows[0] (t01).b_post: no account 'nobody' in users.yaml"),
    ],
)
def test_a_wrong_b_post_names_the_file_and_field(tmp_path, b_post, message):
    config = _copy(tmp_path)
    path = config / "demo-town" / "windows.yaml"
    windows = yaml.safe_load(path.read_text(encoding="utf-8"))
    windows[0]["b_post"] = b_post
    path.write_text(yaml.safe_dump(windows, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_halls(config)
    assert str(info.value) == f"{path}: {message}"


def test_a_window_without_an_a_post_is_an_error(tmp_path):
    config = _copy(tmp_path)
    path = config / "demo-town" / "windows.yaml"
    windows = yaml.safe_load(path.read_text(encoding="utf-8"))
    del windows[1]["a_post"]
    path.write_text(yaml.safe_dump(windows, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"windows\.yaml: windows\[1\] \(t02\)\.a_post: the window has no A post"):
        load_halls(config)


def test_check_config_prints_the_warning_and_still_passes(tmp_path):
    import subprocess
    import sys

    config = _without_b(tmp_path)
    out = subprocess.run([sys.executable, "-m", "server.cli", "check-config", "--config", str(config)],
                         capture_output=True, text=True, check=True)
    assert "config OK" in out.stdout
    assert "demo-county/windows.yaml: windows[0] (c01).b_post: no B post (AB岗)" in out.stderr
