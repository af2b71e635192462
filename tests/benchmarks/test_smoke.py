"""`python -m benchmarks --smoke`: every benchmark runs and produces sane numbers.

The `slow` level (CI runs it on its own): it starts a dozen server processes. Nothing here
asserts the machine's speed; only that each figure was measured and is a plausible number.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _positive(value: float, what: str) -> None:
    assert isinstance(value, int | float), (what, value)
    assert math.isfinite(value), (what, value)
    assert value > 0, (what, value)


def test_the_smoke_mode_measures_every_benchmark(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "smoke.json").read_text())

    readers = {(r["target"], r["reader"], r["sessions"]) for r in result["fanout"]}
    # Every SDK target is measured, or listed as not measured with the reason.
    skipped = {s["target"]: s["reason"] for s in result["not_measured"]}
    assert {"datastar-py", "datastar-go", "datastar-ts"} <= {*result["targets"], *skipped}
    assert all(skipped.values()), skipped
    assert "reference runtime" in result["targets"]
    for n in (1, 5):
        assert ("floor (bare Starlette)", "bare", n) in readers
        for target in result["targets"]:
            assert (target, "bare", n) in readers
            assert (target, "vt", n) in readers
    for run in result["fanout"]:
        what = f"{run['target']} / {run['reader']} / {run['sessions']}"
        _positive(run["open_s"], f"{what}: open")
        assert run["last_s"], what
        for first, last in zip(run["first_s"], run["last_s"], strict=True):
            _positive(first, f"{what}: first")
            assert first <= last < 60, (what, first, last)
    overhead = result["overhead"]
    _positive(overhead["vt_us_per_event"], "vt per event")
    _positive(overhead["bare_us_per_event"], "httpx-sse per event")
    assert overhead["event_bytes"] > 1000  # a full 50-message view per event
    for backend in ("lxml", "selectolax", "vt (lxml)"):
        for op, micros in result["dom_backends"]["median_us"][backend].items():
            _positive(micros, f"{backend} {op}")
    check = result["check_cost"]
    _positive(check["http_median_s"], "the HTTP check")
    # The browser check is measured, or says why not.
    assert "browser_median_s" in check or check["browser_not_measured"], check

    table = (tmp_path / "smoke-table.md").read_text()
    assert "| fan-out to 5 sessions: last reader has it (median) |" in table
    for target in result["targets"][1:]:
        assert f"| fan-out to 5 sessions ({target}): last reader has it (median) |" in table
    for reason in skipped.values():
        assert f"Not measured: {reason}." in table
    for plot in ("smoke-latency.png", "smoke-memory.png"):
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
