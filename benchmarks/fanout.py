"""Fan-out benchmark: one chat message to N connected tabs of the reference runtime.

    .venv/bin/python benchmarks/fanout.py                 # 1,000 tabs, 5 messages
    .venv/bin/python benchmarks/fanout.py --tabs 200 --repeats 3

The chat example runs in its own process (`python -m reference_impl.examples.chat`), so the
server and this client use different cores. The client loads N pages (N sessions), opens their
streams with raw asyncio sockets and waits for every `: ready`; then it sends one message at a
time and times when each stream has it. Reported (medians over the repeats):

* time until the last tab's stream has the message (target: under 1 s for 1,000 tabs);
* the server's CPU time per tab for one fan-out (render + encode + write), from psutil;
* the render cost per tab: the chat view with a full window (50 messages), timed in-process;
* server memory per idle connected tab: RSS growth while the N tabs connect, divided by N
  (target: under 50 KB).

It prints a table and writes `benchmarks/results/fanout.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "fanout.json"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stream:
    """One tab's raw event stream; `arrived` is when it last saw the awaited marker."""

    tab_id: str
    cookie: str
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: dict[str, float] = field(default_factory=dict)


class Bench:
    def __init__(self, port: int) -> None:
        self.port = port
        self.marker: bytes | None = None
        self.pending = 0
        self.all_arrived = asyncio.Event()

    async def open(self, stream: Stream) -> None:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        query = quote(json.dumps({"via_tab": stream.tab_id}), safe="")
        writer.write(
            (
                f"GET /_sse?datastar={query} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                f"Cookie: via_session={stream.cookie}\r\nAccept: text/event-stream\r\n"
                "Accept-Encoding: identity\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        stream.reader, stream.writer = reader, writer

    async def read(self, stream: Stream) -> None:
        assert stream.reader is not None
        tail = b""
        while True:
            chunk = await stream.reader.read(65536)
            if not chunk:
                return
            now = time.perf_counter()
            window = tail + chunk
            if not stream.ready.is_set() and b": ready\n\n" in window:
                stream.ready.set()
            marker = self.marker
            if marker is not None and marker not in stream.arrived and marker in window:
                stream.arrived[marker.decode()] = now
                self.pending -= 1
                if self.pending == 0:
                    self.all_arrived.set()
            tail = window[-64:]


def render_cost(samples: int = 300) -> float:
    """Median seconds to render the chat view with a full window, in-process."""
    from reference_impl.compositions import Mount
    from reference_impl.examples import chat
    from reference_impl.examples.messages import WINDOW, Message
    from reference_impl.sessions import Session
    from reference_impl.tabs import Ctx

    app = chat.create_app()
    mount = Mount.of("/", chat.Room)
    # A full window, as the served room holds after the benchmark's warm-up messages.
    app.state[chat.Room.log.key] = [Message("bench", f"warm-up message {n}") for n in range(WINDOW)]
    ctx = Ctx(app.hub, mount, Session("0" * 64), "/_" + "0" * 64, {})
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        ctx.view_html()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def run(tabs: int, repeats: int) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_impl.examples.chat",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    proc = psutil.Process(server.pid)
    bench = Bench(port)
    streams: list[Stream] = []
    readers: list[asyncio.Task[None]] = []
    base = f"http://{HOST}:{port}"
    try:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
            deadline = time.monotonic() + 20
            while True:  # bounded: the server is starting
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the chat server did not start")
                await asyncio.sleep(0.05)

            writer_tab, writer_cookie = await load_page(http)
            for n in range(50):  # a full window: every render carries 50 messages
                await send(http, writer_tab, writer_cookie, f"warm-up message {n}")
            await load_page(http)  # warm every code path before the baseline
            rss_before = proc.memory_info().rss

            for _ in range(tabs):
                tab_id, cookie = await load_page(http)
                streams.append(Stream(tab_id, cookie))
            for chunk_start in range(0, tabs, 100):
                batch = streams[chunk_start : chunk_start + 100]
                await asyncio.gather(*(bench.open(s) for s in batch))
            readers = [asyncio.create_task(bench.read(s)) for s in streams]
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 60)
            rss_after = proc.memory_info().rss

            runs = []
            for rep in range(repeats):
                marker = f"fanout-{rep}-{time.time_ns()}"
                bench.marker = marker.encode()
                bench.pending = tabs
                bench.all_arrived = asyncio.Event()
                cpu_before = sum(proc.cpu_times()[:2])
                t0 = time.perf_counter()
                await send(http, writer_tab, writer_cookie, marker)
                await asyncio.wait_for(bench.all_arrived.wait(), 60)
                cpu = sum(proc.cpu_times()[:2]) - cpu_before
                arrivals = sorted(s.arrived[marker] - t0 for s in streams)
                runs.append(
                    {
                        "last_s": arrivals[-1],
                        "median_s": statistics.median(arrivals),
                        "first_s": arrivals[0],
                        "server_cpu_s": cpu,
                    }
                )
    finally:
        for task in readers:
            task.cancel()
        for s in streams:
            if s.writer is not None:
                s.writer.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)

    render = render_cost()
    return {
        "tabs": tabs,
        "repeats": repeats,
        "runs": runs,
        "last_tab_s_median": statistics.median(r["last_s"] for r in runs),
        "median_tab_s_median": statistics.median(r["median_s"] for r in runs),
        "server_cpu_per_tab_ms_median": statistics.median(r["server_cpu_s"] for r in runs)
        / tabs
        * 1000,
        "render_per_tab_ms": render * 1000,
        "rss_before_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "memory_per_idle_tab_kb": (rss_after - rss_before) / tabs / 1024,
        "targets": {"last_tab_s": 1.0, "memory_per_idle_tab_kb": 50.0},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }


async def load_page(http: httpx.AsyncClient) -> tuple[str, str]:
    """A page GET in a fresh session: (tab id, session cookie)."""
    import html
    import re

    response = await http.get("/", headers={"Cookie": ""})
    http.cookies.clear()
    cookie = response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    found = re.search(r'<meta data-signals="([^"]*)">', response.text)
    assert found is not None
    tab_id: str = json.loads(html.unescape(found.group(1)))["via_tab"]
    return tab_id, cookie


async def send(http: httpx.AsyncClient, tab_id: str, cookie: str, text: str) -> None:
    response = await http.post(
        "/_action/Send",
        content=json.dumps({"via_tab": tab_id, "name": "bench", "draft": text}).encode(),
        headers={"Content-Type": "application/json", "Cookie": f"via_session={cookie}"},
    )
    http.cookies.clear()
    response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(run(args.tabs, args.repeats))
    result["command"] = " ".join(["python", "benchmarks/fanout.py", *sys.argv[1:]])
    rows = [
        ("tabs", f"{result['tabs']}", ""),
        (
            "last tab has the message (median)",
            f"{result['last_tab_s_median'] * 1000:.0f} ms",
            "target < 1000 ms",
        ),
        (
            "median tab has the message (median)",
            f"{result['median_tab_s_median'] * 1000:.0f} ms",
            "",
        ),
        ("server CPU per tab per fan-out", f"{result['server_cpu_per_tab_ms_median']:.3f} ms", ""),
        ("render per tab (50-message view)", f"{result['render_per_tab_ms']:.3f} ms", ""),
        (
            "server memory per idle tab",
            f"{result['memory_per_idle_tab_kb']:.1f} KB",
            "target < 50 KB",
        ),
        (
            "server RSS before / after",
            f"{result['rss_before_mb']:.1f} / {result['rss_after_mb']:.1f} MB",
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"fan-out of one chat message to {result['tabs']} tabs, {result['repeats']} repeats")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>14}  {note}")
    print("  runs (last tab ms): " + ", ".join(f"{r['last_s'] * 1000:.0f}" for r in result["runs"]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
