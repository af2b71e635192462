"""`benchmarks/load_shells.py` and `benchmarks/load.py` run at tiny sizes and produce sane
numbers (not the machine's speed: that each figure was measured)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=540
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_every_shell_is_measured(tmp_path: Path) -> None:
    out = tmp_path / "shells.json"
    run("benchmarks.load_shells", "--sessions", "4", "--rounds", "2", "--json", str(out))
    results = json.loads(out.read_text())
    assert {(r["shell"], r["reader"]) for r in results} == {
        (shell, reader)
        for shell in ("asyncio-thread", "asyncio-unpatched", "gevent-shell")
        for reader in ("full", "events")
    }
    for result in results:
        assert result["us_per_session"] > 0, result
        assert result["holds"] > 0, result
        assert len(result["last_ms"]) == 2, result


def test_the_load_comparison_writes_its_table_and_picture(tmp_path: Path) -> None:
    run(
        "benchmarks.load", "--users", "4", "--pace", "1", "--run-time", "12", "--out", str(tmp_path)
    )
    result = json.loads((tmp_path / "load.json").read_text())
    assert [r["how"] for r in result["runs"]] == [
        "vt load, 2 worker processes",
        "vt's client, one process",
    ]
    for r in result["runs"]:
        assert r["samples"] > 0, r
        assert r["failures"] == 0, r
        assert 0 < r["p50"] <= r["p95"] <= r["p99"], r
    assert (tmp_path / "load-fanout.png").read_bytes().startswith(b"\x89PNG")
