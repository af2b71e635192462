"""The sync API: the async classes run in a background event loop (an anyio blocking portal).

Each sync method is the async method of the same name, called through the portal; no logic
lives here, so sync and async behave identically. Objects that the loop keeps changing (the
page replica, the signals) are handed out as copies taken inside the loop, so a test thread
never reads a tree while the loop thread writes it.

    with vt.Client("http://127.0.0.1:8000") as client:
        bob = client.new_session("bob").open("/")
        bob.ready()
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager, ExitStack
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, Unpack

from anyio.from_thread import BlockingPortal, start_blocking_portal

from ._client import AsyncClient, AsyncSession, ClientOptions
from ._dom import Document, Element, Script
from ._events import Event, StreamItem
from ._exceptions import ProtocolError, UsageError
from ._runner import run_scenario
from ._signals import Signals
from ._tab import AsyncTab, ResponseInfo
from ._timeline import Timeline

__all__ = ["Client", "Session", "Tab"]

P = ParamSpec("P")
R = TypeVar("R")


class _Proxy:
    """A sync twin of one async object, bound to the portal that runs it."""

    __slots__ = ("_async", "_portal")

    def __init__(self, portal: BlockingPortal, target: Any) -> None:
        self._portal = portal
        self._async = target

    def _read(self, fn: Callable[[], R]) -> R:
        """Run a (sync) read in the loop thread, so it sees a consistent state."""
        return self._portal.call(fn)


def _unwrap(value: Any) -> Any:
    """A sync twin's async object (also inside a list or tuple), so that sync tabs can be
    passed where the async method takes async ones."""
    if isinstance(value, _Proxy):
        return value._async
    if isinstance(value, list | tuple) and any(isinstance(v, _Proxy) for v in value):
        return type(value)(_unwrap(v) for v in value)
    return value


def _blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[_Proxy, P], R]:
    """Make the sync twin of an async method: same arguments, same result, blocking."""

    def call(self: _Proxy, /, *args: P.args, **kwargs: P.kwargs) -> R:
        args_ = [_unwrap(a) for a in args]
        kwargs_ = {k: _unwrap(v) for k, v in kwargs.items()}
        result: R = self._portal.call(partial(method, self._async, *args_, **kwargs_))
        return result

    call.__name__ = method.__name__
    call.__qualname__ = method.__qualname__
    call.__doc__ = method.__doc__
    return call


class Tab(_Proxy):
    """The sync twin of `AsyncTab`: one page load, its replica, stream and timeline."""

    _async: AsyncTab

    def __repr__(self) -> str:
        return f"<Tab {self._async.label} {self._async.id_or_none!r}>"

    connect = _blocking(AsyncTab.connect)
    ready = _blocking(AsyncTab.ready)
    drop = _blocking(AsyncTab.drop)
    reconnect = _blocking(AsyncTab.reconnect)
    action = _blocking(AsyncTab.action)
    post = _blocking(AsyncTab.post)
    fetch = _blocking(AsyncTab.fetch)
    upload = _blocking(AsyncTab.upload)
    click = _blocking(AsyncTab.click)
    press = _blocking(AsyncTab.press)
    type = _blocking(AsyncTab.type)
    close = _blocking(AsyncTab.close)
    reload = _blocking(AsyncTab.reload)
    expect_text = _blocking(AsyncTab.expect_text)
    expect_signal = _blocking(AsyncTab.expect_signal)
    expect_event = _blocking(AsyncTab.expect_event)
    expect_console = _blocking(AsyncTab.expect_console)
    expect_script = _blocking(AsyncTab.expect_script)
    expect_quiet = _blocking(AsyncTab.expect_quiet)
    wait_until = _blocking(AsyncTab.wait_until)

    def fork(self, path: str | None = None) -> Tab:
        """Open another tab in the same session."""
        return Tab(self._portal, self._portal.call(self._async.fork, path))

    @property
    def label(self) -> str:
        """`session/number`, as in failure messages."""
        return self._async.label

    @property
    def id(self) -> str:
        """The current tab id (`via_tab`)."""
        return self._read(lambda: self._async.id)

    @property
    def connected(self) -> bool:
        """True while the stream is open."""
        return self._async.connected

    @property
    def session(self) -> Session:
        """The session (cookie jar) this tab belongs to."""
        return Session(self._portal, self._async.session)

    @property
    def responses(self) -> list[ResponseInfo]:
        """Status and headers of every request the tab made, in order."""
        return self._read(lambda: list(self._async.responses))

    @property
    def signals(self) -> Signals:
        """A snapshot of the tab's signals."""
        return self._read(lambda: Signals(self._async.signals.to_dict()))

    @property
    def document(self) -> Document:
        """A snapshot of the page replica."""
        return self._read(lambda: self._async.document.copy())

    @property
    def events(self) -> list[StreamItem]:
        """Every event and comment received so far."""
        return self._read(lambda: list(self._async.events))

    @property
    def scripts(self) -> list[Script]:
        """Every script patches put into the page."""
        return self._read(lambda: list(self._async.scripts))

    @property
    def console(self) -> list[str]:
        """What a browser console would show (missing patch targets and the like)."""
        return self._read(lambda: list(self._async.console))

    @property
    def protocol_errors(self) -> list[ProtocolError]:
        """Protocol errors seen on this tab's streams."""
        return self._read(lambda: list(self._async.protocol_errors))

    @property
    def timeline(self) -> Timeline:
        """The tab's timeline (a copy)."""

        return self._read(self._async.timeline.copy)

    @property
    def transcript(self) -> bytes:
        """Raw bytes of the current (or last) stream."""
        return self._read(lambda: self._async.transcript)

    @property
    def page_html(self) -> str:
        """The page GET's HTML."""
        return self._async.page_html

    def text(self, selector: str = "body") -> str:
        """Normalised text of the elements matching `selector`."""
        return self._read(lambda: self._async.text(selector))

    def select(self, selector: str) -> list[Element]:
        """Elements matching a CSS selector, from a snapshot of the replica."""
        return self.document.select(selector)

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, from a snapshot of the replica."""
        return self.document.select_one(selector)

    def apply(self, event: Event, *, note: str = "") -> None:
        """Apply one event to the replica as the browser would, and record it."""
        self._read(lambda: self._async.apply(event, note=note))

    def save_artifacts(self) -> Path:
        """Write the transcript and page snapshot; return the transcript's path."""
        return self._read(self._async.save_artifacts)


class Session(_Proxy):
    """The sync twin of `AsyncSession`: one cookie jar and its tabs."""

    _async: AsyncSession

    def __repr__(self) -> str:
        return f"<Session {self._async.name}>"

    def open(self, path: str = "/", *, connect: bool = True) -> Tab:
        """Load a page in a new tab and (unless `connect=False`) open its stream."""
        return Tab(
            self._portal, self._portal.call(partial(self._async.open, path, connect=connect))
        )

    @property
    def name(self) -> str:
        """The session's label."""
        return self._async.name

    @property
    def cookies(self) -> dict[str, str]:
        """The session's cookies."""
        return self._read(lambda: self._async.cookies)

    request = _blocking(AsyncSession.request)


class Client(_Proxy, AbstractContextManager["Client"]):
    """The sync twin of `AsyncClient`; takes the same arguments. Use as a context manager."""

    _async: AsyncClient

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        self._stack = ExitStack()
        portal = self._stack.enter_context(start_blocking_portal())
        super().__init__(portal, AsyncClient(base_url, **options))
        try:
            self._stack.enter_context(self._portal.wrap_async_context_manager(self._async))
        except BaseException:
            self._stack.close()
            raise
        self._closed = False

    def __repr__(self) -> str:
        return f"<Client {self._async.base_url}>"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End every stream, close the pool and stop the background loop."""
        if not self._closed:
            self._closed = True
            self._stack.close()

    @property
    def base_url(self) -> str:
        """The server under test."""
        return self._async.base_url

    @property
    def timeout(self) -> float:
        """The default deadline of waits and requests."""
        return self._async.timeout

    def url(self, path: str) -> str:
        """An absolute URL for a path on the server."""
        return self._async.url(path)

    @property
    def tabs(self) -> list[Tab]:
        """Every tab of every session, in creation order."""
        return [Tab(self._portal, tab) for tab in self._read(lambda: self._async.tabs)]

    def new_session(self, name: str | None = None) -> Session:
        """A new session (its own cookie jar)."""
        if self._closed:
            raise UsageError("the client is closed; make a new vt.Client")
        return Session(self._portal, self._portal.call(self._async.new_session, name))

    def open_tabs(
        self,
        count: int,
        path: str = "/",
        *,
        name: str = "user",
        ready: bool = True,
        concurrency: int = 64,
    ) -> list[Tab]:
        """Open `count` sessions with one tab each (see `AsyncClient.open_tabs`)."""
        tabs = self._portal.call(
            partial(
                self._async.open_tabs, count, path, name=name, ready=ready, concurrency=concurrency
            )
        )
        return [Tab(self._portal, tab) for tab in tabs]

    expect_all = _blocking(AsyncClient.expect_all)
    expect_converged = _blocking(AsyncClient.expect_converged)
    expect_none = _blocking(AsyncClient.expect_none)
    run_scenario = _blocking(run_scenario)
