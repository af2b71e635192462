"""The sync API: the async classes run in a background event loop (an anyio blocking portal).

Every sync member is made from the async member of the same name by `vt.sync.twin`'s one
wrapper (`twin`) and every property by its one descriptor (`Snapshot`); no logic lives here,
so sync and async behave identically, with the async signatures (a test checks that each
public async member has its twin, with the same parameters).

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

import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, Unpack, cast

from ..client.client import AsyncClient, AsyncSession, ClientOptions
from ..client.tab import AsyncTab, ResponseInfo
from ..client.timeline import ActionRef, Timeline
from ..errors import ProtocolError, UsageError, hide_frames
from ..replica.dom import Document, Element, Script
from ..replica.signals import Signals
from ..replica.tree import copy_subtree
from ..scenario.runner import ScenarioRun, run_scenario
from ..wire.events import EventLog, StreamItem
from .twin import Closing, Snapshot, Twin, blocking, blocking_as, direct, start_loop

__all__ = ["Client", "Session", "Tab", "with_async_tabs"]

R = TypeVar("R")

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


class _ClientTwin(Twin):
    """The client family's snapshots: twins for tabs and sessions, copies of whatever the
    loop keeps changing (documents, an element's subtree, signals, timelines, event logs)."""

    __slots__ = ()

    def _snapshot(self, value: Any) -> Any:
        if isinstance(value, AsyncTab):
            return self._twin(Tab, value)
        if isinstance(value, AsyncSession):
            return self._twin(Session, value)
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
        if isinstance(value, ScenarioRun):
            tabs = {name: self._snapshot(tab) for name, tab in value.tabs.items()}
            return dataclasses.replace(value, tabs=tabs, steps=list(value.steps))
        return super()._snapshot(value)


def with_async_tabs(
    tabs: Mapping[str, Tab], fn: Callable[[dict[str, AsyncTab]], Coroutine[Any, Any, R]]
) -> R:
    """Call `fn` with the async twins of the sync `tabs` (name -> tab), on their event loop,
    and return what it returns (as is: no snapshot). For work that must read tabs where their
    streams are written, such as taking goldens once the streams are quiet (`vt_golden`)."""
    if not tabs:
        raise UsageError("no tabs given")
    first = next(iter(tabs.values()))
    twins = {name: tab._async for name, tab in tabs.items()}
    return cast(R, first._portal.call(fn, twins))


class Tab(_ClientTwin):
    """The sync twin of `AsyncTab`: one page load, its replica, stream and timeline."""

    _async: AsyncTab

    def __repr__(self) -> str:
        return f"<Tab {self._async.label} {self._async.id_or_none!r}>"

    connect = blocking(AsyncTab.connect)
    ready = blocking(AsyncTab.ready)
    drop = blocking(AsyncTab.drop)
    stall = blocking(AsyncTab.stall)
    resume = blocking(AsyncTab.resume)
    reconnect = blocking(AsyncTab.reconnect)
    action = blocking(AsyncTab.action)
    post = blocking(AsyncTab.post)
    get = blocking(AsyncTab.get)
    put = blocking(AsyncTab.put)
    patch = blocking(AsyncTab.patch)
    delete = blocking(AsyncTab.delete)
    fetch = blocking(AsyncTab.fetch)
    upload = blocking(AsyncTab.upload)
    click = blocking(AsyncTab.click)
    press = blocking(AsyncTab.press)
    type = blocking(AsyncTab.type)
    fill = blocking(AsyncTab.fill)
    check = blocking(AsyncTab.check)
    uncheck = blocking(AsyncTab.uncheck)
    select_option = blocking(AsyncTab.select_option)
    submit = blocking(AsyncTab.submit)
    focus = blocking(AsyncTab.focus)
    blur = blocking(AsyncTab.blur)
    hover = blocking(AsyncTab.hover)
    close = blocking(AsyncTab.close)
    reload = blocking(AsyncTab.reload)
    goto = blocking(AsyncTab.goto)
    send_beacon = blocking(AsyncTab.send_beacon)
    fork = blocking_as(lambda: Tab)(AsyncTab.fork)
    expect_text = blocking(AsyncTab.expect_text)
    expect_signal = blocking(AsyncTab.expect_signal)
    expect_event = blocking(AsyncTab.expect_event)
    expect_console = blocking(AsyncTab.expect_console)
    expect_script = blocking(AsyncTab.expect_script)
    expect_quiet = blocking(AsyncTab.expect_quiet)
    wait_until = blocking(AsyncTab.wait_until)
    wait_for_url = blocking(AsyncTab.wait_for_url)
    select = direct(AsyncTab.select)
    select_one = direct(AsyncTab.select_one)
    text = direct(AsyncTab.text)
    apply = direct(AsyncTab.apply)
    save_artifacts = direct(AsyncTab.save_artifacts)
    url_of = direct(AsyncTab.url_of)

    id = Snapshot[str]("id")
    id_or_none = Snapshot[str | None]("id_or_none")
    document = Snapshot[Document]("document")
    signals = Snapshot[Signals]("signals")
    console = Snapshot[list[str]]("console")
    scripts = Snapshot[list[Script]]("scripts")
    transcript = Snapshot[bytes]("transcript")
    page_url = Snapshot[str]("page_url")
    base_url = Snapshot[str]("base_url")
    label = Snapshot[str]("label")
    path = Snapshot[str]("path")
    connected = Snapshot[bool]("connected")
    busy = Snapshot[int]("busy")
    closed = Snapshot[bool]("closed")
    follow_redirects = Snapshot[bool]("follow_redirects")
    profile = Snapshot[str]("profile")
    session = Snapshot["Session"]("session")
    responses = Snapshot[list[ResponseInfo]]("responses")
    events = Snapshot[list[StreamItem]]("events")
    protocol_errors = Snapshot[list[ProtocolError]]("protocol_errors")
    timeline = Snapshot[Timeline]("timeline")
    page_html = Snapshot[str]("page_html")


class Session(_ClientTwin):
    """The sync twin of `AsyncSession`: one cookie jar and its tabs."""

    _async: AsyncSession

    def __repr__(self) -> str:
        return f"<Session {self._async.name}>"

    open = blocking_as(lambda: Tab)(AsyncSession.open)
    request = blocking(AsyncSession.request)
    close = blocking(AsyncSession.aclose)

    def pin(self, node: int | str) -> None:
        """Move the session to another cluster node; see `AsyncSession.pin`."""
        self._async.pin(node)

    name = Snapshot[str]("name")
    base_url = Snapshot[str]("base_url")
    cookies = Snapshot[dict[str, str]]("cookies")
    tabs = Snapshot[list[Tab]]("tabs")


class Client(_ClientTwin, Closing):
    """The sync twin of `AsyncClient`; takes the same arguments. Use as a context manager."""

    _async: AsyncClient

    def __init__(self, base_url: str | Sequence[str], **options: Unpack[ClientOptions]) -> None:
        self._stack = ExitStack()
        portal, loop = start_loop(self._stack)
        super().__init__(portal, loop, AsyncClient(base_url, **options))
        try:
            self._stack.enter_context(self._portal.wrap_async_context_manager(self._async))
        except BaseException:
            self._stack.close()
            raise
        self._closed = False

    def __repr__(self) -> str:
        return f"<Client {self._async.base_url}>"

    def close(self) -> None:
        """End every stream, close the pool and stop the background loop."""
        if not self._closed:
            self._closed = True
            self._stack.close()

    def new_session(
        self, name: str | None = None, *, profile: str | None = None, node: int | str | None = None
    ) -> Session:
        """A new session (its own cookie jar); see `AsyncClient.new_session`."""
        if self._closed:
            raise UsageError("the client is closed; make a new vt.Client")
        made = partial(self._async.new_session, name, profile=profile, node=node)
        return cast(Session, self._run(made, False))

    open_tabs = blocking_as(lambda: list[Tab])(AsyncClient.open_tabs)
    expect_all = blocking(AsyncClient.expect_all)
    expect_converged = blocking(AsyncClient.expect_converged)
    expect_none = blocking(AsyncClient.expect_none)
    url_of = direct(AsyncClient.url_of)

    url = Snapshot[str]("url")
    base_url = Snapshot[str]("base_url")
    nodes = Snapshot[tuple[str, ...]]("nodes")
    timeout = Snapshot[float]("timeout")
    http_timeout = Snapshot[float]("http_timeout")
    artifacts_dir = Snapshot[Path | None]("artifacts_dir")
    strict = Snapshot[bool]("strict")
    accept_encoding = Snapshot[str]("accept_encoding")
    last_action = Snapshot[ActionRef | None]("last_action")
    tabs = Snapshot[list[Tab]]("tabs")
    sessions = Snapshot[list[Session]]("sessions")
    run_scenario = blocking(run_scenario)
