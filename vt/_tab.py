"""A tab: one page load, its replica, its event stream, its gestures and its waits.

    tab = await session.open("/")         # GET the page: tab id and signals from the page
    await tab.ready()                      # the stream is open and the server subscribed
    await tab.type("input[data-bind=draft]", "hello")
    await tab.press("input[data-bind=draft]", "Enter")   # reads data-on:keydown, POSTs
    await tab.expect_text("article", "hello")

Everything below the sockets is the sans-IO core: `SSEDecoder` -> `read_item` -> `Replica`
for the stream, `vt._bindings` for gestures. This module moves bytes, records what happened
on the tab's `Timeline` and wakes the client's waiters.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import anyio

from . import _http
from ._bindings import (
    Assign,
    Binding,
    Confirm,
    Dispatch,
    ExpressionError,
    Fetch,
    bind_path,
    describe_effects,
    dispatch,
    field_value,
)
from ._dom import Document, Element, Script
from ._events import (
    Event,
    EventLog,
    PatchElements,
    PatchMode,
    PatchSignals,
    StreamItem,
    UnknownEvent,
    is_ready,
    read_item,
)
from ._exceptions import ElementNotInteractive, ProtocolError, UnexpectedResponse, UsageError
from ._page import read_page
from ._replica import Replica
from ._signals import Signals
from ._sse import Comment, ServerSentEvent, SSEDecoder
from ._timeline import ActionRef, Timeline
from ._via import ScriptKind, classify_script
from ._waits import Closest, wait_for

if TYPE_CHECKING:
    from ._client import AsyncClient, AsyncSession

__all__ = ["ActionResult", "AsyncTab", "ResponseInfo"]

T = TypeVar("T")

DEFAULT_QUIET_WINDOW = 0.3
_DATASTAR_ACCEPT = "text/event-stream, text/html, application/json"
_TEXT_FIELDS = frozenset(
    {"", "text", "search", "email", "url", "tel", "password", "number", "date", "time"}
)


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """Status and headers of one request a tab made (kept for every request, in order)."""

    method: str
    url: str
    status: int
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lower case."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a request fired from a tab returned.

    Via answers an action 200 with an empty body; its patches arrive on the tab's stream, not
    here. `events` holds the events the response itself carried (a Datastar server may answer
    with SSE, HTML or JSON; Via does with SSE for a stale tab), already applied to the tab.
    """

    name: str
    status: int
    headers: dict[str, str]
    body: bytes
    events: tuple[StreamItem, ...] = ()

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


class AsyncTab:
    """One page load: a replica of the page, its signals, its stream and its timeline.

    Made by `AsyncSession.open` (or `fork`). Attributes worth knowing:

    * `replica` (`document`, `signals`, `console`, `scripts`): the page as the browser holds
      it, patched by every event; `console` and `scripts` are what a browser would log and run;
    * `events`: every event and comment received, typed, in order (stream and responses; an
      `EventLog`, which keeps stream events as their bytes until read);
    * `responses`: status and headers of every request the tab made;
    * `transcripts`: the raw bytes of each stream connection (`transcript`: the last one);
    * `timeline`: everything above with times, for failure messages;
    * `protocol_errors`: what the server got wrong (malformed or cut-off events).
    """

    def __init__(self, session: AsyncSession, path: str, number: int) -> None:
        self.session = session
        self.client: AsyncClient = session.client
        self.path = path
        self.label = f"{session.name}/{number}"
        self.replica = Replica.from_html("")
        self.timeline = Timeline()
        self.responses: list[ResponseInfo] = []
        self.events = EventLog()
        self.protocol_errors: list[ProtocolError] = []
        self.failures: list[Exception] = []  # vt's own errors while reading the stream
        self.transcripts: list[bytearray] = []
        self.stream_url = "/_sse"
        self.close_url = "/_sse/close"
        self.page: ResponseInfo | None = None
        self.page_html = ""
        self.connected = False
        self.version = 0  # bumped on every change, so waiters re-check only what changed
        self._connections = 0
        self._ready_on = 0  # number of the connection that delivered `: ready`
        self._reported_errors = 0
        self._cancel: anyio.CancelScope | None = None
        self._stream_done: anyio.Event | None = None
        self._fired_once: set[tuple[Element, str]] = set()

    def __repr__(self) -> str:
        return f"<AsyncTab {self.label} {self.id_or_none!r}>"

    # -- identity and the replica -------------------------------------------------------------

    @property
    def id_or_none(self) -> str | None:
        """The current tab id, or None before the page loaded."""
        value = self.replica.signals.get("via_tab")
        return value if isinstance(value, str) else None

    @property
    def id(self) -> str:
        """The current tab id (`via_tab`); it follows a re-bootstrap (§5.5), which patches a
        new `via_tab` into the signals."""
        value = self.id_or_none
        if value is None:
            raise UsageError(f"tab {self.label} has no tab id yet")
        return value

    @property
    def document(self) -> Document:
        """The page replica (a `vt.Document`), patched by every event."""
        return self.replica.document

    @property
    def signals(self) -> Signals:
        """The tab's signals, as the browser holds them."""
        return self.replica.signals

    @property
    def console(self) -> list[str]:
        """What a browser console would have shown on this page (missing patch targets...)."""
        return self.replica.console

    @property
    def scripts(self) -> list[Script]:
        """Every script patches added to this page (a browser would have run them)."""
        return self.replica.scripts

    @property
    def transcript(self) -> bytes:
        """The raw bytes of the current (or last) stream connection."""
        return bytes(self.transcripts[-1]) if self.transcripts else b""

    def select(self, selector: str) -> list[Element]:
        """Elements of the replica matching a CSS selector."""
        return self.replica.document.select(selector)

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, or None."""
        return self.replica.document.select_one(selector)

    def text(self, selector: str = "body") -> str:
        """Normalised text of the elements matching `selector` (the whole body by default)."""
        return self.replica.document.text(selector)

    # -- page -------------------------------------------------------------------------------

    async def _load(self) -> None:
        response = await self.session.http.get(self.client.url(self.path))
        info = self._record_response("GET", response)
        self.page = info
        if response.status_code != 200 or info.content_type != "text/html":
            self.timeline.add("page", f"GET {self.path} -> {response.status_code}")
            raise UnexpectedResponse(
                f"GET {self.path} answered {response.status_code} {info.content_type!r}; "
                "a page load needs 200 text/html",
                section="2.1",
                raw=response.content[:2000],
            )
        self.page_html = response.text
        replica = Replica.from_html(self.page_html)
        page = read_page(replica.document, self.page_html)
        self.replica = replica
        self._fired_once = set()
        self.stream_url = page.stream_url
        self.close_url = page.close_url
        self.timeline.add("page", f"GET {self.path} -> 200, tab {_short_id(page.tab_id)}")
        self._changed()

    def _record_response(self, method: str, response: _http.HTTPResponse) -> ResponseInfo:
        info = ResponseInfo(
            method,
            str(response.request.url),
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
        )
        self.responses.append(info)
        return info

    async def reload(self, *, beacon: bool = True, connect: bool | None = None) -> None:
        """Reload the page in this tab: a new page load, so a new tab id and a fresh replica.

        As a browser does, the old tab is closed with the beacon first (`beacon=False` skips
        it, as a crashed browser would). The stream is reopened if it was open (or as
        `connect` says).
        """
        reconnect = self.connected if connect is None else connect
        if beacon and self.id_or_none is not None:
            await self.close()
        else:
            await self.drop()
        await self._load()
        if reconnect:
            await self.connect()

    @property
    def page_url(self) -> str:
        """The page's URL. Requests from the page send it as `Referer`, as a browser's
        same-origin requests do; Via rebuilds a stale tab's page from it (§5.5.3)."""
        return self.client.url(self.path)

    async def fork(self, path: str | None = None) -> AsyncTab:
        """Open another tab in the same session (shares cookies, so `StateSess` too)."""
        return await self.session.open(path if path is not None else self.path)

    async def close(self) -> None:
        """Close the tab like a browser does: send the close beacon (§4.4), end the stream."""
        tab_id = self.id
        response = await self.session.http.post(
            self.client.url(self.close_url),
            content=tab_id.encode(),
            headers={"Content-Type": "text/plain;charset=UTF-8", "Referer": self.page_url},
        )
        self._record_response("POST", response)
        self.timeline.add("action", f"close beacon -> {response.status_code}")
        await self.drop()

    # -- stream -----------------------------------------------------------------------------

    async def connect(self) -> ResponseInfo:
        """Open the tab's event stream (`GET /_sse?datastar=…`) and start reading it.

        Returns once the response headers arrived.

        Raises:
            UnexpectedResponse: the server did not answer 200 `text/event-stream` (§5.1).
        """
        if self.connected:
            raise UsageError(f"tab {self.label} is already connected; drop() it first")
        url = _with_signals(self.client.url(self.stream_url), self.signals.to_wire())
        headers = {
            "Accept": "text/event-stream",
            "Cache-Control": "no-store",
            "Datastar-Request": "true",
            "Referer": self.page_url,
        }
        request = self.session.http.build_request(
            "GET", url, headers=headers, timeout=_http.stream_timeout(self.client.timeout)
        )
        response = await self.session.http.send(request, stream=True)
        info = self._record_response("GET", response)
        if response.status_code != 200 or info.content_type != "text/event-stream":
            body = await _read_bounded(response)
            await response.aclose()
            self.timeline.add(
                "connect", f"stream refused: {response.status_code} {info.content_type!r}"
            )
            self._changed()
            raise UnexpectedResponse(
                f"GET {self.stream_url} for tab {self.label} answered {response.status_code} "
                f"{info.content_type!r}; a stream needs 200 text/event-stream",
                section="5.1",
                raw=body,
            )
        self._connections += 1
        number = self._connections
        transcript = bytearray()
        self.transcripts.append(transcript)
        self.connected = True
        scope = self._cancel = anyio.CancelScope()
        done = self._stream_done = anyio.Event()
        self.timeline.add("connect", f"stream #{number} open (200)")
        self._changed()

        async def read() -> None:
            reason = "server ended the stream"
            decoder = SSEDecoder()
            # Without a content encoding the raw body is the stream: skip httpx's decoders.
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            chunks = response.aiter_bytes() if encoded else response.aiter_raw()
            try:
                with scope:
                    async for chunk in chunks:
                        transcript.extend(chunk)
                        for item in decoder.feed(chunk):
                            self._receive(item, number)
                        self._changed()
                    for item in decoder.close():
                        self._receive(item, number)
                if scope.cancel_called:
                    reason = "dropped by the test"
            except _http.HTTPError as exc:
                reason = f"stream failed: {type(exc).__name__}: {exc}"
            except Exception as exc:
                # A bug in vt itself must not take the other tabs down: keep it for the next
                # wait on this tab to raise.
                reason = f"vt failed while reading: {type(exc).__name__}: {exc}"
                self.failures.append(exc)
            finally:
                with anyio.CancelScope(shield=True):
                    await response.aclose()
                self.connected = False
                self.timeline.add("end", f"stream #{number} ended: {reason}")
                done.set()
                self._changed()

        self.client._start(read)
        return info

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until the current stream has sent `: ready` (the server is subscribed, §5.3).

        Opens the stream first if it is not open. Events that came before `: ready` (queued
        patches, a resync) are applied and kept, not discarded.
        """
        if not self.connected:
            await self.connect()
        number = self._connections
        await self.wait_until(
            lambda: self._ready_on >= number or None,
            description=f"receive `: ready` on stream #{number}",
            timeout=timeout,
        )

    async def drop(self) -> None:
        """Cut the stream from the client side, as a network drop would (no close beacon)."""
        if self._cancel is not None and self._stream_done is not None:
            self._cancel.cancel()
            await self._stream_done.wait()
        self._cancel = None

    async def reconnect(self) -> ResponseInfo:
        """Drop the stream and open a new one (the server resyncs, §5.5)."""
        await self.drop()
        return await self.connect()

    def _receive(self, raw: ServerSentEvent | Comment, connection: int) -> None:
        after = self.client.last_action
        try:
            item = read_item(raw)
        except ProtocolError as exc:
            self._protocol_error(exc)
            return
        if isinstance(item, Comment):
            self.events.append(item)
            if is_ready(item):
                self._ready_on = max(self._ready_on, connection)
                self.timeline.add("ready", ": ready", item, after)
            else:
                self.timeline.add("comment", f": {item.text}", item, after)
            return
        self._apply(item, after, "", raw.raw)

    def apply(self, event: Event, *, after: ActionRef | None = None, note: str = "") -> None:
        """Apply one event to the replica, as the browser would, and record it."""
        self._apply(event, after, note)
        self._changed()

    def _apply(
        self, event: Event, after: ActionRef | None, note: str, raw: bytes | None = None
    ) -> None:
        # A stream event is kept as its bytes: no object per event (see `EventLog`).
        kept: Event | bytes = event if raw is None else raw
        if raw is None:
            self.events.append(event)
        else:
            self.events.append_raw(raw)
        before = self.id_or_none
        result = self.replica.apply(event)
        if isinstance(event, PatchSignals) and event.is_heartbeat:
            self.timeline.add("heartbeat", "patch-signals {}" + note, kept, after)
        elif isinstance(event, PatchSignals | PatchElements | UnknownEvent):
            self.timeline.add("event", event.describe() + note if note else None, kept, after)
        if before is not None and self.id_or_none != before:
            new = self.id_or_none
            self.timeline.add(
                "event", f"tab id changed {_short_id(before)} -> {_short_id(new)}", None, after
            )
        for message in result.errors:
            self.timeline.add("console", message, None, after)
        for script in result.scripts:
            self.timeline.add("script", classify_script(script).describe(), script, after)

    def _protocol_error(self, error: ProtocolError) -> None:
        self.protocol_errors.append(error)
        self.timeline.add("error", str(error).splitlines()[0], error)

    def _changed(self) -> None:
        self.version += 1
        self.client._notify()

    def _raise_pending(self) -> None:
        """Raise what the stream reader hit since the last wait (see `AsyncClient.strict`)."""
        if self.failures:
            raise self.failures.pop(0)
        if self.client.strict and len(self.protocol_errors) > self._reported_errors:
            error = self.protocol_errors[self._reported_errors]
            self._reported_errors = len(self.protocol_errors)
            raise error

    def _stream_position(self) -> tuple[int, int]:
        return len(self.transcripts), len(self.transcripts[-1]) if self.transcripts else 0

    def _stream_bytes_since(self, position: tuple[int, int]) -> bytes:
        count, offset = position
        if not self.transcripts:
            return b""
        parts = [bytes(self.transcripts[count - 1][offset:])] if count else []
        parts.extend(bytes(t) for t in self.transcripts[count:])
        return b"".join(parts)

    # -- requests, as Datastar sends them ------------------------------------------------------

    async def action(self, name: str, /, **signals: Any) -> ActionResult:
        """Fire `POST /_action/<name>` with the tab's signals, as Datastar does (§4.1).

        `signals` are set on the tab first, as typing into bound inputs would; then every
        signal except local (`_`-prefixed) ones is sent as the JSON body. The server's patches
        arrive on the stream; wait for them with `expect_*`. A non-2xx status is returned,
        not raised.
        """
        return await self.fetch("POST", f"/_action/{name}", signals, name=name)

    async def post(
        self, url: str, signals: Mapping[str, Any] | None = None, *, name: str | None = None
    ) -> ActionResult:
        """`@post(url)`: send the tab's signals (with `signals` set first) as a JSON body."""
        return await self.fetch("POST", url, signals, name=name)

    async def fetch(
        self,
        method: str,
        url: str,
        signals: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ActionResult:
        """Send a Datastar backend action (`@get`, `@post`, `@put`, `@patch`, `@delete`).

        The tab's signals (local `_` ones left out, `signals` set first) go in the
        `datastar` query parameter for GET and DELETE and as a JSON body otherwise, with
        Datastar's headers. A 200 response is processed as the browser would: SSE events,
        `text/html` (patched with the `datastar-selector`/`datastar-mode` headers) or
        `application/json` (patched into the signals).
        """
        method = method.upper()
        overrides = dict(signals or {})
        local = [k for k in overrides if k.startswith("_")]
        if local:
            raise UsageError(
                f"signals {local} start with '_': they are local to the browser and Datastar "
                "never sends them; set them with tab.signals only through server patches"
            )
        if overrides:
            self.signals.patch(overrides)
        wire = self.signals.to_wire()
        sent_headers = {
            "Datastar-Request": "true",
            "Accept": _DATASTAR_ACCEPT,
            **(headers or {}),
        }
        if method in ("GET", "DELETE"):
            target = _with_signals(self.client.url(url), wire)
            return await self._send(method, target, name or f"{method} {url}", sent_headers)
        sent_headers["Content-Type"] = "application/json"
        body = json.dumps(wire, separators=(",", ":")).encode()
        return await self._send(
            method, self.client.url(url), name or f"{method} {url}", sent_headers, content=body
        )

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
        """
        if any(k.startswith("_") for k in signals):
            raise UsageError("local '_' signals are never sent by a browser")
        if signals:
            self.signals.patch(signals)
        data = {
            key: value
            if isinstance(value, str)
            else ("true" if value is True else "false" if value is False else json.dumps(value))
            for key, value in self.signals.to_wire().items()
        }
        return await self._send(
            "POST",
            self.client.url(f"/_action/{name}"),
            name,
            {"Datastar-Request": "true", "Accept": _DATASTAR_ACCEPT},
            data=data,
            files=dict(files),
        )

    async def _send(
        self, method: str, url: str, name: str, headers: dict[str, str], **kwargs: Any
    ) -> ActionResult:
        ref = self.client._record_action(self, name)
        self.timeline.add("action", f"{name}", None, ref)
        headers = {"Referer": self.page_url, **headers}
        request = self.session.http.build_request(method, url, headers=headers, **kwargs)
        response = await self.session.http.send(request, stream=True)
        events: list[StreamItem] = []
        body = bytearray()
        try:
            info = self._record_response(method, response)
            if response.status_code == 200 and info.content_type == "text/event-stream":
                # Applied as they arrive, as the browser does with a streamed response.
                decoder = SSEDecoder()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    for raw in decoder.feed(chunk):
                        events.extend(self._apply_response_item(raw, ref))
                for raw in decoder.close():
                    events.extend(self._apply_response_item(raw, ref))
            else:
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
        finally:
            await response.aclose()
        elapsed = (time.monotonic() - ref.at) * 1000
        self.timeline.add(
            "response", f"{name} -> {response.status_code} ({elapsed:.0f} ms)", info, ref
        )
        if response.status_code == 200 and info.content_type in ("text/html", "application/json"):
            event = _response_event(info, bytes(body))
            if event is not None:
                events.append(event)
                self._apply(event, ref, " (in the response)")
        self._changed()
        return ActionResult(name, response.status_code, info.headers, bytes(body), tuple(events))

    def _apply_response_item(
        self, raw: ServerSentEvent | Comment, ref: ActionRef
    ) -> list[StreamItem]:
        try:
            item = read_item(raw)
        except ProtocolError as exc:
            self._protocol_error(exc)
            return []
        if not isinstance(item, Comment):
            self._apply(item, ref, " (in the response)")
        return [item]

    # -- gestures -----------------------------------------------------------------------------

    async def click(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Click the first element matching `selector`, as a user would.

        Waits (up to `timeout`) for such an element to appear in the replica. The `click`
        event bubbles from the element through its ancestors and runs every `data-on:click`
        on the way (`__stop`, `__once`, `__outside`, `__window` honoured); timing modifiers
        (`__debounce`, `__throttle`, `__delay`) fire at once. `confirm(...)` is answered OK.
        A click also does what the browser does by default: toggles a bound checkbox, picks a
        bound radio, submits the form of a submit button (firing `data-on:submit`).

        Returns the responses of the requests the click sent, in order.

        Raises:
            ElementNotInteractive: the element is disabled, or nothing on its path reacts to a
                click; the message says what vt found instead.
        """
        target = await self._find(selector, "click", timeout)
        gesture = _Gesture(f"click {selector}")
        await self._click(target, gesture)
        return self._finish(gesture, target, ("click", "input", "change", "submit"))

    async def press(
        self, selector: str, key: str, *, timeout: float | None = None
    ) -> list[ActionResult]:
        """Press one key (a `KeyboardEvent.key`, such as ``"Enter"`` or ``"a"``) on an element.

        Fires `keydown` then `keyup` with `evt.key` set, running the `data-on:keydown` /
        `data-on:keyup` bindings whose key filters (`evt.key==='Enter'&&…`) pass. Enter also
        does what a browser does: it clicks a focused button, and in a form field it submits
        the form (clicking its submit button, or directly when the form has a single field).

        Raises:
            ElementNotInteractive: no binding on the element's path reacts to this key; the
                message lists the bindings and the key filters that did not match.
        """
        target = await self._find(selector, f"press {key!r} on", timeout)
        gesture = _Gesture(f"press {key!r} on {selector}")
        await self._key(target, key, gesture)
        return self._finish(gesture, target, ("keydown", "keyup", "click", "submit"))

    async def type(
        self, selector: str, text: str, *, append: bool = False, timeout: float | None = None
    ) -> list[ActionResult]:
        """Type `text` into a field, as a user would: the bound signal follows each key.

        The field's `data-bind` signal is set as typing sets it (numbers for number inputs),
        starting from empty (or from its current value with `append=True`). Each character
        fires `keydown`, `input` and `keyup` bindings along the element's path; then `change`
        fires, as when the field loses focus. Timing modifiers are read as a user typing
        faster than their interval: an `input` binding with `__debounce` fires once, after the
        last character; one with `__throttle` fires on the first character only.

        Raises:
            ElementNotInteractive: the element is not a field, or has no `data-bind` and no
                binding reacts to typing.
        """
        target = await self._find(selector, "type into", timeout)
        path = bind_path(target)
        editable = target.tag in ("input", "textarea", "select") or target.get(
            "contenteditable"
        ) not in (None, "false")
        if not editable and path is None:
            raise ElementNotInteractive(
                f"{self.label}: cannot type into {_describe_element(target)}: it is not a "
                "form field and has no data-bind"
            )
        gesture = _Gesture(f"type {text!r} into {selector}")
        value = ""
        if append:
            current = _get_path(self.signals, path) if path else None
            value = str(current) if current is not None else (target.get("value") or "")
        for index, char in enumerate(text):

            def per_char(binding: Binding, first: bool = index == 0) -> bool:
                if "debounce" in binding.modifiers:
                    return False
                return first or "throttle" not in binding.modifiers

            keydown = await self._dispatch(target, "keydown", gesture, key=char, only=per_char)
            if keydown.prevented:
                continue
            value += char
            if path is not None:
                self._set_signal(path, field_value(target, value), gesture)
            await self._dispatch(target, "input", gesture, only=per_char)
            await self._dispatch(target, "keyup", gesture, key=char, only=per_char)
        await self._dispatch(
            target, "input", gesture, only=lambda binding: "debounce" in binding.modifiers
        )
        await self._dispatch(target, "change", gesture)
        if path is None:
            return self._finish(gesture, target, ("keydown", "input", "keyup", "change"))
        return gesture.results

    async def _find(self, selector: str, verb: str, timeout: float | None) -> Element:
        return await self.wait_until(
            lambda: self.replica.document.select_one(selector),
            description=f"show an element matching {selector!r} to {verb}",
            timeout=timeout,
        )

    async def _click(self, target: Element, gesture: _Gesture) -> None:
        if target.get("disabled") is not None and target.tag in _DISABLEABLE:
            raise ElementNotInteractive(
                f"{self.label}: {_describe_element(target)} is disabled; a browser does not "
                "dispatch clicks to it"
            )
        clicked = await self._dispatch(target, "click", gesture)
        if clicked.prevented:
            return
        kind = (target.get("type") or "").lower()
        path = bind_path(target)
        if target.tag == "input" and kind in ("checkbox", "radio") and path is not None:
            if kind == "radio":
                value: Any = target.get("value") or "on"
            else:
                current = _get_path(self.signals, path)
                checked = current if isinstance(current, bool) else bool(current)
                checked = not checked
                value = checked if target.get("value") is None else (target.get("value") or "")
                if not checked and target.get("value") is not None:
                    value = ""
            self._set_signal(path, value, gesture)
            await self._dispatch(target, "input", gesture)
            await self._dispatch(target, "change", gesture)
            return
        form = target.closest("form")
        if form is not None and _is_submit_button(target):
            gesture.defaults.append(f"submit {_describe_element(form)}")
            await self._dispatch(form, "submit", gesture)

    async def _key(self, target: Element, key: str, gesture: _Gesture) -> None:
        down = await self._dispatch(target, "keydown", gesture, key=key)
        if key == "Enter" and not down.prevented:
            if target.tag in ("button", "a") or _is_submit_button(target):
                gesture.defaults.append(f"Enter clicks {_describe_element(target)}")
                await self._click(target, gesture)
            elif target.tag == "input" and (target.get("type") or "").lower() in _TEXT_FIELDS:
                form = target.closest("form")
                if form is not None:
                    await self._implicit_submit(form, gesture)
        await self._dispatch(target, "keyup", gesture, key=key)

    async def _implicit_submit(self, form: Element, gesture: _Gesture) -> None:
        """HTML's implicit submission: Enter in a field clicks the form's default button, or
        submits a form that has one field and no button."""
        buttons = [el for el in form.select("button, input") if _is_submit_button(el)]
        if buttons:
            gesture.defaults.append(f"Enter clicks {_describe_element(buttons[0])}")
            await self._click(buttons[0], gesture)
            return
        fields = [
            el for el in form.select("input") if (el.get("type") or "").lower() in _TEXT_FIELDS
        ]
        if len(fields) == 1:
            gesture.defaults.append(f"Enter submits {_describe_element(form)}")
            await self._dispatch(form, "submit", gesture)

    async def _dispatch(
        self,
        target: Element,
        event: str,
        gesture: _Gesture,
        *,
        key: str | None = None,
        only: Callable[[Binding], bool] | None = None,
    ) -> Dispatch:
        try:
            result = dispatch(
                self.replica.document,
                target,
                event,
                key=key,
                fired_once=self._fired_once,
                only=only,
            )
        except ExpressionError as exc:
            raise ElementNotInteractive(f"{self.label}: {exc}") from None
        gesture.dispatches.append(result)
        for binding, effects in result.fired:
            self.timeline.add(
                "gesture", f"{event} -> {binding.attr}: {describe_effects(effects)}", binding
            )
            for effect in effects:
                if isinstance(effect, Assign):
                    self.signals.patch(effect.as_patch())
                    self._changed()
                elif isinstance(effect, Fetch):
                    gesture.results.append(
                        await self.fetch(effect.method, effect.url, headers=_headers(effect))
                    )
                else:
                    assert isinstance(effect, Confirm)
        return result

    def _set_signal(self, path: tuple[str, ...], value: Any, gesture: _Gesture) -> None:
        self.signals.patch(Assign(path, value).as_patch())
        gesture.defaults.append(f"${'.'.join(path)} = {value!r}")
        self._changed()

    def _finish(
        self, gesture: _Gesture, target: Element, events: tuple[str, ...]
    ) -> list[ActionResult]:
        """Return the gesture's responses, or raise if nothing reacted to it."""
        if any(d.fired for d in gesture.dispatches) or gesture.defaults:
            return gesture.results
        lines = [
            f"{self.label}: {gesture.name}: nothing reacts to it; a browser would do nothing.",
            f"  element: {_describe_element(target)}",
        ]
        for d in gesture.dispatches:
            for binding, reason in d.blocked:
                lines.append(f"  {binding.describe()} did not run: {reason}")
        misses = sorted({m for d in gesture.dispatches for m in d.near_misses})
        lines.extend(f"  look-alike attribute: {m}" for m in misses)
        if len(lines) == 2:
            found = sorted(
                {name for el in (target, *target.ancestors) for name in el.attrs if "data-" in name}
            )
            lines.append(
                f"  no data-on:{'/'.join(events)} on the element or its ancestors"
                + (f"; data-* attributes there: {', '.join(found)}" if found else "")
            )
        raise ElementNotInteractive("\n".join(lines))

    # -- waits --------------------------------------------------------------------------------

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        description: str,
        timeout: float | None = None,
        closest: Callable[[], str] | None = None,
    ) -> T:
        """Wait until `check()` returns something other than None/False; return it.

        `check` runs after every change to any tab of this client, so it may look across
        tabs. On timeout, raises `WaitTimeout` saying `description`, `closest()` and what the
        tab saw since the last action.
        """
        return await wait_for(
            self.client, [self], check, description=description, timeout=timeout, closest=closest
        )

    async def expect_text(
        self, selector: str, text: str, *, timeout: float | None = None
    ) -> Element:
        """Wait until an element matching `selector` contains `text` (whitespace-normalised);
        return that element."""
        wanted = " ".join(text.split())
        seen = Closest(wanted)

        def check() -> Element | None:
            for element in self.replica.document.select(selector):
                current = element.text
                if wanted in current:
                    return element
                seen.offer(current)
            return None

        def closest() -> str:
            body = self.replica.document.text("body")
            return seen.report(
                repr(selector), f"nothing matches {selector!r}; page text is {body[:200]!r}"
            )

        return await self.wait_until(
            check, description=f"show {wanted!r} in {selector!r}", timeout=timeout, closest=closest
        )

    async def expect_signal(self, name: str, value: Any, *, timeout: float | None = None) -> None:
        """Wait until signal `name` (a dotted path for nested signals) equals `value`."""
        path = tuple(name.split("."))
        seen: list[Any] = []

        def check() -> bool:
            current = _get_path(self.signals, path, _MISSING)
            if current == value:
                return True
            if not seen or seen[-1] != current:
                seen.append(current)
            return False

        await self.wait_until(
            check,
            description=f"have signal {name!r} == {value!r}",
            timeout=timeout,
            closest=lambda: "values seen: " + ", ".join(repr(v) for v in seen[-5:]),
        )

    async def expect_event(
        self,
        match: Callable[[StreamItem], bool],
        *,
        description: str = "receive a matching event",
        since: int | None = None,
        timeout: float | None = None,
    ) -> StreamItem:
        """Wait for an event (or comment) satisfying `match`, counting from index `since` of
        `events` (default: events arriving from now on)."""
        start = len(self.events) if since is None else since

        def check() -> StreamItem | None:
            return next((e for e in self.events[start:] if match(e)), None)

        return await self.wait_until(check, description=description, timeout=timeout)

    async def expect_console(self, text: str, *, timeout: float | None = None) -> str:
        """Wait until the console (what a browser would log) has a message containing
        `text`; return the message."""
        return await self.wait_until(
            lambda: next((m for m in self.replica.console if text in m), None),
            description=f"log a console message containing {text!r}",
            timeout=timeout,
            closest=lambda: f"console: {self.replica.console[-5:]}",
        )

    async def expect_script(
        self, kind: str | None = None, text: str | None = None, *, timeout: float | None = None
    ) -> ScriptKind:
        """Wait until a patch runs a script of this kind (``toast``, ``redirect``,
        ``reload``, ``script``) whose value or source contains `text`; return it classified."""

        def check() -> ScriptKind | None:
            for script in self.replica.scripts:
                found = classify_script(script)
                if kind is not None and found.kind != kind:
                    continue
                if text is not None and text not in (found.value or "") + script.text:
                    continue
                return found
            return None

        what = " ".join(p for p in (kind or "script", repr(text) if text else "") if p)
        return await self.wait_until(
            check,
            description=f"run a {what}",
            timeout=timeout,
            closest=lambda: (
                "scripts run: "
                + ", ".join(classify_script(s).describe() for s in self.replica.scripts[-5:])
            ),
        )

    async def expect_quiet(
        self,
        window: float = DEFAULT_QUIET_WINDOW,
        *,
        match: Callable[[StreamItem], bool] | None = None,
        description: str = "stay quiet",
    ) -> None:
        """Assert that no event arrives for `window` seconds (heartbeats and comments aside,
        unless `match` says otherwise). Waiting out the window *is* the assertion."""
        accept = match or _is_patch
        start = len(self.events)
        with anyio.move_on_after(window):
            while True:
                changed = self.client._changed()
                if any(accept(e) for e in self.events[start:]):
                    break
                await changed.wait()
        arrived = [e for e in self.events[start:] if accept(e)]
        if arrived:
            raise AssertionError(
                f"{self.label} was expected to {description} for {window:.2f}s, but received:\n"
                + "\n".join(f"    {_describe(e)}" for e in arrived[:10])
                + "\n"
                + self._explain()
            )

    # -- failure reports ----------------------------------------------------------------------

    def _explain(self) -> str:
        """The part of a failure message that says what this tab saw."""
        last = self.client.last_action
        lines = []
        if self.connected:
            state = f"stream #{self._connections} open"
        elif self._connections:
            state = f"no stream open (stream #{self._connections} ended)"
        else:
            state = "no stream open (never connected: call connect() or ready())"
        lines.append(f"  tab {self.label} id={self.id_or_none!r}, {state}")
        if self.replica.console:
            lines.append(f"  console: {self.replica.console[-3:]}")
        if last is not None:
            lines.append(
                f"  timeline since the last action ({last.describe()}), times relative to it:"
            )
            lines.append(self.timeline.render(since=last.at - 0.5, origin=last.at))
        else:
            lines.append("  timeline:")
            lines.append(self.timeline.render())
        lines.append(f"  transcript: {self.save_artifacts()}")
        return "\n".join(lines)

    def save_artifacts(self) -> Path:
        """Write this tab's raw stream transcript(s) and current page; return the `.sse` path."""
        folder = self.client._artifacts()
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.label)
        path = folder / f"{stem}.sse"
        with path.open("wb") as out:
            for number, transcript in enumerate(self.transcripts, start=1):
                out.write(f": vt stream #{number}\n".encode())
                out.write(bytes(transcript))
        (folder / f"{stem}.html").write_text(self.replica.document.html(), encoding="utf-8")
        return path


@dataclass(slots=True)
class _Gesture:
    """What one gesture did: its dispatches, default actions and responses."""

    name: str
    dispatches: list[Dispatch] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    results: list[ActionResult] = field(default_factory=list)


_DISABLEABLE = frozenset({"button", "input", "select", "textarea", "fieldset", "option"})
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<absent>"})()


def _is_submit_button(el: Element) -> bool:
    kind = (el.get("type") or "").lower()
    if el.tag == "button":
        return kind in ("", "submit")
    return el.tag == "input" and kind in ("submit", "image")


def _describe_element(el: Element) -> str:
    html = el.html
    start = html[: html.find(">") + 1] if ">" in html else html
    return start if len(start) <= 160 else start[:159] + "…"


def _get_path(signals: Mapping[str, Any], path: tuple[str, ...] | None, default: Any = None) -> Any:
    value: Any = signals
    for part in path or ():
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _headers(effect: Fetch) -> dict[str, str] | None:
    headers = effect.options.get("headers")
    if isinstance(headers, dict):
        return {str(k): str(v) for k, v in headers.items()}
    return None


def _with_signals(url: str, signals: Mapping[str, Any]) -> str:
    query = quote(json.dumps(signals, separators=(",", ":")), safe="")
    return url + ("&" if "?" in url else "?") + f"datastar={query}"


def _response_event(info: ResponseInfo, body: bytes) -> Event | None:
    """A non-SSE Datastar response as the event the browser makes of it."""
    if info.content_type == "text/html":
        mode = info.headers.get("datastar-mode", "outer")
        try:
            patch_mode = PatchMode(mode)
        except ValueError:
            return None
        return PatchElements(
            elements=body.decode("utf-8", "replace"),
            selector=info.headers.get("datastar-selector") or None,
            mode=patch_mode,
            use_view_transition=info.headers.get("datastar-use-view-transition") == "true",
        )
    try:
        signals = json.loads(body)
    except ValueError:
        return None
    if not isinstance(signals, dict):
        return None
    return PatchSignals(
        signals, only_if_missing=info.headers.get("datastar-only-if-missing") == "true"
    )


def _is_patch(item: StreamItem) -> bool:
    if isinstance(item, Comment):
        return False
    return not (isinstance(item, PatchSignals) and item.is_heartbeat)


def _describe(item: StreamItem) -> str:
    return f": {item.text}" if isinstance(item, Comment) else item.describe()


async def _read_bounded(response: _http.HTTPResponse, limit: int = 4096) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def _short_id(tab_id: str | None) -> str:
    if tab_id is None:
        return "None"
    route, _, suffix = tab_id.rpartition("_")
    return f"{route}_{suffix[:6]}…" if len(suffix) > 8 else tab_id
