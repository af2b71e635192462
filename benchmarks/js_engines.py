"""The JavaScript engines vt could run Datastar's expressions in, measured side by side.

    .venv/bin/python -m benchmarks.js_engines [--calls 20000] [--contexts 200] [--json PATH]

For QuickJS (`quickjs-ng`, what `vt.js.engine` uses) and V8 (`mini-racer`): the median cost of
calling a small compiled function (`(a, b) => a + b`, the size of a display expression) from
Python, of making a context, and the resident memory one more context costs. Prints a table
and, with `--json`, writes the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil


def _median_us(fn: Callable[[], Any], number: int, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def quickjs(calls: int, contexts: int) -> dict[str, float]:
    """QuickJS through quickjs-ng."""
    import quickjs

    ctx = quickjs.Context()
    fn = ctx.eval("(function (a, b) { return a + b; })")
    call = _median_us(lambda: fn(1, 2), calls)
    make = _median_us(quickjs.Context, max(contexts // 5, 1))
    before = _rss()
    kept = [quickjs.Context() for _ in range(contexts)]
    per = (_rss() - before) / len(kept) / 1024
    return {"call_us": call, "context_us": make, "context_kib": per}


def v8(calls: int, contexts: int) -> dict[str, float]:
    """V8 through mini-racer."""
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    ctx.eval("var add = (a, b) => a + b;")
    call = _median_us(lambda: ctx.call("add", 1, 2), max(calls // 20, 1))
    make = _median_us(MiniRacer, max(contexts // 20, 1), repeat=3)
    before = _rss()
    kept = [MiniRacer() for _ in range(max(contexts // 10, 1))]
    per = (_rss() - before) / len(kept) / 1024
    return {"call_us": call, "context_us": make, "context_kib": per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--contexts", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = {
        "QuickJS (quickjs-ng)": quickjs(args.calls, args.contexts),
        "V8 (mini-racer)": v8(args.calls, args.contexts),
    }
    print(
        "| engine | call a small function (us, median) | new context (us) "
        "| memory per context (KiB) |"
    )
    print("|---|---:|---:|---:|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['call_us']:.2f} | {row['context_us']:.0f} "
            f"| {row['context_kib']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
