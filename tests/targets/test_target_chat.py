"""Smoke tests of the plain-Datastar chat each SDK target serves (targets/README.md), over httpx.

The room is shared by the whole test session (one process per target), so every test posts
text of its own and looks for that text, never for an empty room.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from targets.launch import TARGETS
from tests.deadline import deadline
from tests.targets.support import require
from vt import PatchElements, PatchSignals, SSEDecoder, read_item

pytestmark = pytest.mark.anyio

HEADERS = {"Datastar-Request": "true"}


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10.0, trust_env=False)


async def _send(client: httpx.AsyncClient, url: str, name: str, draft: str) -> httpx.Response:
    return await client.post(
        url + "/send",
        content=json.dumps({"name": name, "draft": draft}),
        headers={**HEADERS, "Content-Type": "application/json"},
    )


class _Stream:
    """An open `/stream`: the `#messages` lists it has delivered, in order."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lists: list[str] = []
        self._decoder = SSEDecoder()
        self._chunks = response.aiter_bytes()

    async def until(self, found: Callable[[str], bool], what: str) -> str:
        """Read until a delivered list satisfies `found`; return that list."""
        with deadline(10.0, what, lambda: self.lists[-3:]):
            for listing in self.lists:
                if found(listing):
                    return listing
            async for chunk in self._chunks:
                for item in self._decoder.feed(chunk):
                    event = read_item(item)
                    if isinstance(event, PatchElements):
                        self.lists.append(event.elements)
                        if found(event.elements):
                            return event.elements
        raise AssertionError(f"the stream ended before {what}; lists seen: {self.lists[-3:]!r}")


async def test_page_declares_signals_and_stream(target_url: str) -> None:
    async with _client() as client:
        page = await client.get(target_url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert """data-signals='{"name": "", "draft": ""}'""" in page.text
    assert """data-init="@get('/stream')\"""" in page.text
    assert 'data-bind="draft"' in page.text
    assert 'data-bind="name"' in page.text
    assert """data-on:submit__prevent="@post('/send')\"""" in page.text
    assert '<script type="module" src="/datastar.js"></script>' in page.text


async def test_message_fans_out_escaped_to_another_client(target_url: str) -> None:
    token = uuid.uuid4().hex[:8]
    text = f"<b>{token}</b> & 'quotes' \"here\""
    escaped = f"&lt;b&gt;{token}&lt;/b&gt; &amp; &#39;quotes&#39; &quot;here&quot;"
    async with _client() as reader, _client() as writer:  # noqa: SIM117 (the stream needs reader)
        async with reader.stream("GET", target_url + "/stream", headers=HEADERS) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = _Stream(response)
            first = await stream.until(lambda _: True, "the stream's first #messages list")
            assert first.startswith('<ul id="messages">')
            sent = await _send(writer, target_url, "ann<i>", text)
            assert sent.status_code == 200
            events = [read_item(item) for item in SSEDecoder().feed(sent.content)]
            assert events == [PatchSignals({"draft": ""})], "the sender's draft is cleared"
            listing = await stream.until(lambda s: token in s, f"the message {token}")
    assert (
        f'<li class="message"><b class="author">ann&lt;i&gt;</b>: '
        f'<span class="text">{escaped}</span></li>'
    ) in listing
    assert f"<b>{token}" not in listing


async def test_two_messages_arrive_in_send_order_on_two_streams(target_url: str) -> None:
    token = uuid.uuid4().hex[:8]
    first, second = f"first-{token}", f"second-{token}"
    async with _client() as a, _client() as b, _client() as writer:  # noqa: SIM117
        async with (
            a.stream("GET", target_url + "/stream", headers=HEADERS) as ra,
            b.stream("GET", target_url + "/stream", headers=HEADERS) as rb,
        ):
            streams = [_Stream(ra), _Stream(rb)]
            for stream in streams:
                await stream.until(lambda _: True, "the stream's first #messages list")
            assert (await _send(writer, target_url, "ann", first)).status_code == 200
            assert (await _send(writer, target_url, "bob", second)).status_code == 200
            for stream in streams:
                listing = await stream.until(lambda s: second in s, f"the message {second}")
                assert listing.index(first) < listing.index(second)


async def test_empty_draft_is_not_posted(target_url: str) -> None:
    async with _client() as client:
        response = await _send(client, target_url, "ann", "   ")
        page = await client.get(target_url + "/")
    assert response.status_code == 204
    assert '<b class="author">ann</b>: <span class="text">   </span>' not in page.text


async def test_pages_are_the_same_bytes_in_every_target(
    target_url_of: Callable[[str], str],
) -> None:
    pages: dict[str, str] = {}
    async with _client() as client:
        for target in TARGETS:
            require(target)
            text = (await client.get(target_url_of(target.name) + "/")).text
            # The message list holds whatever the session posted; the rest must match, byte
            # for byte (targets/README.md).
            pages[target.name] = re.sub(r'<ul id="messages">.*?</ul>', "<ul/>", text)
    reference = pages["datastar-py"]
    for name, page in pages.items():
        assert page == reference, f"{name}'s page differs from datastar-py's:\n{page}"


async def test_one_message_reaches_fifty_open_streams(target_url: str) -> None:
    token = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=None)
    async with (
        httpx.AsyncClient(timeout=10.0, trust_env=False, limits=limits) as readers,
        AsyncExitStack() as stack,
    ):
        streams = []
        for _ in range(50):
            response = await stack.enter_async_context(
                readers.stream("GET", target_url + "/stream", headers=HEADERS)
            )
            assert response.status_code == 200
            streams.append(_Stream(response))
        for stream in streams:
            await stream.until(lambda _: True, "the stream's first #messages list")
        async with _client() as writer:
            assert (await _send(writer, target_url, "ann", f"all-{token}")).status_code == 200
        for n, stream in enumerate(streams):
            await stream.until(lambda s: f"all-{token}" in s, f"all-{token} on stream {n}")
