"""One person in a real browser: a browser context (its cookies are one Via session) and
its pages (`vt.browser.tab.BrowserTab`), made by `vt.browser.driver.BrowserDriver`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from playwright.async_api import Browser, BrowserContext
from playwright.async_api import Error as PlaywrightError

from ..client.report import slug
from ..errors import UsageError
from .record import CHANGED_BINDING, init_script
from .tab import BrowserTab, Host, refuse

__all__ = ["BrowserSession", "SessionHost"]


class SessionHost(Host, Protocol):
    """What a person needs from its driver (`vt.browser.driver.BrowserDriver`)."""

    @property
    def browser(self) -> Browser: ...
    @property
    def context_args(self) -> Mapping[str, Any]: ...
    @property
    def trace(self) -> bool: ...
    @property
    def users(self) -> list[BrowserTab]: ...


class BrowserSession:
    """One person: a browser context (its cookies are one Via session), with its pages."""

    def __init__(self, driver: SessionHost, name: str) -> None:
        self.driver = driver
        self.name = name
        self.tabs: list[BrowserTab] = []
        self.context: BrowserContext | None = None
        self.cookies: dict[str, str] = {}
        """The context's cookies, name to value, as of the last `open` (for goldens)."""

    def __repr__(self) -> str:
        return f"<BrowserSession {self.name} {len(self.tabs)} tab(s)>"

    async def _context(self) -> BrowserContext:
        if self.context is None:
            context = await self.driver.browser.new_context(**self.driver.context_args)
            await context.expose_binding(CHANGED_BINDING, self._on_change)
            await context.add_init_script(init_script())
            if self.driver.trace:
                await context.tracing.start(title=self.name, snapshots=True, screenshots=False)
            self.context = context
        return self.context

    def _on_change(self, source: Any, *args: Any) -> None:
        page = source.get("page") if isinstance(source, dict) else None
        for tab in self.tabs:
            if page is None or tab.page is page:
                tab.changed()

    async def new_tab(self, name: str | None = None) -> BrowserTab:
        """A new page of this person, nothing loaded yet (named `<session>#<n>` by default)."""
        if any(tab.name == name for tab in self.driver.users):
            raise UsageError(f"there is already a browser page named {name!r}")
        page = await (await self._context()).new_page()
        page.set_default_timeout(self.driver.timeout * 1000.0)
        tab = BrowserTab(self, page, name or f"{self.name}#{len(self.tabs) + 1}")
        self.tabs.append(tab)
        return tab

    async def open(self, path: str = "/", *, connect: bool = True) -> BrowserTab:
        """A new page on `path`, settled (its Datastar client has opened the stream, §5.1);
        with `connect=False` its stream requests are held until `ready`."""
        return await (await self.new_tab()).open(path, connect=connect)

    async def read_cookies(self) -> dict[str, str]:
        """The context's cookies now, name to value."""
        if self.context is None:
            return {}
        return {c["name"]: c["value"] for c in await self.context.cookies() if "name" in c}

    async def request(self, method: str, path: str, /, **kwargs: Any) -> Any:
        """Refused: a person does not send raw HTTP requests."""
        raise refuse("request", "a raw HTTP request")

    async def save_trace(self, folder: Path) -> Path | None:
        """Stop this person's Playwright trace into `folder/trace-<name>.zip`; None when
        there is none (not tracing, already stopped, or the browser is gone)."""
        if self.context is None:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"trace-{slug(self.name)}.zip"
        try:
            await self.context.tracing.stop(path=path)
        except PlaywrightError:
            return None
        return path

    async def close(self) -> None:
        """Close the context (every page of this person)."""
        context, self.context = self.context, None
        if context is None:
            return
        with contextlib.suppress(PlaywrightError):  # stopped already, or the browser is gone
            if self.driver.trace:
                await context.tracing.stop()
        with contextlib.suppress(PlaywrightError):
            await context.close()
