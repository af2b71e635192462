"""Which shell fits Locust: sessions one worker process holds, per shell and per reader.

`vt load` runs Locust users (greenlets, on gevent) with vt's client (asyncio). Two shapes were
possible (`vt/load/bridge.py`); this measures both, each in a fresh process patched by gevent
as a Locust worker is, against the reference chat filled with its 50-message window (so each
fan-out is the chat's real 3.8 KB view):

* ``asyncio-thread`` (what `vt load` does): vt's own `AsyncClient` on one asyncio loop in a
  native thread (`vt.load.bridge.AsyncioThread`); full tabs (`AsyncTab`: decode, parse,
  morph into the page, timeline) or events-only tabs (`vt.load.lean.EventsTab`);
* ``asyncio-unpatched``: the same as ``asyncio-thread`` in a process gevent did not patch:
  what the bridge and the patching cost;
* ``gevent-shell``: the smallest gevent shell around the same sans-IO core, one greenlet per
  session reading its stream with `http.client` on gevent's sockets into `ItemFeed`, then
  `Replica.apply` (full) or nothing more (events-only). It has no timeline, no recording, no
  waits: a floor for what a second client written for gevent could cost.

Per (shell, reader): harness CPU per fan-out round (`time.process_time`, every thread of
the process) divided by the sessions, and harness memory per session. The sessions one worker
process holds before the harness, not the server, is the bottleneck follow: at one fan-out
per second to every session, one core is spent when sessions x CPU per session = 1 s.

    .venv/bin/python -m benchmarks.load_shells --sessions 200 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # not benchmarks.servers: gevent patches first

SHELLS = ("asyncio-thread", "asyncio-unpatched", "gevent-shell")
READERS = ("full", "events")
WINDOW = 50
ROUND_TIMEOUT = 120.0


@dataclass
class ShellResult:
    """One (shell, reader, N) measurement."""

    shell: str
    reader: str
    sessions: int
    open_s: float = 0.0
    kb_per_session: float = 0.0
    cpu_ms_per_round: list[float] = field(default_factory=list)
    last_ms: list[float] = field(default_factory=list)

    @property
    def us_per_session(self) -> float:
        """Median harness CPU per session per fan-out, microseconds."""
        ordered = sorted(self.cpu_ms_per_round)
        return ordered[len(ordered) // 2] * 1000 / self.sessions

    @property
    def holds(self) -> int:
        """Sessions one process holds at one fan-out per second (one core's worth of CPU)."""
        return int(1_000_000 / self.us_per_session)


def measure(shell: str, reader: str, sessions: int, rounds: int) -> ShellResult:
    """One measurement in this process, which must not have imported gevent or vt yet."""
    if shell != "asyncio-unpatched":
        from gevent import monkey

        monkey.patch_all()  # first, as Locust does
    import gc

    import psutil

    from benchmarks.dom_backends import message
    from benchmarks.servers import REFERENCE, serve, tab_id

    result = ShellResult(shell, reader, sessions)
    with serve(REFERENCE) as served:
        opener = _http(served.url)
        page = opener("GET", "/", None, {})
        tab = tab_id(page.text)

        def send(text: str) -> None:
            body = json.dumps({"via_tab": tab, "name": "bench", "draft": text})
            headers = {"Content-Type": "application/json", "Datastar-Request": "true"}
            opener("POST", "/_action/Send", body, {**headers, "Cookie": page.cookie})

        for n in range(WINDOW):
            send(message(n))
        gc.collect()
        rss = psutil.Process().memory_info().rss
        started = time.monotonic()
        readers = (_gevent_readers if shell == "gevent-shell" else _asyncio_readers)(
            served.url, sessions, reader == "events"
        )
        result.open_s = time.monotonic() - started
        gc.collect()
        result.kb_per_session = (psutil.Process().memory_info().rss - rss) / sessions / 1024
        for n in range(rounds):
            marker = f"round-{n}-{time.time_ns()}"
            gc.collect()
            cpu = time.process_time()
            sent = time.monotonic()
            readers.expect(marker, lambda marker=marker: send(marker))
            result.last_ms.append((time.monotonic() - sent) * 1000)
            result.cpu_ms_per_round.append((time.process_time() - cpu) * 1000)
        readers.close()
    return result


class _Page:
    def __init__(self, text: str, cookie: str) -> None:
        self.text, self.cookie = text, cookie


def _http(url: str) -> Any:
    """A tiny blocking HTTP caller (gevent's, once patched) for the page load and the sends."""
    import http.client
    from urllib.parse import urlsplit

    host, port = urlsplit(url).hostname, urlsplit(url).port

    def call(method: str, path: str, body: str | None, headers: dict[str, str]) -> _Page:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        cookie = (response.getheader("set-cookie") or "").split(";")[0]
        connection.close()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} -> {response.status}: {text[:200]}")
        return _Page(text, cookie)

    return call


def _gevent_readers(url: str, count: int, events_only: bool) -> Any:
    """`count` sessions, each a greenlet: page, stream, `ItemFeed`, `Replica` (full)."""
    import http.client
    from urllib.parse import quote, urlsplit

    import gevent
    import gevent.event

    from benchmarks.servers import tab_id
    from vt.replica.replica import Replica
    from vt.wire.events import Reading
    from vt.wire.feed import ItemFeed

    host, port = urlsplit(url).hostname, urlsplit(url).port
    state: dict[str, Any] = {"marker": b"", "arrived": 0, "all": gevent.event.Event()}
    subscribed = gevent.event.Event()
    ready = [0]

    def session() -> None:
        page = http.client.HTTPConnection(host, port, timeout=60)
        page.request("GET", "/")
        answer = page.getresponse()
        html = answer.read().decode()
        cookie = (answer.getheader("set-cookie") or "").split(";")[0]
        replica = None if events_only else Replica.from_html(html)
        stream = http.client.HTTPConnection(host, port)
        query = quote(json.dumps({"via_tab": tab_id(html)}))
        stream.request(
            "GET",
            f"/_sse?datastar={query}",
            headers={"Cookie": cookie, "Accept-Encoding": "identity"},
        )
        response = stream.getresponse()
        feed, is_ready = ItemFeed(), False
        while chunk := response.read1(65536):
            for raw, item in feed.feed(chunk):
                if isinstance(item, Reading) and item.event is not None and replica is not None:
                    replica.apply(item.event)
                if not is_ready and raw.raw.startswith(b": ready"):
                    is_ready = True
                    ready[0] += 1
                    if ready[0] == count:
                        subscribed.set()
                marker = state["marker"]
                if marker and marker in raw.raw:
                    state["arrived"] += 1
                    if state["arrived"] == count:
                        state["all"].set()

    pool = [gevent.spawn(session) for _ in range(count)]
    if not subscribed.wait(ROUND_TIMEOUT * 3):
        raise RuntimeError(f"only {ready[0]} of {count} sessions subscribed")

    class Readers:
        def expect(self, marker: str, send: Any) -> None:
            state.update(marker=marker.encode(), arrived=0, all=gevent.event.Event())
            send()
            if not state["all"].wait(ROUND_TIMEOUT):
                raise RuntimeError(f"{state['arrived']} of {count} had {marker}")

        def close(self) -> None:
            gevent.killall(pool, timeout=10)

    return Readers()


def _asyncio_readers(url: str, count: int, events_only: bool) -> Any:
    """`count` sessions of vt's client on the loop thread `vt load` uses."""
    import anyio

    import vt
    from vt.load.bridge import AsyncioThread, Held
    from vt.load.lean import open_events_tab

    thread, held = AsyncioThread(), Held()
    client = vt.AsyncClient(url, timeout=ROUND_TIMEOUT)
    thread.call(held.enter(client))

    async def open_all() -> list[Any]:
        limiter = anyio.CapacityLimiter(64)
        tabs: list[Any] = []

        async def one() -> None:
            async with limiter:
                session = client.new_session()
                tab = await (open_events_tab(session, "/") if events_only else session.open("/"))
                await tab.ready()
                tabs.append(tab)

        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(one)
        return tabs

    tabs = thread.call(open_all())

    async def arrive(marker: bytes, starts: list[tuple[int, int]]) -> None:
        checked = [-1] * len(tabs)
        pending = set(range(len(tabs)))

        def all_arrived() -> bool | None:
            for i in list(pending):
                if checked[i] != tabs[i].version:
                    checked[i] = tabs[i].version
                    if marker in tabs[i].recording.bytes_since(starts[i]):
                        pending.discard(i)
            return not pending or None

        await tabs[0].wait_until(all_arrived, description="fan out", timeout=ROUND_TIMEOUT)

    class Readers:
        def expect(self, marker: str, send: Any) -> None:
            import gevent

            starts = [tab.recording.position() for tab in tabs]  # before the send
            task = gevent.spawn(thread.call, arrive(marker.encode(), starts))
            send()
            task.get(timeout=ROUND_TIMEOUT)

        def close(self) -> None:
            thread.call(held.release())
            thread.stop()

    return Readers()


def run_in_subprocess(shell: str, reader: str, sessions: int, rounds: int) -> ShellResult:
    """`measure` in a fresh interpreter; raises with its output on failure."""
    argv = [sys.executable, "-m", "benchmarks.load_shells", "--one", shell, reader]
    argv += ["--sessions", str(sessions), "--rounds", str(rounds)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace")[-3000:])
    return ShellResult(**json.loads(done.stdout.decode().strip().splitlines()[-1]))


def main() -> None:
    """Measure every (shell, reader), or `--one SHELL READER` (JSON, for the parent)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", nargs=2, metavar=("SHELL", "READER"))
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asdict(measure(*args.one, args.sessions, args.rounds))))
        return
    results = []
    for shell in SHELLS:
        for reader in READERS:
            print(f"  {shell}, {reader}, {args.sessions} sessions...", flush=True)
            results.append(run_in_subprocess(shell, reader, args.sessions, args.rounds))
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{**asdict(r), "us_per_session": r.us_per_session, "holds": r.holds}
                       for r in results], f, indent=2)  # fmt: skip


def table(results: list[ShellResult]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| shell | reader | sessions | CPU per session per fan-out | memory per session "
        "| sessions one process holds at 1 fan-out/s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.shell} | {r.reader} | {r.sessions} | {r.us_per_session:.0f} µs "
            f"| {r.kb_per_session:.0f} KB | {r.holds:,} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
