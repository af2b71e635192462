"""The async I/O shell: a client owns sessions, a session (a cookie jar) owns tabs.

    async with vt.AsyncClient("http://127.0.0.1:8000") as client:
        alice = await client.new_session("alice").open("/")
        bob = await client.new_session("bob").open("/")
        await bob.ready()
        await alice.action("Send", name="alice", draft="hello bob")
        await bob.expect_text("article", "alice: hello bob")

A session is one browser profile: its own cookie jar (which sends Via's `Secure` session cookie
to loopback over plain http, as browsers do), shared by its tabs. Tabs (`vt.AsyncTab`) hold
the page replicas and streams; each session has its own connection pool (all share one TLS
context). The client holds the task group the streams are read in, in a `Hub` it hands down
to sessions and tabs (nothing below calls the client back). The sync API (`vt.Client`) runs
this same code in a portal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict

import anyio

from ..defaults import BEACON_TIMEOUT, HTTP_TIMEOUT, QUIET_WINDOW, WAIT_TIMEOUT
from ..errors import UsageError, WaitTimeout, hide_frames
from ..page.profile import ReadySignal, check_profile
from ..replica.dom import Element
from . import http as _http
from . import waits as _waits
from .hub import Hub, Settings
from .tab import AsyncTab, open_tab
from .timeline import ActionRef

__all__ = ["AsyncClient", "AsyncSession", "ClientOptions"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


class ClientOptions(TypedDict, total=False):
    """The keyword options of `AsyncClient` (and of `Client`, which passes them on)."""

    timeout: float
    http_timeout: float
    artifacts_dir: str | Path | None
    strict: bool
    accept_encoding: str
    follow_redirects: bool
    profile: str
    ready_signal: ReadySignal | None


class AsyncClient:
    """A server under test and every session talking to it. Use as an async context manager.

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8000"``; or the node URLs of a
            cluster (a list, or one string of URLs separated by commas or spaces): each new
            session is pinned to one node, round robin unless `new_session(node=...)` says
            which, and its tabs talk only to that node, as behind a load balancer with cookie
            affinity (specs/cluster.md §C7).
        timeout: default deadline, in seconds, of every wait (`expect_*`, `ready`,
            `wait_until`).
        http_timeout: seconds one HTTP request (page, action, beacon, stream connect) may
            take.
        artifacts_dir: where transcripts and page snapshots go when a wait fails; when None,
            nothing is saved and the failure message says so.
        strict: when True (the default), a protocol error on a tab's stream (a malformed event,
            a cut-off event) makes the next wait on that tab raise it.
        accept_encoding: the `Accept-Encoding` of every request; ``"identity"`` unless a test
            is about compression (Via's brotli stream drops `: ready`, §5.6).
        follow_redirects: when True (the default), a redirect script or a 303 answer is
            followed as a browser does: a new page load in the same tab (§6.4.3); each call
            that can navigate also takes `follow_redirects=`.
        profile: how pages are read: ``"auto"`` (Via's when the page carries `via_tab`,
            plain Datastar otherwise), ``"via"`` or ``"datastar"``; a session can override it.
        ready_signal: a plain Datastar app's own "subscribed" signal (`vt.ReadySignal`), which
            `ready()` then waits for on plain pages; without it, `ready()` on a plain page
            means every stream answered 200 `text/event-stream`.
    """

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        timeout: float = WAIT_TIMEOUT,
        http_timeout: float = HTTP_TIMEOUT,
        artifacts_dir: str | Path | None = None,
        strict: bool = True,
        accept_encoding: str = "identity",
        follow_redirects: bool = True,
        profile: str = "auto",
        ready_signal: ReadySignal | None = None,
    ) -> None:
        check_profile(profile)
        nodes = cluster_nodes(base_url)
        self.hub = Hub(
            Settings(
                base_url=nodes[0],
                nodes=nodes if len(nodes) > 1 else (),
                wait_timeout=timeout,
                http_timeout=http_timeout,
                artifacts_dir=Path(artifacts_dir) if artifacts_dir is not None else None,
                strict=strict,
                accept_encoding=accept_encoding,
                follow_redirects=follow_redirects,
                profile=profile,
                ready_signal=ready_signal,
            )
        )
        self.sessions: list[AsyncSession] = []
        self._next_node = 0
        self._entered = False
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncClient {self.base_url} sessions={len(self.sessions)}>"

    @property
    def base_url(self) -> str:
        """The server under test, without a trailing slash."""
        return self.hub.settings.base_url

    @property
    def nodes(self) -> tuple[str, ...]:
        """The node URLs: a cluster's, or the one server's."""
        return self.hub.settings.nodes or (self.hub.settings.base_url,)

    @property
    def timeout(self) -> float:
        """The default deadline of every wait, in seconds."""
        return self.hub.settings.wait_timeout

    @property
    def http_timeout(self) -> float:
        """Seconds one HTTP request may take."""
        return self.hub.settings.http_timeout

    @property
    def artifacts_dir(self) -> Path | None:
        """Where failed waits save transcripts (None: they are not saved)."""
        return self.hub.settings.artifacts_dir

    @property
    def strict(self) -> bool:
        """Whether a protocol error on a stream makes the next wait on that tab raise it."""
        return self.hub.settings.strict

    @property
    def accept_encoding(self) -> str:
        """The `Accept-Encoding` of every request."""
        return self.hub.settings.accept_encoding

    @property
    def last_action(self) -> ActionRef | None:
        """The last action fired from any tab of this client."""
        return self.hub.last_action

    async def __aenter__(self) -> AsyncClient:
        if self._entered or self._closed:
            raise UsageError("an AsyncClient can be entered once; make a new one")
        self._entered = True
        self.hub.tls = _http.new_tls_context()
        group = self.hub.task_group = anyio.create_task_group()
        await group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every session as a browser's exit does: each open Via tab sends its close beacon
        (§4.4; all at once, given `BEACON_TIMEOUT` in total, so a dead server cannot hang the
        exit), then every stream ends and every session's connections close."""
        if self._closed:
            return
        self._closed = True
        try:
            with anyio.CancelScope(shield=True):
                await close_sessions(self.sessions, beacon=True)
        finally:
            group = self.hub.task_group
            if group is not None:
                group.cancel_scope.cancel()
                await group.__aexit__(None, None, None)

    def new_session(
        self, name: str | None = None, *, profile: str | None = None, node: int | str | None = None
    ) -> AsyncSession:
        """A new session: its own cookie jar, like a separate browser profile.

        `name` labels its tabs in timelines and failure messages (default ``session1``...).
        `profile` (``auto``, ``via``, ``datastar``) overrides the client's for its tabs.
        `node` pins it to a cluster node (its 1-based number or its URL); by default the
        nodes take turns.
        """
        if self.hub.tls is None or self._closed:
            raise UsageError(
                "the client is not open; use `async with vt.AsyncClient(url) as client:`"
            )
        nodes = self.nodes
        if node is None:
            url = nodes[self._next_node % len(nodes)]
            self._next_node += 1
        else:
            url = pick_node(nodes, node)
        session = AsyncSession(self.hub, name or f"session{len(self.sessions) + 1}", profile)
        session.base_url = url
        self.sessions.append(session)
        return session

    async def open_tabs(
        self,
        count: int,
        path: str = "/",
        *,
        name: str = "user",
        ready: bool = True,
        concurrency: int = 64,
    ) -> list[AsyncTab]:
        """Open `count` sessions (`user1`, `user2`...) with one tab each on `path`.

        With `ready`, every stream is open and the server subscribed (`: ready`) on return.
        At most `concurrency` page loads and handshakes are in flight at once.
        """
        sessions = [self.new_session(f"{name}{i + 1}") for i in range(count)]
        tabs: list[AsyncTab | None] = [None] * count
        limiter = anyio.CapacityLimiter(concurrency)

        async def one(index: int) -> None:
            async with limiter:
                tab = await sessions[index].open(path)
                if ready:
                    await tab.ready()
                tabs[index] = tab

        async with anyio.create_task_group() as group:
            for index in range(count):
                group.start_soon(one, index)
        return [tab for tab in tabs if tab is not None]

    @property
    def tabs(self) -> list[AsyncTab]:
        """Every tab of every session, in creation order."""
        return [tab for session in self.sessions for tab in session.tabs]

    @property
    def url(self) -> str:
        """The server under test, as a string (the same as `base_url`; a string as
        Playwright's `page.url` and pytest-base-url's `base_url` are). `url_of(path)` makes an
        absolute URL of a path."""
        return self.hub.settings.base_url

    def url_of(self, path: str) -> str:
        """An absolute URL for a path on the server."""
        return self.hub.url(path)

    # -- fan-out assertions (one implementation: vt.client.waits) --------------------------------

    async def expect_all(
        self,
        tabs: Sequence[AsyncTab],
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> list[Element]:
        """Wait until every tab shows `text` in an element matching `selector` (with `exact`:
        as the element's whole text); return, per tab, the first such element. A timeout names
        the tabs that never did."""
        return await _waits.expect_all(tabs, selector, text, exact=exact, timeout=timeout)

    async def expect_converged(
        self, tabs: Sequence[AsyncTab], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """Wait until every tab's replica has the same content in `selector` (compared in
        `canonical_html` form); return it. A timeout shows how the versions differ."""
        return await _waits.expect_converged(tabs, selector, timeout=timeout)

    async def expect_none(
        self, tabs: Sequence[AsyncTab], marker: str, window: float = QUIET_WINDOW
    ) -> None:
        """The leak check: assert that no tab has `marker` — not on its page, not in its
        stream's bytes since the client's last action, and not in what arrives for `window`
        seconds (waiting out the window is part of the assertion).

        Raises:
            Leak: some tab has it (also an `AssertionError`); the message names the tabs.
        """
        await _waits.expect_none(tabs, marker, window)


class AsyncSession:
    """One browser session: a cookie jar shared by its tabs. Made by `AsyncClient.new_session`."""

    def __init__(self, hub: Hub, name: str, profile: str | None = None) -> None:
        self.hub = hub
        self.name = name
        self.profile = check_profile(profile or hub.settings.profile)  # read by its tabs
        self.tabs: list[AsyncTab] = []
        self.base_url = hub.settings.base_url  # the node it is pinned to (a cluster's)
        self.jar = _http.loopback_cookie_jar()
        if hub.tls is None:
            raise UsageError("the client is not open")
        # One httpx client per session: its cookie jar and its own connection pool, closed by
        # `aclose` (see `_http.session_client` for why the pool is not shared).
        self.http = _http.session_client(
            hub.tls,
            self.jar,
            headers={"Accept-Encoding": hub.settings.accept_encoding},
            timeout=hub.settings.http_timeout,
        )
        self.closed = False

    def __repr__(self) -> str:
        return f"<AsyncSession {self.name} tabs={len(self.tabs)}>"

    @property
    def cookies(self) -> dict[str, str]:
        """The session's cookies, name to value."""
        return {c.name: c.value or "" for c in self.jar}

    async def open(
        self,
        path: str = "/",
        *,
        connect: bool = True,
        follow_redirects: bool | None = None,
        node: int | str | None = None,
    ) -> AsyncTab:
        """Load a page in a new tab, as a browser would, and (unless `connect=False`) open its
        stream. Does not wait for the stream's `: ready`; call `ready()` for that.
        `follow_redirects` (default: the client's option) sets whether the page GET's
        redirects, and the tab's later redirect scripts, are followed. `node` pins this tab
        to another cluster node than its session's (1-based number or URL), with the
        session's cookies: one session's tabs on two nodes.

        Raises:
            UnexpectedResponse: the page GET did not return 200 HTML.
            PageBootstrapError: read as Via's (profile ``via``), the page has no tab id
                (`meta[data-signals]` with `via_tab`).
        """
        if self.closed:
            raise UsageError(f"session {self.name} is closed")
        pinned = None if node is None else pick_node(self.hub.settings.nodes or (), node)
        tab = await open_tab(
            self,
            self.hub,
            path,
            len(self.tabs) + 1,
            connect=False,
            follow=follow_redirects,
            node=pinned,
        )
        self.tabs.append(tab)
        if connect:
            await tab.connect()
        return tab

    async def request(self, method: str, path: str, /, **kwargs: Any) -> _http.HTTPResponse:
        """A plain HTTP request with this session's cookies (for probes such as `/readyz`).

        Raises:
            WaitTimeout: the response (status and whole body) did not arrive within the wait
                deadline.
        """
        limit = self.hub.settings.wait_timeout
        with anyio.move_on_after(limit):
            return await self.http.request(method, self.hub.url(path, self.base_url), **kwargs)
        raise WaitTimeout(f"{method} {path} was not answered in full within {limit:g}s")

    def pin(self, node: int | str) -> None:
        """Move the session to another node (1-based number or URL), as a load balancer does
        when its node dies: its tabs' next requests go there (reload them to re-open)."""
        self.base_url = pick_node(self.hub.settings.nodes or (self.base_url,), node)

    async def aclose(self, *, beacon: bool = False) -> None:
        """End every tab's stream and close the session's connections.

        With `beacon`, each open tab first sends its close beacon (§4.4), as when a browser
        closes; without, the session ends as a crashed browser's would.
        """
        await close_sessions([self], beacon=beacon)


def cluster_nodes(base_url: str | Sequence[str]) -> tuple[str, ...]:
    """The node URLs of `base_url`: one URL, a list, or URLs separated by commas or spaces."""
    items = base_url.replace(",", " ").split() if isinstance(base_url, str) else list(base_url)
    nodes = tuple(str(item).rstrip("/") for item in items if str(item).strip())
    if not nodes:
        raise UsageError("no server URL given")
    return nodes


def pick_node(nodes: Sequence[str], node: int | str) -> str:
    """The URL of node `node` (1-based number, or a URL of the list)."""
    if isinstance(node, int):
        if not 1 <= node <= len(nodes):
            raise UsageError(f"node {node}: the cluster has nodes 1..{len(nodes)}")
        return nodes[node - 1]
    url = node.rstrip("/")
    if url not in nodes:
        raise UsageError(f"node {url!r} is not one of {list(nodes)}")
    return url


async def close_sessions(sessions: Sequence[AsyncSession], *, beacon: bool) -> None:
    """Close `sessions`: with `beacon`, their open Via tabs' close beacons first (a plain
    Datastar page has none), all concurrently and within `BEACON_TIMEOUT` in total (a beacon
    not answered by then is recorded on its tab's timeline); then their streams and
    connections."""
    if beacon:
        with anyio.move_on_after(BEACON_TIMEOUT):
            async with anyio.create_task_group() as group:
                for session in sessions:
                    if not session.closed:
                        for tab in session.tabs:
                            if tab.profile != "datastar":
                                group.start_soon(tab.send_beacon)
    for session in sessions:
        if session.closed:
            continue
        session.closed = True
        for tab in session.tabs:
            await tab.drop()
        await session.http.aclose()
