"""Real browsers with the real Datastar client: users that open, type, press, click and look.

vt's HTTP client replays what Datastar would do; this module checks what a person gets: a real
Chromium runs the page's own Datastar client against the server under test. Each
`BrowserUser` is one browser context (its own cookies, so its own session) with one page:

    users = BrowserUsers(browser, server_url)
    a, b = users.open_many(2, "/")                 # each page's event stream is open
    a.type("input[placeholder^=message]", "hello")
    a.press("input[placeholder^=message]", "Enter")
    b.expect_text("article", "hello", timeout=2)   # waits on the page as a person sees it
    users.close()

In pytest, the `vt_browser_users` fixture (`vt.pytest.browser_plugin`) builds this on
pytest-playwright's
`browser` fixture and the server under test, fails the test on console errors, and writes a
trace, a screenshot and the SSE frames of each user when the test fails.

An init script (`browser_init.js`) runs in every page before its scripts: it records each
request and each event-stream frame the page receives (traces do not show stream frames), and
tells when the page is settled — no request in flight and its event stream open (§5.1).

Browser discovery never downloads: `find_browser()` takes an explicit path, then
`VT_BROWSER_PATH`, then `chromium` on PATH (Debian's, which `scripts/setup` installs). This module
needs the `playwright` package (`pip install 'vt[browser]'`); the rest of vt does not.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ..defaults import WAIT_TIMEOUT
from ..errors import BrowserErrors, UsageError, WaitTimeout
from .chromium import (
    BROWSER_PATH_ENV,
    BROWSER_REQUIRED_ENV,
    LAUNCH_ARGS,
    BrowserNotFound,
    browser_required,
    find_browser,
)

__all__ = [
    "BROWSER_PATH_ENV",
    "BROWSER_REQUIRED_ENV",
    "LAUNCH_ARGS",
    "BrowserErrors",
    "BrowserNotFound",
    "BrowserUser",
    "BrowserUsers",
    "PageMessage",
    "browser_required",
    "describe_errors",
    "find_browser",
    "init_script",
]


def init_script() -> str:
    """The JavaScript vt adds to every page it opens (recorder and settle state, see above)."""
    return resources.files("vt.browser").joinpath("init.js").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class PageMessage:
    """A console message or an uncaught page error, as a browser user saw it."""

    user: str
    kind: Literal["console", "pageerror"]
    level: str  # console type ("error", "warning", ...) or "error" for a page error
    text: str
    location: str = ""

    def __str__(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"[{self.user}] {self.kind} {self.level}: {self.text}{where}"


def _ms(seconds: float) -> float:
    return seconds * 1000.0


class BrowserUser:
    """One person in one browser: a context (cookies, so one session) and its page.

    Gestures (`type`, `press`, `click`) act through Playwright as a person would, and the
    `expect_*` methods wait on what the page shows (Playwright's `expect`, which retries until
    its deadline). `settle()` waits for Datastar: no request in flight and the stream open.
    Selectors are CSS (or any Playwright selector).
    """

    def __init__(
        self, name: str, context: BrowserContext, base_url: str, *, timeout: float = WAIT_TIMEOUT
    ) -> None:
        self.name = name
        self.context = context
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.messages: list[PageMessage] = []
        self.navigations = 0
        """Main-frame navigations of the page (a reload counts one)."""
        self.page: Page = context.new_page()
        self.page.set_default_timeout(_ms(timeout))
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("framenavigated", self._on_navigated)

    def __repr__(self) -> str:
        return f"<BrowserUser {self.name} {self.page.url}>"

    def _on_console(self, message: ConsoleMessage) -> None:
        where = message.location
        location = f"{where.get('url', '')}:{where.get('lineNumber', '')}" if where else ""
        self.messages.append(
            PageMessage(self.name, "console", message.type, message.text, location)
        )

    def _on_page_error(self, error: PlaywrightError) -> None:
        self.messages.append(PageMessage(self.name, "pageerror", "error", str(error)))

    def _on_navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    # -- navigation -----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """`path` on the server under test (absolute URLs pass through)."""
        return path if "://" in path else self.base_url + "/" + path.lstrip("/")

    def open(self, path: str = "/", *, timeout: float | None = None) -> BrowserUser:
        """Load `path` and wait until the page is settled (its event stream open); returns
        self, so `user = users.new("A").open("/")` reads as one step."""
        self.page.goto(self.url(path), timeout=_ms(timeout or self.timeout))
        self.settle(timeout=timeout)
        return self

    def reload(self, *, timeout: float | None = None) -> BrowserUser:
        """Reload the page and wait until it is settled again."""
        self.page.reload(timeout=_ms(timeout or self.timeout))
        self.settle(timeout=timeout)
        return self

    def settle(self, *, timeout: float | None = None) -> None:
        """Wait until no request of the page is in flight and an event stream is open.

        Raises `WaitTimeout` with the page's request state when that does not happen in time.
        """
        limit = timeout or self.timeout
        try:
            self.page.wait_for_function(
                "() => !!window.__vt && window.__vt.settled()", timeout=_ms(limit)
            )
        except PlaywrightTimeout:
            said = "".join(f"\n  {m}" for m in self.messages[-5:])
            raise WaitTimeout(
                f"{self.name}: the page did not settle within {limit:g}s (a request in flight, "
                f"or no event stream open, §5.1); page state: {self.state()}"
                + (f"; the page's last console messages:{said}" if said else "")
            ) from None

    def state(self) -> dict[str, Any]:
        """The init script's view: requests in flight, streams open, stream connects so far,
        the last requests."""
        state: dict[str, Any] = self.page.evaluate(
            "() => window.__vt ? window.__vt.state() : {missing: 'vt init script not loaded'}"
        )
        return state

    # -- gestures -------------------------------------------------------------------------------

    def locator(self, selector: str) -> Locator:
        """Playwright's locator for `selector` on this user's page."""
        return self.page.locator(selector)

    def type(self, selector: str, text: str) -> BrowserUser:
        """Focus the field and type `text` key by key (each key fires its keyboard and input
        events, as a person's typing does); appends to what the field holds."""
        field = self.locator(selector)
        field.click()
        field.press_sequentially(text)
        return self

    def fill(self, selector: str, text: str) -> BrowserUser:
        """Replace the field's value with `text` in one input event (a paste, say)."""
        self.locator(selector).fill(text)
        return self

    def press(self, selector: str, key: str) -> BrowserUser:
        """Focus `selector` and press `key` ("Enter", "Escape", "Control+a", ...)."""
        self.locator(selector).press(key)
        return self

    def click(self, selector: str) -> BrowserUser:
        """Click the element (Playwright waits until it is visible, stable and enabled)."""
        self.locator(selector).click()
        return self

    # -- waits on what the page shows --------------------------------------------------------

    def expect_text(self, selector: str, text: str, *, timeout: float | None = None) -> None:
        """Wait until the element's visible text contains `text`."""
        expect(self.locator(selector)).to_contain_text(text, timeout=_ms(timeout or self.timeout))

    def expect_no_text(self, selector: str, text: str, *, timeout: float | None = None) -> None:
        """Wait until the element's text does not contain `text` (true at once if it never
        did: to show that something never arrives, wait for a later thing first)."""
        expect(self.locator(selector)).not_to_contain_text(
            text, timeout=_ms(timeout or self.timeout)
        )

    def expect_texts(
        self, selector: str, texts: Sequence[str], *, timeout: float | None = None
    ) -> None:
        """Wait until the elements matching `selector` are exactly as many as `texts` and
        each one's text is the corresponding entry (whitespace normalised), in order."""
        expect(self.locator(selector)).to_have_text(
            list(texts), timeout=_ms(timeout or self.timeout)
        )

    def expect_value(self, selector: str, value: str, *, timeout: float | None = None) -> None:
        """Wait until the input's current value is `value` (what the person sees in it)."""
        expect(self.locator(selector)).to_have_value(value, timeout=_ms(timeout or self.timeout))

    def expect_focused(self, selector: str, *, timeout: float | None = None) -> None:
        """Wait until `selector` has the keyboard focus."""
        expect(self.locator(selector)).to_be_focused(timeout=_ms(timeout or self.timeout))

    def expect_count(self, selector: str, count: int, *, timeout: float | None = None) -> None:
        """Wait until exactly `count` elements match `selector`."""
        expect(self.locator(selector)).to_have_count(count, timeout=_ms(timeout or self.timeout))

    def text(self, selector: str = "body") -> str:
        """The element's visible text now (no wait)."""
        return self.locator(selector).inner_text()

    # -- network --------------------------------------------------------------------------------

    def go_offline(self) -> int:
        """Lose the network: new requests fail, and open event streams are cut (Chromium's
        offline mode alone leaves them open). Returns how many streams were cut; Datastar
        then retries (§5.5)."""
        self.context.set_offline(True)
        cut: int = self.page.evaluate("() => window.__vt ? window.__vt.cut() : 0")
        return cut

    def go_online(self) -> None:
        """Get the network back; Datastar's next retry reconnects the stream (§5.5.2)."""
        self.context.set_offline(False)

    # -- what the page received ------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """Everything the init script recorded: each request (with every frame of its event
        stream, comments included), Datastar's `datastar-fetch` events, the page's state."""
        record: dict[str, Any] = self.page.evaluate(
            "() => window.__vt ? {pageId: window.__vt.pageId, requests: window.__vt.requests,"
            " fetchEvents: window.__vt.fetchEvents, state: window.__vt.state()} : null"
        )
        return record or {}

    def sse_events(self) -> list[dict[str, Any]]:
        """Every SSE event (not comments) the page received, over all its streams, in order:
        dicts with `event`, `data`, `id` and `t` (epoch milliseconds)."""
        requests = self.record().get("requests", [])
        return [e for r in requests if r.get("stream") for e in r["events"] if "event" in e]

    def errors(self, allowed: Sequence[str] = ()) -> list[PageMessage]:
        """Console errors and page errors not matching any of the `allowed` regexes."""
        patterns = [re.compile(p) for p in allowed]
        return [
            m
            for m in self.messages
            if m.level == "error" and not any(p.search(m.text) for p in patterns)
        ]

    def save_artifacts(self, folder: Path, *, trace: bool) -> list[Path]:
        """Write this user's screenshot, recorded requests and SSE frames, console messages
        and (when tracing) Playwright trace into `folder`; returns the files written. Each
        part is best effort: a page that crashed still gets the parts that can be had."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name)
        written: list[Path] = []
        shot = folder / f"screenshot-{stem}.png"
        sse = folder / f"sse-{stem}.json"
        console = folder / f"console-{stem}.txt"
        try:
            self.page.screenshot(path=shot, timeout=_ms(self.timeout))
            written.append(shot)
        except PlaywrightError:
            pass
        try:
            body = {"user": self.name, "url": self.page.url, **self.record()}
            sse.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
            written.append(sse)
        except PlaywrightError:
            pass
        console.write_text("".join(f"{m}\n" for m in self.messages), encoding="utf-8")
        written.append(console)
        if trace:
            path = folder / f"trace-{stem}.zip"
            try:
                self.context.tracing.stop(path=path)
                written.append(path)
            except PlaywrightError:
                pass
        return written

    def close(self) -> None:
        """Close the context (and so the page); its stream ends and the server sees it go."""
        self.context.close()


class BrowserUsers:
    """A factory of isolated browser users on one server: each user is a new context of
    `browser` (its own cookies, storage and session), created with `context_args`.

    With `trace=True` each context records a Playwright trace (DOM snapshots, no video),
    kept only by `save_artifacts` (on failure). Close with `close()` or `with BrowserUsers(...)`.
    """

    def __init__(
        self,
        browser: Browser,
        base_url: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        context_args: dict[str, Any] | None = None,
        trace: bool = False,
    ) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.context_args = dict(context_args or {})
        self.trace = trace
        self.users: list[BrowserUser] = []
        self._script = init_script()
        self._closed = False

    def new(self, name: str | None = None) -> BrowserUser:
        """A new user (a new context and page, nothing loaded yet); named `A`, `B`, ... by
        default."""
        if self._closed:
            raise UsageError("these browser users are closed")
        name = name or _letter_name(len(self.users))
        if any(u.name == name for u in self.users):
            raise UsageError(f"there is already a browser user named {name!r}")
        context = self.browser.new_context(**self.context_args)
        context.add_init_script(self._script)
        if self.trace:
            context.tracing.start(title=name, snapshots=True, screenshots=False)
        user = BrowserUser(name, context, self.base_url, timeout=self.timeout)
        self.users.append(user)
        return user

    def open(self, path: str = "/", name: str | None = None) -> BrowserUser:
        """A new user with `path` loaded and its page settled."""
        return self.new(name).open(path)

    def open_many(self, count: int, path: str = "/") -> list[BrowserUser]:
        """`count` new users, each with `path` loaded and settled."""
        return [self.open(path) for _ in range(count)]

    def __getitem__(self, name: str) -> BrowserUser:
        for user in self.users:
            if user.name == name:
                return user
        raise KeyError(name)

    def errors(self, allowed: Sequence[str] = ()) -> list[PageMessage]:
        """Every user's console and page errors not matching the `allowed` regexes. Each page
        is asked something first, so messages it logged just now have been delivered."""
        for user in self.users:
            # A closed or crashed page has nothing more to say.
            with contextlib.suppress(PlaywrightError):
                user.page.evaluate("0")
        return [m for user in self.users for m in user.errors(allowed)]

    def check_errors(self, allowed: Sequence[str] = ()) -> None:
        """Raise `BrowserErrors` listing the console and page errors not `allowed`."""
        errors = self.errors(allowed)
        if errors:
            raise BrowserErrors(describe_errors(errors))

    def save_artifacts(self, folder: Path) -> list[Path]:
        """Each user's screenshot, SSE record, console log (and trace when tracing) in
        `folder`."""
        return [p for user in self.users for p in user.save_artifacts(folder, trace=self.trace)]

    def close(self) -> None:
        """Close every user's context (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for user in self.users:
            try:
                if self.trace:
                    user.context.tracing.stop()
            except PlaywrightError:
                pass  # already stopped by save_artifacts, or the browser is gone
            with contextlib.suppress(PlaywrightError):
                user.close()

    def __enter__(self) -> BrowserUsers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _letter_name(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index] if index < len(letters) else f"U{index + 1}"


def describe_errors(errors: Iterable[PageMessage]) -> str:
    """The failure message for unexpected console and page errors, one per line."""
    lines = [str(m) for m in errors]
    return (
        f"{len(lines)} console or page error(s) in the browser (allow expected ones with "
        "@pytest.mark.vt_browser_allow(REGEX, ...)):\n  " + "\n  ".join(lines)
    )
