"""Servers for vt's live tests: small compositions on the reference runtime, and a scripted
Starlette app that says exactly the bytes a test wants (malformed events, cut-off streams,
re-bootstraps) over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from reference_impl import (
    App,
    Composition,
    Ctx,
    SignalBool,
    SignalInt,
    SignalStr,
    StateApp,
    StateSess,
    StateTab,
    action,
    h,
    on,
)

# -- compositions on the reference runtime ----------------------------------------------------


class Counter(Composition):
    """Via's vt_test.go fixture: a counter with a typed signal seeded `hello`."""

    count = StateTab[int]("count", 0)
    greeting = SignalStr("greeting", init="hello")
    n = SignalInt("n")

    def view(self, ctx: Ctx) -> h.Node:
        return h.div(
            h.p(h.text(self.count.read(ctx)), id="count"),
            h.button("+", on.click(self.inc), id="inc"),
            h.p(self.greeting.read(ctx), id="greeting"),
        )

    @action("Inc")
    def inc(self, ctx: Ctx) -> None:
        self.count.add(ctx, 1)

    @action("Set")
    def set_count(self, ctx: Ctx) -> None:
        self.count.write(ctx, self.n.read(ctx))

    @action("Fail")
    def fail(self, ctx: Ctx) -> None:
        raise RuntimeError("secret internals")


class Uploader(Composition):
    """Multipart actions: a file and typed text fields."""

    got = StateTab[str]("got", "")
    note = SignalStr("note")
    s = SignalStr("s")
    i = SignalInt("i")
    b = SignalBool("b")

    def view(self, ctx: Ctx) -> h.Node:
        return h.p(self.got.read(ctx), id="got")

    @action("Upload")
    async def upload(self, ctx: Ctx) -> None:
        part = ctx.files["file"][0]
        data = await part.read()
        self.got.write(ctx, f"{part.filename}:{data.decode()}:{self.note.read(ctx)}")
        await _close_files(ctx)

    @action("Show")
    async def show(self, ctx: Ctx) -> None:
        self.got.write(ctx, f"{self.s.read(ctx)!r} {self.i.read(ctx)!r} {self.b.read(ctx)!r}")
        await _close_files(ctx)


async def _close_files(ctx: Ctx) -> None:
    # Work-around: the runtime never closes uploaded files, and their spooled temporary files
    # then warn (ResourceWarning) when garbage-collected.
    for parts in ctx.files.values():
        for part in parts:
            await part.close()


class Shared(Composition):
    """A session-scoped value (for fork and fan-out tests)."""

    value = StateSess[str]("value", "")
    new = SignalStr("new")

    def view(self, ctx: Ctx) -> h.Node:
        return h.p("value: ", self.value.read(ctx), id="value")

    @action("Put")
    def put(self, ctx: Ctx) -> None:
        self.value.write(ctx, self.new.read(ctx))


class Leaky(Composition):
    """A deliberate leak: a note meant for its writer, kept app-wide, so every tab shows it."""

    note = StateApp[str]("note", "")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        return h.p("your note: ", self.note.read(ctx), id="note")

    @action("Note")
    def write_note(self, ctx: Ctx) -> None:
        draft = self.draft.read(ctx)
        self.note.update(ctx, lambda _: draft)


class Form(Composition):
    """Bindings for click, press and type, written the way the runtime writes them."""

    log = StateTab[list[str]]("log", list)
    draft = SignalStr("draft")
    qty = SignalInt("qty")
    agree = SignalBool("agree")
    query = SignalStr("query")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.ul((h.li(line) for line in self.log.read(ctx)), id="log"),
            h.form(
                h.input(self.draft.bind(), on.key("Enter", self.send), id="draft"),
                h.input(self.qty.bind(), type="number", id="qty"),
                h.input(self.agree.bind(), type="checkbox", id="agree"),
                h.button("Send", on.click(self.send), type="button", id="send"),
                id="form",
            ),
            h.form(
                h.input(self.query.bind(), id="only-field"),
                on.event("submit", self.search),
                id="search-form",
            ),
            h.input(
                self.query.bind(), on.event("input", self.search, debounce="200ms"), id="query"
            ),
            h.button("Delete", on.click(self.delete, confirm="Sure?"), id="delete"),
            h.button("Off", on.click(self.send), disabled=True, id="off"),
            h.button(h.span("icon", id="icon"), on.click(self.send), id="wrap"),
            h.button(
                "Reset",
                h.attr("data-on:click", "$draft='reset';@post('/_action/Send')"),
                id="reset",
            ),
            h.button(
                "Guarded",
                on.click(self.send, confirm="Sure?", set_signals={"draft": "guarded"}),
                id="guarded",
            ),
            h.button(
                "Broken",
                # What the runtime once wrote for confirm + set_signals: not valid JavaScript.
                h.attr("data-on:click", "confirm('Sure?')&&$x=1;@post('/_action/Send')"),
                id="broken",
            ),
            h.p("plain", id="plain"),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        self.log.append(
            ctx,
            f"send {self.draft.read(ctx)!r} qty={self.qty.read(ctx)!r} "
            f"agree={self.agree.read(ctx)!r}",
        )
        self.draft.write(ctx, "")

    @action("Search")
    def search(self, ctx: Ctx) -> None:
        self.log.append(ctx, f"search {self.query.read(ctx)!r}")

    @action("Delete")
    def delete(self, ctx: Ctx) -> None:
        self.log.append(ctx, "delete")


def app_for(composition: type[Any], route: str = "/", **options: Any) -> App:
    """A reference app serving one composition (insecure cookies off by default: vt's jar
    must send the Secure cookie over loopback http)."""
    app = App(**options)
    app.mount(route, composition)
    return app


# -- a scripted server -------------------------------------------------------------------------

OLD_TAB = "/_" + "a" * 64
NEW_TAB = "/_" + "b" * 64


def page(tab_id: str = OLD_TAB, body: str = "", signals: dict[str, Any] | None = None) -> str:
    seed = json.dumps({"via_tab": tab_id, **(signals or {})}).replace('"', "&#34;")
    return (
        "<!doctype html><html><head>"
        f'<meta data-signals="{seed}">'
        "<meta data-init=\"@get('/_sse')\">"
        f'</head><body><div id="{tab_id}">{body}</div></body></html>'
    )


def patch(elements: str, selector: str | None = None, mode: str | None = None) -> bytes:
    lines = ["event: datastar-patch-elements"]
    if selector:
        lines.append(f"data: selector {selector}")
    if mode:
        lines.append(f"data: mode {mode}")
    lines += [f"data: elements {line}" for line in elements.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def signals(value: dict[str, Any]) -> bytes:
    return f"event: datastar-patch-signals\ndata: signals {json.dumps(value)}\n\n".encode()


READY = b": ready\n\n"


@dataclass
class Scripted:
    """A Starlette app whose page, streams and action answers are scripted by a test.

    `streams` gives, per stream connection (in order), the chunks to send; `keep_open` keeps
    a stream open after its chunks, sending whatever `push()` queues. `on_action` answers an
    action (default: 200, empty) after it is recorded in `actions`.
    """

    streams: list[list[bytes]] = field(default_factory=list)
    page_html: str = field(default_factory=page)
    keep_open: bool = True
    on_action: Callable[[Scripted, str, dict[str, Any]], Response] | None = None
    stream_status: int = 200
    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stream_queries: list[dict[str, Any]] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    _queue: asyncio.Queue[bytes] | None = None

    def push(self, chunk: bytes) -> None:
        assert self._queue is not None, "no stream is open"
        self._queue.put_nowait(chunk)

    def app(self) -> Starlette:
        async def index(request: Request) -> Response:
            self.request_headers.append(dict(request.headers))
            return HTMLResponse(self.page_html)

        async def sse(request: Request) -> Response:
            self.request_headers.append(dict(request.headers))
            if self.stream_status != 200:
                return Response(b"go away", status_code=self.stream_status)
            self.stream_queries.append(json.loads(request.query_params.get("datastar", "{}")))
            number = len(self.stream_queries) - 1
            chunks = self.streams[number] if number < len(self.streams) else [READY]
            queue = self._queue = asyncio.Queue()

            async def body() -> AsyncIterator[bytes]:
                for chunk in chunks:
                    yield chunk
                    await asyncio.sleep(0)  # one write per chunk: the client sees the splits
                while self.keep_open:
                    yield await queue.get()

            return StreamingResponse(body(), media_type="text/event-stream")

        async def act(request: Request) -> Response:
            self.request_headers.append(dict(request.headers))
            payload = json.loads(await request.body() or b"{}")
            name = request.path_params["name"]
            self.actions.append((name, payload))
            if self.on_action is not None:
                return self.on_action(self, name, payload)
            return Response(b"")

        return Starlette(
            routes=[
                Route("/_sse", sse),
                Route("/_action/{name}", act, methods=["POST"]),
                Route("/{path:path}", index),
            ]
        )
