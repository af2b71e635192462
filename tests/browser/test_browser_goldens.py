"""A browser tab's golden, taken through the one harness (`run_in_browsers`: run, settle, take):
what the init script recorded, its stream's events apart from each action's event-stream
answer (`# response to ACTION`), as an HTTP tab's golden keeps them (vt/scenario/golden.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

import vt
from vt.browser import Chromium
from vt.browser.driver import run_in_browsers


def event(html: str) -> bytes:
    return f"event: datastar-patch-elements\ndata: elements {html}\n\n".encode()


# The page reads its stream, and its button posts /send and shows the answer's bytes: no
# Datastar needed, the init script records any page's requests.
PAGE = """<!doctype html><html><body><p id=got>waiting</p>
<button id=send onclick="fetch('/send?x=1', {method: 'POST'}).then((r) => r.text())
  .then((t) => { document.getElementById('got').textContent = 'answered ' + t.length; })">
send</button><script>
fetch('/stream').then(async (r) => { const reader = r.body.getReader();
  for (;;) { const {done} = await reader.read(); if (done) break; } });
</script></body></html>"""


def make_app() -> Starlette:
    sent = anyio.Event()

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def stream(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield event('<p id="s">on connect</p>')
            await sent.wait()
            await anyio.sleep(0.05)  # after the answer, as a fan-out often is
            yield event('<p id="s">fanned out</p>')
            await anyio.sleep_forever()

        return StreamingResponse(body(), media_type="text/event-stream")

    async def send(request: Request) -> Response:
        sent.set()
        return Response(event('<p id="own">the answer</p>'), media_type="text/event-stream")

    no_icon = Route("/favicon.ico", lambda _: Response(status_code=204))  # no 404 in the console
    return Starlette(
        routes=[
            Route("/", page),
            Route("/stream", stream),
            Route("/send", send, methods=["POST"]),
            no_icon,
        ]
    )


@pytest.fixture
def vt_app() -> object:
    return make_app()


SCENARIO = """
[scenario]
name = "answered"
[[step]]
open = "a"
[[step]]
click = "#send"
[[step]]
expect_text = "answered"
selector = "#got"
"""


def test_an_action_answered_with_sse_is_a_section_of_its_own_in_browsers(
    vt_browser: Chromium, vt_server: Any
) -> None:
    url = vt_server.url
    scenario = vt.parse_scenario(SCENARIO)
    _, goldens = vt_browser.call(run_in_browsers, url, scenario, browser=vt_browser.browser)
    stream, _, answered = goldens["a"].partition("# response to POST /send?x=1\n")
    # Taken once quiet: the fan-out that came after the answer is there, on the stream.
    assert "on connect" in stream
    assert "fanned out" in stream
    assert "the answer" not in stream
    assert answered.splitlines() == ["patch-elements mode=outer", '  <p id="own">the answer</p>']
