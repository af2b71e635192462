"""The scenario runner's browser driver: the same steps, done by real Chromium users.

`vt.run_scenario` drives either vt's HTTP client or this driver; the step semantics live once,
in the runner, and each driver supplies sessions, tabs and the multi-tab waits. Here a session
is a browser context (its own cookies, so its own Via session) and a tab is a page running the
page's own Datastar client:

    scenario = vt.load_scenario("specs/scenarios/chat-fan-out.toml")
    async with BrowserDriver(url) as driver:
        run = await vt.run_scenario(driver, scenario)      # run.tabs["alice"] is a BrowserTab
    run, goldens = await run_in_browsers(url, scenario)    # and per tab, its golden text

What a person can do maps one to one: `open`, `ready`, `click`, `type`, `press`, `expect_text`,
`expect_selector`, `converge`, `expect_none`, `reload`, `close`. Two verbs become gestures:
`action NAME` with `signals` fills each signal's bound input (`data-bind`) and clicks the
element whose click posts `/_action/NAME` (§4.1); `expect_signal` reads a signal through its
bound input (a browser shows no other signal). What a person cannot do is refused with a
`UsageError` naming the verb: `request`, `drop`, `reconnect`, `upload`, `expect_quiet`,
`expect_console`, `expect_script`. `open` with `connect = false` loads the page with its
stream requests failing at the network (the page as the server rendered it).

This module uses Playwright's async API (the runner is async) and launches its own Chromium,
found as `vt.browser.find_browser` finds it; it needs the `playwright` package.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    async_playwright,
    expect,
)
from playwright.async_api import Error as PlaywrightError

from ..client.report import slug
from ..defaults import QUIET_WINDOW, WAIT_TIMEOUT
from ..errors import ScenarioFailed, UsageError, WaitTimeout
from ..scenario.golden import render_tabs
from ..scenario.runner import ScenarioRun, run_scenario
from ..wire.events import StreamItem, read_item
from ..wire.sse import ServerSentEvent
from .chromium import LAUNCH_ARGS, find_browser
from .users import init_script

if TYPE_CHECKING:
    from ..scenario.format import Scenario

__all__ = [
    "BrowserDriver",
    "BrowserSession",
    "BrowserTab",
    "GestureResult",
    "browser_goldens",
    "run_in_browsers",
]

# Seconds between two looks at the pages in `expect_converged` (Playwright's own waits poll too).
_POLL = 0.05


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _refuse(verb: str, why: str) -> UsageError:
    return UsageError(
        f"`{verb}` is not something a person does in a browser ({why}); run this "
        "scenario with vt's HTTP client"
    )


@dataclass(frozen=True, slots=True)
class GestureResult:
    """What an `action` done as a gesture got back: the status of the action's response."""

    status: int


class BrowserDriver:
    """Chromium users for `vt.run_scenario` on the server at `base_url`.

    `executable` is passed to `find_browser` (default: `VT_BROWSER_PATH`, then `chromium` on
    PATH); `timeout` is the default deadline of a wait in seconds. Use as an async context
    manager: it starts Playwright and Chromium and closes every context, the browser and
    Playwright on the way out.
    """

    def __init__(
        self,
        base_url: str,
        *,
        executable: str | Path | None = None,
        timeout: float = WAIT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.executable = executable
        self.timeout = timeout
        self.sessions: list[BrowserSession] = []
        self.last_gesture_ms = 0.0
        """Epoch milliseconds of the last action or gesture, for `expect_none`."""
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    async def __aenter__(self) -> BrowserDriver:
        path = find_browser(self.executable)
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=str(path), args=list(LAUNCH_ARGS)
            )
        except BaseException:
            await self._playwright.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            for session in self.sessions:
                await session.close()
            if self._browser is not None:
                await self._browser.close()
            if self._playwright is not None:
                await self._playwright.stop()

    @property
    def browser(self) -> Browser:
        """The running Chromium (inside `async with` only)."""
        if self._browser is None:
            raise UsageError("the browser driver is not open; use `async with BrowserDriver(url)`")
        return self._browser

    def mark_gesture(self) -> None:
        """Note that a tab acted now (the start of `expect_none`'s stream window)."""
        self.last_gesture_ms = time.time() * 1000.0

    def new_session(self, name: str | None = None) -> BrowserSession:
        """A new person: a new browser context (made at its first `open`)."""
        session = BrowserSession(self, name or f"session{len(self.sessions) + 1}")
        self.sessions.append(session)
        return session

    # -- waits over several tabs (the runner's `expect_text` with tabs, `expect_none`, `converge`)

    async def expect_all(
        self,
        tabs: Sequence[BrowserTab],
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Wait until every tab's `selector` shows `text` (each within the deadline)."""
        async with anyio.create_task_group() as group:
            for tab in tabs:
                wait = partial(tab.expect_text, selector, text, exact=exact, timeout=timeout)
                group.start_soon(wait)

    async def expect_converged(
        self, tabs: Sequence[BrowserTab], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """Wait until every tab shows the same visible text for `selector`; return it.

        Raises `WaitTimeout` with each tab's text when they still differ at the deadline.
        """
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        while True:
            texts = {tab.name: await tab.visible_text(selector) for tab in tabs}
            if len(set(texts.values())) <= 1:
                return next(iter(texts.values()), "")
            if time.monotonic() >= deadline:
                shown = "".join(f"\n  {name}: {text!r}" for name, text in texts.items())
                raise WaitTimeout(
                    f"the pages did not converge on {selector!r} within {limit:g}s (§5.4):{shown}"
                )
            await anyio.sleep(_POLL)

    async def expect_none(
        self, tabs: Sequence[BrowserTab], marker: str, window: float = QUIET_WINDOW
    ) -> None:
        """The leak check in browsers: `marker` is on no page and in no event frame received
        since the last gesture, now and after `window` seconds (§8)."""
        await self._check_absent(tabs, marker)
        await anyio.sleep(window)  # the window itself is what is checked, not a synchronisation
        await self._check_absent(tabs, marker)

    async def _check_absent(self, tabs: Sequence[BrowserTab], marker: str) -> None:
        for tab in tabs:
            if marker in await tab.visible_text("body"):
                raise AssertionError(f"{tab.name}'s page shows {marker!r} (§8)")
            for frame in await tab.frames():
                if frame["t"] >= self.last_gesture_ms and marker in frame.get("data", ""):
                    raise AssertionError(
                        f"{tab.name} received {marker!r} in a {frame['event']} event (§8): "
                        f"{frame['data'][:300]!r}"
                    )


@dataclass(eq=False)
class BrowserSession:
    """One person: a browser context (its cookies are one Via session), with its tabs."""

    driver: BrowserDriver
    name: str
    tabs: list[BrowserTab] = field(default_factory=list)
    context: BrowserContext | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    """The context's cookies, name to value, as of the last `open` (for goldens)."""

    async def open(self, path: str = "/", *, connect: bool = True) -> BrowserTab:
        """A new page on `path`, settled: its Datastar client has opened the stream (§5.1)."""
        if self.context is None:
            self.context = await self.driver.browser.new_context()
            await self.context.add_init_script(init_script())
        page = await self.context.new_page()
        page.set_default_timeout(_ms(self.driver.timeout))
        tab = BrowserTab(self, page, f"{self.name}#{len(self.tabs) + 1}", path)
        self.tabs.append(tab)
        if not connect:
            # The page alone: its client's stream requests (§5.1) fail at the network, as
            # when the stream is unreachable; the page shows what the server rendered.
            await page.route("**/*", _refuse_streams)
        await page.goto(self.driver.base_url + "/" + path.lstrip("/"))
        if connect:
            await tab.ready()
        self.cookies = {c["name"]: c["value"] for c in await self.context.cookies() if "name" in c}
        tab.id_or_none = await tab.read_tab_id()
        return tab

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Refused: a person does not send raw HTTP requests."""
        raise _refuse("request", "a raw HTTP request")

    async def close(self) -> None:
        """Close the context (every page of this person)."""
        if self.context is not None:
            with contextlib.suppress(PlaywrightError):  # the browser is already gone
                await self.context.close()
            self.context = None


async def _refuse_streams(route: Route) -> None:
    accept = route.request.headers.get("accept", "")
    if route.request.method == "GET" and "text/event-stream" in accept:
        await route.abort("connectionrefused")
    else:
        await route.continue_()


class BrowserTab:
    """One page of one person, with the methods the scenario runner calls on a tab."""

    def __init__(self, session: BrowserSession, page: Page, name: str, path: str) -> None:
        self.session = session
        self.page = page
        self.name = name
        self.path = path
        self.id_or_none: str | None = None
        """The page's Via tab id (`via_tab` of its seed, §3), once loaded."""
        self.messages: list[str] = []
        page.on("console", lambda m: self.messages.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))

    def __repr__(self) -> str:
        return f"<BrowserTab {self.name} {self.id_or_none!r}>"

    @property
    def driver(self) -> BrowserDriver:
        """The driver this tab belongs to."""
        return self.session.driver

    def _limit(self, timeout: float | None) -> float:
        return timeout if timeout is not None else self.driver.timeout

    async def read_tab_id(self) -> str | None:
        """The `via_tab` signal of the page's seed (`data-signals`), or None."""
        found: str | None = await self.page.evaluate(
            """() => {
              for (const el of document.querySelectorAll('[data-signals]')) {
                try {
                  const v = JSON.parse(el.getAttribute('data-signals'));
                  if (v && typeof v.via_tab === 'string') return v.via_tab;
                } catch (e) {}
              }
              return null;
            }"""
        )
        return found

    # -- what the page received ---------------------------------------------------------------

    async def frames(self) -> list[dict[str, Any]]:
        """Every SSE event (not comments) the page received, over its stream and its action
        responses, in arrival order: dicts with `event`, `data`, `id`, `t` (epoch ms)."""
        requests: list[dict[str, Any]] = await self.page.evaluate(
            "() => window.__vt ? window.__vt.requests : []"
        )
        frames = [e for r in requests if r.get("stream") for e in r["events"] if "event" in e]
        return sorted(frames, key=lambda e: e["t"])  # stable: equal times keep request order

    async def stream_items(self) -> list[StreamItem]:
        """`frames()` read as vt reads a stream (§6): the input of a golden."""
        return [
            read_item(ServerSentEvent(f["event"], f["data"], f.get("id")))
            for f in await self.frames()
        ]

    async def visible_text(self, selector: str) -> str:
        """The visible text of the first match of `selector`, whitespace collapsed ("" when
        nothing matches)."""
        locator = self.page.locator(selector)
        if await locator.count() == 0:
            return ""
        return " ".join((await locator.first.inner_text()).split())

    async def save_artifacts(self, folder: Path, label: str | None = None) -> list[Path]:
        """Write this page's screenshot (`screenshot-<label>.png`), the requests and SSE frames
        it received (`sse-<label>.json`) and its console messages (`console-<label>.txt`) into
        `folder`, as `vt.browser` names them (`label`: the scenario's tab name, default the
        tab's own); returns the files written. Best effort: a closed page still gets its
        console file."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = slug(label or self.name)
        written: list[Path] = []
        with contextlib.suppress(PlaywrightError):
            await self.page.screenshot(path=folder / f"screenshot-{stem}.png")
            written.append(folder / f"screenshot-{stem}.png")
        with contextlib.suppress(PlaywrightError):
            requests = await self.page.evaluate("() => window.__vt ? window.__vt.requests : []")
            body = {"tab": self.name, "url": self.page.url, "requests": requests}
            sse = folder / f"sse-{stem}.json"
            sse.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
            written.append(sse)
        console = folder / f"console-{stem}.txt"
        console.write_text("".join(f"{m}\n" for m in self.messages), encoding="utf-8")
        written.append(console)
        return written

    # -- the verbs ----------------------------------------------------------------------------

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until no request is in flight and the event stream is open (§5.1)."""
        limit = self._limit(timeout)
        try:
            await self.page.wait_for_function(
                "() => !!window.__vt && window.__vt.settled()", timeout=_ms(limit)
            )
        except PlaywrightError:
            state = await self.page.evaluate("() => window.__vt ? window.__vt.state() : null")
            said = "".join(f"\n  {m}" for m in self.messages[-5:])
            raise WaitTimeout(
                f"{self.name}: the page did not settle within {limit:g}s (a request in flight, "
                f"or no event stream open, §5.1); page state: {state}{said}"
            ) from None

    async def click(self, selector: str, *, timeout: float | None = None) -> None:
        """Click the element, as a person does."""
        self.driver.mark_gesture()
        await self.page.locator(selector).click(timeout=_ms(self._limit(timeout)))

    async def type(self, selector: str, text: str, *, timeout: float | None = None) -> None:
        """Focus the field and type `text` key by key."""
        self.driver.mark_gesture()
        field = self.page.locator(selector)
        await field.click(timeout=_ms(self._limit(timeout)))
        await field.press_sequentially(text, timeout=_ms(self._limit(timeout)))

    async def press(self, selector: str, key: str, *, timeout: float | None = None) -> None:
        """Focus `selector` and press `key`."""
        self.driver.mark_gesture()
        await self.page.locator(selector).press(key, timeout=_ms(self._limit(timeout)))

    async def action(self, name: str, /, **signals: Any) -> GestureResult:
        """The action as a person fires it: fill each signal's bound input with its value,
        then click the element whose click posts `/_action/<name>` (§4.1); return the status
        of that request's response."""
        for signal, value in signals.items():
            bound = self.page.locator(f'[data-bind="{signal}"], [data-bind\\:{signal}]')
            if await bound.count() != 1:
                raise _refuse(
                    f"action {name} with signal {signal!r}",
                    f"{await bound.count()} inputs bind it, a person needs exactly one",
                )
            await bound.fill(str(value))
        trigger = self.page.locator(f'[data-on\\:click*="/_action/{name}\'"]')
        if await trigger.count() == 0:
            raise _refuse(f"action {name}", f"no element's click posts /_action/{name}")
        self.driver.mark_gesture()
        async with self.page.expect_response(
            lambda r: r.request.method == "POST" and f"/_action/{name}" in r.url
        ) as answer:
            await trigger.first.click()
        return GestureResult((await answer.value).status)

    async def expect_text(
        self, selector: str, text: str, *, exact: bool = False, timeout: float | None = None
    ) -> None:
        """Wait until the element's visible text contains `text` (with `exact`: is `text`)."""
        check = expect(self.page.locator(selector).first)
        await (check.to_have_text if exact else check.to_contain_text)(
            text, timeout=_ms(self._limit(timeout)), use_inner_text=True
        )

    async def expect_count(
        self, selector: str, count: int | None, *, timeout: float | None = None
    ) -> None:
        """Wait until exactly `count` elements match (at least one when `count` is None)."""
        locator = self.page.locator(selector)
        if count is None:
            await expect(locator.first).to_be_attached(timeout=_ms(self._limit(timeout)))
        else:
            await expect(locator).to_have_count(count, timeout=_ms(self._limit(timeout)))

    async def expect_signal(self, path: str, value: Any, *, timeout: float | None = None) -> None:
        """Wait until the input bound to the signal shows `value` (a browser shows a signal
        only through what binds it)."""
        escaped = path.replace(".", "\\.")
        bound = self.page.locator(f'[data-bind="{path}"], [data-bind\\:{escaped}]')
        if await bound.count() != 1 or not isinstance(value, str | bool):
            raise _refuse(
                f"expect_signal {path}",
                "a browser shows a signal only through one input bound to it, as text or a box",
            )
        limit = _ms(self._limit(timeout))
        if isinstance(value, bool):
            await (expect(bound).to_be_checked if value else expect(bound).not_to_be_checked)(
                timeout=limit
            )
        else:
            await expect(bound).to_have_value(value, timeout=limit)

    async def reload(self) -> None:
        """Load the page again (a new tab id, the same session) and wait until it settles."""
        await self.page.reload()
        await self.ready()
        self.id_or_none = await self.read_tab_id()

    async def close(self) -> None:
        """Close the page as a person closes a tab (unload handlers run: Via's beacon, §5.6)."""
        await self.page.close(run_before_unload=True)

    async def drop(self) -> None:
        """Refused: a person cannot cut one stream without closing the page."""
        raise _refuse("drop", "cutting the stream alone")

    async def reconnect(self) -> None:
        """Refused: the page's Datastar client decides when it reconnects (§5.5)."""
        raise _refuse("reconnect", "the page's client reconnects by itself")

    async def upload(self, name: str, files: Mapping[str, Any], **signals: Any) -> Any:
        """Refused: a file picker is not driven by scenario steps."""
        raise _refuse("upload", "a multipart post")

    async def expect_quiet(self, seconds: float) -> None:
        """Refused: the page keeps its own traffic (heartbeats, retries)."""
        raise _refuse("expect_quiet", "the page's traffic is its client's")

    async def expect_console(self, text: str, *, timeout: float | None = None) -> None:
        """Refused: console output of a real page includes the browser's own."""
        raise _refuse("expect_console", "the console is the browser's")

    async def expect_script(
        self, kind: str, text: str | None = None, *, timeout: float | None = None
    ) -> None:
        """Refused: the browser runs scripts, it does not report them (§7.4)."""
        raise _refuse("expect_script", "the browser runs scripts")


async def run_in_browsers(
    base_url: str,
    scenario: Scenario,
    *,
    executable: str | Path | None = None,
    timeout: float | None = None,
    artifacts: Path | None = None,
) -> tuple[ScenarioRun, dict[str, str]]:
    """Run `scenario` in Chromium users on `base_url`; return the run and, per tab, its
    golden text (`browser_goldens`), read before the browser closes. `timeout` overrides the
    scenario's wait deadline, as in `run_scenario`. When a step fails and `artifacts` is
    given, each page's screenshot, received frames and console messages are written there
    first (`BrowserTab.save_artifacts`).

    Raises:
        ScenarioFailed: a step failed (a verb a person cannot do fails with `UsageError`'s
            message as its reason).
        BrowserNotFound: no Chromium to launch.
    """
    async with BrowserDriver(
        base_url, executable=executable, timeout=timeout or scenario.timeout or WAIT_TIMEOUT
    ) as driver:
        try:
            run = await run_scenario(driver, scenario, timeout=timeout)
        except ScenarioFailed as failure:
            if artifacts is not None:
                for name, tab in failure.run.tabs.items():
                    await tab.save_artifacts(artifacts, name)
            raise
        items = {name: await tab.stream_items() for name, tab in run.tabs.items()}
        return run, browser_goldens(run, items)


def browser_goldens(run: ScenarioRun, items: Mapping[str, Sequence[StreamItem]]) -> dict[str, str]:
    """Per tab of a browser run, its normalised golden text, from `items` (each tab's
    `stream_items()`, read before the browser closed): the same text `vt record` writes for
    an HTTP run, so the two compare line for line."""
    views = {name: _GoldenView(tab, list(items[name])) for name, tab in run.tabs.items()}
    return render_tabs(views, run.scenario.name)


@dataclass(slots=True)
class _GoldenView:
    """A browser tab as `render_tabs` reads a tab: its events, id and session."""

    tab: BrowserTab
    events: list[StreamItem]

    @property
    def id_or_none(self) -> str | None:
        return self.tab.id_or_none

    @property
    def session(self) -> BrowserSession:
        return self.tab.session
