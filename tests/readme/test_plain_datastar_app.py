"""A plain Datastar app (Starlette + datastar-py, no Via) tested with vt's pytest plugin."""

import asyncio
from html import escape

import pytest
from datastar_py.sse import ServerSentEventGenerator as SSE
from datastar_py.starlette import DatastarResponse, read_signals
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = """<!doctype html><html><body>
<main data-signals='{"draft": ""}' data-init="@get('/stream')">
  <ul id="messages"></ul>
  <input id="draft" data-bind="draft">
  <button id="send" data-on:click="@post('/send')">Send</button>
</main></body></html>"""


def create_app():
    messages, streams = [], set()

    async def page(request):
        return HTMLResponse(PAGE)

    async def stream(request):
        queue = asyncio.Queue()
        streams.add(queue)  # subscribed before the response starts

        async def events():
            try:
                while True:
                    yield SSE.patch_elements(await queue.get())
            finally:
                streams.discard(queue)

        return DatastarResponse(events())

    async def send(request):
        signals = await read_signals(request)
        messages.append(signals["draft"])
        items = "".join(f"<li>{escape(text)}</li>" for text in messages)
        for queue in streams:
            queue.put_nowait(f'<ul id="messages">{items}</ul>')
        return DatastarResponse(SSE.patch_signals({"draft": ""}))

    routes = [Route("/", page), Route("/stream", stream), Route("/send", send, methods=["POST"])]
    return Starlette(routes=routes)


@pytest.fixture
def vt_app():
    return create_app()  # served on 127.0.0.1, a fresh server per test


def test_a_message_reaches_another_session(vt_client):
    alice = vt_client.new_session("alice").open("/")
    bob = vt_client.new_session("bob").open("/")
    assert bob.profile == "datastar"  # no via_tab on the page: read as plain Datastar
    bob.ready()  # its stream answered 200 text/event-stream
    alice.type("#draft", "hello bob")
    alice.click("#send")  # runs data-on:click: @post('/send') with alice's signals
    bob.expect_text("#messages", "hello bob")
    alice.expect_signal("draft", "")  # the response's patch-signals, applied to alice
    alice.post("/send", draft="<b>bold</b>")  # Datastar's @post, from the test
    bob.expect_text("#messages li:last-child", "<b>bold</b>")  # shown as text
    assert bob.select("#messages b") == []
