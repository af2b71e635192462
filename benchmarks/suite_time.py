"""Suite time: `vt run` / `vt conformance` and vt's own test suite, wall clock (full mode).

Each command runs once in a subprocess from the repository root; the test suite runs the
default level (its `-m` expression from `scripts/test --expression default`) serially and
on 2 xdist workers. A command that fails is reported with its exit status (its time then
measures a failed run).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.servers import ROOT

VT = str(Path(sys.executable).with_name("vt"))
PYTEST = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider"]


def default_level() -> list[str]:
    """pytest's `-m` for the default level, as `scripts/test` runs it."""
    script = ROOT / "scripts" / "test"
    expression = subprocess.run(
        ["bash", str(script), "--expression", "default"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return ["-m", expression]


def commands() -> dict[str, list[str]]:
    """The timed commands: `vt conformance` only when this vt has it."""
    listed = subprocess.run([VT, "--help"], capture_output=True, text=True, check=False).stdout
    timed = {"vt run": [VT, "run"]}
    if "conformance" in listed:
        timed["vt conformance"] = [VT, "conformance"]
    timed["vt's suite, serial"] = [*PYTEST, *default_level(), "-n", "0"]
    timed["vt's suite, -n 2"] = [*PYTEST, *default_level(), "-n", "2"]
    return timed


def measure() -> dict[str, Any]:
    """Wall seconds and exit status of each command."""
    result: dict[str, Any] = {}
    for name, argv in commands().items():
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=1800, check=False)
        result[name] = {
            "wall_s": round(time.perf_counter() - started, 1),
            "exit": done.returncode,
            # The summary line, and the name of each failed test (`-rf`): a failure in a
            # timed run is worth chasing, and the run is not repeated to find it.
            "tail": _summary(done.stdout.decode(errors="replace")),
        }
    return result


def _summary(output: str) -> list[str]:
    lines = output.strip().splitlines()
    return [line for line in lines if line.startswith("FAILED ")][:20] + lines[-1:]


if __name__ == "__main__":
    print(measure())
