"""bench/conflict.py run tiny, so the script cannot rot: it plays a day, races two workers of
one hall and checks their folds against the journal before printing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_conflict_bench_runs_tiny():
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "conflict.py"), "--copies", "1", "--rounds", "2", "--share", "0.3"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no race" in run.stdout and "copy" in run.stdout and "reload" in run.stdout and "ratio" in run.stdout
