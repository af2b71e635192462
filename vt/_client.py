"""The async I/O shell: clients, sessions and tabs that talk to a live server.

    async with vt.AsyncClient("http://127.0.0.1:8000") as client:
        alice = await client.new_session("alice").open("/")
        bob = await client.new_session("bob").open("/")
        await bob.ready()
        await alice.action("Send", name="alice", draft="hello bob")
        await bob.expect_text("article", "alice: hello bob")

A client owns sessions; a session (one cookie jar, like one browser profile) owns tabs; a tab
owns its page replica (`Document` + `Signals`), its event stream and its timeline. Everything
below the sockets (decoding, parsing, applying, waiting) is the sans-IO core; this module only
moves bytes and wakes waiters. The sync API (`vt.Client`) runs this same code in a portal.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urljoin

import anyio
import anyio.abc

from . import _http
from ._dom import Document, Element, Script
from ._events import (
    Event,
    PatchElements,
    PatchSignals,
    StreamItem,
    UnknownEvent,
    is_ready,
    parse_event,
)
from ._exceptions import (
    MalformedEvent,
    ProtocolError,
    UnexpectedResponse,
    UsageError,
    WaitTimeout,
)
from ._page import read_page
from ._signals import Signals
from ._sse import Comment, ServerSentEvent, SSEDecoder
from ._timeline import ActionRef, Timeline
from ._via import classify_script

__all__ = ["ActionResult", "AsyncClient", "AsyncSession", "AsyncTab", "ResponseInfo"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
DEFAULT_QUIET_WINDOW = 0.3
_DATASTAR_ACCEPT = "text/event-stream, text/html, application/json"


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
    """What an action POST returned. Via answers 200 with an empty body; its patches arrive on
    the tab's stream, not here. `events` holds any events the response itself carried (a
    Datastar server may answer an action with SSE; Via does for a stale tab).
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


class AsyncClient:
    """A server under test and every session talking to it. Use as an async context manager.

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8000"``.
        timeout: default deadline, in seconds, of every wait and request.
        artifacts_dir: where transcripts and page snapshots go when a wait fails (a temporary
            directory when None).
        strict: when True (the default), a protocol error on a tab's stream (a malformed event,
            a cut-off event) makes the next wait on that tab raise it.
        accept_encoding: sent on event streams; ``"identity"`` unless a test is about
            compression.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        artifacts_dir: str | Path | None = None,
        strict: bool = True,
        accept_encoding: str = "identity",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir is not None else None
        self.strict = strict
        self.accept_encoding = accept_encoding
        self.sessions: list[AsyncSession] = []
        self.last_action: ActionRef | None = None
        self._transport: _http.AsyncHTTPTransport | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._changed = anyio.Event()
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncClient {self.base_url} sessions={len(self.sessions)}>"

    async def __aenter__(self) -> AsyncClient:
        if self._tg is not None or self._closed:
            raise UsageError("an AsyncClient can be entered once; make a new one")
        self._transport = _http.new_transport()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every session (ending their streams) and the connection pool."""
        if self._closed:
            return
        self._closed = True
        try:
            with anyio.CancelScope(shield=True):
                for session in list(self.sessions):
                    await session.aclose()
        finally:
            if self._tg is not None:
                self._tg.cancel_scope.cancel()
                await self._tg.__aexit__(None, None, None)
            if self._transport is not None:
                await self._transport.aclose()

    def new_session(self, name: str | None = None) -> AsyncSession:
        """A new session: its own cookie jar, like a separate browser profile.

        `name` labels its tabs in timelines and failure messages (default ``session1``...).
        """
        if self._tg is None or self._closed:
            raise UsageError(
                "the client is not open; use `async with vt.AsyncClient(url) as client:`"
            )
        session = AsyncSession(self, name or f"session{len(self.sessions) + 1}")
        self.sessions.append(session)
        return session

    @property
    def tabs(self) -> list[AsyncTab]:
        """Every tab of every session, in creation order."""
        return [tab for session in self.sessions for tab in session.tabs]

    def url(self, path: str) -> str:
        """An absolute URL for a path on the server."""
        return (
            urljoin(self.base_url + "/", path.lstrip("/"))
            if not path.startswith(("http://", "https://"))
            else path
        )

    # -- internal plumbing used by sessions and tabs ----------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, anyio.Event()
        event.set()

    def _start(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        assert self._tg is not None
        self._tg.start_soon(fn)

    def _record_action(self, tab: AsyncTab, name: str) -> ActionRef:
        ref = ActionRef(tab.label, name, time.monotonic())
        self.last_action = ref
        return ref

    def _artifacts(self) -> Path:
        if self.artifacts_dir is None:
            import tempfile

            self.artifacts_dir = Path(tempfile.mkdtemp(prefix="vt-artifacts-"))
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        return self.artifacts_dir


class AsyncSession:
    """One browser session: a cookie jar shared by its tabs. Made by `AsyncClient.new_session`."""

    def __init__(self, client: AsyncClient, name: str) -> None:
        self.client = client
        self.name = name
        self.tabs: list[AsyncTab] = []
        self.jar = _http.loopback_cookie_jar()
        assert client._transport is not None
        # One httpx client per session for its cookie jar; all share the client's pool, which
        # the AsyncClient closes (so these are never closed themselves).
        self.http = _http.AsyncHTTPClient(
            transport=client._transport,
            cookies=self.jar,
            timeout=_http.request_timeout(client.timeout),
            follow_redirects=False,
            trust_env=False,
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncSession {self.name} tabs={len(self.tabs)}>"

    @property
    def cookies(self) -> dict[str, str]:
        """The session's cookies, name to value."""
        return {c.name: c.value or "" for c in self.jar}

    async def open(self, path: str = "/", *, connect: bool = True) -> AsyncTab:
        """Load a page in a new tab, as a browser would, and (unless `connect=False`) open its
        stream. Does not wait for the stream's `: ready`; call `ready()` for that.

        Raises:
            UnexpectedResponse: the page GET did not return 200 HTML.
            PageBootstrapError: the page has no tab id (`meta[data-signals]` with `via_tab`).
        """
        if self._closed:
            raise UsageError(f"session {self.name} is closed")
        tab = AsyncTab(self, path, len(self.tabs) + 1)
        await tab._load()
        self.tabs.append(tab)
        if connect:
            await tab.connect()
        return tab

    async def request(self, method: str, path: str, /, **kwargs: Any) -> _http.HTTPResponse:
        """A plain HTTP request with this session's cookies (for probes such as `/readyz`)."""
        return await self.http.request(method, self.client.url(path), **kwargs)

    async def aclose(self) -> None:
        """End every tab's stream (no close beacons: the browser crashed, so to speak)."""
        self._closed = True
        for tab in self.tabs:
            await tab.drop()


class AsyncTab:
    """One page load: a replica of the page, its signals, its stream and its timeline."""

    def __init__(self, session: AsyncSession, path: str, number: int) -> None:
        self.session = session
        self.client = session.client
        self.path = path
        self.label = f"{session.name}/{number}"
        self.document = Document.parse("")
        self.signals = Signals()
        self.timeline = Timeline()
        self.responses: list[ResponseInfo] = []
        self.events: list[StreamItem] = []
        self.scripts: list[Script] = []
        self.console: list[str] = []
        self.protocol_errors: list[ProtocolError] = []
        self.failures: list[Exception] = []  # vt's own errors while reading the stream
        self.transcripts: list[bytearray] = []
        self.stream_url = "/_sse"
        self.close_url = "/_sse/close"
        self.page: ResponseInfo | None = None
        self.page_html = ""
        self.connected = False
        self._connections = 0
        self._ready_on = 0  # number of the connection that delivered `: ready`
        self._reported_errors = 0
        self._cancel: anyio.CancelScope | None = None
        self._stream_done: anyio.Event | None = None
        self._last_own_action: float | None = None

    def __repr__(self) -> str:
        return f"<AsyncTab {self.label} {self.id_or_none!r}>"

    # -- identity -----------------------------------------------------------------------------

    @property
    def id_or_none(self) -> str | None:
        """The current tab id, or None before the page loaded."""
        value = self.signals.get("via_tab")
        return value if isinstance(value, str) else None

    @property
    def id(self) -> str:
        """The current tab id (`via_tab`); it changes when the server re-bootstraps the tab."""
        value = self.id_or_none
        if value is None:
            raise UsageError(f"tab {self.label} has no tab id yet")
        return value

    @property
    def transcript(self) -> bytes:
        """The raw bytes of the current (or last) stream connection."""
        return bytes(self.transcripts[-1]) if self.transcripts else b""

    # -- page -------------------------------------------------------------------------------

    async def _load(self) -> None:
        response = await self.session.http.get(self.client.url(self.path))
        info = self._record_response("GET", response)
        self.page = info
        if response.status_code != 200 or info.content_type != "text/html":
            raise UnexpectedResponse(
                f"GET {self.path} answered {response.status_code} {info.content_type!r}; "
                "a page load needs 200 text/html",
                section="2.1",
                raw=response.content[:2000],
            )
        self.page_html = response.text
        document = Document.parse(self.page_html)
        page = read_page(document, self.page_html)
        self.document = document
        self.signals = Signals(page.seed)
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

    # -- stream -----------------------------------------------------------------------------

    async def connect(self) -> ResponseInfo:
        """Open the tab's event stream (`GET /_sse?datastar=…`) and start reading it.

        Returns once the response headers arrived. Raises `UnexpectedResponse` if the server
        does not answer 200 `text/event-stream` (§5.1).
        """
        if self.connected:
            raise UsageError(f"tab {self.label} is already connected; drop() it first")
        query = quote(json.dumps(self.signals.to_wire(), separators=(",", ":")), safe="")
        url = self.client.url(self.stream_url)
        url += ("&" if "?" in url else "?") + f"datastar={query}"
        headers = {
            "Accept": "text/event-stream",
            "Accept-Encoding": self.client.accept_encoding,
            "Cache-Control": "no-store",
            "Datastar-Request": "true",
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
        self._cancel = anyio.CancelScope()
        done = self._stream_done = anyio.Event()
        self.timeline.add("connect", f"stream #{number} open (200)")
        self._changed()
        scope = self._cancel

        async def read() -> None:
            reason = "server ended the stream"
            decoder = SSEDecoder()
            try:
                with scope:
                    async for chunk in response.aiter_bytes():
                        transcript.extend(chunk)
                        for item in decoder.feed(chunk):
                            self._receive(item, number)
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
        if not self.connected and self._ready_on != self._connections or not self._connections:
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

    def _receive(self, item: ServerSentEvent | Comment, connection: int) -> None:
        after = self.client.last_action
        if isinstance(item, Comment):
            self.events.append(item)
            if is_ready(item):
                self._ready_on = max(self._ready_on, connection)
                self.timeline.add("ready", ": ready", item, after)
            else:
                self.timeline.add("comment", f": {item.text}", item, after)
            self._changed()
            return
        if not item.terminated:
            self._protocol_error(
                ProtocolError(
                    "the stream ended inside an event (no blank line after it); a browser "
                    "drops such an event, so vt did not apply it",
                    section="5.2",
                    raw=item.raw,
                )
            )
            return
        try:
            event = parse_event(item)
        except MalformedEvent as exc:
            self._protocol_error(exc)
            return
        self.apply(event, after=after)

    def apply(self, event: Event, *, after: ActionRef | None = None, note: str = "") -> None:
        """Apply one event to the replica, as the browser would, and record it."""
        self.events.append(event)
        if isinstance(event, PatchSignals):
            if event.is_heartbeat:
                self.timeline.add("heartbeat", "patch-signals {}" + note, event, after)
            else:
                before = self.id_or_none
                self.signals.patch(event.signals, only_if_missing=event.only_if_missing)
                self.timeline.add("event", event.describe() + note, event, after)
                if before is not None and self.id_or_none != before:
                    self.timeline.add(
                        "event",
                        f"tab id changed {_short_id(before)} -> {_short_id(self.id_or_none)}",
                        None,
                        after,
                    )
        elif isinstance(event, PatchElements):
            result = self.document.apply(event)
            self.timeline.add("event", event.describe() + note, event, after)
            for found in result.signals:
                self.signals.patch(found)
            for message in result.errors:
                self.console.append(message)
                self.timeline.add("console", message, None, after)
            for script in result.scripts:
                self.scripts.append(script)
                self.timeline.add("script", classify_script(script).describe(), script, after)
        elif isinstance(event, UnknownEvent):
            self.timeline.add("event", event.describe() + note, event, after)
        self._changed()

    def _protocol_error(self, error: ProtocolError) -> None:
        self.protocol_errors.append(error)
        self.timeline.add("error", str(error).splitlines()[0], error)
        self._changed()

    def _changed(self) -> None:
        self.client._notify()

    # -- acting like a browser ----------------------------------------------------------------

    async def action(self, name: str, /, **signals: Any) -> ActionResult:
        """Fire `POST /_action/<name>` with the tab's signals, as Datastar does.

        `signals` are set on the tab first, as typing into bound inputs would, then every
        signal except local (`_`-prefixed) ones is sent as the JSON body. The server's patches
        arrive on the stream; wait for them with `expect_*`.
        """
        return await self.post(f"/_action/{name}", signals, name=name)

    async def post(
        self, url: str, signals: Mapping[str, Any] | None = None, *, name: str | None = None
    ) -> ActionResult:
        """`@post(url)`: send the tab's signals (with `signals` set first) as a JSON body."""
        overrides = dict(signals or {})
        local = [k for k in overrides if k.startswith("_")]
        if local:
            raise UsageError(
                f"signals {local} start with '_': they are local to the browser and Datastar "
                "never sends them; set them with tab.signals only through server patches"
            )
        if overrides:
            self.signals.patch(overrides)
        body = json.dumps(self.signals.to_wire(), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Datastar-Request": "true",
            "Accept": _DATASTAR_ACCEPT,
        }
        return await self._send_action(url, name or url, content=body, headers=headers)

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
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in self.signals.to_wire().items()
        }
        return await self._send_action(
            f"/_action/{name}",
            name,
            data=data,
            files=dict(files),
            headers={"Datastar-Request": "true", "Accept": _DATASTAR_ACCEPT},
        )

    async def _send_action(self, url: str, name: str, **kwargs: Any) -> ActionResult:
        ref = self.client._record_action(self, name)
        self._last_own_action = ref.at
        self.timeline.add("action", f"{name}", None, ref)
        response = await self.session.http.post(self.client.url(url), **kwargs)
        info = self._record_response("POST", response)
        body = response.content
        elapsed = (time.monotonic() - ref.at) * 1000
        self.timeline.add(
            "response", f"{name} -> {response.status_code} ({elapsed:.0f} ms)", info, ref
        )
        events: list[StreamItem] = []
        if info.content_type == "text/event-stream":
            decoder = SSEDecoder()
            for item in [*decoder.feed(body), *decoder.close()]:
                if isinstance(item, Comment):
                    events.append(item)
                    continue
                try:
                    event = parse_event(item)
                except MalformedEvent as exc:
                    self._protocol_error(exc)
                    continue
                events.append(event)
                self.apply(event, after=ref, note=" (in the action response)")
        self._changed()
        return ActionResult(name, response.status_code, info.headers, body, tuple(events))

    async def close(self) -> None:
        """Close the tab like a browser does: send the close beacon, then end the stream."""
        tab_id = self.id
        response = await self.session.http.post(
            self.client.url(self.close_url),
            content=tab_id.encode(),
            headers={"Content-Type": "text/plain;charset=UTF-8"},
        )
        self._record_response("POST", response)
        self.timeline.add("action", f"close beacon -> {response.status_code}")
        await self.drop()

    async def reload(self, *, beacon: bool = True, connect: bool | None = None) -> None:
        """Reload the page in this tab: beacon and drop the old tab, load anew (new tab id).

        The stream is reopened if it was open (or as `connect` says).
        """
        reconnect = self.connected if connect is None else connect
        if beacon and self.id_or_none is not None:
            await self.close()
        else:
            await self.drop()
        await self._load()
        if reconnect:
            await self.connect()

    async def fork(self, path: str | None = None) -> AsyncTab:
        """Open another tab in the same session (shares cookies, so `StateSess` too)."""
        return await self.session.open(path if path is not None else self.path)

    # -- reading the replica ------------------------------------------------------------------

    def select(self, selector: str) -> list[Element]:
        """Elements of the replica matching a CSS selector."""
        return self.document.select(selector)

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, or None."""
        return self.document.select_one(selector)

    def text(self, selector: str = "body") -> str:
        """Normalised text of the elements matching `selector` (the whole body by default)."""
        return self.document.text(selector)

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
        tabs. On timeout, raises `WaitTimeout` explaining itself (see the class docs).
        """
        return await _wait(self.client, [self], check, description, timeout, closest)

    async def expect_text(
        self, selector: str, text: str, *, timeout: float | None = None
    ) -> Element:
        """Wait until an element matching `selector` contains `text` (whitespace-normalised)."""
        wanted = " ".join(text.split())
        seen = _Closest(wanted)

        def check() -> Element | None:
            for element in self.document.select(selector):
                current = element.text
                if wanted in current:
                    return element
                seen.offer(current)
            return None

        return await self.wait_until(
            check,
            description=f"show {wanted!r} in {selector!r}",
            timeout=timeout,
            closest=lambda: seen.report(selector, self.document),
        )

    async def expect_signal(self, name: str, value: Any, *, timeout: float | None = None) -> None:
        """Wait until signal `name` equals `value`."""
        seen: list[Any] = []

        def check() -> bool:
            current = self.signals.get(name, _MISSING)
            if current == value:
                return True
            if not seen or seen[-1] != current:
                seen.append(current)
            return False

        await self.wait_until(
            check,
            description=f"have signal {name!r} == {value!r}",
            timeout=timeout,
            closest=lambda: (
                "values seen: "
                + ", ".join("<absent>" if v is _MISSING else repr(v) for v in seen[-5:])
            ),
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
                await _changed(self.client).wait()
                if any(accept(e) for e in self.events[start:]):
                    break
        arrived = [e for e in self.events[start:] if accept(e)]
        if arrived:
            raise AssertionError(
                f"{self.label} was expected to {description} for {window:.2f}s, but received:\n"
                + "\n".join(f"    {_describe(e)}" for e in arrived[:10])
                + "\n"
                + self._explain(None)
            )

    # -- failure reports ----------------------------------------------------------------------

    def _explain(self, closest: str | None) -> str:
        """The part of a failure message that says what this tab saw."""
        last = self.client.last_action
        origin = last.at if last is not None else None
        lines = []
        if closest:
            lines.append(f"  closest seen: {closest}")
        state = (
            f"stream #{self._connections} open"
            if self.connected
            else "no stream open"
            + (" (never connected: call connect() or ready())" if not self._connections else "")
        )
        lines.append(f"  tab {self.label} id={self.id_or_none!r}, {state}")
        if last is not None:
            lines.append(
                f"  timeline since the last action ({last.describe()}), times relative to it:"
            )
            lines.append(self.timeline.render(since=last.at - 0.5, origin=origin))
        else:
            lines.append("  timeline:")
            lines.append(self.timeline.render())
        saved = self.save_artifacts()
        lines.append(f"  transcript: {saved}")
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
        (folder / f"{stem}.html").write_text(self.document.html(), encoding="utf-8")
        return path


# -- waiting machinery -------------------------------------------------------------------------

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<absent>"})()


def _changed(client: AsyncClient) -> anyio.Event:
    return client._changed


def _is_patch(item: StreamItem) -> bool:
    if isinstance(item, Comment):
        return False
    return not (isinstance(item, PatchSignals) and item.is_heartbeat)


def _describe(item: StreamItem) -> str:
    return f": {item.text}" if isinstance(item, Comment) else item.describe()


async def _wait(
    client: AsyncClient,
    tabs: Sequence[AsyncTab],
    check: Callable[[], T | None],
    description: str,
    timeout: float | None,
    closest: Callable[[], str] | None,
) -> T:
    limit = client.timeout if timeout is None else timeout
    deadline = anyio.current_time() + limit
    while True:
        changed = _changed(client)  # taken before checking: no wake-up can be missed
        for tab in tabs:
            if tab.failures:
                raise tab.failures.pop(0)
        if client.strict:
            for tab in tabs:
                if len(tab.protocol_errors) > tab._reported_errors:
                    error = tab.protocol_errors[tab._reported_errors]
                    tab._reported_errors = len(tab.protocol_errors)
                    raise error
        result = check()
        if result is not None and result is not False:
            return result
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            break
        with anyio.move_on_after(remaining):
            await changed.wait()
    who = ", ".join(t.label for t in tabs)
    message = [f"{who} did not {description} within {limit:g}s."]
    detail = closest() if closest is not None else None
    message.extend(tab._explain(detail) for tab in tabs)
    raise WaitTimeout("\n".join(message))


class _Closest:
    """Remembers the seen text most similar to the wanted text, for failure messages."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted
        self.best = ""
        self.score = -1.0
        self._seen: set[str] = set()

    def offer(self, text: str) -> None:
        if text in self._seen or len(self._seen) > 200:
            return
        self._seen.add(text)
        window = text
        if len(text) > 4 * len(self.wanted) + 40:
            # Compare against the most similar slice of a long text, not the whole of it.
            matcher = difflib.SequenceMatcher(None, text, self.wanted, autojunk=False)
            block = matcher.find_longest_match(0, len(text), 0, len(self.wanted))
            start = max(0, block.a - block.b - 10)
            window = text[start : start + len(self.wanted) + 20]
        score = difflib.SequenceMatcher(None, window, self.wanted, autojunk=False).ratio()
        if score > self.score:
            self.best, self.score = window, score

    def report(self, selector: str, document: Document) -> str:
        if self.score >= 0:
            return f"{self.best!r} in {selector!r}"
        body = document.text("body")
        return f"nothing matches {selector!r}; page text is {body[:200]!r}"


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
