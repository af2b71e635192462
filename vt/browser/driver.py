"""The one browser driver: Chromium users on one server, on Playwright's async API.

`BrowserDriver` is what every browser check of vt runs on: the scenario runner's second
driver (`vt.run_scenario` drives vt's HTTP client or this; the step semantics live once, in
the runner), the sync API's `vt.browser.BrowserUsers` (its generated twin), the pytest
fixtures and the benchmarks. A session is a browser context (its own cookies, so its own Via
session); a tab (`vt.browser.tab.BrowserTab`) is a page running the page's own Datastar client:

    async with BrowserDriver(url) as driver:           # launches Chromium (vt.browser.chromium)
        run = await vt.run_scenario(driver, scenario)  # run.tabs["alice"] is a BrowserTab
    async with BrowserDriver(url, browser=browser) as users:   # or on a running Chromium
        alice, bob = await users.open_many(2)
        await alice.type("input", "hi")
    run, goldens = await run_in_browsers(url, scenario)        # and per tab, its golden text

Given a running `browser`, the driver makes only contexts and closes them on the way out, so
one Chromium serves many tests (the pytest plugin keeps one per worker).

What a person can do maps one to one: `open`, `ready`, `click`, `type`, `press`,
`expect_text`, `expect_selector`, `converge`, `expect_none`, `reload`, `close`. Two verbs
become gestures: `action NAME` with `signals` sets each signal's bound input and clicks what
posts the action (§4.1); `expect_signal` reads a signal through its bound input. What a
person cannot do is refused with `RefusedInBrowser` naming the verb (`BROWSER_REFUSED`, and
an action or signal that no element of the page offers). `open` with `connect = false` holds
the page's stream requests at the network until `ready`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import anyio
from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

from ..client.hub import Hub, Settings
from ..defaults import QUIET_WINDOW, WAIT_TIMEOUT
from ..errors import BrowserErrors, UsageError
from ..scenario.harness import run_and_take
from ..scenario.runner import BROWSER_REFUSED, ScenarioFailed, ScenarioRun
from ..wire.events import StreamItem
from . import waits
from .chromium import launch
from .record import Answer, PageMessage, describe_errors
from .session import BrowserSession
from .tab import BrowserTab, Person, refuse

if TYPE_CHECKING:
    from ..scenario.format import Scenario

__all__ = [
    "BrowserDriver",
    "BrowserRecorder",
    "BrowserSession",
    "BrowserTab",
    "run_in_browsers",
]


class BrowserDriver:
    """Chromium users on the server at `base_url`, for tests and for `vt.run_scenario`.

    `browser` is a running Chromium (Playwright's async `Browser`, in this event loop);
    without one, entering the driver launches its own through `vt.browser.chromium.launch`
    (`executable`, `headless`). Each session is a new context made with `context_args`; with
    `trace=True` each records a Playwright trace, kept only by `save_artifacts`. `timeout` is
    the default deadline of a wait or gesture, in seconds. Use as an async context manager:
    the way out closes every context (and what the driver launched).
    """

    def __init__(
        self,
        base_url: str,
        *,
        browser: Browser | None = None,
        executable: str | Path | None = None,
        headless: bool = True,
        timeout: float = WAIT_TIMEOUT,
        context_args: Mapping[str, Any] | None = None,
        trace: bool = False,
    ) -> None:
        self.hub = Hub(Settings(base_url.rstrip("/"), wait_timeout=timeout))
        """The change events every page of this driver notifies, and the waits sleep on."""
        self.context_args = dict(context_args or {})
        self.trace = trace
        self.sessions: list[BrowserSession] = []
        self.last_gesture_ms = time.time() * 1000.0
        """Epoch milliseconds of the last gesture (the start of `expect_none`'s window)."""
        self._browser = browser
        self._launch = (executable, headless)
        self._owned: contextlib.AsyncExitStack | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<BrowserDriver {self.base_url} {len(self.sessions)} session(s)>"

    async def __aenter__(self) -> BrowserDriver:
        if self._browser is None:
            executable, headless = self._launch
            self._owned = contextlib.AsyncExitStack()
            self._browser = await self._owned.enter_async_context(
                launch(executable, headless=headless)
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every session's context (and the Chromium the driver launched); idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            for session in self.sessions:
                await session.close()
            if self._owned is not None:
                await self._owned.aclose()

    @property
    def base_url(self) -> str:
        """The server under test."""
        return self.hub.settings.base_url

    @property
    def timeout(self) -> float:
        """The default deadline of a wait or gesture, in seconds."""
        return self.hub.settings.wait_timeout

    @property
    def browser(self) -> Browser:
        """The running Chromium."""
        if self._browser is None:
            raise UsageError("the browser driver is not open; use `async with BrowserDriver(url)`")
        return self._browser

    def mark_gesture(self) -> None:
        """Note that a page acted now (the start of `expect_none`'s window)."""
        self.last_gesture_ms = time.time() * 1000.0

    # -- people and their pages ---------------------------------------------------------------

    def new_session(self, name: str | None = None) -> BrowserSession:
        """A new person: a new browser context (made at its first page)."""
        if self._closed:
            raise UsageError("this browser driver is closed")
        name = name or f"session{len(self.sessions) + 1}"
        if any(s.name == name for s in self.sessions):
            raise UsageError(f"there is already a browser user named {name!r}")
        session = BrowserSession(self, name)
        self.sessions.append(session)
        return session

    async def new(self, name: str | None = None) -> BrowserTab:
        """A new person with one page, nothing loaded yet; named `A`, `B`, ... by default."""
        name = name or _letter_name(len(self.sessions))
        return await self.new_session(name).new_tab(name)

    async def open(self, path: str = "/", name: str | None = None) -> BrowserTab:
        """A new person with `path` loaded and its page settled."""
        return await (await self.new(name)).open(path)

    async def open_many(self, count: int, path: str = "/") -> list[BrowserTab]:
        """`count` new people, each with `path` loaded and settled."""
        return [await self.open(path) for _ in range(count)]

    @property
    def users(self) -> list[BrowserTab]:
        """Every page of every person, in the order they were made."""
        return [tab for session in self.sessions for tab in session.tabs]

    def __getitem__(self, name: str) -> BrowserTab:
        for tab in self.users:
            if tab.name == name:
                return tab
        raise KeyError(name)

    # -- waits over several pages (the runner's `expect_text` with tabs, `expect_none`, `converge`)

    async def expect_all(
        self,
        tabs: Sequence[BrowserTab],
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> list[str]:
        """Wait until every page shows `text` (with `exact`: as the whole text) in an element
        matching `selector`; return each page's matching text."""
        own = self._own(tabs)
        return await waits.expect_all(self.hub, own, selector, text, exact=exact, timeout=timeout)

    async def expect_converged(
        self, tabs: Sequence[BrowserTab], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """Wait until every page shows the same visible text for `selector`; return it."""
        return await waits.expect_converged(self.hub, self._own(tabs), selector, timeout=timeout)

    async def expect_none(
        self, tabs: Sequence[BrowserTab], marker: str, window: float = QUIET_WINDOW
    ) -> None:
        """The leak check in browsers: `marker` is on no page and in no event frame received
        since the last gesture, now and for `window` seconds (§8)."""
        tabs = self._own(tabs)
        await waits.expect_none(self.hub, tabs, marker, window, since_ms=self.last_gesture_ms)

    def _own(self, tabs: Sequence[BrowserTab]) -> list[BrowserTab]:
        """`tabs`, checked to be pages of this driver (the others' changes wake no wait here)."""
        if not tabs:
            raise UsageError("give at least one browser tab")
        strangers = [tab.name for tab in tabs if tab.driver is not self]
        if strangers:
            raise UsageError(f"pages of another browser driver: {', '.join(strangers)}")
        return list(tabs)

    # -- what the pages said --------------------------------------------------------------------

    async def errors(self, allowed: Sequence[str] = ()) -> list[PageMessage]:
        """Every page's console and page errors not matching the `allowed` regexes. Each page
        is asked something first, so messages it logged just now have been delivered."""
        for tab in self.users:
            with contextlib.suppress(PlaywrightError):  # a closed page has nothing more to say
                await tab.page.evaluate("0")
        return [m for tab in self.users for m in tab.errors(allowed)]

    async def check_errors(self, allowed: Sequence[str] = ()) -> None:
        """Raise `BrowserErrors` listing the console and page errors not `allowed`."""
        errors = await self.errors(allowed)
        if errors:
            raise BrowserErrors(describe_errors(errors))

    async def save_artifacts(self, folder: Path) -> list[Path]:
        """Each page's screenshot, SSE record and console log (and, when tracing, each
        person's trace) in `folder`; returns the files written."""
        written = [p for tab in self.users for p in await tab.save_artifacts(folder)]
        for session in self.sessions:
            if self.trace and (trace := await session.save_trace(folder)) is not None:
                written.append(trace)
        return written


def _letter_name(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index] if index < len(letters) else f"U{index + 1}"


async def run_in_browsers(
    base_url: str,
    scenario: Scenario,
    *,
    browser: Browser | None = None,
    executable: str | Path | None = None,
    timeout: float | None = None,
    artifacts: Path | None = None,
) -> tuple[ScenarioRun, dict[str, str]]:
    """Run `scenario` in Chromium users on `base_url` (on `browser`, or a Chromium launched
    for the run) through the one harness (`vt.scenario.harness.run_and_take` with a
    `BrowserRecorder`); return the run and, per tab, its golden text, taken once the pages
    have gone quiet and before the contexts close. `timeout` overrides the scenario's wait
    deadline, as in `run_scenario`. When a step fails and `artifacts` is given, each page's
    screenshot, received frames and console messages are written there first.

    A scenario with a verb no person can do (`BROWSER_REFUSED`) fails at that step before
    any browser is launched.

    Raises:
        ScenarioFailed: a step failed; a verb a person cannot do fails with
            `RefusedInBrowser` as its cause.
        BrowserNotFound: no Chromium to launch.
    """
    for step in scenario.steps:
        if step.verb in BROWSER_REFUSED:
            error = refuse(step.verb, "it is not a person's gesture")
            raise ScenarioFailed(ScenarioRun(scenario), step, str(error)) from error
    deadline = timeout or scenario.timeout or WAIT_TIMEOUT
    async with BrowserDriver(
        base_url, browser=browser, executable=executable, timeout=deadline
    ) as driver:
        take = await run_and_take(
            driver, scenario, texts=True, recorder=BrowserRecorder(), timeout=timeout
        )
        if take.failure is not None:
            if artifacts is not None:
                for name, tab in take.tabs.items():
                    await tab.save_artifacts(artifacts, name)
            raise take.failure
        return cast(ScenarioRun, take.run), take.texts or {}  # a passed run has both


@dataclass(slots=True)
class _GoldenView:
    """A browser tab as `render_tabs` reads a tab: its events (the streams', then each
    action answer's), which answer carried which (`response_origin`), its id and session."""

    tab: BrowserTab
    events: list[StreamItem]
    response_origin: dict[int, Answer]

    @property
    def id_or_none(self) -> str | None:
        return self.tab.id_or_none

    @property
    def session(self) -> Person:
        return self.tab.session


class BrowserRecorder:
    """How browser tabs settle and what their golden text is, for the one harness
    (`vt.scenario.harness.run_and_take(driver, scenario, recorder=BrowserRecorder())`): the
    frames the init script recorded (`PageRecord.received`), read while the browser is open,
    each action's event-stream answer apart from the stream, as for an HTTP tab."""

    async def settle(
        self, tabs: Sequence[BrowserTab], window: float = QUIET_WINDOW, limit: float = WAIT_TIMEOUT
    ) -> bool:
        """Wait until no page receives an event for `window` seconds, for at most `limit`
        seconds; True when that quiet was seen. Re-checked on each change a page reports
        (`vt.browser.waits.watch`), never polled."""
        if not tabs:
            return True
        hub = tabs[0].driver.hub
        deadline = anyio.current_time() + limit
        while (remaining := deadline - anyio.current_time()) > 0:
            counts = [await tab.frame_count() for tab in tabs]

            async def arrived(counts: list[int] = counts) -> bool:
                return [await tab.frame_count() for tab in tabs] != counts

            if not await waits.watch(hub, min(window, remaining), arrived):
                return remaining >= window
        return False

    async def views(self, tabs: Mapping[str, BrowserTab]) -> dict[str, _GoldenView]:
        """Per tab, what it received, as `render_tabs` reads a tab (as for an HTTP run)."""
        return {name: _GoldenView(tab, *await tab.received()) for name, tab in tabs.items()}
