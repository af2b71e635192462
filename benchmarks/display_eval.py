"""Display attributes after one patch, per tab: today's evaluator against the previous one.

    .venv/bin/python -m benchmarks.display_eval --old ../jsclient-base [--tabs 200] [--json PATH]

A page with 20 display expressions (`data-text`, `data-show`, `data-attr`, `data-class` over
a few signals) is loaded into `--tabs` replicas; one `patch-signals` event (one signal
changed, as a chat's counter would) is applied to each, and the time of `Replica.apply` is
taken per tab. Each checkout (`--old`: a worktree of the previous commit, with the Python
subset evaluator; `--new`: this one, expressions in QuickJS) runs in its own process, side by
side in one run. Prints the medians and, with `--json`, writes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXPRESSIONS = [
    ("text", "$count"),
    ("text", "'Hello, ' + $name"),
    ("text", "`${$count} items`"),
    ("show", "$count > 2"),
    ("show", "!$hidden"),
    ("attr:title", "$name"),
    ("attr:data-n", "$count * 2"),
    ("class:big", "$count >= 10"),
    ("class:warn", "$level === 'warn'"),
    ("text", "$name.toUpperCase()"),
    ("text", "$count % 2 === 0 ? 'even' : 'odd'"),
    ("show", "$name.length > 0"),
    ("attr:aria-label", "'count ' + $count"),
    ("text", "$level || 'none'"),
    ("class:hot", "$count > 5 && !$hidden"),
    ("text", "$items.length"),
    ("text", "$items.join(', ')"),
    ("attr:data-level", "$level"),
    ("show", "$items.length > 1"),
    ("text", "$total ?? 0"),
]
SIGNALS = {"count": 1, "name": "ada", "hidden": False, "level": "info", "items": ["a", "b"]}


def page() -> str:
    """The page: 20 elements, one display expression each, and its signals."""
    body = "".join(
        f'<p id="e{i}" data-{kind}="{expr.replace(chr(34), "&quot;")}">x</p>'
        for i, (kind, expr) in enumerate(EXPRESSIONS)
    )
    seed = json.dumps(SIGNALS).replace('"', "&quot;")
    return f'<html><body><div data-signals="{seed}">{body}</div></body></html>'


def measure(tabs: int) -> dict[str, float]:
    """In this process (vt importable): the median apply time per tab, in microseconds."""
    from vt import Replica
    from vt.wire.events import PatchSignals

    html = page()
    replicas = [Replica.from_html(html) for _ in range(tabs)]
    event = PatchSignals({"count": 2})
    times = []
    for replica in replicas:
        start = time.perf_counter()
        replica.apply(event)
        times.append((time.perf_counter() - start) * 1e6)
    shown = replicas[-1].document.text("#e0")
    assert shown == "2", f"the page shows {shown!r} after the patch"
    return {"median_us": statistics.median(times), "p90_us": sorted(times)[int(tabs * 0.9)]}


def run(checkout: Path, tabs: int) -> dict[str, float]:
    """`measure` in a fresh process importing vt from `checkout`."""
    code = (
        f"import sys, json, runpy; sys.path.insert(0, {str(checkout)!r})\n"
        f"measure = runpy.run_path({__file__!r})['measure']\n"
        f"print(json.dumps(measure({tabs})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=checkout
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the previous commit")
    parser.add_argument("--new", type=Path, default=ROOT)
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = {"previous (Python subset)": run(args.old.resolve(), args.tabs)}
    rows["this commit (QuickJS)"] = run(args.new.resolve(), args.tabs)
    print("| evaluator | display attributes after one patch, per tab (median, us) | p90 (us) |")
    print("|---|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_us']:.0f} | {row['p90_us']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
