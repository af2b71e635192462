"""Waits and assertions over one tab or many: a condition with a deadline, never a sleep.

Every change to any tab of a client (an event applied, a stream opened or ended, a request
answered) sets the client's change event; a waiter re-checks its condition then, so it returns
as soon as the condition holds and costs nothing in between (anchors idea 3). A wait that runs
out raises `WaitTimeout` with what a reader needs to debug it without re-running: the closest
thing seen, each tab's timeline since the last action, and the saved transcripts.

The fan-out assertions (anchors idea 4) check many tabs at once and re-check only the tabs
that changed, so a thousand tabs cost a thousand checks, not a million.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import anyio

from ._dom import Element
from ._exceptions import UsageError, WaitTimeout

if TYPE_CHECKING:
    from ._client import AsyncClient
    from ._tab import AsyncTab

__all__ = ["Closest", "expect_all", "expect_converged", "expect_none", "wait_for"]

T = TypeVar("T")

# A timeout message shows the timelines of at most this many tabs (the rest are counted).
MAX_EXPLAINED_TABS = 3


async def wait_for(
    client: AsyncClient,
    tabs: Sequence[AsyncTab],
    check: Callable[[], T | None],
    *,
    description: str,
    timeout: float | None,
    closest: Callable[[], str] | None = None,
    failing: Callable[[], Sequence[AsyncTab]] | None = None,
) -> T:
    """Wait until `check()` returns something other than None/False; return it.

    Before each check, an error a tab's stream reader hit (a vt bug, or in strict mode a
    protocol error) is raised instead. On timeout, raise `WaitTimeout` naming `description`
    and explaining the tabs `failing()` returns (default: all of them).
    """
    limit = client.timeout if timeout is None else timeout
    # One deadline for the whole wait (a cancel scope per wake-up would be garbage per chunk).
    with anyio.move_on_after(limit):
        while True:
            changed = client._changed()  # taken before checking: no wake-up can be missed
            for tab in tabs:
                tab._raise_pending()
            result = check()
            if result is not None and result is not False:
                return result
            await changed.wait()
    # The deadline passed: one last look, so a change in the final instant still counts.
    for tab in tabs:
        tab._raise_pending()
    result = check()
    if result is not None and result is not False:
        return result
    shown = failing() if failing is not None else tabs
    headline = f"did not {description} within {limit:g}s."
    if len(shown) < len(tabs):
        headline += f" ({len(shown)} of {len(tabs)} tabs did not.)"
    raise WaitTimeout(explain(shown, headline, closest))


def explain(
    tabs: Sequence[AsyncTab], headline: str, closest: Callable[[], str] | None = None
) -> str:
    """A failure message: `<tabs> <headline>`, the closest thing seen, each tab's story."""
    who = ", ".join(t.label for t in tabs[:MAX_EXPLAINED_TABS])
    if len(tabs) > MAX_EXPLAINED_TABS:
        who += f" and {len(tabs) - MAX_EXPLAINED_TABS} more tabs"
    lines = [f"{who} {headline}"]
    if closest is not None:
        lines.append(f"  closest seen: {closest()}")
    lines.extend(tab._explain() for tab in tabs[:MAX_EXPLAINED_TABS])
    return "\n".join(lines)


class Closest:
    """Remembers the seen text most similar to a wanted text, for failure messages."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted
        self.best = ""
        self.score = -1.0
        self._seen: set[str] = set()

    def offer(self, text: str) -> None:
        """Consider one text seen while waiting."""
        if text in self._seen or len(self._seen) > 200:
            return
        self._seen.add(text)
        window = text
        if len(text) > 4 * len(self.wanted) + 40:
            # Compare against the most similar slice of a long text, not the whole of it.
            matcher = difflib.SequenceMatcher(None, text, self.wanted, autojunk=False)
            block = matcher.find_longest_match(0, len(text), 0, len(self.wanted))
            start = max(0, block.a - block.b - 10)
            window = text[start : start + len(self.wanted) + 20]
        score = difflib.SequenceMatcher(None, window, self.wanted, autojunk=False).ratio()
        if score > self.score:
            self.best, self.score = window, score

    def report(self, where: str, fallback: str) -> str:
        """The closest text and where it was, or `fallback` when nothing was seen."""
        if self.score >= 0:
            return f"{self.best!r} in {where}"
        return fallback


def _same_client(tabs: Sequence[AsyncTab]) -> AsyncClient:
    if not tabs:
        raise UsageError("give at least one tab")
    client = tabs[0].client
    if any(tab.client is not client for tab in tabs):
        raise UsageError("all tabs of one fan-out assertion must belong to the same client")
    return client


async def expect_all(
    tabs: Sequence[AsyncTab], selector: str, text: str, *, timeout: float | None = None
) -> list[Element]:
    """Wait until every tab shows `text` in an element matching `selector`; return, per tab,
    the first such element."""
    client = _same_client(tabs)
    wanted = " ".join(text.split())
    found: dict[int, Element] = {}
    checked: dict[int, int] = {}
    closest = Closest(wanted)

    def check() -> list[Element] | None:
        for index, tab in enumerate(tabs):
            if index in found or checked.get(index) == tab.version:
                continue
            checked[index] = tab.version
            for element in tab.document.select(selector):
                current = element.text
                if wanted in current:
                    found[index] = element
                    break
                closest.offer(current)
        if len(found) == len(tabs):
            return [found[i] for i in range(len(tabs))]
        return None

    return await wait_for(
        client,
        tabs,
        check,
        description=f"all show {wanted!r} in {selector!r}",
        timeout=timeout,
        closest=lambda: closest.report(repr(selector), "no element matched"),
        failing=lambda: [tab for i, tab in enumerate(tabs) if i not in found],
    )


async def expect_converged(
    tabs: Sequence[AsyncTab], selector: str = "body", *, timeout: float | None = None
) -> str:
    """Wait until every tab's replica has the same content in `selector` (compared in
    `canonical_html` form); return it."""
    client = _same_client(tabs)
    current: dict[int, str] = {}
    checked: dict[int, int] = {}

    def check() -> str | None:
        for index, tab in enumerate(tabs):
            if checked.get(index) != tab.version:
                checked[index] = tab.version
                current[index] = tab.document.canonical(selector)
        versions = set(current.values())
        return next(iter(versions)) if len(versions) == 1 else None

    def closest() -> str:
        counts = Counter(current.values())
        (common, _), *others = counts.most_common()
        odd = [tabs[i].label for i, html in current.items() if html != common]
        diff = ""
        if others:
            diff = "\n".join(
                difflib.unified_diff(
                    _lines(common), _lines(others[0][0]), "most tabs", "another tab", lineterm=""
                )
            )
        return (
            f"{len(counts)} different versions of {selector!r}; "
            f"{len(odd)} tab(s) differ from the most common one: {', '.join(odd[:10])}\n{diff}"
        )

    def odd_ones() -> list[AsyncTab]:
        common, _ = Counter(current.values()).most_common(1)[0]
        return [tabs[i] for i, html in current.items() if html != common]

    return await wait_for(
        client,
        tabs,
        check,
        description=f"converge on the same {selector!r}",
        timeout=timeout,
        closest=closest,
        failing=odd_ones,
    )


def _lines(html: str) -> list[str]:
    return html.replace("><", ">\n<").splitlines()


async def expect_none(tabs: Sequence[AsyncTab], marker: str, window: float = 0.3) -> None:
    """Assert that no tab receives `marker` for `window` seconds: neither in the raw bytes
    of its streams nor in its page's text. Waiting out the window is the assertion.

    Raises:
        AssertionError: some tab received it; the message names the tabs and shows their
            timelines.
    """
    client = _same_client(tabs)
    needle = marker.encode()
    start = [tab._stream_position() for tab in tabs]
    shown_before = [marker in tab.document.text("body") for tab in tabs]
    checked = [tab.version for tab in tabs]
    leaked: set[int] = set()

    def look() -> None:
        for index, tab in enumerate(tabs):
            if index in leaked or checked[index] == tab.version:
                continue
            checked[index] = tab.version
            if needle in tab._stream_bytes_since(start[index]) or (
                not shown_before[index] and marker in tab.document.text("body")
            ):
                leaked.add(index)

    with anyio.move_on_after(window):
        while not leaked:
            changed = client._changed()
            look()
            if leaked:
                break
            await changed.wait()
    look()
    leaks = [tab for i, tab in enumerate(tabs) if i in leaked]
    if leaks:
        raise AssertionError(
            explain(leaks, f"received {marker!r}, which no tab of this group should have.")
        )
