"""What a test pays for its own server: `vt.LiveServer` start and stop, timed (issue 19).

    .venv/bin/python -m benchmarks.server_cycle [--runs 30] [--out benchmarks/results]

Three cases, each a fresh chat app (`reference_impl.examples.chat`) per cycle, as the
`vt_server` fixture serves one per test: `idle` (start, stop), `request` (start, one page
load on a keep-alive connection left open, stop) and `stream` (start, a page load and its
event stream left open, stop: the stream only ends when uvicorn shuts it down). Then the
page loads after the first on one kept-alive connection (`keepalive`: Nagle's algorithm on
the server's side made each ~40 ms). Prints a table of medians and writes
`<out>/server_cycle.json`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import vt
from reference_impl.examples import chat
from vt.client.server import LiveServer

DEFAULT_OUT = Path(__file__).parent / "results"


def _idle(server: LiveServer) -> Callable[[], None]:
    return lambda: None


def _request(server: LiveServer) -> Callable[[], None]:
    client = httpx.Client(base_url=server.url)
    client.get("/").raise_for_status()
    return client.close


def _stream(server: LiveServer) -> Callable[[], None]:
    client = vt.Client(server.url, timeout=10)
    client.new_session("a").open("/").ready()  # the page, and its event stream open (§5.1)
    return client.close


CASES: dict[str, Callable[[LiveServer], Callable[[], None]]] = {
    "idle": _idle,
    "request": _request,
    "stream": _stream,
}


def measure(runs: int) -> dict[str, Any]:
    """Each case `runs` times: the median start, stop and whole-cycle seconds."""
    results: dict[str, Any] = {"runs": runs}
    for name, use in CASES.items():
        starts, stops = [], []
        for _ in range(runs):
            began = time.perf_counter()
            server = LiveServer(chat.create_app()).start()
            started = time.perf_counter()
            close = use(server)
            stopping = time.perf_counter()
            server.stop()
            stopped = time.perf_counter()
            close()
            starts.append(started - began)
            stops.append(stopped - stopping)
        results[name] = {
            "start_ms": round(statistics.median(starts) * 1000, 2),
            "stop_ms": round(statistics.median(stops) * 1000, 2),
            "stop_max_ms": round(max(stops) * 1000, 2),
        }
    return results


def keepalive(runs: int) -> dict[str, float]:
    """`runs` page loads after the first on one kept-alive connection: median and max ms."""
    with LiveServer(chat.create_app()) as server, httpx.Client(base_url=server.url) as client:
        client.get("/").raise_for_status()
        took = []
        for _ in range(runs):
            began = time.perf_counter()
            client.get("/").raise_for_status()
            took.append(time.perf_counter() - began)
    return {
        "median_ms": round(statistics.median(took) * 1000, 2),
        "max_ms": round(max(took) * 1000, 2),
    }


def main() -> None:
    """Measure, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    results = measure(args.runs)
    results["keepalive"] = keepalive(args.runs)
    print(f"| case | start (median ms) | stop (median ms) | stop (max ms) | runs={args.runs}")
    print("|---|---|---|---|")
    for name in CASES:
        row = results[name]
        print(f"| {name} | {row['start_ms']} | {row['stop_ms']} | {row['stop_max_ms']} |")
    row = results["keepalive"]
    print(
        "\npage load on a kept-alive connection:"
        f" median {row['median_ms']} ms, max {row['max_ms']} ms"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "server_cycle.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
