"""Issue 18: what vt got wrong when a page's own attributes act, each on the smallest plain
Datastar page that showed it (every one failed on the previous commit, 3665963; the browser
parity test, tests/browser/test_behaviour_parity.py, checks the same against Chromium)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

import vt
from vt.wire.events import PatchSignals

pytestmark = pytest.mark.anyio


class App:
    """One page and a recorder: `/rec/*` records (method, path, content type, body) and
    answers 204; `/feed` streams one patch then stays open until the test ends (`hold`),
    or, with `silent`, sends nothing."""

    def __init__(self, body: str, *, silent: bool = False) -> None:
        self.body = body
        self.seen: list[tuple[str, str, str, str]] = []
        self.hold = anyio.Event()
        self.silent = silent

    def app(self) -> Starlette:
        async def page(request: Request) -> Response:
            return HTMLResponse(f"<!DOCTYPE html><html><head></head>{self.body}</html>")

        async def rec(request: Request) -> Response:
            kind = request.headers.get("content-type", "").partition(";")[0]
            body = (await request.body()).decode()
            self.seen.append((request.method, request.url.path, kind, body))
            return Response(status_code=204)

        async def feed(request: Request) -> Response:
            async def events() -> AsyncIterator[bytes]:
                if not self.silent:
                    yield b'event: datastar-patch-signals\ndata: signals {"fed": 1}\n\n'
                with anyio.move_on_after(20):
                    await self.hold.wait()
                yield b": bye\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        methods = ["GET", "POST"]
        return Starlette(
            routes=[
                Route("/", page),
                Route("/rec/{rest:path}", rec, methods=methods),
                Route("/feed", feed, methods=methods),
            ]
        )


async def test_expressions_compute_as_javascript_does(serve: Callable[[Any], str]) -> None:
    # Before: "vt assigns literal values only", "not something vt can perform", "uses `v`".
    app = App(
        '<body data-signals="{page: 1, points: [1.25, 2.5]}">'
        '<button id="next" data-on:click="$page=$page+1">next</button>'
        '<button id="inc" data-on:click="$clicks++">+</button>'
        '<p id="pts" data-text="$points.map(v => v.toFixed(1)).join(\' \')"></p></body>'
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.click("#next")
        await tab.click("#inc")
        assert (tab.signals["page"], tab.signals["clicks"]) == (2, 1)
        assert tab.text("#pts") == "1.3 2.5"


async def test_an_indicator_starts_false_so_the_button_is_enabled(
    serve: Callable[[Any], str],
) -> None:
    # Before: `$_fetching` was "", so data-attr:disabled disabled the button and the click
    # was refused ("is disabled; a browser does not dispatch clicks to it").
    app = App(
        '<body><span data-indicator:_fetching></span><button id="b" '
        'data-attr:disabled="$_fetching" data-on:click="@post(\'/rec/go\')">go</button></body>'
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.signals["_fetching"] is False
        assert tab.select_one("#b").get("disabled") is None  # type: ignore[union-attr]
        await tab.click("#b")
    assert [s[:2] for s in app.seen] == [("POST", "/rec/go")]


async def test_content_type_form_sends_the_forms_fields(serve: Callable[[Any], str]) -> None:
    # Before: the signals went as a JSON body; a Django CSRF form answered 403.
    app = App(
        "<body><form data-on:submit=\"@post('/rec/save', {contentType: 'form'})\">"
        '<input type="hidden" name="token" value="t0k3n"><input id="t" name="title">'
        '<button id="go">go</button></form></body>'
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.fill("#t", "hello")
        await tab.click("#go")
    assert app.seen == [
        ("POST", "/rec/save", "application/x-www-form-urlencoded", "token=t0k3n&title=hello")
    ]


async def test_a_second_body_tag_gives_its_signals(serve: Callable[[Any], str]) -> None:
    # FastHTML's Titled(..., Body(...)): before, the second <body>'s data-signals were lost.
    app = App(
        '<body><h1>T</h1><body data-signals=\'{"late": 1}\'><p id="p" '
        'data-text="$late"></p></body></body>'
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.signals["late"] == 1
        assert tab.text("#p") == "1"


async def test_a_post_in_data_init_opens_its_stream(serve: Callable[[Any], str]) -> None:
    # Before: only @get was read in data-init; the @post was never sent, silently.
    app = App("<body data-init=\"@post('/feed')\"></body>")
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.expect_signal("fed", 1)
        app.hold.set()


async def test_data_init_attributes_are_read_with_the_attribute_grammar(
    serve: Callable[[Any], str],
) -> None:
    # Before: regexes over `@get(`: the one with a modifier was not opened.
    app = App(
        "<body><div data-init__delay.10ms=\"@get('/rec/a')\"></div>"
        "<div data-init=\"@get('/rec/b')\"></div></body>"
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.stream_urls == ("/rec/b", "/rec/a")
    assert sorted(s[1] for s in app.seen) == ["/rec/a", "/rec/b"]


async def test_a_click_that_opens_a_long_stream_returns_at_once(
    serve: Callable[[Any], str],
) -> None:
    # Before: click() returned when the 20 s feed ended.
    app = App('<body><button id="b" data-on:click="@get(\'/feed\')">feed</button></body>')
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        started = time.monotonic()
        (result,) = await tab.click("#b")
        assert time.monotonic() - started < 5
        assert result.status == 200
        await tab.expect_signal("fed", 1)  # read in the background, like the tab's stream
        app.hold.set()


async def test_a_silent_stream_from_a_click_outlives_http_timeout(
    serve: Callable[[Any], str],
) -> None:
    # Before: a bare httpx.ReadTimeout with no text escaped from click().
    app = App(
        '<body><button id="b" data-on:click="@get(\'/feed\')">feed</button></body>', silent=True
    )
    async with vt.AsyncClient(serve(app.app()), timeout=5, http_timeout=0.3) as client:
        tab = await client.new_session().open("/")
        await tab.click("#b")
        await tab.expect_quiet(0.6)  # longer than http_timeout: the stream is still open
        assert tab.connected
        app.hold.set()


async def test_a_tab_on_another_node_sends_the_page_s_own_requests_there(
    serve: Callable[[Any], str],
) -> None:
    # Before (merging the cluster branch): data-init's and a click's requests went to node 1.
    body = (
        "<body data-init=\"@post('/rec/init')\">"
        '<button id="b" data-on:click="@post(\'/rec/click\')">go</button></body>'
    )
    one, two = App(body), App(body)
    async with vt.AsyncClient([serve(one.app()), serve(two.app())], timeout=3) as client:
        tab = await client.new_session(node=2).open("/")
        await tab.click("#b")
    assert one.seen == []
    assert [path for _, path, _, _ in two.seen] == ["/rec/init", "/rec/click"]


async def test_focus_blur_change_and_submit_are_gestures(serve: Callable[[Any], str]) -> None:
    # Before: no such gestures (AttributeError).
    app = App(
        '<body><input id="i" data-on:focus="$f = 1" data-on:change="$c = 1" '
        'data-on:blur="$b = 1"><form id="f" data-on:submit="$s = 1"></form></body>'
    )
    async with vt.AsyncClient(serve(app.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.focus("#i")
        await tab.fill("#i", "x")
        await tab.blur("#i")
        await tab.submit("#f")
        assert {k: tab.signals[k] for k in "fcbs"} == {"f": 1, "c": 1, "b": 1, "s": 1}


def test_deleting_a_signal_a_display_reads_leaves_it_deleted() -> None:
    # Go Via's feed: `{"points": null}` left `points: ""` (the display read it again).
    replica = vt.Replica.from_html(
        '<div data-signals="{points: [1, 2]}"><p id="p" data-text="$points.join(\' \')"></p></div>'
    )
    replica.apply(PatchSignals({"points": None}))
    assert "points" not in replica.signals
    assert replica.document.text("#p") == "1 2"  # not run again, as in Chromium


async def test_vias_next_protocol_is_a_plain_datastar_page(serve: Callable[[Any], str]) -> None:
    """Via v0.8's wire, imitated: the stream is opened by `@post('/_via/sse')` in data-init,
    the tab id arrives in its first frame, actions post to `/_via/a/{n}` with `X-Via-Tab`."""
    posted: list[tuple[str, str, dict[str, Any]]] = []
    hold = anyio.Event()

    async def page(request: Request) -> Response:
        return HTMLResponse(
            "<!DOCTYPE html><html><head></head>"
            '<body data-init="@post(\'/_via/sse\')" data-signals=\'{"_viatab":"","n":0}\'>'
            '<p id="n" data-text="$n"></p><button id="inc" data-on:click="@post(\'/_via/a/1\', '
            "{headers: {'X-Via-Tab': $_viatab}})\">+</button></body></html>"
        )

    async def sse(request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield b'event: datastar-patch-signals\ndata: signals {"_viatab": "t-1"}\n\n'
            with anyio.move_on_after(20):
                await hold.wait()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def action(request: Request) -> Response:
        body = json.loads(await request.body())
        posted.append((request.url.path, request.headers.get("x-via-tab", ""), body))
        patch = json.dumps({"n": body["n"] + 1})
        return Response(
            f"event: datastar-patch-signals\ndata: signals {patch}\n\n",
            media_type="text/event-stream",
        )

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/_via/sse", sse, methods=["POST"]),
            Route("/_via/a/{n}", action, methods=["POST"]),
        ]
    )
    async with vt.AsyncClient(serve(app), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.profile == "datastar"
        await tab.expect_signal("_viatab", "t-1")
        await tab.click("#inc")
        await tab.expect_text("#n", "1")
        hold.set()
    assert posted == [("/_via/a/1", "t-1", {"n": 0})]
