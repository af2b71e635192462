"""A tab's backend actions, as Datastar sends them: `post`, `get`, `put`, `patch`, `delete`,
`fetch`, and Via's `action` and `upload`, and `_send`, which sends each (and the page's own
requests: gestures', `data-init`'s, a stream's connect) and applies its response as the
browser does: read to its end within the wait deadline, or, for an event stream the page
opened, read on in the background as one of the tab's streams.

`ActionCalls` is a base of `AsyncTab` (under `vt.client.gestures.Gestures`).
Which calls apply depends on the tab's profile (`vt.page.profile`): on a plain Datastar page
`action` and `upload` (Via's routes, §4.1) raise `UsageError` naming the call to use instead,
rather than posting to a route the app does not have.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import anyio

from ..errors import UnexpectedResponse, hide_frames
from ..page import navigation as _navigation
from ..page.profile import via_only
from ..page.requests import (
    ActionResult,
    Outgoing,
    ResponseInfo,
    ResponseReader,
    action_request,
    upload_request,
)
from ..replica.dom import Element
from ..replica.signals import reject_local
from ..wire.events import StreamItem
from . import http as _http
from .arrivals import Arrivals
from .timeline import ActionRef

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

    def _stream(
        self, response: _http.HTTPResponse, info: ResponseInfo, done: Callable[[], None]
    ) -> None:
        raise NotImplementedError  # AsyncTab reads a stream in the background

    async def _pump(self) -> None:
        raise NotImplementedError  # Gestures sends the requests patches made the page send

    def _indicate(self, element: Element | None, delta: int) -> None:
        """`data-indicator` on the element whose request starts (+1) or ends (-1)."""
        if element is not None and self.replica.indicate(element.node, delta):
            self._changed()

    async def _send(
        self,
        outgoing: Outgoing,
        name: str,
        follow: bool | None = None,
        *,
        background: bool = False,
        element: Element | None = None,
        opening: bool = False,
    ) -> ActionResult:
        """Send a request from the page and read its answer to its end, within the wait
        deadline (§4.2 if it does not end).

        With `background` (a gesture's or the page's own request) the headers must come
        within the wait deadline (§5.1: a stream's are flushed at once), and an event-stream
        answer becomes one of the tab's streams, read in the background without a bound (a
        quiet stream is no error): this returns at its headers. `element`'s `data-indicator`
        is true meanwhile. `opening`: a stream's connect (recorded as such), which refuses an
        answer that is not a stream (§5.1; on a plain page, only one of 400 or more)."""
        # A stream's connect is not an action (the leak checks count from the last action).
        ref = (
            ActionRef(self.label, name, time.monotonic())
            if opening
            else self.hub.record_action(self.label, name)
        )
        if follow is False or (follow is None and not self.follow_redirects):
            self._unfollowed.add(ref)
        self.timeline.add("connect" if opening else "action", name, None, ref)
        limit = self.hub.settings.wait_timeout
        deadline = anyio.current_time() + limit
        # A background answer may be a stream: no read timeout; its headers, the deadline.
        timeout = _http.stream_timeout(self.hub.settings.http_timeout) if background else None
        request = _http.build(self.session.http, outgoing, timeout=timeout)
        self._indicate(element, +1)
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                self._indicate(element, -1)

        response: _http.HTTPResponse | None = None
        try:
            with anyio.move_on_after(limit if background else math.inf):
                response = await self.session.http.send(request, stream=True)
        except BaseException:
            end()
            raise
        if response is None:
            end()
            said = f"no response headers within {limit:g}s"
            self.timeline.add("connect" if opening else "response", f"{name}: {said}")
            self._changed()
            raise UnexpectedResponse(
                f"{name} for tab {self.label} sent {said}; a stream's headers are flushed at once",
                section="5.1",
            )
        try:
            info = self._record_response(outgoing.method, response)
            if background and info.is_stream:
                self._stream(response, info, end)
                return ActionResult(name, 200, info.headers, b"", ())
            if opening and (self.profile != "datastar" or response.status_code >= 400):
                await self._refuse(response, info, name, deadline)
            return await self._answer(response, info, name, ref, end)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await response.aclose()
            end()
            raise

    async def _refuse(
        self, response: _http.HTTPResponse, info: ResponseInfo, name: str, deadline: float
    ) -> None:
        """A stream's connect answered with no stream: §5.1, with what the body held by
        the deadline (the body of a refused stream may never end)."""
        body = await _http.read_bounded(response, deadline - anyio.current_time())
        status = response.status_code
        self.timeline.add("connect", f"stream refused: {status} {info.content_type!r}")
        self._changed()
        raise UnexpectedResponse(
            f"{name} for tab {self.label} answered {status} {info.content_type!r}; "
            "a stream needs 200 text/event-stream",
            section="5.1",
            raw=body,
        )

    async def _answer(
        self,
        response: _http.HTTPResponse,
        info: ResponseInfo,
        name: str,
        ref: ActionRef,
        end: Callable[[], None],
    ) -> ActionResult:
        """Read an answer that is not a background stream to its end and apply it."""
        events: list[StreamItem] = []
        limit = self.hub.settings.wait_timeout
        reader = ResponseReader(info)
        try:
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
            end()
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
        await self._pump()
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
