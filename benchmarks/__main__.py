"""`python -m benchmarks`: every benchmark in one run, one table, JSON and plots.

    .venv/bin/python -m benchmarks                  # quick mode (under 2 minutes): N up to 100
    .venv/bin/python -m benchmarks --full --readme  # N up to 1,000, suite times; README updated
    .venv/bin/python -m benchmarks --smoke --out DIR  # tiny sizes: CI's check that all run

Runs, side by side: the fan-out scale (`benchmarks.fanout`: the floor, and each server of
`benchmarks.servers.TARGETS` (the reference runtime and every SDK target that can run here)
read bare and read by vt, at each N; an SDK target that cannot run is listed as not measured,
with the reason), the harness overhead
(`benchmarks.overhead`), the replica backends (`benchmarks.dom_backends`), the cost of a
check (`benchmarks.check_cost`) and, in full mode, the suite times (`benchmarks.suite_time`).
Writes `<out>/<mode>.json`, `<out>/<mode>-table.md` and `<out>/<mode>-{latency,memory}.png`
(default out: benchmarks/results); `--readme` puts the table and plots in README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

from benchmarks import check_cost, dom_backends, overhead, report, suite_time
from benchmarks.fanout import measure_in_subprocess
from benchmarks.servers import FLOOR, NOT_MEASURED, REFERENCE, ROOT, TARGETS


@dataclass(frozen=True)
class Mode:
    """The sizes of one mode."""

    name: str
    sessions: tuple[int, ...]
    rounds: int
    events: int
    pairs: int
    dom: tuple[int, int]  # dom_backends' repeat, number
    checks: int
    suite: bool
    every_n_for_sdks: bool = True
    """False: the SDK targets only at the largest N (quick mode keeps its time budget)."""


ATTEMPTS = 2
"""Tries per fan-out measurement: one failure (e.g. a connection the server closed as it was
reused, on a loaded machine) is retried in a fresh process; a second is reported."""

MODES = {
    "smoke": Mode("smoke", (1, 5), 1, 5, 3, (1, 5), 1, suite=False),
    "quick": Mode("quick", (1, 10, 100), 3, 30, 9, (3, 30), 3, suite=False, every_n_for_sdks=False),
    "full": Mode("full", (1, 10, 100, 1000), 7, 50, 15, (7, 300), 5, suite=True),
}


def run(mode: Mode) -> dict[str, Any]:
    """Every benchmark at `mode`'s sizes; the result that `report` renders."""
    started = time.perf_counter()
    print(f"benchmarks, {mode.name} mode", flush=True)
    result: dict[str, Any] = {
        "mode": mode.name,
        "targets": [t.name for t in TARGETS],
        "not_measured": [{"target": t, "reason": why} for t, why in NOT_MEASURED.items()],
    }
    for skipped in result["not_measured"]:
        print(f"  not measured: {skipped['reason']}", flush=True)

    print("  harness overhead (same bytes, paired)...", flush=True)
    result["overhead"] = anyio.run(overhead.measure, mode.events, mode.pairs)
    payload = result["overhead"]["event_bytes"]  # the floor sends as many bytes per event

    result["fanout"] = []
    result["failures"] = []
    for n in mode.sessions:
        runs = [(FLOOR, "bare")]
        for target in TARGETS:  # vt reads Via pages and plain Datastar pages (vt.page.profile)
            if target is REFERENCE or mode.every_n_for_sdks or n == max(mode.sessions):
                runs += [(target, "bare"), (target, "vt")]
        for target, reader in runs:
            print(f"  fan-out: {target.name}, {reader} reader, {n} sessions...", flush=True)
            failure = ""
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    measured = measure_in_subprocess(target.name, reader, n, mode.rounds, payload)
                except RuntimeError as error:  # reported in the table and the JSON, not fatal
                    failure = str(error)
                    print(f"    attempt {attempt} failed: {failure.splitlines()[-1]}", flush=True)
                else:
                    result["fanout"].append(asdict(measured))
                    break
            else:
                result["failures"].append(
                    {"target": target.name, "reader": reader, "sessions": n, "error": failure}
                )

    print("  replica backends...", flush=True)
    repeat, number = mode.dom
    result["dom_backends"] = dom_backends.run(repeat, number, show=False)

    print("  cost of a check...", flush=True)
    result["check_cost"] = anyio.run(check_cost.measure, mode.checks)

    if mode.suite:
        print("  suite times...", flush=True)
        result["suite_time"] = suite_time.measure()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    """Parse the mode, run, print the table, write the files."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--full", action="store_true", help="N up to 1,000; suite times")
    sizes.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--readme", action="store_true", help="update README.md's table")
    parser.add_argument(
        "--note",
        default=os.environ.get("VT_BENCH_NOTE", "a busy shared machine"),
        help="how loaded the machine was (shown with the table)",
    )
    args = parser.parse_args()
    mode = MODES["full" if args.full else "smoke" if args.smoke else "quick"]
    result = run(mode)
    result["command"] = " ".join(["python -m benchmarks", *sys.argv[1:]])
    result["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "note": args.note,
    }
    table = report.markdown(result)
    print()
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{mode.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{mode.name}-table.md").write_text(table)
    plots = report.plot(result, args.out)
    if args.readme:
        report.update_readme(ROOT / "README.md", table, plots)
    print(f"wrote {args.out}/{mode.name}.json, -table.md, " + ", ".join(p.name for p in plots))
    print(f"took {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
