"""Waits and assertions over one tab or many: a condition with a deadline, never a sleep.

Every change to any tab of a client (an event applied, a stream opened or ended, a request
answered) sets the client's change event (`Hub.changed`); a waiter re-checks its condition
then, so it returns as soon as the condition holds and costs nothing in between. One loop,
`watch`, does that for every wait: the `expect_*` deadlines and the windows of `expect_quiet`
and `expect_none`. A wait that runs out raises `WaitTimeout` with what a reader needs to debug
it without re-running (`vt.client.report`): what the page shows now (and the closest text seen
earlier), or the closest thing seen, each tab's timeline since the last action, and the saved
transcripts.

The fan-out assertions check many tabs at once and re-check only the tabs that changed
(`version`), so a thousand tabs cost a thousand checks, not a million.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import anyio

from ..defaults import QUIET_WINDOW, WAIT_TIMEOUT
from ..errors import Leak, UnexpectedEvent, UsageError, WaitTimeout, hide_frames
from ..page.flows import get_path
from ..replica.dom import Element
from ..replica.scripts import ScriptKind, classify_script
from ..replica.signals import Signals
from ..wire.events import EventLog, PatchSignals, StreamItem
from ..wire.sse import Comment
from . import report as _report
from .hub import Hub

__all__ = [
    "Closest",
    "ShowsText",
    "Watched",
    "expect_all",
    "expect_console",
    "expect_converged",
    "expect_event",
    "expect_none",
    "expect_quiet",
    "expect_script",
    "expect_signal",
    "expect_text",
    "quiet",
    "settle",
    "wait_for",
    "watch",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

T = TypeVar("T")


class Watched(_report.Reported, Protocol):
    """What a wait reads from a tab."""

    @property
    def hub(self) -> Hub: ...
    @property
    def version(self) -> int: ...
    @property
    def signals(self) -> Signals: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def scripts(self) -> list[Any]: ...


async def watch(
    hub: Hub, seconds: float, check: Callable[[], T | None], source: object = None
) -> T | None:
    """Re-check `check()` on every change (of `source` only, when given) until it returns a
    truthy value (returned) or `seconds` pass (None). As Playwright's `wait_for_function`:
    None, False, 0, "" and an empty list (`tab.select` of what is not there yet) keep waiting."""
    # One deadline for the whole wait (a cancel scope per wake-up would be garbage per chunk).
    with anyio.move_on_after(seconds):
        while True:
            changed = hub.changed(source)  # taken before checking: no wake-up is missed
            result = check()
            if result:
                return result
            await changed.wait()
    return None


def _hub_of(tabs: Sequence[Watched]) -> Hub:
    if not tabs:
        raise UsageError("give at least one tab")
    hub = tabs[0].hub
    if any(tab.hub is not hub for tab in tabs):
        raise UsageError("all tabs of one fan-out assertion must belong to the same client")
    return hub


def _explain(tabs: Sequence[Watched], headline: str, seen: Callable[[], str] | None) -> str:
    hub = tabs[0].hub
    return _report.explain(
        tabs, headline, last=hub.last_action, folder=hub.settings.artifacts_dir, seen=seen
    )


async def wait_for(
    tabs: Sequence[Watched],
    check: Callable[[], T | None],
    *,
    description: str,
    timeout: float | None,
    closest: Callable[[], str] | None = None,
    seen: Callable[[], str] | None = None,
    failing: Callable[[], Sequence[Watched]] | None = None,
    own: bool = False,
) -> T:
    """Wait until `check()` returns a truthy value; return it.

    Before each check, an error a tab's stream reader hit (a vt bug, or in strict mode a
    protocol error, §6) is raised instead. On timeout, raise `WaitTimeout` naming
    `description`, then `closest seen: <closest()>` (or the lines `seen()` writes itself),
    and explaining the tabs `failing()` returns (default: all of them).
    With `own`, `check` reads only the one tab given and runs after its changes only.
    """
    hub = _hub_of(tabs)
    limit = hub.settings.wait_timeout if timeout is None else timeout

    def look() -> T | None:
        for tab in tabs:
            error = tab.recording.take_pending(hub.settings.strict)
            if error is not None:
                raise error
        return check()

    source = tabs[0] if own and len(tabs) == 1 else None
    result = await watch(hub, limit, look, source)
    if not result:
        result = look()  # one last look, so a change in the final instant still counts
    if result:
        return result
    shown = failing() if failing is not None else tabs
    headline = f"did not {description} within {limit:g}s."
    if len(shown) < len(tabs):
        headline += f" ({len(shown)} of {len(tabs)} tabs did not.)"
    if seen is None and closest is not None:
        seen = _labelled("closest seen", closest)
    error = WaitTimeout(_explain(shown, headline, seen))
    _mark_failed(shown, f"did not {description} within {limit:g}s")
    raise error


def _mark_failed(tabs: Sequence[Watched], text: str) -> None:
    """Put the failed check on the timelines of the tabs it names (after their message was
    written), so a failure report's timeline ends with it."""
    hub = tabs[0].hub if tabs else None
    for tab in tabs:
        tab.timeline.add("failed", text, None, hub.last_action if hub else None)


def _labelled(label: str, said: Callable[[], str]) -> Callable[[], str]:
    return lambda: f"{label}: {said()}"


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


class ShowsText:
    """The condition of `expect_text` and `expect_all`: an element matching `selector`
    contains `text`, or with `exact` its whole text is `text` (whitespace-normalised)."""

    def __init__(self, selector: str, text: str, exact: bool = False) -> None:
        self.selector = selector
        self.wanted = " ".join(text.split())
        self.exact = exact
        self.earlier = Closest(self.wanted)  # over everything the wait saw

    def describe(self) -> str:
        """`'text' in 'selector'`, or `exactly 'text' in 'selector'`."""
        return f"{'exactly ' if self.exact else ''}{self.wanted!r} in {self.selector!r}"

    def check(self, tab: Watched) -> Element | None:
        """The first matching element of `tab` that shows the text, or None."""
        for element in tab.document.select(self.selector):
            current = element.text
            if (" ".join(current.split()) == self.wanted) if self.exact else self.wanted in current:
                return element
            self.earlier.offer(current)
        return None

    def seen(self, tabs: Sequence[Watched]) -> str:
        """What `tabs` show for the selector now (the element closest to the wanted text),
        then the closest text seen earlier in the wait when it was closer than that."""
        now = Closest(self.wanted)
        matched = 0
        for tab in tabs:
            for element in tab.document.select(self.selector):
                matched += 1
                now.offer(element.text)
        if matched:
            several = f" (the closest of {matched} matching elements)" if matched > 1 else ""
            line = f"now: {now.best!r} in {self.selector!r}{several}"
        else:
            body = tabs[0].document.text("body") if tabs else ""
            line = f"now: nothing matches {self.selector!r}; the page's text is {body[:200]!r}"
        if self.earlier.score > now.score and self.earlier.best != now.best:
            line += f"\n  closest earlier: {self.earlier.best!r}"
        return line


async def expect_text(
    tab: Watched, selector: str, text: str, *, exact: bool = False, timeout: float | None = None
) -> Element:
    """Wait until an element of `tab` matching `selector` contains `text` (with `exact`: its
    whole text is `text`); return it."""
    shows = ShowsText(selector, text, exact)
    return await wait_for(
        [tab],
        lambda: shows.check(tab),
        description=f"show {shows.describe()}",
        timeout=timeout,
        seen=lambda: shows.seen([tab]),
    )


async def expect_all(
    tabs: Sequence[Watched],
    selector: str,
    text: str,
    *,
    exact: bool = False,
    timeout: float | None = None,
) -> list[Element]:
    """Wait until every tab shows `text` in an element matching `selector` (with `exact`: as
    its whole text); return, per tab, the first such element."""
    _hub_of(tabs)
    shows = ShowsText(selector, text, exact)
    found: dict[int, Element] = {}
    checked: dict[int, int] = {}

    def check() -> list[Element] | None:
        for index, tab in enumerate(tabs):
            if index in found or checked.get(index) == tab.version:
                continue
            checked[index] = tab.version
            element = shows.check(tab)
            if element is not None:
                found[index] = element
        if len(found) == len(tabs):
            return [found[i] for i in range(len(tabs))]
        return None

    return await wait_for(
        tabs,
        check,
        description=f"all show {shows.describe()}",
        timeout=timeout,
        seen=lambda: shows.seen([tab for i, tab in enumerate(tabs) if i not in found]),
        failing=lambda: [tab for i, tab in enumerate(tabs) if i not in found],
    )


async def expect_converged(
    tabs: Sequence[Watched], selector: str = "body", *, timeout: float | None = None
) -> str:
    """Wait until every tab's replica has the same content in `selector` (compared in
    `canonical_html` form); return it."""
    _hub_of(tabs)
    current: dict[int, str] = {}
    checked: dict[int, int] = {}

    def check() -> tuple[str] | None:
        for index, tab in enumerate(tabs):
            if checked.get(index) != tab.version:
                checked[index] = tab.version
                current[index] = tab.document.canonical(selector)
        versions = set(current.values())
        # A 1-tuple: converging on empty content is a result, and "" is not truthy.
        return (next(iter(versions)),) if len(versions) == 1 else None

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

    def odd_ones() -> list[Watched]:
        common, _ = Counter(current.values()).most_common(1)[0]
        return [tabs[i] for i, html in current.items() if html != common]

    (converged,) = await wait_for(
        tabs,
        check,
        description=f"converge on the same {selector!r}",
        timeout=timeout,
        closest=closest,
        failing=odd_ones,
    )
    return converged


def _lines(html: str) -> list[str]:
    return html.replace("><", ">\n<").splitlines()


async def expect_signal(
    tab: Watched, name: str, value: Any, *, timeout: float | None = None
) -> None:
    """Wait until signal `name` (a dotted path for nested signals) equals `value`."""
    path = tuple(name.split("."))
    seen: list[Any] = []

    def check() -> bool:
        current = get_path(tab.signals, path, _MISSING)
        if current == value:
            return True
        if not seen or seen[-1] != current:
            seen.append(current)
        return False

    await wait_for(
        [tab],
        check,
        description=f"have signal {name!r} == {value!r}",
        timeout=timeout,
        closest=lambda: "values seen: " + ", ".join(repr(v) for v in seen[-5:]),
    )


_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<absent>"})()


async def expect_event(
    tab: Watched,
    match: Callable[[StreamItem], bool],
    *,
    description: str = "receive a matching event",
    since: int | None = None,
    timeout: float | None = None,
) -> StreamItem:
    """Wait for an event (or comment) of `tab` satisfying `match`, counting from index
    `since` of its `events` (default: events arriving from now on)."""
    start = len(tab.events) if since is None else since

    def check() -> StreamItem | None:
        return next((e for e in tab.events[start:] if match(e)), None)

    return await wait_for([tab], check, description=description, timeout=timeout)


async def expect_console(tab: Watched, text: str, *, timeout: float | None = None) -> str:
    """Wait until `tab`'s console has a message containing `text`; return the message."""
    (message,) = await wait_for(
        [tab],
        lambda: next(((m,) for m in tab.console if text in m), None),
        description=f"log a console message containing {text!r}",
        timeout=timeout,
        closest=lambda: f"console: {tab.console[-5:]}",
    )
    return message


async def expect_script(
    tab: Watched,
    kind: str | None = None,
    text: str | None = None,
    *,
    timeout: float | None = None,
) -> ScriptKind:
    """Wait until a patch runs a script of this kind whose value or source contains `text`;
    return it classified."""

    def check() -> ScriptKind | None:
        for script in tab.scripts:
            found = classify_script(script)
            if kind is not None and found.kind != kind:
                continue
            if text is not None and text not in (found.value or "") + script.text:
                continue
            return found
        return None

    what = " ".join(p for p in (kind or "script", repr(text) if text else "") if p)
    return await wait_for(
        [tab],
        check,
        description=f"run a {what}",
        timeout=timeout,
        closest=lambda: (
            "scripts run: " + ", ".join(classify_script(s).describe() for s in tab.scripts[-5:])
        ),
    )


def is_patch(item: StreamItem) -> bool:
    """True for an event that changes something: not a comment, not a heartbeat."""
    if isinstance(item, Comment):
        return False
    return not (isinstance(item, PatchSignals) and item.is_heartbeat)


async def expect_quiet(
    tab: Watched,
    window: float = QUIET_WINDOW,
    *,
    match: Callable[[StreamItem], bool] | None = None,
    description: str = "stay quiet",
) -> None:
    """Assert that no event arrives on `tab` for `window` seconds (heartbeats and comments
    aside, unless `match` says otherwise). Waiting out the window *is* the assertion."""
    accept = match or is_patch
    start = len(tab.events)
    await watch(tab.hub, window, lambda: any(accept(e) for e in tab.events[start:]))
    arrived = [e for e in tab.events[start:] if accept(e)]
    if arrived:
        error = UnexpectedEvent(
            f"{tab.label} was expected to {description} for {window:.2f}s, but received:\n"
            + "\n".join(f"    {_describe(e)}" for e in arrived[:10])
            + "\n"
            + _report.explain_tab(tab, tab.hub.last_action, tab.hub.settings.artifacts_dir)
        )
        _mark_failed([tab], f"did not {description} for {window:.2f}s: {len(arrived)} event(s)")
        raise error


async def settle(
    tabs: Sequence[Watched], window: float = QUIET_WINDOW, limit: float = WAIT_TIMEOUT
) -> bool:
    """Wait until none of `tabs` has received an event (heartbeats and comments aside) for
    `window` seconds, for at most `limit` seconds; True when that quiet was seen.

    For taking what a run left in each tab's stream (goldens): the patches an action causes
    arrive on the streams after its response, so reading them at once races the server. A
    tab that never goes quiet (a ticker) is not an error: after `limit` the caller takes what
    arrived.
    """
    if not tabs:
        return True
    hub = _hub_of(tabs)
    deadline = anyio.current_time() + limit
    while (remaining := deadline - anyio.current_time()) > 0:
        counts = [len(tab.events) for tab in tabs]

        def arrived(counts: list[int] = counts) -> bool:
            return any(
                is_patch(e) for tab, n in zip(tabs, counts, strict=True) for e in tab.events[n:]
            )

        if not await watch(hub, min(window, remaining), arrived):
            return remaining >= window
    return False


async def quiet(hub: Hub, window: float, limit: float, since: Callable[[], float]) -> bool:
    """Wait until `since()` (a loop time that each new patch moves on) is `window` seconds
    ago, for at most `limit` seconds; True when it was. Unlike `settle`, a quiet that began
    before the call counts (a plain page's `ready()`: quiet since its stream opened)."""
    deadline = anyio.current_time() + limit
    while True:
        now, start = anyio.current_time(), since()
        if now - start >= window:
            return True
        if now >= deadline:
            return False

        def moved(start: float = start) -> bool:
            return since() != start

        await watch(hub, min(start + window, deadline) - now, moved)


def _describe(item: StreamItem) -> str:
    return f": {item.text}" if isinstance(item, Comment) else item.describe()


async def expect_none(tabs: Sequence[Watched], marker: str, window: float = QUIET_WINDOW) -> None:
    """Assert that no tab has `marker`: not on its page, not in the raw bytes its streams
    received since the client's last action, and not in what arrives for `window` seconds.

    Checking from the last action (not from the call) makes the natural order work — act,
    wait for the actor's page, then check the others — even when the leak arrived first.

    Raises:
        Leak: some tab has it (an `AssertionError` too); the message names the tabs and shows their
            timelines.
    """
    hub = _hub_of(tabs)
    needle = marker.encode()
    start = [tab.recording.position_at(hub.last_action) for tab in tabs]
    checked: list[int | None] = [None] * len(tabs)
    leaked: set[int] = set()

    def look() -> bool:
        for index, tab in enumerate(tabs):
            if index in leaked or checked[index] == tab.version:
                continue
            checked[index] = tab.version
            if needle in tab.recording.bytes_since(start[index]) or (
                marker in tab.document.text("body")
            ):
                leaked.add(index)
        return bool(leaked)

    await watch(hub, window, look)
    look()
    leaks = [tab for i, tab in enumerate(tabs) if i in leaked]
    if leaks:
        error = Leak(
            _explain(leaks, f"received {marker!r}, which no tab of this group should have.", None)
        )
        _mark_failed(leaks, f"received {marker!r}, which no tab of this group should have")
        raise error
