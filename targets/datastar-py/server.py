"""vt's Python-SDK target: Starlette + datastar-py, served by uvicorn on 127.0.0.1.

Serves the SDK test endpoint `/test` and the small plain-Datastar chat that targets/README.md
describes (the same DOM as the Go and TypeScript targets). Run:

    python targets/datastar-py/server.py --port 8000 [--datastar-js PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from datastar_py.sse import DatastarEvent
from datastar_py.sse import ServerSentEventGenerator as SSE
from datastar_py.starlette import DatastarResponse, read_signals
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
)  # the same five entities in all three targets, so their bytes match too


def escape(text: str) -> str:
    """Markup-escape `text` for element content or a quoted attribute value."""
    return text.translate(_ESCAPES)


def render_messages(messages: list[tuple[str, str]]) -> str:
    """The `#messages` list; the markup is the same in all three targets."""
    items = "".join(
        f'<li class="message"><b class="author">{escape(name)}</b>: '
        f'<span class="text">{escape(text)}</span></li>'
        for name, text in messages
    )
    return f'<ul id="messages">{items}</ul>'


PAGE_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vt chat</title>
<script type="module" src="/datastar.js"></script>
</head>
<body>
<main id="chat" data-signals='{"name": "", "draft": ""}' data-init="@get('/stream')">
<h1>Chat</h1>
"""

PAGE_TAIL = """
<form id="composer" data-on:submit__prevent="@post('/send')">
<input id="name" data-bind="name" placeholder="Your name">
<input id="draft" data-bind="draft" placeholder="Message">
<button id="send" type="submit">Send</button>
</form>
</main>
</body>
</html>
"""


def sdk_event(event: dict[str, Any]) -> DatastarEvent:
    """One `/test` event (see targets/README.md) sent with the SDK, as its SSE text."""
    kind = event.get("type")
    event_id = event.get("eventId")
    retry = event.get("retryDuration")
    if kind == "patchElements":
        options: dict[str, Any] = {
            "elements": event.get("elements"),
            "selector": event.get("selector"),
            "mode": event.get("mode"),
            "use_view_transition": event.get("useViewTransition"),
            "namespace": event.get("namespace"),
            "event_id": event_id,
            "retry_duration": retry,
        }
        return SSE.patch_elements(**options)
    if kind == "removeElements":
        return SSE.remove_elements(event["selector"], event_id=event_id, retry_duration=retry)
    if kind in ("patchSignals", "removeSignals"):
        signals: dict[str, Any] | str
        if kind == "removeSignals":
            # The SDK has no removal call: removal is a merge patch with null values.
            signals = dict.fromkeys(event.get("keys", []))
        elif "signals-raw" in event:
            signals = event["signals-raw"]
        else:
            signals = event.get("signals", {})
        return SSE.patch_signals(
            signals,
            event_id=event_id,
            only_if_missing=event.get("onlyIfMissing"),
            retry_duration=retry,
        )
    if kind == "executeScript":
        return SSE.execute_script(
            event["script"],
            auto_remove=event.get("autoRemove", True),
            attributes=event.get("attributes"),
            event_id=event_id,
            retry_duration=retry,
        )
    raise ValueError(f"unknown event type {kind!r}")


class Room:
    """The chat's one shared message list and the queues of its open streams."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.streams: set[asyncio.Queue[str]] = set()

    def post(self, name: str, text: str) -> None:
        """Append a message and push the new list to every open stream, in send order."""
        self.messages.append((name, text))
        listing = render_messages(self.messages)
        for queue in self.streams:
            queue.put_nowait(listing)


def build_app(datastar_js: Path | None) -> Starlette:
    """The target's ASGI app; `datastar_js` is the file served at `/datastar.js`."""
    room = Room()

    async def test(request: Request) -> Response:
        signals = await read_signals(request) or {}
        return DatastarResponse([sdk_event(e) for e in signals.get("events", [])])

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE_HEAD + render_messages(room.messages) + PAGE_TAIL)

    async def stream(request: Request) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue()
        room.streams.add(queue)
        first = render_messages(room.messages)

        async def events() -> AsyncIterator[DatastarEvent]:
            try:
                yield SSE.patch_elements(first)
                while True:
                    yield SSE.patch_elements(await queue.get())
            finally:
                room.streams.discard(queue)

        return DatastarResponse(events())

    async def send(request: Request) -> Response:
        try:
            signals = await read_signals(request) or {}
        except json.JSONDecodeError as exc:
            return PlainTextResponse(f"cannot read signals: {exc}", status_code=400)
        text = str(signals.get("draft", "")).strip()
        if not text:
            return Response(status_code=204)
        room.post(str(signals.get("name", "")).strip() or "anonymous", text)
        return DatastarResponse(SSE.patch_signals({"draft": ""}))

    async def client_js(request: Request) -> Response:
        if datastar_js is None:
            return PlainTextResponse(
                "start the target with --datastar-js PATH to serve the client", status_code=404
            )
        return FileResponse(datastar_js, media_type="text/javascript")

    return Starlette(
        routes=[
            Route("/test", test, methods=["GET", "POST"]),
            Route("/", page),
            Route("/stream", stream),
            Route("/send", send, methods=["POST"]),
            Route("/datastar.js", client_js),
        ]
    )


def main() -> None:
    """Parse `--port` and `--datastar-js` and serve on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--datastar-js", type=Path, default=None)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.datastar_js),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        # Streams never end by themselves; do not wait for them on shutdown.
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
