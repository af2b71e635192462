"""The servers the benchmarks measure, each a command that serves a chat on a loopback port.

A `Target` is one entry of `TARGETS`: a name, the argv that serves the chat on `{port}` (or
the SDK target of targets/launch.py that it runs), and the chat's `Shape` (how a reader finds
its stream, knows it is subscribed, sends, and finds a message on the page). Adding a server
to every fan-out figure is one more entry:

    Target("my-server", ("path/to/my-server", "--port", "{port}"), PLAIN)

Two shapes exist: `VIA` (the reference runtime: a tab id in the page's `data-signals`, the
stream at `/_sse`, subscribed at `: ready` (specs/protocol.md §5.4), actions at
`/_action/<name>` §4.1, a message is an `article p`) and `PLAIN` (a plain Datastar chat: the
stream at `/stream`, whose first event is the current view, `POST /send`, a message is a
`#messages li`).

Measured: the reference runtime (`REFERENCE`, the Via chat of reference_impl/examples) and
the three SDK targets of targets/README.md (`datastar-py`, `datastar-go`, `datastar-ts`: the
same plain-Datastar chat on each official SDK), all against the floor. An SDK target whose
toolchain or build is missing here is not in `TARGETS` but in `NOT_MEASURED`, with the reason
(`targets.launch.Target.unavailable`), which the table and the JSON show.

The floor, `python -m benchmarks.servers --port N`, is a bare Starlette SSE broadcaster of the
`PLAIN` shape: no rendering, no sessions, nothing stored; every `POST /send` puts the same
payload (padded to `--payload-bytes`) on every open stream. It is the limit the other figures
are divided by.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import IO

import httpx

from targets import launch

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
"""Seconds from spawn until the server answers `/` (a cold interpreter on a busy machine)."""
START_ATTEMPTS = 3
"""Spawns tried: a port picked here is free when picked, but another process may take it
before the server binds it; the server then exits at once and the next port is tried."""


@dataclass(frozen=True)
class Shape:
    """How a chat is read and driven over HTTP (see the module docstring)."""

    name: str
    stream_path: str
    send_path: str
    ready: bytes
    """Bytes that end the stream's opening (the reader is subscribed once it has them)."""
    tab_id: bool
    """True when the page carries a tab id that the stream and the sends must name."""
    message: str
    """The CSS selector of one message on the page (a reader checks the message is there)."""
    ready_event: str | None
    """For vt's reader of a plain chat (no `: ready`): the event type whose arrival on the
    stream means subscribed (`vt.ReadySignal.on_event`); None for Via's `: ready`."""

    def stream_params(self, tab: str | None) -> dict[str, str]:
        """The stream request's query (Datastar sends the signals as `datastar`, §5.1)."""
        return {"datastar": json.dumps({"via_tab": tab})} if tab is not None else {}

    def send_body(self, tab: str | None, text: str) -> bytes:
        """The JSON body of a send of `text` (the chat's `name` and `draft` signals)."""
        signals: dict[str, str] = {"name": "bench", "draft": text}
        if tab is not None:
            signals["via_tab"] = tab
        return json.dumps(signals).encode()


VIA = Shape(
    "via", "/_sse", "/_action/Send", b": ready\n\n", tab_id=True, message="article p",
    ready_event=None,
)  # fmt: skip
PLAIN = Shape(
    "plain", "/stream", "/send", b"\n\n", tab_id=False, message="#messages li",
    ready_event="datastar-patch-elements",  # the first event: the current list
)  # fmt: skip

_SIGNALS = re.compile(r'<meta data-signals="([^"]*)">')


def tab_id(page: str) -> str:
    """The tab id of a Via page: `via_tab` in its `data-signals` meta (§2)."""
    found = _SIGNALS.search(page)
    if found is None:
        raise ValueError(f"no data-signals meta in the page: {page[:200]!r}")
    value = json.loads(unescape(found.group(1)))["via_tab"]
    if not isinstance(value, str):
        raise ValueError(f"via_tab is not a string: {value!r}")
    return value


@dataclass(frozen=True)
class Target:
    """A server to measure: `argv` (with `{port}` in it) serves a chat of `shape`; for an SDK
    target, `sdk` (targets/launch.py) makes the argv instead."""

    name: str
    argv: tuple[str, ...]
    shape: Shape
    sdk: launch.Target | None = None

    def command(self, port: int, payload_bytes: int) -> list[str]:
        """The argv for `port` (`{payload}` becomes the floor's payload size). An SDK target's
        is launch.py's (which first builds the Go binary when it is missing or stale)."""
        if self.sdk is not None:
            return self.sdk.command(port)
        return [a.format(port=port, payload=payload_bytes) for a in self.argv]

    def unavailable(self) -> str | None:
        """Why this target cannot run here (an SDK target's missing toolchain), or None."""
        return self.sdk.unavailable() if self.sdk is not None else None


REFERENCE = Target(
    "reference runtime",
    (sys.executable, "-m", "reference_impl.examples.chat", "--port", "{port}", "--log-level",
     "warning"),
    VIA,
)  # fmt: skip
FLOOR = Target(
    "floor (bare Starlette)",
    (sys.executable, "-m", "benchmarks.servers", "--port", "{port}", "--payload-bytes",
     "{payload}"),
    PLAIN,
)  # fmt: skip
SDK_TARGETS = [Target(sdk.name, (), PLAIN, sdk) for sdk in launch.TARGETS]
"""The SDK targets of targets/README.md (names `datastar-py`, `datastar-go`, `datastar-ts`),
available here or not."""
TARGETS: list[Target] = [REFERENCE, *(t for t in SDK_TARGETS if t.unavailable() is None)]
"""The servers measured against the floor: the reference runtime, then each SDK target that
can run here."""
NOT_MEASURED: dict[str, str] = {
    t.name: reason for t in SDK_TARGETS if (reason := t.unavailable()) is not None
}
"""SDK target name -> why it cannot run here (it is then not in `TARGETS`)."""


def free_port() -> int:
    """A loopback port free right now (see `START_ATTEMPTS` for the race this leaves)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    """A running target: its process and base URL."""

    target: Target
    process: subprocess.Popen[bytes]
    url: str


@contextmanager
def serve(target: Target, payload_bytes: int = 0) -> Iterator[Served]:
    """Run `target` until the block ends; yields once `/` answers 200. Raises RuntimeError
    with the server's output when it never does."""
    output = b""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        # A file, not a pipe: a server that logs more than a pipe holds must never block.
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _stop, which owns it)
        process = subprocess.Popen(
            target.command(port, payload_bytes), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            if _wait_until_up(process, f"http://{HOST}:{port}"):
                break
            output = _stop(process, log)  # exited early: most likely the port was taken
        except BaseException:
            _stop(process, log)
            raise
    else:
        raise RuntimeError(
            f"{target.name} did not start in {START_ATTEMPTS} attempts:\n"
            + output.decode(errors="replace")[-2000:]
        )
    try:
        yield Served(target, process, f"http://{HOST}:{port}")
    finally:
        _stop(process, log)


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> bool:
    """True once `/` answers 200; False when the process exited first. Bounded."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.05)  # polling a process that gives no signal when it listens
    raise RuntimeError(f"{url} did not answer / within {START_TIMEOUT:g}s")


def _stop(process: subprocess.Popen[bytes], log: IO[bytes]) -> bytes:
    """Stop the server (SIGTERM, then SIGKILL); return what it printed, and close the log."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    with log:
        log.seek(0)
        return log.read()


def floor_app(payload_bytes: int) -> object:
    """The floor: a bare Starlette SSE broadcaster of the `PLAIN` shape (module docstring)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response, StreamingResponse
    from starlette.routing import Route

    queues: set[asyncio.Queue[bytes]] = set()
    head = b'event: datastar-patch-elements\ndata: elements <div id="chat"><p>'
    tail = b"</p></div>\n\n"

    def event(text: bytes) -> bytes:
        # Padded to the measured servers' payload, so the floor moves the same bytes.
        filler = max(0, payload_bytes - len(head) - len(text) - len(tail))
        return head + text + b"<!--" + b"x" * max(0, filler - 7) + b"-->" + tail

    async def page(request: Request) -> Response:
        return HTMLResponse('<!doctype html><main id="chat"></main>')

    async def stream(request: Request) -> Response:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)

        async def body() -> AsyncIterator[bytes]:
            try:
                yield event(b"")
                while True:
                    yield await queue.get()
            finally:
                queues.discard(queue)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def send(request: Request) -> Response:
        data = event(json.loads(await request.body())["draft"].encode())
        for queue in queues:
            queue.put_nowait(data)
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/stream", stream),
            Route("/send", send, methods=["POST"]),
        ]
    )


def main() -> None:
    """Serve the floor: `python -m benchmarks.servers --port N [--payload-bytes B]`."""
    import uvicorn

    parser = argparse.ArgumentParser(description="the floor: a bare Starlette SSE broadcaster")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload-bytes", type=int, default=0)
    args = parser.parse_args()
    uvicorn.run(
        floor_app(args.payload_bytes),  # type: ignore[arg-type]
        host=HOST,
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
