"""One page of one person in a real browser: what a person does there, and the waits on what
it shows (`BrowserTab`, the tab of `vt.browser.driver`; `vt.browser.BrowserUser` is its sync
twin).

Gestures go through Playwright as a person's would (a click waits until the element is
visible, stable and enabled), one at a time in one page; the `expect_*` methods wait with
`vt.browser.waits` (re-checked whenever the page changed, a deadline, what was seen on
timeout). Selectors are CSS or any Playwright selector. The verbs a person cannot do raise
`RefusedInBrowser` naming the verb.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Route

from ..client.hub import Hub
from ..errors import RefusedInBrowser, UsageError, WaitTimeout
from .record import PageRecord
from .waits import Watched, collapse, wait_for

__all__ = ["BrowserTab", "GestureResult", "Host", "Person", "bound_to", "refuse"]

# Reads the `via_tab` signal of the page's seed (`data-signals`, §3).
_READ_TAB_ID = """() => {
  for (const el of document.querySelectorAll('[data-signals]')) {
    try {
      const v = JSON.parse(el.getAttribute('data-signals'));
      if (v && typeof v.via_tab === 'string') return v.via_tab;
    } catch (e) {}
  }
  return null;
}"""

# Finds the inputs bound to the signals and the element whose click posts the action, sets
# the inputs and clicks, all in one task of the page (see `action`); or says why it did not.
_FIRE = """([name, signals]) => {
  const fields = [];
  for (const [signal, value] of signals) {
    const found = document.querySelectorAll(
      `[data-bind=${JSON.stringify(signal)}], [${CSS.escape('data-bind:' + signal)}]`);
    if (found.length !== 1) return { signal, count: found.length };
    fields.push([found[0], value]);
  }
  const trigger = document.querySelector(
    `[${CSS.escape('data-on:click')}*=${JSON.stringify('/_action/' + name + "'")}]`);
  if (!trigger) return { trigger: 'none' };
  if (!trigger.getClientRects().length || getComputedStyle(trigger).visibility === 'hidden') {
    return { trigger: 'hidden' };
  }
  for (const [el, value] of fields) {
    if (el.type === 'checkbox' || el.type === 'radio') el.checked = value === true;
    else el.value = String(value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }
  trigger.click();
  return null;
}"""


class _NotFired(Exception):
    """The page did not fire the action (`_FIRE` said why)."""


def refuse(verb: str, why: str) -> RefusedInBrowser:
    """The error of a verb a person cannot do in a browser."""
    return RefusedInBrowser(
        f"`{verb}` is not something a person does in a browser ({why}); run this "
        "scenario with vt's HTTP client"
    )


def bound_to(signal: str) -> str:
    """The CSS selector of the inputs bound to `signal` (`data-bind="x"` or `data-bind:x`)."""
    escaped = signal.replace(".", "\\.")
    return f'[data-bind="{signal}"], [data-bind\\:{escaped}]'


def _ms(seconds: float) -> float:
    return seconds * 1000.0


class Host(Protocol):
    """What a page needs from its driver (`vt.browser.driver.BrowserDriver`)."""

    @property
    def hub(self) -> Hub: ...
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    def mark_gesture(self) -> None: ...


class Person(Protocol):
    """What a page needs from its person (`vt.browser.session.BrowserSession`)."""

    @property
    def name(self) -> str: ...
    @property
    def driver(self) -> Host: ...
    @property
    def cookies(self) -> dict[str, str]: ...
    @cookies.setter
    def cookies(self, value: dict[str, str]) -> None: ...
    async def read_cookies(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class GestureResult:
    """What an `action` done as a gesture got back: the status of the action's response."""

    status: int


class BrowserTab(PageRecord):
    """One page of one person (a browser context, `BrowserSession`): load it, act on it as a
    person does, and wait on what it shows."""

    def __init__(self, session: Person, page: Page, name: str) -> None:
        super().__init__(name, page)
        self.session = session
        self.path = ""
        self.id_or_none: str | None = None
        """The page's Via tab id (`via_tab` of its seed, §3), once loaded."""
        self.version = 0
        """Bumped on every change of the page (what the waits re-check on)."""
        self._gestures = anyio.Lock()  # one person does one gesture at a time in one page
        self._release: anyio.Event | None = None  # set to let held stream requests go
        page.on("load", lambda _: self.changed())
        page.on("close", lambda _: self._closed())

    def __repr__(self) -> str:
        return f"<BrowserTab {self.name} {self.page.url}>"

    @property
    def driver(self) -> Host:
        """The driver this page belongs to."""
        return self.session.driver

    @property
    def timeout(self) -> float:
        """The default deadline of a wait or gesture, in seconds."""
        return self.session.driver.timeout

    def changed(self) -> None:
        """Note that the page may look different now: wake the waits on it."""
        self.version += 1
        self.driver.hub.notify(self)

    def _closed(self) -> None:
        if self._release is not None:
            self._release.set()  # a held stream request has nowhere to go now
        self.changed()

    def _limit(self, timeout: float | None) -> float:
        return timeout if timeout is not None else self.timeout

    def url_of(self, path: str) -> str:
        """`path` on the server under test (absolute URLs pass through)."""
        return path if "://" in path else self.driver.base_url + "/" + path.lstrip("/")

    # -- loading ------------------------------------------------------------------------------

    async def open(
        self, path: str = "/", *, connect: bool = True, timeout: float | None = None
    ) -> BrowserTab:
        """Load `path` in this page and wait until it is settled (`ready`); returns self.

        With `connect=False` the page's event-stream requests are held at the network until
        `ready()`: the page shows what the server rendered, as when its stream connects late.
        """
        self.path = path
        if not connect:
            await self._hold_streams()
        await self.page.goto(self.url_of(path), timeout=_ms(self._limit(timeout)))
        if connect:
            await self.ready(timeout)
        self.session.cookies = await self.session.read_cookies()
        self.id_or_none = await self.page.evaluate(_READ_TAB_ID)
        return self

    async def _hold_streams(self) -> None:
        release = self._release = anyio.Event()

        async def hold(route: Route) -> None:
            request = route.request
            if request.method == "GET" and "text/event-stream" in request.headers.get("accept", ""):
                await release.wait()
            with contextlib.suppress(PlaywrightError):  # the page closed meanwhile
                await route.continue_()

        await self.page.route("**/*", hold)

    async def _let_streams_go(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None
            with contextlib.suppress(PlaywrightError):
                await self.page.unroute("**/*")

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until no request of the page is in flight and an event stream is open
        (§5.1); held stream requests (`open(connect=False)`) go first.

        Raises `WaitTimeout` with the page's request state and last console messages.
        """
        await self._let_streams_go()

        async def settled() -> bool | None:
            settled: bool | None = await self._read(
                lambda: self.page.evaluate("() => !!window.__vt && window.__vt.settled()")
            )
            return settled

        async def now() -> str:
            state = await self._read(self.state) or {}
            return (
                f"{state.get('pending', '?')} request(s) in flight, {state.get('open', '?')} "
                "event stream(s) open (settled is none in flight and one open, §5.1)"
            )

        await self._expect(settled, "settle", timeout, now)

    settle = ready

    async def reload(self, *, timeout: float | None = None) -> BrowserTab:
        """Load the page again (a new tab id, the same session) and wait until it settles."""
        await self._let_streams_go()
        await self.page.reload(timeout=_ms(self._limit(timeout)))
        await self.ready(timeout)
        self.id_or_none = await self.page.evaluate(_READ_TAB_ID)
        return self

    async def close(self) -> None:
        """Close the page as a person closes a tab (unload handlers run: Via's beacon, §5.6)."""
        await self._let_streams_go()
        with contextlib.suppress(PlaywrightError):  # already closed, or the browser is gone
            await self.page.close(run_before_unload=True)

    # -- gestures ------------------------------------------------------------------------------

    def locator(self, selector: str) -> Locator:
        """Playwright's locator for `selector` on this page."""
        return self.page.locator(selector)

    @contextlib.asynccontextmanager
    async def _gesture(self, what: str, timeout: float | None) -> AsyncIterator[float]:
        """One gesture at a time in this page, noted as the driver's last; Playwright's
        timeout becomes a `WaitTimeout` naming the gesture."""
        limit = self._limit(timeout)
        async with self._gestures:
            self.driver.mark_gesture()
            try:
                yield _ms(limit)
            except PlaywrightError as error:
                if self.page.is_closed() or "Timeout" not in str(error):
                    raise
                said = str(error).splitlines()[0]
                raise WaitTimeout(
                    f"{self.name}: could not {what} within {limit:g}s ({said})"
                ) from None

    async def click(self, selector: str, *, timeout: float | None = None) -> BrowserTab:
        """Click the element, as a person does (Playwright waits until it is visible,
        stable and enabled)."""
        async with self._gesture(f"click {selector!r}", timeout) as ms:
            await self.locator(selector).click(timeout=ms)
        return self

    async def type(self, selector: str, text: str, *, timeout: float | None = None) -> BrowserTab:
        """Focus the field and type `text` key by key (each key fires its keyboard and input
        events, as a person's typing does); appends to what the field holds."""
        async with self._gesture(f"type into {selector!r}", timeout) as ms:
            field = self.locator(selector)
            await field.click(timeout=ms)
            await field.press_sequentially(text, timeout=ms)
        return self

    async def fill(self, selector: str, text: str, *, timeout: float | None = None) -> BrowserTab:
        """Replace the field's value with `text` in one input event (a paste, say)."""
        async with self._gesture(f"fill {selector!r}", timeout) as ms:
            await self.locator(selector).fill(text, timeout=ms)
        return self

    async def press(self, selector: str, key: str, *, timeout: float | None = None) -> BrowserTab:
        """Focus `selector` and press `key` ("Enter", "Escape", "Control+a", ...)."""
        async with self._gesture(f"press {key} in {selector!r}", timeout) as ms:
            await self.locator(selector).press(key, timeout=ms)
        return self

    async def action(self, name: str, /, **signals: Any) -> GestureResult:
        """The action as a person fires it: set each signal's bound input (`data-bind`) to
        its value, click the element whose click posts `/_action/<name>` (§4.1), and wait
        for that request's answer; return its status.

        The inputs are set and the element clicked in one task of the page, so nothing the
        server sends can come between them (a previous action's patches may arrive after its
        answer, §4.2.4, and clear an input just filled). One page's actions run one after
        another, each after the previous one's answer, as one person's do (Datastar would
        cancel a request still in flight from the same element).
        """
        async with self._gesture(f"fire {name}", None) as ms:
            for _ in range(2):  # a hidden trigger is waited for once, then tried again
                try:
                    async with self.page.expect_response(
                        lambda r: r.request.method == "POST" and f"/_action/{name}" in r.url,
                        timeout=ms,
                    ) as answer:
                        said = await self.page.evaluate(_FIRE, [name, list(signals.items())])
                        if said is not None:
                            raise _NotFired(said)  # no request comes: the wait is cancelled
                    break
                except _NotFired as not_fired:
                    said = not_fired.args[0]
                if "signal" in said:
                    raise refuse(
                        f"action {name} with signal {said['signal']!r}",
                        f"{said['count']} inputs bind it, a person needs exactly one",
                    ) from None
                if said["trigger"] == "none":
                    raise refuse(
                        f"action {name}", f"no element's click posts /_action/{name}"
                    ) from None
                trigger = self.locator(f'[data-on\\:click*="/_action/{name}\'"]').first
                await trigger.wait_for(state="visible", timeout=ms)
            else:
                raise WaitTimeout(f"{self.name}: the element that posts {name} stayed hidden")
            response = await answer.value
            await response.finished()
        return GestureResult(response.status)

    # -- network ------------------------------------------------------------------------------

    async def go_offline(self) -> int:
        """Lose the network: new requests fail, and open event streams are cut (Chromium's
        offline mode alone leaves them open). Returns how many streams were cut; Datastar
        then retries (§5.5)."""
        await self.page.context.set_offline(True)
        cut: int = await self.page.evaluate("() => window.__vt ? window.__vt.cut() : 0")
        return cut

    async def go_online(self) -> None:
        """Get the network back; Datastar's next retry reconnects the stream (§5.5.2)."""
        await self.page.context.set_offline(False)

    # -- reading the page (no wait) --------------------------------------------------------------

    async def _read(self, read: Callable[[], Awaitable[Any]]) -> Any:
        """`read()`, or None while the page is between two documents (a navigation)."""
        if self.page.is_closed():
            raise UsageError(f"{self.name}: the page is closed")
        try:
            return await read()
        except PlaywrightError:
            if self.page.is_closed():
                raise UsageError(f"{self.name}: the page is closed") from None
            return None  # its document is being replaced: the next change says when to look

    async def texts(self, selector: str) -> list[str]:
        """The visible text (`innerText`, whitespace collapsed) of every element matching
        `selector`, in document order."""
        return await self.read_texts(selector) or []

    async def read_texts(self, selector: str) -> list[str] | None:
        """`texts(selector)`, or None while the page is between two documents (a navigation):
        what a wait must not take for an empty page."""
        found = await self._read(lambda: self.locator(selector).all_inner_texts())
        return None if found is None else [collapse(t) for t in found]

    async def text(self, selector: str = "body") -> str:
        """The visible text of the first element matching `selector`, whitespace collapsed
        ("" when nothing matches)."""
        found = await self.texts(selector)
        return found[0] if found else ""

    async def shows_text(self, selector: str, text: str, *, exact: bool = False) -> str | None:
        """The text of the first element matching `selector` that contains `text` (with
        `exact`: that is `text`), whitespace collapsed on both sides; or None."""
        wanted = collapse(text)
        texts = await self.texts(selector)
        return next((t for t in texts if (t == wanted if exact else wanted in t)), None)

    async def leak(self, marker: str, since_ms: float) -> str | None:
        """Where `marker` shows on this page (its text, or an event frame received since
        `since_ms`, epoch milliseconds), or None."""
        where: str | None = await self._read(
            lambda: self.page.evaluate(
                "([m, t]) => window.__vt ? window.__vt.leak(m, t) : null", [marker, since_ms]
            )
        )
        return where

    # -- waits on what the page shows -------------------------------------------------------

    async def _expect(
        self,
        check: Callable[[], Awaitable[Any]],
        description: str,
        timeout: float | None,
        now: Callable[[], Awaitable[str]],
    ) -> Any:
        me: list[Watched] = [self]
        hub = self.driver.hub
        return await wait_for(hub, me, check, description=description, timeout=timeout, closest=now)

    async def _shown(self, selector: str) -> str:
        texts = await self.texts(selector)
        return f"{selector!r} shows {texts!r}" if texts else f"nothing matches {selector!r}"

    async def expect_text(
        self, selector: str, text: str, *, exact: bool = False, timeout: float | None = None
    ) -> str:
        """Wait until an element matching `selector` shows `text` in its visible text
        (whitespace collapsed; with `exact`, as its whole text); return that element's text."""
        found: str = await self._expect(
            lambda: self.shows_text(selector, text, exact=exact),
            f"show {'exactly ' if exact else ''}{collapse(text)!r} in {selector!r}",
            timeout,
            lambda: self._shown(selector),
        )
        return found

    async def expect_no_text(
        self, selector: str, text: str, *, timeout: float | None = None
    ) -> None:
        """Wait until no element matching `selector` shows `text` (true at once if none
        ever did: to show that something never arrives, wait for a later thing first)."""

        async def gone() -> bool:
            return await self.shows_text(selector, text) is None

        await self._expect(
            gone, f"stop showing {collapse(text)!r} in {selector!r}", timeout,
            lambda: self._shown(selector),
        )  # fmt: skip

    async def expect_texts(
        self, selector: str, texts: Sequence[str], *, timeout: float | None = None
    ) -> None:
        """Wait until the elements matching `selector` are exactly as many as `texts` and
        each one's visible text is the corresponding entry (whitespace collapsed), in order."""
        wanted = [collapse(t) for t in texts]

        async def same() -> bool:
            return await self.texts(selector) == wanted

        await self._expect(
            same, f"show exactly {wanted!r} in {selector!r}", timeout,
            lambda: self._shown(selector),
        )  # fmt: skip

    async def _values(self, selector: str, script: str) -> list[Any]:
        found = await self._read(lambda: self.locator(selector).evaluate_all(script))
        return list(found or [])

    async def expect_value(
        self, selector: str, value: str, *, timeout: float | None = None
    ) -> None:
        """Wait until an input matching `selector` holds `value` (what the person sees in it)."""

        async def values() -> list[Any]:
            return await self._values(selector, "els => els.map((e) => e.value)")

        async def holds() -> bool:
            return value in await values()

        async def now() -> str:
            return f"{selector!r} holds {await values()!r}"

        await self._expect(holds, f"hold {value!r} in {selector!r}", timeout, now)

    async def expect_focused(self, selector: str, *, timeout: float | None = None) -> None:
        """Wait until an element matching `selector` has the keyboard focus."""

        async def focused() -> bool:
            found = await self._values(
                selector, "els => els.map((e) => e === document.activeElement)"
            )
            return any(found)

        async def now() -> str:
            where = await self._read(
                lambda: self.page.evaluate(
                    "() => { const e = document.activeElement;"
                    " return e ? e.outerHTML.slice(0, 200) : null }"
                )
            )
            return f"the focus is on {where!r}"

        await self._expect(focused, f"have the focus on {selector!r}", timeout, now)

    async def expect_count(
        self, selector: str, count: int | None, *, timeout: float | None = None
    ) -> int:
        """Wait until exactly `count` elements match `selector` (at least one when `count`
        is None); return how many do."""

        async def counted() -> int | None:
            found = await self._read(lambda: self.locator(selector).count())
            if found is None:
                return None
            return found if (found == count if count is not None else found > 0) else None

        async def now() -> str:
            return f"{await self._read(lambda: self.locator(selector).count())} match"

        wanted = f"exactly {count}" if count is not None else "at least one"
        result: int = await self._expect(
            counted, f"match {wanted} element(s) for {selector!r}", timeout, now
        )
        return result

    async def expect_signal(self, path: str, value: Any, *, timeout: float | None = None) -> None:
        """Wait until the input bound to the signal shows `value` (a browser shows a signal
        only through what binds it: one input, as text or a checked box)."""
        bound = bound_to(path)
        if await self.locator(bound).count() != 1 or not isinstance(value, str | bool):
            raise refuse(
                f"expect_signal {path}",
                "a browser shows a signal only through one input bound to it, as text or a box",
            )
        script = "els => els.map((e) => e.type === 'checkbox' ? e.checked : e.value)"

        async def shows() -> bool:
            return value in await self._values(bound, script)

        async def now() -> str:
            return f"its input shows {await self._values(bound, script)!r}"

        await self._expect(shows, f"show signal {path!r} == {value!r}", timeout, now)

    # -- what a person cannot do ----------------------------------------------------------------

    async def drop(self) -> None:
        """Refused: a person cannot cut one stream without closing the page."""
        raise refuse("drop", "cutting the stream alone")

    async def reconnect(self) -> None:
        """Refused: the page's Datastar client decides when it reconnects (§5.5)."""
        raise refuse("reconnect", "the page's client reconnects by itself")

    async def upload(self, name: str, /, files: Mapping[str, Any], **signals: Any) -> Any:
        """Refused: a file picker is not driven by scenario steps."""
        raise refuse("upload", "a multipart post")

    async def expect_quiet(self, seconds: float) -> None:
        """Refused: the page keeps its own traffic (heartbeats, retries)."""
        raise refuse("expect_quiet", "the page's traffic is its client's")

    async def expect_console(self, text: str, *, timeout: float | None = None) -> None:
        """Refused: console output of a real page includes the browser's own."""
        raise refuse("expect_console", "the console is the browser's")

    async def expect_script(
        self, kind: str, text: str | None = None, *, timeout: float | None = None
    ) -> None:
        """Refused: the browser runs scripts, it does not report them (§7.4)."""
        raise refuse("expect_script", "the browser runs scripts")
