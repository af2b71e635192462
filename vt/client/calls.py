"""A tab's backend actions, as Datastar sends them: `post`, `get`, `put`, `patch`, `delete`,
`fetch`, and Via's `action` and `upload`, and `_send`, which sends each and applies its
response as the browser does (read to its end, within the wait deadline).

`ActionCalls` is the base of `AsyncTab`.
Which calls apply depends on the tab's profile (`vt.page.profile`): on a plain Datastar page
`action` and `upload` (Via's routes, §4.1) raise `UsageError` naming the call to use instead,
rather than posting to a route the app does not have.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

import anyio

from ..errors import UnexpectedResponse, hide_frames
from ..page import navigation as _navigation
from ..page.profile import via_only
from ..page.requests import (
    ActionResult,
    Outgoing,
    ResponseReader,
    action_request,
    upload_request,
)
from ..replica.signals import reject_local
from ..wire.events import StreamItem
from . import http as _http
from .arrivals import Arrivals

__all__ = ["ActionCalls"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


class _Sender(Protocol):
    @property
    def http(self) -> _http.AsyncHTTPClient: ...


class ActionCalls(Arrivals):
    """The request side of a tab. `profile` is ``via`` or ``datastar`` once the page loaded."""

    session: _Sender

    async def _follow(self) -> None:
        raise NotImplementedError  # AsyncTab follows navigations (new page loads)

    async def _send(
        self, outgoing: Outgoing, name: str, follow: bool | None = None
    ) -> ActionResult:
        ref = self.hub.record_action(self.label, name)
        if follow is False or (follow is None and not self.follow_redirects):
            self._unfollowed.add(ref)
        self.timeline.add("action", name, None, ref)
        request = _http.build(self.session.http, outgoing)
        response = await self.session.http.send(request, stream=True)
        events: list[StreamItem] = []
        limit = self.hub.settings.wait_timeout
        try:
            info = self._record_response(outgoing.method, response)
            reader = ResponseReader(info)
            # Applied as they arrive, as the browser does with a streamed response; read
            # to its end, so bounded by the wait deadline (a response that never ends fails).
            with anyio.move_on_after(limit) as reading:
                async for chunk in response.aiter_bytes():
                    events.extend(self._take_response_items(reader.feed(chunk), ref))
            if reading.cancelled_caught:
                raise UnexpectedResponse(
                    f"{name} -> {response.status_code} {info.content_type!r}: the response "
                    f"did not end within {limit:g}s (vt reads an action's response to its end)",
                    section="4.2",
                    raw=bytes(reader.body)[:4096],
                )
            events.extend(self._take_response_items(reader.close(), ref))
        finally:
            await response.aclose()
        elapsed = (time.monotonic() - ref.at) * 1000
        self.timeline.add(
            "response", f"{name} -> {response.status_code} ({elapsed:.0f} ms)", info, ref
        )
        event = reader.final_event()
        if event is not None:
            events.append(event)
            self.response_origin[len(self.events)] = ref
            self._apply(event, ref, " (in the response)")
        redirect = _navigation.from_response(response.status_code, info.headers, info.url)
        if redirect is not None:
            self._navigate_later(redirect, ref)
        self._changed()
        if self._pending is not None:
            await self._follow()
        body = bytes(reader.body)
        return ActionResult(name, response.status_code, info.headers, body, tuple(events))

    async def action(
        self, name: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """Fire `POST /_action/<name>` with the tab's signals, as Datastar does (§4.1).

        `signals` are set on the tab first, as typing into bound inputs would; then every
        signal except local (`_`-prefixed) ones is sent as the JSON body. The server's patches
        arrive on the stream; wait for them with `expect_*`. A non-2xx status is returned,
        not raised. A redirect it causes (a 303, or a redirect script in its response or on
        the stream after it) is followed as a new page load in this tab unless
        `follow_redirects=False` (default: the client's, or `open`'s, option).

        Raises:
            UsageError: the tab is a plain Datastar page (use `post(url, ...)`).
        """
        if self.profile == "datastar":
            raise via_only("action", self.label)
        return await self.fetch(
            "POST", f"/_action/{name}", signals, name=name, follow_redirects=follow_redirects
        )

    async def post(
        self, url: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """`@post(url)`: set `signals` on the tab, then send its signals as the JSON body.

        Events in the response are applied to the tab as Datastar applies them; a non-2xx
        status is returned, not raised; a redirect is followed as `action`'s is.
        """
        return await self.fetch("POST", url, signals, follow_redirects=follow_redirects)

    async def get(
        self, url: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """`@get(url)`: set `signals` on the tab, then send its signals in the `datastar`
        query parameter. The response is applied like `post`'s."""
        return await self.fetch("GET", url, signals, follow_redirects=follow_redirects)

    async def put(
        self, url: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """`@put(url)`: like `post`, with the PUT method."""
        return await self.fetch("PUT", url, signals, follow_redirects=follow_redirects)

    async def patch(
        self, url: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """`@patch(url)`: like `post`, with the PATCH method."""
        return await self.fetch("PATCH", url, signals, follow_redirects=follow_redirects)

    async def delete(
        self, url: str, /, *, follow_redirects: bool | None = None, **signals: Any
    ) -> ActionResult:
        """`@delete(url)`: like `get` (signals in the `datastar` query), with DELETE."""
        return await self.fetch("DELETE", url, signals, follow_redirects=follow_redirects)

    async def fetch(
        self,
        method: str,
        url: str,
        signals: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
    ) -> ActionResult:
        """Send a Datastar backend action (`@get`, `@post`, `@put`, `@patch`, `@delete`).

        The tab's signals (local `_` ones left out, `signals` set first) go in the
        `datastar` query parameter for GET and DELETE and as a JSON body otherwise, with
        Datastar's headers. A 200 response is processed as the browser would: SSE events,
        `text/html` (patched with the `datastar-selector`/`datastar-mode` headers) or
        `application/json` (patched into the signals). A redirect answer or script is
        followed by a new page load in this tab (see `action`) unless `follow_redirects=False`.
        """
        overrides = dict(signals or {})
        reject_local(overrides)
        if overrides:
            self.signals.patch(overrides)
        outgoing = action_request(
            method,
            self.url_of(url),
            self.signals.to_wire(),
            referer=self.page_url,
            headers=headers,
        )
        return await self._send(outgoing, name or f"{method.upper()} {url}", follow_redirects)

    async def upload(
        self,
        name: str,
        /,
        files: Mapping[str, tuple[str, bytes] | tuple[str, bytes, str]],
        **signals: Any,
    ) -> ActionResult:
        """Fire an action as a multipart form: signals as text fields, plus `files`.

        `files` maps a field name to ``(filename, content[, content_type])``. Text fields
        follow Via's harness: strings as is, booleans as ``true``/``false``, anything else as
        JSON.

        Raises:
            UsageError: the tab is a plain Datastar page (Via's action route, §4.1).
        """
        if self.profile == "datastar":
            raise via_only("upload", self.label)
        reject_local(signals)
        if signals:
            self.signals.patch(signals)
        outgoing = upload_request(
            self.url_of(f"/_action/{name}"), self.signals.to_wire(), files, referer=self.page_url
        )
        return await self._send(outgoing, name)
