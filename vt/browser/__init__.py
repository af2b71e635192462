"""Real browsers (Chromium through Playwright) with the real Datastar client.

`vt.browser` is the sync API (`BrowserUsers`, `BrowserUser`, see `vt.browser.users`);
`vt.browser.driver` is the scenario runner's async driver; `vt.browser.chromium` finds the
executable without importing Playwright. The Playwright-backed names load on first use, so
`vt.browser.chromium` (imported by the pytest plugin in every run) needs no Playwright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chromium import (
    BROWSER_PATH_ENV,
    BROWSER_REQUIRED_ENV,
    LAUNCH_ARGS,
    BrowserNotFound,
    browser_required,
    find_browser,
)

if TYPE_CHECKING:
    from .users import (
        BrowserErrors,
        BrowserUser,
        BrowserUsers,
        PageMessage,
        describe_errors,
        init_script,
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

_LAZY = frozenset(
    {
        "BrowserErrors",
        "BrowserUser",
        "BrowserUsers",
        "PageMessage",
        "describe_errors",
        "init_script",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import users

        return getattr(users, name)
    raise AttributeError(f"module 'vt.browser' has no attribute {name!r}")
