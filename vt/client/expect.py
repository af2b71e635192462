"""A tab's read side: what its page shows now, its `expect_*` waits, its saved artifacts.

`AsyncTab` inherits these. Reads go to the tab's `Replica`; waits delegate to `vt.client.waits`
(the conditions and the one wait loop) and artifacts to `vt.client.report`, so the tab module keeps
to moving bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from ..defaults import QUIET_WINDOW
from ..errors import UsageError, hide_frames
from ..page.navigation import UrlPattern, describe_pattern, url_matches
from ..replica.dom import Document, Element, Script
from ..replica.replica import Replica
from ..replica.scripts import ScriptKind
from ..replica.signals import Signals
from ..wire.events import StreamItem
from . import waits as _waits
from .hub import Hub
from .report import save
from .waits import Watched

__all__ = ["TabView"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

T = TypeVar("T")


class TabView:
    """The read side of a tab (the base of `AsyncTab`, which sets these attributes)."""

    replica: Replica
    hub: Hub
    path: str
    label: str
    transcripts: list[bytearray]

    # -- identity and the replica -------------------------------------------------------------

    @property
    def id_or_none(self) -> str | None:
        """The current tab id, or None before the page loaded."""
        value = self.replica.signals.get("via_tab")
        return value if isinstance(value, str) else None

    @property
    def id(self) -> str:
        """The current tab id (`via_tab`); it follows a re-bootstrap (§5.5), which patches a
        new `via_tab` into the signals."""
        value = self.id_or_none
        if value is None:
            raise UsageError(f"tab {self.label} has no tab id yet")
        return value

    @property
    def document(self) -> Document:
        """The page replica (a `vt.Document`), patched by every event."""
        return self.replica.document

    @property
    def signals(self) -> Signals:
        """The tab's signals, as the browser holds them."""
        return self.replica.signals

    @property
    def console(self) -> list[str]:
        """What a browser console would have shown on this page (missing patch targets...)."""
        return self.replica.console

    @property
    def scripts(self) -> list[Script]:
        """Every script patches added to this page (a browser would have run them)."""
        return self.replica.scripts

    @property
    def transcript(self) -> bytes:
        """The raw bytes of the current (or last) stream connection."""
        return bytes(self.transcripts[-1]) if self.transcripts else b""

    @property
    def page_url(self) -> str:
        """The page's URL. Requests from the page send it as `Referer`, as a browser's
        same-origin requests do; Via rebuilds a stale tab's page from it (§5.5.3)."""
        return self.url_of(self.path)

    @property
    def base_url(self) -> str:
        """The server this tab talks to: in a cluster, the node its session is pinned to."""
        return self.hub.settings.base_url

    def url_of(self, path: str) -> str:
        """An absolute URL for a path on this tab's server."""
        return self.hub.url(path, self.base_url)

    def select(self, selector: str) -> list[Element]:
        """Elements of the replica matching a CSS selector."""
        return self.replica.document.select(selector)

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, or None."""
        return self.replica.document.select_one(selector)

    def text(self, selector: str = "body") -> str:
        """Normalised text of the elements matching `selector` (the whole body by default)."""
        return self.replica.document.text(selector)

    async def wait_until(
        self: Watched,
        check: Callable[[], T | None],
        *,
        description: str = "make the condition true",
        timeout: float | None = None,
        closest: Callable[[], str] | None = None,
    ) -> T:
        """Wait until `check()` returns a truthy value; return it. As Playwright's
        `wait_for_function`: None, False, 0, "" and an empty list keep it waiting, so
        `wait_until(lambda: tab.select("#late"))` returns the elements once there are some.

        `check` runs after every change to any tab of this client, so it may look across
        tabs. On timeout, raises `WaitTimeout` saying `description`, `closest()` and what the
        tab saw since the last action.
        """
        return await _waits.wait_for(
            [self], check, description=description, timeout=timeout, closest=closest
        )

    def _moving(self) -> bool:
        """True while a navigation is asked for or under way (`AsyncTab` knows)."""
        return False

    async def wait_for_url(self, url: UrlPattern, *, timeout: float | None = None) -> str:
        """Wait until this tab has navigated to a page whose URL matches `url` and that page
        has loaded (its GET read, its streams answered, as after `goto`); return the URL.

        The navigation wait, for a redirect that comes after a click or an action (a redirect
        script on the stream, a 303): `url` is a path (``"/items/7"``), a glob over the whole
        URL (``"**/items/*"``: `*` stops at `/`), a compiled regex (searched in the URL) or a
        predicate of the URL, as Playwright's `wait_for_url` takes them.
        """
        base = self.hub.settings.base_url

        def arrived() -> str | None:
            if self._moving() or not url_matches(url, self.page_url, base):
                return None
            return self.page_url

        def seen() -> str:
            moving = " (a navigation is under way)" if self._moving() else ""
            return f"now at: {self.page_url!r}{moving}"

        return await _waits.wait_for(
            [cast(Watched, self)],
            arrived,
            description=f"navigate to a URL matching {describe_pattern(url)}",
            timeout=timeout,
            seen=seen,
        )

    async def expect_text(
        self: Watched,
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> Element:
        """Wait until an element matching `selector` contains `text` (whitespace-normalised);
        return that element. With `exact`, the element's whole text must be `text` (so a
        counter showing ``-15`` does not pass for ``15``)."""
        return await _waits.expect_text(self, selector, text, exact=exact, timeout=timeout)

    async def expect_signal(
        self: Watched, name: str, value: Any, *, timeout: float | None = None
    ) -> None:
        """Wait until signal `name` (a dotted path for nested signals) equals `value`."""
        await _waits.expect_signal(self, name, value, timeout=timeout)

    async def expect_event(
        self: Watched,
        match: Callable[[StreamItem], bool],
        *,
        description: str = "receive a matching event",
        since: int | None = None,
        timeout: float | None = None,
    ) -> StreamItem:
        """Wait for an event (or comment) satisfying `match`, counting from index `since` of
        `events` (default: events arriving from now on)."""
        return await _waits.expect_event(
            self, match, description=description, since=since, timeout=timeout
        )

    async def expect_console(self: Watched, text: str, *, timeout: float | None = None) -> str:
        """Wait until the console (what a browser would log) has a message containing
        `text`; return the message."""
        return await _waits.expect_console(self, text, timeout=timeout)

    async def expect_script(
        self: Watched,
        kind: str | None = None,
        text: str | None = None,
        *,
        timeout: float | None = None,
    ) -> ScriptKind:
        """Wait until a patch runs a script of this kind (``toast``, ``redirect``,
        ``reload``, ``script``) whose value or source contains `text`; return it classified."""
        return await _waits.expect_script(self, kind, text, timeout=timeout)

    async def expect_quiet(
        self: Watched,
        window: float = QUIET_WINDOW,
        *,
        match: Callable[[StreamItem], bool] | None = None,
        description: str = "stay quiet",
    ) -> None:
        """Assert that no event arrives for `window` seconds (heartbeats and comments aside,
            unless `match` says otherwise). Waiting out the window *is* the assertion.

        Raises:
            UnexpectedEvent: something arrived (also an `AssertionError`); the message lists it.
        """
        await _waits.expect_quiet(self, window, match=match, description=description)

    def save_artifacts(self: Watched, folder: str | Path | None = None) -> Path:
        """Write this tab's raw stream transcript(s) and current page into `folder` (default:
        the client's `artifacts_dir`); return the `.sse` path.

        Raises:
            UsageError: no folder given and the client has no `artifacts_dir`.
        """
        where = Path(folder) if folder is not None else self.hub.settings.artifacts_dir
        if where is None:
            raise UsageError("no folder to save into: pass one, or give the client artifacts_dir=")
        return save(self, where)
