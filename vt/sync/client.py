"""The sync API: the async classes run in a background event loop (an anyio blocking portal).

Every sync member is made from the async member of the same name by one wrapper (`_twin`)
and every property by one snapshot helper (`_Snapshot`); no logic lives here, so sync and
async behave identically, with the async signatures (a test checks that each public async
member has its twin, with the same parameters).

* A call from the test thread runs in the loop thread, through the portal. A call that
  arrives on the loop thread itself — a sync tab read inside a `wait_until` or `expect_*`
  condition — runs directly (the portal would refuse it).
* What a call returns is handed over as a snapshot taken in the loop thread: returned async
  tabs and sessions (also in lists) become their sync twins; documents, elements, signals and
  timelines are copies, so the test thread never reads a tree the loop thread writes. An
  element is copied alone (its subtree), never the whole document.

    with vt.Client("http://127.0.0.1:8000") as client:
        bob = client.new_session("bob").open("/")
        bob.ready()
        bob.wait_until(lambda: "hi" in bob.text("p"), description="say hi")
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager, ExitStack
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, Unpack, cast

from anyio.from_thread import BlockingPortal, start_blocking_portal

from ..client.client import AsyncClient, AsyncSession, ClientOptions
from ..client.tab import AsyncTab, ResponseInfo
from ..client.timeline import ActionRef, Timeline
from ..errors import ProtocolError, UsageError
from ..replica.dom import Document, Element, Script
from ..replica.signals import Signals
from ..replica.tree import copy_subtree
from ..scenario.runner import run_scenario
from ..wire.events import EventLog, StreamItem

__all__ = ["Client", "Session", "Tab"]

P = ParamSpec("P")
R = TypeVar("R")


class _Proxy:
    """A sync twin of one async object, bound to the portal (and loop thread) that runs it."""

    __slots__ = ("_async", "_loop", "_portal")

    def __init__(self, portal: BlockingPortal, loop: int, target: Any) -> None:
        self._portal = portal
        self._loop = loop  # the loop thread's ident
        self._async = target

    def _run(self, fn: Callable[[], Any], coroutine: bool) -> Any:
        """Run `fn` in the loop thread and snapshot its result for the caller."""
        if threading.get_ident() == self._loop:
            if coroutine:
                raise UsageError(
                    "a blocking vt call cannot run inside the event loop (in a wait's "
                    "condition, say); read the tab there, act outside"
                )
            return _snapshot(fn(), self)
        if coroutine:
            return self._portal.call(_finish, fn, self)
        return self._portal.call(lambda: _snapshot(fn(), self))


async def _finish(fn: Callable[[], Coroutine[Any, Any, Any]], proxy: _Proxy) -> Any:
    return _snapshot(await fn(), proxy)


def _snapshot(value: Any, proxy: _Proxy) -> Any:
    """A value as the test thread may hold it: twins for async objects, copies of whatever
    the loop keeps changing. Runs in the loop thread."""
    if isinstance(value, AsyncTab):
        return Tab(proxy._portal, proxy._loop, value)
    if isinstance(value, AsyncSession):
        return Session(proxy._portal, proxy._loop, value)
    if isinstance(value, Element):
        return Element(copy_subtree(value._el))  # its subtree only: never the whole document
    if isinstance(value, Document):
        return value.copy()
    if isinstance(value, Signals):
        return Signals(value.to_dict())
    if isinstance(value, Timeline):
        return value.copy()
    if isinstance(value, EventLog):
        return list(value)
    if isinstance(value, list | tuple):
        return type(value)(_snapshot(v, proxy) for v in value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _unwrap(value: Any) -> Any:
    """A sync twin's async object (also inside a list or tuple), so that sync tabs can be
    passed where the async method takes async ones."""
    if isinstance(value, _Proxy):
        return value._async
    if isinstance(value, list | tuple) and any(isinstance(v, _Proxy) for v in value):
        return type(value)(_unwrap(v) for v in value)
    return value


def _twin(method: Callable[..., Any]) -> Callable[..., Any]:
    """The one wrapper: the sync twin of a method of an async class (async or not)."""
    coroutine = inspect.iscoroutinefunction(method)

    def call(self: _Proxy, /, *args: Any, **kwargs: Any) -> Any:
        args_ = [_unwrap(a) for a in args]
        kwargs_ = {k: _unwrap(v) for k, v in kwargs.items()}
        return self._run(partial(method, self._async, *args_, **kwargs_), coroutine)

    call.__name__ = method.__name__
    call.__qualname__ = method.__qualname__
    call.__doc__ = method.__doc__
    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=inspect.Signature.empty
    )
    return call


# Typed faces of `_twin` (the result type is what mypy cannot work out from the async one).


def _blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Any, P], R]:
    return _twin(method)


def _direct(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    return _twin(method)


def _blocking_tab(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, AsyncTab]],
) -> Callable[Concatenate[Any, P], Tab]:
    return _twin(method)


def _blocking_tabs(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, list[AsyncTab]]],
) -> Callable[Concatenate[Any, P], list[Tab]]:
    return _twin(method)


def _direct_session(
    method: Callable[Concatenate[Any, P], AsyncSession],
) -> Callable[Concatenate[Any, P], Session]:
    return _twin(method)


class _Snapshot(Generic[R]):
    """The one snapshot helper: a property (or attribute) of the async object, read in the
    loop thread and handed over as a snapshot."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.__doc__ = f"The async object's `{name}`, as a snapshot."

    def __get__(self, proxy: _Proxy | None, owner: type | None = None) -> R:
        if proxy is None:
            return cast(R, self)
        target, name = proxy._async, self.name
        return cast(R, proxy._run(lambda: getattr(target, name), False))


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
    get = _blocking(AsyncTab.get)
    put = _blocking(AsyncTab.put)
    patch = _blocking(AsyncTab.patch)
    delete = _blocking(AsyncTab.delete)
    fetch = _blocking(AsyncTab.fetch)
    upload = _blocking(AsyncTab.upload)
    click = _blocking(AsyncTab.click)
    press = _blocking(AsyncTab.press)
    type = _blocking(AsyncTab.type)
    fill = _blocking(AsyncTab.fill)
    check = _blocking(AsyncTab.check)
    uncheck = _blocking(AsyncTab.uncheck)
    select_option = _blocking(AsyncTab.select_option)
    submit = _blocking(AsyncTab.submit)
    focus = _blocking(AsyncTab.focus)
    blur = _blocking(AsyncTab.blur)
    hover = _blocking(AsyncTab.hover)
    close = _blocking(AsyncTab.close)
    reload = _blocking(AsyncTab.reload)
    goto = _blocking(AsyncTab.goto)
    send_beacon = _blocking(AsyncTab.send_beacon)
    fork = _blocking_tab(AsyncTab.fork)
    expect_text = _blocking(AsyncTab.expect_text)
    expect_signal = _blocking(AsyncTab.expect_signal)
    expect_event = _blocking(AsyncTab.expect_event)
    expect_console = _blocking(AsyncTab.expect_console)
    expect_script = _blocking(AsyncTab.expect_script)
    expect_quiet = _blocking(AsyncTab.expect_quiet)
    wait_until = _blocking(AsyncTab.wait_until)
    select = _direct(AsyncTab.select)
    select_one = _direct(AsyncTab.select_one)
    text = _direct(AsyncTab.text)
    apply = _direct(AsyncTab.apply)
    save_artifacts = _direct(AsyncTab.save_artifacts)

    id = _Snapshot[str]("id")
    id_or_none = _Snapshot[str | None]("id_or_none")
    document = _Snapshot[Document]("document")
    signals = _Snapshot[Signals]("signals")
    console = _Snapshot[list[str]]("console")
    scripts = _Snapshot[list[Script]]("scripts")
    transcript = _Snapshot[bytes]("transcript")
    page_url = _Snapshot[str]("page_url")
    label = _Snapshot[str]("label")
    path = _Snapshot[str]("path")
    connected = _Snapshot[bool]("connected")
    busy = _Snapshot[int]("busy")
    closed = _Snapshot[bool]("closed")
    follow_redirects = _Snapshot[bool]("follow_redirects")
    profile = _Snapshot[str]("profile")
    session = _Snapshot["Session"]("session")
    responses = _Snapshot[list[ResponseInfo]]("responses")
    events = _Snapshot[list[StreamItem]]("events")
    protocol_errors = _Snapshot[list[ProtocolError]]("protocol_errors")
    timeline = _Snapshot[Timeline]("timeline")
    page_html = _Snapshot[str]("page_html")


class Session(_Proxy):
    """The sync twin of `AsyncSession`: one cookie jar and its tabs."""

    _async: AsyncSession

    def __repr__(self) -> str:
        return f"<Session {self._async.name}>"

    open = _blocking_tab(AsyncSession.open)
    request = _blocking(AsyncSession.request)
    close = _blocking(AsyncSession.aclose)

    name = _Snapshot[str]("name")
    cookies = _Snapshot[dict[str, str]]("cookies")
    tabs = _Snapshot[list[Tab]]("tabs")


class Client(_Proxy, AbstractContextManager["Client"]):
    """The sync twin of `AsyncClient`; takes the same arguments. Use as a context manager."""

    _async: AsyncClient

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        self._stack = ExitStack()
        portal = self._stack.enter_context(start_blocking_portal())
        super().__init__(portal, portal.call(threading.get_ident), AsyncClient(base_url, **options))
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

    def new_session(self, name: str | None = None, *, profile: str | None = None) -> Session:
        """A new session (its own cookie jar); see `AsyncClient.new_session`."""
        if self._closed:
            raise UsageError("the client is closed; make a new vt.Client")
        return cast(
            Session, self._run(partial(self._async.new_session, name, profile=profile), False)
        )

    open_tabs = _blocking_tabs(AsyncClient.open_tabs)
    expect_all = _blocking(AsyncClient.expect_all)
    expect_converged = _blocking(AsyncClient.expect_converged)
    expect_none = _blocking(AsyncClient.expect_none)
    url = _direct(AsyncClient.url)

    base_url = _Snapshot[str]("base_url")
    timeout = _Snapshot[float]("timeout")
    http_timeout = _Snapshot[float]("http_timeout")
    artifacts_dir = _Snapshot[Path | None]("artifacts_dir")
    strict = _Snapshot[bool]("strict")
    accept_encoding = _Snapshot[str]("accept_encoding")
    last_action = _Snapshot[ActionRef | None]("last_action")
    tabs = _Snapshot[list[Tab]]("tabs")
    sessions = _Snapshot[list[Session]]("sessions")
    run_scenario = _blocking(run_scenario)
