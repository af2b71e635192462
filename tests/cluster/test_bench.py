"""`python -m benchmarks.cluster --smoke`: every cluster benchmark runs and gives plausible
numbers (nothing here asserts the machine's speed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from .support import no_process_left, require_tools

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_cluster_benchmarks_run(tmp_path: Path) -> None:
    require_tools("nats-server")
    with no_process_left():
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.cluster", "--smoke", "--out", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "cluster-smoke.json").read_text())
    setups = [row["setup"] for row in result["fanout"]]
    assert setups == ["1 node, no backplane", "1 node, NATS JetStream", "3 nodes, NATS JetStream"]
    assert [row["tabs"] for row in result["fanout"]] == [5, 5, 15]
    figures = [x for row in result["fanout"] for x in row["last_ms"]]
    figures += result["nats_restart"]["converged_ms"] + result["nats_restart"]["answered_ms"]
    assert all(math.isfinite(x) and 0 < x < 60_000 for x in figures), figures
    assert "| NATS restart" in (tmp_path / "cluster-smoke-table.md").read_text()
