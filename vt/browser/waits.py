"""Waits on real pages: a condition with a deadline, re-checked whenever a page changed.

The client's waits, for pages vt does not hold: the init script (`init.js`) calls back into
vt after each DOM mutation, input, focus change, request state change and stream frame, and
Playwright reports loads, navigations and console messages; each of these notifies the
driver's hub (`vt.client.hub.Hub`, the client's change events). A wait checks its condition,
then sleeps until the next change, so it returns as soon as the condition holds and polls
nothing. The difference from the client: a check asks the page (an async call) instead of
reading a replica.

A wait that runs out raises `WaitTimeout` with what was seen: the check's closest (what the
pages show now), then each page's request state and last console messages. `expect_none` is
a window the same loop watches: every change within it is checked for the marker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import anyio
from playwright.async_api import Page

from ..client.hub import Hub
from ..defaults import QUIET_WINDOW
from ..errors import Leak, UsageError, WaitTimeout
from .record import PageMessage

__all__ = [
    "Watched",
    "collapse",
    "expect_all",
    "expect_converged",
    "expect_none",
    "wait_for",
    "watch",
]

T = TypeVar("T")

# A timeout message describes at most this many pages (the rest are counted).
MAX_EXPLAINED = 3


class Watched(Protocol):
    """What a wait reads from a page (`vt.browser.tab.BrowserTab`)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def page(self) -> Page: ...
    @property
    def messages(self) -> list[PageMessage]: ...
    async def state(self) -> dict[str, Any]: ...
    async def texts(self, selector: str) -> list[str]: ...
    async def read_texts(self, selector: str) -> list[str] | None: ...
    async def shows_text(self, selector: str, text: str, *, exact: bool = False) -> str | None: ...
    async def leak(self, marker: str, since_ms: float) -> str | None: ...


def collapse(text: str) -> str:
    """`text` with its whitespace runs made single spaces, as compared by every text wait."""
    return " ".join(text.split())


async def watch(
    hub: Hub,
    seconds: float,
    check: Callable[[], Awaitable[T | None]],
    source: object = None,
) -> T | None:
    """Re-check `check()` on every change (of `source` only, when given) until it returns
    something other than None/False (returned) or `seconds` pass (None)."""
    with anyio.move_on_after(seconds):
        while True:
            changed = hub.changed(source)  # taken before checking: no change is missed
            result = await check()
            if result is not None and result is not False:
                return result
            await changed.wait()
    return None


async def wait_for(
    hub: Hub,
    tabs: Sequence[Watched],
    check: Callable[[], Awaitable[T | None]],
    *,
    description: str,
    timeout: float | None,
    closest: Callable[[], Awaitable[str]] | None = None,
    failing: Callable[[], Sequence[Watched]] | None = None,
) -> T:
    """Wait until `check()` returns something other than None/False, re-checking on every
    change `hub` hears of (of the one page, when `tabs` is one); return it.

    On timeout, raise `WaitTimeout` naming `description`, with `closest()` (what the pages
    show now) and the state of the pages `failing()` returns (default: all of them).
    """
    if not tabs:
        raise UsageError("give at least one browser tab")
    limit = hub.settings.wait_timeout if timeout is None else timeout
    source = tabs[0] if len(tabs) == 1 else None
    result = await watch(hub, limit, check, source)
    if result is None:
        result = await check()  # one last look, so a change in the final instant counts
    if result is not None and result is not False:
        return result
    shown = failing() if failing is not None else tabs
    who = tabs[0].name if len(tabs) == 1 else f"{len(shown)} of {len(tabs)} pages"
    lines = [f"{who}: did not {description} within {limit:g}s."]
    if closest is not None:
        lines.append(f"  now: {await closest()}")
    lines += [await _describe(tab) for tab in shown[:MAX_EXPLAINED]]
    if len(shown) > MAX_EXPLAINED:
        lines.append(f"  ... and {len(shown) - MAX_EXPLAINED} more page(s)")
    raise WaitTimeout("\n".join(lines))


async def _describe(tab: Watched) -> str:
    """One page for a timeout message: URL, request state, last console messages."""
    try:
        state: Any = await tab.state()
        url = tab.page.url
    except Exception as error:  # a closed or crashed page: say so, do not hide the timeout
        state, url = f"unreadable ({type(error).__name__}: {str(error).splitlines()[0]})", "?"
    said = "".join(f"\n      {m}" for m in tab.messages[-5:])
    return f"  page {tab.name} ({url}): page state: {state}" + (
        f"\n    its last console messages:{said}" if said else ""
    )


class _FirstAnswers(Generic[T]):
    """Per page, the first answer (not None) of `question`; a page is asked again only
    after it changed, so many pages cost one read each per change, not one per wake-up."""

    def __init__(
        self, tabs: Sequence[Watched], question: Callable[[Watched], Awaitable[T | None]]
    ) -> None:
        self.tabs = tabs
        self.question = question
        self.answers: dict[int, T] = {}
        self._asked: dict[int, int] = {}  # page index -> its version when last asked

    async def ask(self, *, again: bool = False) -> None:
        """Ask every page without an answer that changed since it was last asked (every
        one of them, `again`)."""
        for index, tab in enumerate(self.tabs):
            if index in self.answers or (not again and self._asked.get(index) == tab.version):
                continue
            self._asked[index] = tab.version
            answer = await self.question(tab)
            if answer is not None:
                self.answers[index] = answer

    def unanswered(self) -> list[Watched]:
        """The pages without an answer yet."""
        return [tab for i, tab in enumerate(self.tabs) if i not in self.answers]


async def expect_all(
    hub: Hub,
    tabs: Sequence[Watched],
    selector: str,
    text: str,
    *,
    exact: bool = False,
    timeout: float | None = None,
) -> list[str]:
    """Wait until every tab shows `text` (with `exact`: as the whole text) in an element
    matching `selector`; return, per tab, the text of the first such element."""
    wanted = collapse(text)
    shows = _FirstAnswers(tabs, lambda tab: tab.shows_text(selector, wanted, exact=exact))

    async def check() -> list[str] | None:
        await shows.ask()
        found = shows.answers
        return [found[i] for i in range(len(tabs))] if len(found) == len(tabs) else None

    missing = shows.unanswered

    async def closest() -> str:
        shown = [
            f"{tab.name}: {await tab.texts(selector) or 'nothing matches'}" for tab in missing()
        ]
        return "; ".join(shown)

    return await wait_for(
        hub,
        tabs,
        check,
        description=f"all show {wanted!r} in {selector!r}",
        timeout=timeout,
        closest=closest,
        failing=missing,
    )


async def expect_converged(
    hub: Hub, tabs: Sequence[Watched], selector: str = "body", *, timeout: float | None = None
) -> str:
    """Wait until every tab shows the same visible text (whitespace collapsed) in the first
    element matching `selector`; return it."""
    current: dict[int, str] = {}
    checked: dict[int, int] = {}

    async def check() -> str | None:
        for index, tab in enumerate(tabs):
            if checked.get(index) != tab.version:
                checked[index] = tab.version
                texts = await tab.read_texts(selector)
                if texts is None:  # between two documents: not a text, and not converged
                    current.pop(index, None)
                    checked.pop(index)
                else:
                    current[index] = texts[0] if texts else ""
        shown = set(current.values())
        return next(iter(shown)) if len(current) == len(tabs) and len(shown) == 1 else None

    async def closest() -> str:
        return "".join(f"\n    {tabs[i].name}: {text!r}" for i, text in current.items())

    return await wait_for(
        hub,
        tabs,
        check,
        description=f"converge on the same {selector!r} (§5.4)",
        timeout=timeout,
        closest=closest,
    )


async def expect_none(
    hub: Hub,
    tabs: Sequence[Watched],
    marker: str,
    window: float = QUIET_WINDOW,
    *,
    since_ms: float,
) -> None:
    """The leak check in browsers (§8): `marker` is on no page and in no event frame received
    since `since_ms` (epoch milliseconds: the last gesture), now and for `window` seconds:
    every change of a page within the window is checked.

    Raises:
        Leak: some page has it; the message says where (a `vt.CheckFailed`, so an
            `AssertionError` too).
    """
    leaks = _FirstAnswers(tabs, lambda tab: tab.leak(marker, since_ms))

    async def look() -> bool:
        await leaks.ask()
        return bool(leaks.answers)

    await watch(hub, window, look)
    await leaks.ask(again=True)  # the end of the window: every page once more
    if leaks.answers:
        said = "".join(f"\n  {tabs[i].name}: {where}" for i, where in leaks.answers.items())
        raise Leak(f"{marker!r} reached pages that should not have it (§8):{said}")
