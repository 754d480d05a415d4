"""bench/province.py run tiny (--small: a city, 2 counties, 6 townships, one-second phases), so the
script cannot rot: it generates the province, serves it for real and measures every phase."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_province_bench_runs_tiny(tmp_path):
    figures = tmp_path / "province.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "province.py"), "--small", "--json", str(figures)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    row = json.loads(figures.read_text())["sqlite"]
    assert row["start_s"] > 0 and row["rss_mb"] > 0 and row["idle_pct"] >= 0
    assert row["spread"]["ok"] > 0 and row["one"]["ok"] > 0 and row["offered"]["sent"] == 20
    assert row["screens"]["ready"] == 18 and row["screens"]["calls"] == 4 and row["screens"]["lost"] == 0
    assert row["region"]["halls"] == 9  # the city, 2 counties, 6 townships
    assert "spread/s" in run.stdout and "region ms" in run.stdout
