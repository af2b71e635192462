"""Real browsers (Chromium through Playwright) with the real Datastar client.

One driver, on Playwright's async API: `vt.browser.driver.BrowserDriver` (people, their pages
as `vt.browser.tab.BrowserTab`, the waits over several pages), which the scenario runner, the
pytest fixtures and the benchmarks use. The sync API (`Chromium`, `BrowserUsers`,
`BrowserUser`, `vt.browser.users`) is its generated twin. `vt.browser.chromium` finds and
launches the browser, the one launch path. The Playwright-backed names load on first use, so
`vt.browser.chromium` (imported by the pytest plugin in every run) needs no Playwright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BrowserErrors, BrowserNotFound, RefusedInBrowser
from .chromium import (
    BROWSER_PATH_ENV,
    BROWSER_REQUIRED_ENV,
    LAUNCH_ARGS,
    browser_required,
    find_browser,
)

if TYPE_CHECKING:
    from .driver import BrowserDriver
    from .record import PageMessage, describe_errors, init_script
    from .session import BrowserSession
    from .tab import BrowserTab
    from .users import BrowserUser, BrowserUsers, Chromium, PlaywrightTwin, SyncBrowserSession

__all__ = [
    "BROWSER_PATH_ENV",
    "BROWSER_REQUIRED_ENV",
    "LAUNCH_ARGS",
    "BrowserDriver",
    "BrowserErrors",
    "BrowserNotFound",
    "BrowserSession",
    "BrowserTab",
    "BrowserUser",
    "BrowserUsers",
    "Chromium",
    "PageMessage",
    "PlaywrightTwin",
    "RefusedInBrowser",
    "SyncBrowserSession",
    "browser_required",
    "describe_errors",
    "find_browser",
    "init_script",
]

_LAZY = {
    "BrowserDriver": "driver",
    "BrowserSession": "session",
    "BrowserTab": "tab",
    "PageMessage": "record",
    "describe_errors": "record",
    "init_script": "record",
    "BrowserUser": "users",
    "BrowserUsers": "users",
    "Chromium": "users",
    "PlaywrightTwin": "users",
    "SyncBrowserSession": "users",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vt.browser' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
