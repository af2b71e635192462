"""Fan-out latency under load: `vt load` (Locust, 2 worker processes) against vt's own client in
one process, the same users running the same scenario against the same chat.

The scenario is `benchmarks/scenarios/chat-solo.toml`: each user holds one tab in the chat's
one room (filled with its 50-message window first, as in `benchmarks/fanout.py`), and now and
then sends a message and waits until its tab shows it: every message is fanned out by the
server to every user's tab, and the latency a user feels is measured from its action. Users
pause a random 0..2x `--pace` seconds before each send (mean `--pace`), so the room gets
`users / pace` messages a second while every user is connected.

* ``vt load``: `vt load chat-solo.toml --headless --processes 2` (a master and two forked
  workers on this machine): fan-out p50/p95/p99 from Locust's CSV, and its history (the
  percentiles over time) for the plot;
* ``one process``: the same users as `vt.load.driver.LoadDriver`s (one `vt.AsyncClient` each,
  as in `vt load`) on one asyncio loop, no Locust: every sample kept.

Writes `<out>/load.json`, `<out>/load-table.md` and `<out>/load-fanout.png` (the fan-out latency
over time of both runs).

    .venv/bin/python -m benchmarks.load --users 2000 --pace 10000 --run-time 420
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio

from benchmarks.dom_backends import message
from benchmarks.fanout import WINDOW, Sender
from benchmarks.servers import REFERENCE, ROOT, serve

SCENARIO = ROOT / "benchmarks" / "scenarios" / "chat-solo.toml"
SPAWN_RATE = 10
"""Users started a second: faster, the reference chat (one process, rendering each page with
its 50 messages) answers page loads on a busy two-core machine after the 10 s HTTP timeout."""


@dataclass
class Run:
    """One run's fan-out latency: percentiles (ms), sample count, and the time series."""

    how: str
    users: int
    samples: int = 0
    failures: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    series: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the start, ms): every sample (one process), or Locust's p95 per second."""
    users_held: int = 0
    """Users whose sessions were open (setup done) by the end."""
    setup_failures: int = 0
    """Users whose page load or stream failed (e.g. the server's answer took over the HTTP
    timeout)."""


def percentile(values: list[float], p: float) -> float:
    """The `p`-th percentile (0..100) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def locust_run(url: str, users: int, pace: float, run_time: int, out: Path) -> Run:
    """`vt load` with two worker processes; its CSV (written to `out`) read back."""
    prefix = out / "locust"
    argv = [sys.executable, "-m", "vt", "load", str(SCENARIO), "--headless", "--processes", "2"]
    argv += ["-u", str(users), "-r", str(SPAWN_RATE), "-t", f"{run_time}s", "-H", url]
    argv += ["--csv", str(prefix), "--csv-full-history", "--vt-pace", str(pace)]
    argv += ["--vt-timeout", "120", "--only-summary"]
    master = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = master.communicate(timeout=run_time + 600)
    finally:  # interrupted: Ctrl-C to Locust, which stops its workers; then, at worst, kill
        if master.poll() is None:
            master.send_signal(signal.SIGINT)
            try:
                master.wait(60)
            except subprocess.TimeoutExpired:
                master.kill()
    if master.returncode not in (0, 1):  # 1: some request failed, reported below
        raise RuntimeError(output.decode(errors="replace")[-3000:])
    run = Run("vt load, 2 worker processes", users)
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["Type"] == "fan-out":
                run.samples, run.failures = int(row["Request Count"]), int(row["Failure Count"])
                run.p50, run.p95, run.p99 = (float(row[p]) for p in ("50%", "95%", "99%"))
            if row["Type"] == "ready":
                run.users_held = int(row["Request Count"])
            if row["Type"] == "open":
                run.setup_failures = int(row["Failure Count"])
    with open(f"{prefix}_stats_history.csv", newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)  # Locust's window holds 0 when no sample fell in it
            if r["Type"] == "fan-out" and r["95%"] not in ("N/A", "0", "0.0")
        ]
    start = min((float(r["Timestamp"]) for r in rows), default=0.0)
    run.series = [(float(r["Timestamp"]) - start, float(r["95%"])) for r in rows]
    return run


async def one_process(url: str, users: int, pace: float, run_time: int) -> Run:
    """The same users on vt's own client in this process (no Locust)."""
    import vt
    from vt.load.driver import FANOUT_KIND, LoadDriver

    scenario = vt.load_scenario(SCENARIO)
    run = Run("vt's client, one process", users)
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    deadline = started + run_time

    async def user(index: int) -> None:
        await anyio.sleep(index / SPAWN_RATE)  # spawned as Locust spawns them
        async with vt.AsyncClient(url, timeout=120) as client:
            driver = LoadDriver(client, scenario, timeout=120)
            if any(sample.error for sample in await driver.setup()):
                run.setup_failures += 1
                return
            run.users_held += 1
            while True:
                await anyio.sleep(random.uniform(0, 2 * pace))
                if time.monotonic() >= deadline:
                    return
                for sample in await driver.iterate():
                    if sample.kind == FANOUT_KIND:
                        if sample.error:
                            run.failures += 1
                        else:
                            samples.append((time.monotonic() - started, sample.ms))

    with anyio.move_on_after(run_time + 120):  # the iterations under way at the end finish
        async with anyio.create_task_group() as group:
            for index in range(users):
                group.start_soon(user, index)
    values = [ms for _, ms in samples]
    run.samples = len(values)
    if values:
        run.p50, run.p95, run.p99 = (percentile(values, p) for p in (50, 95, 99))
    run.series = samples
    return run


def fill(url: str) -> None:
    """The chat's 50-message window, as `benchmarks.fanout` fills it."""

    async def go() -> None:
        sender = Sender(type("Served", (), {"target": REFERENCE, "url": url})())  # type: ignore[arg-type]
        await sender.start()
        for n in range(WINDOW):
            await sender.send(message(n))
        await sender.http.aclose()

    anyio.run(go)


def plot(runs: list[Run], path: Path) -> None:
    """Fan-out latency over time: Locust's p95 per second, and every one-process sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 4.5))
    for run in runs:
        if not run.series:
            continue
        xs, ys = zip(*run.series, strict=True)
        if run.how.startswith("vt load"):
            label = f"{run.how}: p95 of Locust's window, each second with a sample"
            axes.scatter(xs, ys, s=14, marker="s", label=label, color="tab:blue")
        else:
            axes.scatter(xs, ys, s=14, label=f"{run.how}: each sample", color="tab:orange")
    axes.set_xlabel("seconds since the first sample")
    axes.set_ylabel("fan-out latency, ms (action to the tab showing it)")
    axes.set_title(f"Fan-out under load: {runs[0].users:,} users in one chat room")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def table(runs: list[Run], pace: float) -> str:
    """The runs as a Markdown table."""
    lines = [
        f"Fan-out latency, {runs[0].users:,} users, one message per user every {pace:g} s on "
        "average (each fanned out to every user's tab), reference chat:",
        "",
        "| run | users holding a session | failed to open | fan-out samples | failed | p50 "
        "| p95 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.how} | {r.users_held:,} | {r.setup_failures} | {r.samples} | {r.failures} "
            f"| {r.p50:.0f} ms | {r.p95:.0f} ms | {r.p99:.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    """Both runs, one after the other, each against a fresh chat; print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--pace", type=float, default=10000.0)
    parser.add_argument("--run-time", type=int, default=420)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for how in ("locust", "one"):
        print(f"  {how}: {args.users} users for {args.run_time} s...", flush=True)
        with serve(REFERENCE) as served, tempfile.TemporaryDirectory() as csvs:
            fill(served.url)
            if how == "locust":
                runs.append(
                    locust_run(served.url, args.users, args.pace, args.run_time, Path(csvs))
                )
            else:
                runs.append(
                    anyio.run(one_process, served.url, args.users, args.pace, args.run_time)
                )
    text = table(runs, args.pace)
    print(text)
    (args.out / "load-table.md").write_text(text + "\n")
    result: dict[str, Any] = {"command": " ".join(["python -m benchmarks.load", *sys.argv[1:]])}
    result["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["runs"] = [{k: v for k, v in asdict(r).items() if k != "series"} for r in runs]
    (args.out / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(runs, args.out / "load-fanout.png")
    print(f"wrote {args.out}/load.json, load-table.md, load-fanout.png")


if __name__ == "__main__":
    main()
