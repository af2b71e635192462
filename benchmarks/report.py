"""The one table of `python -m benchmarks` (Markdown), its plots (PNG), and the README block.

Columns: the figure for vt, for the server read by a bare client (the reference runtime, or
the SDK target the row names), and for the floor (a bare Starlette broadcaster read by a bare
client; for the harness rows, the bare client itself), then the ratios to that floor and the
issue's target. The reference runtime gets every fan-out row (per N, then 95%, CPU, open and
memory at the largest N); each SDK target one row per N and its server memory per idle tab at
the largest N. An SDK target that could not run is named with the reason under the table.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

README_START = "<!-- benchmarks:start -->"
README_END = "<!-- benchmarks:end -->"
REFERENCE = "reference runtime"
FLOOR = "floor (bare Starlette)"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _x(value: float, floor: float) -> str:
    return f"{value / floor:.1f}x" if floor > 0 and value > 0 else "—"


def _runs(result: dict[str, Any], target: str, reader: str) -> dict[int, dict[str, Any]]:
    return {
        r["sessions"]: r
        for r in result["fanout"]
        if r["target"] == target and r["reader"] == reader
    }


def _absent(result: dict[str, Any], target: str, reader: str, sessions: int) -> str:
    """What a cell without a figure says: "failed" for a measurement that failed (twice),
    else that the mode does not take it (quick mode measures the SDK targets at its largest N
    only)."""
    failed = any(
        (f["target"], f["reader"], f["sessions"]) == (target, reader, sessions)
        for f in result.get("failures", [])
    )
    return "failed" if failed else f"not measured in {result.get('mode', 'this')} mode"


def rows(result: dict[str, Any]) -> list[list[str]]:
    """The table's rows: measure, vt, server read bare, floor, ratios to floor, target."""
    floor = _runs(result, FLOOR, "bare")
    table: list[list[str]] = []
    for target in result["targets"]:
        runtime, vt_ = _runs(result, target, "bare"), _runs(result, target, "vt")
        label, short = ("", "runtime") if target == REFERENCE else (f" ({target})", target)
        for n in sorted({*floor, *runtime, *vt_}):
            f, r, v = floor.get(n), runtime.get(n), vt_.get(n)
            fl, rl, vl = (statistics.median(x["last_s"]) if x else 0.0 for x in (f, r, v))
            table.append(
                [
                    f"fan-out to {n:,} session{'s' if n != 1 else ''}{label}: last reader "
                    "has it (median)",
                    _ms(vl) if v else _absent(result, target, "vt", n),
                    _ms(rl) if r else _absent(result, target, "bare", n),
                    _ms(fl) if f else _absent(result, FLOOR, "bare", n),
                    f"vt {_x(vl, fl)}, {short} {_x(rl, fl)}",
                    "< 1 s, vt within 2x of floor" if n >= 1000 else "",
                ]
            )
        if target != REFERENCE:
            table += _sdk_memory(result, target, floor, runtime, vt_)
            continue
        complete = [n for n in floor if n in runtime and n in vt_]
        if not complete:
            continue
        n = max(complete)
        f, r, v = floor[n], runtime[n], vt_[n]
        p95 = [statistics.median(x["p95_s"]) for x in (v, r, f)]
        table.append(
            [
                f"fan-out to {n:,} sessions{label}: 95% of readers have it (median)",
                *(_ms(t) for t in p95),
                f"vt {_x(p95[0], p95[2])}, runtime {_x(p95[1], p95[2])}",
                "",
            ]
        )
        cpu = [statistics.median(x["cpu_s"]) for x in (v, r, f)]
        table.append(
            [
                f"harness CPU per fan-out to {n:,} readers (median)",
                *(_ms(t) for t in cpu),
                f"vt {_x(cpu[0], cpu[2])}; vt / bare on the runtime {_x(cpu[0], cpu[1])}",
                "",
            ]
        )
        opened = [x["open_s"] for x in (v, r, f)]
        table.append(
            [
                f"open {n:,} sessions (page, stream, subscribed)",
                *(f"{t:.2f} s" for t in opened),
                f"vt / bare on the runtime {_x(opened[0], opened[1])}",
                "within 2x of bare",
            ]
        )
        harness = [x["harness_kb_per_session"] for x in (v, r, f)]
        table.append(
            [
                f"harness memory per session ({n:,} sessions)",
                *(f"{kb:.0f} KB" for kb in harness),
                f"vt / bare {_x(harness[0], harness[1])}",
                "< 200 KB",
            ]
        )
        server = [x["server_kb_per_tab"] for x in (v, r, f)]
        table.append(
            [
                f"server memory per idle tab ({n:,} tabs; vt column: the same server read by vt)",
                *(f"{kb:.0f} KB" for kb in server),
                f"runtime {_x(server[1], server[2])}",
                "< 50 KB (runtime)",
            ]
        )
    o = result["overhead"]
    table.append(
        [
            f"decode + parse + apply per {o['event_bytes']}-byte event (CPU; floor: httpx-sse "
            "decoding the same bytes)",
            f"{o['vt_us_per_event']:.0f} µs",
            "—",
            f"{o['bare_us_per_event']:.0f} µs",
            f"{o['paired_ratio']:.2f}x (median of {o['pairs']} paired runs)",
            "within 1.5x",
        ]
    )
    if "decode_ratio" in o:
        table.append(
            [
                "of which: decode + read (SSE and §6, no DOM) / lxml's parse of the elements",
                f"{o['decode_us_per_event']:.0f} µs / {o['parse_us_per_event']:.0f} µs",
                "—",
                f"{o['bare_us_per_event']:.0f} µs",
                f"decode + read {o['decode_ratio']:.2f}x; parse alone "
                f"{_x(o['parse_us_per_event'], o['bare_us_per_event'])}",
                "",
            ]
        )
    c = result["check_cost"]
    browser = (
        f"browser: {c['browser_median_s']:.2f} s"
        if "browser_median_s" in c
        else f"browser: not measured ({c['browser_not_measured']})"
    )
    table.append(
        [
            "two-user chat fan-out check, wall (median): vt over HTTP vs two Chromium users",
            f"{c['http_median_s']:.2f} s",
            "—",
            browser,
            f"browser / HTTP {c['ratio']:.0f}x" if "ratio" in c else "—",
            "HTTP >= 50x cheaper; browser < 5 s",
        ]
    )
    for name, timed in result.get("suite_time", {}).items():
        status = "" if timed["exit"] == 0 else f" (exit {timed['exit']})"
        table.append(
            [f"{name}, wall", f"{timed['wall_s']:.1f} s{status}", "—", "—", "—", _suite_goal(name)]
        )
    return table


def _sdk_memory(
    result: dict[str, Any],
    target: str,
    floor: dict[int, dict[str, Any]],
    bare: dict[int, dict[str, Any]],
    vt_: dict[int, dict[str, Any]],
) -> list[list[str]]:
    """An SDK target's one summary row: server memory per idle tab at the largest N that it
    and the floor were measured at, read bare (and read by vt, in the vt column)."""
    both = [n for n in bare if n in floor]
    if not both:
        return []
    n = max(both)
    v, r, f = vt_.get(n), bare[n], floor[n]
    return [
        [
            f"server memory per idle tab ({n:,} tabs, {target})",
            f"{v['server_kb_per_tab']:.0f} KB" if v else _absent(result, target, "vt", n),
            f"{r['server_kb_per_tab']:.0f} KB",
            f"{f['server_kb_per_tab']:.0f} KB",
            f"{target} {_x(r['server_kb_per_tab'], f['server_kb_per_tab'])}",
            "",
        ]
    ]


def _suite_goal(name: str) -> str:
    if name == "vt conformance":
        return "< 30 s"
    return "< 45 s" if "-n 2" in name else ""


def markdown(result: dict[str, Any]) -> str:
    """The table as Markdown, headed by what was measured where."""
    head = ["measure", "vt", "server, bare reader", "floor (bare)", "ratios", "target"]
    lines = [
        f"`{result['command']}` ({result['mode']} mode, {result['when']}, "
        f"{result['machine']['cpus']} CPUs, {result['machine']['note']}). Server: the reference "
        "runtime, or the SDK target a row names in brackets.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
    for skipped in result.get("not_measured", []):
        lines.append(f"\nNot measured: {skipped['reason']}.")  # the reason names the target
    for failed in result.get("failures", []):
        last = failed["error"].strip().splitlines()[-1] if failed["error"].strip() else "?"
        lines.append(
            f"\nNot measured: {failed['target']}, {failed['reader']} reader, "
            f"{failed['sessions']:,} sessions (failed twice; last: `{last[:200]}`)."
        )
    for name, timed in result.get("suite_time", {}).items():
        failed_tests = [line for line in timed.get("tail", []) if line.startswith("FAILED ")]
        if failed_tests:
            lines.append(f"\n{name} failed: " + "; ".join(f"`{t[7:200]}`" for t in failed_tests))
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], out: Path) -> list[Path]:
    """Latency to the last reader, and memory per session, against the number of sessions:
    one line per (server, reader); a server keeps its colour, vt's lines are solid and the bare
    reader's dashed."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI
    import matplotlib.pyplot as plt

    servers = [FLOOR, *result["targets"]]
    colour = {name: f"C{i}" for i, name in enumerate(servers)}
    written = []
    figure, axis = plt.subplots(figsize=(8, 5))
    for target in servers:
        for reader, style in (("vt", "o-"), ("bare", "s--")):
            runs = _runs(result, target, reader)
            if not runs:
                continue
            ns = sorted(runs)
            axis.plot(
                ns,
                [statistics.median(runs[n]["last_s"]) * 1000 for n in ns],
                style,
                color=colour[target],
                label=f"{target}, {reader} reader",
            )
    axis.set(
        xscale="log",
        xlabel="sessions with open streams",
        ylabel="ms until the last reader has the message",
        title="fan-out latency (median of rounds)",
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")
    path = out / f"{result['mode']}-latency.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    written.append(path)

    figure, axis = plt.subplots(figsize=(8, 5))
    lines = [
        ("harness: vt, per session", REFERENCE, "vt", "harness_kb_per_session", "o-"),
        ("harness: bare httpx, per session", REFERENCE, "bare", "harness_kb_per_session", "s--"),
        *(
            (f"server: {name}, per idle tab", name, "bare", "server_kb_per_tab", "^:")
            for name in servers
        ),
    ]
    for label, target, reader, key, style in lines:
        runs = _runs(result, target, reader)
        ns = sorted(runs)
        colour_of = "black" if key == "harness_kb_per_session" else colour[target]
        axis.plot(ns, [runs[n][key] for n in ns], style, color=colour_of, label=label)
    axis.set(
        xscale="log",
        xlabel="sessions with open streams",
        ylabel="KB (RSS growth / sessions)",
        title="memory per session (server lines: read bare)",
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")
    path = out / f"{result['mode']}-memory.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    written.append(path)
    return written


def update_readme(readme: Path, table: str, plots: list[Path]) -> None:
    """Replace the README's benchmarks block (between its markers) with `table` and `plots`."""
    text = readme.read_text()
    images = "\n".join(f"![{p.stem}]({p.relative_to(readme.parent)})" for p in plots)
    block = f"{README_START}\n{table}\n{images}\n{README_END}"
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {README_START} ... {README_END} block")
    readme.write_text(pattern.sub(lambda _: block, text))
