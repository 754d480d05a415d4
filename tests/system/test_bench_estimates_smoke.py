"""bench/estimates.py run at a small size (2,000 tickets a pool, three demo-hall days), so the
script cannot rot: it plays pools and simulated days and prints a line per case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_estimates_bench_runs_at_a_small_size():
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "estimates.py"), "--tickets", "2000", "--days", "3"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: a case missed the goal on so few tickets
    lines = run.stdout.splitlines()
    rows = [line for line in lines if line.startswith(("pool of 6 at", "demo hall, 3 days", "  of them, who stayed"))]
    assert len(rows) == 5, run.stdout
    for row in rows:
        tickets, waited = row[22:].split()[:2]
        assert int(tickets) > 100 and float(waited) > 0, row
    assert any(line.startswith("goal: |bias| <= 10%") for line in lines)
    assert (run.returncode == 1) == any(line.startswith("missed:") for line in lines)
