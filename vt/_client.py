"""The async I/O shell: a client owns sessions, a session (a cookie jar) owns tabs.

    async with vt.AsyncClient("http://127.0.0.1:8000") as client:
        alice = await client.new_session("alice").open("/")
        bob = await client.new_session("bob").open("/")
        await bob.ready()
        await alice.action("Send", name="alice", draft="hello bob")
        await bob.expect_text("article", "alice: hello bob")

A session is one browser profile: its own cookie jar (which sends Via's `Secure` session cookie
to loopback over plain http, as browsers do), shared by its tabs. Tabs (`vt.AsyncTab`) hold
the page replicas and streams. The client holds the connection pool, the task group the
streams are read in, and the change event every wait listens to. The sync API
(`vt.Client`) runs this same code in a portal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import urljoin

import anyio
import anyio.abc

from . import _http
from ._dom import Element
from ._exceptions import UsageError
from ._tab import AsyncTab
from ._timeline import ActionRef
from ._waits import expect_all, expect_converged, expect_none

__all__ = ["AsyncClient", "AsyncSession"]

DEFAULT_TIMEOUT = 5.0


class ClientOptions(TypedDict, total=False):
    """The keyword options of `AsyncClient` (and of `Client`, which passes them on)."""

    timeout: float
    artifacts_dir: str | Path | None
    strict: bool
    accept_encoding: str


class AsyncClient:
    """A server under test and every session talking to it. Use as an async context manager.

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8000"``.
        timeout: default deadline, in seconds, of every wait and request.
        artifacts_dir: where transcripts and page snapshots go when a wait fails (a temporary
            directory when None).
        strict: when True (the default), a protocol error on a tab's stream (a malformed event,
            a cut-off event) makes the next wait on that tab raise it.
        accept_encoding: the `Accept-Encoding` of every request; ``"identity"`` unless a test
            is about compression (Via's brotli stream drops `: ready`, §5.6).
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
        self._change: anyio.Event | None = None
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

    def url(self, path: str) -> str:
        """An absolute URL for a path on the server."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url + "/", path.lstrip("/"))

    # -- fan-out assertions (one implementation: vt._waits) --------------------------------

    async def expect_all(
        self, tabs: Sequence[AsyncTab], selector: str, text: str, *, timeout: float | None = None
    ) -> list[Element]:
        """Wait until every tab shows `text` in an element matching `selector`; return, per
        tab, the first such element. A timeout names the tabs that never did."""
        return await expect_all(tabs, selector, text, timeout=timeout)

    async def expect_converged(
        self, tabs: Sequence[AsyncTab], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """Wait until every tab's replica has the same content in `selector` (compared in
        `canonical_html` form); return it. A timeout shows how the versions differ."""
        return await expect_converged(tabs, selector, timeout=timeout)

    async def expect_none(self, tabs: Sequence[AsyncTab], marker: str, window: float = 0.3) -> None:
        """Assert that no tab receives `marker` (in its stream's bytes or its page's text) for
        `window` seconds: the leak check. Waiting out the window is the assertion."""
        await expect_none(tabs, marker, window)

    # -- internal plumbing used by sessions and tabs ----------------------------------------------

    def _notify(self) -> None:
        # Streams notify on every chunk; an event is only made when a waiter asks for one.
        event, self._change = self._change, None
        if event is not None:
            event.set()

    def _changed(self) -> anyio.Event:
        """The event the next change sets (take it before checking a condition, so that no
        change between the check and the wait is missed)."""
        if self._change is None:
            self._change = anyio.Event()
        return self._change

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
        self.http = _http.session_client(
            client._transport,
            self.jar,
            headers={"Accept-Encoding": client.accept_encoding},
            timeout=client.timeout,
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
