"""The plain Datastar profile: how a page without `via_tab` is read, its streams, its ready
rule, Datastar's backend actions, and the Via-only calls that say what to use instead."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

import vt
from vt.page.profile import ReadySignal, resolve_profile
from vt.page.reader import read_page
from vt.replica.dom import Document
from vt.wire.sse import Comment, ServerSentEvent

pytestmark = pytest.mark.anyio

PLAIN = """<!doctype html><html><body>
<div data-signals='{"count": 1, "_local": "x"}'></div>
<div data-signals:name="'ann'"></div>
<main data-init="@get('/feed'); @get('/presence')">
<p id="count" data-text="$count"></p><p id="said"></p><ul id="log"></ul>
<button id="inc" data-on:click="@post('/inc')">+</button>
</main></body></html>"""

VIA = """<!doctype html><html><head>
<meta data-signals='{"via_tab": "r_abc"}'></head>
<body data-init="@get('/_sse')"></body></html>"""


def _page(html: str, profile: str = "auto") -> Any:
    return read_page(Document.parse(html), html, profile)


# -- sans-IO ----------------------------------------------------------------------------------


def test_a_page_without_via_tab_is_plain_with_every_signal_and_every_stream() -> None:
    page = _page(PLAIN)
    assert page.profile == "datastar"
    assert page.tab_id is None
    assert page.seed == {"count": 1, "_local": "x", "name": "ann"}
    assert page.stream_urls == ("/feed", "/presence")


def test_a_page_with_via_tab_is_via_unless_forced() -> None:
    assert _page(VIA).profile == "via"
    assert _page(VIA).stream_urls == ("/_sse",)
    forced = _page(VIA, "datastar")
    assert forced.profile == "datastar"
    assert forced.stream_urls == ("/_sse",)
    with pytest.raises(vt.PageBootstrapError, match="via_tab"):
        _page(PLAIN, "via")


def test_an_unknown_profile_is_a_usage_error() -> None:
    with pytest.raises(vt.UsageError, match="auto, via, datastar"):
        resolve_profile("vue", {})


def test_ready_signals_match_their_comment_or_event_only() -> None:
    comment, event = ReadySignal.on_comment(" up "), ReadySignal.on_event("hello")
    assert comment.matches(Comment("up"))
    assert not comment.matches(Comment("ready"))
    assert not comment.matches(ServerSentEvent("up", ""))
    assert event.matches(ServerSentEvent("hello", "data"))
    assert not event.matches(Comment("hello"))
    assert not ReadySignal.when(lambda tab: True).matches(Comment("up"))


# -- live: a plain Starlette app that records what it was sent --------------------------------


def plain_app(seen: list[dict[str, Any]], *, refuse: str | None = None) -> Starlette:
    """Two streams (`/feed` says `: up`, `/presence` says `: up` after a patch), and one
    route per method that records the request and answers with a patch."""
    release = asyncio.Event()

    async def page(request: Request) -> Response:
        return HTMLResponse(PLAIN)

    def stream(first: bytes) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if request.url.path == refuse:
                return Response("no", status_code=403)

            async def body() -> AsyncIterator[bytes]:
                yield first
                await release.wait()  # held open until the test's server stops

            return StreamingResponse(body(), media_type="text/event-stream")

        return endpoint

    async def record(request: Request) -> Response:
        seen.append(
            {
                "method": request.method,
                "query": dict(request.query_params),
                "body": (await request.body()).decode(),
                "content-type": request.headers.get("content-type"),
                "datastar-request": request.headers.get("datastar-request"),
            }
        )
        said = json.dumps({"said": request.method})
        return Response(
            f"event: datastar-patch-signals\ndata: signals {said}\n\n",
            media_type="text/event-stream",
        )

    routes = [
        Route("/", page),
        Route("/feed", stream(b": up\n\n")),
        Route(
            "/presence",
            stream(
                b"event: datastar-patch-elements\n"
                b'data: elements <ul id="log"><li>here</li></ul>\n\n: up\n\n'
            ),
        ),
        Route("/act", record, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    return Starlette(routes=routes)


async def test_plain_page_opens_every_stream_and_is_ready_on_its_own_signal(
    serve: Callable[[Any], str],
) -> None:
    url = serve(plain_app([]))
    async with vt.AsyncClient(url, ready_signal=ReadySignal.on_comment("up")) as client:
        tab = await client.new_session().open("/")
        assert tab.profile == "datastar"
        assert tab.connected
        await tab.ready()
        assert tab.recording.connections == 2
        assert [r.url.split("?")[0] for r in tab.responses[1:]] == [
            url + "/feed",
            url + "/presence",
        ]
        assert all("datastar=" in r.url for r in tab.responses[1:])
        await tab.expect_text("#log", "here")
        await tab.drop()
        assert not tab.connected


async def test_ready_waits_for_the_app_signal_and_says_which(serve: Callable[[Any], str]) -> None:
    url = serve(plain_app([]))
    async with vt.AsyncClient(
        url, timeout=0.5, ready_signal=ReadySignal.on_event("never-sent")
    ) as client:
        tab = await client.new_session().open("/")
        with pytest.raises(vt.WaitTimeout, match="event: never-sent"):
            await tab.ready()


async def test_ready_with_a_predicate(serve: Callable[[Any], str]) -> None:
    url = serve(plain_app([]))
    ready = ReadySignal.when(lambda tab: tab.select_one("#log li") is not None)
    async with vt.AsyncClient(url, ready_signal=ready) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        assert tab.text("#log") == "here"


async def test_without_a_ready_signal_ready_means_the_streams_answered(
    serve: Callable[[Any], str],
) -> None:
    url = serve(plain_app([]))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/", connect=False)
        assert not tab.connected
        await tab.ready()
        assert tab.connected
        assert [r.status for r in tab.responses] == [200, 200, 200]


def burst_app() -> Starlette:
    """A plain page whose stream sends its first events (the app's state) shortly after the
    200, as an app does once it has read its state, then stays open."""

    async def page(request: Request) -> Response:
        return HTMLResponse(
            "<main data-signals='{\"count\": 0}' data-init=\"@get('/feed')\">"
            '<p id="n" data-text="$count"></p></main>'
        )

    async def feed(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            await asyncio.sleep(0.05)  # the app reads its state: a latency, not a sync
            yield b'event: datastar-patch-signals\ndata: signals {"count": 5}\n\n'
            await asyncio.Event().wait()  # stays open, as a live stream does

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/", page), Route("/feed", feed)])


async def test_ready_applies_what_the_app_sends_on_connect(serve: Callable[[Any], str]) -> None:
    # Issue 17: ready() returned at the stream's 200, and `signals` read next were stale.
    async with vt.AsyncClient(serve(burst_app())) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        assert tab.signals["count"] == 5  # the natural next read
        assert tab.text("#n") == "5"


def test_the_sync_ready_applies_what_the_app_sends_on_connect(
    serve: Callable[[Any], str],
) -> None:
    with vt.Client(serve(burst_app())) as client:
        tab = client.new_session().open("/")
        tab.ready()
        assert tab.signals["count"] == 5


async def test_a_plain_page_without_a_stream_opens_none_and_is_ready(
    serve: Callable[[Any], str],
) -> None:
    async def page(request: Request) -> Response:
        return HTMLResponse('<p data-signals:n="1" data-on:click="@post(\'/x\')">static</p>')

    url = serve(Starlette(routes=[Route("/", page)]))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/")
        assert tab.stream_urls == ()
        assert await tab.connect() is None
        await tab.ready()
        assert [r.method for r in tab.responses] == ["GET"], "no stream was asked for"
        assert tab.signals.get("n") == 1


async def test_a_refused_stream_raises_and_drops_the_streams_it_opened(
    serve: Callable[[Any], str],
) -> None:
    url = serve(plain_app([], refuse="/presence"))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/", connect=False)
        with pytest.raises(vt.UnexpectedResponse, match="/presence.*403"):
            await tab.connect()
        assert not tab.connected


async def test_backend_actions_are_sent_as_datastar_sends_them(
    serve: Callable[[Any], str],
) -> None:
    seen: list[dict[str, Any]] = []
    url = serve(plain_app(seen))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/")
        for call in (tab.post, tab.put, tab.patch):
            result = await call("/act", count=2)
            assert result.status == 200
        await tab.get("/act", count=3)
        await tab.delete("/act")
        await tab.expect_signal("said", "DELETE")  # each response's patch was applied
    # Each body is the tab's signals then: the previous response's patch included.
    assert [json.loads(s["body"]) for s in seen[:3]] == [
        {"count": 2, "name": "ann"},
        {"count": 2, "name": "ann", "said": "POST"},
        {"count": 2, "name": "ann", "said": "PUT"},
    ]
    assert [s["method"] for s in seen] == ["POST", "PUT", "PATCH", "GET", "DELETE"]
    assert all(s["datastar-request"] == "true" for s in seen)
    assert [s["content-type"] for s in seen[:3]] == ["application/json"] * 3
    assert all("_local" not in s["body"] for s in seen), "local signals are not sent"
    get, delete = seen[3], seen[4]
    assert get["body"] == ""
    assert json.loads(get["query"]["datastar"])["count"] == 3
    assert delete["body"] == ""
    assert "datastar" in delete["query"]


async def test_a_click_runs_the_post_binding_on_a_plain_page(serve: Callable[[Any], str]) -> None:
    seen: list[dict[str, Any]] = []
    app = plain_app(seen)
    app.router.routes.append(Route("/inc", app.router.routes[-1].endpoint, methods=["POST"]))
    url = serve(app)
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/")
        [result] = await tab.click("#inc")
        assert result.status == 200
        await tab.expect_signal("said", "POST")
    assert json.loads(seen[0]["body"]) == {"count": 1, "name": "ann"}


@pytest.mark.parametrize(
    ("call", "instead"),
    [
        (lambda tab: tab.action("Send"), "tab.post(url"),
        (lambda tab: tab.upload("Send", {}), "tab.post(url"),
        (lambda tab: tab.close(), "tab.drop()"),
        (lambda tab: tab.reload(), "reload(beacon=False)"),
    ],
    ids=["action", "upload", "close", "reload"],
)
async def test_via_only_calls_say_what_to_use_instead(
    serve: Callable[[Any], str], call: Callable[[vt.AsyncTab], Any], instead: str
) -> None:
    seen: list[dict[str, Any]] = []
    url = serve(plain_app(seen))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/")
        with pytest.raises(vt.UsageError, match="plain Datastar page") as raised:
            await call(tab)
        assert instead in str(raised.value)
        assert len(tab.responses) == 3, "nothing was sent"
    assert not seen


async def test_reload_without_the_beacon_reloads_a_plain_page(serve: Callable[[Any], str]) -> None:
    url = serve(plain_app([]))
    async with vt.AsyncClient(url) as client:
        tab = await client.new_session().open("/")
        tab.signals.patch({"count": 9})
        await tab.reload(beacon=False)
        assert tab.signals.get("count") == 1
        assert tab.connected


async def test_a_session_can_force_via_reading(serve: Callable[[Any], str]) -> None:
    url = serve(plain_app([]))
    async with vt.AsyncClient(url, profile="datastar") as client:
        with pytest.raises(vt.PageBootstrapError, match="via_tab"):
            await client.new_session(profile="via").open("/")
        assert (await client.new_session().open("/")).profile == "datastar"
        with pytest.raises(vt.UsageError, match="unknown profile"):
            client.new_session(profile="react")


def test_the_sync_tab_has_the_backend_actions(serve: Callable[[Any], str]) -> None:
    seen: list[dict[str, Any]] = []
    url = serve(plain_app(seen))
    with vt.Client(url) as client:
        tab = client.new_session().open("/")
        assert tab.profile == "datastar"
        assert tab.get("/act", count=5).status == 200
        tab.expect_signal("said", "GET")
    assert json.loads(seen[0]["query"]["datastar"])["count"] == 5
