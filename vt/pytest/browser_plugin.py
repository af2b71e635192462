"""vt's real-browser fixtures for pytest, on top of pytest-playwright (`pytest11` entry point
`vt_browser`).

Fixtures (when `playwright` and `pytest-playwright` are installed: `pip install 'vt[browser]'`):

* `vt_browser_users` — a `vt.browser.BrowserUsers` factory on the server under test
  (`vt_server`): `a = vt_browser_users.open("/")` is a new user in its own browser context
  (its own session) with the page loaded and its stream open. Built on pytest-playwright's
  `browser` and `browser_context_args` fixtures, so its options (`--headed`, `--slowmo`,
  `--device`, ...) apply.
* `vt_browser_path` — the Chromium that is launched (`--vt-browser-path`, `VT_BROWSER_PATH`,
  then `chromium` on PATH; never downloaded).
* `browser_type_launch_args` — pytest-playwright's, plus that executable and the flags Chromium
  needs as root on a closed network (`vt.browser.LAUNCH_ARGS`).

No browser: the tests that need one are skipped with the reason and the fix; with
`VT_BROWSER_REQUIRED=1` (CI) they fail instead.

Console errors and uncaught page errors in any user's page fail the test;
`@pytest.mark.vt_browser_allow("regex", ...)` allows the messages a test expects. When a test
fails, each user's screenshot, Playwright trace (`--vt-browser-trace`, default on failure),
console log and recorded SSE frames are written to the test's folder under `--vt-output`.

This module imports neither playwright nor vt.browser at load time: pytest loads it in every
run, with or without a browser.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, NoReturn

import pytest

from ..browser.chromium import browser_required

__all__ = ["ALLOW_MARKER", "MissingPlaywright", "no_browser"]

ALLOW_MARKER = "vt_browser_allow"
PLAYWRIGHT_DEFAULT_OUTPUT = "test-results"  # pytest-playwright's --output default
PLAYWRIGHT_HINT = (
    "playwright and pytest-playwright are not installed: pip install 'vt[browser]' "
    "(scripts/setup installs them with the dev tools)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest hook: the browser options, in vt's group."""
    group = parser.getgroup("vt", "vt: server-driven UI testing")
    group.addoption(
        "--vt-browser-path",
        dest="vt_browser_path",
        default=None,
        help="the Chromium executable for browser tests (env VT_BROWSER_PATH; default: "
        "chromium on PATH)",
    )
    group.addoption(
        "--vt-browser",
        action="store_true",
        dest="vt_browser_scenarios",
        help="also run each scenario item (--vt, --vt-scenarios) in Chromium users; a "
        "scenario using a verb a person cannot do (request, drop...) is skipped, naming it",
    )
    group.addoption(
        "--vt-browser-trace",
        dest="vt_browser_trace",
        choices=["on-failure", "off"],
        default="on-failure",
        help="record a Playwright trace per browser user, kept when the test fails",
    )


def pytest_configure(config: pytest.Config) -> None:
    """pytest hook: the marker, and the fixtures that fit what is installed.

    The fixtures are registered here, after every entry-point plugin, so that this
    `browser_type_launch_args` overrides pytest-playwright's (the later registration wins).
    """
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}(*regexes): browser console or page errors matching one of these "
        "regexes do not fail the test",
    )
    usable = importlib.util.find_spec("playwright") is not None and config.pluginmanager.has_plugin(
        "playwright"
    )
    if usable:
        # pytest-playwright empties its --output folder at the start of every session (and
        # of every xdist worker); its default is vt's report folder, so left alone it would
        # delete vt's failure reports. Unless the user chose a folder, it gets a subfolder.
        if getattr(config.option, "output", None) == PLAYWRIGHT_DEFAULT_OUTPUT:
            vt_output = config.getoption("vt_output", None) or config.getini("vt_output")
            config.option.output = str(Path(config.rootpath, vt_output, "playwright"))
        config.pluginmanager.import_plugin("vt.pytest.browser_fixtures")
    else:
        config.pluginmanager.register(MissingPlaywright(), "vt-browser-fixtures")


def no_browser(reason: str) -> NoReturn:
    """Skip the test for `reason` (which says the fix), or fail it under VT_BROWSER_REQUIRED=1."""
    if browser_required():
        pytest.fail(f"VT_BROWSER_REQUIRED is set, and {reason}", pytrace=False)
    pytest.skip(reason)


class MissingPlaywright:
    """Stand-ins when playwright is missing: a test asking for a browser is skipped (or
    fails under VT_BROWSER_REQUIRED=1) saying how to install it."""

    @pytest.fixture
    def vt_browser_path(self) -> Path:
        """Unavailable without playwright."""
        no_browser(PLAYWRIGHT_HINT)

    @pytest.fixture
    def vt_browser_users(self) -> Any:
        """Unavailable without playwright."""
        no_browser(PLAYWRIGHT_HINT)
