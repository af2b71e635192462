"""The test levels (`scripts/test --level NAME`, README "Quickstart"): every test is in exactly
one level, the folders' tests are in their folders' levels (tests/conftest.py marks them), and
the e2e level repeats the default level's pytester tests. Collects the suite once per level,
in subprocesses, as `scripts/test` selects them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "test"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def _levels() -> list[str]:
    done = subprocess.run(
        ["bash", str(SCRIPT), "--levels"], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def _collected(*marker: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["-n", "0", *marker, str(ROOT / "tests")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode in (0, 5), done.stdout[-2000:] + done.stderr[-2000:]
    return {line for line in done.stdout.splitlines() if "::" in line}


def _expression(level: str) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPT), "--expression", level], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_every_test_is_in_exactly_one_level() -> None:
    everything = _collected("-m", "")
    pytester_tests = _collected("-m", "pytester")
    by_level = {level: _collected("-m", _expression(level)) for level in _levels()}
    # The e2e level's repeats are the default level's pytester tests: not a level of their own.
    repeats = by_level["e2e"] & by_level["default"]
    assert repeats
    assert repeats <= pytester_tests
    own = {
        level: items - (repeats if level == "e2e" else set()) for level, items in by_level.items()
    }
    seen: dict[str, str] = {}
    for level, items in own.items():
        for item in items:
            assert item not in seen, f"{item} is in the {seen[item]} and the {level} level"
            seen[item] = level
    assert set(seen) == everything, f"in no level: {sorted(everything - set(seen))[:10]}"
    # By folder, without a marker of the test's own:
    for folder in ("browser", "targets", "cluster"):
        in_folder = {i for i in everything if i.startswith(f"tests/{folder}/")}
        assert in_folder, folder
        assert {seen[i] for i in in_folder} <= {folder, "slow"}, folder
