"""Harness CPU per fan-out, this checkout against another, side by side in one run.

    .venv/bin/python -m benchmarks.fanout_compare --old ../jsclient-base [--sessions 1000]

Runs `benchmarks.fanout` (the reference runtime's chat, vt reader) in each checkout in turn,
`--repeat` times interleaved (old, new, old, new...) so both see the same machine, and
compares the harness CPU time per fan-out round (median over all rounds) and the open time.
Prints a table with the ratio and, with `--json`, writes the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def one(checkout: Path, sessions: int, rounds: int) -> dict[str, Any]:
    """One fan-out measurement with vt imported from `checkout`."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.fanout",
        "--target",
        "reference runtime",
        "--reader",
        "vt",
        "--sessions",
        str(sessions),
        "--rounds",
        str(rounds),
        "--json",
    ]
    for attempt in (1, 2):  # one failure on a loaded machine is retried, as `python -m benchmarks`
        done = subprocess.run(command, capture_output=True, text=True, cwd=checkout)
        if done.returncode == 0:
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            return result
        print(f"attempt {attempt} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
    raise RuntimeError(f"fan-out in {checkout} failed twice")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--new", type=Path, default=ROOT)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"previous commit": [], "this commit": []}
    for _ in range(args.repeat):
        runs["previous commit"].append(one(args.old.resolve(), args.sessions, args.rounds))
        runs["this commit"].append(one(args.new.resolve(), args.sessions, args.rounds))
    rows = {
        name: {
            "cpu_per_round_s": statistics.median(c for r in results for c in r["cpu_s"]),
            "open_s": statistics.median(r["open_s"] for r in results),
        }
        for name, results in runs.items()
    }
    ratio = rows["this commit"]["cpu_per_round_s"] / rows["previous commit"]["cpu_per_round_s"]
    print(f"| harness ({args.sessions} tabs, vt reader) | CPU per fan-out (s, median) | open (s) |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['cpu_per_round_s']:.3f} | {row['open_s']:.1f} |")
    print(f"this commit / previous: {ratio:.3f}")
    if args.json:
        out = {"sessions": args.sessions, "rows": rows, "ratio": ratio, "runs": runs}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
