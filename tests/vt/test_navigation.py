"""The tab as a browser tab: redirects and reloads are new page loads in the same tab, a closed
tab (or the client's exit) sends the close beacon, a compressed stream needs no `: ready`, and
events a browser applies although they break §6 are applied and reported."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

import vt
from tests.vt.apps import READY, Counter, app_for, page, patch
from vt.defaults import BEACON_TIMEOUT
from vt.page.navigation import Navigation, from_response, from_script, path_of, url_matches
from vt.replica.dom import Script

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]

TAB_A = "/_" + "a" * 64
TAB_B = "/_" + "b" * 64


def script(body: str) -> bytes:
    """A Via script event (§6.4.1)."""
    return patch(f'<script data-effect="el.remove()">{body}</script>', "body", "append")


@dataclass
class Site:
    """Two Via-shaped pages, `/` (tab A) and `/b` (tab B), and a stream per tab saying what
    the test scripts; records the streams opened, the beacons and the actions."""

    streams: dict[str, list[bytes]] = field(default_factory=dict)
    action_answer: Callable[[], Response] = lambda: Response(b"")
    page_redirect: str | None = None
    beacon_hangs: bool = False
    beacon_literal: str | None = None  # page A's beacon script sends this JS string literal
    compressed: bool = False
    ends: str | None = None  # the stream ends after its chunks: "finished" or "truncated"
    opened: list[str] = field(default_factory=list)
    beacons: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def page_a(request: Request) -> Response:
            if self.page_redirect is not None:
                return RedirectResponse(self.page_redirect, status_code=302)
            html = page(TAB_A, "<p id='where'>A</p>")
            if self.beacon_literal is not None:
                script = (
                    "window.addEventListener('beforeunload',()=>"
                    f"navigator.sendBeacon('/_sse/close',{self.beacon_literal}))"
                )
                html = html.replace("</head>", f'<meta data-init="{escape(script)}"></head>')
            return HTMLResponse(html)

        async def page_b(request: Request) -> Response:
            return HTMLResponse(page(TAB_B, "<p id='where'>B</p>"))

        async def sse(request: Request) -> Response:
            tab = json.loads(request.query_params["datastar"])["via_tab"]
            self.opened.append(tab)
            chunks = self.streams.get(tab, [READY])

            async def body() -> AsyncIterator[bytes]:
                squeezer = brotli.Compressor() if self.compressed else None
                for chunk in chunks:
                    if squeezer is None:
                        yield chunk
                    else:  # flushed per event, as §5.6 says
                        yield squeezer.process(chunk) + squeezer.flush()
                if self.ends is None:
                    await asyncio.Event().wait()  # stays open, as a live stream does
                elif squeezer is not None and self.ends == "finished":
                    yield squeezer.finish()  # the brotli stream's end (§5.5.4)

            headers = {"Content-Encoding": "br"} if self.compressed else {}
            return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

        async def close(request: Request) -> Response:
            if self.beacon_hangs:
                await asyncio.Event().wait()
            self.beacons.append((await request.body()).decode())
            return Response(b"")

        async def act(request: Request) -> Response:
            return self.action_answer()

        return Starlette(
            routes=[
                Route("/", page_a),
                Route("/b", page_b),
                Route("/_sse", sse),
                Route("/_sse/close", close, methods=["POST"]),
                Route("/_action/{name}", act, methods=["POST"]),
            ]
        )


# -- redirects and reloads --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'setTimeout(() => window.location.href = "/b")',  # Via's redirect (§6.4.2)
        "window.location = '/b'",
        'window.location.href = "http://PLACEHOLDER/b"',  # absolute, same server
    ],
)
async def test_a_redirect_script_on_the_stream_loads_the_new_page_in_the_same_tab(
    serve: Serve, body: str
) -> None:
    site = Site()
    url = serve(site.app())
    site.streams[TAB_A] = [READY, script(body.replace("http://PLACEHOLDER", url))]
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")

        await tab.expect_text("#where", "B")
        await tab.ready()

        assert (tab.path, tab.id, tab.connected) == ("/b", TAB_B, True)
        assert site.opened == [TAB_A, TAB_B]  # a new stream, for the new tab id
        assert site.beacons == [TAB_A]  # the old page said goodbye, as on unload (§4.4)
        assert any("/b" in e.text for e in tab.timeline.of_kind("navigate"))


@pytest.mark.parametrize(
    "wanted",
    ["/b", "**/b", "ABSOLUTE/b", re.compile(r"/b$"), lambda url: url.endswith("/b")],
    ids=["path", "glob", "url", "regex", "predicate"],
)
async def test_wait_for_url_waits_for_the_navigation_a_page_asked_for(
    serve: Serve, wanted: Any
) -> None:
    site = Site()
    url = serve(site.app())
    site.streams[TAB_A] = [READY, script('setTimeout(() => window.location.href = "/b")')]
    if isinstance(wanted, str):
        wanted = wanted.replace("ABSOLUTE", url)
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")

        assert await tab.wait_for_url(wanted) == url + "/b"

        # The new page has loaded and its stream answered: the natural next reads hold.
        assert (tab.path, tab.id, tab.text("#where"), tab.connected) == ("/b", TAB_B, "B", True)


async def test_wait_for_url_explains_where_the_tab_is(serve: Serve) -> None:
    site = Site()
    url = serve(site.app())
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")
        with pytest.raises(vt.WaitTimeout) as caught:
            await tab.wait_for_url("/c", timeout=0.2)
        lines = str(caught.value).splitlines()
        assert lines[0].endswith("did not navigate to a URL matching '/c' within 0.2s.")
        assert lines[1] == f"  now at: {url + '/'!r}"
    with vt.Client(url, timeout=3) as sync_client:  # the sync twin
        sync_tab = sync_client.new_session().open("/")
        assert sync_tab.wait_for_url(lambda u: u.endswith("/")) == url + "/"


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("/b", "http://h:1/b", True),
        ("/b", "http://h:1/b?x=1", False),  # the whole URL, as Playwright's wait_for_url
        ("/items/*", "http://h:1/items/7", True),
        ("/items/*", "http://h:1/items/7/edit", False),  # * stops at /
        ("**/edit", "http://h:1/items/7/edit", True),
        ("/b?x=1", "http://h:1/b?x=1", True),  # ? is literal
        ("http://h:1/b", "http://h:1/b", True),
        (re.compile(r"items/\d+$"), "http://h:1/items/7", True),
        (re.compile(r"^/items"), "http://h:1/items/7", False),  # a regex sees the whole URL
    ],
)
def test_url_patterns(pattern: Any, url: str, matches: bool) -> None:
    assert url_matches(pattern, url, "http://h:1") is matches


async def test_a_redirect_is_not_followed_when_the_client_or_the_call_says_so(
    serve: Serve,
) -> None:
    site = Site(action_answer=lambda: RedirectResponse("/b", status_code=303))
    site.streams[TAB_A] = [READY, script('setTimeout(() => window.location.href = "/b")')]
    url = serve(site.app())
    async with vt.AsyncClient(url, timeout=3, follow_redirects=False) as client:
        tab = await client.new_session().open("/")
        await tab.expect_script("redirect", "/b")
        assert (tab.path, tab.id) == ("/", TAB_A)
    async with vt.AsyncClient(url, timeout=3) as client:
        site.streams[TAB_A] = [READY]
        tab = await client.new_session().open("/")
        await tab.ready()

        result = await tab.action("Go", follow_redirects=False)

        assert result.status == 303
        assert (tab.path, tab.id) == ("/", TAB_A)
        assert any("not followed" in e.text for e in tab.timeline.of_kind("navigate"))


async def test_an_action_answered_303_loads_its_location(serve: Serve) -> None:
    site = Site(action_answer=lambda: RedirectResponse("/b", status_code=303))
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()

        await tab.action("Go")

        assert (tab.path, tab.id, tab.text("#where")) == ("/b", TAB_B, "B")
        await tab.ready()


async def test_a_page_get_redirect_is_followed_unless_open_says_not(serve: Serve) -> None:
    site = Site(page_redirect="/b")
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        tab = await client.new_session().open("/", connect=False)
        assert (tab.path, tab.id) == ("/b", TAB_B)
        assert [r.status for r in tab.responses] == [302, 200]

        with pytest.raises(vt.UnexpectedResponse, match=r"answered 302"):
            await client.new_session().open("/", connect=False, follow_redirects=False)


async def test_a_reload_answer_to_a_stale_tab_reloads_it(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        old = tab.id
        await tab.close()  # the server forgets the tab; an action with it gets a reload (§4.3)

        await tab.action("Inc")

        assert tab.id != old
        await tab.ready()  # the reloaded page opened its stream
        await tab.action("Inc")
        await tab.expect_text("#count", "1")


async def test_a_redirect_to_another_scheme_is_not_followed_and_fails_the_test(
    serve: Serve,
) -> None:
    site = Site()
    site.streams[TAB_A] = [READY, script('window.location.href = "javascript:alert(1)"')]
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        tab = await client.new_session().open("/")

        with pytest.raises(vt.ProtocolError, match=r"(?s)javascript: URL.*§6\.4\.3"):
            await tab.expect_text("#where", "never")

        assert (tab.path, tab.id, site.opened) == ("/", TAB_A, [TAB_A])


# -- the close beacon ---------------------------------------------------------------------------


async def test_the_client_exit_sends_every_open_tabs_close_beacon(serve: Serve) -> None:
    site = Site()
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        first = await client.new_session().open("/")
        second = await client.new_session().open("/b")
        await first.ready()
        closed = await client.new_session().open("/", connect=False)
        await closed.close()
        assert site.beacons == [TAB_A]

    assert sorted(site.beacons) == sorted([TAB_A, TAB_A, TAB_B])  # one per tab, never twice
    assert (first.closed, second.closed, second.connected) == (True, True, False)


@pytest.mark.parametrize(
    ("literal", "sent"),
    [
        (f"'{TAB_A}'", TAB_A),
        (f'"{TAB_A[:3]}\\u0027{TAB_A[3:]}"', f"{TAB_A[:3]}'{TAB_A[3:]}"),  # escaped as Via does
        ("'another-tab'", "another-tab"),  # a page whose script names another tab: sent as is
    ],
)
async def test_close_sends_what_the_pages_beacon_script_sends(
    serve: Serve, literal: str, sent: str
) -> None:
    # Before: vt sent the id it read from the signals, whatever the page's script said, so a
    # page whose beacon named the wrong tab passed (a mutant of the runtime's escaping did).
    site = Site(beacon_literal=literal)
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.close()
    assert site.beacons == [sent]


async def test_the_client_exit_does_not_hang_on_a_server_that_never_answers_beacons(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The exit's bound, shortened: the test waits it out. A hang would last the requests'
    # 3 s timeout (or forever), well over the bound asserted below.
    beacon_timeout = BEACON_TIMEOUT / 5
    monkeypatch.setattr("vt.client.client.BEACON_TIMEOUT", beacon_timeout)
    site = Site(beacon_hangs=True)
    client = vt.AsyncClient(serve(site.app()), timeout=3)
    async with client:
        tabs = [await client.new_session().open("/") for _ in range(3)]
        started = time.monotonic()
    elapsed = time.monotonic() - started

    assert elapsed < beacon_timeout + 1.5, f"exit took {elapsed:.1f} s"
    for tab in tabs:
        assert any("not answered" in e.text for e in tab.timeline.of_kind("action"))


# -- compressed streams ---------------------------------------------------------------------------


async def test_a_compressed_stream_without_ready_is_ready_on_its_200(serve: Serve) -> None:
    site = Site(compressed=True)
    site.streams[TAB_A] = [patch("<p id='where'>patched</p>")]  # no `: ready` (§5.3.2)
    async with vt.AsyncClient(serve(site.app()), timeout=3, accept_encoding="br") as client:
        tab = await client.new_session().open("/")

        await tab.ready(timeout=1)
        await tab.expect_text("#where", "patched")

        assert tab.responses[-1].headers["content-encoding"] == "br"


@pytest.mark.parametrize(
    ("ends", "reason"),
    [
        ("finished", "server ended the stream"),
        ("truncated", r"stream failed: DecodingError: .*before its end .*§5\.5\.4"),
    ],
)
async def test_a_compressed_stream_cut_before_its_end_is_a_failed_stream(
    serve: Serve, ends: str, reason: str
) -> None:
    site = Site(compressed=True, ends=ends)
    site.streams[TAB_A] = [patch("<p id='where'>patched</p>")]
    async with vt.AsyncClient(serve(site.app()), timeout=3, accept_encoding="br") as client:
        tab = await client.new_session().open("/")
        await tab.expect_text("#where", "patched")

        await tab.wait_until(
            lambda: bool(tab.timeline.of_kind("end")), description="see its stream end"
        )

        (end,) = tab.timeline.of_kind("end")
        assert re.search(reason, end.text), end.text
        assert tab.text("#where") == "patched"  # what arrived before the cut still applied


# -- protocol violations ------------------------------------------------------------------------

# A browser applies this (the unknown `foo` data line is ignored); §6.1 forbids it.
SLOPPY = b"event: datastar-patch-elements\ndata: foo bar\ndata: elements <p id='where'>C</p>\n\n"


async def test_a_violation_the_browser_applies_anyway_fails_a_strict_test(serve: Serve) -> None:
    site = Site()
    site.streams[TAB_A] = [READY, SLOPPY]
    async with vt.AsyncClient(serve(site.app()), timeout=3) as client:
        tab = await client.new_session().open("/")

        with pytest.raises(vt.MalformedEvent, match=r"(?s)foo.*§6.*bytes:"):
            await tab.expect_text("#where", "C")

        assert tab.text("#where") == "C"  # the page is what the browser shows
        assert [v.section for v in tab.replica.violations] == [
            e.section for e in tab.protocol_errors
        ]


async def test_a_violation_is_recorded_on_the_tab_when_not_strict(serve: Serve) -> None:
    site = Site()
    site.streams[TAB_A] = [READY, SLOPPY]
    async with vt.AsyncClient(serve(site.app()), timeout=3, strict=False) as client:
        tab = await client.new_session().open("/")

        await tab.expect_text("#where", "C")

        assert len(tab.protocol_errors) == 1
        assert "foo" in str(tab.protocol_errors[0])


# -- the rules, without a server ----------------------------------------------------------------


def test_which_scripts_and_answers_navigate_and_where() -> None:
    def kind(body: str) -> vt.ScriptKind:
        return vt.classify_script(Script(body))

    page = "http://127.0.0.1:8000/rooms/lobby"
    redirect = from_script(kind('setTimeout(() => window.location.href = "../b?x=1")'), page)
    assert redirect == Navigation("http://127.0.0.1:8000/b?x=1", "redirect script")
    reload = from_script(kind("location.reload()"), page)
    assert reload == Navigation(None, "reload script")
    assert from_script(kind("console.log(1)"), page) is None
    refused = from_script(kind('window.location = "data:text/html,hi"'), page)
    assert isinstance(refused, vt.ProtocolError)
    assert refused.section == "6.4.3"

    assert from_response(303, {"location": "/b"}, page) == Navigation(
        "http://127.0.0.1:8000/b", "303 answer"
    )
    assert from_response(200, {"location": "/b"}, page) is None
    assert from_response(302, {}, page) is None
    assert path_of("http://127.0.0.1:8000", "http://127.0.0.1:8000/b?x=1") == "/b?x=1"
    assert path_of("http://127.0.0.1:8000", "http://127.0.0.1:8000") == "/"
    assert path_of("http://127.0.0.1:8000", "http://127.0.0.1:80001/b") == (
        "http://127.0.0.1:80001/b"
    )
