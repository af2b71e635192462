"""The sync API of real browsers: users that open, type, press, click and look.

vt's HTTP client replays what Datastar would do; this checks what a person gets: a real
Chromium runs the page's own Datastar client against the server under test. Everything here
is a generated twin (`vt.sync.twin`, as `vt.Client` is made) of the one async driver,
`vt.browser.driver.BrowserDriver`, running in the loop of a `Chromium`:

    with Chromium() as chromium, BrowserUsers(chromium, server_url) as users:
        a, b = users.open_many(2, "/")                 # each page's event stream is open
        a.type("input[placeholder^=message]", "hello")
        a.press("input[placeholder^=message]", "Enter")
        b.expect_text("article", "hello", timeout=2)   # waits on the page as a person sees it

In pytest, the `vt_browser_users` fixture (`vt.pytest.browser_plugin`) builds this on the
worker's one Chromium (`vt_browser`) and the server under test, fails the test on console
errors, and writes a trace, a screenshot and the SSE frames of each user when the test fails.

`BrowserUser.page` (and any Playwright object a call returns) is Playwright's async object
behind a `PlaywrightTwin`: its methods are called from the test thread as sync ones
(`user.page.evaluate("1 + 1")`, `user.page.keyboard.type("x")`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack
from functools import partial
from typing import Any, TypeVar

from playwright.async_api import Browser

from ..defaults import WAIT_TIMEOUT
from ..errors import BrowserErrors
from ..sync.twin import (
    Closing,
    Snapshot,
    Twin,
    blocking,
    blocking_as,
    call_in_loop,
    direct,
    start_loop,
)
from .chromium import launch
from .driver import BrowserDriver
from .record import PageMessage
from .session import BrowserSession
from .tab import BrowserTab

__all__ = [
    "BrowserErrors",
    "BrowserUser",
    "BrowserUsers",
    "Chromium",
    "PlaywrightTwin",
    "SyncBrowserSession",
]

R = TypeVar("R")


class _BrowserTwin(Twin):
    """The browser family's snapshots: twins for pages, people and Playwright's objects."""

    __slots__ = ()

    def _snapshot(self, value: Any) -> Any:
        if isinstance(value, BrowserTab):
            return self._twin(BrowserUser, value)
        if isinstance(value, BrowserSession):
            return self._twin(SyncBrowserSession, value)
        if isinstance(value, BrowserDriver):
            return self._twin(BrowserUsers, value)
        if type(value).__module__.startswith("playwright."):
            return self._twin(PlaywrightTwin, value)
        return super()._snapshot(value)


class PlaywrightTwin(_BrowserTwin):
    """One of Playwright's async objects (a page, locator, keyboard, context...) used from
    the test thread: each method runs in the browser's loop, and returns its result (another
    Playwright object comes back as its twin)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        target = self._async
        member = self._run(lambda: getattr(target, name), False)
        if callable(member) and not isinstance(member, Twin):
            return partial(call_in_loop, self, member)
        return member

    def __repr__(self) -> str:
        return f"<sync {self._async!r}>"


class Chromium(PlaywrightTwin, Closing):
    """A Chromium running in a background event loop, launched by `vt.browser.chromium.launch`
    (`executable`: see `find_browser`; `headless`, `slow_mo`, extra `args`). Hand it to
    `BrowserUsers`; Playwright's `Browser` methods work on it directly. Close it (or leave
    the `with`) to stop the browser and its loop."""

    __slots__ = ("_stack",)

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        headless: bool = True,
        slow_mo: float | None = None,
        args: Sequence[str] = (),
    ) -> None:
        stack = ExitStack()
        portal, loop = start_loop(stack)
        try:
            browser = stack.enter_context(
                portal.wrap_async_context_manager(
                    launch(executable, headless=headless, slow_mo=slow_mo, args=args)
                )
            )
        except BaseException:
            stack.close()
            raise
        super().__init__(portal, loop, browser)
        self._stack = stack

    @property
    def browser(self) -> Browser:
        """Playwright's async `Browser`, for code that runs in this Chromium's loop (`call`)."""
        browser: Browser = self._async
        return browser

    def call(self, fn: Callable[..., Awaitable[R]], *args: Any, **kwargs: Any) -> R:
        """Run the coroutine function `fn(*args, **kwargs)` in this Chromium's loop (where
        `browser` lives) and return its result: `chromium.call(run_in_browsers, url,
        scenario, browser=chromium.browser)`."""
        return self._portal.call(partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Close the browser and stop its loop (idempotent)."""
        self._stack.close()


class BrowserUser(_BrowserTwin):
    """The sync twin of `BrowserTab`: one page of one person (a browser context, so one
    session) in Chromium. See `BrowserTab` for each method."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<BrowserUser {self._async.name}>"

    url_of = direct(BrowserTab.url_of)
    open = blocking_as(lambda: BrowserUser)(BrowserTab.open)
    ready = blocking(BrowserTab.ready)
    settle = blocking(BrowserTab.settle)
    reload = blocking_as(lambda: BrowserUser)(BrowserTab.reload)
    close = blocking(BrowserTab.close)
    locator = direct(BrowserTab.locator)
    click = blocking_as(lambda: BrowserUser)(BrowserTab.click)
    type = blocking_as(lambda: BrowserUser)(BrowserTab.type)
    fill = blocking_as(lambda: BrowserUser)(BrowserTab.fill)
    press = blocking_as(lambda: BrowserUser)(BrowserTab.press)
    action = blocking(BrowserTab.action)
    go_offline = blocking(BrowserTab.go_offline)
    go_online = blocking(BrowserTab.go_online)
    texts = blocking(BrowserTab.texts)
    read_texts = blocking(BrowserTab.read_texts)
    text = blocking(BrowserTab.text)
    shows_text = blocking(BrowserTab.shows_text)
    leak = blocking(BrowserTab.leak)
    expect_text = blocking(BrowserTab.expect_text)
    expect_no_text = blocking(BrowserTab.expect_no_text)
    expect_texts = blocking(BrowserTab.expect_texts)
    expect_value = blocking(BrowserTab.expect_value)
    expect_focused = blocking(BrowserTab.expect_focused)
    expect_count = blocking(BrowserTab.expect_count)
    expect_signal = blocking(BrowserTab.expect_signal)
    drop = blocking(BrowserTab.drop)
    reconnect = blocking(BrowserTab.reconnect)
    upload = blocking(BrowserTab.upload)
    expect_quiet = blocking(BrowserTab.expect_quiet)
    expect_console = blocking(BrowserTab.expect_console)
    expect_script = blocking(BrowserTab.expect_script)
    state = blocking(BrowserTab.state)
    record = blocking(BrowserTab.record)
    sse_events = blocking(BrowserTab.sse_events)
    stream_items = blocking(BrowserTab.stream_items)
    frame_count = blocking(BrowserTab.frame_count)
    received = blocking(BrowserTab.received)
    errors = direct(BrowserTab.errors)
    save_artifacts = blocking(BrowserTab.save_artifacts)
    changed = direct(BrowserTab.changed)

    name = Snapshot[str]("name")
    path = Snapshot[str]("path")
    id_or_none = Snapshot[str | None]("id_or_none")
    messages = Snapshot[list[PageMessage]]("messages")
    navigations = Snapshot[int]("navigations")
    version = Snapshot[int]("version")
    timeout = Snapshot[float]("timeout")
    page = Snapshot[Any]("page")
    session = Snapshot["SyncBrowserSession"]("session")
    driver = Snapshot["BrowserUsers"]("driver")

    @property
    def context(self) -> Any:
        """This person's browser context (Playwright's, as a `PlaywrightTwin`)."""
        return self.session.context


class SyncBrowserSession(_BrowserTwin):
    """The sync twin of `BrowserSession`: one person (a browser context) and their pages."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<SyncBrowserSession {self._async.name}>"

    new_tab = blocking_as(lambda: BrowserUser)(BrowserSession.new_tab)
    open = blocking_as(lambda: BrowserUser)(BrowserSession.open)
    read_cookies = blocking(BrowserSession.read_cookies)
    request = blocking(BrowserSession.request)
    save_trace = blocking(BrowserSession.save_trace)
    close = blocking(BrowserSession.close)

    name = Snapshot[str]("name")
    tabs = Snapshot[list[BrowserUser]]("tabs")
    context = Snapshot[Any]("context")
    cookies = Snapshot[dict[str, str]]("cookies")
    driver = Snapshot["BrowserUsers"]("driver")


class BrowserUsers(_BrowserTwin, Closing):
    """A factory of isolated browser users on one server (the sync twin of
    `BrowserDriver`): each user is a new context of `browser` (its own cookies, storage and
    session), made with `context_args`.

    With `trace=True` each context records a Playwright trace (DOM snapshots, no video), kept
    only by `save_artifacts` (on failure). Close with `close()` or `with BrowserUsers(...)`:
    that closes the contexts, not the browser.
    """

    __slots__ = ()

    def __init__(
        self,
        browser: Chromium,
        base_url: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        context_args: Mapping[str, Any] | None = None,
        trace: bool = False,
    ) -> None:
        driver = browser.call(
            _make_driver, base_url, browser.browser, timeout, dict(context_args or {}), trace
        )
        super().__init__(browser._portal, browser._loop, driver)

    def __repr__(self) -> str:
        return f"<BrowserUsers {self._async.base_url}>"

    close = blocking(BrowserDriver.close)
    new_session = direct(BrowserDriver.new_session)
    new = blocking_as(lambda: BrowserUser)(BrowserDriver.new)
    open = blocking_as(lambda: BrowserUser)(BrowserDriver.open)
    open_many = blocking_as(lambda: list[BrowserUser])(BrowserDriver.open_many)
    expect_all = blocking(BrowserDriver.expect_all)
    expect_converged = blocking(BrowserDriver.expect_converged)
    expect_none = blocking(BrowserDriver.expect_none)
    errors = blocking(BrowserDriver.errors)
    check_errors = blocking(BrowserDriver.check_errors)
    save_artifacts = blocking(BrowserDriver.save_artifacts)
    mark_gesture = direct(BrowserDriver.mark_gesture)

    def __getitem__(self, name: str) -> BrowserUser:
        user: BrowserUser = self._run(lambda: self._async[name], False)
        return user

    base_url = Snapshot[str]("base_url")
    timeout = Snapshot[float]("timeout")
    browser = Snapshot[Any]("browser")
    users = Snapshot[list[BrowserUser]]("users")
    sessions = Snapshot[list[SyncBrowserSession]]("sessions")
    context_args = Snapshot[dict[str, Any]]("context_args")
    trace = Snapshot[bool]("trace")
    last_gesture_ms = Snapshot[float]("last_gesture_ms")


async def _make_driver(
    base_url: str, browser: Browser, timeout: float, context_args: dict[str, Any], trace: bool
) -> BrowserDriver:
    """A driver on a running browser, made (and entered) in the browser's loop."""
    return await BrowserDriver(
        base_url, browser=browser, timeout=timeout, context_args=context_args, trace=trace
    ).__aenter__()
