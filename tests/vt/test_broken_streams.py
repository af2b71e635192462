"""No hang on a broken stream: a server that breaks §5.1 (a stream answered 201, or 200
`text/plain`, or no headers at all), a stream that answers 200 and then says nothing, or an
action whose response never ends fails within the wait deadline, naming the section and showing
the bytes it sent. Each server is a tiny ASGI app on `vt.LiveServer`; every test runs under a
hard deadline, so a hang fails instead of stalling the suite."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import vt
from tests.deadline import deadline
from tests.vt.apps import page

pytestmark = pytest.mark.anyio

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
# The client's wait deadline, and the hard limit the test itself allows.
WAIT = 0.3  # seconds: every wait here is expected to fail; short keeps the file quick
HARD = 15.0


def broken_app(
    status: int | None,
    content_type: str = "text/event-stream",
    body: bytes = b"",
    *,
    page_too: bool = False,
    page_body: str = "",
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A Via-looking page (holding `page_body`) whose stream (`/_sse`), actions and other
    routes answer `status` with `content_type` and `body`, then never end (until the client
    leaves); `status=None` sends no response at all. With `page_too`, the page (`/`) answers
    so as well. The close beacon is answered."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/_sse/close":  # the close beacon of the client's exit (§4.4):
            await send(_start(200, "text/plain"))  # answered, so no test waits out its deadline
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["path"] == "/" and not page_too:
            html = page(body=page_body).encode()
            await send(_start(200, "text/html; charset=utf-8"))
            await send({"type": "http.response.body", "body": html})
            return
        if status is not None:
            await send(_start(status, content_type))
            await send({"type": "http.response.body", "body": body, "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass  # the request body; then wait for the client to leave

    return app


# A button whose click sends `GET /feed`, which may answer with a stream (read on in the
# background) or with anything else (read to its end, as an action's answer).
FEED_BUTTON = """<button id="b" data-on:click="@get('/feed')">feed</button>"""


def _start(status: int, content_type: str) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode())],
    }


async def fails_within(call: Callable[[], Awaitable[Any]]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with deadline(HARD, "failure", lambda: "(nothing: the call still runs)"):
        try:
            await call()
        except Exception as exc:
            return exc, time.monotonic() - started
    raise AssertionError("the call returned instead of failing")


@pytest.mark.parametrize(
    ("status", "content_type", "said"),
    [
        (201, "text/event-stream", "answered 201 'text/event-stream'"),
        (200, "text/plain", "answered 200 'text/plain'"),
    ],
)
async def test_a_refused_stream_that_never_ends_fails_naming_5_1(
    status: int, content_type: str, said: str
) -> None:
    app = broken_app(status, content_type, b": ready\n\nevent: datastar-patch-elements\n")
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            error, took = await fails_within(lambda: client.new_session("s").open("/"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "5.1"
    assert said in str(error)
    assert "§5.1" in str(error)
    assert error.raw.startswith(b": ready\n\nevent: datastar-patch-elements")  # the bytes shown
    assert took < WAIT + 3


async def test_a_stream_that_sends_no_headers_fails_naming_5_1() -> None:
    with vt.LiveServer(broken_app(None)) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            error, took = await fails_within(lambda: client.new_session("s").open("/"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "5.1"
    assert f"no response headers within {WAIT:g}s" in str(error)
    assert took < WAIT + 3


async def test_a_stream_that_answers_200_then_nothing_fails_ready_in_time() -> None:
    with vt.LiveServer(broken_app(200)) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            tab = await client.new_session("s").open("/")
            error, took = await fails_within(tab.ready)
    assert isinstance(error, vt.WaitTimeout), repr(error)
    assert f"did not receive `: ready` on stream #1 within {WAIT:g}s" in str(error)
    assert "stream #1 open" in str(error)
    assert took < WAIT + 3


async def test_an_action_whose_response_never_ends_fails_in_time() -> None:
    app = broken_app(200, "text/event-stream", b": still here\n\n")
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            tab = await client.new_session("s").open("/", connect=False)
            error, took = await fails_within(lambda: tab.action("Go"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "4.2"
    assert f"did not end within {WAIT:g}s" in str(error)
    assert error.raw == b": still here\n\n"
    assert took < WAIT + 3


async def test_a_scenario_against_a_refused_stream_fails_its_step() -> None:
    scenario = vt.parse_scenario(
        '[scenario]\nname = "open"\n\n[[step]]\nopen = "a"\n[[step]]\nready = "a"\n',
        path="open.toml",
    )
    with vt.LiveServer(broken_app(201, body=b": ready\n\n")) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            error, _ = await fails_within(lambda: vt.run_scenario(client, scenario))
    assert isinstance(error, vt.ScenarioFailed), repr(error)
    assert error.step.verb == "open"
    assert "§5.1" in error.reason


async def test_a_page_whose_body_never_ends_fails_naming_2_1() -> None:
    app = broken_app(200, "text/html", b"<!doctype html><html><body>", page_too=True)
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            error, took = await fails_within(lambda: client.new_session("s").open("/"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "2.1"
    assert f"GET / was not answered in full within {WAIT:g}s" in str(error)
    assert took < WAIT + 3


async def test_a_raw_request_whose_body_never_ends_fails_in_time() -> None:
    with vt.LiveServer(broken_app(200, "text/plain", b"alive")) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            session = client.new_session("s")
            error, took = await fails_within(lambda: session.request("GET", "/livez"))
    assert isinstance(error, vt.WaitTimeout), repr(error)
    assert f"GET /livez was not answered in full within {WAIT:g}s" in str(error)
    assert took < WAIT + 3


async def test_a_click_whose_request_sends_no_headers_fails_naming_5_1() -> None:
    # A gesture's answer may be a stream (no read timeout): its headers, the wait deadline.
    with vt.LiveServer(broken_app(None, page_body=FEED_BUTTON)) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            tab = await client.new_session("s").open("/", connect=False)
            error, took = await fails_within(lambda: tab.click("#b"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "5.1"
    assert f"GET /feed for tab s/1 sent no response headers within {WAIT:g}s" in str(error)
    assert took < WAIT + 3


async def test_a_click_whose_answer_never_ends_fails_naming_4_2() -> None:
    app = broken_app(200, "text/html", b"<p>still", page_body=FEED_BUTTON)
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            tab = await client.new_session("s").open("/", connect=False)
            error, took = await fails_within(lambda: tab.click("#b"))
    assert isinstance(error, vt.UnexpectedResponse), repr(error)
    assert error.section == "4.2"
    assert f"GET /feed -> 200 'text/html': the response did not end within {WAIT:g}s" in str(error)
    assert error.raw == b"<p>still"
    assert took < WAIT + 3


async def test_a_stream_a_click_opened_is_read_past_the_wait_deadline() -> None:
    fed = b'event: datastar-patch-signals\ndata: signals {"fed": 1}\n\n'
    app = broken_app(200, "text/event-stream", fed, page_body=FEED_BUTTON)
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url, timeout=WAIT) as client:
            tab = await client.new_session("s").open("/", connect=False)
            with deadline(HARD, "click", lambda: "(the click still runs)"):
                (result,) = await tab.click("#b")  # returns at the stream's headers
            assert result.status == 200
            await tab.expect_signal("fed", 1)
            await tab.expect_quiet(WAIT * 1.5)  # longer than the wait deadline
            assert tab.connected  # the quiet stream is still open, and no error came
            assert not tab.recording.failures
