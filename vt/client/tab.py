"""A tab: one page load, its replica, its event stream, its gestures and its waits.

    tab = await session.open("/")         # GET the page: tab id and signals from the page
    await tab.ready()                      # the stream is open and the server subscribed
    await tab.type("input[data-bind=draft]", "hello")
    await tab.press("input[data-bind=draft]", "Enter")   # reads data-on:keydown, POSTs
    await tab.expect_text("article", "hello")

This module loads pages and reads streams; its bases send requests (`vt.client.calls`) and
drive gestures (`vt.client.gestures`). The rules live below it, sans-IO: `vt.page.requests`
builds the requests and reads the responses, `vt.wire.feed` turns stream bytes into events,
`Replica` applies them, `vt.page.gestures` performs gestures, `vt.client.waits` holds the
`expect_*` conditions and `vt.client.report` the failure messages. What the tab shares with its
client (task group, change event, last action, options) comes down to it as a `Hub`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import anyio

from ..defaults import QUIET_WINDOW
from ..errors import ProtocolError, UnexpectedResponse, UsageError, hide_frames
from ..js.attrs import parse_data_attr
from ..page import navigation as _navigation
from ..page.flows import GestureState, Send
from ..page.navigation import Navigation
from ..page.profile import via_only
from ..page.reader import Init, read_page
from ..page.requests import (
    ActionResult,
    ResponseInfo,
    stream_request,
)
from ..page.timing import duration
from ..replica.dom import Element
from ..replica.replica import Replica
from ..wire.events import (
    EventLog,
    read_raw,
)
from ..wire.feed import ItemFeed
from . import http as _http
from . import waits as _waits
from .arrivals import short_id
from .gestures import Gestures
from .hub import Hub, node_name
from .recording import Recording
from .timeline import ActionRef, Timeline

__all__ = ["ActionResult", "AsyncTab", "ResponseInfo", "TabOwner", "open_tab"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


class TabOwner(Protocol):
    """What a tab knows of its session (`AsyncSession`, defined above this module): a name,
    an HTTP client with the session's cookies, its tabs, and a way to open a sibling tab."""

    @property
    def name(self) -> str: ...
    @property
    def http(self) -> _http.AsyncHTTPClient: ...
    @property
    def cookies(self) -> dict[str, str]: ...
    @property
    def tabs(self) -> list[AsyncTab]: ...
    @property
    def profile(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    async def open(
        self,
        path: str = "/",
        *,
        connect: bool = True,
        follow_redirects: bool | None = None,
        node: int | str | None = None,
    ) -> AsyncTab: ...
    async def request(self, method: str, path: str, /, **kwargs: Any) -> _http.HTTPResponse: ...


class AsyncTab(Gestures):
    """One page load: a replica of the page, its signals, its stream and its timeline.

    Made by `AsyncSession.open` (or `fork`). Attributes worth knowing:

    * `replica` (`document`, `signals`, `console`, `scripts`): the page as the browser holds
      it, patched by every event; `console` and `scripts` are what a browser would log and run;
    * `events`: every event and comment received, typed, in order (stream and responses; an
      `EventLog`, which keeps stream events as their bytes until read);
    * `responses`: status and headers of every request the tab made;
    * `transcripts`: the raw bytes of each stream connection (`transcript`: the last one);
    * `timeline`: everything above with times, for failure messages;
    * `protocol_errors`: what the server got wrong (malformed or cut-off events, events a
      browser applies although they break §6, redirects to unsafe schemes);
    * `follow_redirects`: whether redirect and reload scripts and redirect answers are followed
      as a browser follows them, by a new page load in this tab (the client's option, or
      `open`'s).
    """

    session: TabOwner

    def __init__(
        self, session: TabOwner, hub: Hub, path: str, number: int, node: str | None = None
    ) -> None:
        self.session = session
        self.hub = hub
        self.path = path
        self.node = node  # a cluster node of its own (else its session's)
        self.label = f"{session.name}/{number}"
        if hub.settings.nodes:  # a cluster: reports and timelines name the node (§C7)
            self.label += f"@{node_name(node or session.base_url, hub.settings.nodes)}"
        self.replica = Replica.from_html("")
        self.timeline = Timeline(read_raw)
        self.responses: list[ResponseInfo] = []
        self.events = EventLog()
        self.response_origin: dict[int, ActionRef] = {}
        self.recording = Recording()
        # The recording's lists, under the names tests read.
        self.protocol_errors: list[ProtocolError] = self.recording.protocol_errors
        self.failures: list[Exception] = self.recording.failures
        self.transcripts: list[bytearray] = self.recording.transcripts
        self.stream_url = "/_sse"
        self.stream_urls: tuple[str, ...] = ()
        self.profile = "via"  # or "datastar" (a plain page): vt.page.profile
        self.close_url = "/_sse/close"
        self.close_body: str | None = None  # what the page's beacon script sends
        self._page_tab_id: str | None = None
        self.page: ResponseInfo | None = None
        self.page_html = ""
        self.connected = False
        self.closed = False  # the close beacon was sent (§4.4)
        self.follow_redirects = hub.settings.follow_redirects
        self._pending: Navigation | None = None  # asked for by a script, not yet followed
        self._resumed: anyio.Event | None = None  # set while stalled: reading waits on it
        self._unfollowed: set[ActionRef] = set()  # actions sent with follow_redirects=False
        self._navigating: anyio.Event | None = None
        self.version = 0  # bumped on every change, so waiters re-check only what changed
        self._streams: list[tuple[anyio.CancelScope, anyio.Event]] = []
        self._opened = range(0)  # the connection numbers the last connect() opened
        self._signalled: set[int] = set()  # connections that sent the app's ready signal
        self.gestures = GestureState()
        self.inits: tuple[Init, ...] = ()  # a plain page's data-init attributes

    def __repr__(self) -> str:
        return f"<AsyncTab {self.label} {self.id_or_none!r}>"

    @property
    def base_url(self) -> str:
        """The node this tab is pinned to: its session's (as a load balancer with cookie
        affinity pins it), or its own (`open(node=...)`); the server under test on one
        node."""
        return self.node or self.session.base_url

    # -- page -------------------------------------------------------------------------------

    async def _load(self) -> None:
        limit = self.hub.settings.wait_timeout
        for _ in range(_navigation.MAX_REDIRECTS):
            with anyio.move_on_after(limit) as loading:  # the whole page, not each read
                response = await self.session.http.get(self.url_of(self.path))
            if loading.cancelled_caught:
                self.timeline.add("page", f"GET {self.path}: not answered within {limit:g}s")
                raise UnexpectedResponse(
                    f"GET {self.path} was not answered in full within {limit:g}s",
                    section="2.1",
                )
            info = self._record_response("GET", response)
            found = _navigation.from_response(response.status_code, info.headers, info.url)
            if found is None or not self.follow_redirects:
                break
            self.timeline.add("page", f"GET {self.path} -> {response.status_code}")
            self.path = _navigation.path_of(self.base_url, found.url or self.path)
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
        page = read_page(replica.document, self.page_html, self.session.profile)
        self.replica = replica
        self.closed = False
        self.gestures = GestureState()
        self.inits = page.inits
        self.profile = page.profile
        self.stream_url = page.stream_url
        self.stream_urls = page.stream_urls
        self.close_url = page.close_url
        self.close_body = page.close_body
        self._page_tab_id = page.tab_id
        who = f"tab {short_id(page.tab_id)}" if page.tab_id else "a plain Datastar page"
        self.timeline.add("page", f"GET {self.path} -> 200, {who}")
        self._changed()

    async def reload(self, *, beacon: bool = True, connect: bool | None = None) -> None:
        """Reload the page in this tab: a new page load (a new tab id, a fresh replica), as
        `goto` does (`beacon=False` skips the beacon, as a crashed browser would).

        Raises:
            UsageError: `beacon=True` on a plain Datastar page, which has no close beacon.
        """
        if beacon and self.profile == "datastar":
            raise via_only("reload", self.label)
        await self.goto(self.path, beacon=beacon, connect=connect)

    async def goto(self, path: str, *, beacon: bool = True, connect: bool | None = None) -> None:
        """Load `path` (or a URL) in this tab as a link does: the old tab sends its close beacon
        (unless `beacon=False`; a plain Datastar page has none), the new page loads (redirects
        followed as `follow_redirects` says) and opens its streams if they were open (or as
        `connect` says)."""
        reconnect = self.connected if connect is None else connect
        if beacon:
            await self.send_beacon()
        await self.drop()
        self.path = _navigation.path_of(self.base_url, self.url_of(path))
        await self._load()
        if reconnect:
            await self.connect()

    async def _follow(self) -> None:
        """Follow the navigations scripts asked for, one at a time (the last one asked wins)."""
        if self._navigating is not None:
            return  # the navigation in progress follows the one just asked for when done
        done = self._navigating = anyio.Event()
        try:
            while (navigation := self._pending) is not None:
                self._pending = None
                self.timeline.add("navigate", navigation.describe())
                target = navigation.url if navigation.url is not None else self.path
                await self.goto(target, connect=True)
        except Exception as exc:
            # Kept for the next wait on this tab to raise (the page load failed, §2.1).
            self.recording.failures.append(exc)
        finally:
            self._navigating = None
            done.set()
            self._changed()

    def _moving(self) -> bool:
        return self._pending is not None or self._navigating is not None

    async def fork(self, path: str | None = None) -> AsyncTab:
        """Open another tab in the same session (shares cookies, so `StateSess` too)."""
        return await self.session.open(path if path is not None else self.path)

    async def close(self) -> None:
        """Close the tab like a browser does: send the close beacon (§4.4), end the stream.

        The client's exit does this for every Via tab still open (see `AsyncClient.aclose`).

        Raises:
            UsageError: the tab is a plain Datastar page, which has no close beacon (`drop()`),
                or the page has no tab id.
        """
        if self.profile == "datastar":
            raise via_only("close", self.label)
        if self.id_or_none is None:
            raise UsageError(f"tab {self.label} has no tab id to close")
        await self.send_beacon(raise_errors=True)
        await self.drop()

    async def send_beacon(self, *, raise_errors: bool = False) -> None:
        """Send the close beacon (§4.4) if the tab is open, and mark it closed; no-op after,
        and on a plain Datastar page (it has no beacon).

        A failed beacon is recorded on the timeline (and raised with `raise_errors`); a
        browser sends it on unload and does not wait for the answer.
        """
        tab_id = self.id_or_none
        if self.closed or tab_id is None or self.profile == "datastar":
            return
        self.closed = True
        body = tab_id
        if self.close_body is not None and tab_id == self._page_tab_id:
            # What the page's own `beforeunload` handler sends (§2.1.3), as a browser would:
            # a page whose script names another tab must not pass. After a re-bootstrap the
            # page's script is the old tab's; the new id is sent.
            body = self.close_body
        try:
            response = await self.session.http.post(
                self.url_of(self.close_url),
                content=body.encode(),
                headers={"Content-Type": "text/plain;charset=UTF-8", "Referer": self.page_url},
            )
        except _http.HTTPError as exc:
            self.timeline.add("action", f"close beacon failed: {type(exc).__name__}: {exc}")
            if raise_errors:
                raise
            return
        except anyio.get_cancelled_exc_class():
            self.timeline.add("action", "close beacon not answered in time")
            raise
        self._record_response("POST", response)
        self.timeline.add("action", f"close beacon -> {response.status_code}")

    # -- stream -----------------------------------------------------------------------------

    async def connect(self) -> ResponseInfo | None:
        """Open the tab's event stream (`GET /_sse?datastar=…`) and start reading it.

        A plain Datastar page opens one stream per `@get` its `data-init` runs, in page
        order. Returns once the response headers arrived, with the first stream's (None for a
        plain page that opens no stream).

        Raises:
            UnexpectedResponse: the server did not answer 200 `text/event-stream`, or sent
                no headers within the wait deadline (§5.1); streams this call opened before
                it are dropped.
        """
        if self.connected:
            raise UsageError(f"tab {self.label} is already connected; drop() it first")
        first = self.recording.connections + 1
        infos: list[ResponseInfo] = []

        async def open_one(send: Send) -> None:
            infos.extend(self._stream_of(await self._request(send, opening=True)))

        try:
            if self.profile == "datastar":
                for init in self.inits:
                    await self._drive(
                        self._run_page(init.element, init.expression, "data-init"), open_one
                    )
            else:
                outgoing = stream_request(
                    self.url_of(self.stream_url), self.signals.to_wire(), referer=self.page_url
                )
                name = f"GET {self.stream_url}"
                result = await self._send(outgoing, name, background=True, opening=True)
                infos.extend(self._stream_of(result))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.drop()
            raise
        self._opened = range(first, self.recording.connections + 1)
        self._start_intervals()
        return infos[0] if infos else None

    def _start_intervals(self) -> None:
        """`data-on-interval` attributes: each runs on the client's clock while in the page."""
        for element in self.replica.document.with_attribute_prefix("data-on-interval"):
            for name, value in element.attrs.items():
                attr = parse_data_attr(name, value)
                if attr is None or attr.plugin != "on-interval" or not value.strip():
                    continue
                tags = attr.modifiers.get("duration", ())
                seconds = duration(tags) if tags else 1.0
                leading = "leading" in tags

                async def run(
                    el: Element = element,
                    code: str = value,
                    every: float = seconds,
                    now: bool = leading,
                ) -> None:
                    await self._interval(el, code, every, leading=now)

                self.hub.start(run)

    def _stream_of(self, result: ActionResult) -> list[ResponseInfo]:
        """The stream a request that opens one (`_send`'s `opening`) opened: none when a plain
        page's `data-init` ran an action that did not answer with a stream."""
        info = self.responses[-1]  # a stream's: `_send` returns at once after recording it
        return [info] if info.headers is result.headers and info.is_stream else []

    def _stream(
        self, response: _http.HTTPResponse, info: ResponseInfo, done_cb: Callable[[], None]
    ) -> None:
        """Read a 200 `text/event-stream` response in the background as one of the tab's
        streams (numbered, recorded, applied as it arrives)."""
        number, _ = self.recording.open()
        self.connected = True
        self._quiet_since = anyio.current_time()
        if info.headers.get("content-encoding", "identity") != "identity":
            # A compressed stream omits `: ready` (§5.3.2, §5.6): its 200 and headers are all
            # the sign of a subscription a browser gets.
            self.recording.ready_on = max(self.recording.ready_on, number)
            self.timeline.add("ready", "compressed stream: no `: ready` (§5.6); ready on 200")
        scope, done = anyio.CancelScope(), anyio.Event()
        self._streams.append((scope, done))
        self.timeline.add("connect", f"stream #{number} open (200)")
        self._changed()

        async def read() -> None:
            reason = "server ended the stream"
            feed = ItemFeed()
            hub = self.hub
            try:
                with scope:
                    async for chunk in _http.body_chunks(response):
                        # Stalled: hold what came (one read, at most a socket buffer's worth)
                        # unapplied, and read no more until resumed; a drop discards it.
                        while self._resumed is not None:
                            await self._resumed.wait()
                        self.recording.receive(number, chunk, hub.last_action)
                        self._receive(feed.feed(chunk), number)
                        self._changed()
                        await self._pump()
                        if self._pending is not None:
                            hub.start(self._follow)  # the page leaves; its stream ends
                    self._receive(feed.close(), number)
                if scope.cancel_called:
                    reason = "dropped by the test"
            except _http.HTTPError as exc:
                reason = f"stream failed: {type(exc).__name__}: {exc}"
            except Exception as exc:
                # A bug in vt itself must not take the other tabs down: keep it for the next
                # wait on this tab to raise.
                reason = f"vt failed while reading: {type(exc).__name__}: {exc}"
                self.recording.failures.append(exc)
            finally:
                with anyio.CancelScope(shield=True):
                    await response.aclose()
                done_cb()
                self.timeline.add("end", f"stream #{number} ended: {reason}")
                done.set()
                self.connected = any(not ended.is_set() for _, ended in self._streams)
                self._changed()

        self.hub.start(read)

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until the current stream has sent `: ready` (the server is subscribed, §5.3).

        Opens the stream first if it is not open. Events that came before `: ready` (queued
        patches, a resync) are applied and kept, not discarded. A navigation in progress is
        waited for first. A compressed stream has no `: ready` (§5.6): its 200 counts.

        A plain Datastar page has no `: ready`. There, ready means every stream the page opens
        answered 200 `text/event-stream`, and then: with the client's `ready_signal`
        (`vt.ReadySignal`), that the app sent it; without one, that the streams have been
        quiet for the quiet window (`vt.defaults.QUIET_WINDOW`, 0.3 s: no patch since the
        last stream opened, or since the last patch), so the events an app sends on connect
        are applied and the reads that follow (`signals`, `text`) are current. Streams that
        never pause that long are ready at the wait deadline.
        """
        if self._navigating is not None:
            await self._navigating.wait()
        if not self.connected:
            await self.connect()
        if self.profile == "datastar":
            rule, opened = self.hub.settings.ready_signal, self._opened
            if rule is not None:
                test = rule.predicate or (lambda _: all(n in self._signalled for n in opened))
                await self.wait_until(
                    lambda: test(self) or None, description=rule.describe(), timeout=timeout
                )
            elif opened:
                limit = self.hub.settings.wait_timeout if timeout is None else timeout
                await _waits.quiet(self.hub, QUIET_WINDOW, limit, lambda: self._quiet_since)
            return
        number = self.recording.connections
        await _waits.wait_for(
            [self],
            lambda: self.recording.ready_on >= number or None,
            description=f"receive `: ready` on stream #{number}",
            timeout=timeout,
            own=True,
        )

    async def stall(self) -> None:
        """Stop reading the stream, as a frozen or overloaded client does: what the server
        sends stays in the sockets, the TCP window closes and the server's writes back up
        (§5.4.3). Until `resume()`, or `drop()`/`reconnect()`, whose new stream is read."""
        if self._resumed is None:
            self._resumed = anyio.Event()
            self.timeline.add("stall", "stopped reading the stream")

    async def resume(self) -> None:
        """Read the stream again after `stall()`."""
        resumed, self._resumed = self._resumed, None
        if resumed is not None:
            resumed.set()
            self.timeline.add("stall", "reads the stream again")

    async def drop(self) -> None:
        """Cut the stream from the client side, as a network drop would (no close beacon).
        A stalled stream is cut unread (its socket closed with data in it: a reset); the
        stall ends with it, so a new stream is read."""
        streams, self._streams = self._streams, []
        for scope, _ in streams:
            scope.cancel()
        for _, done in streams:
            await done.wait()
        await self.resume()

    async def reconnect(self) -> ResponseInfo | None:
        """Drop the stream and open a new one (the server resyncs, §5.5)."""
        await self.drop()
        return await self.connect()

    async def _find(self, selector: str, verb: str, timeout: float | None) -> Element:
        return await self.wait_until(
            lambda: self.replica.document.select_one(selector),
            description=f"show an element matching {selector!r} to {verb}",
            timeout=timeout,
        )


async def open_tab(
    session: TabOwner, hub: Hub, path: str, number: int, *, connect: bool = True, **options: Any
) -> AsyncTab:
    """Load a page in a new tab (labelled `session/number`) and, with `connect`, open its
    stream.

    Raises:
        UnexpectedResponse: the page GET did not return 200 HTML (§2.1).
        PageBootstrapError: the page has no tab id (`meta[data-signals]` with `via_tab`, §2.3).
    """
    tab = AsyncTab(session, hub, path, number, options.get("node"))
    if options.get("follow") is not None:  # else the client's option
        tab.follow_redirects = bool(options["follow"])
    await tab._load()
    if connect:
        await tab.connect()
    return tab
