"""The in-page recorder (vt/browser/init.js): what the page received on its event streams,
frame by frame, whatever the chunking (§5.2.1), and when the page counts as settled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from vt.browser import BrowserUsers

# Chunk boundaries inside a CRLF and inside a two-byte character, CR-only and LF-only lines.
CHUNKS = [
    b"event: first\r",
    b"\ndata: line one\r\ndata: caf\xc3",
    b"\xa9\r\n\r\n: ready\n\nevent: second\rdata: two\r\r",
]
PAGE = """<!doctype html><html><body><p id=status>loading</p><script>
fetch('/stream').then(async (r) => {
  const reader = r.body.getReader();
  let bytes = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    bytes += value.length;
    document.getElementById('status').textContent = 'read ' + bytes;
  }
});
</script></body></html>"""


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def stream(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in CHUNKS:
            yield chunk
            await anyio.sleep(0.05)  # separate reads on the page's side
        await anyio.sleep_forever()  # a stream stays open, as §5.1's does

    return StreamingResponse(body(), media_type="text/event-stream")


@pytest.fixture
def vt_app() -> object:
    no_icon = Route("/favicon.ico", lambda _: Response(status_code=204))  # no 404 in the console
    return Starlette(routes=[Route("/", page), Route("/stream", stream), no_icon])


def test_frames_are_recorded_whatever_the_chunking(vt_browser_users: BrowserUsers) -> None:
    user = vt_browser_users.open("/")  # settles: no request in flight, one stream open
    total = sum(len(c) for c in CHUNKS)
    user.expect_text("#status", f"read {total}")  # the page got every byte, unchanged

    streams = [r for r in user.record()["requests"] if r["stream"]]
    assert len(streams) == 1
    frames = [{k: v for k, v in e.items() if k != "t"} for e in streams[0]["events"]]
    assert frames == [
        {"event": "first", "data": "line one\ncafé", "id": None},
        {"comment": "ready"},
        {"event": "second", "data": "two", "id": None},
    ]
    assert user.state()["open"] == 1
    assert [e["event"] for e in user.sse_events()] == ["first", "second"]
