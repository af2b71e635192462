"""vt at scale: 1,000 sessions with open streams in one process, one chat message fanned out.

    .venv/bin/python benchmarks/harness_scale.py [--sessions 1000] [--rounds 9]

Two reference chat servers run in subprocesses (so the server and the harness use different
cores): room A is read by 1,000 vt tabs (decode, parse, apply to each page replica, record the
event and its timeline entry), room B by 1,000 bare `httpx_sse.aconnect_sse` loops that only
decode. Both groups stay open for the whole run; each round sends one message to room A, then
one to room B, and measures, from the send until the last of the 1,000 has the message:

* wall time (`latency`), from the arrival times each reader recorded (vt: the timeline entry
  of the patch that brought it);
* the harness process's CPU time (`cpu`): the cost of reading 1,000 events, garbage
  collection included (reported separately too; each round starts after a full collection,
  so neither group pays for the other's garbage).

The vt window ends when every replica has applied the patch; `expect_all` over the 1,000
replicas (what a test would then assert) is timed after it, on its own. Medians over the
rounds are compared side by side; memory per vt session is the process RSS grown by opening
the 1,000 vt tabs, divided by 1,000. Targets (issue 4): last replica within 1 s, under 200 KB
per session, and vt's cost within 1.5x of the decode-only loop. `--profile` prints where vt's
rounds spend their time.

Prints a table and writes `benchmarks/results/harness_scale.json`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import psutil
from httpx_sse import aconnect_sse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import vt  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "harness_scale.json"
TAB_ID = re.compile(r"&#34;via_tab&#34;:&#34;([^&]+)&#34;")  # Via's own extractor
TARGET_LATENCY = 1.0
TARGET_KB_PER_SESSION = 200.0
TARGET_RATIO = 1.5


def serve(port: int) -> None:
    """The server side: the reference chat on 127.0.0.1 (heartbeats out of the way)."""
    from reference_impl.examples import chat
    from reference_impl.serve import serve as run

    run(chat.create_app(heartbeat=3600.0), port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A chat server in a subprocess, ready when its `/livez` answers (bounded wait)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(self.url + "/livez", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"chat server on {self.url} did not start") from None
            # The next attempt blocks in connect(); no sleep is needed between attempts.

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@dataclass
class Round:
    latency: float  # send -> last reader has the message, seconds
    cpu: float  # harness CPU seconds over the same window
    first: float  # send -> first reader has it
    check_cpu: float = 0.0  # vt only: CPU of expect_all over the updated replicas
    gc: float = 0.0  # seconds the garbage collector ran during the round


@dataclass
class Bare:
    """1,000 decode-only readers: httpx_sse, one httpx client (cookie jar) per session."""

    url: str
    count: int
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    marker: str = ""
    done: anyio.Event = field(default_factory=anyio.Event)

    async def open(self, group: Any, transport: httpx.AsyncHTTPTransport) -> None:
        limiter = anyio.CapacityLimiter(64)
        opened = anyio.Event()
        ready = [0]

        async def reader(index: int) -> None:
            client = httpx.AsyncClient(transport=transport, timeout=None)
            self.clients.append(client)
            async with limiter:
                page = await client.get(self.url + "/")
                tab = TAB_ID.search(page.text)
                assert tab is not None
                query = json.dumps({"via_tab": tab.group(1)})
                source = aconnect_sse(
                    client,
                    "GET",
                    f"{self.url}/_sse",
                    params={"datastar": query},
                    headers={"Accept-Encoding": "identity"},
                )
                events = await source.__aenter__()
            ready[0] += 1
            if ready[0] == self.count:
                opened.set()
            try:
                async for sse in events.aiter_sse():
                    if self.marker and self.marker in sse.data:
                        self.arrivals.append(time.perf_counter())
                        if len(self.arrivals) == self.count:
                            self.done.set()
            finally:
                await source.__aexit__(None, None, None)

        for index in range(self.count):
            group.start_soon(reader, index)
        await opened.wait()

    def expect(self, marker: str) -> None:
        self.arrivals = []
        self.done = anyio.Event()
        self.marker = marker


async def vt_round(
    client: vt.AsyncClient, tabs: list[vt.AsyncTab], sender: vt.AsyncTab, n: int
) -> Round:
    marker = f"vt-{n}-{time.monotonic_ns()}"
    marks = [len(tab.timeline) for tab in tabs]
    seen = [len(tab.events) for tab in tabs]
    pending = set(range(len(tabs)))

    def all_applied() -> bool | None:
        # Every replica has applied the fan-out's patch (decode + parse + apply done); the
        # cheapest exact condition, so the window measures the pipeline, not the assertion.
        pending.difference_update([i for i in pending if len(tabs[i].events) > seen[i]])
        return not pending or None

    cpu0 = time.process_time()
    sent_at = time.monotonic()
    await sender.action("Send", draft=marker)
    await sender.wait_until(all_applied, description="apply the fan-out", timeout=30)
    cpu = time.process_time() - cpu0
    # Then the assertion a test would write, timed on its own.
    check0 = time.process_time()
    await client.expect_all(tabs, "article", marker, timeout=30)
    check_cpu = time.process_time() - check0
    # When each replica got it: the time of the patch that made it show, from its timeline.
    arrivals = []
    for tab, mark in zip(tabs, marks, strict=True):
        entry = next(
            e
            for e in tab.timeline.entries[mark:]
            if e.kind == "event" and isinstance(e.item, vt.PatchElements)
        )
        arrivals.append(entry.at - sent_at)
    return Round(max(arrivals), cpu, min(arrivals), check_cpu)


async def bare_round(bare: Bare, sender: vt.AsyncTab, n: int) -> Round:
    marker = f"bare-{n}-{time.monotonic_ns()}"
    bare.expect(marker)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await sender.action("Send", draft=marker)
    with anyio.fail_after(30):
        await bare.done.wait()
    cpu = time.process_time() - cpu0
    return Round(max(bare.arrivals) - t0, cpu, min(bare.arrivals) - t0)


class GCTimer:
    """Time spent in the garbage collector (by generation), through gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._start
            self.counts[info["generation"]] += 1

    def take(self) -> list[float]:
        taken, self.seconds = self.seconds, [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]
        return taken


GC = GCTimer()


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


async def run(sessions: int, rounds: int, profile: bool = False) -> dict[str, Any]:
    room_a, room_b = Server(), Server()
    try:
        before = rss()
        async with vt.AsyncClient(room_a.url, timeout=60) as client:
            started = time.perf_counter()
            tabs = await client.open_tabs(sessions)
            open_seconds = time.perf_counter() - started
            per_session_kb = (rss() - before) / sessions / 1024
            sender_a = await client.new_session("sender").open("/", connect=False)
            async with vt.AsyncClient(room_b.url, timeout=60) as other:
                sender_b = await other.new_session("sender").open("/", connect=False)
                transport = httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=64)
                )
                bare = Bare(room_b.url, sessions)
                async with anyio.create_task_group() as group:
                    await bare.open(group, transport)
                    vt_rounds: list[Round] = []
                    bare_rounds: list[Round] = []
                    profiler = cProfile.Profile() if profile else None
                    for n in range(rounds):
                        # Each round starts with an empty young generation, so that neither
                        # pays for collecting the other's leftovers (the in-flight objects of
                        # 2,000 streams pile up between rounds).
                        gc.collect()
                        GC.take()
                        if profiler is not None:
                            profiler.enable()
                        vt_rounds.append(await vt_round(client, tabs, sender_a, n))
                        if profiler is not None:
                            profiler.disable()
                        vt_rounds[-1].gc = sum(GC.take())
                        gc.collect()
                        GC.take()
                        bare_rounds.append(await bare_round(bare, sender_b, n))
                        bare_rounds[-1].gc = sum(GC.take())
                        vt_r, bare_r = vt_rounds[-1], bare_rounds[-1]
                        print(
                            f"  round {n + 1}: vt {vt_r.latency * 1000:.0f} ms "
                            f"({vt_r.cpu * 1000:.0f} ms CPU, {vt_r.gc * 1000:.0f} in GC), "
                            f"httpx-sse {bare_r.latency * 1000:.0f} ms "
                            f"({bare_r.cpu * 1000:.0f} ms CPU, {bare_r.gc * 1000:.0f} in GC)",
                            flush=True,
                        )
                    group.cancel_scope.cancel()
                    if profiler is not None:
                        stats = pstats.Stats(profiler).sort_stats("tottime")
                        stats.print_stats(25)
                for http_client in bare.clients:
                    await http_client.aclose()
                await transport.aclose()
    finally:
        room_a.stop()
        room_b.stop()

    def median(values: list[float]) -> float:
        return statistics.median(values)

    vt_latency = median([r.latency for r in vt_rounds])
    bare_latency = median([r.latency for r in bare_rounds])
    vt_cpu = median([r.cpu for r in vt_rounds])
    bare_cpu = median([r.cpu for r in bare_rounds])
    return {
        "sessions": sessions,
        "rounds": rounds,
        "open_seconds": round(open_seconds, 3),
        "kb_per_session": round(per_session_kb, 1),
        "vt": {
            "latency_ms": [round(r.latency * 1000, 1) for r in vt_rounds],
            "first_ms": [round(r.first * 1000, 1) for r in vt_rounds],
            "cpu_ms": [round(r.cpu * 1000, 1) for r in vt_rounds],
            "median_latency_ms": round(vt_latency * 1000, 1),
            "median_cpu_ms": round(vt_cpu * 1000, 1),
            "expect_all_cpu_ms": [round(r.check_cpu * 1000, 1) for r in vt_rounds],
            "gc_ms": [round(r.gc * 1000, 1) for r in vt_rounds],
        },
        "httpx_sse": {
            "latency_ms": [round(r.latency * 1000, 1) for r in bare_rounds],
            "first_ms": [round(r.first * 1000, 1) for r in bare_rounds],
            "cpu_ms": [round(r.cpu * 1000, 1) for r in bare_rounds],
            "median_latency_ms": round(bare_latency * 1000, 1),
            "median_cpu_ms": round(bare_cpu * 1000, 1),
            "gc_ms": [round(r.gc * 1000, 1) for r in bare_rounds],
        },
        "latency_ratio": round(vt_latency / bare_latency, 2),
        "cpu_ratio": round(vt_cpu / bare_cpu, 2),
        # Each round's two groups run back to back: the median of their ratios is the least
        # sensitive to the machine's drift.
        "paired_cpu_ratio": round(
            median([v.cpu / b.cpu for v, b in zip(vt_rounds, bare_rounds, strict=True)]), 2
        ),
        "targets": {
            "latency_s": TARGET_LATENCY,
            "kb_per_session": TARGET_KB_PER_SESSION,
            "ratio": TARGET_RATIO,
        },
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }


def report(result: dict[str, Any]) -> None:
    vt_ = result["vt"]
    bare = result["httpx_sse"]

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        ("sessions with open streams", f"{result['sessions']}", ""),
        ("time to open them", f"{result['open_seconds']:.1f} s", ""),
        (
            "last vt replica has the message (median)",
            f"{vt_['median_latency_ms']:.0f} ms",
            verdict(vt_["median_latency_ms"] <= TARGET_LATENCY * 1000),
        ),
        ("last httpx-sse reader has it (median)", f"{bare['median_latency_ms']:.0f} ms", ""),
        (
            "latency ratio vt / httpx-sse",
            f"{result['latency_ratio']:.2f}x",
            verdict(result["latency_ratio"] <= TARGET_RATIO),
        ),
        ("harness CPU per fan-out, vt (median)", f"{vt_['median_cpu_ms']:.0f} ms", ""),
        ("harness CPU per fan-out, httpx-sse (median)", f"{bare['median_cpu_ms']:.0f} ms", ""),
        (
            "CPU ratio vt / httpx-sse",
            f"{result['cpu_ratio']:.2f}x",
            verdict(result["cpu_ratio"] <= TARGET_RATIO),
        ),
        (
            "CPU ratio, median of the paired rounds",
            f"{result['paired_cpu_ratio']:.2f}x",
            verdict(result["paired_cpu_ratio"] <= TARGET_RATIO),
        ),
        (
            "then expect_all over the 1,000 replicas (median CPU)",
            f"{statistics.median(vt_['expect_all_cpu_ms']):.0f} ms",
            "",
        ),
        (
            "harness memory per vt session (RSS)",
            f"{result['kb_per_session']:.0f} KB",
            verdict(result["kb_per_session"] <= TARGET_KB_PER_SESSION),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, ok in rows:
        print(f"{name:<{width}}  {value:>9}  {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--profile", action="store_true", help="profile vt's rounds (cProfile, by own time)"
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    print(f"harness_scale: {args.sessions} sessions, {args.rounds} rounds", flush=True)
    result = anyio.run(run, args.sessions, args.rounds, args.profile)
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
