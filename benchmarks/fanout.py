"""Fan-out at scale: N sessions with open streams, one chat message, until the last reader has it.

One measurement, `measure(target, reader, sessions, rounds)`, run in a fresh process per
(server, reader, N) so that memory figures start clean:

* the server (`benchmarks.servers`: the floor, the reference runtime or an SDK target) runs
  in its own process: server and harness use different cores, and its RSS is its own;
* `reader` is `bare` (one httpx client per session, raw bytes searched for the message: no
  SSE decoding, no parsing, no DOM) or `vt` (`AsyncClient.open_tabs`: every event decoded,
  parsed and applied to each tab's page replica), on the Via chat and on the plain-Datastar
  chats of the SDK targets alike (vt's profile "auto" reads the latter as plain Datastar;
  subscribed = the stream's first event, the current list, has arrived);
* every chat is first filled with the same window of 50 messages, so every fan-out
  re-renders a whole 50-message view, as a busy room does, and the payloads are comparable
  (the Via chat keeps the newest 50; the SDK targets keep every message, so theirs grows by
  one message per round); the floor stores nothing and pads its payload to the same size;
* reported: the time to open the N sessions (page load, stream, subscribed), harness RSS
  growth per session, server RSS growth per idle tab, and per round the time from the send
  until the first and the last reader has the message (a vt replica "has" it when the patch
  that brought it is applied: the time of that patch's timeline entry).

    .venv/bin/python -m benchmarks.fanout --target "reference runtime" --reader vt --sessions 100
    .venv/bin/python -m benchmarks.fanout --target datastar-go --reader bare --sessions 100
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import ssl
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
import httpx
import psutil

from benchmarks.dom_backends import message
from benchmarks.servers import (
    FLOOR,
    NOT_MEASURED,
    ROOT,
    TARGETS,
    Served,
    Shape,
    Target,
    serve,
    tab_id,
)

WINDOW = 50
"""Messages the Via chat keeps and renders (reference_impl/examples/messages.py); every chat
target is filled with as many."""
OPEN_CONCURRENCY = 64
"""Page loads and stream opens in flight at once, for both readers (vt's default)."""
ROUND_TIMEOUT = 60.0
OPEN_TIMEOUT = 300.0


@dataclass
class Result:
    """One (server, reader, N) measurement; times in seconds, memory in KB."""

    target: str
    reader: str
    sessions: int
    open_s: float = 0.0
    harness_kb_per_session: float = 0.0
    server_kb_per_tab: float = 0.0
    last_s: list[float] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)
    p95_s: list[float] = field(default_factory=list)
    """Per round: the time until 95% of the readers had the message."""
    cpu_s: list[float] = field(default_factory=list)
    """Harness CPU time per round: reading N copies of the event over the network."""

    def add_round(self, arrivals: list[float]) -> None:
        """Record one round from the sorted arrival times of every reader."""
        self.first_s.append(arrivals[0])
        self.p95_s.append(arrivals[min(len(arrivals) - 1, int(len(arrivals) * 0.95))])
        self.last_s.append(arrivals[-1])

    @property
    def last_median_s(self) -> float:
        """Median over the rounds of the time until the last reader had the message."""
        return statistics.median(self.last_s)


class Sender:
    """The one writer of every run: its own session, sends over plain httpx."""

    def __init__(self, served: Served) -> None:
        self.shape: Shape = served.target.shape
        self.http = httpx.AsyncClient(base_url=served.url, timeout=30)
        self.tab: str | None = None

    async def start(self) -> None:
        """Load the page (a Via page names the tab every send must carry, §4.1)."""
        page = await self.http.get("/")
        page.raise_for_status()
        self.tab = tab_id(page.text) if self.shape.tab_id else None

    async def send(self, text: str) -> None:
        """Send one message; raises on a non-2xx answer."""
        response = await self.http.post(
            self.shape.send_path,
            content=self.shape.send_body(self.tab, text),
            # As Datastar's client sends it: datastar-py reads no signals without the header.
            headers={"Content-Type": "application/json", "Datastar-Request": "true"},
        )
        response.raise_for_status()

    async def check_shows(self, text: str) -> None:
        """Raise unless a fresh page load shows `text` (a send the server took but did not
        post, e.g. a 204 for signals it could not read, would leave the room empty)."""
        page = await self.http.get("/")
        page.raise_for_status()
        if text not in page.text:
            raise RuntimeError(f"the page does not show the message sent last, {text!r}")


class BareReaders:
    """N sessions read by plain httpx: page GET, stream open, bytes searched for a marker."""

    def __init__(self, served: Served, count: int) -> None:
        self.url = served.url
        self.shape = served.target.shape
        self.count = count
        self.clients: list[httpx.AsyncClient] = []
        # One TLS context for all (unused on http, but httpx builds one per client otherwise:
        # loading the CA bundle 1,000 times would be the bare client's largest cost).
        self.tls = ssl.create_default_context()
        self.ready = 0
        self.all_ready = anyio.Event()
        self.marker = b""
        self.arrivals: list[float] = []
        self.all_arrived = anyio.Event()

    async def open(self, group: anyio.abc.TaskGroup) -> None:
        """Start every reader in `group`; returns when all are subscribed."""
        limiter = anyio.CapacityLimiter(OPEN_CONCURRENCY)
        for _ in range(self.count):
            group.start_soon(self._read, limiter)
        await self.all_ready.wait()

    async def _read(self, limiter: anyio.CapacityLimiter) -> None:
        # One client (cookie jar, connection pool) per session, as vt has.
        client = httpx.AsyncClient(base_url=self.url, timeout=None, verify=self.tls)
        self.clients.append(client)
        async with limiter:
            page = await client.get("/")
            tab = tab_id(page.text) if self.shape.tab_id else None
            request = client.build_request(
                "GET",
                self.shape.stream_path,
                params=self.shape.stream_params(tab),
                headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"},
            )
            response = await client.send(request, stream=True)
            chunks = response.aiter_raw()
            seen = b""
            while self.shape.ready not in seen:
                seen += await chunks.__anext__()
        self.ready += 1
        if self.ready == self.count:
            self.all_ready.set()
        tail = b""
        try:
            async for chunk in chunks:
                window = tail + chunk
                if self.marker and self.marker in window:
                    self.arrivals.append(time.monotonic())
                    if len(self.arrivals) == self.count:
                        self.all_arrived.set()
                tail = window[-len(self.marker) :] if self.marker else b""
        finally:
            await response.aclose()

    async def round(self, sender: Sender, marker: str) -> list[float]:
        """Send `marker`; seconds from the send until each reader had it, sorted."""
        self.marker, self.arrivals, self.all_arrived = marker.encode(), [], anyio.Event()
        sent = time.monotonic()
        await sender.send(marker)
        with anyio.fail_after(ROUND_TIMEOUT):
            await self.all_arrived.wait()
        return sorted(at - sent for at in self.arrivals)

    async def close(self) -> None:
        """Close every client."""
        for client in self.clients:
            await client.aclose()


async def vt_round(tabs: list[Any], sender: Sender, marker: str) -> list[float]:
    """Send `marker`; seconds from the send until each replica had applied it, sorted. The
    first and the last tab must then show it in a message (`sender.shape.message`)."""
    marks = [len(tab.timeline) for tab in tabs]
    seen = [len(tab.events) for tab in tabs]
    pending = set(range(len(tabs)))

    def applied(i: int) -> bool:
        # Cheap first (no new event at all), then exact: a patch, not a heartbeat (§5.3).
        if len(tabs[i].events) == seen[i]:
            return False
        return any(e.kind == "event" for e in tabs[i].timeline.entries[marks[i] :])

    def all_applied() -> bool | None:
        # Not an assertion over 1,000 documents: the window measures the pipeline.
        pending.difference_update([i for i in pending if applied(i)])
        return not pending or None

    sent = time.monotonic()
    await sender.send(marker)
    await tabs[0].wait_until(all_applied, description="apply the fan-out", timeout=ROUND_TIMEOUT)
    for tab in (tabs[0], tabs[-1]):  # sanity: the event applied was the message
        if not any(marker in m.text for m in tab.select(sender.shape.message)):
            raise AssertionError(
                f"{tab.label} applied an event but no {sender.shape.message!r} shows {marker!r}"
            )
    arrivals = []
    for tab, mark in zip(tabs, marks, strict=True):
        entry = next(e for e in tab.timeline.entries[mark:] if e.kind == "event")
        arrivals.append(entry.at - sent)
    return sorted(arrivals)


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


async def measure(
    target_name: str, reader: str, sessions: int, rounds: int, payload_bytes: int, profile: bool
) -> Result:
    """One measurement in this process (see the module docstring)."""
    import vt

    target = find_target(target_name)
    result = Result(target.name, reader, sessions)
    with serve(target, payload_bytes) as served:
        server = psutil.Process(served.process.pid)
        sender = Sender(served)
        await sender.start()
        if target is not FLOOR:  # the floor stores nothing (it pads its payload instead)
            for n in range(WINDOW):  # a full window: every fan-out renders 50 messages
                await sender.send(message(n))
            await sender.check_shows(message(WINDOW - 1))
        harness0, server0 = _rss(), server.memory_info().rss
        started = time.monotonic()
        profiler = cProfile.Profile() if profile else None
        if reader == "bare":
            readers = BareReaders(served, sessions)
            async with anyio.create_task_group() as group:
                with anyio.fail_after(OPEN_TIMEOUT):
                    await readers.open(group)
                result.open_s = time.monotonic() - started
                result.harness_kb_per_session = (_rss() - harness0) / sessions / 1024
                result.server_kb_per_tab = (server.memory_info().rss - server0) / sessions / 1024
                for n in range(rounds):
                    gc.collect()  # each round starts clean: no one pays for earlier garbage
                    cpu = time.process_time()
                    arrivals = await readers.round(sender, f"bare-{n}-{time.time_ns()}")
                    result.cpu_s.append(time.process_time() - cpu)
                    result.add_round(arrivals)
                group.cancel_scope.cancel()
            await readers.close()
        else:
            ready = target.shape.ready_event
            async with vt.AsyncClient(
                served.url,
                timeout=ROUND_TIMEOUT,
                ready_signal=vt.ReadySignal.on_event(ready) if ready is not None else None,
            ) as client:
                if profiler is not None:
                    profiler.enable()
                with anyio.fail_after(OPEN_TIMEOUT):
                    tabs = await client.open_tabs(sessions, concurrency=OPEN_CONCURRENCY)
                if profiler is not None:
                    profiler.disable()
                result.open_s = time.monotonic() - started
                result.harness_kb_per_session = (_rss() - harness0) / sessions / 1024
                result.server_kb_per_tab = (server.memory_info().rss - server0) / sessions / 1024
                for n in range(rounds):
                    gc.collect()
                    cpu = time.process_time()
                    arrivals = await vt_round(tabs, sender, f"vt-{n}-{time.time_ns()}")
                    result.cpu_s.append(time.process_time() - cpu)
                    result.add_round(arrivals)
        await sender.http.aclose()
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(40)
    return result


def find_target(name: str) -> Target:
    """The floor or the target of `TARGETS` called `name`.

    Raises:
        SystemExit: no such target, or it cannot run here (the reason is in the message).
    """
    for target in [FLOOR, *TARGETS]:
        if target.name == name:
            return target
    if name in NOT_MEASURED:
        raise SystemExit(f"{name} is not measured here: {NOT_MEASURED[name]}")
    known = ", ".join(t.name for t in [FLOOR, *TARGETS])
    raise SystemExit(f"unknown target {name!r}; known: {known}")


def measure_in_subprocess(
    target: str,
    reader: str,
    sessions: int,
    rounds: int,
    payload_bytes: int,
) -> Result:
    """`measure` in a fresh interpreter (clean RSS); raises with its output on failure."""
    argv = [
        sys.executable,
        "-m",
        "benchmarks.fanout",
        "--target",
        target,
        "--reader",
        reader,
        "--sessions",
        str(sessions),
        "--rounds",
        str(rounds),
        "--payload-bytes",
        str(payload_bytes),
        "--json",
    ]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"fan-out {target} / {reader} / {sessions} failed ({done.returncode}):\n"
            + done.stderr.decode(errors="replace")[-3000:]
        )
    data = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return Result(**data)


def main() -> None:
    """Run one measurement and print it (a table, or one JSON line with `--json`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=TARGETS[0].name)
    parser.add_argument("--reader", choices=["bare", "vt"], default="vt")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--payload-bytes", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument(
        "--profile", action="store_true", help="profile vt's open_tabs (cProfile, to stderr)"
    )
    args = parser.parse_args()
    result = anyio.run(
        measure,
        args.target,
        args.reader,
        args.sessions,
        args.rounds,
        args.payload_bytes,
        args.profile,
    )
    if args.json:
        print(json.dumps(asdict(result)))
        return
    print(f"{result.target}, {result.reader} reader, {result.sessions} sessions")
    print(f"  open: {result.open_s:.2f} s")
    print(f"  last reader has it (median): {result.last_median_s * 1000:.0f} ms")
    print(f"  harness memory per session: {result.harness_kb_per_session:.0f} KB")
    print(f"  server memory per idle tab: {result.server_kb_per_tab:.0f} KB")


if __name__ == "__main__":
    main()
