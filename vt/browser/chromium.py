"""The one launch path of vt's Chromium: finding it (never downloading one), its flags, and
launching it through Playwright's async API.

The driver (`vt.browser.driver`), the sync API, the pytest fixtures, vt's tests and the
benchmarks all launch through `launch()`. Finding needs no Playwright (it is imported only
when a browser is launched), so the pytest plugin can say why there is no browser, and skip
or fail, when playwright itself is not installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BrowserNotFound

if TYPE_CHECKING:
    from playwright.async_api import Browser


__all__ = [
    "BROWSER_PATH_ENV",
    "BROWSER_REQUIRED_ENV",
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "BrowserNotFound",
    "browser_required",
    "find_browser",
    "launch",
]

BROWSER_PATH_ENV = "VT_BROWSER_PATH"
BROWSER_REQUIRED_ENV = "VT_BROWSER_REQUIRED"

LAUNCH_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # On a closed network Chromium's own background connections are refused, and the
    # refusals disturb the pages under test: none of them are needed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Chromium flags vt launches with (headless is Playwright's default)."""

INSTALL_HINT = (
    "run scripts/setup (as root it installs Debian's chromium with apt-get), or install a "
    f"Chromium yourself and pass --vt-browser-path PATH or set {BROWSER_PATH_ENV}"
)


def browser_required() -> bool:
    """True when `VT_BROWSER_REQUIRED=1`: a missing browser fails instead of skipping (CI)."""
    return os.environ.get(BROWSER_REQUIRED_ENV, "").strip() not in ("", "0", "false", "no")


def find_browser(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The Chromium to launch: `explicit` (e.g. `--vt-browser-path`), else `VT_BROWSER_PATH`,
    else `chromium` (or `chromium-browser`, `google-chrome`) on PATH. Never downloads one.

    Raises `BrowserNotFound` naming what was tried and how to get a browser; a path that was
    given but is not an executable file is an error, not a reason to look further.
    """
    for source, given in (
        ("--vt-browser-path", str(explicit or "")),
        (BROWSER_PATH_ENV, os.environ.get(BROWSER_PATH_ENV, "")),
    ):
        if given:
            path = Path(given).expanduser()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BrowserNotFound(f"{source} names {str(path)!r}, not an executable file")
            return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(
        f"no Chromium found (no --vt-browser-path, no {BROWSER_PATH_ENV}, no chromium on PATH): "
        + INSTALL_HINT
    )


@contextlib.asynccontextmanager
async def launch(
    executable: str | os.PathLike[str] | None = None,
    *,
    headless: bool = True,
    slow_mo: float | None = None,
    args: Sequence[str] = (),
) -> AsyncIterator[Browser]:
    """Chromium, found by `find_browser(executable)` and launched with `LAUNCH_ARGS` (plus
    `args`) through Playwright's async API; closed, with its Playwright, on the way out.

    `headless=False` shows the windows and `slow_mo` slows every Playwright operation by that
    many milliseconds (pytest-playwright's `--headed` and `--slowmo`).

    Raises:
        BrowserNotFound: no Chromium to launch (before Playwright starts).
    """
    path = find_browser(executable)
    from playwright.async_api import async_playwright  # only a launch needs Playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(path),
            args=[*LAUNCH_ARGS, *args],
            headless=headless,
            slow_mo=slow_mo,
        )
        try:
            yield browser
        finally:
            await browser.close()
