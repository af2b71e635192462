"""`python -m benchmarks.cluster`: clusters (specs/cluster.md), one table and JSON.

    .venv/bin/python -m benchmarks.cluster                 # 100 tabs per node, 5 rounds
    .venv/bin/python -m benchmarks.cluster --smoke --out DIR  # tiny sizes: the check that it runs

Rows, all in one run, every node a process of the cluster app (`reference_impl/examples/
cluster.py`) started by `vt.cluster.LocalCluster`, every tab read by vt:

* fan-out, latency to the last tab: one tab sends a message; the time until every tab shows
  it (after one round not counted, which warms the process up). On one node without a
  backplane (the default runtime), on one node on NATS JetStream, and on three nodes on NATS
  JetStream with the same number of tabs on each node;
* NATS restart: the NATS server is stopped, a message is sent on node 1 (its answer waits,
  §C6), NATS is started again; the time from its start until the action is answered and until
  every tab on the three nodes shows the message.

Writes `<out>/cluster-<mode>.json` and `<out>/cluster-<mode>-table.md` (default out:
benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

import vt
from vt.cluster.local import LocalCluster, node_command

ROOT = Path(__file__).resolve().parents[1]
MODES = {"smoke": (5, 2), "quick": (100, 5)}  # tabs per node, rounds


async def fan_out(urls: list[str], per_node: int, rounds: int) -> dict[str, Any]:
    """Latency from a send to the last of `per_node` tabs on each node showing it."""
    room = f"/chat/bench-{uuid.uuid4().hex[:8]}"
    async with vt.AsyncClient(urls, timeout=60, http_timeout=30) as client:
        started = time.perf_counter()
        tabs = await client.open_tabs(per_node * len(urls), room, concurrency=32)
        opened = time.perf_counter() - started
        sender = tabs[0]
        lasts = []
        # Round 0 warms up (the first round of a process measured 3 to 4 times the others,
        # whichever setup came first): it is not counted.
        for number in range(rounds + 1):
            text = f"round {number}"
            began = time.perf_counter()
            await sender.action("Send", name="bench", draft=text)
            await client.expect_all(tabs, "#log", f"bench: {text};")
            if number:
                lasts.append(time.perf_counter() - began)
    return {
        "nodes": len(urls),
        "tabs": len(tabs),
        "open_s": round(opened, 3),
        "last_ms": [round(x * 1000, 1) for x in lasts],
        "median_last_ms": round(statistics.median(lasts) * 1000, 1),
    }


async def nats_restart(cluster: LocalCluster, rounds: int) -> dict[str, Any]:
    """Stop NATS, send on node 1, start NATS: time to the answer and to every tab."""
    room = f"/chat/restart-{uuid.uuid4().hex[:8]}"
    answered, converged = [], []
    async with vt.AsyncClient(cluster.urls, timeout=60, http_timeout=60) as client:
        tabs = [await client.new_session(f"t{n}", node=n).open(room) for n in (1, 2, 3)]
        for tab in tabs:
            await tab.ready()
        for number in range(rounds):
            text = f"after restart {number}"
            await anyio.to_thread.run_sync(cluster.stop_nats)
            times: dict[str, float] = {}

            async def send(text: str = text, times: dict[str, float] = times) -> None:
                result = await tabs[0].action("Send", name="bench", draft=text)
                assert result.status == 200, result.status
                times["answered"] = time.perf_counter()

            async with anyio.create_task_group() as group:
                group.start_soon(send)
                await anyio.sleep(0.5)  # the send is waiting on the backplane meanwhile
                began = time.perf_counter()
                await anyio.to_thread.run_sync(cluster.start_nats)
                await client.expect_all(tabs, "#log", f"bench: {text};")
                converged.append(time.perf_counter() - began)
            answered.append(times["answered"] - began)
    return {
        "answered_ms": [round(x * 1000, 1) for x in answered],
        "converged_ms": [round(x * 1000, 1) for x in converged],
        "median_converged_ms": round(statistics.median(converged) * 1000, 1),
    }


def run(mode: str) -> dict[str, Any]:
    """Every row at `mode`'s sizes."""
    per_node, rounds = MODES[mode]
    result: dict[str, Any] = {"mode": mode, "fanout": []}
    setups = [
        ("1 node, no backplane", node_command("cluster", backplane=False), 1, False),
        ("1 node, NATS JetStream", node_command("cluster"), 1, True),
        ("3 nodes, NATS JetStream", node_command("cluster"), 3, True),
    ]
    for label, command, nodes, backplane in setups:
        print(f"  fan-out: {label}, {per_node} tabs per node...", flush=True)
        with LocalCluster(command, nodes, backplane=backplane) as cluster:
            row = anyio.run(fan_out, cluster.urls, per_node, rounds)
        result["fanout"].append({"setup": label, **row})
    print("  NATS restart, 3 nodes...", flush=True)
    with LocalCluster(node_command("cluster"), 3) as cluster:
        result["nats_restart"] = anyio.run(nats_restart, cluster, max(2, rounds // 2))
    return result


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        "| cluster benchmark | tabs | median | each round (ms) |",
        "|---|---:|---:|---|",
    ]
    for row in result["fanout"]:
        each = ", ".join(f"{x:g}" for x in row["last_ms"])
        lines.append(
            f"| fan-out to the last tab: {row['setup']} | {row['tabs']} | "
            f"{row['median_last_ms']:g} ms | {each} |"
        )
    restart = result["nats_restart"]
    each = ", ".join(f"{x:g}" for x in restart["converged_ms"])
    answered = ", ".join(f"{x:g}" for x in restart["answered_ms"])
    lines.append(
        f"| NATS restart: from its start to every tab showing the send | 3 | "
        f"{restart['median_converged_ms']:g} ms | {each} (answered: {answered}) |"
    )
    return "\n".join(lines)


def main() -> None:
    """Parse the mode, run, print the table, write the files."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (a check that it runs)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    mode = "smoke" if args.smoke else "quick"
    started = time.perf_counter()
    print(f"cluster benchmarks, {mode} mode", flush=True)
    result = run(mode)
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = table(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cluster-{mode}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"cluster-{mode}-table.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
