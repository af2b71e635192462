"""Finding the Chromium that vt's browser tests launch, without downloading one.

Kept apart from `vt.browser` so that the pytest plugin can say why there is no browser (and
skip or fail) when playwright itself is not installed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import BrowserNotFound

__all__ = [
    "BROWSER_PATH_ENV",
    "BROWSER_REQUIRED_ENV",
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "BrowserNotFound",
    "browser_required",
    "find_browser",
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
